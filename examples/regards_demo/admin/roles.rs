//! rs-admin's `RoleController` and `RoleResourceController`: the roles of the caller's project
//! and the resources each role may call.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use regards_auth::Claims;
use serde_json::Value;

use super::super::gateway::Refusal;
use super::rights::NO_SUCH_RESOURCE;
use super::wire::{self, ResourceRefBody, RoleBody};
use super::{RightsService, caller, caller_role_name, json_body};

type Service = State<Arc<RightsService>>;

const ROLE_BODY: &str = r#"The body must be a role: {"name": "...", "parentRole": {"name": "..."}, "authorizedAddresses": [...]}"#;

/// `GET /roles`: the roles the caller may manage, by name, INSTANCE_ADMIN never listed.
pub async fn list(State(service): Service, claims: Claims) -> Result<Json<Vec<Value>>, Refusal> {
    let name = caller_role_name(claims.role());
    let caller = caller(claims.role(), &name);
    service
        .read(claims.tenant(), |rights| {
            let roles = rights.roles_for(caller);
            Ok(roles
                .into_iter()
                .map(|role| wire::role_model(rights, role))
                .collect())
        })
        .map(Json)
}

/// `POST /roles`: creates a custom role with its parent's rights.
pub async fn create(
    State(service): Service,
    claims: Claims,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    let body: RoleBody = json_body(body, ROLE_BODY)?;
    let model = service
        .change(claims.tenant(), |rights| {
            let draft = body.into_draft(rights);
            let (name, changes) = rights.create_role(&draft)?;
            Ok((wire::role_model(rights, rights.role(&name)?), changes))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(model)))
}

/// `GET /roles/{role_name}`.
pub async fn get(
    State(service): Service,
    claims: Claims,
    Path(role): Path<String>,
) -> Result<Json<Value>, Refusal> {
    service
        .read(claims.tenant(), |rights| {
            Ok(wire::role_model(rights, rights.role(&role)?))
        })
        .map(Json)
}

/// `PUT /roles/{role_name}`: the authorized addresses, and a custom role's parent.
pub async fn update(
    State(service): Service,
    claims: Claims,
    Path(role): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, Refusal> {
    let body: RoleBody = json_body(body, ROLE_BODY)?;
    service
        .change(claims.tenant(), |rights| {
            let draft = body.into_draft(rights);
            let changes = rights.update_role(&role, &draft)?;
            Ok((wire::role_model(rights, rights.role(&role)?), changes))
        })
        .await
        .map(Json)
}

/// `DELETE /roles/{role_name}`: custom roles only.
pub async fn delete(
    State(service): Service,
    claims: Claims,
    Path(role): Path<String>,
) -> Result<StatusCode, Refusal> {
    service
        .change(claims.tenant(), |rights| {
            Ok(((), rights.delete_role(&role)?))
        })
        .await?;
    Ok(StatusCode::OK)
}

/// `GET /roles/{role_name}/resources`: everything the role may call.
pub async fn resources(
    State(service): Service,
    claims: Claims,
    Path(role): Path<String>,
) -> Result<Json<Vec<Value>>, Refusal> {
    role_resources(&service, &claims, &role, None)
}

/// `GET /roles/{role_name}/resources/{microservice}`: what the role may call of one
/// microservice; what a microservice reads to build its rights.
pub async fn resources_of_microservice(
    State(service): Service,
    claims: Claims,
    Path((role, microservice)): Path<(String, String)>,
) -> Result<Json<Vec<Value>>, Refusal> {
    role_resources(&service, &claims, &role, Some(&microservice))
}

fn role_resources(
    service: &RightsService,
    claims: &Claims,
    role: &str,
    microservice: Option<&str>,
) -> Result<Json<Vec<Value>>, Refusal> {
    service
        .read(claims.tenant(), |rights| {
            let role_record = rights.role(role)?;
            Ok(rights
                .role_resources(role, microservice)?
                .into_iter()
                .map(|resource| wire::role_resource_model(rights, role_record, resource))
                .collect())
        })
        .map(Json)
}

/// `POST /roles/{role_name}/resources`: grants one resource, named by id or by microservice,
/// resource and verb.
pub async fn grant(
    State(service): Service,
    claims: Claims,
    Path(role): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    let message = r#"The body must name a resource access: {"id": ...} or {"microservice": "...", "resource": "...", "verb": "..."}"#;
    let body: ResourceRefBody = json_body(body, message)?;
    let resource = body
        .into_ref()
        .ok_or(Refusal(StatusCode::UNPROCESSABLE_ENTITY, message))?;
    let name = caller_role_name(claims.role());
    let caller = caller(claims.role(), &name);
    let model = service
        .change(claims.tenant(), |rights| {
            let (id, changes) = rights.grant(&role, &resource, caller)?;
            let resource = rights.resource(id).ok_or(NO_SUCH_RESOURCE)?;
            let model = wire::role_resource_model(rights, rights.role(&role)?, resource);
            Ok((model, changes))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(model)))
}

/// `DELETE /roles/{role_name}/resources/{resources_access_id}`: revokes one resource.
pub async fn revoke(
    State(service): Service,
    claims: Claims,
    Path((role, id)): Path<(String, String)>,
) -> Result<StatusCode, Refusal> {
    let id = id.parse::<u64>().map_err(|_| {
        Refusal(
            StatusCode::BAD_REQUEST,
            "A resource access id is a whole number",
        )
    })?;
    let name = caller_role_name(claims.role());
    let caller = caller(claims.role(), &name);
    service
        .change(claims.tenant(), |rights| {
            Ok(((), rights.revoke(&role, id, caller)?))
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
