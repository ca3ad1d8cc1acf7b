//! rs-admin: the project users (`/users/myuser`).

use axum::Json;
use axum::http::Method;
use regards_auth::{Claims, Role};
use serde_json::{Value, json};

use super::gateway::Microservice;

/// rs-admin's endpoints, with REGARDS' default role for each.
pub fn microservice() -> Microservice {
    Microservice::new("rs-admin")
        .endpoint(
            Method::GET,
            "/users/myuser",
            Role::RegisteredUser,
            "retrieve the current authenticated project user and only display metadata",
            "ProjectUsersController",
            my_user,
        )
        .with_state(())
}

/// `GET /users/myuser`: who the caller is.
async fn my_user(claims: Claims) -> Json<Value> {
    Json(json!({
        "sub": claims.sub,
        "email": claims.email,
        "role": claims.role,
        "tenant": claims.tenant,
        "accessGroups": claims.access_groups,
    }))
}
