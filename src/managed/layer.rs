//! [`ManagedAccessLayer`]: decides every request from the rights rs-admin grants.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::rights::{Caller, Fallback, decide};
use super::security::undeclared_endpoint;
use super::state::Shared;
use crate::AuthError;
use crate::claims::Claims;
use crate::future::ResponseFuture;
use crate::reject::{RegardsRejection, Reject, rejection};

/// Layer that lets a request through only if REGARDS' administration grants it, made by
/// [`ManagedAccess::layer`](super::ManagedAccess::layer).
///
/// Per request, in REGARDS' order: the endpoint is the declared one the method and path match
/// (none: 403, fail closed); the caller's role address filter, unless the role is a system role
/// or INSTANCE_ADMIN (outside its `authorizedAddresses`: 401); system roles and INSTANCE_ADMIN
/// pass, so does anyone on a PUBLIC-default endpoint; an INSTANCE_ADMIN-default endpoint passes
/// nobody else; PROJECT_ADMIN passes the others; any other role must be granted the endpoint in
/// the caller's project (else 403, or 401 for an anonymous caller). Before the project's rights are first read,
/// the endpoint's default role decides through the native hierarchy (or, strict, nobody but
/// the super roles passes, and anyone on a PUBLIC-default endpoint). On a project the service does not serve, nobody but the super
/// roles passes (403), as in REGARDS, where such a tenant has no authorities.
///
/// It reads the caller's [`Claims`]: install it inside
/// [`BearerAuthLayer`](crate::BearerAuthLayer). Without claims it fails closed (500, logged).
/// The decision reads one immutable snapshot of the rights (no lock) and allocates nothing
/// (a client address a role's filter reads is written on the stack).
#[derive(Clone)]
pub struct ManagedAccessLayer<R = RegardsRejection> {
    shared: Arc<Shared>,
    reject: R,
}

impl ManagedAccessLayer {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        ManagedAccessLayer {
            shared,
            reject: RegardsRejection,
        }
    }
}

impl<R> ManagedAccessLayer<R> {
    /// Replaces the rejection (see [`Reject`]).
    pub fn reject_with<R2>(self, reject: R2) -> ManagedAccessLayer<R2> {
        ManagedAccessLayer {
            shared: self.shared,
            reject,
        }
    }
}

impl<R> std::fmt::Debug for ManagedAccessLayer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedAccessLayer")
            .field("microservice", &self.shared.admin.microservice)
            .finish_non_exhaustive()
    }
}

impl<S, R: Clone> Layer<S> for ManagedAccessLayer<R> {
    type Service = ManagedAccessService<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        ManagedAccessService {
            inner,
            shared: self.shared.clone(),
            reject: self.reject.clone(),
        }
    }
}

/// The service of [`ManagedAccessLayer`].
#[derive(Clone)]
pub struct ManagedAccessService<S, R = RegardsRejection> {
    inner: S,
    shared: Arc<Shared>,
    reject: R,
}

impl<S, R> std::fmt::Debug for ManagedAccessService<S, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedAccessService")
            .field("microservice", &self.shared.admin.microservice)
            .finish_non_exhaustive()
    }
}

impl<S, R> ManagedAccessService<S, R> {
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

impl Shared {
    fn check<B>(&self, request: &Request<B>) -> Result<(), AuthError> {
        let Some(claims) = request.extensions().get::<Claims>() else {
            tracing::error!(
                "ManagedAccessLayer found no Claims in the request: install BearerAuthLayer outside it"
            );
            return Err(AuthError::NotConfigured);
        };
        let (endpoint, default_role) =
            match self.endpoints.find(request.method(), request.uri().path()) {
                Some(endpoint) => {
                    let declared = self.endpoints.get(endpoint).expect("a found endpoint");
                    (endpoint, declared.access().role())
                }
                None => undeclared_endpoint(request).ok_or(AuthError::EndpointNotDeclared)?,
            };
        let rights = self.rights.load();
        let project_rights = rights.get(claims.tenant()).map(Arc::as_ref);
        // The defaults stand in for rights not read yet; a project this service does not serve
        // will never have any, and REGARDS, holding no authorities for it, refuses.
        let unserved = || !self.served.load().contains(claims.tenant());
        let fallback = if self.settings.strict || (project_rights.is_none() && unserved()) {
            Fallback::Refuse
        } else {
            Fallback::Defaults(&self.settings.default_hierarchy)
        };
        let caller = Caller {
            role: claims.role(),
            anonymous: claims.is_anonymous(),
        };
        decide(
            &caller,
            endpoint,
            default_role,
            project_rights,
            fallback,
            || self.settings.trusted_proxies.client_address(request),
        )
    }
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for ManagedAccessService<S, R>
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
        match self.shared.check(&request) {
            // `poll_ready` was answered by `self.inner`, called right away: no clone needed.
            Ok(()) => ResponseFuture::inner(self.inner.call(request)),
            Err(error) => ResponseFuture::rejected(rejection(&self.reject, error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;
    use http::header::WWW_AUTHENTICATE;
    use http::{Method, StatusCode};
    use tower::{ServiceExt, service_fn};

    use super::*;
    use crate::managed::fixtures::{build, endpoints, grant, role};
    use crate::managed::{ManagedAccess, TrustedProxies};
    use crate::{Role, TokenIssuer};

    #[test]
    fn accessors_reach_the_wrapped_service() {
        let mut service = access(false).layer().layer(7_u8);
        *service.get_mut() += 1;
        assert_eq!(*service.get_ref(), 8);
        assert_eq!(service.into_inner(), 8);
    }

    fn access(strict: bool) -> ManagedAccess {
        let builder = ManagedAccess::builder("rs-notifier", endpoints())
            .admin_url("http://127.0.0.1:9")
            .system_tokens(TokenIssuer::development())
            .projects(["project1", "project2"]);
        let builder = if strict { builder.strict() } else { builder };
        builder.build().unwrap()
    }

    /// project1: NOTIFIER_OPERATOR (custom, only from 192.0.2.0/24) is granted PUT /rule;
    /// EXPLOIT GET /recipients; PUBLIC GET /search.
    fn install_project1(access: &ManagedAccess) {
        let roles = [
            role("PUBLIC", &[]),
            role("EXPLOIT", &[]),
            role("NOTIFIER_OPERATOR", &[r"192\.0\.2\.\d+"]),
        ];
        let grants = [
            ("PUBLIC", vec![grant("GET", "/search")]),
            (
                "EXPLOIT",
                vec![grant("GET", "/recipients"), grant("GET", "/search")],
            ),
            ("NOTIFIER_OPERATOR", vec![grant("PUT", "/rule")]),
        ];
        let (rights, _) = build(&roles, &grants, None);
        access.install("project1", rights);
    }

    async fn call(
        access: &ManagedAccess,
        method: Method,
        path: &str,
        claims: Option<Claims>,
        peer: &str,
    ) -> Response<String> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .body(String::new())
            .unwrap();
        if let Some(claims) = claims {
            request.extensions_mut().insert(claims);
        }
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 1)));
        access
            .layer()
            .layer(service_fn(|_: Request<String>| async {
                Ok::<_, Infallible>(Response::new("ran".to_owned()))
            }))
            .oneshot(request)
            .await
            .unwrap()
    }

    fn caller(role: Role, tenant: &str) -> Option<Claims> {
        Some(Claims::new(
            "jane@regards.fr",
            "jane@regards.fr",
            role,
            tenant,
            4_102_444_800,
        ))
    }

    fn operator(tenant: &str) -> Option<Claims> {
        caller(Role::Custom("NOTIFIER_OPERATOR".into()), tenant)
    }

    /// What the layer decided: `Ok` if the handler ran, else the refusal, whose status,
    /// challenge and typed reason are checked to agree.
    async fn verdict(
        access: &ManagedAccess,
        (method, path): (Method, &str),
        claims: Option<Claims>,
        peer: &str,
    ) -> Result<(), AuthError> {
        let response = call(access, method, path, claims, peer).await;
        if response.body() == "ran" {
            return Ok(());
        }
        let error = *response
            .extensions()
            .get::<AuthError>()
            .expect("a typed reason");
        assert_eq!(response.status(), error.status());
        let challenge = response.headers().get(WWW_AUTHENTICATE);
        assert_eq!(challenge.map(|h| h.to_str().unwrap()), error.challenge());
        Err(error)
    }

    const IN_RANGE: &str = "192.0.2.10";
    const PUT_RULE: (Method, &str) = (Method::PUT, "/rule");
    const RECIPIENTS: (Method, &str) = (Method::GET, "/recipients");
    const SEARCH: (Method, &str) = (Method::GET, "/search");

    /// project1's rights installed; decides `endpoint` for `claims` from [`IN_RANGE`].
    async fn project1_verdict(
        endpoint: (Method, &str),
        claims: Option<Claims>,
    ) -> Result<(), AuthError> {
        let access = access(false);
        install_project1(&access);
        verdict(&access, endpoint, claims, IN_RANGE).await
    }

    #[tokio::test]
    async fn granted_custom_role_reaches_the_handler() {
        assert_eq!(
            project1_verdict(PUT_RULE, operator("project1")).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn role_not_granted_gets_403() {
        let verdict = project1_verdict(RECIPIENTS, operator("project1")).await;
        assert_eq!(verdict, Err(AuthError::InsufficientRole));
    }

    #[tokio::test]
    async fn rights_are_per_project() {
        // project2 has no rights read yet: the default role decides.
        let verdict = project1_verdict(PUT_RULE, operator("project2")).await;
        assert_eq!(verdict, Err(AuthError::InsufficientRole));
        let admin = caller(Role::Admin, "project2");
        assert_eq!(project1_verdict(RECIPIENTS, admin).await, Ok(()));
    }

    #[tokio::test]
    async fn undeclared_endpoint_is_refused_even_for_super_roles() {
        let instance_admin = || caller(Role::InstanceAdmin, "project1");
        let system = caller(Role::System("rs-admin".into()), "project1");
        for (endpoint, claims) in [
            ((Method::GET, "/rule/1"), instance_admin()),
            ((Method::GET, "/unknown"), instance_admin()),
            ((Method::DELETE, "/rule"), system),
        ] {
            let verdict = project1_verdict(endpoint, claims).await;
            assert_eq!(verdict, Err(AuthError::EndpointNotDeclared));
        }
    }

    #[tokio::test]
    async fn endpoint_list_passes_any_caller_within_its_role_addresses() {
        // REGARDS' `GET /security/resources` has no `@ResourceAccess`: any authenticated caller,
        // after the address filter of its role, as an endpoint whose default role is PUBLIC.
        let list = (Method::GET, "/security/resources");
        let access = access(true);
        install_project1(&access);
        for claims in [
            operator("project1"),
            caller(Role::Custom("UNKNOWN".into()), "project1"),
            Some(Claims::public("project1")),
            caller(Role::RegisteredUser, "project9"),
        ] {
            let seen = verdict(&access, list.clone(), claims, IN_RANGE).await;
            assert_eq!(seen, Ok(()));
        }
        let head = (Method::HEAD, "/security/resources");
        assert_eq!(
            verdict(&access, head, operator("project1"), IN_RANGE).await,
            Ok(())
        );
        let outside = verdict(&access, list, operator("project1"), "203.0.113.9").await;
        assert_eq!(outside, Err(AuthError::AddressNotAllowed));
        let post = (Method::POST, "/security/resources");
        let verdict = verdict(
            &access,
            post,
            caller(Role::InstanceAdmin, "project1"),
            IN_RANGE,
        );
        assert_eq!(verdict.await, Err(AuthError::EndpointNotDeclared));
    }

    #[tokio::test]
    async fn super_and_system_roles_pass_ungranted_endpoints() {
        let access = access(false);
        install_project1(&access);
        for role in [
            Role::ProjectAdmin,
            Role::InstanceAdmin,
            Role::System("rs-catalog".into()),
        ] {
            let claims = caller(role, "project1");
            assert_eq!(
                verdict(&access, PUT_RULE, claims, "203.0.113.1").await,
                Ok(())
            );
        }
    }

    #[tokio::test]
    async fn address_filter_refuses_with_401_outside_the_role_addresses() {
        let access = access(false);
        install_project1(&access);
        let verdict = verdict(&access, PUT_RULE, operator("project1"), "203.0.113.9").await;
        assert_eq!(verdict, Err(AuthError::AddressNotAllowed));
    }

    #[tokio::test]
    async fn anonymous_public_caller_passes_public_endpoints_and_is_asked_for_credentials_elsewhere()
     {
        let anonymous = || Some(Claims::public("project1"));
        assert_eq!(project1_verdict(SEARCH, anonymous()).await, Ok(()));
        let verdict = project1_verdict(RECIPIENTS, anonymous()).await;
        assert_eq!(verdict, Err(AuthError::MissingCredentials));
    }

    #[tokio::test]
    async fn a_project_not_served_is_refused_but_to_super_roles() {
        let access = access(false);
        let admin = || caller(Role::Admin, "project9");
        let verdict_for = async |claims| verdict(&access, RECIPIENTS, claims, IN_RANGE).await;
        assert_eq!(
            verdict_for(admin()).await,
            Err(AuthError::RightsUnavailable)
        );
        let project_admin = caller(Role::ProjectAdmin, "project9");
        assert_eq!(verdict_for(project_admin).await, Ok(()));
        access.add_project("project9").unwrap();
        assert_eq!(
            verdict_for(admin()).await,
            Ok(()),
            "served, not read yet: the defaults"
        );
    }

    #[tokio::test]
    async fn a_removed_project_is_decided_as_a_project_never_served() {
        let access = access(false);
        install_project1(&access);
        let cases = [
            (PUT_RULE, operator("project1")),
            (RECIPIENTS, caller(Role::Exploit, "project1")),
            (SEARCH, caller(Role::Public, "project1")),
            (PUT_RULE, caller(Role::ProjectAdmin, "project1")),
            (
                PUT_RULE,
                caller(Role::System("rs-notifier".into()), "project1"),
            ),
        ];
        for (endpoint, claims) in cases.clone() {
            assert_eq!(verdict(&access, endpoint, claims, IN_RANGE).await, Ok(()));
        }

        assert!(access.remove_project("project1"));
        assert_eq!(access.projects(), ["project2"]);
        assert!(
            access
                .health()
                .projects
                .iter()
                .all(|project| project.project != "project1")
        );
        assert!(
            access.hierarchy("project1").is_none(),
            "its rights are gone"
        );
        let never_served = access_never_serving_project1();
        for (endpoint, claims) in cases {
            let renamed = claims.clone();
            assert_eq!(
                verdict(&access, endpoint.clone(), claims, IN_RANGE).await,
                verdict(&never_served, endpoint, renamed, IN_RANGE).await,
            );
        }
        assert_eq!(
            verdict(&access, PUT_RULE, operator("project1"), IN_RANGE).await,
            Err(AuthError::RightsUnavailable)
        );
        assert!(!access.remove_project("project1"), "removed once");
        assert_eq!(
            access.refresh("project1").await,
            Err(crate::managed::AdminError::UnknownProject)
        );
    }

    /// Like [`access`], serving project2 only.
    fn access_never_serving_project1() -> ManagedAccess {
        ManagedAccess::builder("rs-notifier", endpoints())
            .admin_url("http://127.0.0.1:9")
            .system_tokens(TokenIssuer::development())
            .projects(["project2"])
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn strict_mode_refuses_before_rights_are_read() {
        let access = access(true);
        let verdict_for =
            async |role| verdict(&access, RECIPIENTS, caller(role, "project1"), IN_RANGE).await;
        assert_eq!(
            verdict_for(Role::Admin).await,
            Err(AuthError::RightsUnavailable)
        );
        assert_eq!(verdict_for(Role::ProjectAdmin).await, Ok(()));
    }

    #[tokio::test]
    async fn missing_bearer_layer_fails_closed() {
        let verdict = verdict(&access(false), SEARCH, None, IN_RANGE).await;
        assert_eq!(verdict, Err(AuthError::NotConfigured));
    }

    #[tokio::test]
    async fn head_is_decided_as_the_get_endpoint() {
        let exploit = caller(Role::Exploit, "project1");
        let head = (Method::HEAD, "/recipients");
        assert_eq!(project1_verdict(head, exploit).await, Ok(()));
    }

    #[tokio::test]
    async fn custom_rejection_is_used() {
        let access = access(false);
        let service = access
            .layer()
            .reject_with(|error: AuthError| {
                let mut response = Response::new(format!("custom {}", error.as_str()));
                *response.status_mut() = error.status();
                response
            })
            .layer(service_fn(|_: Request<String>| async {
                Ok::<_, Infallible>(Response::new("ran".to_owned()))
            }));
        let mut request = Request::get("/nowhere").body(String::new()).unwrap();
        request
            .extensions_mut()
            .insert(caller(Role::Admin, "project1").unwrap());
        let response = service.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.body(), "custom endpoint_not_declared");
    }

    #[tokio::test]
    async fn a_client_behind_a_proxy_written_as_mapped_ipv6_is_filtered_as_itself() {
        // NOTIFIER_OPERATOR may call from 192.0.2.x, where the proxy is; its client is not.
        for proxy in ["::ffff:192.0.2.1", "192.0.2.1"] {
            let access = ManagedAccess::builder("rs-notifier", endpoints())
                .admin_url("http://127.0.0.1:9")
                .system_tokens(TokenIssuer::development())
                .projects(["project1"])
                .trusted_proxies(TrustedProxies::new([proxy]).unwrap())
                .build()
                .unwrap();
            install_project1(&access);
            let mut request = Request::put("/rule")
                .header("x-forwarded-for", "203.0.113.9")
                .body(String::new())
                .unwrap();
            request
                .extensions_mut()
                .insert(operator("project1").unwrap());
            request.extensions_mut().insert(ConnectInfo(SocketAddr::new(
                "192.0.2.1".parse().unwrap(),
                1,
            )));
            let response = access
                .layer()
                .layer(service_fn(|_: Request<String>| async {
                    Ok::<_, Infallible>(Response::new("ran".to_owned()))
                }))
                .oneshot(request)
                .await
                .unwrap();
            assert_eq!(
                response.extensions().get::<AuthError>(),
                Some(&AuthError::AddressNotAllowed),
                "proxy written {proxy}"
            );
        }
    }
}
