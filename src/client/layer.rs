//! [`AttachTokenLayer`]: sets `Authorization: Bearer <token>` on outgoing requests.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::AUTHORIZATION;
use http::{Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use super::{ClientError, TokenSource};

/// Wraps an HTTP client so that every request it sends carries
/// `Authorization: Bearer <token>` (replacing any it had), the token coming from a
/// [`TokenSource`]. The header value is marked sensitive.
///
/// When the called service answers `401 Unauthorized`, the token is reported to the source
/// ([`TokenSource::invalidate`]): a [`TokenCache`](super::TokenCache) drops it, so the next
/// call fetches a new one. The `401` answer itself is returned as is.
///
/// If no token can be had, the call fails with the [`ClientError`] the source gave, and the
/// request is not sent. If the wrapped HTTP client fails, its error comes back as a
/// [`ClientError`] of kind [`Call`](super::ClientErrorKind::Call) whose text went through the same
/// redaction as the token endpoint's answers: an HTTP client's error may quote the URL (with its
/// user information), a header or an echoed body, so the token sent, the URL's user information
/// and any token-shaped text never reach the caller's logs. The original error is not kept.
///
/// ```no_run
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use regards_auth::client::{
///     AttachTokenLayer, ClientCredentials, HttpTransport, PasswordGrant, TokenCache, UserCredentials,
/// };
/// use tower::{Service, ServiceBuilder, ServiceExt};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let tokens = TokenCache::new(PasswordGrant::new(
///     "http://127.0.0.1:8080",
///     "project1",
///     ClientCredentials::new("client", "secret"),
///     UserCredentials::new("admin@regards.fr", "admin"),
/// )?);
/// let mut client = ServiceBuilder::new()
///     .layer(AttachTokenLayer::new(tokens))
///     .service(HttpTransport::new());
/// let request = http::Request::put("http://127.0.0.1:8080/api/v1/rs-notifier/rule")
///     .header("content-type", "application/json")
///     .body(Full::new(Bytes::from_static(br#"{"name":"r1"}"#)))?;
/// let response = client.ready().await?.call(request).await?;
/// println!("{}", response.status());
/// # Ok(()) }
/// ```
pub struct AttachTokenLayer<Src> {
    source: Arc<Src>,
}

impl<Src> AttachTokenLayer<Src> {
    /// A layer taking tokens from `source`.
    pub fn new(source: Src) -> Self {
        Self::from_arc(Arc::new(source))
    }

    /// A layer taking tokens from a shared `source`.
    pub fn from_arc(source: Arc<Src>) -> Self {
        AttachTokenLayer { source }
    }
}

impl<Src> Clone for AttachTokenLayer<Src> {
    fn clone(&self) -> Self {
        AttachTokenLayer {
            source: Arc::clone(&self.source),
        }
    }
}

impl<Src: fmt::Debug> fmt::Debug for AttachTokenLayer<Src> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachTokenLayer")
            .field("source", &self.source)
            .finish()
    }
}

impl<S, Src> Layer<S> for AttachTokenLayer<Src> {
    type Service = AttachToken<S, Src>;

    fn layer(&self, inner: S) -> Self::Service {
        AttachToken {
            inner,
            source: Arc::clone(&self.source),
        }
    }
}

/// The service of [`AttachTokenLayer`].
pub struct AttachToken<S, Src> {
    inner: S,
    source: Arc<Src>,
}

impl<S: Clone, Src> Clone for AttachToken<S, Src> {
    fn clone(&self) -> Self {
        AttachToken {
            inner: self.inner.clone(),
            source: Arc::clone(&self.source),
        }
    }
}

impl<S: fmt::Debug, Src: fmt::Debug> fmt::Debug for AttachToken<S, Src> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachToken")
            .field("inner", &self.inner)
            .field("source", &self.source)
            .finish()
    }
}

impl<S, Src> AttachToken<S, Src> {
    /// Wraps `inner`, taking tokens from `source`.
    pub fn new(inner: S, source: Src) -> Self {
        AttachToken {
            inner,
            source: Arc::new(source),
        }
    }

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

/// The future of [`AttachToken`]: gets a token, then calls the inner service. Boxed, because
/// the token source's future is an opaque type.
pub type AttachTokenFuture<T> = Pin<Box<dyn Future<Output = Result<T, ClientError>> + Send>>;

/// The wrapped HTTP client's error as a [`ClientError`], with `secrets` redacted.
fn call_error(
    error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    secrets: &[&str],
) -> ClientError {
    let error = error.into();
    ClientError::call(&*error, secrets)
}

/// The user information of `uri` (`user:password` in `http://user:password@host/`), and its
/// password alone: what an error quoting the URL must not show.
fn user_info(uri: &http::Uri) -> Option<(String, Option<String>)> {
    let authority = uri.authority()?.as_str();
    let (user_info, _) = authority.rsplit_once('@')?;
    let password = user_info
        .split_once(':')
        .map(|(_, password)| password.to_owned());
    Some((user_info.to_owned(), password))
}

impl<S, Src, ReqBody, ResBody> Service<Request<ReqBody>> for AttachToken<S, Src>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    Src: TokenSource + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = ClientError;
    type Future = AttachTokenFuture<Response<ResBody>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // No request yet, so no token or URL to redact: token-shaped text is still withheld.
        self.inner
            .poll_ready(cx)
            .map_err(|error| call_error(error, &[]))
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The service that was polled ready is the one to call; leave a fresh clone in its
        // place (see the `tower::Service` docs on cloning in `call`).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let source = Arc::clone(&self.source);
        Box::pin(async move {
            let token = source.token(request.extensions()).await?;
            request
                .headers_mut()
                .insert(AUTHORIZATION, token.header_value());
            // Read now: the request is gone once sent, and only a failure needs them.
            let user_info = user_info(request.uri());
            let response = inner.call(request).await.map_err(|error| {
                let mut secrets = vec![token.token().as_str()];
                if let Some((user_info, password)) = &user_info {
                    secrets.push(user_info);
                    secrets.extend(password.as_deref());
                }
                call_error(error, &secrets)
            })?;
            if response.status() == StatusCode::UNAUTHORIZED {
                tracing::debug!("the called service refused the token; dropping it");
                source.invalidate(token.token());
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::Extensions;
    use tower::{ServiceExt, service_fn};

    use super::*;
    use crate::BearerToken;
    use crate::client::{ClientError, ClientErrorKind, FixedToken, ForwardedToken};

    async fn echo_authorization(request: Request<()>) -> Result<Response<String>, Infallible> {
        let header = request.headers().get(AUTHORIZATION);
        let sensitive = header.is_some_and(|h| h.is_sensitive());
        let text = header.map_or("", |h| h.to_str().unwrap()).to_owned();
        Ok(Response::new(format!("{text}|{sensitive}")))
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn sets_a_sensitive_bearer_header() {
        let service = AttachTokenLayer::new(FixedToken::new(BearerToken::new("a.b.c").unwrap()))
            .layer(service_fn(echo_authorization));
        let request = Request::builder()
            .header(AUTHORIZATION, "Basic old")
            .body(())
            .unwrap();
        let response = rt().block_on(service.oneshot(request)).unwrap();
        assert_eq!(response.body(), "Bearer a.b.c|true");
    }

    #[test]
    fn forwards_the_token_in_the_request_extensions() {
        let service = AttachTokenLayer::new(ForwardedToken).layer(service_fn(echo_authorization));
        let request = Request::builder()
            .extension(BearerToken::new("caller.token.x").unwrap())
            .body(())
            .unwrap();
        let response = rt().block_on(service.oneshot(request)).unwrap();
        assert_eq!(response.body(), "Bearer caller.token.x|true");
    }

    #[test]
    fn missing_token_fails_the_call_without_sending() {
        let service =
            AttachTokenLayer::new(ForwardedToken).layer(service_fn(|_: Request<()>| async {
                panic!("must not be called") as Result<Response<()>, Infallible>
            }));
        let error = rt()
            .block_on(service.oneshot(Request::new(())))
            .unwrap_err();
        assert_eq!(error, ClientError::from(ClientErrorKind::NoCallerToken));
    }

    /// An HTTP client whose error quotes everything it was given: the URL, the headers and a
    /// body the server echoed.
    async fn indiscreet_failure(request: Request<()>) -> Result<Response<()>, std::io::Error> {
        let authorization = request.headers()[AUTHORIZATION]
            .to_str()
            .unwrap()
            .to_owned();
        Err(std::io::Error::other(format!(
            "connection reset by {} (sent Authorization: {authorization})",
            request.uri()
        )))
    }

    #[test]
    fn inner_client_errors_are_redacted() {
        let opaque = "opaque-session-token-42";
        let service = AttachTokenLayer::new(FixedToken::new(BearerToken::new(opaque).unwrap()))
            .layer(service_fn(indiscreet_failure));
        let request = Request::get("http://jane:s3cr%40t@rs-admin:9011/users/myuser")
            .body(())
            .unwrap();
        let error = rt().block_on(service.oneshot(request)).unwrap_err();
        assert_eq!(error.kind(), ClientErrorKind::Call);
        let text = error.to_string();
        for secret in [opaque, "s3cr%40t", "s3cr@t", "jane:"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("rs-admin:9011/users/myuser"), "{text}");
        assert!(!format!("{error:?}").contains(opaque));
    }

    #[test]
    fn inner_client_errors_holding_a_jwt_are_withheld() {
        let jwt = "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhIn0.c2ln";
        let service = AttachTokenLayer::new(FixedToken::new(BearerToken::new(jwt).unwrap()))
            .layer(service_fn(indiscreet_failure));
        let request = Request::get("http://rs-admin/roles").body(()).unwrap();
        let error = rt().block_on(service.oneshot(request)).unwrap_err();
        assert_eq!(error.excerpt(), crate::client::redact::WITHHELD);
    }

    #[test]
    fn accessors_reach_the_wrapped_service() {
        let mut service = AttachToken::new(7_u8, ForwardedToken);
        *service.get_mut() += 1;
        assert_eq!(*service.get_ref(), 8);
        assert_eq!(service.into_inner(), 8);
    }

    struct Recording {
        invalidated: std::sync::Mutex<Vec<String>>,
    }

    impl TokenSource for Recording {
        async fn token(
            &self,
            _request: &Extensions,
        ) -> Result<crate::client::AccessToken, ClientError> {
            Ok(crate::client::AccessToken::new(
                BearerToken::new("t.o.k").unwrap(),
                None,
            ))
        }

        fn invalidate(&self, token: &BearerToken) {
            self.invalidated
                .lock()
                .unwrap()
                .push(token.as_str().to_owned());
        }
    }

    #[test]
    fn unauthorized_answer_invalidates_the_token() {
        let source = Arc::new(Recording {
            invalidated: Default::default(),
        });
        let layer = AttachTokenLayer::from_arc(Arc::clone(&source));
        let refuse = layer.layer(service_fn(|_: Request<()>| async {
            let mut response = Response::new(());
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            Ok::<_, Infallible>(response)
        }));
        let accept = layer.layer(service_fn(|_: Request<()>| async {
            Ok::<_, Infallible>(Response::new(()))
        }));
        let rt = rt();
        rt.block_on(accept.oneshot(Request::new(()))).unwrap();
        assert!(source.invalidated.lock().unwrap().is_empty());
        let response = rt.block_on(refuse.oneshot(Request::new(()))).unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(*source.invalidated.lock().unwrap(), ["t.o.k"]);
    }
}
