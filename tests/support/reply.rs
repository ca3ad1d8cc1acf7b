//! Shared by the tests that drive the demo stack over HTTP: a real hyper client, and its
//! answer read back whole (`Reply`), with REGARDS' error body checked where a test asks for it.
//!
//! Each test binary uses part of it.
#![allow(dead_code)]

use std::time::Duration;

use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// How long a request may take before the test fails (the demo answers in milliseconds).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A pooled plain-HTTP client.
pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// An answer, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// The messages of a REGARDS error body, checking its shape: `{"messages":["..."]}`.
    pub fn messages(&self) -> Vec<String> {
        assert_eq!(self.headers["content-type"], "application/json");
        let body = self.json();
        let object = body.as_object().expect("an object");
        assert_eq!(object.len(), 1, "only `messages`: {body}");
        serde_json::from_value(object["messages"].clone()).expect("an array of strings")
    }

    /// The value of header `name`, which must be there.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    /// The id rs-admin gave `verb path` in this resource listing (a PagedModel of
    /// ResourcesAccess); the resource must be there.
    pub fn resource_id(&self, path: &str, verb: &str) -> u64 {
        self.json()["content"]
            .as_array()
            .expect("a resource listing")
            .iter()
            .map(|model| &model["content"])
            .find(|resource| resource["resource"] == path && resource["verb"] == verb)
            .unwrap_or_else(|| panic!("{path}@{verb} is not registered"))["id"]
            .as_u64()
            .unwrap()
    }

    /// `WWW-Authenticate`, if any.
    pub fn challenge(&self) -> Option<&str> {
        self.headers
            .get("www-authenticate")
            .map(|value| value.to_str().unwrap())
    }
}

/// Sends `request` with `client` and reads the answer; fails the test after
/// [`ANSWER_TIMEOUT`].
pub async fn exchange(client: &HttpClient, request: Request<Full<Bytes>>) -> Reply {
    let response = tokio::time::timeout(ANSWER_TIMEOUT, client.request(request))
        .await
        .expect("an answer in time")
        .expect("the server answers");
    let (parts, body) = response.into_parts();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

/// `method url` with `headers` and `body`, on a new client.
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(url);
    for &(name, value) in headers {
        request = request.header(name, value);
    }
    exchange(&client(), request.body(Full::new(body.into())).unwrap()).await
}

/// `method url` as JSON, with an optional bearer token.
pub async fn send_json(
    client: &HttpClient,
    method: Method,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut request = Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    for &(name, value) in headers {
        request = request.header(name, value);
    }
    let body = Full::new(Bytes::from(body.to_owned()));
    exchange(client, request.body(body).unwrap()).await
}
