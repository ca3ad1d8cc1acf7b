//! [`HttpTransport`]: the ready-made HTTP client on hyper-util, used by
//! [`PasswordGrant`](super::PasswordGrant) unless another transport is given.
//!
//! Any `tower` service taking `http::Request<B>` and answering `http::Response<impl Body>`
//! can be a transport instead (your own hyper client, one with tracing or proxy layers...).

use std::fmt;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{self, Client};
use hyper_util::rt::TokioExecutor;
use tower_service::Service;

/// How long connecting may take before the transport gives up: 5 seconds.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[cfg(not(feature = "client-rustls"))]
type Connector = HttpConnector;
#[cfg(feature = "client-rustls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A pooled HTTP/1.1 client on hyper-util, cheap to clone (clones share the pool).
///
/// Plain HTTP; with the `client-rustls` feature, also HTTPS (rustls, trusting the system's
/// root certificates unless [`with_tls_config`](Self::with_tls_config) says otherwise).
/// Needs a tokio runtime to send requests.
///
/// ```
/// use regards_auth::client::HttpTransport;
/// let transport = HttpTransport::new();
/// ```
#[derive(Clone)]
pub struct HttpTransport {
    client: Client<Connector, Full<Bytes>>,
    tls_roots: bool,
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field("https", &cfg!(feature = "client-rustls"))
            .finish_non_exhaustive()
    }
}

impl Default for HttpTransport {
    fn default() -> Self {
        Self::new()
    }
}

fn http_connector() -> HttpConnector {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.set_nodelay(true);
    // The HTTPS connector wrapping it hands `https://` URIs down for the TCP connection; left
    // enforced, the HTTP connector would refuse them ("invalid URL, scheme is not http").
    #[cfg(feature = "client-rustls")]
    http.enforce_http(false);
    http
}

fn build(connector: Connector, tls_roots: bool) -> HttpTransport {
    HttpTransport {
        client: Client::builder(TokioExecutor::new()).build(connector),
        tls_roots,
    }
}

impl HttpTransport {
    /// A transport for `http://` (and, with `client-rustls`, `https://` with the system's
    /// roots; if none can be loaded a warning is logged and HTTPS servers are not trusted).
    #[cfg(not(feature = "client-rustls"))]
    pub fn new() -> Self {
        build(http_connector(), false)
    }

    /// A transport for `http://` (and, with `client-rustls`, `https://` with the system's
    /// roots; if none can be loaded a warning is logged and HTTPS servers are not trusted).
    // Every build has a `new`: the docs must not say this one is `client-rustls` only.
    #[cfg_attr(docsrs, doc(auto_cfg = false))]
    #[cfg(feature = "client-rustls")]
    pub fn new() -> Self {
        let provider = rustls::crypto::ring::default_provider();
        match hyper_rustls::HttpsConnectorBuilder::new().with_provider_and_native_roots(provider) {
            Ok(builder) => build(
                builder
                    .https_or_http()
                    .enable_http1()
                    .wrap_connector(http_connector()),
                true,
            ),
            Err(error) => {
                tracing::warn!(%error, "no system root certificate: HTTPS servers will not be trusted");
                build(
                    hyper_rustls::HttpsConnectorBuilder::new()
                        .with_tls_config(empty_roots_config())
                        .https_or_http()
                        .enable_http1()
                        .wrap_connector(http_connector()),
                    false,
                )
            }
        }
    }

    /// A transport for `http://` and `https://` with your rustls configuration (for a private
    /// certificate authority, say).
    #[cfg_attr(docsrs, doc(cfg(feature = "client-rustls")))]
    #[cfg(feature = "client-rustls")]
    pub fn with_tls_config(config: rustls::ClientConfig) -> Self {
        build(
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(config)
                .https_or_http()
                .enable_http1()
                .wrap_connector(http_connector()),
            true,
        )
    }

    /// Whether the transport can reach `https://` servers it trusts.
    pub fn supports_https(&self) -> bool {
        self.tls_roots
    }
}

#[cfg(feature = "client-rustls")]
fn empty_roots_config() -> rustls::ClientConfig {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

impl Service<Request<Full<Bytes>>> for HttpTransport {
    type Response = Response<Incoming>;
    type Error = legacy::Error;
    type Future = legacy::ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::<Request<Full<Bytes>>>::poll_ready(&mut self.client, cx)
    }

    fn call(&mut self, request: Request<Full<Bytes>>) -> Self::Future {
        self.client.call(request)
    }
}
