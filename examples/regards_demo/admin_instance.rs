//! rs-admin-instance: the instance's accounts and its projects (tenants).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Method;
use regards_auth::Role;

use super::gateway::{BuiltMicroservice, Microservice};

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
