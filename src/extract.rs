//! axum extractors for [`Claims`] and [`BearerToken`] (feature `axum`, `axum-core` only).
//!
//! ```
//! use axum::{routing::get, Json, Router};
//! use regards_auth::{BearerAuthLayer, Claims, Verifier, REGARDS_DEVELOPMENT_KEY};
//!
//! async fn my_user(claims: Claims) -> Json<Claims> {
//!     Json(claims)
//! }
//!
//! async fn search(claims: Option<Claims>) -> String {
//!     claims.map_or_else(|| "anonymous".into(), |claims| claims.tenant().to_owned())
//! }
//!
//! let verifier = Verifier::builder().hs512(REGARDS_DEVELOPMENT_KEY).allow_development_key().build()?;
//! let app: Router = Router::new()
//!     .route("/users/myuser", get(my_user))
//!     .route("/search", get(search))
//!     .layer(BearerAuthLayer::new(verifier).allow_public());
//! # Ok::<(), regards_auth::ConfigError>(())
//! ```

use axum_core::body::Body;
use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::AuthError;
use crate::claims::{BearerToken, Claims};
use crate::reject::{RegardsRejection, Reject};

impl IntoResponse for AuthError {
    /// The REGARDS rejection ([`RegardsRejection`]) for this error, with the error in the
    /// response extensions.
    fn into_response(self) -> Response {
        let mut response: Response<Body> = RegardsRejection.reject(self);
        response.extensions_mut().insert(self);
        response
    }
}

/// The identity the layer left in the extensions (a reference-count increment); without it,
/// logs what to fix and refuses with [`AuthError::NotConfigured`] (500).
fn identity(parts: &Parts, extractor: &'static str) -> Result<Claims, AuthError> {
    parts.extensions.get::<Claims>().cloned().ok_or_else(|| {
        tracing::error!(
            extractor,
            "no authenticated identity in the request: add `.layer(BearerAuthLayer::new(verifier))` \
             to the router (around this route), or extract `Option<_>`"
        );
        AuthError::NotConfigured
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        identity(parts, "Claims")
    }
}

/// `None` when the request carries no claims (no layer, or a route outside it).
impl<S: Send + Sync> OptionalFromRequestParts<S> for Claims {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Claims>().cloned())
    }
}

/// The token of the request's [`Claims`] (shared with them, not copied). An anonymous (PUBLIC)
/// request has none: it is refused as [`AuthError::MissingCredentials`] (401).
impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        identity(parts, "BearerToken")?
            .bearer_token()
            .ok_or(AuthError::MissingCredentials)
    }
}

/// `None` for anonymous (public) requests, which carry no token, and outside the layer.
impl<S: Send + Sync> OptionalFromRequestParts<S> for BearerToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Claims>()
            .and_then(Claims::bearer_token))
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;
    use crate::{BearerAuthLayer, REGARDS_DEVELOPMENT_KEY, Role, TokenIssuer, Verifier};

    fn app() -> Router {
        let verifier = Verifier::builder()
            .hs512(REGARDS_DEVELOPMENT_KEY)
            .allow_development_key()
            .build()
            .unwrap();
        Router::new()
            .route(
                "/token",
                get(|token: BearerToken| async move { token.as_str().to_owned() }),
            )
            .route(
                "/maybe",
                get(|token: Option<BearerToken>| async move { token.is_some().to_string() }),
            )
            .layer(BearerAuthLayer::new(verifier).allow_public())
    }

    async fn get_body(request: Request<Body>) -> (StatusCode, String) {
        let response = app().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn bearer_token_extractor_gives_the_callers_token() {
        let token = TokenIssuer::development().mint("a@b.c", Role::Admin, "project1");
        let request = Request::get("/token")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(get_body(request).await, (StatusCode::OK, token));
    }

    #[tokio::test]
    async fn bearer_token_extractor_refuses_an_anonymous_caller_with_401() {
        let request = Request::get("/token?scope=project1")
            .body(Body::empty())
            .unwrap();
        let (status, _) = get_body(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn optional_bearer_token_is_none_for_an_anonymous_caller() {
        let request = Request::get("/maybe?scope=project1")
            .body(Body::empty())
            .unwrap();
        assert_eq!(get_body(request).await, (StatusCode::OK, "false".into()));
    }
}
