//! rs-admin-instance: the instance's accounts and its projects (tenants).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use regards_auth::Role;
use serde_json::{Value, json};

use super::gateway::{BuiltMicroservice, Microservice, Refusal};

/// What rs-admin-instance knows: the accounts and the projects.
pub struct Instance {
    /// The logins of the accounts.
    pub logins: Vec<String>,
    /// The projects.
    pub projects: BTreeSet<String>,
}

/// rs-admin-instance's endpoints, with REGARDS' default role for each.
pub fn microservice(instance: Instance) -> BuiltMicroservice {
    Microservice::new("rs-admin-instance")
        .endpoint(
            Method::GET,
            "/accounts",
            Role::InstanceAdmin,
            "retrieve the list of account in the instance",
            "AccountsController",
            accounts,
        )
        .endpoint(
            Method::GET,
            "/tenants",
            Role::InstanceAdmin,
            "List all tenants",
            "TenantController",
            tenants,
        )
        .endpoint(
            Method::GET,
            "/tenants/{microserviceName}",
            Role::InstanceAdmin,
            "List all fully configured tenants",
            "TenantController",
            tenants,
        )
        .endpoint(
            Method::GET,
            "/projects/{project_name}",
            Role::Public,
            "retrieve the project project_name",
            "ProjectController",
            project,
        )
        .with_state(Arc::new(instance))
}

/// `GET /accounts`: the known logins.
async fn accounts(State(instance): State<Arc<Instance>>) -> Json<Vec<String>> {
    Json(instance.logins.clone())
}

/// `GET /tenants` and `GET /tenants/{microserviceName}`: every project, since every demo
/// microservice serves every project.
async fn tenants(State(instance): State<Arc<Instance>>) -> Json<BTreeSet<String>> {
    Json(instance.projects.clone())
}

/// `GET /projects/{project_name}`: the project, as REGARDS' `Project`, public and accessible,
/// with the one link any caller may follow. Anonymous callers ask for it before they log in.
async fn project(
    State(instance): State<Arc<Instance>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let id = instance
        .projects
        .iter()
        .position(|project| *project == name)
        .ok_or(Refusal(StatusCode::NOT_FOUND, "No such project"))?;
    let project = json!({
        "id": id + 1,
        "name": name,
        "label": name,
        "description": format!("The demo's {name}"),
        "isPublic": true,
        "isAccessible": true,
        "isDeleted": false,
        "crs": "WGS_84",
        "isPoleToBeManaged": false,
    });
    let links =
        [json!({ "rel": "self", "href": format!("/api/v1/rs-admin-instance/projects/{name}") })];
    Ok(Json(json!({ "content": project, "links": links })))
}
