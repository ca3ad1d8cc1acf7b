//! rs-notifier: the notification rules of each project (`/rule`) and the recipients.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use regards_auth::{Claims, Role};
use serde_json::{Map, Value, json};

use super::gateway::{BuiltMicroservice, Microservice, Refusal};

/// rs-notifier's endpoints, with REGARDS' default role for each.
pub fn microservice() -> BuiltMicroservice {
    Microservice::new("rs-notifier")
        .endpoint(
            Method::GET,
            "/rule",
            Role::ProjectAdmin,
            "List all Rules",
            "RuleController",
            list_rules,
        )
        .endpoint(
            Method::POST,
            "/rule",
            Role::ProjectAdmin,
            "Create a Rule",
            "RuleController",
            store_rule,
        )
        .endpoint(
            Method::PUT,
            "/rule",
            Role::ProjectAdmin,
            "Update a Rule",
            "RuleController",
            store_rule,
        )
        .endpoint(
            Method::DELETE,
            "/rule/{id}",
            Role::ProjectAdmin,
            "Delete a rule",
            "RuleController",
            delete_rule,
        )
        .endpoint(
            Method::GET,
            "/recipients",
            Role::Exploit,
            "Endpoint to retrieve all recipients",
            "RecipientDtoController",
            recipients,
        )
        .with_state(Arc::default())
}

/// The notifier rules, per tenant.
#[derive(Default)]
struct Rules {
    last_id: u64,
    by_tenant: HashMap<String, Vec<Map<String, Value>>>,
}

type SharedRules = Arc<Mutex<Rules>>;

fn lock(rules: &Mutex<Rules>) -> MutexGuard<'_, Rules> {
    rules.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `GET /rule`: the caller's project's rules.
async fn list_rules(
    State(rules): State<SharedRules>,
    claims: Claims,
) -> Json<Vec<Map<String, Value>>> {
    let rules = lock(&rules);
    Json(
        rules
            .by_tenant
            .get(claims.tenant())
            .cloned()
            .unwrap_or_default(),
    )
}

/// `POST|PUT /rule`: stores the rule for the caller's project and answers it with its id.
async fn store_rule(
    State(rules): State<SharedRules>,
    method: Method,
    claims: Claims,
    rule: Result<Json<Map<String, Value>>, JsonRejection>,
) -> Result<(StatusCode, Json<Map<String, Value>>), Refusal> {
    let Json(mut rule) = rule.map_err(|rejection| {
        let message = "A rule is a JSON object (Content-Type: application/json)";
        Refusal(rejection.status(), message)
    })?;
    let mut rules = lock(&rules);
    rules.last_id += 1;
    rule.insert("id".into(), rules.last_id.into());
    rules
        .by_tenant
        .entry(claims.tenant().to_owned())
        .or_default()
        .push(rule.clone());
    let status = if method == Method::POST {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(rule)))
}

/// `DELETE /rule/{id}`: only the caller's project's rules.
async fn delete_rule(
    State(rules): State<SharedRules>,
    claims: Claims,
    Path(id): Path<String>,
) -> Result<StatusCode, Refusal> {
    let mut rules = lock(&rules);
    let tenant_rules = rules
        .by_tenant
        .entry(claims.tenant().to_owned())
        .or_default();
    let position = id.parse::<u64>().ok().and_then(|id| {
        tenant_rules
            .iter()
            .position(|rule| rule.get("id") == Some(&id.into()))
    });
    let position = position.ok_or(Refusal(
        StatusCode::NOT_FOUND,
        "No such rule in this project",
    ))?;
    tenant_rules.remove(position);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /recipients`.
async fn recipients() -> Json<Value> {
    Json(json!([{ "id": "mail", "label": "E-mail to the project's operators" }]))
}
