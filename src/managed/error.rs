//! What can go wrong with managed access: a configuration mistake at start-up
//! ([`ManagedConfigError`]) or a conversation with rs-admin that failed ([`AdminError`]).

use std::error::Error;
use std::fmt;

use http::StatusCode;

/// A mistake in the managed-access configuration, found at start-up. The message says what to
/// fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManagedConfigError {
    /// An endpoint's default role is not one of REGARDS' native roles.
    DefaultRoleNotNative {
        /// The endpoint (`<path>@<METHOD>`).
        endpoint: String,
        /// The role given.
        role: String,
    },
    /// A path template that does not start with `/` or is not a valid template.
    InvalidPath(String),
    /// The same method and path declared twice.
    DuplicateEndpoint(String),
    /// `GET /security/resources` declared: managed access answers it itself, as every REGARDS
    /// service does, with the list of the declared endpoints.
    ReservedEndpoint(String),
    /// Two path templates that match the same requests.
    OverlappingPaths {
        /// The template declared second.
        path: String,
        /// The template it overlaps.
        with: String,
    },
    /// A method rs-admin does not store (it knows GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS,
    /// TRACE).
    UnsupportedMethod(String),
    /// An endpoint without a description.
    MissingDescription(String),
    /// An endpoint without a controller name.
    MissingController(String),
    /// The microservice name is empty or not usable in a URL path segment.
    InvalidMicroservice,
    /// An rs-admin or rs-admin-instance URL that is not an absolute `http(s)://` URL.
    InvalidAdminUrl(&'static str),
    /// An empty project name.
    EmptyProject,
    /// No project to serve and no rs-admin-instance URL to discover them from.
    NoProject,
    /// A trusted proxy that is neither an IP address nor a network in CIDR notation.
    InvalidTrustedProxy(String),
    /// A trusted proxy written as a deprecated IPv4-compatible IPv6 address (`::10.0.0.1`),
    /// which no connection's peer is ever seen as.
    Ipv4CompatibleTrustedProxy(String),
    /// A zero refresh period, timeout or response size.
    ZeroSetting(&'static str),
    /// No token issuer for the system tokens rs-admin is called with.
    MissingSystemTokens,
}

impl fmt::Display for ManagedConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManagedConfigError::DefaultRoleNotNative { endpoint, role } => write!(
                f,
                "endpoint {endpoint}: default role {role} is not a native REGARDS role; use PUBLIC, \
                 REGISTERED_USER, EXPLOIT, ADMIN, PROJECT_ADMIN or INSTANCE_ADMIN (administrators \
                 grant custom roles in rs-admin)"
            ),
            ManagedConfigError::InvalidPath(path) => write!(
                f,
                "endpoint path {path:?} is not a valid path template: it must start with `/`, \
                 parameters are written `{{name}}` and a catch-all `{{*name}}`"
            ),
            ManagedConfigError::DuplicateEndpoint(endpoint) => {
                write!(
                    f,
                    "endpoint {endpoint} is declared twice: declare each method and path once"
                )
            }
            ManagedConfigError::ReservedEndpoint(endpoint) => write!(
                f,
                "endpoint {endpoint} is answered by managed access itself (the list of the \
                 declared endpoints, as every REGARDS service answers it): do not declare it"
            ),
            ManagedConfigError::OverlappingPaths { path, with } => write!(
                f,
                "endpoint path {path} overlaps {with}: give both the same parameter names, or \
                 make them differ by a literal segment"
            ),
            ManagedConfigError::UnsupportedMethod(endpoint) => write!(
                f,
                "endpoint {endpoint}: rs-admin only stores GET, HEAD, POST, PUT, PATCH, DELETE, \
                 OPTIONS and TRACE endpoints"
            ),
            ManagedConfigError::MissingDescription(endpoint) => write!(
                f,
                "endpoint {endpoint} has no description: administrators grant endpoints by their \
                 description"
            ),
            ManagedConfigError::MissingController(endpoint) => write!(
                f,
                "endpoint {endpoint} has no controller name: rs-admin groups endpoints by \
                 controller (e.g. RuleController)"
            ),
            ManagedConfigError::InvalidMicroservice => f.write_str(
                "the microservice name (REGARDS' spring.application.name, e.g. rs-notifier) must \
                 be non-empty and use only letters, digits, `-`, `_` and `.`",
            ),
            ManagedConfigError::InvalidAdminUrl(which) => write!(
                f,
                "the {which} URL must be an absolute http:// or https:// URL without query, e.g. \
                 http://rs-admin:9011 or http://gateway:9030/api/v1/rs-admin"
            ),
            ManagedConfigError::EmptyProject => f.write_str("a project name is empty"),
            ManagedConfigError::NoProject => f.write_str(
                "no project to serve: name them with `projects(...)`, or give the \
                 rs-admin-instance URL to discover them (`admin_instance_url`)",
            ),
            ManagedConfigError::InvalidTrustedProxy(proxy) => write!(
                f,
                "trusted proxy {proxy:?} is neither an IP address nor a CIDR network \
                 (e.g. 10.0.0.7, 10.0.0.0/8, fd00::/8)"
            ),
            ManagedConfigError::Ipv4CompatibleTrustedProxy(proxy) => write!(
                f,
                "trusted proxy {proxy:?} is an IPv4-compatible IPv6 address (deprecated by RFC \
                 4291), which no peer is seen as: write the IPv4 address (10.0.0.1) or its \
                 IPv4-mapped form (::ffff:10.0.0.1)"
            ),
            ManagedConfigError::ZeroSetting(setting) => {
                write!(f, "{setting} must be greater than zero")
            }
            ManagedConfigError::MissingSystemTokens => f.write_str(
                "rs-admin is called with system tokens: give the issuer with REGARDS' shared \
                 signing key (`system_tokens(TokenIssuer::new(Algorithm::HS512, key)?)`)",
            ),
        }
    }
}

impl Error for ManagedConfigError {}

/// A conversation with rs-admin (or rs-admin-instance) that failed. The texts are fixed or
/// come from the transport's error chain: they never hold a token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdminError {
    /// The request could not be sent or the answer not read.
    Transport(String),
    /// No complete answer within the timeout.
    Timeout,
    /// rs-admin answered with a status that is not a success.
    Status(StatusCode),
    /// The answer is not what REGARDS sends (not JSON, wrong shape, too large, too many items).
    BadAnswer(&'static str),
    /// The project is not one this service serves (see `ManagedAccess::add_project`).
    UnknownProject,
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminError::Transport(error) => write!(f, "rs-admin could not be reached: {error}"),
            AdminError::Timeout => f.write_str("rs-admin did not answer in time"),
            AdminError::Status(status) => write!(f, "rs-admin answered {status}"),
            AdminError::BadAnswer(reason) => write!(f, "rs-admin's answer is unusable: {reason}"),
            AdminError::UnknownProject => f.write_str("this service does not serve that project"),
        }
    }
}

impl Error for AdminError {}
