//! The header-layer cases over a real connection: an axum server on 127.0.0.1 behind
//! `BearerAuthLayer`, and a client that writes raw HTTP/1.1 bytes, so that what the HTTP parser
//! does before the layer (trimming, duplicate headers, non-UTF-8 bytes, size limits) is part of
//! the test.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use regards_auth::{BearerAuthLayer, Claims};
use support::*;

/// Serves `/resource` (answers the caller's tenant) behind the suite's `BearerAuthLayer`.
async fn serve() -> SocketAddr {
    let app = Router::new()
        .route(
            "/resource",
            get(|claims: Claims| async move { claims.tenant().to_owned() }),
        )
        .layer(BearerAuthLayer::new(verifier()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

/// The status, the `WWW-Authenticate` values and the body of the answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    challenges: Vec<String>,
    body: String,
}

/// Sends `GET /resource` with the raw `header_lines` (each ending in CRLF) and reads the
/// answer until the server closes the connection.
async fn exchange(address: SocketAddr, header_lines: Vec<u8>) -> Answer {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut request =
            b"GET /resource HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n".to_vec();
        request.extend_from_slice(&header_lines);
        request.extend_from_slice(b"\r\n");
        // The server may answer and close before reading a huge request whole.
        let _ = stream.write_all(&request);
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        let challenges = lines
            .filter_map(|line| line.split_once(':'))
            .filter(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
            .map(|(_, value)| value.trim().to_owned())
            .collect();
        Answer {
            status,
            challenges,
            body: body.to_owned(),
        }
    })
    .await
    .unwrap()
}

fn authorization(value: &[u8]) -> Vec<u8> {
    [b"Authorization: ", value, b"\r\n"].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_token_over_the_wire_is_served() {
    let address = serve().await;
    let value = format!("Bearer {}", valid_token());
    let answer = exchange(address, authorization(value.as_bytes())).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.challenges.is_empty());
    assert!(answer.body.ends_with(TENANT), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_over_the_wire_get_one_challenge() {
    let address = serve().await;
    let answer = exchange(address, Vec::new()).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenges, [NO_ERROR]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_authorization_headers_over_the_wire_are_an_invalid_request() {
    let address = serve().await;
    let value = format!("Bearer {}", valid_token());
    let lines = [
        authorization(value.as_bytes()),
        authorization(value.as_bytes()),
    ]
    .concat();
    let answer = exchange(address, lines).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.challenges, [INVALID_REQUEST]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_utf8_token_bytes_over_the_wire_are_an_invalid_token() {
    let address = serve().await;
    let mut value = format!("Bearer {}", valid_token()).into_bytes();
    value.insert(30, 0xff);
    let answer = exchange(address, authorization(&value)).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenges, [INVALID_TOKEN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tab_separator_over_the_wire_is_an_invalid_token() {
    let address = serve().await;
    let value = format!("Bearer\t{}", valid_token());
    let answer = exchange(address, authorization(value.as_bytes())).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenges, [INVALID_TOKEN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whitespace_around_the_field_value_is_not_part_of_the_token() {
    // RFC 9110 §5.5: the parser strips optional whitespace around a field value.
    let address = serve().await;
    let value = format!("  Bearer {} \t", valid_token());
    let answer = exchange(address, authorization(value.as_bytes())).await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_over_8_kib_over_the_wire_is_an_invalid_token() {
    let address = serve().await;
    let value = format!("Bearer {}", "a".repeat(8 * 1024 + 1));
    let answer = exchange(address, authorization(value.as_bytes())).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenges, [INVALID_TOKEN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_mib_header_over_the_wire_is_refused_by_the_server_not_a_5xx() {
    let address = serve().await;
    let value = format!("Bearer {}", "a".repeat(1024 * 1024));
    let answer = exchange(address, authorization(value.as_bytes())).await;
    // hyper refuses a head this large itself (431 Request Header Fields Too Large) before the
    // layer sees it.
    assert!((400..500).contains(&answer.status), "{answer:?}");
}
