//! rs-admin's `MicroserviceResourceController`: what the microservices register, and what a
//! caller may see of it.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use regards_auth::Claims;
use serde_json::Value;

use super::super::gateway::{Refusal, page_request};
use super::wire::{self, ADMIN_BASE, ResourceMappingBody};
use super::{RightsService, caller, caller_role_name, json_body};

type Service = State<Arc<RightsService>>;

/// `POST /resources/microservices/{microservicename}`: a microservice registers its endpoints.
/// 200 with no body.
pub async fn register(
    State(service): Service,
    claims: Claims,
    Path(microservice): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, Refusal> {
    let message = "The body must be a JSON array of resource mappings";
    let mappings: Vec<Option<ResourceMappingBody>> = json_body(body, message)?;
    // Gson reads a null element as null, and REGARDS skips it.
    let mappings = mappings
        .into_iter()
        .flatten()
        .map(ResourceMappingBody::into_mapping)
        .collect::<Option<Vec<_>>>()
        .ok_or(Refusal(
            StatusCode::BAD_REQUEST,
            "resourceAccess.role must be one of REGARDS' default roles",
        ))?;
    let name = caller_role_name(claims.role());
    let caller = caller(claims.role(), &name);
    service
        .change(claims.tenant(), |rights| {
            Ok(((), rights.register(&microservice, &mappings, caller)?))
        })
        .await?;
    Ok(StatusCode::OK)
}

/// `GET /resources/microservices/{microservicename}?page=&size=`: one page of the
/// microservice's resources the caller may see, by id.
pub async fn list(
    State(service): Service,
    claims: Claims,
    Path(microservice): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, Refusal> {
    let (number, size) = page_request(query.as_deref().unwrap_or_default())?;
    let name = caller_role_name(claims.role());
    let caller = caller(claims.role(), &name);
    service
        .read(claims.tenant(), |rights| {
            let resources = rights.microservice_resources(&microservice, caller)?;
            let total = resources.len();
            let page = resources
                .into_iter()
                .skip(number.saturating_mul(size))
                .take(size)
                .map(|resource| wire::entity_model(wire::resource_json(resource), Vec::new()))
                .collect();
            let href = format!(
                "{ADMIN_BASE}/resources/microservices/{}?page={number}&size={size}",
                form_urlencoded::byte_serialize(microservice.as_bytes()).collect::<String>()
            );
            Ok(wire::paged_model(page, href, size, total, number))
        })
        .map(Json)
}

/// `GET /resources/microservices/{microservicename}/controllers`: the controllers whose
/// resources the caller may manage, sorted.
pub async fn controllers(
    State(service): Service,
    claims: Claims,
    Path(microservice): Path<String>,
) -> Result<Json<Vec<String>>, Refusal> {
    let name = caller_role_name(claims.role());
    let caller = caller(claims.role(), &name);
    service
        .read(claims.tenant(), |rights| {
            Ok(rights
                .controllers(&microservice, caller)
                .into_iter()
                .map(str::to_owned)
                .collect())
        })
        .map(Json)
}

/// `GET /resources/microservices/{microservicename}/controllers/{controllername}`: that
/// controller's resources the caller may manage, by path.
pub async fn controller_resources(
    State(service): Service,
    claims: Claims,
    Path((microservice, controller)): Path<(String, String)>,
) -> Result<Json<Vec<Value>>, Refusal> {
    let name = caller_role_name(claims.role());
    let caller = caller(claims.role(), &name);
    service
        .read(claims.tenant(), |rights| {
            Ok(rights
                .controller_resources(&microservice, &controller, caller)
                .into_iter()
                .map(|resource| wire::entity_model(wire::resource_json(resource), Vec::new()))
                .collect())
        })
        .map(Json)
}
