//! What the managed-access unit tests share: rs-notifier-like endpoints, and rs-admin's roles and
//! grants as its answers are read.

use http::Method;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

use super::rights::{AdminRole, BuildReport, GrantSet, ProjectRights};
use super::{Endpoint, Endpoints, ResourceAccess};
use crate::Role;

/// `PUT /rule` (PROJECT_ADMIN, index 0), `GET /recipients` (EXPLOIT, index 1), `GET /search`
/// (PUBLIC, index 2).
pub(crate) fn endpoints() -> Endpoints {
    Endpoints::new([
        Endpoint::new(
            Method::PUT,
            "/rule",
            "RuleController",
            ResourceAccess::new("Import a rule", Role::ProjectAdmin),
        ),
        Endpoint::new(
            Method::GET,
            "/recipients",
            "RecipientController",
            ResourceAccess::new("List recipients", Role::Exploit),
        ),
        Endpoint::new(
            Method::GET,
            "/search",
            "SearchController",
            ResourceAccess::new("Search", Role::Public),
        ),
    ])
    .unwrap()
}

/// A role as `GET /roles` lists it, restricted to `addresses`.
pub(crate) fn role(name: &str, addresses: &[&str]) -> AdminRole {
    AdminRole {
        name: name.into(),
        parent: None,
        native: Role::from_name(name).native_name() == Some(name),
        authorized_addresses: Ok(addresses.iter().map(|&a| a.to_owned()).collect()),
    }
}

/// An endpoint a role is granted (verb, path), as `GET /roles/{role}/resources/{ms}` lists it.
pub(crate) fn grant(verb: &str, resource: &str) -> (String, String) {
    (verb.into(), resource.into())
}

/// The rights built from `roles` and, per name rs-admin reads grants under, the endpoints of
/// [`endpoints`] granted (undeclared ones ignored, as the reader does).
pub(crate) fn build(
    roles: &[AdminRole],
    grants: &[(&str, Vec<(String, String)>)],
    previous: Option<&ProjectRights>,
) -> (ProjectRights, BuildReport) {
    let declared = endpoints();
    let grants: HashMap<String, GrantSet> = grants
        .iter()
        .map(|(name, list)| {
            let mut set = GrantSet::empty(declared.len());
            for (verb, path) in list {
                if let Some(index) = declared.position(verb, path) {
                    set.insert(index);
                }
            }
            ((*name).to_owned(), set)
        })
        .collect();
    let abandoned = AtomicBool::new(false);
    ProjectRights::build(
        declared.len(),
        roles.to_vec(),
        &grants,
        previous,
        SystemTime::UNIX_EPOCH,
        &abandoned,
    )
    .expect("not abandoned")
}
