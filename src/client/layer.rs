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

use super::TokenSource;

/// The error of an [`AttachToken`] service: a [`ClientError`](super::ClientError) when no
/// token could be had, or the inner service's error, boxed (downcast to tell them apart).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Wraps an HTTP client so that every request it sends carries
/// `Authorization: Bearer <token>` (replacing any it had), the token coming from a
/// [`TokenSource`]. The header value is marked sensitive.
///
/// When the called service answers `401 Unauthorized`, the token is reported to the source
/// ([`TokenSource::invalidate`]): a [`TokenCache`](super::TokenCache) drops it, so the next
/// call fetches a new one. The `401` answer itself is returned as is.
///
/// If no token can be had, the call fails with the [`ClientError`](super::ClientError) (boxed)
/// and the request is not sent.
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
}

/// The future of [`AttachToken`]: gets a token, then calls the inner service. Boxed, because
/// the token source's future is an opaque type.
pub type AttachTokenFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

impl<S, Src, ReqBody, ResBody> Service<Request<ReqBody>> for AttachToken<S, Src>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    Src: TokenSource + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = BoxError;
    type Future = AttachTokenFuture<Response<ResBody>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
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
            let response = inner.call(request).await.map_err(Into::into)?;
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
    use crate::client::{ClientError, FixedToken, ForwardedToken};

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
        assert_eq!(
            error.downcast_ref::<ClientError>(),
            Some(&ClientError::NoCallerToken)
        );
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
