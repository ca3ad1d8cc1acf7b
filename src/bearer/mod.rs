//! [`BearerAuthLayer`]: authenticates every request with its `Authorization: Bearer` token.
//!
//! ```
//! use http::{Request, Response};
//! use regards_auth::{BearerAuthLayer, Claims, Role, TokenIssuer, Verifier, REGARDS_DEVELOPMENT_KEY};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder().hs512(REGARDS_DEVELOPMENT_KEY).allow_development_key().build()?;
//! let service = ServiceBuilder::new()
//!     .layer(BearerAuthLayer::new(verifier))
//!     .service(service_fn(|request: Request<String>| async move {
//!         let claims = request.extensions().get::<Claims>().expect("set by the layer");
//!         Ok::<_, std::convert::Infallible>(Response::new(claims.tenant.clone()))
//!     }));
//!
//! let token = TokenIssuer::development().mint("jane@regards.fr", Role::Admin, "project1");
//! let request = Request::get("/").header("authorization", format!("Bearer {token}")).body(String::new())?;
//! assert_eq!(service.clone().oneshot(request).await?.body(), "project1");
//!
//! let anonymous = Request::get("/").body(String::new())?;
//! assert_eq!(service.oneshot(anonymous).await?.status(), 401);
//! # Ok(())
//! # }
//! ```

mod credentials;

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::AuthError;
use crate::claims::{BearerToken, Claims};
use crate::future::ResponseFuture;
use crate::reject::{RegardsRejection, Reject, rejection};
use crate::verify::{Verifier, unix_now};

/// Layer that verifies the Bearer token of every request and puts its [`Claims`] and
/// [`BearerToken`] in the request extensions. See the [module docs](self).
///
/// | request | response |
/// |---|---|
/// | valid token | inner service, with `Claims` and `BearerToken` in the extensions |
/// | no `Authorization: Bearer` | 401 `Bearer realm="regards"` (or PUBLIC, see [`allow_public`](Self::allow_public)) |
/// | invalid, expired, oversize token | 401 `Bearer realm="regards", error="invalid_token"` |
/// | two `Authorization` headers, header + `access_token` parameter, bad `scope` | 400 `error="invalid_request"` |
/// | token for another tenant than `scope` names | 403 `error="insufficient_scope"` (see [`lenient_tenant`](Self::lenient_tenant)) |
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

/// Who a request is, once authenticated.
enum Identity {
    Token(Claims, BearerToken),
    Public(Claims),
}

impl Config {
    fn authenticate<B>(&self, request: &Request<B>) -> Result<Identity, AuthError> {
        let credentials = credentials::read(request.headers(), request.uri())?;
        let Some((authorization, start)) = credentials.bearer else {
            return match credentials.scope {
                Some(scope) if self.allow_public => Ok(Identity::Public(Claims::public(scope))),
                _ => Err(AuthError::MissingCredentials),
            };
        };
        // The header parser checked the token's size and syntax: no second pass.
        let token = &authorization.as_bytes()[start..];
        let claims = self.verifier.verify_checked(token, unix_now())?;
        if self.strict_tenant
            && credentials
                .scope
                .is_some_and(|scope| scope != claims.tenant)
        {
            return Err(AuthError::TenantMismatch);
        }
        let token = BearerToken::from_authorization(authorization.clone(), start);
        Ok(Identity::Token(claims, token))
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
            Ok(identity) => {
                let extensions = request.extensions_mut();
                match identity {
                    Identity::Token(claims, token) => {
                        extensions.insert(claims);
                        extensions.insert(token);
                    }
                    Identity::Public(claims) => {
                        extensions.insert(claims);
                    }
                }
                // `poll_ready` was answered by `self.inner` and it is called right away, within
                // this `call`: no clone needed (cloning a boxed axum route allocates).
                ResponseFuture::inner(self.inner.call(request))
            }
            Err(error) => ResponseFuture::rejected(rejection(&self.reject, error)),
        }
    }
}
