//! A REGARDS service written in Rust: rs-notifier's rule import and rs-admin's "my user",
//! protected exactly as REGARDS' Java services protect them.
//!
//! ```bash
//! JWT_SIGNING_KEY_HS512='<the deployment key, 64 bytes or more>' cargo run --example notifier
//! curl -XPUT http://127.0.0.1:8081/api/v1/rs-notifier/rule -H "Authorization: Bearer $TOKEN" \
//!   -H 'Content-Type: application/json' --data '{"name":"r1"}'
//! ```
//!
//! Keys come from the environment, as REGARDS' `jwt.signing-key.*` (see `Verifier::from_env`);
//! `NOTIFIER_ADDR` sets the address (default `127.0.0.1:8081`).

use axum::routing::{get, put};
use axum::{Json, Router};
use regards_auth::{BearerAuthLayer, Claims, RequireRoleLayer, Role, Verifier};
use serde_json::{Value, json};

/// The service's routes, each with the role REGARDS gives it, behind the bearer layer.
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

/// Stores nothing: answers the rule with the project it would be stored for.
async fn import_rule(claims: Claims, Json(rule): Json<Value>) -> Json<Value> {
    Json(json!({ "tenant": claims.tenant, "rule": rule }))
}

/// The caller's identity, as REGARDS' rs-admin answers it.
async fn my_user(claims: Claims) -> Json<Value> {
    Json(json!({
        "sub": claims.sub,
        "email": claims.email,
        "role": claims.role,
        "tenant": claims.tenant,
        "accessGroups": claims.access_groups,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let verifier = Verifier::from_env()?;
    let addr = std::env::var("NOTIFIER_ADDR").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(%addr, "notifier listening");
    axum::serve(listener, app(verifier)).await?;
    Ok(())
}
