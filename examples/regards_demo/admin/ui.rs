//! What REGARDS' web client asks rs-admin besides the roles and grants: the endpoints the
//! caller may call (`ResourceController`), from which it decides every button it shows, the
//! roles the caller may borrow and the roles that hold one endpoint (`RoleController`).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Method, StatusCode};
use regards_auth::{Claims, Role};
use serde_json::Value;

use super::super::gateway::{Microservice, Refusal, page_request};
use super::rights::{self, Caller, DefaultRole, ProjectRights, RightsError};
use super::wire::{self, ADMIN_BASE};
use super::{RightsService, caller, caller_role_name};

type Service = State<Arc<RightsService>>;

/// Adds these endpoints to rs-admin's, with REGARDS' default roles. `GET /roles/borrowables`
/// and `GET /roles/resources/{resourceId}` are more specific than `GET /roles/{role_name}`
/// and `GET /roles/{role_name}/resources/{microservice}`: both the router and managed access
/// prefer them, as Spring does.
pub fn endpoints(
    microservice: Microservice<Arc<RightsService>>,
) -> Microservice<Arc<RightsService>> {
    microservice
        .endpoint(
            Method::GET,
            "/resources",
            Role::Public,
            "Retrieve accessible resource accesses of the user among the system",
            "ResourceController",
            accessible_resources,
        )
        .endpoint(
            Method::GET,
            "/roles/borrowables",
            Role::Public,
            "Retrieve the list of borrowable roles for the current user",
            "RoleController",
            borrowable_roles,
        )
        .endpoint(
            Method::GET,
            "/roles/resources/{resourceId}",
            Role::Exploit,
            "Retrieve the list of roles associated to the given resource",
            "RoleController",
            roles_with_resource,
        )
}

/// `GET /resources?page=&size=`: one page, by id, of every endpoint the caller may call: all
/// for the instance, all but instance-level ones for PROJECT_ADMIN, its role's grants
/// otherwise (`ResourcesService.retrieveRessources`). REGARDS answers a role's grants all in
/// one page whatever the size asked; the demo pages them as the others.
async fn accessible_resources(
    State(service): Service,
    claims: Claims,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, Refusal> {
    let (number, size) = page_request(query.as_deref().unwrap_or_default())?;
    let name = caller_role_name(claims.role());
    let caller = caller(claims.role(), &name);
    service
        .read(claims.tenant(), |rights| {
            let resources = accessible(rights, caller)?;
            let total = resources.len();
            let page = resources
                .into_iter()
                .skip(number.saturating_mul(size))
                .take(size)
                .map(|resource| wire::entity_model(wire::resource_json(resource), Vec::new()))
                .collect();
            let href = format!("{ADMIN_BASE}/resources?page={number}&size={size}");
            Ok(wire::paged_model(page, href, size, total, number))
        })
        .map(Json)
}

fn accessible<'a>(
    rights: &'a ProjectRights,
    caller: Caller<'_>,
) -> Result<Vec<&'a rights::Resource>, RightsError> {
    let all = rights.resources();
    Ok(match caller {
        Caller::Instance => all.collect(),
        Caller::ProjectAdmin => all
            .filter(|resource| resource.default_role != DefaultRole::InstanceAdmin)
            .collect(),
        Caller::Role(name) => {
            let role = rights.role(name)?;
            all.filter(|resource| role.holds(resource.id)).collect()
        }
    })
}

/// `GET /roles/borrowables`: the roles the caller may borrow (`RoleService
/// .retrieveBorrowableRoles`), least privileged first. Only ADMIN, PROJECT_ADMIN and the
/// roles right under them may borrow; any other caller gets its own role alone, and a caller
/// with no role in the project (an anonymous one, a system token) none.
async fn borrowable_roles(
    State(service): Service,
    claims: Claims,
) -> Result<Json<Vec<Value>>, Refusal> {
    let name = caller_role_name(claims.role());
    service
        .read(claims.tenant(), |rights| {
            let own = match rights.role(&name) {
                Ok(role) if !claims.is_anonymous() => role,
                _ => return Ok(Vec::new()),
            };
            Ok(borrowable(rights, own)
                .into_iter()
                .map(|role| wire::role_model(rights, role))
                .collect())
        })
        .map(Json)
}

const ADMIN: &str = "ADMIN";
const PROJECT_ADMIN: &str = "PROJECT_ADMIN";

fn borrowable<'a>(rights: &'a ProjectRights, own: &'a rights::Role) -> Vec<&'a rights::Role> {
    let may_borrow = |role: &rights::Role| role.name == ADMIN || role.name == PROJECT_ADMIN;
    let parent = own
        .parent
        .as_deref()
        .and_then(|name| rights.role(name).ok());
    if !may_borrow(own) && !parent.is_some_and(may_borrow) {
        return vec![own];
    }
    let mut names: BTreeSet<&str> = BTreeSet::from([own.name.as_str()]);
    match parent {
        Some(parent) => less_privileged(rights, parent, &mut names),
        // PROJECT_ADMIN has no parent, but borrows from ADMIN down.
        None if own.name == PROJECT_ADMIN => less_privileged(rights, own, &mut names),
        None => {}
    }
    let mut roles: Vec<&rights::Role> = names
        .into_iter()
        .filter_map(|name| rights.role(name).ok())
        .collect();
    roles.sort_by_key(|role| hierarchy_rank(rights, role));
    roles
}

/// REGARDS' "ascendants" of `role`: itself, then each role above it in the tree (ADMIN for
/// PROJECT_ADMIN) with all the roles attached to that one (`RoleService.getAscendants`).
fn less_privileged<'a>(
    rights: &'a ProjectRights,
    role: &'a rights::Role,
    names: &mut BTreeSet<&'a str>,
) {
    let mut current = role;
    // The native tree is four deep; the bound stands in case of a cycle.
    for _ in 0..rights::MAX_ROLES {
        names.insert(&current.name);
        let next = match current.parent.as_deref() {
            Some(parent) => parent,
            None if current.name == PROJECT_ADMIN => ADMIN,
            None => return,
        };
        let Ok(next) = rights.role(next) else { return };
        names.extend(
            rights
                .roles()
                .filter(|son| son.parent.as_deref() == Some(next.name.as_str()))
                .map(|son| son.name.as_str()),
        );
        current = next;
    }
}

/// Least privileged first: the natives in their order, each custom role right after its
/// parent, custom siblings by name. (REGARDS' `RoleHierarchyComparator` aims at this order; it
/// does not say how a custom role and its parent compare, and orders them as they come.)
fn hierarchy_rank<'a>(rights: &ProjectRights, role: &'a rights::Role) -> (usize, bool, &'a str) {
    let native_rank = |name: &str| {
        [
            "PUBLIC",
            "REGISTERED_USER",
            "EXPLOIT",
            ADMIN,
            PROJECT_ADMIN,
            "INSTANCE_ADMIN",
        ]
        .iter()
        .position(|native| *native == name)
        .unwrap_or(usize::MAX)
    };
    if role.is_native {
        (native_rank(&role.name), false, "")
    } else {
        let parent = role
            .parent
            .as_deref()
            .and_then(|name| rights.role(name).ok());
        let rank = parent.map_or(0, |parent| native_rank(&parent.name));
        (rank, true, &role.name)
    }
}

/// `GET /roles/resources/{resourceId}`: the roles that may call the resource, by name; none
/// for an unknown id (`RoleService.retrieveRolesWithResource`).
async fn roles_with_resource(
    State(service): Service,
    claims: Claims,
    Path(id): Path<String>,
) -> Result<Json<Vec<Value>>, Refusal> {
    let id = id.parse::<u64>().map_err(|_| {
        Refusal(
            StatusCode::BAD_REQUEST,
            "A resource access id is a whole number",
        )
    })?;
    service
        .read(claims.tenant(), |rights| {
            Ok(rights
                .roles()
                .filter(|role| role.holds(id))
                .map(|role| wire::role_model(rights, role))
                .collect())
        })
        .map(Json)
}
