//! Virtual hosts created through RabbitMQ's management HTTP API (the `rabbitmq_management`
//! plugin), as REGARDS' `RabbitVirtualHostAdmin.addVhost` does: a vhost that does not exist is
//! created, then the configured user is given every permission on it. An existing vhost is left
//! as it is (its permissions included).

use base64::Engine as _;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use tower_service::Service;

use super::config::AmqpConfig;
use super::error::AmqpError;
use crate::client::HttpTransport;

/// The largest management answer read (an error text at most).
const MAX_ANSWER: usize = 16 << 10;

/// Creates `vhost` unless it exists, and lets the configured user do anything on it.
pub(crate) async fn ensure_vhost(
    transport: &HttpTransport,
    config: &AmqpConfig,
    vhost: &str,
) -> Result<(), AmqpError> {
    let vhost_url = format!("{}/vhosts/{}", config.management, segment(vhost));
    match call(transport, config, Method::GET, &vhost_url, None).await? {
        status if status.is_success() => return Ok(()),
        StatusCode::NOT_FOUND => {}
        status => return Err(refused("reading", vhost, status)),
    }
    let status = call(transport, config, Method::PUT, &vhost_url, Some(Vec::new())).await?;
    if !status.is_success() {
        return Err(refused("creating", vhost, status));
    }
    let permissions = format!(
        "{}/permissions/{}/{}",
        config.management,
        segment(vhost),
        segment(&config.username)
    );
    let every_right = br#"{"configure":".*","write":".*","read":".*"}"#.to_vec();
    let status = call(
        transport,
        config,
        Method::PUT,
        &permissions,
        Some(every_right),
    )
    .await?;
    if !status.is_success() {
        return Err(refused("granting permissions on", vhost, status));
    }
    tracing::info!(vhost, "RabbitMQ virtual host created");
    Ok(())
}

fn refused(what: &str, vhost: &str, status: StatusCode) -> AmqpError {
    AmqpError::Management(format!("{what} virtual host {vhost}: status {status}"))
}

/// One authenticated call: the answer's status.
async fn call(
    transport: &HttpTransport,
    config: &AmqpConfig,
    method: Method,
    url: &str,
    body: Option<Vec<u8>>,
) -> Result<StatusCode, AmqpError> {
    let credentials = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", config.username, config.password));
    let mut request = Request::builder()
        .method(method)
        .uri(url)
        .header(AUTHORIZATION, format!("Basic {credentials}"));
    if body.is_some() {
        request = request.header(CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|_| AmqpError::Management("the management URL is not valid".into()))?;
    let exchange = async {
        let mut transport = transport.clone();
        std::future::poll_fn(|cx| transport.poll_ready(cx))
            .await
            .map_err(|error| AmqpError::Management(error.to_string()))?;
        let response = transport
            .call(request)
            .await
            .map_err(|error| AmqpError::Management(error.to_string()))?;
        let status = response.status();
        // Drain a bounded answer so that the connection can be reused.
        let _ = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await;
        Ok(status)
    };
    tokio::time::timeout(config.connect_timeout, exchange)
        .await
        .map_err(|_| AmqpError::Timeout)?
}

/// Percent-encodes a path segment (vhost and user names may hold any character).
fn segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("regards.project1"), "regards.project1");
        assert_eq!(segment("/"), "%2F");
        assert_eq!(segment("a b/é"), "a%20b%2F%C3%A9");
    }
}
