//! [`RequireRoleLayer`]: lets a request through only if its caller's role reaches the route's.

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
///
/// Install it inside [`BearerAuthLayer`](crate::BearerAuthLayer), typically per route:
///
/// ```
/// use axum::{routing::put, Router};
/// use regards_auth::{BearerAuthLayer, RequireRoleLayer, Role, Verifier, REGARDS_DEVELOPMENT_KEY};
///
/// let verifier = Verifier::builder().hs512(REGARDS_DEVELOPMENT_KEY).allow_development_key().build()?;
/// let app: Router = Router::new()
///     .route("/rule", put(|| async { "stored" }).route_layer(RequireRoleLayer::at_least(Role::ProjectAdmin)))
///     .layer(BearerAuthLayer::new(verifier));
/// # Ok::<(), regards_auth::ConfigError>(())
/// ```
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

impl<S, R> RequireRole<S, R> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
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
            .any(|required| self.hierarchy.reaches(claims.role(), required))
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
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
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
                // `poll_ready` was answered by `self.inner` and it is called right away, within
                // this `call`: no clone needed (cloning a boxed axum route allocates).
                ResponseFuture::inner(self.inner.call(request))
            }
            Err(error) => ResponseFuture::rejected(rejection(&self.reject, error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::StatusCode;
    use http::header::WWW_AUTHENTICATE;
    use tower::{ServiceExt, service_fn};

    use super::*;

    const NATIVE: [Role; 6] = [
        Role::Public,
        Role::RegisteredUser,
        Role::Exploit,
        Role::Admin,
        Role::ProjectAdmin,
        Role::InstanceAdmin,
    ];

    async fn handler(_: Request<String>) -> Result<Response<String>, Infallible> {
        Ok(Response::new("ran".to_owned()))
    }

    #[test]
    fn accessors_reach_the_wrapped_service() {
        let mut service = RequireRoleLayer::at_least(Role::Admin).layer(7_u8);
        *service.get_mut() += 1;
        assert_eq!(*service.get_ref(), 8);
        assert_eq!(service.into_inner(), 8);
    }

    async fn call(layer: &RequireRoleLayer, role: Option<Role>) -> Response<String> {
        let mut request = Request::new(String::new());
        if let Some(role) = role {
            request
                .extensions_mut()
                .insert(Claims::new("a", "a", role, "p", 1));
        }
        layer
            .layer(service_fn(handler))
            .oneshot(request)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn every_native_role_pair_follows_the_hierarchy() {
        for (required_level, required) in NATIVE.iter().enumerate() {
            let layer = RequireRoleLayer::at_least(required.clone());
            for (held_level, held) in NATIVE.iter().enumerate() {
                let response = call(&layer, Some(held.clone())).await;
                let expected = if held_level >= required_level {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(response.status(), expected, "{held} on a {required} route");
            }
        }
    }

    #[tokio::test]
    async fn insufficient_role_is_403_access_denied() {
        let response = call(
            &RequireRoleLayer::at_least(Role::ProjectAdmin),
            Some(Role::Admin),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let challenges: Vec<_> = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(
            challenges,
            [r#"Bearer realm="regards", error="insufficient_scope""#]
        );
        assert_eq!(response.body(), r#"{"messages":["Access is denied"]}"#);
        assert_eq!(
            response.extensions().get(),
            Some(&AuthError::InsufficientRole)
        );
    }

    #[tokio::test]
    async fn system_roles_pass_every_guard() {
        let system = Role::System("rs-notifier".into());
        for required in NATIVE {
            let response = call(&RequireRoleLayer::at_least(required), Some(system.clone())).await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    }

    #[tokio::test]
    async fn system_roles_can_be_refused() {
        let layer = RequireRoleLayer::at_least(Role::RegisteredUser)
            .with_hierarchy(RoleHierarchy::new().system_roles_pass(false));
        let response = call(&layer, Some(Role::System("rs-notifier".into()))).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn custom_role_gets_its_parent_rights() {
        let hierarchy = RoleHierarchy::new().with_custom("CURATOR", Role::Exploit);
        let curator = Some(Role::Custom("CURATOR".into()));
        let exploit = RequireRoleLayer::at_least(Role::Exploit).with_hierarchy(hierarchy.clone());
        assert_eq!(
            call(&exploit, curator.clone()).await.status(),
            StatusCode::OK
        );
        let admin = RequireRoleLayer::at_least(Role::Admin).with_hierarchy(hierarchy);
        assert_eq!(call(&admin, curator).await.status(), StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn unknown_custom_role_passes_public_guards_only() {
        let guest = Some(Role::Custom("GUEST".into()));
        assert_eq!(
            call(&RequireRoleLayer::at_least(Role::Public), guest.clone())
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            call(&RequireRoleLayer::at_least(Role::RegisteredUser), guest)
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
    }

    #[tokio::test]
    async fn any_of_passes_a_role_reaching_one_of_them() {
        let layer = RequireRoleLayer::any_of([Role::Custom("CURATOR".into()), Role::Admin])
            .with_hierarchy(RoleHierarchy::new().with_custom("CURATOR", Role::RegisteredUser));
        assert_eq!(
            call(&layer, Some(Role::Custom("CURATOR".into())))
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            call(&layer, Some(Role::ProjectAdmin)).await.status(),
            StatusCode::OK
        );
        // Above CURATOR's parent: holds every right granted at that level.
        assert_eq!(
            call(&layer, Some(Role::Exploit)).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            call(&layer, Some(Role::RegisteredUser)).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            call(&layer, Some(Role::Custom("OTHER".into())))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
    }

    #[tokio::test]
    async fn empty_any_of_lets_nobody_through() {
        let layer = RequireRoleLayer::any_of([]);
        assert_eq!(
            call(&layer, Some(Role::InstanceAdmin)).await.status(),
            StatusCode::FORBIDDEN
        );
    }

    #[tokio::test]
    async fn missing_claims_fail_closed() {
        let response = call(&RequireRoleLayer::at_least(Role::Public), None).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.body(), AuthError::NotConfigured.body());
        assert_eq!(response.extensions().get(), Some(&AuthError::NotConfigured));
    }

    #[tokio::test]
    async fn anonymous_caller_below_the_role_gets_401_without_error_code() {
        let mut request = Request::new(String::new());
        request.extensions_mut().insert(Claims::public("project1"));
        let layer = RequireRoleLayer::at_least(Role::RegisteredUser);
        let response = layer
            .layer(service_fn(handler))
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenges: Vec<_> = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(challenges, [r#"Bearer realm="regards""#]);
        assert_eq!(
            response.extensions().get(),
            Some(&AuthError::MissingCredentials)
        );
    }

    #[tokio::test]
    async fn anonymous_caller_passes_a_public_guard() {
        let mut request = Request::new(String::new());
        request.extensions_mut().insert(Claims::public("project1"));
        let layer = RequireRoleLayer::at_least(Role::Public);
        let response = layer
            .layer(service_fn(handler))
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.body(), "ran");
    }

    #[tokio::test]
    async fn token_holder_with_public_role_below_the_role_gets_403() {
        let response = call(
            &RequireRoleLayer::at_least(Role::RegisteredUser),
            Some(Role::Public),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
}
