//! What can go wrong on the client side: [`ClientError`] when a token is obtained,
//! [`ClientConfigError`] when a client is configured.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use http::StatusCode;

use super::redact::{error_chain, excerpt};

/// The most bytes of a response body (or of a transport's error message) quoted in an error,
/// for diagnostics.
pub const BODY_EXCERPT_LEN: usize = 256;

/// A token could not be obtained, or (from [`AttachToken`](super::AttachToken)) the call it
/// was for could not be made.
///
/// What went wrong is its [`kind`](Self::kind): the client credentials were refused (fix the
/// configuration), the user credentials were refused (fix the login), the token endpoint
/// answered something that is not a REGARDS token answer, it could not be reached in time, or
/// the HTTP client failed. The details are read through [`status`](Self::status),
/// [`reason`](Self::reason), [`excerpt`](Self::excerpt) and [`timeout`](Self::timeout).
///
/// Error texts never contain a password, a client secret or a token. What the token endpoint
/// answered, or a transport's error said, is quoted only after every occurrence of the
/// password, the client secret and the `Authorization: Basic` value (for a call through
/// [`AttachToken`](super::AttachToken): the token and the URL's user information) is redacted,
/// raw or percent-, JSON- or HTML-escaped, over the whole text; then control characters are
/// replaced and the quote is cut to [`BODY_EXCERPT_LEN`] bytes on a character boundary. A text
/// holding a token (a JWT-shaped string, an `access_token` or `refresh_token` member) is not
/// quoted at all, whatever the status: `<withheld: it holds a token>` stands in its place. For
/// that reason the original error is not kept as a [`source`](Error::source).
///
/// ```
/// use http::StatusCode;
/// use regards_auth::client::{ClientError, ClientErrorKind};
///
/// let error = ClientError::unexpected_response(StatusCode::SERVICE_UNAVAILABLE, "the service is down", b"busy");
/// assert_eq!(error.kind(), ClientErrorKind::UnexpectedResponse);
/// assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
/// assert_eq!(error.excerpt(), "busy");
/// assert!(error.is_retryable());
/// assert!(!ClientError::from(ClientErrorKind::NoCallerToken).is_retryable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    kind: ClientErrorKind,
    status: Option<StatusCode>,
    reason: Option<&'static str>,
    /// A bounded, redacted excerpt of the body, or of the transport's error chain.
    excerpt: String,
    timeout: Option<Duration>,
}

/// What kind of [`ClientError`] happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientErrorKind {
    /// The token endpoint refused the client id/secret (`401`).
    BadClientCredentials,
    /// The token endpoint refused the user's login or password, or does not know the user on
    /// that project (`400`).
    BadUserCredentials,
    /// The answer is not a REGARDS token answer: another status, a body that is not JSON, a
    /// member missing or of the wrong type, a token type other than `bearer`, a body too large.
    UnexpectedResponse,
    /// The token request could not be sent or its answer not read (connection refused,
    /// reset...).
    Transport,
    /// No complete answer arrived within the configured time.
    Timeout,
    /// A source that forwards the caller's token found no [`BearerToken`](crate::BearerToken)
    /// in the outgoing request's extensions.
    NoCallerToken,
    /// A source that mints system tokens for the caller's tenant found no
    /// [`Claims`](crate::Claims) in the outgoing request's extensions.
    NoCallerTenant,
    /// The HTTP client wrapped by [`AttachToken`](super::AttachToken) failed to send the
    /// request or to read the answer; its error is quoted, redacted, in the
    /// [`excerpt`](ClientError::excerpt).
    Call,
}

impl ClientError {
    fn new(kind: ClientErrorKind) -> Self {
        ClientError {
            kind,
            status: None,
            reason: None,
            excerpt: String::new(),
            timeout: None,
        }
    }

    /// The token endpoint answered `status`, which is not a token answer, because of `reason`
    /// (a fixed text); `body` is quoted as an excerpt (tokens withheld, bounded).
    pub fn unexpected_response(status: StatusCode, reason: &'static str, body: &[u8]) -> Self {
        Self::answered(
            ClientErrorKind::UnexpectedResponse,
            status,
            Some(reason),
            excerpt(body, &[]),
        )
    }

    /// The token endpoint could not be reached: `error`'s chain is quoted as an excerpt
    /// (tokens withheld, bounded).
    pub fn transport(error: &(dyn Error + 'static)) -> Self {
        Self::transport_redacted(error, &[])
    }

    /// No complete answer within `after`.
    pub fn timed_out(after: Duration) -> Self {
        ClientError {
            timeout: Some(after),
            ..Self::new(ClientErrorKind::Timeout)
        }
    }

    /// An answer of kind `kind` with `status`; the excerpt is already redacted.
    pub(crate) fn answered(
        kind: ClientErrorKind,
        status: StatusCode,
        reason: Option<&'static str>,
        excerpt: String,
    ) -> Self {
        ClientError {
            status: Some(status),
            reason,
            excerpt,
            ..Self::new(kind)
        }
    }

    /// A transport error, with `secrets` redacted from its chain.
    pub(crate) fn transport_redacted(error: &(dyn Error + 'static), secrets: &[&str]) -> Self {
        ClientError {
            excerpt: error_chain(error, secrets),
            ..Self::new(ClientErrorKind::Transport)
        }
    }

    /// The wrapped HTTP client's error, with `secrets` redacted from its chain.
    pub(crate) fn call(error: &(dyn Error + 'static), secrets: &[&str]) -> Self {
        ClientError {
            excerpt: error_chain(error, secrets),
            ..Self::new(ClientErrorKind::Call)
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ClientErrorKind {
        self.kind
    }

    /// The HTTP status of the token endpoint's answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// Why an answer was not a token answer (a fixed text), for
    /// [`UnexpectedResponse`](ClientErrorKind::UnexpectedResponse).
    pub fn reason(&self) -> Option<&'static str> {
        self.reason
    }

    /// A bounded excerpt of the token endpoint's answer, or of the transport's or HTTP client's
    /// error, secrets redacted (see the type's docs); empty when there is none.
    pub fn excerpt(&self) -> &str {
        &self.excerpt
    }

    /// The time allowed, for a [`Timeout`](ClientErrorKind::Timeout).
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Whether trying again may help: transport failures, timeouts, and `5xx`, `408` or `429`
    /// answers. Refused credentials and malformed answers are not retried, nor is a failed
    /// [`Call`](ClientErrorKind::Call) (the called service may have acted on the request).
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            ClientErrorKind::Transport | ClientErrorKind::Timeout => true,
            ClientErrorKind::UnexpectedResponse => self.status.is_some_and(|status| {
                status.is_server_error()
                    || status == StatusCode::REQUEST_TIMEOUT
                    || status == StatusCode::TOO_MANY_REQUESTS
            }),
            _ => false,
        }
    }
}

impl From<ClientErrorKind> for ClientError {
    /// An error of `kind` with no status, reason or excerpt.
    fn from(kind: ClientErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = |f: &mut fmt::Formatter<'_>| match self.status {
            Some(status) => write!(f, " ({status})"),
            None => Ok(()),
        };
        match self.kind {
            ClientErrorKind::BadClientCredentials => {
                f.write_str("the token endpoint refused the client id/secret")?;
                status(f)?;
            }
            ClientErrorKind::BadUserCredentials => {
                f.write_str("the token endpoint refused the user's login or password")?;
                status(f)?;
            }
            ClientErrorKind::UnexpectedResponse => {
                f.write_str("unexpected answer from the token endpoint")?;
                status(f)?;
                if let Some(reason) = self.reason {
                    write!(f, ": {reason}")?;
                }
                if !self.excerpt.is_empty() {
                    return write!(f, "; body: {}", self.excerpt);
                }
                return Ok(());
            }
            ClientErrorKind::Transport => f.write_str("could not reach the token endpoint")?,
            ClientErrorKind::Timeout => {
                f.write_str("the token endpoint did not answer")?;
                if let Some(after) = self.timeout {
                    write!(f, " within {after:?}")?;
                }
            }
            ClientErrorKind::NoCallerToken => f.write_str(
                "no caller token to forward: put the incoming request's BearerToken in the \
                 outgoing request's extensions",
            )?,
            ClientErrorKind::NoCallerTenant => f.write_str(
                "no caller tenant for the system token: put the incoming request's Claims in \
                 the outgoing request's extensions",
            )?,
            ClientErrorKind::Call => f.write_str("the HTTP client failed")?,
        }
        if self.excerpt.is_empty() {
            Ok(())
        } else {
            write!(f, ": {}", self.excerpt)
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
        let bad = ClientError::answered(
            ClientErrorKind::BadClientCredentials,
            StatusCode::UNAUTHORIZED,
            None,
            String::new(),
        );
        let unavailable =
            ClientError::unexpected_response(StatusCode::SERVICE_UNAVAILABLE, "status", b"");
        let garbage = ClientError::unexpected_response(StatusCode::OK, "not JSON", b"");
        assert!(!bad.is_retryable());
        assert!(unavailable.is_retryable());
        assert!(!garbage.is_retryable());
        assert!(ClientError::timed_out(Duration::from_secs(1)).is_retryable());
        assert!(!ClientError::call(&std::io::Error::other("reset"), &[]).is_retryable());
    }

    #[test]
    fn display_keeps_each_kind_s_wording() {
        let refused = ClientError::answered(
            ClientErrorKind::BadUserCredentials,
            StatusCode::BAD_REQUEST,
            None,
            "invalid_grant".into(),
        );
        assert_eq!(
            refused.to_string(),
            "the token endpoint refused the user's login or password (400 Bad Request): invalid_grant"
        );
        let garbage = ClientError::unexpected_response(StatusCode::OK, "not JSON", b"<html>");
        assert_eq!(
            garbage.to_string(),
            "unexpected answer from the token endpoint (200 OK): not JSON; body: <html>"
        );
        assert_eq!(
            ClientError::timed_out(Duration::from_secs(2)).to_string(),
            "the token endpoint did not answer within 2s"
        );
        assert_eq!(
            ClientError::call(&std::io::Error::other("connection reset"), &[]).to_string(),
            "the HTTP client failed: connection reset"
        );
    }

    #[test]
    fn public_constructors_withhold_tokens() {
        let jwt = "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhIn0.c2ln";
        let answer = ClientError::unexpected_response(StatusCode::OK, "r", jwt.as_bytes());
        assert_eq!(answer.excerpt(), super::super::redact::WITHHELD);
        let transport = ClientError::transport(&std::io::Error::other(format!("sent {jwt}")));
        assert_eq!(transport.excerpt(), super::super::redact::WITHHELD);
    }
}
