//! Why a request was refused, and how each reason maps to a status, a challenge and a message.
//!
//! The mapping lives here and only here: the rejection, the guard and the extractor all ask an
//! [`AuthError`] for its [`status`](AuthError::status), its
//! [`challenge`](AuthError::challenge) and its [`message`](AuthError::message).

use std::fmt;

use http::{HeaderValue, StatusCode};

/// Why authentication or authorization failed.
///
/// Every variant maps to a fixed status, a fixed `WWW-Authenticate` challenge and a fixed
/// message: nothing from the request ever ends up in a response. A rejection response carries
/// the `AuthError` in its extensions, so outer layers can tell the reasons apart.
///
/// | variant | status | `error=` |
/// |---|---|---|
/// | [`MissingCredentials`](Self::MissingCredentials), [`AddressNotAllowed`](Self::AddressNotAllowed) | 401 | (none) |
/// | [`MultipleCredentials`](Self::MultipleCredentials), [`TokenInQuery`](Self::TokenInQuery), [`InvalidScope`](Self::InvalidScope) | 400 | `invalid_request` |
/// | [`MalformedToken`](Self::MalformedToken), [`TokenTooLarge`](Self::TokenTooLarge), [`UnsupportedAlgorithm`](Self::UnsupportedAlgorithm), [`InvalidSignature`](Self::InvalidSignature), [`UnsupportedHeader`](Self::UnsupportedHeader), [`Expired`](Self::Expired), [`NotYetValid`](Self::NotYetValid), [`InvalidAudience`](Self::InvalidAudience), [`InvalidClaims`](Self::InvalidClaims) | 401 | `invalid_token` |
/// | [`InsufficientRole`](Self::InsufficientRole), [`TenantMismatch`](Self::TenantMismatch), [`EndpointNotDeclared`](Self::EndpointNotDeclared), [`RightsUnavailable`](Self::RightsUnavailable) | 403 | `insufficient_scope` |
/// | [`NotConfigured`](Self::NotConfigured) | 500 | (none) |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization: Bearer` credentials (and no public access for this request), or an
    /// anonymous (PUBLIC) caller refused by a role guard.
    MissingCredentials,
    /// Several `Authorization` headers, or a header and an `access_token` query parameter.
    MultipleCredentials,
    /// An `access_token` query parameter: tokens are only accepted in the `Authorization` header.
    TokenInQuery,
    /// Several or ill-formed `scope` values in the request.
    InvalidScope,
    /// The credentials are not a compact JWS of the expected shape and charset.
    MalformedToken,
    /// The token is longer than the size cap (8 KiB).
    TokenTooLarge,
    /// The token's `alg` has no configured key (this includes `none`).
    UnsupportedAlgorithm,
    /// The signature does not match.
    InvalidSignature,
    /// The JOSE header carries `crit` or `cty`, or a `typ` other than `JWT`.
    UnsupportedHeader,
    /// `exp` is in the past (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `aud` is present and does not name the configured audience (or none is configured).
    InvalidAudience,
    /// The claims are not an object of the REGARDS shape: a required claim is missing, empty,
    /// duplicated or of the wrong type.
    InvalidClaims,
    /// The caller's role does not reach the role the route requires.
    InsufficientRole,
    /// The request names a tenant (`scope`) other than the token's.
    TenantMismatch,
    /// The route needs claims but no [`BearerAuthLayer`](crate::BearerAuthLayer) ran before it.
    NotConfigured,
    /// Managed access: the request is for no declared endpoint (method and path).
    EndpointNotDeclared,
    /// Managed access: the caller's role may only be used from some client addresses (its
    /// `authorizedAddresses` in rs-admin), and this request comes from another one, or from an
    /// address that cannot be told. REGARDS' address filter answers 401 too.
    AddressNotAllowed,
    /// Managed access: the project's rights are not known: the service does not serve the
    /// project, or, in strict mode, has not read them from rs-admin yet.
    RightsUnavailable,
}

/// `error` codes of RFC 6750 §3.1.
const INVALID_REQUEST: &str = r#"Bearer realm="regards", error="invalid_request""#;
const INVALID_TOKEN: &str = r#"Bearer realm="regards", error="invalid_token""#;
const INSUFFICIENT_SCOPE: &str = r#"Bearer realm="regards", error="insufficient_scope""#;
const NO_ERROR: &str = r#"Bearer realm="regards""#;

/// `{"messages":["..."]}` for a literal message, built at compile time.
macro_rules! regards_body {
    ($message:literal) => {
        concat!(r#"{"messages":[""#, $message, r#""]}"#)
    };
}

/// The message of each variant and the REGARDS JSON body that carries it.
macro_rules! messages {
    ($($variant:ident => $message:literal,)*) => {
        impl AuthError {
            /// A fixed, human-readable sentence for this reason.
            pub const fn message(self) -> &'static str {
                match self { $(AuthError::$variant => $message,)* }
            }

            /// The REGARDS error body, `{"messages":["<message>"]}`.
            pub const fn body(self) -> &'static str {
                match self { $(AuthError::$variant => regards_body!($message),)* }
            }
        }
    };
}

messages! {
    MissingCredentials => "Full authentication is required to access this resource",
    MultipleCredentials => "More than one set of credentials in the request",
    TokenInQuery => "Access tokens are only accepted in the Authorization header",
    InvalidScope => "The requested scope is not valid",
    MalformedToken => "The access token is malformed",
    TokenTooLarge => "The access token is too large",
    UnsupportedAlgorithm => "The access token algorithm is not accepted",
    InvalidSignature => "The access token signature is not valid",
    UnsupportedHeader => "The access token header is not accepted",
    Expired => "The access token has expired",
    NotYetValid => "The access token is not valid yet",
    InvalidAudience => "The access token audience is not accepted",
    InvalidClaims => "The access token claims are not valid",
    InsufficientRole => "Access is denied",
    TenantMismatch => "The access token is not valid for the requested project",
    NotConfigured => "Authentication is not configured for this resource: BearerAuthLayer is missing",
    EndpointNotDeclared => "Access is denied",
    AddressNotAllowed => "Access is denied from this client address",
    RightsUnavailable => "Access is denied",
}

impl AuthError {
    /// The HTTP status of the rejection.
    pub const fn status(self) -> StatusCode {
        match self {
            AuthError::MultipleCredentials | AuthError::TokenInQuery | AuthError::InvalidScope => {
                StatusCode::BAD_REQUEST
            }
            AuthError::InsufficientRole
            | AuthError::TenantMismatch
            | AuthError::EndpointNotDeclared
            | AuthError::RightsUnavailable => StatusCode::FORBIDDEN,
            AuthError::NotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The `WWW-Authenticate` challenge of the rejection (RFC 6750 §3), if any.
    pub const fn challenge(self) -> Option<&'static str> {
        match self.status() {
            StatusCode::BAD_REQUEST => Some(INVALID_REQUEST),
            StatusCode::FORBIDDEN => Some(INSUFFICIENT_SCOPE),
            StatusCode::UNAUTHORIZED => match self {
                AuthError::MissingCredentials | AuthError::AddressNotAllowed => Some(NO_ERROR),
                _ => Some(INVALID_TOKEN),
            },
            _ => None,
        }
    }

    /// The challenge as a header value.
    pub const fn challenge_header(self) -> Option<HeaderValue> {
        // Built at compile time: `from_static` checks its bytes when it runs, and a rejection
        // should cost no more than copying a constant.
        const INVALID_REQUEST_HEADER: HeaderValue = HeaderValue::from_static(INVALID_REQUEST);
        const INVALID_TOKEN_HEADER: HeaderValue = HeaderValue::from_static(INVALID_TOKEN);
        const INSUFFICIENT_SCOPE_HEADER: HeaderValue = HeaderValue::from_static(INSUFFICIENT_SCOPE);
        const NO_ERROR_HEADER: HeaderValue = HeaderValue::from_static(NO_ERROR);
        // The same mapping as `challenge`.
        match self.status() {
            StatusCode::BAD_REQUEST => Some(INVALID_REQUEST_HEADER),
            StatusCode::FORBIDDEN => Some(INSUFFICIENT_SCOPE_HEADER),
            StatusCode::UNAUTHORIZED => match self {
                AuthError::MissingCredentials | AuthError::AddressNotAllowed => {
                    Some(NO_ERROR_HEADER)
                }
                _ => Some(INVALID_TOKEN_HEADER),
            },
            _ => None,
        }
    }

    /// A short, stable name for logs and metrics (`"expired"`, `"insufficient_role"`...).
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthError::MissingCredentials => "missing_credentials",
            AuthError::MultipleCredentials => "multiple_credentials",
            AuthError::TokenInQuery => "token_in_query",
            AuthError::InvalidScope => "invalid_scope",
            AuthError::MalformedToken => "malformed_token",
            AuthError::TokenTooLarge => "token_too_large",
            AuthError::UnsupportedAlgorithm => "unsupported_algorithm",
            AuthError::InvalidSignature => "invalid_signature",
            AuthError::UnsupportedHeader => "unsupported_header",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::InvalidAudience => "invalid_audience",
            AuthError::InvalidClaims => "invalid_claims",
            AuthError::InsufficientRole => "insufficient_role",
            AuthError::TenantMismatch => "tenant_mismatch",
            AuthError::NotConfigured => "not_configured",
            AuthError::EndpointNotDeclared => "endpoint_not_declared",
            AuthError::AddressNotAllowed => "address_not_allowed",
            AuthError::RightsUnavailable => "rights_unavailable",
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for AuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_regards_json() {
        let body: serde_json::Value =
            serde_json::from_str(AuthError::InsufficientRole.body()).unwrap();
        assert_eq!(body, serde_json::json!({"messages": ["Access is denied"]}));
    }

    #[test]
    fn missing_credentials_challenge_has_no_error() {
        assert_eq!(
            AuthError::MissingCredentials.challenge(),
            Some(r#"Bearer realm="regards""#)
        );
    }

    #[test]
    fn challenge_header_is_the_challenge() {
        for error in [
            AuthError::MissingCredentials,
            AuthError::MultipleCredentials,
            AuthError::Expired,
            AuthError::InsufficientRole,
            AuthError::NotConfigured,
        ] {
            assert_eq!(
                error
                    .challenge_header()
                    .as_ref()
                    .map(|h| h.to_str().unwrap()),
                error.challenge(),
                "{error:?}"
            );
        }
    }

    #[test]
    fn managed_access_refusals_map_as_regards_does() {
        use StatusCode as S;
        for (error, status, challenge) in [
            (
                AuthError::EndpointNotDeclared,
                S::FORBIDDEN,
                INSUFFICIENT_SCOPE,
            ),
            (
                AuthError::RightsUnavailable,
                S::FORBIDDEN,
                INSUFFICIENT_SCOPE,
            ),
            // The token is fine: a client told `invalid_token` would fetch another, in vain.
            (AuthError::AddressNotAllowed, S::UNAUTHORIZED, NO_ERROR),
        ] {
            assert_eq!(error.status(), status, "{error:?}");
            assert_eq!(error.challenge(), Some(challenge), "{error:?}");
            assert_eq!(
                error.challenge_header().unwrap().to_str().unwrap(),
                challenge
            );
        }
    }

    #[test]
    fn not_configured_has_no_challenge() {
        assert_eq!(AuthError::NotConfigured.challenge(), None);
        assert_eq!(
            AuthError::NotConfigured.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
