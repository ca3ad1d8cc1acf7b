//! The demo rs-admin's rights (`examples/regards_demo/admin/rights.rs`) without HTTP: the role
//! tree REGARDS starts a project with, registration, and how grants and revocations propagate
//! through the tree and move custom roles in it (REGARDS' `RoleService`), who may manage what.

#[allow(dead_code)]
#[path = "../examples/regards_demo/admin/rights.rs"]
mod rights;

use std::collections::BTreeSet;

use rights::{
    Caller, Changes, DefaultRole, Mapping, ProjectRights, ResourceRef, RightsError, RoleDraft,
};

const MS: &str = "rs-test";

fn mapping(path: &str, verb: &str, role: DefaultRole) -> Mapping {
    Mapping {
        path: path.to_owned(),
        verb: verb.to_owned(),
        controller: "TestController".to_owned(),
        access: Some((role, format!("{verb} {path}"))),
    }
}

/// A project where `rs-test` registered `GET /<role name>` for each given default role.
fn project_with(defaults: &[DefaultRole]) -> ProjectRights {
    let mut rights = ProjectRights::new();
    let mappings: Vec<Mapping> = defaults
        .iter()
        .map(|role| mapping(&format!("/{}", role.name()), "GET", *role))
        .collect();
    rights.register(MS, &mappings, Caller::Instance).unwrap();
    rights
}

/// The id of `GET <path>`.
fn id(rights: &ProjectRights, path: &str) -> u64 {
    rights
        .microservice_resources(MS, Caller::Instance)
        .unwrap()
        .into_iter()
        .find(|resource| resource.path == path && resource.verb == "GET")
        .unwrap_or_else(|| panic!("{path} is not registered"))
        .id
}

/// The paths `role` may call.
fn paths(rights: &ProjectRights, role: &str) -> BTreeSet<String> {
    rights
        .role_resources(role, None)
        .unwrap()
        .into_iter()
        .map(|resource| resource.path.clone())
        .collect()
}

fn set(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|path| (*path).to_owned()).collect()
}

fn parent(rights: &ProjectRights, role: &str) -> Option<String> {
    rights.role(role).unwrap().parent.clone()
}

fn create(rights: &mut ProjectRights, name: &str, parent: &str) -> Changes {
    let draft = RoleDraft {
        name: Some(name.to_owned()),
        parent: Some(parent.to_owned()),
        authorized_addresses: None,
    };
    rights.create_role(&draft).unwrap().1
}

fn grant(rights: &mut ProjectRights, role: &str, path: &str) -> Changes {
    let id = id(rights, path);
    rights
        .grant(role, &ResourceRef::Id(id), Caller::ProjectAdmin)
        .unwrap()
        .1
}

fn revoke(rights: &mut ProjectRights, role: &str, path: &str) -> Result<Changes, RightsError> {
    let id = id(rights, path);
    rights.revoke(role, id, Caller::ProjectAdmin)
}

fn access_changes(roles: &[&str]) -> Changes {
    roles
        .iter()
        .map(|role| (Some(MS.to_owned()), (*role).to_owned()))
        .collect()
}

const PUBLIC: &str = "/PUBLIC";
const REGISTERED: &str = "/REGISTERED_USER";
const EXPLOIT: &str = "/EXPLOIT";
const ADMIN: &str = "/ADMIN";
const PROJECT_ADMIN: &str = "/PROJECT_ADMIN";

/// One resource per native default role below the super-roles, and one for PROJECT_ADMIN.
fn project() -> ProjectRights {
    project_with(&[
        DefaultRole::Public,
        DefaultRole::RegisteredUser,
        DefaultRole::Exploit,
        DefaultRole::Admin,
        DefaultRole::ProjectAdmin,
    ])
}

// ---- the native tree and registration -------------------------------------------------------

#[test]
fn a_project_starts_with_regards_native_roles_and_their_tree() {
    let rights = ProjectRights::new();
    let expected = [
        (1, "PUBLIC", None),
        (2, "REGISTERED_USER", Some("PUBLIC")),
        (3, "EXPLOIT", Some("REGISTERED_USER")),
        (4, "ADMIN", Some("EXPLOIT")),
        (5, "PROJECT_ADMIN", None),
        (6, "INSTANCE_ADMIN", None),
    ];
    for (id, name, parent) in expected {
        let role = rights.role(name).unwrap();
        assert_eq!(
            (role.id, role.parent.as_deref(), role.is_native),
            (id, parent, true)
        );
        assert_eq!(role.is_default, name == "REGISTERED_USER", "{name}");
        assert!(paths(&rights, name).is_empty(), "{name}");
    }
}

#[test]
fn registration_grants_each_resource_to_its_default_role_and_the_roles_above_it() {
    let rights = project();
    assert_eq!(paths(&rights, "PUBLIC"), set(&[PUBLIC]));
    assert_eq!(
        paths(&rights, "REGISTERED_USER"),
        set(&[PUBLIC, REGISTERED])
    );
    assert_eq!(
        paths(&rights, "EXPLOIT"),
        set(&[PUBLIC, REGISTERED, EXPLOIT])
    );
    assert_eq!(
        paths(&rights, "ADMIN"),
        set(&[PUBLIC, REGISTERED, EXPLOIT, ADMIN])
    );
    // PROJECT_ADMIN is nobody's son: it holds only what names it as default.
    assert_eq!(paths(&rights, "PROJECT_ADMIN"), set(&[PROJECT_ADMIN]));
    assert!(paths(&rights, "INSTANCE_ADMIN").is_empty());
}

#[test]
fn registration_without_resource_access_defaults_to_project_admin() {
    let mut rights = ProjectRights::new();
    let undeclared = Mapping {
        access: None,
        ..mapping("/undeclared", "GET", DefaultRole::Public)
    };
    rights
        .register(MS, &[undeclared], Caller::Instance)
        .unwrap();
    let resource = rights.microservice_resources(MS, Caller::Instance).unwrap()[0].clone();
    assert_eq!(resource.default_role, DefaultRole::ProjectAdmin);
    assert_eq!(resource.description, "Missing description");
    assert_eq!(paths(&rights, "PROJECT_ADMIN"), set(&["/undeclared"]));
}

#[test]
fn registering_again_grants_a_changed_default_role_and_revokes_nothing() {
    let mut rights = project_with(&[DefaultRole::Admin]);
    let before = id(&rights, ADMIN);
    let lowered = mapping(ADMIN, "GET", DefaultRole::RegisteredUser);
    let changes = rights.register(MS, &[lowered], Caller::Instance).unwrap();
    assert_eq!(id(&rights, ADMIN), before, "the same resource");
    assert!(paths(&rights, "REGISTERED_USER").contains(ADMIN));
    assert_eq!(changes, access_changes(&["REGISTERED_USER", "EXPLOIT"]));

    let raised = mapping(ADMIN, "GET", DefaultRole::ProjectAdmin);
    rights.register(MS, &[raised], Caller::Instance).unwrap();
    assert!(
        paths(&rights, "REGISTERED_USER").contains(ADMIN),
        "never revoked by registration"
    );
    let resource = rights.resource(before).unwrap();
    assert_eq!(resource.default_role, DefaultRole::ProjectAdmin);
    assert_eq!(
        resource.description, "GET /ADMIN",
        "the first description stays"
    );

    let same = mapping(ADMIN, "GET", DefaultRole::ProjectAdmin);
    let changes = rights.register(MS, &[same], Caller::Instance).unwrap();
    assert!(changes.is_empty(), "{changes:?}");
}

#[test]
fn a_registration_with_one_bad_mapping_changes_nothing() {
    let mut rights = ProjectRights::new();
    let good = mapping("/good", "GET", DefaultRole::Public);
    for bad in [
        mapping("no-slash", "GET", DefaultRole::Public),
        mapping("/verb", "FETCH", DefaultRole::Public),
        Mapping {
            controller: String::new(),
            ..mapping("/controller", "GET", DefaultRole::Public)
        },
        mapping(&format!("/{}", "x".repeat(600)), "GET", DefaultRole::Public),
    ] {
        let error = rights
            .register(MS, &[good.clone(), bad.clone()], Caller::Instance)
            .unwrap_err();
        assert!(matches!(error, RightsError::Invalid(_)), "{bad:?}");
        assert!(
            rights
                .microservice_resources(MS, Caller::Instance)
                .unwrap()
                .is_empty()
        );
        assert!(paths(&rights, "PUBLIC").is_empty());
    }
    let error = rights
        .register("rs test/..", &[good], Caller::Instance)
        .unwrap_err();
    assert!(matches!(error, RightsError::BadRequest(_)));
}

#[test]
fn a_project_holds_a_bounded_number_of_resources() {
    let mut rights = ProjectRights::new();
    let mappings: Vec<Mapping> = (0..rights::MAX_RESOURCES)
        .map(|n| mapping(&format!("/r{n}"), "GET", DefaultRole::ProjectAdmin))
        .collect();
    rights.register(MS, &mappings, Caller::Instance).unwrap();
    let one_more = mapping("/one-more", "GET", DefaultRole::ProjectAdmin);
    let error = rights
        .register(MS, &[one_more], Caller::Instance)
        .unwrap_err();
    assert!(matches!(error, RightsError::Invalid(_)));
}

// ---- grants ---------------------------------------------------------------------------------

#[test]
fn grant_to_registered_user_reaches_exploit_admin_and_a_custom_child() {
    let mut rights = project();
    create(&mut rights, "CUSTOM_USER", "REGISTERED_USER");
    create(&mut rights, "CUSTOM_OPERATOR", "EXPLOIT");

    let changes = grant(&mut rights, "REGISTERED_USER", PROJECT_ADMIN);

    for role in [
        "REGISTERED_USER",
        "EXPLOIT",
        "ADMIN",
        "CUSTOM_USER",
        "CUSTOM_OPERATOR",
    ] {
        assert!(paths(&rights, role).contains(PROJECT_ADMIN), "{role}");
    }
    assert!(!paths(&rights, "PUBLIC").contains(PROJECT_ADMIN));
    assert_eq!(
        changes,
        access_changes(&[
            "REGISTERED_USER",
            "EXPLOIT",
            "ADMIN",
            "CUSTOM_USER",
            "CUSTOM_OPERATOR"
        ])
    );
}

#[test]
fn grant_to_a_custom_role_reaches_it_alone_and_moves_it_up_when_it_covers_a_higher_role() {
    let mut rights = project();
    create(&mut rights, "CUSTOM", "REGISTERED_USER");

    let changes = grant(&mut rights, "CUSTOM", PROJECT_ADMIN);
    assert_eq!(changes, access_changes(&["CUSTOM"]));
    assert!(!paths(&rights, "REGISTERED_USER").contains(PROJECT_ADMIN));
    assert_eq!(
        parent(&rights, "CUSTOM").as_deref(),
        Some("REGISTERED_USER")
    );

    grant(&mut rights, "CUSTOM", EXPLOIT);
    assert_eq!(parent(&rights, "CUSTOM").as_deref(), Some("EXPLOIT"));
    grant(&mut rights, "CUSTOM", ADMIN);
    assert_eq!(parent(&rights, "CUSTOM").as_deref(), Some("ADMIN"));
}

#[test]
fn grant_of_an_unknown_resource_or_to_an_unknown_role_is_not_found() {
    let mut rights = project();
    let unknown_resource = rights.grant("EXPLOIT", &ResourceRef::Id(999), Caller::Instance);
    assert!(matches!(unknown_resource, Err(RightsError::NotFound(_))));
    let by_key = ResourceRef::Key {
        microservice: MS.to_owned(),
        path: ADMIN.to_owned(),
        verb: "GET".to_owned(),
    };
    let unknown_role = rights.grant("NOBODY", &by_key, Caller::Instance);
    assert!(matches!(unknown_role, Err(RightsError::NotFound(_))));
    let (granted, _) = rights.grant("EXPLOIT", &by_key, Caller::Instance).unwrap();
    assert_eq!(granted, id(&rights, ADMIN));
}

// ---- revocations ------------------------------------------------------------------------------

#[test]
fn revoke_from_exploit_removes_it_from_registered_user_and_public_not_from_admin() {
    let mut rights = project();

    let changes = revoke(&mut rights, "EXPLOIT", PUBLIC).unwrap();

    for role in ["EXPLOIT", "REGISTERED_USER", "PUBLIC"] {
        assert!(!paths(&rights, role).contains(PUBLIC), "{role}");
    }
    assert!(paths(&rights, "ADMIN").contains(PUBLIC));
    assert_eq!(
        changes,
        access_changes(&["EXPLOIT", "REGISTERED_USER", "PUBLIC"])
    );
}

#[test]
fn custom_roles_move_up_when_a_native_revocation_makes_them_cover_a_higher_role() {
    let mut rights = project();
    create(&mut rights, "CUSTOM", "REGISTERED_USER");
    assert_eq!(paths(&rights, "CUSTOM"), set(&[PUBLIC, REGISTERED]));

    revoke(&mut rights, "EXPLOIT", EXPLOIT).unwrap();

    assert_eq!(parent(&rights, "CUSTOM").as_deref(), Some("EXPLOIT"));
    assert_eq!(paths(&rights, "CUSTOM"), set(&[PUBLIC, REGISTERED]));
}

#[test]
fn revoke_from_a_custom_role_moves_it_down_under_a_role_it_still_covers() {
    let mut rights = project();
    create(&mut rights, "CUSTOM", "EXPLOIT");

    let changes = revoke(&mut rights, "CUSTOM", EXPLOIT).unwrap();

    assert_eq!(changes, access_changes(&["CUSTOM"]));
    assert_eq!(
        parent(&rights, "CUSTOM").as_deref(),
        Some("REGISTERED_USER")
    );
    assert!(
        paths(&rights, "EXPLOIT").contains(EXPLOIT),
        "natives untouched"
    );
}

#[test]
fn revoke_from_a_custom_role_of_what_public_holds_is_refused_and_changes_nothing() {
    let mut rights = project();
    create(&mut rights, "CUSTOM", "REGISTERED_USER");
    let before = rights.role("CUSTOM").unwrap().clone();

    let refused = revoke(&mut rights, "CUSTOM", PUBLIC);

    assert!(
        matches!(refused, Err(RightsError::Forbidden(_))),
        "{refused:?}"
    );
    assert_eq!(rights.role("CUSTOM").unwrap(), &before);
}

#[test]
fn revoke_from_project_admin_is_forbidden() {
    let mut rights = project();
    let refused = revoke(&mut rights, "PROJECT_ADMIN", PROJECT_ADMIN);
    assert_eq!(
        refused,
        Err(RightsError::Forbidden(
            "Removing resource accesses from role PROJECT_ADMIN is forbidden"
        ))
    );
    assert!(paths(&rights, "PROJECT_ADMIN").contains(PROJECT_ADMIN));
}

#[test]
fn is_removable_says_what_a_revocation_would_refuse() {
    let mut rights = project();
    create(&mut rights, "CUSTOM", "REGISTERED_USER");
    let public = rights.resource(id(&rights, PUBLIC)).unwrap().clone();
    let registered = rights.resource(id(&rights, REGISTERED)).unwrap().clone();
    let custom = rights.role("CUSTOM").unwrap().clone();
    assert!(!rights.is_removable(&custom, &public));
    assert!(rights.is_removable(&custom, &registered));
    let project_admin = rights.role("PROJECT_ADMIN").unwrap().clone();
    assert!(!rights.is_removable(&project_admin, &public));
    let exploit = rights.role("EXPLOIT").unwrap().clone();
    assert!(rights.is_removable(&exploit, &public));
}

// ---- creating, updating, deleting roles -----------------------------------------------------

#[test]
fn a_role_created_from_a_native_parent_gets_a_copy_of_its_rights() {
    let mut rights = project();
    let changes = create(&mut rights, "NOTIFIER_OPERATOR", "REGISTERED_USER");
    let role = rights.role("NOTIFIER_OPERATOR").unwrap();
    assert_eq!(
        (
            role.id,
            role.parent.as_deref(),
            role.is_native,
            role.is_default
        ),
        (7, Some("REGISTERED_USER"), false, false)
    );
    assert_eq!(
        paths(&rights, "NOTIFIER_OPERATOR"),
        paths(&rights, "REGISTERED_USER")
    );
    assert_eq!(
        changes,
        Changes::from([(None, "NOTIFIER_OPERATOR".to_owned())])
    );
}

#[test]
fn a_role_created_from_a_custom_parent_copies_its_rights_under_its_native_parent() {
    let mut rights = project();
    create(&mut rights, "CUSTOM", "REGISTERED_USER");
    grant(&mut rights, "CUSTOM", PROJECT_ADMIN);

    create(&mut rights, "CHILD", "CUSTOM");

    assert_eq!(parent(&rights, "CHILD").as_deref(), Some("REGISTERED_USER"));
    assert_eq!(
        paths(&rights, "CHILD"),
        set(&[PUBLIC, REGISTERED, PROJECT_ADMIN])
    );
}

#[test]
fn role_creation_refuses_bad_names_missing_or_unknown_parents_and_duplicates() {
    let mut rights = project();
    let draft = |name: &str, parent: Option<&str>| RoleDraft {
        name: Some(name.to_owned()),
        parent: parent.map(str::to_owned),
        authorized_addresses: None,
    };
    let cases = [
        (draft("EXPLOIT", Some("PUBLIC")), "AlreadyExists"),
        (draft("NEW", None), "Invalid"),
        (draft("NEW", Some("NOBODY")), "NotFound"),
        (draft("NEW", Some("INSTANCE_ADMIN")), "Forbidden"),
        (draft("", Some("PUBLIC")), "Invalid"),
        (draft("has space", Some("PUBLIC")), "Invalid"),
        (draft("ROLE_ADMIN", Some("PUBLIC")), "Invalid"),
        (draft("SYS_rs-admin", Some("PUBLIC")), "Invalid"),
        (draft(&"X".repeat(65), Some("PUBLIC")), "Invalid"),
        (
            RoleDraft {
                authorized_addresses: Some(vec!["127\\.0\\.0\\.1".to_owned(); 33]),
                ..draft("NEW", Some("PUBLIC"))
            },
            "Invalid",
        ),
        (RoleDraft::default(), "Invalid"),
    ];
    for (draft, kind) in cases {
        let error = rights.create_role(&draft).unwrap_err();
        assert!(
            format!("{error:?}").starts_with(kind),
            "{draft:?}: {error:?}"
        );
    }
    assert!(rights.role("NEW").is_err());
}

#[test]
fn a_project_holds_a_bounded_number_of_roles() {
    let mut rights = ProjectRights::new();
    for n in 6..rights::MAX_ROLES {
        create(&mut rights, &format!("R{n}"), "PUBLIC");
    }
    let one_more = RoleDraft {
        name: Some("ONE_MORE".to_owned()),
        parent: Some("PUBLIC".to_owned()),
        authorized_addresses: None,
    };
    assert!(matches!(
        rights.create_role(&one_more),
        Err(RightsError::Invalid(_))
    ));
}

#[test]
fn a_custom_role_moved_to_another_parent_gets_exactly_its_rights() {
    let mut rights = project();
    create(&mut rights, "CUSTOM", "ADMIN");
    let draft = RoleDraft {
        name: Some("CUSTOM".to_owned()),
        parent: Some("REGISTERED_USER".to_owned()),
        authorized_addresses: Some(vec!["127\\.0\\.0\\.1".to_owned()]),
    };

    let changes = rights.update_role("CUSTOM", &draft).unwrap();

    assert_eq!(
        parent(&rights, "CUSTOM").as_deref(),
        Some("REGISTERED_USER")
    );
    assert_eq!(paths(&rights, "CUSTOM"), paths(&rights, "REGISTERED_USER"));
    let role = rights.role("CUSTOM").unwrap();
    assert_eq!(
        role.authorized_addresses.as_deref(),
        Some(&["127\\.0\\.0\\.1".to_owned()][..])
    );
    let mut expected = access_changes(&["CUSTOM"]);
    expected.insert((None, "CUSTOM".to_owned()));
    assert_eq!(changes, expected);
}

#[test]
fn a_native_roles_parent_cannot_change_and_names_must_agree() {
    let mut rights = project();
    let moved = RoleDraft {
        name: Some("EXPLOIT".to_owned()),
        parent: Some("PUBLIC".to_owned()),
        authorized_addresses: None,
    };
    assert_eq!(
        rights.update_role("EXPLOIT", &moved),
        Err(RightsError::Forbidden(
            "Native role parent cannot be changed"
        ))
    );
    let restricted = RoleDraft {
        parent: Some("REGISTERED_USER".to_owned()),
        authorized_addresses: Some(vec!["10\\..*".to_owned()]),
        ..moved.clone()
    };
    rights.update_role("EXPLOIT", &restricted).unwrap();
    assert_eq!(
        rights.role("EXPLOIT").unwrap().authorized_addresses,
        Some(vec!["10\\..*".to_owned()])
    );
    assert!(matches!(
        rights.update_role("ADMIN", &restricted),
        Err(RightsError::BadRequest(_))
    ));
}

#[test]
fn native_roles_cannot_be_deleted_custom_ones_can() {
    let mut rights = project();
    for native in [
        "PUBLIC",
        "REGISTERED_USER",
        "PROJECT_ADMIN",
        "INSTANCE_ADMIN",
    ] {
        assert!(
            matches!(rights.delete_role(native), Err(RightsError::Forbidden(_))),
            "{native}"
        );
    }
    create(&mut rights, "CUSTOM", "EXPLOIT");
    assert_eq!(
        rights.delete_role("CUSTOM").unwrap(),
        Changes::from([(None, "CUSTOM".to_owned())])
    );
    assert!(rights.role("CUSTOM").is_err());
    assert!(matches!(
        rights.delete_role("CUSTOM"),
        Err(RightsError::NotFound(_))
    ));
}

// ---- who may manage what ------------------------------------------------------------------------

#[test]
fn a_caller_manages_only_roles_at_or_below_its_own_and_grants_only_what_it_holds() {
    let mut rights = project();
    create(&mut rights, "BELOW", "REGISTERED_USER");
    create(&mut rights, "ABOVE", "ADMIN");
    let exploit = Caller::Role("EXPLOIT");
    let held = ResourceRef::Id(id(&rights, EXPLOIT));
    let not_held = ResourceRef::Id(id(&rights, ADMIN));

    assert!(rights.grant("REGISTERED_USER", &held, exploit).is_ok());
    assert!(rights.grant("BELOW", &held, exploit).is_ok());
    assert!(rights.grant("EXPLOIT", &held, exploit).is_ok());
    for role in ["ADMIN", "ABOVE", "PROJECT_ADMIN", "INSTANCE_ADMIN"] {
        assert!(
            matches!(
                rights.grant(role, &held, exploit),
                Err(RightsError::Forbidden(_))
            ),
            "{role}"
        );
    }
    assert_eq!(
        rights.grant("PUBLIC", &not_held, exploit),
        Err(RightsError::Forbidden(
            "A user can only grant resource accesses it holds itself"
        ))
    );
    let stranger = Caller::Role("STRANGER");
    assert!(matches!(
        rights.grant("PUBLIC", &held, stranger),
        Err(RightsError::Forbidden(_))
    ));
    let held_id = id(&rights, EXPLOIT);
    assert!(matches!(
        rights.revoke("ADMIN", held_id, exploit),
        Err(RightsError::Forbidden(_))
    ));
}

#[test]
fn the_roles_listing_hides_instance_admin_and_what_the_caller_cannot_manage() {
    let mut rights = project();
    create(&mut rights, "BELOW", "REGISTERED_USER");
    create(&mut rights, "ABOVE", "ADMIN");
    let names = |caller| {
        rights
            .roles_for(caller)
            .into_iter()
            .map(|role| role.name.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(Caller::ProjectAdmin),
        [
            "ABOVE",
            "ADMIN",
            "BELOW",
            "EXPLOIT",
            "PROJECT_ADMIN",
            "PUBLIC",
            "REGISTERED_USER"
        ]
    );
    assert_eq!(names(Caller::Instance), names(Caller::ProjectAdmin));
    assert_eq!(
        names(Caller::Role("EXPLOIT")),
        ["BELOW", "EXPLOIT", "PUBLIC", "REGISTERED_USER"]
    );
    assert_eq!(
        names(Caller::Role("BELOW")),
        ["BELOW", "PUBLIC", "REGISTERED_USER"]
    );
    assert!(names(Caller::Role("STRANGER")).is_empty());
}

#[test]
fn a_microservices_resources_are_seen_as_regards_shows_them() {
    let rights = project_with(&[
        DefaultRole::Public,
        DefaultRole::Exploit,
        DefaultRole::InstanceAdmin,
    ]);
    let seen = |caller| {
        rights
            .microservice_resources(MS, caller)
            .unwrap()
            .into_iter()
            .map(|resource| resource.path.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        seen(Caller::Instance),
        ["/PUBLIC", "/EXPLOIT", "/INSTANCE_ADMIN"]
    );
    assert_eq!(seen(Caller::ProjectAdmin), ["/PUBLIC", "/EXPLOIT"]);
    assert_eq!(seen(Caller::Role("PUBLIC")), ["/PUBLIC"]);
    assert!(matches!(
        rights.microservice_resources(MS, Caller::Role("STRANGER")),
        Err(RightsError::NotFound(_))
    ));
    assert_eq!(
        rights.controllers(MS, Caller::ProjectAdmin),
        ["TestController"]
    );
    assert_eq!(
        rights
            .controller_resources(MS, "TestController", Caller::Role("EXPLOIT"))
            .len(),
        2
    );
    assert!(rights.controllers("rs-other", Caller::Instance).is_empty());
}
