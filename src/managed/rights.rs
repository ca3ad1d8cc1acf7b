//! A project's rights as rs-admin states them, and the decision REGARDS takes for a request.
//!
//! A [`ProjectRights`] is built once per refresh from rs-admin's answers and never changes: the
//! request path only reads it. Per role it holds the set of this service's endpoints the role is
//! granted (a bit per declared endpoint) and the role's address filter.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use super::address::any_address_text;
use super::patterns::{
    AddressPatterns, MAX_PATTERNS_PER_PROJECT, MAX_PATTERNS_PER_ROLE, MAX_PROJECT_MATCHERS,
    MAX_ROLE_MATCHER, Refusal,
};
use crate::AuthError;
use crate::role::{Role, RoleHierarchy};

/// A role as rs-admin lists it (`GET /roles`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AdminRole {
    pub(crate) name: String,
    pub(crate) parent: Option<String>,
    pub(crate) native: bool,
    /// Its address patterns, or why they were refused as they were read (too many, or one
    /// too long: none is kept then).
    pub(crate) authorized_addresses: Result<Vec<String>, Refusal>,
}

impl AdminRole {
    /// The name REGARDS reads this role's grants under (`GET /roles/{name}/resources/{ms}`):
    /// its name with one `ROLE_` prefix taken off, as `RoleAuthority.getRoleName` gives it.
    /// `ROLE_X`'s own grants are never read: rs-admin's `X`'s are, as by REGARDS.
    pub(crate) fn grants_name(&self) -> &str {
        self.name.strip_prefix("ROLE_").unwrap_or(&self.name)
    }

    /// Whether this is a role a project administrator created under a name that tokens read
    /// as INSTANCE_ADMIN or a system role (`ROLE_INSTANCE_ADMIN`, `SYS_x`, `ROLE_SYS_x`):
    /// whoever holds it would pass what only the instance's administrators and services pass.
    pub(crate) fn impersonates(&self) -> bool {
        !self.native
            && matches!(
                Role::from_name(&self.name),
                Role::InstanceAdmin | Role::System(_)
            )
    }
}

/// The endpoints one role is granted: bit `i` set for declared endpoint `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GrantSet {
    words: Box<[u64]>,
}

impl GrantSet {
    /// No endpoint, out of `endpoints` declared.
    pub(crate) fn empty(endpoints: usize) -> Self {
        GrantSet {
            words: vec![0; endpoints.div_ceil(64)].into_boxed_slice(),
        }
    }

    /// Grants endpoint `index`.
    pub(crate) fn insert(&mut self, index: usize) {
        if let Some(word) = self.words.get_mut(index / 64) {
            *word |= 1 << (index % 64);
        }
    }

    pub(crate) fn contains(&self, index: usize) -> bool {
        self.words
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    fn union(&mut self, other: &GrantSet) {
        for (word, other) in self.words.iter_mut().zip(other.words.iter()) {
            *word |= other;
        }
    }
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
    granted: GrantSet,
    addresses: Arc<AddressFilter>,
    /// rs-admin lists, in this project, a custom role that tokens read as this one (see
    /// [`AdminRole::impersonates`]): callers holding it are refused in this project.
    impersonated: bool,
}

/// A role's address filter (REGARDS' `authorizedAddresses`), with the patterns it was compiled
/// from, so that the next refresh reuses it while administrators leave them unchanged.
#[derive(Debug)]
struct AddressFilter {
    patterns: Vec<String>,
    /// `Ok(None)`: no restriction. `Err`: the patterns are refused (invalid or over budget):
    /// the role is refused everywhere until an administrator fixes them (failing closed).
    compiled: Result<Option<AddressPatterns>, Refusal>,
}

impl AddressFilter {
    fn refused(patterns: Vec<String>, refusal: Refusal) -> Self {
        AddressFilter {
            patterns,
            compiled: Err(refusal),
        }
    }

    /// The memory its matcher takes.
    fn memory_usage(&self) -> usize {
        match &self.compiled {
            Ok(Some(patterns)) => patterns.memory_usage(),
            _ => 0,
        }
    }

    /// Whether the next refresh may reuse it for the same patterns: a refusal for want of the
    /// project's budget depends on the other roles too.
    fn reusable_for(&self, patterns: &[String]) -> bool {
        self.patterns == patterns && self.compiled.as_ref().err() != Some(&Refusal::ProjectBudget)
    }
}

/// What a refresh found worth a log line: what changed since the rights it replaces.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct BuildReport {
    /// Roles whose address patterns are refused, and why (those refused alike before are left
    /// out).
    pub(crate) refused_patterns: Vec<(String, Refusal)>,
    /// Custom roles named like INSTANCE_ADMIN or a system role (those seen before are left
    /// out).
    pub(crate) impersonating: Vec<String>,
    /// Roles whose address patterns were compiled (the others' were reused or absent).
    pub(crate) compiled: usize,
}

/// The names of one role (`X` and `ROLE_X`), gathered: its grants and its address patterns.
struct Pooled {
    role: Role,
    names: Vec<String>,
    granted: GrantSet,
    patterns: Result<Vec<String>, Refusal>,
    impersonated: bool,
}

/// What is left of a project's budgets while its roles' patterns are compiled.
struct ProjectBudget {
    patterns: usize,
    matchers: usize,
}

impl ProjectBudget {
    /// `patterns`' filter: reused from `previous` if they did not change, else compiled within
    /// what is left; either way taken from what is left.
    fn filter(
        &mut self,
        patterns: Result<Vec<String>, Refusal>,
        previous: Option<&Arc<AddressFilter>>,
        report: &mut BuildReport,
    ) -> Arc<AddressFilter> {
        let patterns = match patterns {
            Err(refusal) => return Arc::new(AddressFilter::refused(Vec::new(), refusal)),
            Ok(patterns) if patterns.len() > MAX_PATTERNS_PER_ROLE => {
                return Arc::new(AddressFilter::refused(patterns, Refusal::TooMany));
            }
            Ok(patterns) if patterns.is_empty() => {
                return Arc::new(AddressFilter {
                    patterns,
                    compiled: Ok(None),
                });
            }
            Ok(patterns) if patterns.len() > self.patterns || self.matchers == 0 => {
                return Arc::new(AddressFilter::refused(patterns, Refusal::ProjectBudget));
            }
            Ok(patterns) => patterns,
        };
        // Only patterns compiled (or reused) count against the project's budgets: a role
        // refused before any work does not take other roles' share.
        self.patterns -= patterns.len();
        if let Some(previous) = previous.filter(|previous| previous.reusable_for(&patterns)) {
            self.matchers = self.matchers.saturating_sub(previous.memory_usage());
            return previous.clone();
        }
        report.compiled += 1;
        let limit = self.matchers.min(MAX_ROLE_MATCHER);
        let compiled = match AddressPatterns::compile(&patterns, limit) {
            Ok(compiled) => {
                self.matchers = self.matchers.saturating_sub(compiled.memory_usage());
                Ok(Some(compiled))
            }
            Err(Refusal::TooLarge) => {
                // What was allowed was attempted: it counts, so that a project's attempts are
                // bounded as its matchers are.
                self.matchers -= limit;
                Err(match limit < MAX_ROLE_MATCHER {
                    true => Refusal::ProjectBudget,
                    false => Refusal::TooLarge,
                })
            }
            Err(refusal) => Err(refusal),
        };
        Arc::new(AddressFilter { patterns, compiled })
    }
}

impl ProjectRights {
    /// The rights from rs-admin's `roles` and, per [grants name](AdminRole::grants_name), the
    /// endpoints it is granted, out of `endpoints` declared (a role absent from `grants` is
    /// granted nothing). Address patterns the `previous` rights compiled are reused when a
    /// role's did not change; the others are compiled within the budgets of
    /// [`patterns`](super::patterns): bounded work, yet callers on an async runtime run this on
    /// a blocking thread. `None` if `abandoned` is set meanwhile (the refresh waiting for it
    /// gave up).
    pub(crate) fn build(
        endpoints: usize,
        roles: Vec<AdminRole>,
        grants: &HashMap<String, GrantSet>,
        previous: Option<&ProjectRights>,
        fetched_at: SystemTime,
        abandoned: &AtomicBool,
    ) -> Option<(Self, BuildReport)> {
        let mut report = BuildReport::default();
        let parents = roles
            .iter()
            .filter(|role| !role.native)
            .filter_map(|role| Some((role.name.clone(), role.parent.clone()?)))
            .collect();
        // Names that are the same role (`X` and `ROLE_X`, as REGARDS' RoleAuthority reads them)
        // pool their grants and their address patterns, as REGARDS' authorities do. In rs-admin's
        // order, so that the project's pattern budget goes to the same roles every time.
        let mut pooled: Vec<Pooled> = Vec::with_capacity(roles.len());
        let mut index: HashMap<Role, usize> = HashMap::with_capacity(roles.len());
        for role in roles {
            let at = match index.entry(Role::from_name(&role.name)) {
                Entry::Occupied(entry) => *entry.get(),
                Entry::Vacant(entry) => {
                    pooled.push(Pooled {
                        role: entry.key().clone(),
                        names: Vec::new(),
                        granted: GrantSet::empty(endpoints),
                        patterns: Ok(Vec::new()),
                        impersonated: false,
                    });
                    *entry.insert(pooled.len() - 1)
                }
            };
            let pool = &mut pooled[at];
            if let Some(granted) = grants.get(role.grants_name()) {
                pool.granted.union(granted);
            }
            pool.impersonated |= role.impersonates();
            pool.patterns = match (
                std::mem::replace(&mut pool.patterns, Ok(Vec::new())),
                role.authorized_addresses,
            ) {
                (Ok(mut pooled), Ok(more)) => {
                    pooled.extend(more);
                    Ok(pooled)
                }
                (Err(refusal), _) | (_, Err(refusal)) => Err(refusal),
            };
            pool.names.push(role.name);
        }
        let mut budget = ProjectBudget {
            patterns: MAX_PATTERNS_PER_PROJECT,
            matchers: MAX_PROJECT_MATCHERS,
        };
        let mut by_role = HashMap::with_capacity(pooled.len());
        for pool in pooled {
            if abandoned.load(Ordering::Relaxed) {
                return None;
            }
            let before = previous.and_then(|previous| previous.roles.get(&pool.role));
            let addresses = budget.filter(
                pool.patterns,
                before.map(|before| &before.addresses),
                &mut report,
            );
            if let Err(refusal) = addresses.compiled {
                let known = before.is_some_and(|before| {
                    before.addresses.compiled.as_ref().err() == Some(&refusal)
                        && before.addresses.patterns == addresses.patterns
                });
                if !known {
                    report
                        .refused_patterns
                        .extend(pool.names.iter().map(|name| (name.clone(), refusal)));
                }
            }
            if pool.impersonated && !before.is_some_and(|before| before.impersonated) {
                report.impersonating.extend(pool.names.iter().cloned());
            }
            let rights = RoleRights {
                granted: pool.granted,
                addresses,
                impersonated: pool.impersonated,
            };
            by_role.insert(pool.role, rights);
        }
        let rights = ProjectRights {
            roles: by_role,
            parents,
            fetched_at,
        };
        Some((rights, report))
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
    let role_rights = rights.and_then(|rights| rights.roles.get(role));
    if role_rights.is_some_and(|role_rights| role_rights.impersonated) {
        // Whoever holds that name may be a project's custom role: nobody is trusted with it
        // in this project.
        return Err(AuthError::InsufficientRole);
    }
    let exempt_from_address_filter = matches!(role, Role::System(_) | Role::InstanceAdmin);
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
        (Some(_), _) => {
            role_rights.is_some_and(|role_rights| role_rights.granted.contains(endpoint))
        }
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
    addresses: &AddressFilter,
    client_address: impl FnOnce() -> Option<IpAddr>,
) -> Result<(), AuthError> {
    let allowed = match &addresses.compiled {
        Ok(None) => true,
        Err(_) => false,
        Ok(Some(patterns)) => client_address()
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
    use crate::managed::fixtures::{build, endpoints, grant, role};

    fn rights(roles: &[AdminRole], grants: &[(&str, Vec<(String, String)>)]) -> ProjectRights {
        build(roles, grants, None).0
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
        let (rights, report) = build(
            &roles,
            &[("EXPLOIT", vec![grant("GET", "/recipients")])],
            None,
        );
        assert_eq!(
            report.refused_patterns,
            [("EXPLOIT".to_owned(), Refusal::Invalid)]
        );
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
        let (_, report) = build(&[role("EXPLOIT", &["(a|b|c|d){1000}"])], &[], None);
        assert_eq!(
            report.refused_patterns,
            [("EXPLOIT".to_owned(), Refusal::TooLarge)]
        );
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
            let granted: Vec<(String, String)> = verbs
                .iter()
                .zip(&paths)
                .map(|(verb, path)| grant(verb, path))
                .chain([grant("GET", "/recipients")])
                .collect();
            let grants: Vec<(&str, Vec<(String, String)>)> =
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
    fn names_of_the_same_role_pool_their_addresses_and_share_the_bare_names_grants() {
        // rs-admin may list both `ADMIN` and a custom `ROLE_ADMIN`: both are REGARDS' ADMIN,
        // whose grants REGARDS reads under `ADMIN` (`RoleAuthority.getRoleName`).
        let rights = rights(
            &[
                role("ADMIN", &[r"10\..*"]),
                role("ROLE_ADMIN", &[r"192\.0\.2\..*"]),
            ],
            &[("ADMIN", vec![grant("PUT", "/rule")])],
        );
        for address in ["10.1.1.1", "192.0.2.1"] {
            assert_eq!(decide_for(&Role::Admin, 0, Some(&rights), address), Ok(()));
            assert_eq!(
                decide_for(&Role::Admin, 1, Some(&rights), address),
                Err(AuthError::InsufficientRole)
            );
        }
        assert_eq!(
            decide_for(&Role::Admin, 0, Some(&rights), "203.0.113.1"),
            Err(AuthError::AddressNotAllowed)
        );
    }

    #[test]
    fn grants_are_read_under_the_name_without_its_role_prefix() {
        let name = |listed: &str| role(listed, &[]).grants_name().to_owned();
        assert_eq!(name("CURATOR"), "CURATOR");
        assert_eq!(name("ROLE_CURATOR"), "CURATOR");
        assert_eq!(name("ROLE_ROLE_CURATOR"), "ROLE_CURATOR");
        assert_eq!(name("ROLE_SYS_rs-catalog"), "SYS_rs-catalog");
        assert_eq!(name("ROLE_"), "");
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
    fn role_prefix_of_admin_names_is_the_same_role() {
        // rs-admin's grants are read under `EXPLOIT`, as REGARDS reads them.
        let rights = rights(
            &[role("ROLE_EXPLOIT", &[])],
            &[("EXPLOIT", vec![grant("GET", "/recipients")])],
        );
        // `ROLE_X` is `X`, as REGARDS' RoleAuthority reads it, in rs-admin's answers and in
        // tokens alike.
        assert_eq!(decide_for(&Role::Exploit, 1, Some(&rights), ""), Ok(()));
        assert_eq!(
            decide_for(&Role::from_name("ROLE_EXPLOIT"), 1, Some(&rights), ""),
            Ok(())
        );
    }

    #[test]
    fn unchanged_patterns_are_reused_across_refreshes() {
        let roles = [
            role("EXPLOIT", &[r"10\..*"]),
            role("ADMIN", &[r"192\.0\.2\..*"]),
        ];
        let (first, report) = build(&roles, &[], None);
        assert_eq!(report.compiled, 2);
        let changed = [
            role("EXPLOIT", &[r"10\..*"]),
            role("ADMIN", &[r"198\.51\.100\..*"]),
        ];
        let (second, report) = build(&changed, &[], Some(&first));
        assert_eq!(report.compiled, 1, "only ADMIN's patterns changed");
        let filter = |rights: &ProjectRights, role: &Role| rights.roles[role].addresses.clone();
        assert!(Arc::ptr_eq(
            &filter(&first, &Role::Exploit),
            &filter(&second, &Role::Exploit)
        ));
        assert!(!Arc::ptr_eq(
            &filter(&first, &Role::Admin),
            &filter(&second, &Role::Admin)
        ));
        assert_eq!(
            decide_for(&Role::Admin, 2, Some(&second), "198.51.100.4"),
            Ok(())
        );
    }

    #[test]
    fn a_role_over_budget_is_refused_and_the_others_keep_working() {
        let too_many: Vec<String> = (0..=MAX_PATTERNS_PER_ROLE)
            .map(|i| format!(r"10\.0\.0\.{i}"))
            .collect();
        let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
        let (rights, report) = build(
            &[
                role("EXPLOIT", &too_many),
                role("ADMIN", &[r"10\..*"]),
                role("NOTIFIER_OPERATOR", &["(a|b|c|d){1000}"]),
            ],
            &[
                ("EXPLOIT", vec![grant("GET", "/recipients")]),
                ("ADMIN", vec![grant("GET", "/recipients")]),
            ],
            None,
        );
        assert_eq!(
            report.refused_patterns,
            [
                ("EXPLOIT".to_owned(), Refusal::TooMany),
                ("NOTIFIER_OPERATOR".to_owned(), Refusal::TooLarge)
            ]
        );
        assert_eq!(
            decide_for(&Role::Exploit, 1, Some(&rights), "10.0.0.1"),
            Err(AuthError::AddressNotAllowed)
        );
        assert_eq!(
            decide_for(&Role::Admin, 1, Some(&rights), "10.0.0.1"),
            Ok(())
        );
    }

    #[test]
    fn the_project_pattern_budget_goes_to_roles_in_rs_admins_order() {
        let full: Vec<String> = (0..MAX_PATTERNS_PER_ROLE)
            .map(|i| format!(r"10\.0\.0\.{i}"))
            .collect();
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        let roles_within_budget = MAX_PATTERNS_PER_PROJECT / MAX_PATTERNS_PER_ROLE;
        let names: Vec<String> = (0..=roles_within_budget)
            .map(|i| format!("ROLE{i}"))
            .collect();
        // A role refused before any work (too many patterns) takes nothing from the others.
        let mut roles = vec![role("GREEDY", &[r"10\..*"; MAX_PATTERNS_PER_ROLE + 1])];
        roles.extend(names.iter().map(|name| role(name, &full)));
        let (rights, report) = build(&roles, &[], None);
        let last = names.last().unwrap().clone();
        assert_eq!(
            report.refused_patterns,
            [
                ("GREEDY".to_owned(), Refusal::TooMany),
                (last.clone(), Refusal::ProjectBudget)
            ]
        );
        for name in &names[..roles_within_budget] {
            let role = Role::from_name(name);
            assert_eq!(decide_for(&role, 2, Some(&rights), "10.0.0.3"), Ok(()));
        }
        assert_eq!(
            decide_for(&Role::from_name(&last), 2, Some(&rights), "10.0.0.3"),
            Err(AuthError::AddressNotAllowed)
        );
    }

    #[test]
    fn an_abandoned_build_stops_before_compiling() {
        let declared = endpoints();
        let abandoned = AtomicBool::new(true);
        let built = ProjectRights::build(
            declared.len(),
            vec![role("EXPLOIT", &[r"10\..*"])],
            &HashMap::new(),
            None,
            SystemTime::UNIX_EPOCH,
            &abandoned,
        );
        assert!(built.is_none());
    }

    #[test]
    fn custom_roles_named_like_instance_admin_or_a_system_role_refuse_their_holders_here() {
        // A project administrator may create these names; tokens read them as INSTANCE_ADMIN or
        // a system role, which pass what only the instance's administrators and services pass.
        for name in [
            "ROLE_INSTANCE_ADMIN",
            "SYS_rs-catalog",
            "ROLE_SYS_rs-catalog",
        ] {
            let mut custom = role(name, &[]);
            custom.native = false;
            let (rights, report) = build(&[custom], &[], None);
            assert_eq!(report.impersonating, [name]);
            let holder = Role::from_name(name);
            for endpoint in [0, 1, 2] {
                assert_eq!(
                    decide_for(&holder, endpoint, Some(&rights), "10.0.0.1"),
                    Err(AuthError::InsufficientRole),
                    "{name} on {endpoint}"
                );
            }
            assert_eq!(
                decide_on(&holder, &Role::InstanceAdmin, Some(&rights)),
                Err(AuthError::InsufficientRole)
            );
            // Elsewhere, or listed as rs-admin's own native role, it passes as before.
            assert_eq!(decide_for(&holder, 0, None, ""), Ok(()));
        }
        let (native, report) = build(&[role("INSTANCE_ADMIN", &[])], &[], None);
        assert!(report.impersonating.is_empty());
        assert_eq!(
            decide_for(&Role::InstanceAdmin, 0, Some(&native), ""),
            Ok(())
        );
    }

    #[test]
    fn a_refusal_for_want_of_budget_is_not_reused_once_budget_frees_up() {
        let full: Vec<String> = (0..MAX_PATTERNS_PER_ROLE)
            .map(|i| format!(r"10\.0\.0\.{i}"))
            .collect();
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        let roles_within_budget = MAX_PATTERNS_PER_PROJECT / MAX_PATTERNS_PER_ROLE;
        let names: Vec<String> = (0..roles_within_budget).map(|i| format!("R{i}")).collect();
        let mut roles: Vec<AdminRole> = names.iter().map(|name| role(name, &full)).collect();
        roles.push(role("LATE", &[r"10\..*"]));
        let (first, report) = build(&roles, &[], None);
        assert_eq!(
            report.refused_patterns,
            [("LATE".to_owned(), Refusal::ProjectBudget)]
        );
        roles.remove(0);
        let (second, report) = build(&roles, &[], Some(&first));
        assert!(report.refused_patterns.is_empty(), "{report:?}");
        let late = Role::from_name("LATE");
        assert_eq!(decide_for(&late, 2, Some(&second), "10.1.1.1"), Ok(()));
    }

    #[test]
    fn a_projects_matchers_are_bounded_in_all() {
        // Each of these determinises past the role's matcher limit: every attempt takes what it
        // was allowed from the project's budget, so the attempts stop once it is spent.
        let blow_up: Vec<String> = (0..64).map(|i| format!(r"[ab]*a[ab]{{16}}{i}")).collect();
        let roles: Vec<AdminRole> = blow_up
            .iter()
            .enumerate()
            .map(|(i, pattern)| role(&format!("R{i}"), &[pattern.as_str()]))
            .collect();
        let (_, report) = build(&roles, &[], None);
        let attempts = MAX_PROJECT_MATCHERS / MAX_ROLE_MATCHER;
        assert_eq!(report.compiled, attempts);
        let refusals: Vec<Refusal> = report.refused_patterns.iter().map(|(_, r)| *r).collect();
        assert!(refusals[..attempts].iter().all(|r| *r == Refusal::TooLarge));
        assert!(
            refusals[attempts..]
                .iter()
                .all(|r| *r == Refusal::ProjectBudget)
        );
    }

    #[test]
    fn refusals_already_known_are_not_reported_again() {
        let roles = [role("EXPLOIT", &["(unclosed"])];
        let (first, report) = build(&roles, &[], None);
        assert_eq!(report.refused_patterns.len(), 1);
        let (_, again) = build(&roles, &[], Some(&first));
        assert!(again.refused_patterns.is_empty());
        assert_eq!(
            again.compiled, 0,
            "an invalid pattern is not parsed again either"
        );
    }
}
