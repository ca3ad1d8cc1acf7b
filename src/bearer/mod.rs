//! [`BearerAuthLayer`]: authenticates every request with its `Authorization: Bearer` token.

mod credentials;

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::AuthError;
use crate::claims::Claims;
use crate::future::ResponseFuture;
use crate::reject::{RegardsRejection, Reject, rejection};
use crate::verify::{Verifier, unix_now};

/// Layer that verifies the Bearer token of every request and puts its identity, [`Claims`]
/// (which holds the token: [`Claims::bearer_token`]), in the request extensions.
///
/// | request | response |
/// |---|---|
/// | valid token | inner service, with `Claims` in the extensions |
/// | no `Authorization: Bearer` | 401 `Bearer realm="regards"` (or PUBLIC, see [`allow_public`](Self::allow_public)) |
/// | invalid, expired, oversize token | 401 `Bearer realm="regards", error="invalid_token"` |
/// | two `Authorization` headers, header + `access_token` parameter, bad `scope` | 400 `error="invalid_request"` |
/// | token for another tenant than `scope` names | 403 `error="insufficient_scope"` (see [`lenient_tenant`](Self::lenient_tenant)) |
///
/// ```
/// use http::{Request, Response};
/// use regards_auth::{BearerAuthLayer, Claims, Role, TokenIssuer, Verifier, REGARDS_DEVELOPMENT_KEY};
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let verifier = Verifier::builder().hs512(REGARDS_DEVELOPMENT_KEY).allow_development_key().build()?;
/// let service = ServiceBuilder::new()
///     .layer(BearerAuthLayer::new(verifier))
///     .service(service_fn(|request: Request<String>| async move {
///         let claims = request.extensions().get::<Claims>().expect("set by the layer");
///         Ok::<_, std::convert::Infallible>(Response::new(claims.tenant().to_owned()))
///     }));
///
/// let token = TokenIssuer::development().mint("jane@regards.fr", Role::Admin, "project1");
/// let request = Request::get("/").header("authorization", format!("Bearer {token}")).body(String::new())?;
/// assert_eq!(service.clone().oneshot(request).await?.body(), "project1");
///
/// let anonymous = Request::get("/").body(String::new())?;
/// assert_eq!(service.oneshot(anonymous).await?.status(), 401);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct BearerAuthLayer<R = RegardsRejection> {
    config: Arc<Config>,
    reject: R,
}

#[derive(Debug, Clone)]
struct Config {
    verifier: Verifier,
    allow_public: bool,
    strict_tenant: bool,
}

impl BearerAuthLayer {
    /// Authenticates with `verifier`; no public access; a `scope` naming another tenant than
    /// the token's is refused.
    pub fn new(verifier: Verifier) -> Self {
        BearerAuthLayer {
            config: Arc::new(Config {
                verifier,
                allow_public: false,
                strict_tenant: true,
            }),
            reject: RegardsRejection,
        }
    }
}

impl<R> BearerAuthLayer<R> {
    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Serves requests without Bearer credentials but with a `scope` (header or query
    /// parameter) as the PUBLIC identity of that tenant ([`Claims::public`]), as REGARDS does
    /// for anonymous access. A request with an invalid or expired token is still refused: it
    /// never falls back to PUBLIC. Routes then decide with
    /// [`RequireRoleLayer`](crate::RequireRoleLayer).
    pub fn allow_public(mut self) -> Self {
        self.config_mut().allow_public = true;
        self
    }

    /// REGARDS' own, lenient tenant handling: the token's tenant wins and a `scope` naming
    /// another tenant is ignored. By default such a request is refused with 403
    /// `insufficient_scope`.
    pub fn lenient_tenant(mut self) -> Self {
        self.config_mut().strict_tenant = false;
        self
    }

    /// Replaces the rejection (see [`Reject`]).
    pub fn reject_with<R2>(self, reject: R2) -> BearerAuthLayer<R2> {
        BearerAuthLayer {
            config: self.config,
            reject,
        }
    }
}

impl<S, R: Clone> Layer<S> for BearerAuthLayer<R> {
    type Service = BearerAuth<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        BearerAuth {
            inner,
            config: self.config.clone(),
            reject: self.reject.clone(),
        }
    }
}

/// The service of [`BearerAuthLayer`].
#[derive(Debug, Clone)]
pub struct BearerAuth<S, R = RegardsRejection> {
    inner: S,
    config: Arc<Config>,
    reject: R,
}

impl<S, R> BearerAuth<S, R> {
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

impl Config {
    /// Who the request is: the identity verified from its token, or the anonymous PUBLIC one.
    fn authenticate<B>(&self, request: &Request<B>) -> Result<Claims, AuthError> {
        let credentials = credentials::read(request.headers(), request.uri())?;
        let Some((authorization, start)) = credentials.bearer else {
            return match credentials.scope {
                Some(scope) if self.allow_public => Ok(Claims::public(scope)),
                _ => Err(AuthError::MissingCredentials),
            };
        };
        let token = &authorization.as_bytes()[start..];
        let claims = self.verifier.verify_token(token, unix_now)?;
        if self.strict_tenant
            && credentials
                .scope
                .is_some_and(|scope| scope != claims.tenant())
        {
            return Err(AuthError::TenantMismatch);
        }
        Ok(claims)
    }
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for BearerAuth<S, R>
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

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        match self.config.authenticate(&request) {
            Ok(claims) => {
                // One extension: the shared identity, token included.
                request.extensions_mut().insert(claims);
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

    use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
    use http::{HeaderValue, StatusCode};
    use tower::{ServiceExt, service_fn};

    use super::*;
    use crate::{REGARDS_DEVELOPMENT_KEY, Role, TokenIssuer};

    const NO_ERROR: &str = r#"Bearer realm="regards""#;
    const INVALID_TOKEN: &str = r#"Bearer realm="regards", error="invalid_token""#;
    const INVALID_REQUEST: &str = r#"Bearer realm="regards", error="invalid_request""#;
    const INSUFFICIENT_SCOPE: &str = r#"Bearer realm="regards", error="insufficient_scope""#;

    fn verifier() -> Verifier {
        Verifier::builder()
            .hs512(REGARDS_DEVELOPMENT_KEY)
            .allow_development_key()
            .build()
            .unwrap()
    }

    fn token(role: Role, tenant: &str) -> String {
        TokenIssuer::development().mint("jane@regards.fr", role, tenant)
    }

    /// Answers 200 with "<sub> <role> <tenant> <token?>" when it runs.
    async fn echo(request: Request<String>) -> Result<Response<String>, Infallible> {
        let claims = request
            .extensions()
            .get::<Claims>()
            .expect("claims are set");
        let has_token = claims.bearer_token().is_some();
        Ok(Response::new(format!(
            "{} {} {} {has_token}",
            claims.sub(),
            claims.role(),
            claims.tenant()
        )))
    }

    async fn send(layer: BearerAuthLayer, request: Request<String>) -> Response<String> {
        layer
            .layer(service_fn(echo))
            .oneshot(request)
            .await
            .unwrap()
    }

    fn get(uri: &str) -> http::request::Builder {
        Request::get(uri)
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    fn challenges(response: &Response<String>) -> Vec<&HeaderValue> {
        response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .collect()
    }

    #[test]
    fn accessors_reach_the_wrapped_service() {
        let mut service = BearerAuthLayer::new(verifier()).layer(7_u8);
        *service.get_mut() += 1;
        assert_eq!(*service.get_ref(), 8);
        assert_eq!(service.into_inner(), 8);
    }

    fn assert_refused(
        response: &Response<String>,
        status: StatusCode,
        challenge: &str,
        error: AuthError,
    ) {
        assert_eq!(response.status(), status);
        assert_eq!(challenges(response), [challenge], "exactly one challenge");
        assert_eq!(response.extensions().get::<AuthError>(), Some(&error));
        assert_eq!(response.body(), error.body(), "the handler did not run");
    }

    #[tokio::test]
    async fn valid_token_reaches_the_inner_service_with_claims_and_token() {
        let request = get("/").header(AUTHORIZATION, bearer(&token(Role::Admin, "project1")));
        let response = send(
            BearerAuthLayer::new(verifier()),
            request.body(String::new()).unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.body(), "jane@regards.fr ADMIN project1 true");
    }

    #[tokio::test]
    async fn raw_token_is_kept_for_forwarding() {
        let token = token(Role::Admin, "project1");
        let service = BearerAuthLayer::new(verifier()).layer(service_fn(
            |request: Request<String>| async move {
                let forwarded = request
                    .extensions()
                    .get::<Claims>()
                    .and_then(Claims::bearer_token)
                    .unwrap()
                    .as_str()
                    .to_owned();
                Ok::<_, Infallible>(Response::new(forwarded))
            },
        ));
        let request = get("/")
            .header(AUTHORIZATION, format!("bearer   {token}"))
            .body(String::new())
            .unwrap();
        assert_eq!(service.oneshot(request).await.unwrap().body(), &token);
    }

    #[tokio::test]
    async fn lowercase_bearer_scheme_is_accepted() {
        let request = get("/").header(AUTHORIZATION, format!("bearer {}", token(Role::Admin, "p")));
        let response = send(
            BearerAuthLayer::new(verifier()),
            request.body(String::new()).unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn missing_credentials_get_a_challenge_without_error() {
        let response = send(
            BearerAuthLayer::new(verifier()),
            get("/").body(String::new()).unwrap(),
        )
        .await;
        assert_refused(
            &response,
            StatusCode::UNAUTHORIZED,
            NO_ERROR,
            AuthError::MissingCredentials,
        );
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "application/json"
        );
    }

    #[tokio::test]
    async fn other_scheme_is_no_bearer_credentials() {
        let request = get("/").header(AUTHORIZATION, "Basic Y2xpZW50OnNlY3JldA==");
        let response = send(
            BearerAuthLayer::new(verifier()),
            request.body(String::new()).unwrap(),
        )
        .await;
        assert_refused(
            &response,
            StatusCode::UNAUTHORIZED,
            NO_ERROR,
            AuthError::MissingCredentials,
        );
    }

    #[tokio::test]
    async fn invalid_signature_is_invalid_token() {
        let mut token = token(Role::Admin, "p");
        let last = token.pop().unwrap();
        token.push(if last == 'A' { 'B' } else { 'A' });
        let request = get("/").header(AUTHORIZATION, bearer(&token));
        let response = send(
            BearerAuthLayer::new(verifier()),
            request.body(String::new()).unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(challenges(&response), [INVALID_TOKEN]);
    }

    #[tokio::test]
    async fn expired_token_is_invalid_token() {
        let expired = TokenIssuer::development().issue(&Claims::new("a", "a", Role::Admin, "p", 1));
        let request = get("/").header(AUTHORIZATION, bearer(&expired));
        let response = send(
            BearerAuthLayer::new(verifier()),
            request.body(String::new()).unwrap(),
        )
        .await;
        assert_refused(
            &response,
            StatusCode::UNAUTHORIZED,
            INVALID_TOKEN,
            AuthError::Expired,
        );
    }

    #[tokio::test]
    async fn oversize_token_is_invalid_token() {
        let huge = "a".repeat(crate::MAX_TOKEN_LEN + 1);
        let request = get("/").header(AUTHORIZATION, bearer(&huge));
        let response = send(
            BearerAuthLayer::new(verifier()),
            request.body(String::new()).unwrap(),
        )
        .await;
        assert_refused(
            &response,
            StatusCode::UNAUTHORIZED,
            INVALID_TOKEN,
            AuthError::TokenTooLarge,
        );
    }

    #[tokio::test]
    async fn two_authorization_headers_are_an_invalid_request() {
        let token = bearer(&token(Role::Admin, "p"));
        let request = get("/")
            .header(AUTHORIZATION, &token)
            .header(AUTHORIZATION, &token);
        let response = send(
            BearerAuthLayer::new(verifier()),
            request.body(String::new()).unwrap(),
        )
        .await;
        assert_refused(
            &response,
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            AuthError::MultipleCredentials,
        );
    }

    #[tokio::test]
    async fn header_and_access_token_parameter_are_an_invalid_request() {
        let token = token(Role::Admin, "p");
        let request = get(&format!("/?access_token={token}")).header(AUTHORIZATION, bearer(&token));
        let response = send(
            BearerAuthLayer::new(verifier()),
            request.body(String::new()).unwrap(),
        )
        .await;
        assert_refused(
            &response,
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            AuthError::MultipleCredentials,
        );
    }

    #[tokio::test]
    async fn public_access_serves_the_scope_tenant_as_public() {
        let layer = BearerAuthLayer::new(verifier()).allow_public();
        let response = send(
            layer.clone(),
            get("/")
                .header("scope", "project1")
                .body(String::new())
                .unwrap(),
        )
        .await;
        assert_eq!(response.body(), "public PUBLIC project1 false");
        let response = send(
            layer,
            get("/search?scope=project2").body(String::new()).unwrap(),
        )
        .await;
        assert_eq!(response.body(), "public PUBLIC project2 false");
    }

    #[tokio::test]
    async fn public_access_needs_a_scope() {
        let layer = BearerAuthLayer::new(verifier()).allow_public();
        let response = send(layer, get("/").body(String::new()).unwrap()).await;
        assert_refused(
            &response,
            StatusCode::UNAUTHORIZED,
            NO_ERROR,
            AuthError::MissingCredentials,
        );
    }

    #[tokio::test]
    async fn public_access_is_off_by_default() {
        let request = get("/")
            .header("scope", "project1")
            .body(String::new())
            .unwrap();
        let response = send(BearerAuthLayer::new(verifier()), request).await;
        assert_refused(
            &response,
            StatusCode::UNAUTHORIZED,
            NO_ERROR,
            AuthError::MissingCredentials,
        );
    }

    #[tokio::test]
    async fn invalid_token_never_falls_back_to_public() {
        let layer = BearerAuthLayer::new(verifier()).allow_public();
        let expired = TokenIssuer::development().issue(&Claims::new("a", "a", Role::Admin, "p", 1));
        for credentials in [
            bearer(&expired),
            "Bearer not-a-token".into(),
            "Bearer".into(),
        ] {
            let request = get("/")
                .header("scope", "p")
                .header(AUTHORIZATION, &credentials);
            let response = send(layer.clone(), request.body(String::new()).unwrap()).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{credentials}");
            assert_eq!(challenges(&response), [INVALID_TOKEN]);
        }
    }

    #[tokio::test]
    async fn scope_naming_another_tenant_is_insufficient_scope() {
        let token = bearer(&token(Role::ProjectAdmin, "project1"));
        for request in [
            get("/")
                .header("scope", "project2")
                .header(AUTHORIZATION, &token),
            get("/?scope=project2").header(AUTHORIZATION, &token),
        ] {
            let response = send(
                BearerAuthLayer::new(verifier()),
                request.body(String::new()).unwrap(),
            )
            .await;
            assert_refused(
                &response,
                StatusCode::FORBIDDEN,
                INSUFFICIENT_SCOPE,
                AuthError::TenantMismatch,
            );
        }
    }

    #[tokio::test]
    async fn scope_naming_the_token_tenant_passes() {
        let request =
            get("/?scope=project1").header(AUTHORIZATION, bearer(&token(Role::Admin, "project1")));
        let response = send(
            BearerAuthLayer::new(verifier()),
            request.body(String::new()).unwrap(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn lenient_tenant_lets_the_token_tenant_win() {
        let request = get("/")
            .header("scope", "project2")
            .header(AUTHORIZATION, bearer(&token(Role::Admin, "project1")));
        let response = send(
            BearerAuthLayer::new(verifier()).lenient_tenant(),
            request.body(String::new()).unwrap(),
        )
        .await;
        assert_eq!(response.body(), "jane@regards.fr ADMIN project1 true");
    }

    #[tokio::test]
    async fn rejection_is_replaceable_and_still_carries_the_error() {
        let layer = BearerAuthLayer::new(verifier()).reject_with(|error: AuthError| {
            let mut response = Response::new(format!("custom: {}", error.as_str()));
            *response.status_mut() = StatusCode::IM_A_TEAPOT;
            response
        });
        let response = layer
            .layer(service_fn(echo))
            .oneshot(get("/").body(String::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
        assert_eq!(response.body(), "custom: missing_credentials");
        assert_eq!(
            response.extensions().get(),
            Some(&AuthError::MissingCredentials)
        );
    }

    #[derive(Debug, PartialEq)]
    struct InnerError;

    #[tokio::test]
    async fn inner_error_type_is_unchanged() {
        let failing =
            service_fn(|_: Request<String>| async { Err::<Response<String>, _>(InnerError) });
        let request = get("/")
            .header(AUTHORIZATION, bearer(&token(Role::Admin, "p")))
            .body(String::new())
            .unwrap();
        let result: Result<Response<String>, InnerError> = BearerAuthLayer::new(verifier())
            .layer(failing)
            .oneshot(request)
            .await;
        assert_eq!(result.unwrap_err(), InnerError);
    }

    #[tokio::test]
    async fn nothing_from_the_request_is_echoed() {
        let request = get("/?scope=%3Cscript%3E")
            .header(AUTHORIZATION, "Bearer <script>")
            .body(String::new())
            .unwrap();
        let response = send(BearerAuthLayer::new(verifier()), request).await;
        assert!(!response.body().contains("script"));
        assert!(
            response
                .headers()
                .values()
                .all(|value| !value.as_bytes().windows(6).any(|w| w == b"script"))
        );
    }
}
