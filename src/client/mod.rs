//! Client side: obtain, cache, refresh and attach REGARDS tokens on outgoing calls (feature
//! `client`).
//!
//! A REGARDS service calls its siblings in one of three ways, as REGARDS' Java services do
//! (their Feign security manager); each is a [`TokenSource`]:
//!
//! | source | token | typical use |
//! |---|---|---|
//! | [`ForwardedToken`] | the caller's own token, copied from the incoming request | acting for the user (REGARDS' default) |
//! | [`SystemToken`] | minted locally with the shared key: role `ROLE_SYS_<app>`, `sub` = `email` = the application | service-to-service calls, background jobs |
//! | [`PasswordGrant`] | a user's login through rs-authentication (the seed's "Retrieve token REST") | tools and services outside the REGARDS key's trust |
//! | [`FixedToken`] | a token you already have | scripts, tests |
//!
//! A [`TokenCache`] in front of a source reuses its token until shortly before it expires,
//! then refreshes it in the background while callers keep getting it, with a single fetch
//! however many callers ask, bounded retries, and a growing, jittered backoff between failed
//! refreshes. [`AttachTokenLayer`] sets `Authorization: Bearer` on every request an HTTP client
//! sends and drops a token the called service refuses (`401`). The HTTP client is any `tower`
//! service; [`HttpTransport`] (hyper-util) is ready to use, with HTTPS under the
//! `client-rustls` feature.
//!
//! ```no_run
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use regards_auth::client::{
//!     AttachTokenLayer, ClientCredentials, HttpTransport, PasswordGrant, TokenCache, UserCredentials,
//! };
//! use tower::{Service, ServiceBuilder, ServiceExt};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let login = PasswordGrant::new(
//!     "http://127.0.0.1:8080",
//!     "project1",
//!     ClientCredentials::new("client", "secret"),
//!     UserCredentials::new("admin@regards.fr", "admin"),
//! )?;
//! let mut notifier = ServiceBuilder::new()
//!     .layer(AttachTokenLayer::new(TokenCache::new(login)))
//!     .service(HttpTransport::new());
//! let rule = http::Request::put("http://127.0.0.1:8080/api/v1/rs-notifier/rule")
//!     .header("content-type", "application/json")
//!     .body(Full::new(Bytes::from_static(br#"{"name":"r1"}"#)))?;
//! let response = notifier.ready().await?.call(rule).await?;
//! assert!(response.status().is_success());
//! # Ok(()) }
//! ```
//!
//! Forwarding the caller's token from an axum handler (the server side's
//! [`BearerAuthLayer`](crate::BearerAuthLayer) put it in the request):
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use regards_auth::BearerToken;
//!
//! fn my_user_request(caller: BearerToken) -> http::Request<Full<Bytes>> {
//!     http::Request::get("http://127.0.0.1:8080/api/v1/rs-admin/users/myuser")
//!         .extension(caller) // sent on by AttachTokenLayer::new(ForwardedToken)
//!         .body(Full::default())
//!         .unwrap()
//! }
//! ```
//!
//! Tokens, passwords and client secrets never appear in `Debug` output, errors or logs.

mod cache;
mod error;
mod grant;
mod layer;
mod redact;
mod source;
mod time;
mod transport;

pub use cache::{
    DEFAULT_ATTEMPTS, DEFAULT_BACKOFF, DEFAULT_REFRESH_MARGIN, MAX_BACKOFF, TokenCache,
};
pub use error::{BODY_EXCERPT_LEN, ClientConfigError, ClientError, ClientErrorKind};
pub use grant::{
    ClientCredentials, DEFAULT_FETCH_TIMEOUT, MAX_RESPONSE_LEN, PasswordGrant, TOKEN_PATH,
    TokenResponse, UserCredentials,
};
pub use layer::{AttachToken, AttachTokenFuture, AttachTokenLayer};
pub use source::{AccessToken, FixedToken, ForwardedToken, SystemToken, TokenSource};
pub use transport::{CONNECT_TIMEOUT, HttpTransport};
