//! A project's rights as rs-admin states them, and the decision REGARDS takes for a request.
//!
//! A [`ProjectRights`] is built once per refresh from rs-admin's answers and never changes: the
//! request path only reads it. Per role it holds the set of this service's endpoints the role is
//! granted (a bit per declared endpoint) and the role's address filter.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::SystemTime;

use regex::{Regex, RegexBuilder};

use super::address::any_address_text;
use super::endpoint::Endpoints;
use crate::AuthError;
use crate::role::{Role, RoleHierarchy};

/// A role as rs-admin lists it (`GET /roles`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AdminRole {
    pub(crate) name: String,
    pub(crate) parent: Option<String>,
    pub(crate) native: bool,
    pub(crate) authorized_addresses: Vec<String>,
}

/// An endpoint a role is granted, as rs-admin lists it (`GET /roles/{role}/resources/{ms}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AdminResource {
    pub(crate) resource: String,
    pub(crate) verb: String,
}

/// The administered rights of one project, for this service's endpoints.
#[derive(Debug)]
pub(crate) struct ProjectRights {
    roles: HashMap<Role, RoleRights>,
    /// Custom roles and their parents, as rs-admin's role tree has them.
    parents: Vec<(String, String)>,
    /// When rs-admin's answers were read.
    pub(crate) fetched_at: SystemTime,
}

#[derive(Debug)]
struct RoleRights {
    /// Bit `i` set: the role is granted endpoint `i`.
    granted: Box<[u64]>,
    addresses: Addresses,
}

/// A role's address filter (REGARDS' `authorizedAddresses`).
#[derive(Debug)]
enum Addresses {
    /// No restriction.
    Anywhere,
    /// The client address must match this: the administrators' patterns as one alternation,
    /// each matching the whole address.
    Only(Regex),
    /// An administrator wrote a pattern that does not compile: the role is refused everywhere
    /// until it is fixed (failing closed), and the refresh logged it.
    Invalid,
}

/// How much memory one role's patterns may take once compiled. Patterns come from
/// administrators over HTTP; a few KiB of text cannot legitimately need more.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// What the names of one role gather: its grants (a bit per endpoint), its address patterns,
/// and the names it goes by.
type Pool<'a> = (Box<[u64]>, Vec<&'a str>, Vec<&'a str>);

/// What a refresh found worth a log line.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct BuildReport {
    /// Roles whose address patterns do not compile.
    pub(crate) invalid_patterns: Vec<String>,
    /// Grants of endpoints this service does not declare (registered by an older version).
    pub(crate) unknown_endpoints: usize,
}

impl ProjectRights {
    /// The rights from rs-admin's roles and, per role name, the endpoints it is granted.
    pub(crate) fn build(
        endpoints: &Endpoints,
        roles: &[AdminRole],
        grants: &HashMap<String, Vec<AdminResource>>,
        fetched_at: SystemTime,
    ) -> (Self, BuildReport) {
        let words = endpoints.len().div_ceil(64);
        let mut report = BuildReport::default();
        // Names that are the same role (`X` and `ROLE_X`, as REGARDS' RoleAuthority reads them)
        // pool their grants and their address patterns, as REGARDS' authorities do.
        let mut pooled: HashMap<Role, Pool<'_>> = HashMap::with_capacity(roles.len());
        for role in roles {
            let (granted, patterns, names) = pooled
                .entry(Role::from_name(&role.name))
                .or_insert_with(|| (vec![0u64; words].into_boxed_slice(), Vec::new(), Vec::new()));
            for resource in grants.get(&role.name).into_iter().flatten() {
                match endpoints.position(&resource.verb, &resource.resource) {
                    Some(index) => granted[index / 64] |= 1 << (index % 64),
                    None => report.unknown_endpoints += 1,
                }
            }
            patterns.extend(role.authorized_addresses.iter().map(String::as_str));
            names.push(&role.name);
        }
        let by_role = pooled
            .into_iter()
            .map(|(role, (granted, patterns, names))| {
                let addresses = compile(&patterns).unwrap_or_else(|| {
                    report
                        .invalid_patterns
                        .extend(names.iter().map(|&name| name.to_owned()));
                    Addresses::Invalid
                });
                (role, RoleRights { granted, addresses })
            })
            .collect();
        let parents = roles
            .iter()
            .filter(|role| !role.native)
            .filter_map(|role| Some((role.name.clone(), role.parent.clone()?)))
            .collect();
        let rights = ProjectRights {
            roles: by_role,
            parents,
            fetched_at,
        };
        (rights, report)
    }

    /// The custom roles and their parents.
    pub(crate) fn parents(&self) -> impl Iterator<Item = (&str, &str)> {
        self.parents
            .iter()
            .map(|(role, parent)| (role.as_str(), parent.as_str()))
    }

    /// How many roles rs-admin listed.
    pub(crate) fn role_count(&self) -> usize {
        self.roles.len()
    }
}

/// Compiles a role's patterns as Java's `Pattern.matcher(address).matches()` reads them: each
/// must match the whole address. `None` if one does not compile on its own, as it is written:
/// only then is it wrapped, so that no pattern can close the group it is put in
/// (`1)|(.*` is refused, as Java refuses it).
fn compile(patterns: &[&str]) -> Option<Addresses> {
    if patterns.is_empty() {
        return Some(Addresses::Anywhere);
    }
    let build = |pattern: &str| {
        RegexBuilder::new(pattern)
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .ok()
    };
    for pattern in patterns {
        build(pattern)?;
    }
    let alternation: Vec<String> = patterns.iter().map(|p| format!("(?:{p})")).collect();
    build(&format!("^(?:{})$", alternation.join("|"))).map(Addresses::Only)
}

/// What the managed decision needs to know of a request.
pub(crate) struct Caller<'a> {
    pub(crate) role: &'a Role,
    pub(crate) anonymous: bool,
}

/// REGARDS' decision for `caller` on endpoint `endpoint` (declared with `default_role`), given
/// the project's administered rights (`None` before the first successful fetch) and a way to
/// learn the client address (only asked when the caller's role has an address filter).
///
/// The order is REGARDS' filter chain: the address filter (`IPFilter`, 401), then the voters,
/// then the endpoint's granted roles (403). The voters: system roles and INSTANCE_ADMIN pass;
/// an endpoint whose default role is PUBLIC is open to every caller (REGARDS'
/// `InstancePublicAccessVoter`, on in every service); PROJECT_ADMIN passes, except on endpoints
/// whose default role is INSTANCE_ADMIN (a deliberate difference: REGARDS' project-admin voter
/// would let any project's administrator call instance-wide endpoints).
pub(crate) fn decide(
    caller: &Caller<'_>,
    endpoint: usize,
    default_role: &Role,
    rights: Option<&ProjectRights>,
    fallback: Fallback<'_>,
    client_address: impl FnOnce() -> Option<IpAddr>,
) -> Result<(), AuthError> {
    let role = caller.role;
    let exempt_from_address_filter = matches!(role, Role::System(_) | Role::InstanceAdmin);
    let role_rights = rights.and_then(|rights| rights.roles.get(role));
    if !exempt_from_address_filter && let Some(role_rights) = role_rights {
        address_filter(&role_rights.addresses, client_address)?;
    }
    if matches!(role, Role::System(_) | Role::InstanceAdmin) || *default_role == Role::Public {
        return Ok(());
    }
    if *default_role == Role::InstanceAdmin {
        // Instance-wide endpoints: REGARDS decides them from the instance's rights, which no
        // project's administrator changes; a grant within a project does not open them.
        return Err(if caller.anonymous {
            AuthError::MissingCredentials
        } else {
            AuthError::InsufficientRole
        });
    }
    if *role == Role::ProjectAdmin {
        return Ok(());
    }
    let granted = match (rights, fallback) {
        (Some(_), _) => role_rights.is_some_and(|role_rights| {
            role_rights
                .granted
                .get(endpoint / 64)
                .is_some_and(|word| word & (1 << (endpoint % 64)) != 0)
        }),
        (None, Fallback::Defaults(hierarchy)) => hierarchy.reaches(role, default_role),
        (None, Fallback::Refuse) => return Err(AuthError::RightsUnavailable),
    };
    match (granted, caller.anonymous) {
        (true, _) => Ok(()),
        (false, true) => Err(AuthError::MissingCredentials),
        (false, false) => Err(AuthError::InsufficientRole),
    }
}

/// How to decide for a project whose rights were never fetched.
#[derive(Clone, Copy)]
pub(crate) enum Fallback<'a> {
    /// From the endpoint's default role, through this hierarchy (the native one unless
    /// configured).
    Defaults(&'a RoleHierarchy),
    /// Refuse (REGARDS' own behaviour: no rights loaded, no access).
    Refuse,
}

fn address_filter(
    addresses: &Addresses,
    client_address: impl FnOnce() -> Option<IpAddr>,
) -> Result<(), AuthError> {
    let allowed = match addresses {
        Addresses::Anywhere => true,
        Addresses::Invalid => false,
        Addresses::Only(patterns) => client_address()
            .is_some_and(|address| any_address_text(address, |text| patterns.is_match(text))),
    };
    if allowed {
        Ok(())
    } else {
        Err(AuthError::AddressNotAllowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::fixtures::{endpoints, grant, role};

    fn rights(roles: &[AdminRole], grants: &[(&str, Vec<AdminResource>)]) -> ProjectRights {
        let grants = grants
            .iter()
            .map(|(name, list)| ((*name).to_owned(), list.clone()))
            .collect();
        ProjectRights::build(&endpoints(), roles, &grants, SystemTime::UNIX_EPOCH).0
    }

    fn decide_for(
        role: &Role,
        endpoint: usize,
        rights: Option<&ProjectRights>,
        address: &str,
    ) -> Result<(), AuthError> {
        let hierarchy = RoleHierarchy::new();
        let default_role = endpoints().get(endpoint).unwrap().access().role().clone();
        decide(
            &Caller {
                role,
                anonymous: false,
            },
            endpoint,
            &default_role,
            rights,
            Fallback::Defaults(&hierarchy),
            || address.parse().ok(),
        )
    }

    #[test]
    fn granted_role_passes_and_others_are_refused() {
        let rights = rights(
            &[role("EXPLOIT", &[]), role("REGISTERED_USER", &[])],
            &[("EXPLOIT", vec![grant("GET", "/recipients")])],
        );
        assert_eq!(decide_for(&Role::Exploit, 1, Some(&rights), ""), Ok(()));
        assert_eq!(
            decide_for(&Role::RegisteredUser, 1, Some(&rights), ""),
            Err(AuthError::InsufficientRole)
        );
        assert_eq!(
            decide_for(&Role::Exploit, 0, Some(&rights), ""),
            Err(AuthError::InsufficientRole)
        );
    }

    #[test]
    fn grants_match_exactly_without_hierarchy() {
        // rs-admin propagates grants itself: a role above a granted one is not granted unless
        // rs-admin says so.
        let rights = rights(
            &[role("EXPLOIT", &[]), role("ADMIN", &[])],
            &[("EXPLOIT", vec![grant("GET", "/recipients")])],
        );
        assert_eq!(
            decide_for(&Role::Admin, 1, Some(&rights), ""),
            Err(AuthError::InsufficientRole)
        );
    }

    #[test]
    fn super_and_system_roles_pass_without_grants() {
        let rights = rights(&[role("PROJECT_ADMIN", &[])], &[]);
        for role in [
            Role::ProjectAdmin,
            Role::InstanceAdmin,
            Role::System("rs-catalog".into()),
        ] {
            assert_eq!(decide_for(&role, 0, Some(&rights), ""), Ok(()), "{role}");
        }
    }

    #[test]
    fn unknown_role_is_refused_once_rights_are_known() {
        let rights = rights(&[role("EXPLOIT", &[])], &[]);
        assert_eq!(
            decide_for(&Role::Custom("GHOST".into()), 1, Some(&rights), ""),
            Err(AuthError::InsufficientRole)
        );
    }

    #[test]
    fn custom_role_granted_by_name() {
        let rights = rights(
            &[role("NOTIFIER_OPERATOR", &[])],
            &[("NOTIFIER_OPERATOR", vec![grant("PUT", "/rule")])],
        );
        assert_eq!(
            decide_for(
                &Role::Custom("NOTIFIER_OPERATOR".into()),
                0,
                Some(&rights),
                ""
            ),
            Ok(())
        );
    }

    #[test]
    fn before_any_fetch_defaults_decide_through_the_native_hierarchy() {
        assert_eq!(decide_for(&Role::Admin, 1, None, ""), Ok(()));
        assert_eq!(
            decide_for(&Role::RegisteredUser, 1, None, ""),
            Err(AuthError::InsufficientRole)
        );
        assert_eq!(
            decide_for(&Role::Admin, 0, None, ""),
            Err(AuthError::InsufficientRole)
        );
    }

    #[test]
    fn strict_fallback_refuses_all_but_super_roles() {
        let strict = |role: &Role| {
            decide(
                &Caller {
                    role,
                    anonymous: false,
                },
                1,
                &Role::Exploit,
                None,
                Fallback::Refuse,
                || None,
            )
        };
        assert_eq!(strict(&Role::Admin), Err(AuthError::RightsUnavailable));
        assert_eq!(strict(&Role::ProjectAdmin), Ok(()));
    }

    #[test]
    fn anonymous_caller_refused_is_asked_for_credentials() {
        let rights = rights(&[role("PUBLIC", &[])], &[]);
        let verdict = decide(
            &Caller {
                role: &Role::Public,
                anonymous: true,
            },
            1,
            &Role::Exploit,
            Some(&rights),
            Fallback::Refuse,
            || None,
        );
        assert_eq!(verdict, Err(AuthError::MissingCredentials));
    }

    fn decide_on(
        role: &Role,
        default_role: &Role,
        rights: Option<&ProjectRights>,
    ) -> Result<(), AuthError> {
        decide(
            &Caller {
                role,
                anonymous: false,
            },
            0,
            default_role,
            rights,
            Fallback::Refuse,
            || None,
        )
    }

    #[test]
    fn public_default_endpoints_are_open_to_every_caller_as_regards_public_voter() {
        // Granted to nobody, known role or not, rights read or not.
        let rights = rights(&[role("PUBLIC", &[])], &[]);
        for caller in [
            Role::Public,
            Role::RegisteredUser,
            Role::Custom("GHOST".into()),
        ] {
            assert_eq!(
                decide_on(&caller, &Role::Public, Some(&rights)),
                Ok(()),
                "{caller}"
            );
            assert_eq!(decide_on(&caller, &Role::Public, None), Ok(()), "{caller}");
        }
    }

    #[test]
    fn public_default_endpoints_still_filter_addresses() {
        let rights = rights(&[role("REGISTERED_USER", &[r"10\..*"])], &[]);
        let verdict = decide(
            &Caller {
                role: &Role::RegisteredUser,
                anonymous: false,
            },
            0,
            &Role::Public,
            Some(&rights),
            Fallback::Refuse,
            || "192.0.2.1".parse().ok(),
        );
        assert_eq!(verdict, Err(AuthError::AddressNotAllowed));
    }

    #[test]
    fn project_admin_does_not_pass_instance_admin_endpoints() {
        let rights = rights(&[role("PROJECT_ADMIN", &[])], &[]);
        assert_eq!(
            decide_on(&Role::ProjectAdmin, &Role::InstanceAdmin, Some(&rights)),
            Err(AuthError::InsufficientRole)
        );
        // Whether rights were read or not: project rights never decide instance endpoints.
        assert_eq!(
            decide_on(&Role::ProjectAdmin, &Role::InstanceAdmin, None),
            Err(AuthError::InsufficientRole)
        );
        assert_eq!(
            decide_on(&Role::InstanceAdmin, &Role::InstanceAdmin, None),
            Ok(())
        );
        assert_eq!(decide_on(&Role::ProjectAdmin, &Role::Admin, None), Ok(()));
    }

    #[test]
    fn address_filter_allows_matching_ipv4_and_ipv6() {
        let rights = rights(
            &[role("EXPLOIT", &[r"192\.0\.2\.\d+", "0:0:0:0:0:0:0:1"])],
            &[("EXPLOIT", vec![grant("GET", "/recipients")])],
        );
        assert_eq!(
            decide_for(&Role::Exploit, 1, Some(&rights), "192.0.2.7"),
            Ok(())
        );
        assert_eq!(decide_for(&Role::Exploit, 1, Some(&rights), "::1"), Ok(()));
        assert_eq!(
            decide_for(&Role::Exploit, 1, Some(&rights), "198.51.100.1"),
            Err(AuthError::AddressNotAllowed)
        );
        assert_eq!(
            decide_for(&Role::Exploit, 1, Some(&rights), "2001:db8::1"),
            Err(AuthError::AddressNotAllowed)
        );
    }

    #[test]
    fn address_patterns_match_the_whole_address() {
        let rights = rights(
            &[role("EXPLOIT", &[r"192\.0\.2\.1"])],
            &[("EXPLOIT", vec![grant("GET", "/recipients")])],
        );
        assert_eq!(
            decide_for(&Role::Exploit, 1, Some(&rights), "192.0.2.17"),
            Err(AuthError::AddressNotAllowed)
        );
    }

    #[test]
    fn unknown_client_address_fails_a_restricted_role() {
        let rights = rights(
            &[role("EXPLOIT", &[".*"])],
            &[("EXPLOIT", vec![grant("GET", "/recipients")])],
        );
        assert_eq!(
            decide_for(&Role::Exploit, 1, Some(&rights), "not an address"),
            Err(AuthError::AddressNotAllowed)
        );
    }

    #[test]
    fn project_admin_is_address_filtered_but_instance_admin_and_system_are_not() {
        let rights = rights(
            &[
                role("PROJECT_ADMIN", &[r"10\..*"]),
                role("INSTANCE_ADMIN", &[r"10\..*"]),
            ],
            &[],
        );
        assert_eq!(
            decide_for(&Role::ProjectAdmin, 0, Some(&rights), "192.0.2.1"),
            Err(AuthError::AddressNotAllowed)
        );
        assert_eq!(
            decide_for(&Role::ProjectAdmin, 0, Some(&rights), "10.1.1.1"),
            Ok(())
        );
        assert_eq!(
            decide_for(&Role::InstanceAdmin, 0, Some(&rights), "192.0.2.1"),
            Ok(())
        );
    }

    #[test]
    fn invalid_pattern_denies_the_role_and_is_reported() {
        let roles = [role("EXPLOIT", &["(unclosed", r"192\.0\.2\.7"])];
        let grants = HashMap::from([("EXPLOIT".to_owned(), vec![grant("GET", "/recipients")])]);
        let (rights, report) =
            ProjectRights::build(&endpoints(), &roles, &grants, SystemTime::UNIX_EPOCH);
        assert_eq!(report.invalid_patterns, ["EXPLOIT"]);
        assert_eq!(
            decide_for(&Role::Exploit, 1, Some(&rights), "192.0.2.7"),
            Err(AuthError::AddressNotAllowed)
        );
    }

    #[test]
    fn pathological_patterns_compile_in_bounded_time_and_size() {
        // A backtracking engine takes exponential time on this; a linear one does not care.
        let rights = rights(
            &[role("EXPLOIT", &["(a+)+$", "(x+x+)+y"])],
            &[("EXPLOIT", vec![grant("GET", "/recipients")])],
        );
        assert_eq!(
            decide_for(&Role::Exploit, 1, Some(&rights), "192.0.2.7"),
            Err(AuthError::AddressNotAllowed)
        );
        // A pattern whose compiled form is huge is refused, not built.
        let huge = "(a|b|c|d){1000}".repeat(50);
        assert_eq!(compile(&[&huge]).map(|_| ()), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 256, ..Default::default() })]

        /// Whatever roles, patterns and grants administrators write, building the rights and
        /// deciding from them answers, never panics; an invalid pattern only refuses its role.
        #[test]
        fn any_administered_rights_decide_without_panic(
            names in proptest::collection::vec("[A-Z_]{0,10}", 1..6),
            patterns in proptest::collection::vec("[ -~]{0,16}", 0..4),
            verbs in proptest::collection::vec("[A-Z]{0,7}", 0..4),
            paths in proptest::collection::vec("[ -~]{0,16}", 0..4),
            address in proptest::num::u32::ANY,
        ) {
            let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
            let roles: Vec<AdminRole> = names.iter().map(|name| role(name, &patterns)).collect();
            let granted: Vec<AdminResource> = verbs
                .iter()
                .zip(&paths)
                .map(|(verb, path)| grant(verb, path))
                .chain([grant("GET", "/recipients")])
                .collect();
            let grants: Vec<(&str, Vec<AdminResource>)> =
                names.iter().map(|name| (name.as_str(), granted.clone())).collect();
            let rights = rights(&roles, &grants);
            let client = std::net::Ipv4Addr::from(address).to_string();
            for name in &names {
                let role = Role::from_name(name);
                let _ = decide_for(&role, 0, Some(&rights), &client);
                let _ = decide_for(&role, 1, Some(&rights), &client);
            }
        }
    }

    #[test]
    fn a_pattern_that_closes_its_group_is_invalid_as_in_java() {
        // Java's Pattern.compile refuses it; wrapped blindly it would match every address.
        let rights = rights(
            &[role("EXPLOIT", &[r"10\.0\.0\.1)|(.*"])],
            &[("EXPLOIT", vec![grant("GET", "/recipients")])],
        );
        assert_eq!(
            decide_for(&Role::Exploit, 1, Some(&rights), "203.0.113.9"),
            Err(AuthError::AddressNotAllowed)
        );
    }

    #[test]
    fn names_of_the_same_role_pool_their_grants_and_addresses() {
        // rs-admin may list both `ADMIN` and a custom `ROLE_ADMIN`: both are REGARDS' ADMIN.
        let rights = rights(
            &[
                role("ADMIN", &[r"10\..*"]),
                role("ROLE_ADMIN", &[r"192\.0\.2\..*"]),
            ],
            &[
                ("ADMIN", vec![grant("PUT", "/rule")]),
                ("ROLE_ADMIN", vec![grant("GET", "/recipients")]),
            ],
        );
        for (endpoint, address) in [
            (0, "10.1.1.1"),
            (1, "10.1.1.1"),
            (0, "192.0.2.1"),
            (1, "192.0.2.1"),
        ] {
            assert_eq!(
                decide_for(&Role::Admin, endpoint, Some(&rights), address),
                Ok(())
            );
        }
        assert_eq!(
            decide_for(&Role::Admin, 1, Some(&rights), "203.0.113.1"),
            Err(AuthError::AddressNotAllowed)
        );
    }

    #[test]
    fn grants_within_a_project_do_not_open_instance_endpoints() {
        let rights = rights(
            &[role("PROJECT_ADMIN", &[]), role("ADMIN", &[])],
            &[
                ("PROJECT_ADMIN", vec![grant("PUT", "/rule")]),
                ("ADMIN", vec![grant("PUT", "/rule")]),
            ],
        );
        for caller in [Role::ProjectAdmin, Role::Admin] {
            assert_eq!(
                decide_on(&caller, &Role::InstanceAdmin, Some(&rights)),
                Err(AuthError::InsufficientRole),
                "{caller}"
            );
        }
        assert_eq!(
            decide_on(
                &Role::System("rs-admin".into()),
                &Role::InstanceAdmin,
                Some(&rights)
            ),
            Ok(())
        );
    }

    #[test]
    fn grants_of_undeclared_endpoints_are_counted_and_ignored() {
        let grants = HashMap::from([(
            "EXPLOIT".to_owned(),
            vec![grant("GET", "/old"), grant("GET", "/recipients")],
        )]);
        let (rights, report) = ProjectRights::build(
            &endpoints(),
            &[role("EXPLOIT", &[])],
            &grants,
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(report.unknown_endpoints, 1);
        assert_eq!(decide_for(&Role::Exploit, 1, Some(&rights), ""), Ok(()));
    }

    #[test]
    fn role_prefix_of_admin_names_is_the_same_role() {
        let rights = rights(
            &[role("ROLE_EXPLOIT", &[])],
            &[("ROLE_EXPLOIT", vec![grant("GET", "/recipients")])],
        );
        // `ROLE_X` is `X`, as REGARDS' RoleAuthority reads it, in rs-admin's answers and in
        // tokens alike.
        assert_eq!(decide_for(&Role::Exploit, 1, Some(&rights), ""), Ok(()));
        assert_eq!(
            decide_for(&Role::from_name("ROLE_EXPLOIT"), 1, Some(&rights), ""),
            Ok(())
        );
    }
}
