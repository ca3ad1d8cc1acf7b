//! rs-admin: the project users and the access rights of every project (roles, the resources
//! the microservices register, which role may call which), with REGARDS' paths, payloads and
//! default roles. The rights live in [`rights`] (plain data and functions); the HTTP handlers
//! in [`roles`] and [`resources`]; the JSON in [`wire`].

pub mod rights;

mod resources;
mod roles;
mod ui;
mod users;
mod wire;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{Method, StatusCode};
use regards_auth::Role;
use serde::de::DeserializeOwned;

use super::events::{RightsEvent, RightsEvents};
use super::gateway::{BuiltMicroservice, Microservice, Refusal};
use rights::{Caller, Changes, ProjectRights, RightsError};

/// rs-admin's endpoints, with REGARDS' default role for each.
pub fn microservice(service: std::sync::Arc<RightsService>) -> BuiltMicroservice {
    const RESOURCES: &str = "/resources/microservices/{microservicename}";
    // What REGARDS' web client needs besides (`ui`), then the rest.
    ui::endpoints(Microservice::new("rs-admin"))
        .endpoint(
            Method::GET,
            "/users/myuser",
            Role::RegisteredUser,
            "retrieve the current authenticated project user and only display metadata",
            "ProjectUsersController",
            users::my_user,
        )
        .endpoint(
            Method::GET,
            "/roles",
            Role::Exploit,
            "Endpoint to retrieve the list of roles sorted by name",
            "RoleController",
            roles::list,
        )
        .endpoint(
            Method::POST,
            "/roles",
            Role::ProjectAdmin,
            "Create a role",
            "RoleController",
            roles::create,
        )
        .endpoint(
            Method::GET,
            "/roles/{role_name}",
            Role::Exploit,
            "Retrieve a role by name",
            "RoleController",
            roles::get,
        )
        .endpoint(
            Method::PUT,
            "/roles/{role_name}",
            Role::ProjectAdmin,
            "Update the role of role_name with passed body",
            "RoleController",
            roles::update,
        )
        .endpoint(
            Method::DELETE,
            "/roles/{role_name}",
            Role::ProjectAdmin,
            "Remove the role of role_name",
            "RoleController",
            roles::delete,
        )
        .endpoint(
            Method::GET,
            "/roles/{role_name}/resources",
            Role::ProjectAdmin,
            "Get all resource accesses of a role",
            "RoleResourceController",
            roles::resources,
        )
        // REGARDS declares no @ResourceAccess here: only microservices call it, with system
        // tokens, which pass; PROJECT_ADMIN is what its voters let through otherwise.
        .endpoint(
            Method::GET,
            "/roles/{role_name}/resources/{microservice}",
            Role::ProjectAdmin,
            "Get the resource accesses of a role for one microservice",
            "RoleResourceController",
            roles::resources_of_microservice,
        )
        .endpoint(
            Method::POST,
            "/roles/{role_name}/resources",
            Role::ProjectAdmin,
            "Add access to one resource for a role",
            "RoleResourceController",
            roles::grant,
        )
        .endpoint(
            Method::DELETE,
            "/roles/{role_name}/resources/{resources_access_id}",
            Role::ProjectAdmin,
            "Remove one resource access from a role",
            "RoleResourceController",
            roles::revoke,
        )
        .endpoint(
            Method::GET,
            RESOURCES,
            Role::Public,
            "Retrieve accessible resource accesses of the user among the given microservice",
            "MicroserviceResourceController",
            resources::list,
        )
        .endpoint(
            Method::POST,
            RESOURCES,
            Role::InstanceAdmin,
            "Register all endpoints of a microservice",
            "MicroserviceResourceController",
            resources::register,
        )
        .endpoint(
            Method::GET,
            "/resources/microservices/{microservicename}/controllers",
            Role::ProjectAdmin,
            "Retrieve all resources for the given microservice and the given controller",
            "MicroserviceResourceController",
            resources::controllers,
        )
        .endpoint(
            Method::GET,
            "/resources/microservices/{microservicename}/controllers/{controllername}",
            Role::ProjectAdmin,
            "Retrieve all resources for the given microservice and the given controller",
            "MicroserviceResourceController",
            resources::controller_resources,
        )
        .with_state(service)
}

/// rs-admin's state: the rights of each project, and the bus its changes are published on.
pub struct RightsService {
    projects: Mutex<BTreeMap<String, ProjectRights>>,
    events: RightsEvents,
}

impl RightsService {
    /// The native roles of each project, no resource yet.
    pub fn new<'a>(projects: impl IntoIterator<Item = &'a String>, events: RightsEvents) -> Self {
        let projects = projects
            .into_iter()
            .map(|project| (project.clone(), ProjectRights::new()))
            .collect();
        RightsService {
            projects: Mutex::new(projects),
            events,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, ProjectRights>> {
        self.projects.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the rights of `project`.
    fn read<T>(
        &self,
        project: &str,
        read: impl FnOnce(&ProjectRights) -> Result<T, RightsError>,
    ) -> Result<T, Refusal> {
        let projects = self.lock();
        let rights = projects.get(project).ok_or(NO_SUCH_PROJECT)?;
        read(rights).map_err(refusal)
    }

    /// Changes the rights of `project`, then publishes what changed and waits for the
    /// subscribers (a bounded time) before the answer is sent.
    async fn change<T>(
        &self,
        project: &str,
        change: impl FnOnce(&mut ProjectRights) -> Result<(T, Changes), RightsError>,
    ) -> Result<T, Refusal> {
        let (value, changes) = {
            let mut projects = self.lock();
            let rights = projects.get_mut(project).ok_or(NO_SUCH_PROJECT)?;
            change(rights).map_err(refusal)?
        };
        let events = changes.into_iter().map(|(microservice, role)| RightsEvent {
            project: project.to_owned(),
            microservice,
            role,
        });
        self.events.publish(events).await;
        Ok(value)
    }
}

const NO_SUCH_PROJECT: Refusal = Refusal(StatusCode::NOT_FOUND, "No such project");

/// The caller's role as rs-admin's checks see it. REGARDS' `RoleAuthority` reads `X` and
/// `ROLE_X` as the same role.
fn caller_role_name(role: &Role) -> String {
    let name = role.to_string();
    match name.strip_prefix("ROLE_") {
        Some(stripped) if !stripped.is_empty() => stripped.to_owned(),
        _ => name,
    }
}

fn caller<'a>(role: &Role, name: &'a str) -> Caller<'a> {
    match role {
        Role::System(_) | Role::InstanceAdmin => Caller::Instance,
        Role::ProjectAdmin => Caller::ProjectAdmin,
        _ => Caller::Role(name),
    }
}

fn refusal(error: RightsError) -> Refusal {
    let status = match error {
        RightsError::BadRequest(_) => StatusCode::BAD_REQUEST,
        RightsError::Forbidden(_) => StatusCode::FORBIDDEN,
        RightsError::NotFound(_) => StatusCode::NOT_FOUND,
        RightsError::AlreadyExists(_) => StatusCode::CONFLICT,
        RightsError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Refusal(status, error.message())
}

/// A JSON body of type `T`, or a 4xx with `message` (the input is never quoted).
fn json_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    message: &'static str,
) -> Result<T, Refusal> {
    let body = body.map_err(|rejection| Refusal(rejection.status(), "The body cannot be read"))?;
    serde_json::from_slice(&body).map_err(|_| Refusal(StatusCode::BAD_REQUEST, message))
}
