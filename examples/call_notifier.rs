//! The seed's "Retrieve token REST" procedure in Rust: log in through rs-authentication with
//! the password grant, then PUT a notifier rule with the token.
//!
//! Against the demo stack (in another terminal: `cargo run --example regards_demo`):
//!
//! ```text
//! cargo run --features client --example call_notifier
//! REGARDS_HOST=http://127.0.0.1:9090 cargo run --features client --example call_notifier
//! ```
//!
//! It logs in as `admin@regards.fr` / `admin` on `project1` with the OAuth client
//! `client` / `secret` (the demo's and REGARDS' development defaults). The host comes from
//! `REGARDS_HOST`, `http://127.0.0.1:8080` unless set.

use std::error::Error;
use std::process::ExitCode;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use regards_auth::client::{
    AttachTokenLayer, ClientCredentials, HttpTransport, PasswordGrant, TokenCache, UserCredentials,
};
use tower::{Service, ServiceBuilder, ServiceExt};

/// The host used when `REGARDS_HOST` is not set.
pub const DEFAULT_HOST: &str = "http://127.0.0.1:8080";

type BoxError = Box<dyn Error + Send + Sync>;

/// Logs in on `host` and PUTs the rule `{"name":"r1"}` on rs-notifier; returns the status and
/// body of the answer.
pub async fn put_rule(host: &str) -> Result<(StatusCode, String), BoxError> {
    let login = PasswordGrant::new(
        host,
        "project1",
        ClientCredentials::new("client", "secret"),
        UserCredentials::new("admin@regards.fr", "admin"),
    )?;
    let tokens = TokenCache::new(login);
    let token = tokens.get().await?;
    if let Some(expires_at) = token.expires_at() {
        let left = expires_at.saturating_duration_since(std::time::Instant::now());
        println!("token obtained, valid for {} s", left.as_secs());
    }

    // The layer reuses the cached token (and would fetch a new one if it were refused).
    let mut notifier = ServiceBuilder::new()
        .layer(AttachTokenLayer::new(tokens))
        .service(HttpTransport::new());
    let rule = Request::put(format!(
        "{}/api/v1/rs-notifier/rule",
        host.trim_end_matches('/')
    ))
    .header(CONTENT_TYPE, "application/json")
    .header(ACCEPT, "application/json")
    .body(Full::new(Bytes::from_static(br#"{"name":"r1"}"#)))?;
    let response = notifier.ready().await?.call(rule).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[allow(dead_code)] // Tests include this file for `put_rule`.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let host = std::env::var("REGARDS_HOST").unwrap_or_else(|_| DEFAULT_HOST.to_owned());
    match put_rule(&host).await {
        Ok((status, body)) => {
            println!("PUT /api/v1/rs-notifier/rule -> {status}");
            println!("{body}");
            if status.is_success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
