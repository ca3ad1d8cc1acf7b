//! REGARDS-managed access (feature `managed`): a service declares its endpoints once, registers
//! them with rs-admin for every project it serves, and decides each request from the rights
//! administrators grant there, kept up to date while it serves, as REGARDS' own Java services
//! do (`MethodAuthorizationService`, `IPFilter`, the access voters).
//!
//! In REGARDS the role written next to an endpoint (`@ResourceAccess(role = ...)`) is only its
//! *default*: rs-admin grants it to that role and the roles above it when the endpoint is first
//! registered, then project administrators grant or revoke each endpoint per role (custom roles
//! included) and may restrict a role to some client addresses.
//!
//! | piece | REGARDS | here |
//! |---|---|---|
//! | declare an endpoint | `@RequestMapping` + `@ResourceAccess(description, role)` | [`Routes`] (axum) or [`Endpoint`] + [`Endpoints`] |
//! | register with rs-admin, per project | `MethodAuthorizationService.manageTenant` | [`ManagedAccess::register`], at start-up and with retries by [`ManagedAccess::spawn`] |
//! | read roles and rights, per project | `collectRolesAndAuthorities` | [`ManagedAccess::refresh`], periodically by [`ManagedAccess::spawn`] |
//! | decide a request | `IPFilter`, voters, `hasAccess` | [`ManagedAccessLayer`] |
//! | react to rs-admin's events | AMQP `RoleEvent`, `ResourceAccessEvent`, `ResourceAccessInit`, `TenantCreatedEvent`, `TenantDeletedEvent` | `amqp::EventListener` (feature `amqp`), which calls [`ManagedAccess::refresh`] / [`ManagedAccess::register_and_refresh`] / [`ManagedAccess::add_project`] / [`ManagedAccess::remove_project`] |
//! | list the endpoints (`GET /security/resources`) | `SecurityResourcesController` | added by [`Routes::build`], or [`Endpoints::security_resources`] |
//!
//! ```no_run
//! use axum::Json;
//! use regards_auth::{BearerAuthLayer, Claims, Role, TokenIssuer, Verifier};
//! use regards_auth::managed::{ManagedAccess, ResourceAccess, Routes};
//!
//! async fn import_rule(claims: Claims, Json(rule): Json<serde_json::Value>) -> String {
//!     format!("rule stored for {}", claims.tenant())
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let (router, endpoints) = Routes::new("RuleController")
//!     .put("/rule", ResourceAccess::new("Import a notification rule", Role::ProjectAdmin), import_rule)
//!     .build()?;
//! let access = ManagedAccess::builder("rs-notifier", endpoints)
//!     .admin_url("http://rs-admin:9011")
//!     .system_tokens(TokenIssuer::development())
//!     .projects(["project1", "project2"])
//!     .build()?;
//! let _refresher = access.spawn();
//! let app: axum::Router = router
//!     .route_layer(access.layer())
//!     .layer(BearerAuthLayer::new(Verifier::from_env()?));
//! # Ok(()) }
//! ```
//!
//! While rs-admin has not answered for a project, requests are decided from the declared
//! default roles through the native hierarchy, and the logs say so; a refresh that fails keeps
//! the last good rights; [`ManagedAccessBuilder::strict`] refuses instead, as REGARDS does.
//! [`ManagedAccess::health`] tells where each project stands.
//!
//! What rs-admin and administrators send is bounded: answers by size (each, and all of one
//! refresh together), roles by count, and each role's address patterns by count, length and
//! compiled size ([`MAX_PATTERNS_PER_ROLE`], [`MAX_PATTERN_LENGTH`], [`MAX_PATTERN_PROGRAM`],
//! [`MAX_ROLE_PROGRAM`], [`MAX_ROLE_MATCHER`], [`MAX_PATTERNS_PER_PROJECT`],
//! [`MAX_PROJECT_MATCHERS`]). Patterns are read on ASCII as Java reads them, syntax Java reads
//! otherwise is refused, and each role's become one DFA: matching an address takes at most 39
//! steps and allocates nothing. They are compiled on a blocking thread, once while they do not
//! change. A role whose patterns are refused is refused
//! everywhere until an administrator fixes them, and the refresh logs why; the other roles
//! keep working.

mod access;
mod address;
mod admin;
#[cfg(feature = "amqp")]
#[cfg_attr(docsrs, doc(cfg(feature = "amqp")))]
pub mod amqp;
mod backoff;
mod builder;
mod endpoint;
mod error;
#[cfg(test)]
mod fixtures;
#[doc(hidden)]
pub mod fuzzing;
mod health;
mod layer;
mod patterns;
mod refresher;
mod rights;
mod routes;
mod security;
mod state;

pub use access::ManagedAccess;
pub use address::{ClientAddr, ForwardedHeader, TrustedProxies};
pub use builder::{
    DEFAULT_ADMIN_TIMEOUT, DEFAULT_MAX_REFRESH_SIZE, DEFAULT_MAX_RESPONSE, DEFAULT_REFRESH_TIMEOUT,
    ManagedAccessBuilder,
};
pub use endpoint::{Endpoint, Endpoints, ResourceAccess};
pub use error::{AdminError, ManagedConfigError};
pub use health::{BrokerLink, Health, ProjectHealth, RightsSource};
pub use layer::{ManagedAccessLayer, ManagedAccessService};
pub use patterns::{
    MAX_PATTERN_LENGTH, MAX_PATTERN_PROGRAM, MAX_PATTERNS_PER_PROJECT, MAX_PATTERNS_PER_ROLE,
    MAX_PROJECT_MATCHERS, MAX_ROLE_MATCHER, MAX_ROLE_PROGRAM,
};
pub use refresher::{
    DEFAULT_REFRESH_PERIOD, DEFAULT_SAFETY_REFRESH_PERIOD, FIRST_RETRY_BACKOFF, MAX_RETRY_BACKOFF,
    Refresher,
};
pub use routes::Routes;
pub use security::SECURITY_RESOURCES_PATH;
pub use state::MAX_PROJECTS;
