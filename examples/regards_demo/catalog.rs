//! rs-catalog: the search engines, open to the public of a project.

use axum::Json;
use axum::http::Method;
use regards_auth::{Claims, Role};
use serde_json::{Value, json};

use super::gateway::{BuiltMicroservice, Microservice};

/// rs-catalog's endpoints, with REGARDS' default role for each.
pub fn microservice() -> BuiltMicroservice {
    Microservice::new("rs-catalog")
        .endpoint(
            Method::GET,
            "/engines/{engineType}/entities/search",
            Role::Public,
            "Search engines dispatcher for global search",
            "SearchEngineController",
            search,
        )
        .with_state(())
}

/// `GET /engines/{engineType}/entities/search`: an empty page of results.
async fn search(claims: Claims) -> Json<Value> {
    Json(json!({ "tenant": claims.tenant(), "caller": claims.sub(), "content": [] }))
}
