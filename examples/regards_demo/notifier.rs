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

/// How many rules one project may store: past it, or past [`MAX_RULE_BYTES_PER_PROJECT`], a new
/// rule is refused (409) until some are deleted. A look-alike of REGARDS must survive the load
/// tests its README invites: a `PUT /rule` loop must not grow the process without bound.
pub const MAX_RULES_PER_PROJECT: usize = 1_000;
/// How many bytes of rules (as JSON) one project may store: 1 MiB.
pub const MAX_RULE_BYTES_PER_PROJECT: usize = 1 << 20;
/// How many projects may hold rules: the demo serves a few, but a system token (or an
/// INSTANCE_ADMIN one) may name any project.
pub const MAX_PROJECTS_WITH_RULES: usize = 100;

/// The notifier rules, per tenant.
#[derive(Default)]
struct Rules {
    last_id: u64,
    by_tenant: HashMap<String, ProjectRules>,
}

/// One project's rules, and their size as JSON.
#[derive(Default)]
struct ProjectRules {
    rules: Vec<Map<String, Value>>,
    bytes: usize,
}

type SharedRules = Arc<Mutex<Rules>>;

fn lock(rules: &Mutex<Rules>) -> MutexGuard<'_, Rules> {
    rules.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The size a rule counts for in its project's budget.
fn stored_size(rule: &Map<String, Value>) -> usize {
    serde_json::to_vec(rule).map_or(usize::MAX, |json| json.len())
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
            .map(|project| project.rules.clone())
            .unwrap_or_default(),
    )
}

/// `POST|PUT /rule`: stores the rule for the caller's project and answers it with its id;
/// 409 once the project holds [`MAX_RULES_PER_PROJECT`] rules or
/// [`MAX_RULE_BYTES_PER_PROJECT`] bytes of them (REGARDS answers 409 when the state of what is
/// stored stands in the way, and the caller can change it: delete rules, then store again).
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
    let id = rules.last_id + 1;
    rule.insert("id".into(), id.into());
    let size = stored_size(&rule);
    let projects = rules.by_tenant.len();
    let project = match rules.by_tenant.get_mut(claims.tenant()) {
        Some(project) => project,
        None if projects >= MAX_PROJECTS_WITH_RULES => {
            return Err(Refusal(
                StatusCode::CONFLICT,
                "This rs-notifier stores rules for 100 projects already",
            ));
        }
        None => rules
            .by_tenant
            .entry(claims.tenant().to_owned())
            .or_default(),
    };
    if project.rules.len() >= MAX_RULES_PER_PROJECT
        || project.bytes.saturating_add(size) > MAX_RULE_BYTES_PER_PROJECT
    {
        return Err(Refusal(
            StatusCode::CONFLICT,
            "This project stores 1000 rules or 1 MiB of rules already: delete some first",
        ));
    }
    project.bytes += size;
    project.rules.push(rule.clone());
    rules.last_id = id;
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
    let not_found = Refusal(StatusCode::NOT_FOUND, "No such rule in this project");
    let mut rules = lock(&rules);
    let project = rules.by_tenant.get_mut(claims.tenant()).ok_or(not_found)?;
    let position = id.parse::<u64>().ok().and_then(|id| {
        project
            .rules
            .iter()
            .position(|rule| rule.get("id") == Some(&id.into()))
    });
    let removed = project.rules.remove(position.ok_or(not_found)?);
    project.bytes -= stored_size(&removed);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /recipients`.
async fn recipients() -> Json<Value> {
    Json(json!([{ "id": "mail", "label": "E-mail to the project's operators" }]))
}
