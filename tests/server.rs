//! A service with statically guarded routes served on 127.0.0.1 and called with a real HTTP
//! client: the layers, the guard and the extractors, end to end over TCP. (The notifier
//! example, with REGARDS-managed access, is served in `tests/managed_demo.rs`.)

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use regards_auth::{BearerAuthLayer, Claims, REGARDS_DEVELOPMENT_KEY, Role, TokenIssuer, Verifier};

/// rs-notifier's rule import and rs-admin's "my user", each with the role REGARDS gives it.
mod notifier {
    use axum::routing::{get, put};
    use axum::{Json, Router};
    use regards_auth::{BearerAuthLayer, Claims, RequireRoleLayer, Role, Verifier};
    use serde_json::{Value, json};

    pub fn app(verifier: Verifier) -> Router {
        Router::new()
            .route(
                "/api/v1/rs-notifier/rule",
                put(import_rule).route_layer(RequireRoleLayer::at_least(Role::ProjectAdmin)),
            )
            .route(
                "/api/v1/rs-admin/users/myuser",
                get(my_user).route_layer(RequireRoleLayer::at_least(Role::RegisteredUser)),
            )
            .layer(BearerAuthLayer::new(verifier))
    }

    async fn import_rule(claims: Claims, Json(rule): Json<Value>) -> Json<Value> {
        Json(json!({ "tenant": claims.tenant(), "rule": rule }))
    }

    async fn my_user(claims: Claims) -> Json<Value> {
        Json(json!({
            "sub": claims.sub(),
            "email": claims.email(),
            "role": claims.role(),
            "tenant": claims.tenant(),
            "accessGroups": claims.access_groups(),
        }))
    }
}

fn verifier() -> Verifier {
    Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap()
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: serde_json::Value,
}

async fn call(method: &str, url: String, token: Option<&str>, body: &str) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = Request::builder()
        .method(method)
        .uri(url)
        .header(CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = client
        .request(request.body(Full::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Answer {
        status,
        challenge,
        body,
    }
}

fn token(role: Role, tenant: &str) -> String {
    TokenIssuer::development().mint("jane@regards.fr", role, tenant)
}

#[tokio::test]
async fn project_admin_imports_a_rule() {
    let addr = serve(notifier::app(verifier())).await;
    let token = token(Role::ProjectAdmin, "project1");
    let answer = call(
        "PUT",
        format!("http://{addr}/api/v1/rs-notifier/rule"),
        Some(&token),
        r#"{"name":"r1"}"#,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        serde_json::json!({"tenant": "project1", "rule": {"name": "r1"}})
    );
}

#[tokio::test]
async fn registered_user_is_denied_the_rule_route() {
    let addr = serve(notifier::app(verifier())).await;
    let token = token(Role::RegisteredUser, "project1");
    let answer = call(
        "PUT",
        format!("http://{addr}/api/v1/rs-notifier/rule"),
        Some(&token),
        "{}",
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer realm="regards", error="insufficient_scope""#)
    );
    assert_eq!(
        answer.body,
        serde_json::json!({"messages": ["Access is denied"]})
    );
}

#[tokio::test]
async fn my_user_answers_the_callers_claims() {
    let addr = serve(notifier::app(verifier())).await;
    let claims = Claims::new(
        "ops@regards.fr",
        "ops@regards.fr",
        Role::Exploit,
        "project1",
        4_102_444_800,
    )
    .with_access_groups(["g1"]);
    let token = TokenIssuer::development().issue(&claims);
    let answer = call(
        "GET",
        format!("http://{addr}/api/v1/rs-admin/users/myuser"),
        Some(&token),
        "",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        serde_json::json!({"sub": "ops@regards.fr", "email": "ops@regards.fr", "role": "EXPLOIT",
                           "tenant": "project1", "accessGroups": ["g1"]})
    );
}

#[tokio::test]
async fn no_token_gets_a_bearer_challenge() {
    let addr = serve(notifier::app(verifier())).await;
    let answer = call(
        "GET",
        format!("http://{addr}/api/v1/rs-admin/users/myuser"),
        None,
        "",
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer realm="regards""#)
    );
    assert_eq!(
        answer.body["messages"][0],
        "Full authentication is required to access this resource"
    );
}

#[tokio::test]
async fn token_signed_with_another_key_is_invalid() {
    let addr = serve(notifier::app(verifier())).await;
    let forged = TokenIssuer::new(regards_auth::Algorithm::HS512, "z".repeat(64))
        .unwrap()
        .mint("x", Role::InstanceAdmin, "project1");
    let answer = call(
        "GET",
        format!("http://{addr}/api/v1/rs-admin/users/myuser"),
        Some(&forged),
        "",
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer realm="regards", error="invalid_token""#)
    );
}

async fn who(claims: Option<Claims>) -> String {
    claims.map_or_else(
        || "nobody".to_owned(),
        |claims| format!("{} on {}", claims.role(), claims.tenant()),
    )
}

#[tokio::test]
async fn optional_claims_are_none_outside_the_layer() {
    let app = Router::new()
        .route("/who", get(who))
        .route_layer(BearerAuthLayer::new(verifier()).allow_public())
        .route("/open", get(who));
    let addr = serve(app).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    for (path, expected) in [
        ("/open", "nobody"),
        ("/who?scope=project1", "PUBLIC on project1"),
    ] {
        let response = client
            .get(format!("http://{addr}{path}").parse().unwrap())
            .await
            .unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, expected.as_bytes(), "{path}");
    }
}

#[tokio::test]
async fn claims_extractor_without_the_layer_fails_closed() {
    let app = Router::new().route(
        "/me",
        get(|claims: Claims| async move { claims.sub().to_owned() }),
    );
    let addr = serve(app).await;
    let answer = call("GET", format!("http://{addr}/me"), None, "").await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        answer.body["messages"][0],
        regards_auth::AuthError::NotConfigured.message()
    );
}
