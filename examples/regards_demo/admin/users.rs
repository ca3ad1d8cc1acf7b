//! rs-admin's project users: who the caller is (`GET /users/myuser`).

use axum::Json;
use regards_auth::Claims;
use serde_json::{Value, json};

/// `GET /users/myuser`: the caller's claims.
pub async fn my_user(claims: Claims) -> Json<Value> {
    Json(json!({
        "sub": claims.sub(),
        "email": claims.email(),
        "role": claims.role(),
        "tenant": claims.tenant(),
        "accessGroups": claims.access_groups(),
    }))
}
