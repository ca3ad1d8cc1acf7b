//! REGARDS roles and the hierarchy that decides which role reaches which.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

/// A REGARDS role, as carried by the `role` claim.
///
/// Names match exactly and case-sensitively, as REGARDS does: `"ADMIN"` is [`Role::Admin`],
/// `"admin"` or `" ADMIN"` is a [`Role::Custom`] role that nothing is configured for.
///
/// As REGARDS' `RoleAuthority`, a name and its Spring authority `ROLE_<name>` are the same
/// role: `"ROLE_ADMIN"` is [`Role::Admin`], `"ROLE_CURATOR"` is `Role::Custom("CURATOR")`.
/// The prefix is read once and case-sensitively (`"ROLE_ROLE_X"` is the role named `ROLE_X`,
/// `"role_ADMIN"` a custom role). A role displays as its REGARDS name, without the prefix,
/// except where the prefix is part of the name: `Role::Custom("ROLE_X")` displays as
/// `ROLE_ROLE_X`, so that what is displayed always reads back as the same role. A bare
/// `"ROLE_"` names the empty role, which a token may not carry.
///
/// System roles are written `ROLE_SYS_<app>` by REGARDS services; `SYS_<app>` is read as the
/// same role. Both parse to [`Role::System`] holding `<app>` and display as `ROLE_SYS_<app>`.
/// With nothing after `SYS_`, the name is a custom role (it names no service).
///
/// ```
/// use regards_auth::{Role, RoleHierarchy};
///
/// let role: Role = "PROJECT_ADMIN".parse().unwrap();
/// assert_eq!(role, Role::ProjectAdmin);
/// assert_eq!(role.to_string(), "PROJECT_ADMIN");
/// assert_eq!(Role::from_name("ROLE_PROJECT_ADMIN"), Role::ProjectAdmin);
/// assert_eq!(Role::from_name("ROLE_CURATOR").to_string(), "CURATOR");
///
/// let hierarchy = RoleHierarchy::new().with_custom("DATA_MANAGER", Role::Exploit);
/// let manager = Role::Custom("DATA_MANAGER".into());
/// assert!(hierarchy.reaches(&manager, &Role::RegisteredUser));
/// assert!(!hierarchy.reaches(&manager, &Role::Admin));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// `PUBLIC`: anonymous access to a project.
    Public,
    /// `REGISTERED_USER`: any user with an account on the project.
    RegisteredUser,
    /// `EXPLOIT`: operator.
    Exploit,
    /// `ADMIN`: project administrator (data side).
    Admin,
    /// `PROJECT_ADMIN`: super-role of a project.
    ProjectAdmin,
    /// `INSTANCE_ADMIN`: super-role of the whole REGARDS instance.
    InstanceAdmin,
    /// `ROLE_SYS_<app>` (or `SYS_<app>`): a token minted by a service for service-to-service calls.
    /// Holds the application name.
    System(String),
    /// Any other name: a project's custom role, held without the `ROLE_` prefix (build it with
    /// [`Role::from_name`] when the name may carry one). Its rights come from a
    /// [`RoleHierarchy`].
    Custom(String),
}

/// Spring Security's authority prefix: REGARDS reads `ROLE_<name>` as `<name>`.
const ROLE_PREFIX: &str = "ROLE_";
const SYSTEM_PREFIX: &str = "SYS_";

/// The native roles, lowest first. The index is the role's level.
const NATIVE_ORDER: [Role; 6] = [
    Role::Public,
    Role::RegisteredUser,
    Role::Exploit,
    Role::Admin,
    Role::ProjectAdmin,
    Role::InstanceAdmin,
];

impl Role {
    /// The role's REGARDS name, for native roles; `None` for system and custom roles.
    pub const fn native_name(&self) -> Option<&'static str> {
        Some(match self {
            Role::Public => "PUBLIC",
            Role::RegisteredUser => "REGISTERED_USER",
            Role::Exploit => "EXPLOIT",
            Role::Admin => "ADMIN",
            Role::ProjectAdmin => "PROJECT_ADMIN",
            Role::InstanceAdmin => "INSTANCE_ADMIN",
            Role::System(_) | Role::Custom(_) => return None,
        })
    }

    /// Whether this is a system role (`ROLE_SYS_<app>`).
    pub const fn is_system(&self) -> bool {
        matches!(self, Role::System(_))
    }

    /// The position of a native role in PUBLIC < REGISTERED_USER < ... < INSTANCE_ADMIN.
    fn native_level(&self) -> Option<usize> {
        NATIVE_ORDER.iter().position(|native| native == self)
    }

    /// Parses a role name, with or without the `ROLE_` prefix. Every string is a role (unknown
    /// names are custom roles), so this never fails; an empty name (`""` or a bare `"ROLE_"`)
    /// is refused earlier, when claims are decoded.
    pub fn from_name(name: &str) -> Role {
        let name = name.strip_prefix(ROLE_PREFIX).unwrap_or(name);
        match name {
            "PUBLIC" => Role::Public,
            "REGISTERED_USER" => Role::RegisteredUser,
            "EXPLOIT" => Role::Exploit,
            "ADMIN" => Role::Admin,
            "PROJECT_ADMIN" => Role::ProjectAdmin,
            "INSTANCE_ADMIN" => Role::InstanceAdmin,
            _ => match name.strip_prefix(SYSTEM_PREFIX) {
                Some(app) if !app.is_empty() => Role::System(app.to_owned()),
                _ => Role::Custom(name.to_owned()),
            },
        }
    }

    /// Whether `name` names a role: it is not empty once the `ROLE_` prefix is read.
    pub(crate) fn is_role_name(name: &str) -> bool {
        !name.strip_prefix(ROLE_PREFIX).unwrap_or(name).is_empty()
    }
}

impl FromStr for Role {
    type Err = Infallible;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(Role::from_name(name))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::System(app) => write!(f, "{ROLE_PREFIX}{SYSTEM_PREFIX}{app}"),
            // The prefix is read once: a name that starts with it keeps it by doubling it.
            Role::Custom(name) if name.starts_with(ROLE_PREFIX) => {
                write!(f, "{ROLE_PREFIX}{name}")
            }
            Role::Custom(name) => f.write_str(name),
            native => f.write_str(native.native_name().unwrap_or_default()),
        }
    }
}

impl serde::Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Reads a role from its REGARDS name (a non-empty string, `ROLE_` prefix or not), as in the
/// `role` claim.
///
/// ```
/// use regards_auth::Role;
/// let roles: Vec<Role> = serde_json::from_str(r#"["EXPLOIT","SYS_rs-catalog","ROLE_CURATOR"]"#).unwrap();
/// assert_eq!(roles, [Role::Exploit, Role::System("rs-catalog".into()), Role::Custom("CURATOR".into())]);
/// assert!(serde_json::from_str::<Role>(r#""""#).is_err());
/// assert!(serde_json::from_str::<Role>(r#""ROLE_""#).is_err());
/// ```
impl<'de> serde::Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let crate::json::Text(name) = serde::Deserialize::deserialize(deserializer)?;
        if !Role::is_role_name(&name) {
            return Err(serde::de::Error::invalid_value(
                serde::de::Unexpected::Str(&name),
                &"a role name",
            ));
        }
        Ok(Role::from_name(&name))
    }
}

/// Which role reaches which: the native chain PUBLIC < REGISTERED_USER < EXPLOIT < ADMIN <
/// PROJECT_ADMIN < INSTANCE_ADMIN, plus the project's custom roles, each with a parent.
///
/// A role *reaches* another when the other is the role itself or one of its ancestors: ADMIN
/// reaches EXPLOIT, a custom role whose parent is EXPLOIT reaches EXPLOIT and everything below.
/// A custom role the hierarchy does not know reaches only itself and PUBLIC. System roles reach
/// everything unless [`RoleHierarchy::system_roles_pass`] says otherwise.
///
/// A custom role *required* by a guard is reached by itself, by the custom roles below it, and
/// by every role strictly above its native ancestor, whichever that ancestor is (PUBLIC
/// included): such a role holds every right the native ancestor's descendants can hold.
///
/// ```
/// use regards_auth::{Role, RoleHierarchy};
/// let hierarchy = RoleHierarchy::new().with_custom("GUEST_PLUS", Role::Public);
/// let guest_plus = Role::Custom("GUEST_PLUS".into());
/// assert!(hierarchy.reaches(&Role::RegisteredUser, &guest_plus));
/// assert!(!hierarchy.reaches(&Role::Public, &guest_plus));
/// ```
#[derive(Debug, Clone)]
pub struct RoleHierarchy {
    parents: HashMap<String, Role>,
    system_roles_pass: bool,
}

/// How far a chain of custom parents is followed; a longer chain (or a cycle) reaches nothing
/// beyond itself and PUBLIC.
const MAX_CUSTOM_DEPTH: usize = 16;

impl Default for RoleHierarchy {
    fn default() -> Self {
        Self::new()
    }
}

impl RoleHierarchy {
    /// The native REGARDS hierarchy, no custom roles, system roles passing every guard.
    pub fn new() -> Self {
        Self {
            parents: HashMap::new(),
            system_roles_pass: true,
        }
    }

    /// Declares a custom role and its parent (a native role or another declared custom role),
    /// as a REGARDS project does when it creates the role.
    ///
    /// Names are read as [`Role::from_name`] reads them: `"ROLE_CURATOR"` declares `CURATOR`.
    /// A native or system name is not a custom role: declaring one changes nothing.
    ///
    /// ```
    /// use regards_auth::{Role, RoleHierarchy};
    /// let hierarchy = RoleHierarchy::new()
    ///     .with_custom("CURATOR", Role::Exploit)
    ///     .with_custom("JUNIOR_CURATOR", Role::Custom("CURATOR".into()));
    /// assert!(hierarchy.reaches(&Role::Custom("JUNIOR_CURATOR".into()), &Role::Exploit));
    /// assert!(hierarchy.reaches(&Role::from_name("ROLE_JUNIOR_CURATOR"), &Role::Exploit));
    /// ```
    pub fn with_custom(mut self, name: impl Into<String>, parent: Role) -> Self {
        if let Role::Custom(name) = Role::from_name(&name.into()) {
            // The parent as a token would name it: `Custom("ADMIN")` is ADMIN.
            let parent = Role::from_name(&parent.to_string());
            self.parents.insert(name, parent);
        }
        self
    }

    /// Whether system roles (`ROLE_SYS_<app>`) pass every guard (the default, as in REGARDS).
    /// With `false`, a system role reaches nothing but itself.
    pub fn system_roles_pass(mut self, pass: bool) -> Self {
        self.system_roles_pass = pass;
        self
    }

    /// Whether `role` has at least the rights of `required`.
    pub fn reaches(&self, role: &Role, required: &Role) -> bool {
        if role == required {
            return true;
        }
        if let Role::System(_) = role {
            return self.system_roles_pass;
        }
        if self.lineage(role).any(|ancestor| ancestor == required) {
            return true;
        }
        let Some(role_level) = self.native_level_of(role) else {
            // Unknown custom role: PUBLIC only.
            return *required == Role::Public;
        };
        match required {
            Role::Custom(_) => {
                // A custom requirement is met by any role strictly above its native ancestor:
                // such a role holds every right the native ancestor's descendants can hold.
                // PUBLIC is a native ancestor like the others (level 0).
                self.native_level_of(required)
                    .is_some_and(|level| role_level > level)
            }
            native => native
                .native_level()
                .is_some_and(|level| role_level >= level),
        }
    }

    /// `role`, then its custom parents up to its native ancestor; shorter when a custom role in
    /// the chain is not declared, cut after [`MAX_CUSTOM_DEPTH`] parents (cycles included).
    fn lineage<'a>(&'a self, role: &'a Role) -> impl Iterator<Item = &'a Role> {
        std::iter::successors(Some(role), |current| match current {
            Role::Custom(name) => self.parents.get(name),
            _ => None,
        })
        .take(MAX_CUSTOM_DEPTH + 1)
    }

    /// The level of `role`'s native ancestor (itself when native); `None` for system roles,
    /// undeclared custom roles and chains that do not end on a native role.
    fn native_level_of(&self, role: &Role) -> Option<usize> {
        self.lineage(role).last().and_then(Role::native_level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(name: &str) -> Role {
        Role::Custom(name.to_owned())
    }

    #[test]
    fn native_names_round_trip() {
        for role in NATIVE_ORDER {
            let name = role.to_string();
            assert_eq!(Role::from_name(&name), role);
        }
    }

    #[test]
    fn names_match_case_sensitively() {
        assert_eq!(Role::from_name("admin"), custom("admin"));
        assert_eq!(Role::from_name(" ADMIN"), custom(" ADMIN"));
        assert_eq!(Role::from_name("ADMIN "), custom("ADMIN "));
        // Cyrillic 'А' (U+0410) in place of the Latin 'A'.
        assert_eq!(Role::from_name("\u{410}DMIN"), custom("\u{410}DMIN"));
    }

    #[test]
    fn system_roles_are_normalised() {
        assert_eq!(
            Role::from_name("ROLE_SYS_rs-notifier"),
            Role::System("rs-notifier".into())
        );
        assert_eq!(
            Role::from_name("SYS_rs-notifier"),
            Role::System("rs-notifier".into())
        );
        assert_eq!(
            Role::from_name("SYS_rs-notifier").to_string(),
            "ROLE_SYS_rs-notifier"
        );
    }

    #[test]
    fn system_prefix_without_application_is_custom() {
        assert_eq!(Role::from_name("ROLE_SYS_"), custom("SYS_"));
        assert_eq!(Role::from_name("SYS_"), custom("SYS_"));
        assert_eq!(Role::from_name("role_sys_x"), custom("role_sys_x"));
    }

    #[test]
    fn role_prefix_names_the_same_role() {
        for role in NATIVE_ORDER {
            let prefixed = format!("ROLE_{role}");
            assert_eq!(Role::from_name(&prefixed), role, "{prefixed}");
        }
        assert_eq!(Role::from_name("ROLE_CURATOR"), custom("CURATOR"));
        assert_eq!(Role::from_name("ROLE_ADMIN").to_string(), "ADMIN");
        assert_eq!(Role::from_name("ROLE_CURATOR").to_string(), "CURATOR");
        assert_eq!(
            Role::from_name("ROLE_SYS_rs-notifier").to_string(),
            "ROLE_SYS_rs-notifier"
        );
    }

    #[test]
    fn role_prefix_is_case_sensitive() {
        assert_eq!(Role::from_name("role_ADMIN"), custom("role_ADMIN"));
        assert_eq!(Role::from_name("Role_ADMIN"), custom("Role_ADMIN"));
        assert_eq!(Role::from_name("ROLEADMIN"), custom("ROLEADMIN"));
    }

    #[test]
    fn role_prefix_is_stripped_once() {
        // REGARDS' authority ROLE_ROLE_ADMIN is the role named "ROLE_ADMIN", not ADMIN.
        assert_eq!(Role::from_name("ROLE_ROLE_ADMIN"), custom("ROLE_ADMIN"));
        assert_eq!(
            Role::from_name("ROLE_ROLE_SYS_rs-catalog"),
            custom("ROLE_SYS_rs-catalog")
        );
        assert_eq!(custom("ROLE_ADMIN").to_string(), "ROLE_ROLE_ADMIN");
    }

    #[test]
    fn bare_role_prefix_is_the_empty_role_name() {
        assert_eq!(Role::from_name("ROLE_"), custom(""));
        assert_eq!(Role::from_name("ROLE_"), Role::from_name(""));
        assert!(serde_json::from_str::<Role>(r#""ROLE_""#).is_err());
    }

    #[test]
    fn display_reads_back_as_the_same_role() {
        for name in [
            "ADMIN",
            "ROLE_ADMIN",
            "ROLE_ROLE_ADMIN",
            "ROLE_ROLE_ROLE_X",
            "CURATOR",
            "ROLE_CURATOR",
            "SYS_app",
            "ROLE_SYS_app",
            "ROLE_ROLE_SYS_app",
            "SYS_",
            "ROLE_SYS_",
            "ROLE_",
            "ROLE_ROLE_",
            "",
        ] {
            let role = Role::from_name(name);
            assert_eq!(Role::from_name(&role.to_string()), role, "{name}");
        }
    }

    #[test]
    fn deserialized_roles_read_the_role_prefix() {
        let roles: Vec<Role> =
            serde_json::from_str(r#"["ROLE_EXPLOIT","ROLE_CURATOR","ROLE_SYS_app"]"#).unwrap();
        assert_eq!(
            roles,
            [Role::Exploit, custom("CURATOR"), Role::System("app".into())]
        );
    }

    #[test]
    fn custom_role_declared_with_the_prefix_is_the_same_role() {
        let hierarchy = RoleHierarchy::new()
            .with_custom("ROLE_CURATOR", Role::Exploit)
            .with_custom("ROLE_JUNIOR", Role::from_name("ROLE_CURATOR"));
        assert!(hierarchy.reaches(&Role::from_name("ROLE_CURATOR"), &Role::Exploit));
        assert!(hierarchy.reaches(&custom("CURATOR"), &Role::Exploit));
        assert!(hierarchy.reaches(&custom("JUNIOR"), &Role::Exploit));
        assert!(!hierarchy.reaches(&custom("CURATOR"), &Role::Admin));
    }

    #[test]
    fn every_native_pair_follows_the_chain() {
        let hierarchy = RoleHierarchy::new();
        for (held_level, held) in NATIVE_ORDER.iter().enumerate() {
            for (required_level, required) in NATIVE_ORDER.iter().enumerate() {
                assert_eq!(
                    hierarchy.reaches(held, required),
                    held_level >= required_level,
                    "{held} vs {required}"
                );
            }
        }
    }

    #[test]
    fn system_roles_reach_everything_unless_switched_off() {
        let system = Role::System("rs-catalog".into());
        assert!(RoleHierarchy::new().reaches(&system, &Role::InstanceAdmin));
        let strict = RoleHierarchy::new().system_roles_pass(false);
        assert!(!strict.reaches(&system, &Role::Public));
        assert!(strict.reaches(&system, &system.clone()));
    }

    #[test]
    fn unknown_custom_role_reaches_public_only() {
        let hierarchy = RoleHierarchy::new();
        assert!(hierarchy.reaches(&custom("GUEST"), &Role::Public));
        assert!(!hierarchy.reaches(&custom("GUEST"), &Role::RegisteredUser));
        assert!(hierarchy.reaches(&custom("GUEST"), &custom("GUEST")));
    }

    #[test]
    fn custom_role_inherits_from_its_native_parent() {
        let hierarchy = RoleHierarchy::new().with_custom("CURATOR", Role::Exploit);
        let curator = custom("CURATOR");
        assert!(hierarchy.reaches(&curator, &Role::Exploit));
        assert!(hierarchy.reaches(&curator, &Role::Public));
        assert!(!hierarchy.reaches(&curator, &Role::Admin));
        // A required custom role is met by itself and by roles above its parent.
        assert!(hierarchy.reaches(&Role::Admin, &curator));
        assert!(!hierarchy.reaches(&Role::Exploit, &curator));
        assert!(!hierarchy.reaches(&custom("OTHER"), &curator));
    }

    #[test]
    fn custom_requirement_is_met_by_every_role_above_its_native_parent() {
        for (parent_level, parent) in NATIVE_ORDER.iter().enumerate() {
            let hierarchy = RoleHierarchy::new()
                .with_custom("REQUIRED", parent.clone())
                .with_custom("CHILD", custom("REQUIRED"));
            let required = custom("REQUIRED");
            for (caller_level, caller) in NATIVE_ORDER.iter().enumerate() {
                assert_eq!(
                    hierarchy.reaches(caller, &required),
                    caller_level > parent_level,
                    "{caller} on a custom role under {parent}"
                );
            }
            for (sibling_parent_level, sibling_parent) in NATIVE_ORDER.iter().enumerate() {
                let hierarchy = hierarchy
                    .clone()
                    .with_custom("SIBLING", sibling_parent.clone());
                assert_eq!(
                    hierarchy.reaches(&custom("SIBLING"), &required),
                    sibling_parent_level > parent_level,
                    "custom role under {sibling_parent} on a custom role under {parent}"
                );
            }
            assert!(
                hierarchy.reaches(&required, &required),
                "itself, under {parent}"
            );
            assert!(
                hierarchy.reaches(&custom("CHILD"), &required),
                "its child, under {parent}"
            );
            assert!(
                !hierarchy.reaches(&custom("UNKNOWN"), &required),
                "unknown, under {parent}"
            );
            assert!(hierarchy.reaches(&Role::System("app".into()), &required));
        }
    }

    #[test]
    fn custom_chains_and_cycles_terminate() {
        let hierarchy = RoleHierarchy::new()
            .with_custom("A", custom("B"))
            .with_custom("B", custom("A"));
        assert!(hierarchy.reaches(&custom("A"), &Role::Public));
        assert!(!hierarchy.reaches(&custom("A"), &Role::RegisteredUser));
        assert!(hierarchy.reaches(&custom("A"), &custom("B")));
    }
}
