//! rs-admin's access rights for one project, in memory, as REGARDS' `RoleService` and
//! `ResourcesService` keep them: the roles (natives and custom ones, each with a parent), the
//! resources the microservices registered, and for each role the explicit set of resources it
//! may call. rs-admin keeps the sets consistent when they change (a grant to a role reaches the
//! roles above it, a revocation the roles below it, custom roles move in the tree), so that a
//! microservice can decide by exact match.
//!
//! Plain data and plain functions, no HTTP: the HTTP layer turns tokens into a [`Caller`],
//! bodies into the inputs below and [`RightsError`]s into answers. Every change is a
//! transaction (all or nothing) and reports which roles' rights changed ([`Changes`]), for
//! the events REGARDS publishes.

use std::collections::{BTreeMap, BTreeSet};

/// At most this many roles per project, natives included.
pub const MAX_ROLES: usize = 256;
/// At most this many registered resources per project.
pub const MAX_RESOURCES: usize = 4096;
/// At most this many authorized addresses per role.
pub const MAX_ADDRESSES: usize = 32;

const PUBLIC: &str = "PUBLIC";
const ADMIN: &str = "ADMIN";
const PROJECT_ADMIN: &str = "PROJECT_ADMIN";
const INSTANCE_ADMIN: &str = "INSTANCE_ADMIN";

/// REGARDS' `DefaultRole`: the native roles an endpoint can declare as its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DefaultRole {
    /// `PUBLIC`
    Public,
    /// `REGISTERED_USER`
    RegisteredUser,
    /// `EXPLOIT`
    Exploit,
    /// `ADMIN`
    Admin,
    /// `PROJECT_ADMIN`
    ProjectAdmin,
    /// `INSTANCE_ADMIN`
    InstanceAdmin,
}

impl DefaultRole {
    /// The native roles in the order REGARDS creates them, each with its parent.
    const NATIVE_TREE: [(DefaultRole, Option<DefaultRole>); 6] = [
        (DefaultRole::Public, None),
        (DefaultRole::RegisteredUser, Some(DefaultRole::Public)),
        (DefaultRole::Exploit, Some(DefaultRole::RegisteredUser)),
        (DefaultRole::Admin, Some(DefaultRole::Exploit)),
        (DefaultRole::ProjectAdmin, None),
        (DefaultRole::InstanceAdmin, None),
    ];

    /// The REGARDS name (`REGISTERED_USER`).
    pub const fn name(self) -> &'static str {
        match self {
            DefaultRole::Public => PUBLIC,
            DefaultRole::RegisteredUser => "REGISTERED_USER",
            DefaultRole::Exploit => "EXPLOIT",
            DefaultRole::Admin => ADMIN,
            DefaultRole::ProjectAdmin => PROJECT_ADMIN,
            DefaultRole::InstanceAdmin => INSTANCE_ADMIN,
        }
    }

    /// The default role named `name`, exactly.
    pub fn from_name(name: &str) -> Option<DefaultRole> {
        DefaultRole::NATIVE_TREE
            .iter()
            .map(|&(role, _)| role)
            .find(|role| role.name() == name)
    }
}

/// A registered endpoint of a microservice (REGARDS' `ResourcesAccess`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Its id in this project.
    pub id: u64,
    /// What it does (`@ResourceAccess(description)`).
    pub description: String,
    /// The microservice that serves it.
    pub microservice: String,
    /// The simple name of the controller that serves it.
    pub controller: String,
    /// The path template (`/rule/{id}`).
    pub path: String,
    /// The HTTP method (`PUT`).
    pub verb: String,
    /// The role it is granted to when first registered.
    pub default_role: DefaultRole,
}

/// A role of the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Its id in this project.
    pub id: u64,
    /// Its name, unique in the project.
    pub name: String,
    /// The less privileged role it is attached to: none for PUBLIC, PROJECT_ADMIN and
    /// INSTANCE_ADMIN, always a native role for a custom role.
    pub parent: Option<String>,
    /// Java regexes a client address must match for this role; `None` or empty: anywhere.
    pub authorized_addresses: Option<Vec<String>>,
    /// The role new users get (REGISTERED_USER).
    pub is_default: bool,
    /// Whether it is one of REGARDS' native roles.
    pub is_native: bool,
    /// The ids of the resources it may call.
    permissions: BTreeSet<u64>,
}

impl Role {
    /// Whether the role may call the resource `id`.
    pub fn holds(&self, id: u64) -> bool {
        self.permissions.contains(&id)
    }
}

/// Who asks, as REGARDS' `RoleService` sees the caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// A system token (`ROLE_SYS_<microservice>`) or INSTANCE_ADMIN: sees and may do everything.
    Instance,
    /// PROJECT_ADMIN: may do everything in the project, sees all but instance-level resources.
    ProjectAdmin,
    /// Any other role, by name: manages only the roles at or below its own, grants only what it
    /// holds itself.
    Role(&'a str),
}

/// One endpoint a microservice registers (REGARDS' `ResourceMapping`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// `fullPath`: the path template.
    pub path: String,
    /// `method`: the HTTP method.
    pub verb: String,
    /// `controllerSimpleName`.
    pub controller: String,
    /// `resourceAccess`: the default role and the description; `None` when the endpoint has no
    /// `@ResourceAccess` (REGARDS then uses PROJECT_ADMIN and "Missing description").
    pub access: Option<(DefaultRole, String)>,
}

/// Which resource a grant names: by id, or by what identifies it (microservice, path, verb).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRef {
    /// The resource's id.
    Id(u64),
    /// The microservice, the path template and the verb.
    Key {
        /// The microservice.
        microservice: String,
        /// The path template.
        path: String,
        /// The HTTP method.
        verb: String,
    },
}

/// A role as a client describes it to create or update it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleDraft {
    /// The role's name.
    pub name: Option<String>,
    /// The parent's name.
    pub parent: Option<String>,
    /// The authorized addresses.
    pub authorized_addresses: Option<Vec<String>>,
}

/// Why a request on the rights is refused; each carries a fixed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RightsError {
    /// The request is malformed (HTTP 400).
    BadRequest(&'static str),
    /// The caller may not do this (HTTP 403).
    Forbidden(&'static str),
    /// A role or resource named does not exist (HTTP 404).
    NotFound(&'static str),
    /// The role to create exists already (HTTP 409).
    AlreadyExists(&'static str),
    /// The request is well formed but its content is not acceptable (HTTP 422).
    Invalid(&'static str),
}

impl RightsError {
    /// The fixed message.
    pub fn message(self) -> &'static str {
        match self {
            RightsError::BadRequest(message)
            | RightsError::Forbidden(message)
            | RightsError::NotFound(message)
            | RightsError::AlreadyExists(message)
            | RightsError::Invalid(message) => message,
        }
    }
}

const NO_SUCH_ROLE: RightsError = RightsError::NotFound("No such role in this project");
/// A resource named by a request does not exist.
pub const NO_SUCH_RESOURCE: RightsError =
    RightsError::NotFound("No such resource access in this project");
const UNKNOWN_CALLER: RightsError =
    RightsError::Forbidden("The caller's role does not exist in this project");

/// What a change touched, for REGARDS' events: `(Some(microservice), role)` when the role's
/// rights on that microservice's resources changed (`ResourceAccessEvent`), `(None, role)` when
/// the role itself was created, updated or deleted (`RoleEvent`).
pub type Changes = BTreeSet<(Option<String>, String)>;

/// The access rights of one project.
#[derive(Debug, Clone)]
pub struct ProjectRights {
    roles: BTreeMap<String, Role>,
    resources: BTreeMap<u64, Resource>,
    last_role_id: u64,
    last_resource_id: u64,
}

impl Default for ProjectRights {
    fn default() -> Self {
        ProjectRights::new()
    }
}

impl ProjectRights {
    /// A project with REGARDS' native roles and their tree, and no resource yet.
    pub fn new() -> ProjectRights {
        let mut rights = ProjectRights {
            roles: BTreeMap::new(),
            resources: BTreeMap::new(),
            last_role_id: 0,
            last_resource_id: 0,
        };
        for (role, parent) in DefaultRole::NATIVE_TREE {
            rights.last_role_id += 1;
            rights.roles.insert(
                role.name().to_owned(),
                Role {
                    id: rights.last_role_id,
                    name: role.name().to_owned(),
                    parent: parent.map(|parent| parent.name().to_owned()),
                    authorized_addresses: None,
                    is_default: role == DefaultRole::RegisteredUser,
                    is_native: true,
                    permissions: BTreeSet::new(),
                },
            );
        }
        rights
    }

    // ---- reading ------------------------------------------------------------------------

    /// The role named `name`.
    pub fn role(&self, name: &str) -> Result<&Role, RightsError> {
        self.roles.get(name).ok_or(NO_SUCH_ROLE)
    }

    /// The name of the role whose id is `id`.
    pub fn role_named_by_id(&self, id: u64) -> Option<String> {
        self.roles
            .values()
            .find(|role| role.id == id)
            .map(|role| role.name.clone())
    }

    /// The resource `id`.
    pub fn resource(&self, id: u64) -> Option<&Resource> {
        self.resources.get(&id)
    }

    /// Every role, by name.
    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }

    /// Every registered resource, by id.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources.values()
    }

    /// The roles `caller` may manage, by name, INSTANCE_ADMIN never included (`GET /roles`).
    pub fn roles_for(&self, caller: Caller<'_>) -> Vec<&Role> {
        self.roles
            .values()
            .filter(|role| role.name != INSTANCE_ADMIN)
            .filter(|role| self.can_manage(caller, &role.name).is_ok())
            .collect()
    }

    /// The resources `role` may call, of one microservice or all, ordered by path then verb.
    pub fn role_resources(
        &self,
        role: &str,
        microservice: Option<&str>,
    ) -> Result<Vec<&Resource>, RightsError> {
        let role = self.role(role)?;
        let mut resources: Vec<&Resource> = self
            .resources_of(role)
            .filter(|resource| microservice.is_none_or(|ms| resource.microservice == ms))
            .collect();
        sort_by_path(&mut resources);
        Ok(resources)
    }

    /// A microservice's resources as `caller` may see them, ordered by id
    /// (`GET /resources/microservices/{ms}`): all for the instance, all but instance-level
    /// ones for PROJECT_ADMIN, the ones it holds for another role.
    pub fn microservice_resources(
        &self,
        microservice: &str,
        caller: Caller<'_>,
    ) -> Result<Vec<&Resource>, RightsError> {
        let of_microservice = |resource: &&Resource| resource.microservice == microservice;
        Ok(match caller {
            Caller::Instance => self.resources.values().filter(of_microservice).collect(),
            Caller::ProjectAdmin => self
                .resources
                .values()
                .filter(of_microservice)
                .filter(|resource| resource.default_role != DefaultRole::InstanceAdmin)
                .collect(),
            Caller::Role(name) => self
                .resources_of(self.role(name)?)
                .filter(of_microservice)
                .collect(),
        })
    }

    /// The controllers of a microservice whose resources `caller` may manage, sorted.
    pub fn controllers(&self, microservice: &str, caller: Caller<'_>) -> Vec<&str> {
        let controllers: BTreeSet<&str> = self
            .manageable_resources(microservice, caller)
            .into_iter()
            .map(|resource| resource.controller.as_str())
            .collect();
        controllers.into_iter().collect()
    }

    /// The resources of one controller that `caller` may manage, ordered by path then verb.
    pub fn controller_resources(
        &self,
        microservice: &str,
        controller: &str,
        caller: Caller<'_>,
    ) -> Vec<&Resource> {
        let mut resources: Vec<&Resource> = self
            .manageable_resources(microservice, caller)
            .into_iter()
            .filter(|resource| resource.controller == controller)
            .collect();
        sort_by_path(&mut resources);
        resources
    }

    /// Whether revoking `resource` from `role` can succeed: never from PROJECT_ADMIN, and from a
    /// custom role only what PUBLIC does not hold (a role cannot hold less than PUBLIC).
    pub fn is_removable(&self, role: &Role, resource: &Resource) -> bool {
        if role.is_native {
            return role.name != PROJECT_ADMIN;
        }
        !self.roles[PUBLIC].permissions.contains(&resource.id)
    }

    // ---- changing -----------------------------------------------------------------------

    /// Registers a microservice's endpoints (`ResourcesService.registerResources`): new ones are
    /// stored, an existing one (same path and verb) whose default role changed takes the new
    /// one, and each new or changed resource is granted to its default role, with propagation.
    /// Nothing is ever revoked.
    pub fn register(
        &mut self,
        microservice: &str,
        mappings: &[Mapping],
        caller: Caller<'_>,
    ) -> Result<Changes, RightsError> {
        check_microservice_name(microservice)?;
        for mapping in mappings {
            check_mapping(mapping)?;
        }
        self.transaction(|rights, changes| {
            let mut to_grant: BTreeMap<DefaultRole, BTreeSet<u64>> = BTreeMap::new();
            for mapping in mappings {
                let (default_role, description) = match &mapping.access {
                    Some((role, description)) => (*role, description.clone()),
                    None => (DefaultRole::ProjectAdmin, "Missing description".to_owned()),
                };
                let existing = rights.find(microservice, &mapping.path, &mapping.verb);
                let id = match existing {
                    Some(id) if rights.resources[&id].default_role == default_role => continue,
                    Some(id) => {
                        rights.resources.get_mut(&id).expect("found").default_role = default_role;
                        id
                    }
                    None => {
                        if rights.resources.len() >= MAX_RESOURCES {
                            return Err(RightsError::Invalid(
                                "This project holds too many resources to register more",
                            ));
                        }
                        rights.last_resource_id += 1;
                        let id = rights.last_resource_id;
                        let resource = Resource {
                            id,
                            description,
                            microservice: microservice.to_owned(),
                            controller: mapping.controller.clone(),
                            path: mapping.path.clone(),
                            verb: mapping.verb.clone(),
                            default_role,
                        };
                        rights.resources.insert(id, resource);
                        id
                    }
                };
                to_grant.entry(default_role).or_default().insert(id);
            }
            for (role, ids) in to_grant {
                rights.add_resources(role.name(), &ids, caller, changes)?;
            }
            Ok(())
        })
        .map(|((), changes)| changes)
    }

    /// Creates a custom role (`RoleService.createRole`) with a copy of its parent's rights. A
    /// custom parent is replaced by its own native parent (the copy is still the custom
    /// parent's rights).
    pub fn create_role(&mut self, draft: &RoleDraft) -> Result<(String, Changes), RightsError> {
        let name = draft
            .name
            .as_deref()
            .ok_or(RightsError::Invalid("A role needs a name"))?;
        check_role_name(name)?;
        check_addresses(draft.authorized_addresses.as_deref())?;
        if self.roles.contains_key(name) {
            return Err(RightsError::AlreadyExists(
                "A role with this name already exists",
            ));
        }
        if self.roles.len() >= MAX_ROLES {
            return Err(RightsError::Invalid(
                "This project holds too many roles to create more",
            ));
        }
        let parent = draft.parent.as_deref().ok_or(RightsError::Invalid(
            "A parent role is required to create a new role",
        ))?;
        let (native_parent, permissions) = self.parent_for_custom(parent)?;
        self.transaction(|rights, changes| {
            rights.last_role_id += 1;
            let role = Role {
                id: rights.last_role_id,
                name: name.to_owned(),
                parent: Some(native_parent),
                authorized_addresses: draft.authorized_addresses.clone(),
                is_default: false,
                is_native: false,
                permissions,
            };
            rights.roles.insert(name.to_owned(), role);
            changes.insert((None, name.to_owned()));
            Ok(name.to_owned())
        })
    }

    /// Updates a role (`RoleService.updateRole`): its authorized addresses, and for a custom
    /// role its parent, in which case it gets exactly the new parent's rights. A native role's
    /// parent cannot change (the body repeats it).
    pub fn update_role(&mut self, name: &str, draft: &RoleDraft) -> Result<Changes, RightsError> {
        if draft.name.as_deref() != Some(name) {
            return Err(RightsError::BadRequest(
                "The role's name in the body differs from the one in the path",
            ));
        }
        check_addresses(draft.authorized_addresses.as_deref())?;
        let role = self.role(name)?;
        let new_rights = if role.is_native {
            if draft.parent != role.parent {
                return Err(RightsError::Forbidden(
                    "Native role parent cannot be changed",
                ));
            }
            None
        } else {
            let parent = draft
                .parent
                .as_deref()
                .ok_or(RightsError::Invalid("A custom role needs a parent role"))?;
            if parent == name {
                return Err(RightsError::Invalid("A role cannot be its own parent"));
            }
            let (native_parent, permissions) = self.parent_for_custom(parent)?;
            // Naming the current parent again is no change: the role keeps what it was granted.
            (role.parent.as_deref() != Some(parent)).then_some((native_parent, permissions))
        };
        self.transaction(|rights, changes| {
            if let Some((native_parent, permissions)) = new_rights {
                let before = rights.roles[name].permissions.clone();
                let touched: BTreeSet<u64> =
                    before.symmetric_difference(&permissions).copied().collect();
                rights.record(changes, name, &touched);
                let role = rights.roles.get_mut(name).expect("checked above");
                role.permissions = permissions;
                role.parent = Some(native_parent);
            }
            let role = rights.roles.get_mut(name).expect("checked above");
            role.authorized_addresses = draft.authorized_addresses.clone();
            changes.insert((None, name.to_owned()));
            Ok(())
        })
        .map(|((), changes)| changes)
    }

    /// Deletes a custom role; native roles cannot be removed.
    pub fn delete_role(&mut self, name: &str) -> Result<Changes, RightsError> {
        if self.role(name)?.is_native {
            return Err(RightsError::Forbidden(
                "Modifications on native roles are forbidden",
            ));
        }
        self.roles.remove(name);
        Ok(Changes::from([(None, name.to_owned())]))
    }

    /// Grants a resource to a role (`RoleService.addResourceAccesses`): to a native role and,
    /// recursively, every role whose parent it is; to a custom role alone, which then moves
    /// under the most privileged native role whose rights it now includes.
    pub fn grant(
        &mut self,
        role: &str,
        resource: &ResourceRef,
        caller: Caller<'_>,
    ) -> Result<(u64, Changes), RightsError> {
        self.role(role)?;
        let id = match resource {
            ResourceRef::Id(id) => self.resource(*id).map(|resource| resource.id),
            ResourceRef::Key {
                microservice,
                path,
                verb,
            } => self.find(microservice, path, verb),
        }
        .ok_or(NO_SUCH_RESOURCE)?;
        // Instance-wide endpoints are the instance's to grant, not a project's (REGARDS keeps
        // their rights under the instance tenant).
        if self
            .resource(id)
            .is_some_and(|resource| resource.default_role == DefaultRole::InstanceAdmin)
        {
            return Err(RightsError::Forbidden(
                "Instance endpoints cannot be granted within a project",
            ));
        }
        self.transaction(|rights, changes| {
            rights.add_resources(role, &BTreeSet::from([id]), caller, changes)?;
            Ok(id)
        })
    }

    /// Revokes a resource from a role (`RoleService.removeResourcesAccesses`): from a native
    /// role and, recursively, its parents up to PUBLIC (a less privileged role cannot keep what
    /// a more privileged one lost), every custom role then moving under the most privileged
    /// native role whose rights it includes; from a custom role alone, which then moves down
    /// under a native role whose rights it still includes, or the revocation is refused.
    /// Revoking from PROJECT_ADMIN is forbidden.
    pub fn revoke(
        &mut self,
        role: &str,
        resource_id: u64,
        caller: Caller<'_>,
    ) -> Result<Changes, RightsError> {
        self.resource(resource_id).ok_or(NO_SUCH_RESOURCE)?;
        let target = self.role(role)?;
        let is_native = target.is_native;
        self.can_manage(caller, role)?;
        if role == PROJECT_ADMIN {
            return Err(RightsError::Forbidden(
                "Removing resource accesses from role PROJECT_ADMIN is forbidden",
            ));
        }
        let ids = BTreeSet::from([resource_id]);
        self.transaction(|rights, changes| {
            if is_native {
                let mut current = Some(role.to_owned());
                while let Some(name) = current {
                    rights.remove_from(&name, &ids, changes);
                    current = rights.roles[&name].parent.clone();
                }
                let custom: Vec<String> = rights
                    .roles
                    .values()
                    .filter(|role| !role.is_native)
                    .map(|role| role.name.clone())
                    .collect();
                for name in custom {
                    rights.move_under(&name, ADMIN)?;
                }
            } else {
                rights.remove_from(role, &ids, changes);
                let parent = rights.roles[role].parent.clone().unwrap_or_default();
                rights.move_under(role, &parent)?;
            }
            Ok(())
        })
        .map(|((), changes)| changes)
    }

    // ---- the rules ----------------------------------------------------------------------

    /// Whether `caller` may manage `target` (`RoleService.canManageRole`): privileged callers
    /// always; another role when the target (for a custom target, its native parent) is in its
    /// own lineage, and never PROJECT_ADMIN.
    fn can_manage(&self, caller: Caller<'_>, target: &str) -> Result<(), RightsError> {
        let Caller::Role(caller) = caller else {
            return Ok(());
        };
        let current = self.roles.get(caller).ok_or(UNKNOWN_CALLER)?;
        let target = self.role(target)?;
        let native_target = if target.is_native {
            target.name.as_str()
        } else {
            target.parent.as_deref().unwrap_or(PUBLIC)
        };
        let in_lineage = native_target != PROJECT_ADMIN
            && self
                .lineage(&current.name)
                .any(|ancestor| ancestor.name == native_target);
        if in_lineage {
            Ok(())
        } else {
            Err(RightsError::Forbidden(
                "A user can only manage roles hierarchically inferior or equal to its own",
            ))
        }
    }

    /// Whether `caller` holds every resource it grants (`RoleService.canAddResourceAccesses`).
    fn can_add(&self, caller: Caller<'_>, ids: &BTreeSet<u64>) -> Result<(), RightsError> {
        let Caller::Role(caller) = caller else {
            return Ok(());
        };
        let current = self.roles.get(caller).ok_or(UNKNOWN_CALLER)?;
        if ids.is_subset(&current.permissions) {
            Ok(())
        } else {
            Err(RightsError::Forbidden(
                "A user can only grant resource accesses it holds itself",
            ))
        }
    }

    fn add_resources(
        &mut self,
        role: &str,
        ids: &BTreeSet<u64>,
        caller: Caller<'_>,
        changes: &mut Changes,
    ) -> Result<(), RightsError> {
        self.can_manage(caller, role)?;
        self.can_add(caller, ids)?;
        if self.roles[role].is_native {
            self.add_and_propagate(role, ids, changes);
            Ok(())
        } else {
            self.add_to(role, ids, changes);
            self.move_under(role, ADMIN)
        }
    }

    /// Adds to `role` and to every role whose parent it is, recursively.
    fn add_and_propagate(&mut self, role: &str, ids: &BTreeSet<u64>, changes: &mut Changes) {
        self.add_to(role, ids, changes);
        let sons: Vec<String> = self
            .roles
            .values()
            .filter(|son| son.parent.as_deref() == Some(role))
            .map(|son| son.name.clone())
            .collect();
        for son in sons {
            self.add_and_propagate(&son, ids, changes);
        }
    }

    fn add_to(&mut self, role: &str, ids: &BTreeSet<u64>, changes: &mut Changes) {
        let permissions = &mut self.roles.get_mut(role).expect("a known role").permissions;
        let before = permissions.len();
        permissions.extend(ids);
        if permissions.len() != before {
            self.record(changes, role, ids);
        }
    }

    fn remove_from(&mut self, role: &str, ids: &BTreeSet<u64>, changes: &mut Changes) {
        let permissions = &mut self.roles.get_mut(role).expect("a known role").permissions;
        let before = permissions.len();
        permissions.retain(|id| !ids.contains(id));
        if permissions.len() != before {
            self.record(changes, role, ids);
        }
    }

    /// Attaches custom `role` to the first role, from `start` down to PUBLIC, whose rights it
    /// includes (`RoleService.manageParent`); refused when not even PUBLIC's.
    fn move_under(&mut self, role: &str, start: &str) -> Result<(), RightsError> {
        let permissions = &self.roles[role].permissions;
        let parent = self
            .lineage(start)
            .find(|candidate| candidate.permissions.is_subset(permissions))
            .map(|parent| parent.name.clone())
            .ok_or(RightsError::Forbidden(
                "A role cannot have less accesses than PUBLIC: the removal is cancelled",
            ))?;
        self.roles.get_mut(role).expect("a known role").parent = Some(parent);
        Ok(())
    }

    /// `name`, its parent, its parent's parent... up to a role without parent.
    fn lineage<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Role> + 'a {
        let first = self.roles.get(name);
        // The tree has natives at most four deep and custom roles under natives only; the
        // bound guards against a cycle all the same.
        std::iter::successors(first, |role| {
            role.parent
                .as_ref()
                .and_then(|parent| self.roles.get(parent))
        })
        .take(MAX_ROLES)
    }

    /// The parent and the rights of a custom role created or moved under `parent`.
    fn parent_for_custom(&self, parent: &str) -> Result<(String, BTreeSet<u64>), RightsError> {
        let parent = self
            .roles
            .get(parent)
            .ok_or(RightsError::NotFound("The parent role does not exist"))?;
        if parent.name == INSTANCE_ADMIN {
            return Err(RightsError::Forbidden(
                "A project role cannot be placed under INSTANCE_ADMIN",
            ));
        }
        let native_parent = if parent.is_native {
            parent.name.clone()
        } else {
            parent.parent.clone().unwrap_or_else(|| PUBLIC.to_owned())
        };
        Ok((native_parent, parent.permissions.clone()))
    }

    fn record(&self, changes: &mut Changes, role: &str, ids: &BTreeSet<u64>) {
        for id in ids {
            if let Some(resource) = self.resources.get(id) {
                changes.insert((Some(resource.microservice.clone()), role.to_owned()));
            }
        }
    }

    fn resources_of<'a>(&'a self, role: &'a Role) -> impl Iterator<Item = &'a Resource> + 'a {
        role.permissions
            .iter()
            .filter_map(|id| self.resources.get(id))
    }

    /// The resources of a microservice `caller` may manage, instance-level ones excluded.
    fn manageable_resources(&self, microservice: &str, caller: Caller<'_>) -> Vec<&Resource> {
        let manageable = |resource: &&Resource| {
            resource.microservice == microservice
                && resource.default_role != DefaultRole::InstanceAdmin
        };
        match caller {
            Caller::Role(name) => match self.roles.get(name) {
                Some(role) => self.resources_of(role).filter(manageable).collect(),
                None => Vec::new(),
            },
            Caller::Instance | Caller::ProjectAdmin => {
                self.resources.values().filter(manageable).collect()
            }
        }
    }

    fn find(&self, microservice: &str, path: &str, verb: &str) -> Option<u64> {
        self.resources
            .values()
            .find(|resource| {
                resource.microservice == microservice
                    && resource.path == path
                    && resource.verb == verb
            })
            .map(|resource| resource.id)
    }

    /// Runs `change` on `self`; when it fails, `self` is left as it was (REGARDS' services are
    /// transactional).
    fn transaction<T>(
        &mut self,
        change: impl FnOnce(&mut ProjectRights, &mut Changes) -> Result<T, RightsError>,
    ) -> Result<(T, Changes), RightsError> {
        let before = self.clone();
        let mut changes = Changes::new();
        match change(self, &mut changes) {
            Ok(value) => Ok((value, changes)),
            Err(error) => {
                *self = before;
                Err(error)
            }
        }
    }
}

fn sort_by_path(resources: &mut [&Resource]) {
    resources.sort_by(|a, b| (&a.path, &a.verb, a.id).cmp(&(&b.path, &b.verb, b.id)));
}

/// The HTTP methods Spring's `RequestMethod` names.
const VERBS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
];

fn check_microservice_name(name: &str) -> Result<(), RightsError> {
    let valid = (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte));
    if valid {
        Ok(())
    } else {
        Err(RightsError::BadRequest(
            "A microservice name is 1 to 32 ASCII letters, digits, '.', '_' or '-'",
        ))
    }
}

fn check_mapping(mapping: &Mapping) -> Result<(), RightsError> {
    let path_ok = mapping.path.starts_with('/')
        && mapping.path.len() <= 512
        && !mapping.path.chars().any(char::is_control);
    let controller_ok = (1..=256).contains(&mapping.controller.len());
    let description_ok = mapping
        .access
        .as_ref()
        .is_none_or(|(_, description)| description.len() <= 1024);
    if path_ok && controller_ok && description_ok && VERBS.contains(&mapping.verb.as_str()) {
        Ok(())
    } else {
        Err(RightsError::Invalid(
            "Each resource mapping needs a fullPath starting with '/' (512 bytes at most), an \
             HTTP method and a controllerSimpleName (256 bytes at most)",
        ))
    }
}

fn check_role_name(name: &str) -> Result<(), RightsError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"_-".contains(&byte))
        && !name.starts_with("ROLE_")
        && !name.starts_with("SYS_");
    if valid {
        Ok(())
    } else {
        Err(RightsError::Invalid(
            "A role name is 1 to 64 ASCII letters, digits, '_' or '-', not starting with ROLE_ \
             or SYS_",
        ))
    }
}

fn check_addresses(addresses: Option<&[String]>) -> Result<(), RightsError> {
    let addresses = addresses.unwrap_or_default();
    let valid = addresses.len() <= MAX_ADDRESSES
        && addresses
            .iter()
            .all(|address| address.len() <= 256 && !address.chars().any(char::is_control));
    if valid {
        Ok(())
    } else {
        Err(RightsError::Invalid(
            "A role has at most 32 authorized addresses of 256 bytes at most",
        ))
    }
}
