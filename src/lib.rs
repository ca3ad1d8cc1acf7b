//! Authenticate and authorize requests to a REGARDS service written in Rust, exactly as
//! REGARDS' own Java services do.
//!
//! [REGARDS](https://github.com/RegardsOss) (CNES) signs stateless JWT bearer tokens in its
//! rs-authentication service. This crate verifies them ([`Verifier`]), authenticates every
//! request in a tower middleware ([`BearerAuthLayer`]), guards routes by REGARDS role
//! ([`RequireRoleLayer`]), hands the caller's identity to axum handlers ([`Claims`] is an
//! extractor) and mints tokens the REGARDS way ([`TokenIssuer`]).
//!
//! ```
//! use axum::{routing::{get, put}, Json, Router};
//! use regards_auth::{BearerAuthLayer, Claims, RequireRoleLayer, Role, Verifier};
//!
//! async fn import_rule(claims: Claims, Json(rule): Json<serde_json::Value>) -> String {
//!     format!("rule stored for project {}", claims.tenant())
//! }
//!
//! fn app(verifier: Verifier) -> Router {
//!     Router::new()
//!         .route("/api/v1/rs-notifier/rule", put(import_rule)
//!             .route_layer(RequireRoleLayer::at_least(Role::ProjectAdmin)))
//!         .layer(BearerAuthLayer::new(verifier))
//! }
//!
//! // In main: `let verifier = Verifier::from_env()?;` reads JWT_SIGNING_KEY_HS512 and friends.
//! ```
//!
//! # Data flow
//!
//! `Authorization` header → token text → verified [`Claims`] → request extensions →
//! [`RequireRoleLayer`] / extractor → handler. The [`Claims`] are the request's one identity:
//! built once by verification (or shared by the verified-token cache) in a single allocation
//! that holds the claims and the token, inserted as the one request extension, and read by
//! reference or cloned with a reference-count increment from then on. Every refusal is a response built by one
//! replaceable piece ([`Reject`], default [`RegardsRejection`]) from an [`AuthError`], which
//! fixes the status, the `WWW-Authenticate` challenge and the message.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `axum` | yes | `FromRequestParts` and `OptionalFromRequestParts` for [`Claims`] and [`BearerToken`], `IntoResponse` for [`AuthError`] (depends on `axum-core` only) |
//! | `aws-lc-rs` | no | RSA signatures verified with AWS-LC instead of the `rsa` crate: about eight times faster (see `BENCHMARKS.md`); needs a C compiler. HMAC stays on RustCrypto (`hmac`, `sha2`), as fast. With `--all-features`, AWS-LC verifies RSA |
//! | `client` | no | the [`client`] module: token sources (password grant, system token, forwarded, fixed), a refreshing single-flight cache, a layer that attaches tokens to outgoing requests, a default HTTP transport on hyper-util (depends on tokio, hyper, hyper-util) |
//! | `client-rustls` | no | `client`, plus HTTPS for the default transport (rustls with the ring provider, system root certificates) |
//! | `managed` | no | the [`managed`] module: REGARDS-managed access (endpoints declared once and registered with rs-admin, per-project rights and role address filters fetched from rs-admin and refreshed live); `client`, plus axum, arc-swap, matchit, regex-automata, regex-syntax, ipnet |

#![forbid(unsafe_code)]
#![deny(unreachable_pub)]
#![warn(missing_docs, missing_debug_implementations)]
// Rust API guidelines C-FAILURE: every public fallible or panicking function says when.
#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bearer;
mod bytes;
mod cache;
mod claims;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
mod error;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod guard;
mod issue;
#[cfg(any(feature = "client", feature = "managed"))]
mod jitter;
mod json;
mod jws;
mod key;
#[cfg(feature = "managed")]
#[cfg_attr(docsrs, doc(cfg(feature = "managed")))]
pub mod managed;
mod reject;
mod role;
mod verify;

/// Hooks for the fuzz targets (`fuzz/`), compiled only by cargo-fuzz (`--cfg fuzzing`): not part
/// of the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    /// What the claims reader and its serde_json reference disagree on for `json`: the
    /// verdict, or the identity; `None` when they agree.
    pub fn claims_disagreement(json: &[u8]) -> Option<String> {
        crate::claims::disagreement(json)
    }
}

pub use bearer::{BearerAuth, BearerAuthLayer};
pub use claims::{
    AdditionalClaims, BearerToken, ClaimValue, Claims, MAX_TOKEN_LEN, PUBLIC_EMAIL, PUBLIC_SUBJECT,
};
pub use error::AuthError;
pub use future::ResponseFuture;
pub use guard::{RequireRole, RequireRoleLayer};
pub use issue::{DEFAULT_VALIDITY, TokenIssuer};
pub use key::{Algorithm, ConfigError, MIN_RSA_BITS, REGARDS_DEVELOPMENT_KEY};
pub use reject::{RegardsRejection, Reject};
pub use role::{Role, RoleHierarchy};
pub use verify::{DEFAULT_LEEWAY, Verifier, VerifierBuilder};
