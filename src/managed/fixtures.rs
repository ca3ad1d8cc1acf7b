//! What the managed-access unit tests share: rs-notifier-like endpoints, and rs-admin's roles and
//! grants as its answers are read.

use http::Method;

use super::rights::{AdminResource, AdminRole};
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
        native: false,
        authorized_addresses: addresses.iter().map(|&a| a.to_owned()).collect(),
    }
}

/// An endpoint a role is granted, as `GET /roles/{role}/resources/{ms}` lists it.
pub(crate) fn grant(verb: &str, resource: &str) -> AdminResource {
    AdminResource {
        resource: resource.into(),
        verb: verb.into(),
    }
}
