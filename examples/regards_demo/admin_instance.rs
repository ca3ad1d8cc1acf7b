//! rs-admin-instance: the instance's accounts.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Method;
use regards_auth::Role;
use serde_json::{Value, json};

use super::config::DemoConfig;
use super::gateway::Microservice;

/// rs-admin-instance's endpoints, with REGARDS' default role for each.
pub fn microservice(config: Arc<DemoConfig>) -> Microservice {
    Microservice::new("rs-admin-instance")
        .endpoint(
            Method::GET,
            "/accounts",
            Role::InstanceAdmin,
            "retrieve the list of account in the instance",
            "AccountsController",
            accounts,
        )
        .with_state(config)
}

/// `GET /accounts`: the known logins.
async fn accounts(State(config): State<Arc<DemoConfig>>) -> Json<Value> {
    let logins: Vec<&str> = config
        .users
        .iter()
        .map(|user| user.login.as_str())
        .collect();
    Json(json!(logins))
}
