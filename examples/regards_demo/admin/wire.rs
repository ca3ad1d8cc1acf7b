//! rs-admin's JSON, as REGARDS writes it with Gson (field names as declared in the Java
//! classes, null fields left out, enums by name) and reads it (unknown fields ignored).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::rights::{DefaultRole, Mapping, ProjectRights, Resource, ResourceRef, Role, RoleDraft};

/// Where rs-admin is behind the gateway; links point there.
pub const ADMIN_BASE: &str = "/api/v1/rs-admin";

// ---- answers ----------------------------------------------------------------------------

/// A link of Spring HATEOAS as REGARDS' Gson adapter writes it.
fn link(rel: &str, href: String) -> Value {
    json!({ "rel": rel, "href": href })
}

/// `EntityModel<T>`: the object and its links.
pub fn entity_model(content: Value, links: Vec<Value>) -> Value {
    json!({ "content": content, "links": links })
}

/// `Role`, its parent written whole, recursively; its permissions never.
pub fn role_json(rights: &ProjectRights, role: &Role) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), role.id.into());
    object.insert("name".into(), role.name.clone().into());
    let parent = role
        .parent
        .as_deref()
        .and_then(|name| rights.role(name).ok());
    if let Some(parent) = parent {
        object.insert("parentRole".into(), role_json(rights, parent));
    }
    // rs-admin reads a role saved without addresses back from its database as an empty list.
    let addresses = role.authorized_addresses.as_deref().unwrap_or_default();
    object.insert("authorizedAddresses".into(), json!(addresses));
    object.insert("isDefault".into(), role.is_default.into());
    object.insert("isNative".into(), role.is_native.into());
    Value::Object(object)
}

/// `EntityModel<Role>` with the links `RoleController` gives it.
pub fn role_model(rights: &ProjectRights, role: &Role) -> Value {
    let href = format!("{ADMIN_BASE}/roles/{}", role.name);
    let mut links = vec![link("self", href.clone())];
    if !role.is_native {
        links.push(link("update", href.clone()));
        links.push(link("delete", href.clone()));
    }
    if role.name != "PROJECT_ADMIN" && role.name != "INSTANCE_ADMIN" {
        links.push(link("manage-resource-access", format!("{href}/resources")));
    }
    links.push(link("list", format!("{ADMIN_BASE}/roles")));
    links.push(link(
        "borrowable",
        format!("{ADMIN_BASE}/roles/borrowables"),
    ));
    entity_model(role_json(rights, role), links)
}

/// `ResourcesAccess`.
pub fn resource_json(resource: &Resource) -> Value {
    json!({
        "id": resource.id,
        "description": resource.description,
        "microservice": resource.microservice,
        "controllerSimpleName": resource.controller,
        "resource": resource.path,
        "verb": resource.verb,
        "defaultRole": resource.default_role.name(),
    })
}

/// `EntityModel<ResourcesAccess>` as `RoleResourceController` answers it, for `role`.
pub fn role_resource_model(rights: &ProjectRights, role: &Role, resource: &Resource) -> Value {
    let list = format!("{ADMIN_BASE}/roles/{}/resources", role.name);
    let mut links = vec![link("list", list.clone()), link("create", list.clone())];
    if rights.is_removable(role, resource) {
        links.push(link("delete", format!("{list}/{}", resource.id)));
    }
    entity_model(resource_json(resource), links)
}

/// `PagedModel<EntityModel<T>>`: one page of objects and Spring's page metadata.
pub fn paged_model(
    page: Vec<Value>,
    self_href: String,
    size: usize,
    total: usize,
    number: usize,
) -> Value {
    json!({
        "content": page,
        "links": [link("self", self_href)],
        "metadata": {
            "size": size,
            "totalElements": total,
            "totalPages": total.div_ceil(size),
            "number": number,
        },
    })
}

// ---- requests ---------------------------------------------------------------------------

/// `ResourceMapping`, as a microservice registers it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceMappingBody {
    resource_access: Option<ResourceAccessBody>,
    full_path: Option<String>,
    controller_simple_name: Option<String>,
    method: Option<String>,
}

/// `@ResourceAccess`: the default role (PROJECT_ADMIN when absent) and the description.
#[derive(Deserialize)]
struct ResourceAccessBody {
    role: Option<String>,
    description: Option<String>,
}

impl ResourceMappingBody {
    /// The mapping, or `None` when its default role is not one of REGARDS' (Gson fails on it).
    pub fn into_mapping(self) -> Option<Mapping> {
        let access = match self.resource_access {
            None => None,
            Some(access) => {
                let role = match access.role {
                    None => DefaultRole::ProjectAdmin,
                    Some(name) => DefaultRole::from_name(&name)?,
                };
                let description = access
                    .description
                    .unwrap_or_else(|| "Missing description".to_owned());
                Some((role, description))
            }
        };
        Some(Mapping {
            path: self.full_path.unwrap_or_default(),
            verb: self.method.unwrap_or_default(),
            controller: self.controller_simple_name.unwrap_or_default(),
            access,
        })
    }
}

/// `Role` as a client sends it to create or update a role; its parent is named (or only
/// given by id, as REGARDS' web client may).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleBody {
    name: Option<String>,
    parent_role: Option<RoleRefBody>,
    authorized_addresses: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RoleRefBody {
    id: Option<u64>,
    name: Option<String>,
}

impl RoleBody {
    /// The draft, the parent resolved by id when only the id is given.
    pub fn into_draft(self, rights: &ProjectRights) -> RoleDraft {
        let parent = self.parent_role.and_then(|parent| match parent.name {
            Some(name) => Some(name),
            None => parent.id.and_then(|id| rights.role_named_by_id(id)),
        });
        RoleDraft {
            name: self.name,
            parent,
            authorized_addresses: self.authorized_addresses,
        }
    }
}

/// `ResourcesAccess` as a grant names it: its id, or its microservice, resource and verb.
#[derive(Deserialize)]
pub struct ResourceRefBody {
    id: Option<u64>,
    microservice: Option<String>,
    resource: Option<String>,
    verb: Option<String>,
}

impl ResourceRefBody {
    /// The reference, or `None` when the body names no resource.
    pub fn into_ref(self) -> Option<ResourceRef> {
        match (self.id, self.microservice, self.resource, self.verb) {
            (Some(id), ..) => Some(ResourceRef::Id(id)),
            (None, Some(microservice), Some(path), Some(verb)) => Some(ResourceRef::Key {
                microservice,
                path,
                verb,
            }),
            _ => None,
        }
    }
}
