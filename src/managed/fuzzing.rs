//! What the `admin` fuzz target drives (`fuzz/fuzz_targets/admin.rs`): everything rs-admin and
//! proxies send on the way to a decision, without the network. Not part of the API.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

use http::{HeaderValue, Method, Request};

use super::admin::{RoleGrants, is_regards_error, read_grants, read_roles};
use super::rights::{Caller, Fallback, ProjectRights, decide};
use super::{Endpoint, Endpoints, ForwardedHeader, ResourceAccess, TrustedProxies};
use crate::Role;
use crate::role::RoleHierarchy;

/// What one input came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Roles read from the roles answer (0 if it was refused).
    pub roles: usize,
    /// Requests let through, out of one per role and endpoint.
    pub allowed: usize,
    /// Requests refused by an address filter.
    pub address_refusals: usize,
}

/// Reads `roles` as rs-admin's `GET /roles` answer and `grants` as every role's
/// `GET /roles/{role}/resources/rs-notifier` answer (also tried as a 404's body), builds the
/// project's rights as a refresh does, then decides each declared endpoint for each role, for
/// a client behind a trusted proxy at 10.0.0.1 that wrote `forwarded` into the forwarding
/// header it is trusted for (`X-Forwarded-For`, or `Forwarded` if `rfc7239`).
///
/// Panics only if a role whose address patterns were refused is let through, or if the
/// client address is not one the request names.
pub fn admin_answers(roles: &[u8], grants: &[u8], forwarded: &[u8], rfc7239: bool) -> Outcome {
    let endpoints = endpoints();
    let _ = is_regards_error(grants);
    let Ok(roles) = read_roles(roles) else {
        return Outcome::default();
    };
    let granted = match read_grants(grants, "rs-notifier", &endpoints) {
        Ok(RoleGrants::Granted { set, .. }) => Some(set),
        _ => None,
    };
    let grants: HashMap<String, _> = roles
        .iter()
        .filter_map(|role| Some((role.grants_name().to_owned(), granted.clone()?)))
        .collect();
    let (rights, report) = ProjectRights::build(
        endpoints.len(),
        roles.clone(),
        &grants,
        None,
        SystemTime::UNIX_EPOCH,
        &AtomicBool::new(false),
    )
    .expect("never abandoned here");

    let header = if rfc7239 {
        ForwardedHeader::Forwarded
    } else {
        ForwardedHeader::XForwardedFor
    };
    let proxies = TrustedProxies::new(["10.0.0.1", "::ffff:10.0.0.2"])
        .expect("valid networks")
        .reading(header);
    let mut request = Request::new(());
    if let Ok(value) = HeaderValue::from_bytes(forwarded) {
        let name = match header {
            ForwardedHeader::Forwarded => "forwarded",
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
        };
        request.headers_mut().insert(name, value);
    }
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            4711,
        )));
    let client = proxies.client_address(&request);
    if let Some(client) = client {
        let text = String::from_utf8_lossy(forwarded);
        // IPv6 (IPv4-mapped included) has many spellings; an IPv4 client is written as is.
        let named = client == IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))
            || text.contains(&client.to_string())
            || text.contains(':');
        assert!(
            named,
            "client {client} is neither the peer nor in the header"
        );
    }

    let hierarchy = RoleHierarchy::new();
    let mut outcome = Outcome {
        roles: roles.len(),
        ..Outcome::default()
    };
    for role in &roles {
        let caller_role = Role::from_name(&role.name);
        let refused_patterns = report
            .refused_patterns
            .iter()
            .any(|(name, _)| Role::from_name(name) == caller_role);
        for (index, endpoint) in endpoints.iter().enumerate() {
            let caller = Caller {
                role: &caller_role,
                anonymous: false,
            };
            let verdict = decide(
                &caller,
                index,
                endpoint.access().role(),
                Some(&rights),
                Fallback::Defaults(&hierarchy),
                || client,
            );
            let exempt = matches!(caller_role, Role::System(_) | Role::InstanceAdmin);
            match verdict {
                Ok(()) => {
                    assert!(
                        exempt || !refused_patterns,
                        "{caller_role} passed with refused address patterns"
                    );
                    outcome.allowed += 1;
                }
                Err(crate::AuthError::AddressNotAllowed) => outcome.address_refusals += 1,
                Err(_) => {}
            }
        }
    }
    outcome
}

fn endpoints() -> Endpoints {
    let declare = |method, path: &str, role| {
        Endpoint::new(
            method,
            path,
            "RuleController",
            ResourceAccess::new("An endpoint", role),
        )
    };
    Endpoints::new([
        declare(Method::PUT, "/rule", Role::ProjectAdmin),
        declare(Method::GET, "/recipients", Role::Exploit),
        declare(Method::GET, "/search", Role::Public),
        declare(Method::GET, "/accounts", Role::InstanceAdmin),
    ])
    .expect("valid endpoints")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restricted_role_is_decided_from_the_forwarded_client() {
        let roles =
            br#"[{"content":{"name":"EXPLOIT","authorizedAddresses":["192\\.0\\.2\\..*"]}}]"#;
        let grants = br#"[{"content":{"resource":"/recipients","verb":"GET"}}]"#;
        let inside = admin_answers(roles, grants, b"192.0.2.7", false);
        assert_eq!(inside.roles, 1);
        // GET /recipients (granted) and GET /search (PUBLIC default).
        assert_eq!(inside.allowed, 2);
        let outside = admin_answers(roles, grants, b"for=203.0.113.9", true);
        assert_eq!(outside.allowed, 0);
        assert_eq!(outside.address_refusals, 4);
    }
}
