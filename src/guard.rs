//! [`RequireRoleLayer`]: lets a request through only if its caller's role reaches the route's.
//!
//! Install it inside [`BearerAuthLayer`](crate::BearerAuthLayer), typically per route:
//!
//! ```
//! use axum::{routing::put, Router};
//! use regards_auth::{BearerAuthLayer, RequireRoleLayer, Role, Verifier, REGARDS_DEVELOPMENT_KEY};
//!
//! let verifier = Verifier::builder().hs512(REGARDS_DEVELOPMENT_KEY).allow_development_key().build()?;
//! let app: Router = Router::new()
//!     .route("/rule", put(|| async { "stored" }).route_layer(RequireRoleLayer::at_least(Role::ProjectAdmin)))
//!     .layer(BearerAuthLayer::new(verifier));
//! # Ok::<(), regards_auth::ConfigError>(())
//! ```

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::AuthError;
use crate::claims::Claims;
use crate::future::ResponseFuture;
use crate::reject::{RegardsRejection, Reject, rejection};
use crate::role::{Role, RoleHierarchy};

/// Layer that refuses requests whose caller's role does not reach the required role(s):
/// 403 `Bearer realm="regards", error="insufficient_scope"`, body
/// `{"messages":["Access is denied"]}`.
///
/// An anonymous caller (the PUBLIC identity of [`allow_public`](crate::BearerAuthLayer::allow_public),
/// which sent no token) is refused with 401 `Bearer realm="regards"` instead: it has no
/// credentials, so the answer asks for some (RFC 6750 §3.1), as Spring Security does for
/// anonymous users.
///
/// Without [`Claims`] in the request (no [`BearerAuthLayer`](crate::BearerAuthLayer) in front of
/// it), every request is refused with 500 and an error is logged: the route fails closed.
#[derive(Debug, Clone)]
pub struct RequireRoleLayer<R = RegardsRejection> {
    requirement: Arc<Requirement>,
    reject: R,
}

#[derive(Debug, Clone)]
struct Requirement {
    /// The caller passes if its role reaches any of these.
    roles: Vec<Role>,
    hierarchy: RoleHierarchy,
}

impl RequireRoleLayer {
    /// Requires `role` or a role above it in the [`RoleHierarchy`] (system roles pass).
    ///
    /// ```
    /// # use regards_auth::{RequireRoleLayer, Role};
    /// let exploit_or_above = RequireRoleLayer::at_least(Role::Exploit);
    /// ```
    pub fn at_least(role: Role) -> Self {
        Self::any_of([role])
    }

    /// Requires a role that reaches at least one of `roles` in the [`RoleHierarchy`], as
    /// Spring's `hasAnyRole` with a role hierarchy. Useful with custom roles:
    ///
    /// ```
    /// # use regards_auth::{RequireRoleLayer, Role, RoleHierarchy};
    /// let curators = RequireRoleLayer::any_of([Role::Custom("CURATOR".into()), Role::Admin])
    ///     .with_hierarchy(RoleHierarchy::new().with_custom("CURATOR", Role::RegisteredUser));
    /// ```
    ///
    /// An empty list lets nobody through.
    pub fn any_of(roles: impl IntoIterator<Item = Role>) -> Self {
        RequireRoleLayer {
            requirement: Arc::new(Requirement {
                roles: roles.into_iter().collect(),
                hierarchy: RoleHierarchy::new(),
            }),
            reject: RegardsRejection,
        }
    }
}

impl<R> RequireRoleLayer<R> {
    /// Uses `hierarchy` (custom roles, system roles on or off) instead of the native one.
    pub fn with_hierarchy(mut self, hierarchy: RoleHierarchy) -> Self {
        Arc::make_mut(&mut self.requirement).hierarchy = hierarchy;
        self
    }

    /// Replaces the rejection (see [`Reject`]).
    pub fn reject_with<R2>(self, reject: R2) -> RequireRoleLayer<R2> {
        RequireRoleLayer {
            requirement: self.requirement,
            reject,
        }
    }
}

impl<S, R: Clone> Layer<S> for RequireRoleLayer<R> {
    type Service = RequireRole<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireRole {
            inner,
            requirement: self.requirement.clone(),
            reject: self.reject.clone(),
        }
    }
}

/// The service of [`RequireRoleLayer`].
#[derive(Debug, Clone)]
pub struct RequireRole<S, R = RegardsRejection> {
    inner: S,
    requirement: Arc<Requirement>,
    reject: R,
}

impl Requirement {
    fn check(&self, claims: Option<&Claims>) -> Result<(), AuthError> {
        let Some(claims) = claims else {
            tracing::error!(
                "RequireRoleLayer found no Claims in the request: install BearerAuthLayer outside it"
            );
            return Err(AuthError::NotConfigured);
        };
        if self
            .roles
            .iter()
            .any(|required| self.hierarchy.reaches(&claims.role, required))
        {
            Ok(())
        } else if claims.is_anonymous() {
            Err(AuthError::MissingCredentials)
        } else {
            Err(AuthError::InsufficientRole)
        }
    }
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for RequireRole<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    R: Reject<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        match self.requirement.check(request.extensions().get::<Claims>()) {
            Ok(()) => {
                // Call the service that was polled ready (see tower's `Service` docs).
                let clone = self.inner.clone();
                let mut ready = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::inner(ready.call(request))
            }
            Err(error) => ResponseFuture::rejected(rejection(&self.reject, error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::header::WWW_AUTHENTICATE;
    use tower::{ServiceExt, service_fn};

    use super::*;

    async fn call(layer: RequireRoleLayer, claims: Claims) -> Response<String> {
        let service = layer.layer(service_fn(|_: Request<()>| async {
            Ok::<_, Infallible>(Response::new(String::from("served")))
        }));
        let mut request = Request::new(());
        request.extensions_mut().insert(claims);
        service.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn anonymous_caller_below_the_role_gets_401_without_error_code() {
        let response = call(
            RequireRoleLayer::at_least(Role::RegisteredUser),
            Claims::public("project1"),
        )
        .await;
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            r#"Bearer realm="regards""#
        );
    }

    #[tokio::test]
    async fn anonymous_caller_passes_a_public_guard() {
        let response = call(
            RequireRoleLayer::at_least(Role::Public),
            Claims::public("project1"),
        )
        .await;
        assert_eq!(response.body(), "served");
    }

    #[tokio::test]
    async fn token_holder_with_public_role_below_the_role_gets_403() {
        let claims = Claims::new("a@b.c", "a@b.c", Role::Public, "project1", u64::MAX);
        let response = call(RequireRoleLayer::at_least(Role::RegisteredUser), claims).await;
        assert_eq!(response.status(), 403);
    }
}
