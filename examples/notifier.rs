//! A REGARDS service written in Rust, a full citizen of its REGARDS deployment: rs-notifier's
//! rule endpoints, registered with rs-admin for every project, decided from the rights
//! administrators grant there, refreshed while it serves.
//!
//! Against the demo stack (`cargo run --example regards_demo`, which serves an rs-admin):
//!
//! ```bash
//! JWT_SIGNING_KEY_HS512='!!!!!==========abcdefghijklmnopqrstuvwxyz0123456789==========!!!!!' \
//!   REGARDS_ALLOW_DEVELOPMENT_KEY=1 cargo run --example notifier
//! curl -XPUT http://127.0.0.1:8081/rule -H "Authorization: Bearer $TOKEN" \
//!   -H 'Content-Type: application/json' --data '{"name":"r1"}'
//! curl http://127.0.0.1:8081/health
//! ```
//!
//! | variable | default |
//! |---|---|
//! | `JWT_SIGNING_KEY_HS512` (and the other `JWT_SIGNING_KEY_*`, see `Verifier::from_env`) | required; HS512 also signs the system tokens rs-admin is called with |
//! | `REGARDS_ALLOW_DEVELOPMENT_KEY` | unset: REGARDS' public development key is refused |
//! | `REGARDS_ADMIN_URL` | `http://127.0.0.1:8080/api/v1/rs-admin` (the demo stack's) |
//! | `REGARDS_PROJECTS` (comma-separated) | `project1,project2` |
//! | `REGARDS_REFRESH_SECONDS` | `60` (while the broker link is up, the periodic refresh is only a safety net: every 10 minutes) |
//! | `NOTIFIER_ADDR` | `127.0.0.1:8081` |
//! | `REGARDS_AMQP_URL` (e.g. `amqp://guest:guest@127.0.0.1:5672`) | unset: no broker, the periodic refresh only; set: rs-admin's events followed over RabbitMQ (MULTI vhost mode unless `REGARDS_AMQP_MANAGEMENT_MODE` says otherwise, and the other `SPRING_RABBITMQ_*` / `REGARDS_AMQP_*` variables of `AmqpConfig::from_env`) |
//!
//! Paths are the service's own (`/rule`): REGARDS' gateway adds `/api/v1/rs-notifier` in front.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use regards_auth::managed::amqp::{AmqpConfig, EventListener, VhostMode};
use regards_auth::managed::{ManagedAccess, ResourceAccess, Routes};
use regards_auth::{
    Algorithm, BearerAuthLayer, Claims, REGARDS_DEVELOPMENT_KEY, Role, TokenIssuer, Verifier,
};
use serde_json::{Value, json};

/// The service's endpoints, each written once: method, path, default role, description,
/// handler. The router and the list registered with rs-admin both come from here.
pub fn routes() -> Routes {
    Routes::new("RuleController")
        .get(
            "/rule",
            ResourceAccess::new("List the notification rules", Role::ProjectAdmin),
            list_rules,
        )
        .put(
            "/rule",
            ResourceAccess::new("Import a notification rule", Role::ProjectAdmin),
            import_rule,
        )
        .delete(
            "/rule/{id}",
            ResourceAccess::new("Delete a notification rule", Role::ProjectAdmin),
            delete_rule,
        )
        .controller("RecipientController")
        .get(
            "/recipients",
            ResourceAccess::new("List the recipients", Role::Exploit),
            recipients,
        )
}

/// The service: the declared routes decided by managed access behind the bearer layer, and a
/// health endpoint outside them (as Spring's actuator) that tells where the rights stand.
pub fn app(router: Router, access: ManagedAccess, verifier: Verifier) -> Router {
    router
        .route_layer(access.layer())
        .layer(BearerAuthLayer::new(verifier))
        .merge(
            Router::new()
                .route("/health", get(health))
                .with_state(access),
        )
}

async fn list_rules(claims: Claims) -> Json<Value> {
    Json(json!({ "tenant": claims.tenant(), "rules": [] }))
}

/// Stores nothing: answers the rule with the project it would be stored for.
async fn import_rule(claims: Claims, Json(rule): Json<Value>) -> Json<Value> {
    Json(json!({ "tenant": claims.tenant(), "rule": rule }))
}

async fn delete_rule(claims: Claims, Path(id): Path<u64>) -> Json<Value> {
    Json(json!({ "tenant": claims.tenant(), "deleted": id }))
}

async fn recipients() -> Json<Value> {
    Json(json!([]))
}

async fn health(State(access): State<ManagedAccess>) -> Json<Value> {
    Json(json!(access.health()))
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let development = std::env::var_os("REGARDS_ALLOW_DEVELOPMENT_KEY").is_some();
    let key = std::env::var("JWT_SIGNING_KEY_HS512")
        .map_err(|_| "set JWT_SIGNING_KEY_HS512: REGARDS' shared signing key")?;
    let verifier = if development {
        Verifier::builder()
            .hs512(&key)
            .allow_development_key()
            .build()?
    } else {
        Verifier::from_env()?
    };
    let issuer = if development && key == REGARDS_DEVELOPMENT_KEY {
        TokenIssuer::development()
    } else {
        TokenIssuer::new(Algorithm::HS512, &key)?
    };
    let projects = env_or("REGARDS_PROJECTS", "project1,project2");
    let refresh: u64 = env_or("REGARDS_REFRESH_SECONDS", "60")
        .parse()
        .map_err(|_| "REGARDS_REFRESH_SECONDS must be a number of seconds")?;

    let (router, endpoints) = routes().build()?;
    let access = ManagedAccess::builder("rs-notifier", endpoints)
        .admin_url(env_or(
            "REGARDS_ADMIN_URL",
            "http://127.0.0.1:8080/api/v1/rs-admin",
        ))
        .system_tokens(issuer)
        .projects(projects.split(',').map(str::trim))
        .refresh_period(Duration::from_secs(refresh))
        .build()?;
    let _refresher = access.spawn();
    let _events = match std::env::var("REGARDS_AMQP_URL") {
        Ok(url) => {
            let config = AmqpConfig::builder()
                .vhost_mode(VhostMode::Multi)
                .env()
                .url(url)
                .build()?;
            Some(EventListener::start(&access, config)?)
        }
        Err(_) => None,
    };

    let addr = env_or("NOTIFIER_ADDR", "127.0.0.1:8081");
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    // On stdout, plain: scripts and tests read the address (port 0 picks a free one).
    println!("rs-notifier listening on http://{}", listener.local_addr()?);
    let app = app(router, access, verifier);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
