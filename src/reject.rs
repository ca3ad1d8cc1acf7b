//! The replaceable piece that turns an [`AuthError`] into a response.

use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Response};

use crate::AuthError;

/// Builds the response for a refused request.
///
/// The default, [`RegardsRejection`], answers as REGARDS does: the status of the error, one
/// `WWW-Authenticate` challenge (RFC 6750 §3) and a JSON body `{"messages":["..."]}`. Any
/// `Fn(AuthError) -> Response<B>` can stand in for it:
///
/// ```
/// use http::{Response, StatusCode};
/// use regards_auth::{AuthError, BearerAuthLayer, Verifier, REGARDS_DEVELOPMENT_KEY};
///
/// let verifier = Verifier::builder().hs512(REGARDS_DEVELOPMENT_KEY).allow_development_key().build()?;
/// let layer = BearerAuthLayer::new(verifier).reject_with(|error: AuthError| {
///     let mut response = Response::new(String::from(error.message()));
///     *response.status_mut() = error.status();
///     response
/// });
/// # Ok::<(), regards_auth::ConfigError>(())
/// ```
///
/// Whatever builds the response, the layers put the [`AuthError`] in its extensions.
pub trait Reject<B> {
    /// The response for `error`. Its extensions receive the error afterwards.
    fn reject(&self, error: AuthError) -> Response<B>;
}

impl<B, F> Reject<B> for F
where
    F: Fn(AuthError) -> Response<B>,
{
    fn reject(&self, error: AuthError) -> Response<B> {
        self(error)
    }
}

/// REGARDS' rejection: status, a single `WWW-Authenticate` challenge, and
/// `{"messages":["<fixed message>"]}` as `application/json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RegardsRejection;

impl<B: From<&'static str>> Reject<B> for RegardsRejection {
    fn reject(&self, error: AuthError) -> Response<B> {
        let mut response = Response::new(B::from(error.body()));
        *response.status_mut() = error.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(challenge) = error.challenge_header() {
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// The response for `error`, with the error in its extensions, logged at debug level.
pub(crate) fn rejection<B>(reject: &impl Reject<B>, error: AuthError) -> Response<B> {
    tracing::debug!(
        reason = error.as_str(),
        status = error.status().as_u16(),
        "request refused"
    );
    let mut response = reject.reject(error);
    response.extensions_mut().insert(error);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regards_rejection_has_status_challenge_and_json_body() {
        let response: Response<String> = RegardsRejection.reject(AuthError::Expired);
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            r#"Bearer realm="regards", error="invalid_token""#
        );
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(
            response.body(),
            r#"{"messages":["The access token has expired"]}"#
        );
    }

    #[test]
    fn rejection_puts_the_error_in_the_extensions() {
        let response: Response<String> = rejection(&RegardsRejection, AuthError::InsufficientRole);
        assert_eq!(
            response.extensions().get(),
            Some(&AuthError::InsufficientRole)
        );
    }
}
