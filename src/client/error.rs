//! What can go wrong on the client side: [`ClientError`] when a token is obtained,
//! [`ClientConfigError`] when a client is configured.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use http::StatusCode;

/// The most bytes of a response body (or of a transport's error message) quoted in an error,
/// for diagnostics.
pub const BODY_EXCERPT_LEN: usize = 256;

/// A token could not be obtained.
///
/// The variants tell apart what a caller acts on differently: the client credentials were
/// refused (fix the configuration), the user credentials were refused (fix the login), the
/// token endpoint answered something that is not a REGARDS token answer, or it could not be
/// reached in time.
///
/// Error texts never contain a password, a client secret or a token. What the token endpoint
/// answered, or the transport's error said, is quoted only after every occurrence of the
/// password, the client secret and the `Authorization: Basic` value is redacted, raw or
/// percent-, JSON- or HTML-escaped, over the whole text; then control characters are replaced
/// and the quote is cut to [`BODY_EXCERPT_LEN`] bytes on a character boundary. A text holding a
/// token (a JWT-shaped string, an `access_token` or `refresh_token` member) is not quoted at
/// all, whatever the status: `<withheld: it holds a token>` stands in its place.
///
/// ```
/// use regards_auth::client::ClientError;
/// use http::StatusCode;
///
/// let error = ClientError::BadUserCredentials { status: StatusCode::BAD_REQUEST, body: String::new() };
/// assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
/// assert!(!error.is_retryable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// The token endpoint refused the client id/secret (`401`).
    BadClientCredentials {
        /// The status (`401 Unauthorized`).
        status: StatusCode,
        /// A bounded excerpt of the body.
        body: String,
    },
    /// The token endpoint refused the user's login or password, or does not know the user on
    /// that project (`400`).
    BadUserCredentials {
        /// The status (`400 Bad Request`).
        status: StatusCode,
        /// A bounded excerpt of the body.
        body: String,
    },
    /// The answer is not a REGARDS token answer: another status, a body that is not JSON, a
    /// member missing or of the wrong type, a token type other than `bearer`, a body too large.
    UnexpectedResponse {
        /// The status of the answer.
        status: StatusCode,
        /// What was wrong with it (a fixed text).
        reason: &'static str,
        /// A bounded excerpt of the body.
        body: String,
    },
    /// The request could not be sent or the answer not read (connection refused, reset...).
    Transport {
        /// The transport's error chain, quoted as a body is (secrets redacted, bounded).
        message: String,
    },
    /// No complete answer arrived within the configured time.
    Timeout {
        /// The time allowed.
        after: Duration,
    },
    /// A source that forwards the caller's token found no [`BearerToken`](crate::BearerToken)
    /// in the outgoing request's extensions.
    NoCallerToken,
    /// A source that mints system tokens for the caller's tenant found no
    /// [`Claims`](crate::Claims) in the outgoing request's extensions.
    NoCallerTenant,
}

impl ClientError {
    /// The HTTP status of the token endpoint's answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::BadClientCredentials { status, .. }
            | ClientError::BadUserCredentials { status, .. }
            | ClientError::UnexpectedResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether trying again may help: transport failures, timeouts, and `5xx`, `408` or `429`
    /// answers. Refused credentials and malformed answers are not retried.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Transport { .. } | ClientError::Timeout { .. } => true,
            ClientError::UnexpectedResponse { status, .. } => {
                status.is_server_error()
                    || *status == StatusCode::REQUEST_TIMEOUT
                    || *status == StatusCode::TOO_MANY_REQUESTS
            }
            _ => false,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn with_body(f: &mut fmt::Formatter<'_>, body: &str) -> fmt::Result {
            if body.is_empty() {
                Ok(())
            } else {
                write!(f, ": {body}")
            }
        }
        match self {
            ClientError::BadClientCredentials { status, body } => {
                write!(
                    f,
                    "the token endpoint refused the client id/secret ({status})"
                )?;
                with_body(f, body)
            }
            ClientError::BadUserCredentials { status, body } => {
                write!(
                    f,
                    "the token endpoint refused the user's login or password ({status})"
                )?;
                with_body(f, body)
            }
            ClientError::UnexpectedResponse {
                status,
                reason,
                body,
            } => {
                write!(
                    f,
                    "unexpected answer from the token endpoint ({status}): {reason}"
                )?;
                if !body.is_empty() {
                    write!(f, "; body: {body}")?;
                }
                Ok(())
            }
            ClientError::Transport { message } => {
                write!(f, "could not reach the token endpoint: {message}")
            }
            ClientError::Timeout { after } => {
                write!(f, "the token endpoint did not answer within {after:?}")
            }
            ClientError::NoCallerToken => f.write_str(
                "no caller token to forward: put the incoming request's BearerToken in the \
                 outgoing request's extensions",
            ),
            ClientError::NoCallerTenant => f.write_str(
                "no caller tenant for the system token: put the incoming request's Claims in \
                 the outgoing request's extensions",
            ),
        }
    }
}

impl Error for ClientError {}

/// A client is misconfigured. Reported when it is built, so a service fails at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientConfigError {
    /// The host is not an absolute `http://` or `https://` URL without query or fragment.
    InvalidHost,
    /// The host is `https://` but the crate was built without the `client-rustls` feature.
    HttpsNeedsFeature,
    /// HTTPS could not be set up (no usable system root certificate).
    Tls(String),
    /// The client id is empty or contains `:` (it could not be sent in `Authorization: Basic`).
    InvalidClientId,
    /// The tenant or the username is empty.
    EmptyParameter(&'static str),
}

impl fmt::Display for ClientConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientConfigError::InvalidHost => f.write_str(
                "the REGARDS host must be an absolute http:// or https:// URL without query, \
                 such as http://127.0.0.1:8080 or https://regards.example/gateway",
            ),
            ClientConfigError::HttpsNeedsFeature => f.write_str(
                "the REGARDS host is https:// but regards-auth was built without the \
                 `client-rustls` feature: enable it, or give PasswordGrant your own transport",
            ),
            ClientConfigError::Tls(message) => {
                write!(f, "HTTPS could not be set up: {message}")
            }
            ClientConfigError::InvalidClientId => f.write_str(
                "the OAuth client id must be non-empty and contain no ':' (REGARDS' default is \
                 `client`)",
            ),
            ClientConfigError::EmptyParameter(name) => write!(f, "the {name} must not be empty"),
        }
    }
}

impl Error for ClientConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_errors_are_not_retryable_but_server_errors_are() {
        let bad = ClientError::BadClientCredentials {
            status: StatusCode::UNAUTHORIZED,
            body: String::new(),
        };
        let unavailable = ClientError::UnexpectedResponse {
            status: StatusCode::SERVICE_UNAVAILABLE,
            reason: "status",
            body: String::new(),
        };
        let garbage = ClientError::UnexpectedResponse {
            status: StatusCode::OK,
            reason: "not JSON",
            body: String::new(),
        };
        assert!(!bad.is_retryable());
        assert!(unavailable.is_retryable());
        assert!(!garbage.is_retryable());
        assert!(
            ClientError::Timeout {
                after: Duration::from_secs(1)
            }
            .is_retryable()
        );
    }
}
