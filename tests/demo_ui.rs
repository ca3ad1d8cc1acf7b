//! What REGARDS' own admin web client asks the demo stack, over real HTTP on 127.0.0.1: the
//! gateway's `-public` aliases (only REGARDS' list, each still decided by managed access),
//! rs-admin's `GET /resources`, `GET /roles/borrowables` (no longer read as a role named
//! "borrowables") and `GET /roles/resources/{resourceId}`, rs-admin-instance's
//! `GET /projects/{project_name}` and rs-access-project's `GET /themes` for anonymous callers.
//! Each answer's shape is checked against the one Gson writes for REGARDS' classes
//! (`tests/fixtures/gson/`, from `tests/fixtures/RegardsGson.java`).
//! `scripts/regards-ui.sh` drives the real client through the whole flow.

#[path = "../examples/regards_demo/main.rs"]
mod regards_demo;
#[path = "support/reply.rs"]
mod reply;
#[path = "support/served_demo.rs"]
mod served_demo;

use std::collections::BTreeSet;

use http::Method;
use regards_auth::{Role, TokenIssuer};
use serde_json::{Value, json};

use reply::{Reply, client, send_json};
use served_demo::{ServedDemo, serve_development_demo};

const ADMIN: &str = "/api/v1/rs-admin";
const ADMIN_PUBLIC: &str = "/api/v1/rs-admin-public";
const INSTANCE_PUBLIC: &str = "/api/v1/rs-admin-instance-public";
/// What the web client sends when nobody is logged in: the project, no token.
const ANONYMOUS: &[(&str, &str)] = &[("scope", "project1")];

/// The demo served on an ephemeral port, and the issuer of its tokens.
struct Demo {
    base: String,
    issuer: TokenIssuer,
}

impl Demo {
    async fn start() -> Demo {
        let ServedDemo { base, issuer, .. } = serve_development_demo().await;
        Demo { base, issuer }
    }

    fn token(&self, role: Role) -> String {
        self.issuer.mint("jane@regards.fr", role, "project1")
    }

    fn project_admin(&self) -> String {
        self.token(Role::ProjectAdmin)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        send_json(&client(), method, &url, token, headers, body).await
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), &[], "").await
    }

    async fn get_anonymously(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None, ANONYMOUS, "").await
    }

    /// Creates a custom role in project1 as its PROJECT_ADMIN.
    async fn create_role(&self, name: &str, parent: &str) {
        let body = json!({ "name": name, "parentRole": { "name": parent } }).to_string();
        let token = self.project_admin();
        let reply = self
            .call(
                Method::POST,
                &format!("{ADMIN}/roles"),
                Some(&token),
                &[],
                &body,
            )
            .await;
        assert_eq!(reply.status, 201, "{name}: {:?}", reply.body);
    }

    /// The id of a registered resource of project1.
    async fn resource_id(&self, microservice: &str, path: &str, verb: &str) -> u64 {
        let listing = format!("{ADMIN}/resources/microservices/{microservice}?size=2000");
        self.get(&listing, &self.project_admin())
            .await
            .resource_id(path, verb)
    }

    /// Grants one resource to a role of project1 as its PROJECT_ADMIN.
    async fn grant(&self, role: &str, id: u64) {
        let token = self.project_admin();
        let path = format!("{ADMIN}/roles/{role}/resources");
        let body = json!({ "id": id }).to_string();
        let reply = self
            .call(Method::POST, &path, Some(&token), &[], &body)
            .await;
        assert_eq!(reply.status, 201, "{role}: {:?}", reply.body);
    }
}

/// A Gson fixture, parsed.
fn gson(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/gson/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_json::from_slice(&bytes).expect("JSON")
}

/// The shape of a JSON value: objects keep their member names, leaves become their type, and
/// the elements of an array are merged into one shape (members of any element).
fn skeleton(value: &Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(name, value)| (name.clone(), skeleton(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(skeleton)
                .reduce(merge)
                .into_iter()
                .collect(),
        ),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("boolean"),
        Value::Null => json!("null"),
    }
}

fn merge(first: Value, second: Value) -> Value {
    match (first, second) {
        (Value::Object(mut first), Value::Object(second)) => {
            for (name, value) in second {
                let merged = match first.remove(&name) {
                    Some(known) => merge(known, value),
                    None => value,
                };
                first.insert(name, merged);
            }
            Value::Object(first)
        }
        (Value::Array(first), Value::Array(second)) => Value::Array(
            first
                .into_iter()
                .chain(second)
                .reduce(merge)
                .into_iter()
                .collect(),
        ),
        (first, _) => first,
    }
}

/// The differences between two shapes, each with where it is. An empty array fits any array:
/// it says nothing of its elements.
fn differences(ours: &Value, theirs: &Value, at: &str, found: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Object(ours), Value::Object(theirs)) => {
            let names: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
            for name in names {
                match (ours.get(name), theirs.get(name)) {
                    (Some(our), Some(their)) => {
                        differences(our, their, &format!("{at}.{name}"), found);
                    }
                    (Some(_), None) => found.push(format!("{at}.{name}: only in the demo's")),
                    (None, Some(_)) => found.push(format!("{at}.{name}: only in REGARDS'")),
                    (None, None) => unreachable!("a name of one of them"),
                }
            }
        }
        (Value::Array(ours), Value::Array(theirs)) => {
            if let (Some(our), Some(their)) = (ours.first(), theirs.first()) {
                differences(our, their, &format!("{at}[]"), found);
            }
        }
        (ours, theirs) if ours != theirs => {
            found.push(format!("{at}: {ours} in the demo's, {theirs} in REGARDS'"));
        }
        _ => {}
    }
}

/// Asserts that `ours` has the shape of the Gson fixture `name`.
fn assert_shaped_as(ours: &Value, name: &str) {
    let mut found = Vec::new();
    differences(&skeleton(ours), &skeleton(&gson(name)), "$", &mut found);
    found.dedup();
    assert!(found.is_empty(), "not shaped as {name}: {found:#?}");
}

/// The `content` of each `EntityModel` of a list or a page.
fn contents(body: &Value) -> Vec<Value> {
    let items = body
        .as_array()
        .or_else(|| body["content"].as_array())
        .expect("a list or a page");
    items.iter().map(|model| model["content"].clone()).collect()
}

fn names(body: &Value) -> Vec<String> {
    contents(body)
        .iter()
        .map(|role| role["name"].as_str().unwrap().to_owned())
        .collect()
}

fn resource_keys(body: &Value) -> Vec<String> {
    contents(body)
        .iter()
        .map(|resource| {
            format!(
                "{}@{}@{}",
                resource["microservice"].as_str().unwrap(),
                resource["resource"].as_str().unwrap(),
                resource["verb"].as_str().unwrap()
            )
        })
        .collect()
}

// ---- GET /resources ------------------------------------------------------------------------

#[tokio::test]
async fn resources_through_the_public_alias_are_a_page_shaped_as_regards() {
    let demo = Demo::start().await;
    // The web client's very call.
    let path = format!("{ADMIN_PUBLIC}/resources?offset=0&page=0&size=10000");
    let reply = demo.get(&path, &demo.project_admin()).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let page = reply.json();
    assert_shaped_as(&page, "resources-page.json");
    let keys = resource_keys(&page);
    assert!(
        keys.contains(&"rs-notifier@/rule@PUT".to_owned()),
        "{keys:?}"
    );
    let ids: Vec<u64> = contents(&page)
        .iter()
        .map(|resource| resource["id"].as_u64().unwrap())
        .collect();
    assert!(ids.is_sorted(), "by id: {ids:?}");
    assert_eq!(page["metadata"]["totalElements"], keys.len());
    assert_eq!(page["metadata"]["number"], 0);
}

#[tokio::test]
async fn resources_leave_instance_endpoints_out_for_a_project_admin() {
    let demo = Demo::start().await;
    let page = demo
        .get(
            &format!("{ADMIN}/resources?size=2000"),
            &demo.project_admin(),
        )
        .await
        .json();
    let keys = resource_keys(&page);
    assert!(
        !keys.contains(&"rs-admin-instance@/accounts@GET".to_owned()),
        "{keys:?}"
    );
    let instance = demo
        .issuer
        .mint("root@regards.fr", Role::InstanceAdmin, "project1");
    let keys = resource_keys(
        &demo
            .get(&format!("{ADMIN}/resources?size=2000"), &instance)
            .await
            .json(),
    );
    assert!(
        keys.contains(&"rs-admin-instance@/accounts@GET".to_owned()),
        "{keys:?}"
    );
}

#[tokio::test]
async fn resources_of_a_custom_role_are_its_grants() {
    let demo = Demo::start().await;
    demo.create_role("NOTIFIER_OPERATOR", "REGISTERED_USER")
        .await;
    let operator = demo.token(Role::Custom("NOTIFIER_OPERATOR".into()));
    let path = format!("{ADMIN_PUBLIC}/resources?size=2000");
    let before = resource_keys(&demo.get(&path, &operator).await.json());
    assert!(
        !before.contains(&"rs-notifier@/rule@PUT".to_owned()),
        "{before:?}"
    );
    assert!(
        before.contains(&"rs-admin@/users/myuser@GET".to_owned()),
        "{before:?}"
    );

    demo.grant(
        "NOTIFIER_OPERATOR",
        demo.resource_id("rs-notifier", "/rule", "PUT").await,
    )
    .await;
    let after = resource_keys(&demo.get(&path, &operator).await.json());
    assert_eq!(after.len(), before.len() + 1);
    assert!(
        after.contains(&"rs-notifier@/rule@PUT".to_owned()),
        "{after:?}"
    );
}

#[tokio::test]
async fn resources_of_an_anonymous_caller_are_public_ones() {
    let demo = Demo::start().await;
    let reply = demo
        .get_anonymously(&format!("{ADMIN_PUBLIC}/resources?size=2000"))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let resources = contents(&reply.json());
    assert!(!resources.is_empty());
    assert!(
        resources
            .iter()
            .all(|resource| resource["defaultRole"] == "PUBLIC"),
        "{resources:?}"
    );
}

// ---- GET /roles/borrowables ------------------------------------------------------------------

#[tokio::test]
async fn borrowables_is_not_read_as_a_role_named_borrowables() {
    let demo = Demo::start().await;
    for path in [
        format!("{ADMIN}/roles/borrowables"),
        format!("{ADMIN_PUBLIC}/roles/borrowables"),
    ] {
        let reply = demo.get(&path, &demo.project_admin()).await;
        assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
        assert!(reply.json().is_array(), "{path}: a list of roles");
    }
    // The role route is still there for every other name.
    let reply = demo
        .get(&format!("{ADMIN}/roles/EXPLOIT"), &demo.project_admin())
        .await;
    assert_eq!(reply.json()["content"]["name"], "EXPLOIT");
}

#[tokio::test]
async fn borrowables_of_a_project_admin_are_every_project_role_least_privileged_first() {
    let demo = Demo::start().await;
    // The state of the Gson fixture: one custom role under REGISTERED_USER, one under ADMIN.
    demo.create_role("NOTIFIER_OPERATOR", "REGISTERED_USER")
        .await;
    demo.create_role("NOTIFIER_SUPERVISOR", "ADMIN").await;
    let body = demo
        .get(
            &format!("{ADMIN_PUBLIC}/roles/borrowables"),
            &demo.project_admin(),
        )
        .await
        .json();
    assert_shaped_as(&body, "roles-borrowables.json");
    assert_eq!(names(&body), names(&gson("roles-borrowables.json")));
}

#[tokio::test]
async fn borrowables_of_an_admin_are_its_role_and_those_below() {
    let demo = Demo::start().await;
    demo.create_role("NOTIFIER_OPERATOR", "REGISTERED_USER")
        .await;
    demo.create_role("NOTIFIER_SUPERVISOR", "ADMIN").await;
    let body = demo
        .get(
            &format!("{ADMIN}/roles/borrowables"),
            &demo.token(Role::Admin),
        )
        .await
        .json();
    // Not the roles attached to ADMIN itself (NOTIFIER_SUPERVISOR), as in REGARDS.
    assert_eq!(
        names(&body),
        [
            "PUBLIC",
            "REGISTERED_USER",
            "NOTIFIER_OPERATOR",
            "EXPLOIT",
            "ADMIN"
        ]
    );
}

#[tokio::test]
async fn borrowables_of_a_role_that_may_not_borrow_is_its_own_role() {
    let demo = Demo::start().await;
    demo.create_role("NOTIFIER_OPERATOR", "REGISTERED_USER")
        .await;
    let path = format!("{ADMIN_PUBLIC}/roles/borrowables");
    for (role, name) in [
        (Role::RegisteredUser, "REGISTERED_USER"),
        (Role::Exploit, "EXPLOIT"),
        (
            Role::Custom("NOTIFIER_OPERATOR".into()),
            "NOTIFIER_OPERATOR",
        ),
    ] {
        let body = demo.get(&path, &demo.token(role)).await.json();
        assert_eq!(names(&body), [name]);
    }
    // Nobody logged in: no project user, nothing to borrow.
    let reply = demo.get_anonymously(&path).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.json(), json!([]));
}

// ---- GET /roles/resources/{resourceId} -------------------------------------------------------

#[tokio::test]
async fn roles_with_resource_are_the_roles_that_may_call_it() {
    let demo = Demo::start().await;
    demo.create_role("NOTIFIER_OPERATOR", "REGISTERED_USER")
        .await;
    demo.create_role("NOTIFIER_SUPERVISOR", "ADMIN").await;
    let id = demo.resource_id("rs-notifier", "/rule", "PUT").await;
    demo.grant("NOTIFIER_OPERATOR", id).await;
    demo.grant("NOTIFIER_SUPERVISOR", id).await;
    let path = format!("{ADMIN}/roles/resources/{id}");
    let body = demo.get(&path, &demo.project_admin()).await.json();
    assert_shaped_as(&body, "roles-with-resource.json");
    assert_eq!(names(&body), names(&gson("roles-with-resource.json")));
}

#[tokio::test]
async fn roles_with_an_unknown_resource_are_none_and_a_bad_id_is_refused() {
    let demo = Demo::start().await;
    let token = demo.project_admin();
    let reply = demo
        .get(&format!("{ADMIN}/roles/resources/999999"), &token)
        .await;
    assert_eq!((reply.status.as_u16(), reply.json()), (200, json!([])));
    let reply = demo
        .get(&format!("{ADMIN}/roles/resources/first"), &token)
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.messages(), ["A resource access id is a whole number"]);
}

#[tokio::test]
async fn roles_with_resource_is_for_exploit_and_above() {
    let demo = Demo::start().await;
    let id = demo.resource_id("rs-notifier", "/rule", "PUT").await;
    let path = format!("{ADMIN}/roles/resources/{id}");
    let reply = demo.get(&path, &demo.token(Role::RegisteredUser)).await;
    assert_eq!(reply.status, 403);
    let reply = demo.get(&path, &demo.token(Role::Exploit)).await;
    assert_eq!(reply.status, 200);
}

// ---- rs-admin-instance's GET /projects/{project_name}, rs-access-project's GET /themes --------

#[tokio::test]
async fn project_is_served_to_anonymous_callers_shaped_as_regards() {
    let demo = Demo::start().await;
    let reply = demo
        .get_anonymously(&format!("{INSTANCE_PUBLIC}/projects/project1"))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let body = reply.json();
    assert_shaped_as(&body, "project.json");
    let mut ours = body["content"].clone();
    let mut theirs = gson("project.json")["content"].clone();
    // Only the id depends on the order the projects were created in.
    ours.as_object_mut().unwrap().remove("id");
    theirs.as_object_mut().unwrap().remove("id");
    assert_eq!(ours, theirs);
}

#[tokio::test]
async fn unknown_project_is_404_and_a_caller_without_token_nor_scope_is_asked_for_one() {
    let demo = Demo::start().await;
    let reply = demo
        .get_anonymously(&format!("{INSTANCE_PUBLIC}/projects/project9"))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.messages(), ["No such project"]);
    let path = format!("{INSTANCE_PUBLIC}/projects/project1");
    let reply = demo.call(Method::GET, &path, None, &[], "").await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn themes_are_an_empty_page_for_anonymous_callers() {
    let demo = Demo::start().await;
    let reply = demo
        .get_anonymously("/api/v1/rs-access-project/themes")
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let body = reply.json();
    assert_shaped_as(&body, "themes-empty.json");
    assert_eq!(body["metadata"], gson("themes-empty.json")["metadata"]);
    assert_eq!(body["content"], json!([]));
}

// ---- the gateway's -public aliases ----------------------------------------------------------

#[tokio::test]
async fn only_regards_public_routes_are_reachable_through_an_alias() {
    let demo = Demo::start().await;
    let token = demo.project_admin();
    // Served on the real path, but not one of REGARDS' public routes.
    assert_eq!(
        demo.get(&format!("{ADMIN}/roles"), &token).await.status,
        200
    );
    for path in [
        format!("{ADMIN_PUBLIC}/roles"),
        format!("{ADMIN_PUBLIC}/roles/EXPLOIT"),
        format!("{ADMIN_PUBLIC}/resources/microservices/rs-notifier"),
        format!("{ADMIN_PUBLIC}/resources/../roles"),
        format!("{INSTANCE_PUBLIC}/projects/../accounts"),
        format!("{INSTANCE_PUBLIC}/projects/%2e%2E/accounts"),
        format!("{INSTANCE_PUBLIC}/projects//project1"),
        "/api/v1/rs-notifier-public/rule".to_owned(),
        ADMIN_PUBLIC.to_owned(),
    ] {
        let reply = demo.get(&path, &token).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.messages(), ["Not Found"], "{path}");
    }
}

#[tokio::test]
async fn an_alias_keeps_the_query_and_the_method() {
    let demo = Demo::start().await;
    let page = demo
        .get(
            &format!("{ADMIN_PUBLIC}/resources?page=1&size=3"),
            &demo.project_admin(),
        )
        .await
        .json();
    assert_eq!(page["metadata"]["number"], 1);
    assert_eq!(page["metadata"]["size"], 3);
    assert_eq!(contents(&page).len(), 3);
    // No endpoint is declared for POST /resources: managed access refuses it, as on the real path.
    let token = demo.project_admin();
    let on_alias = demo
        .call(
            Method::POST,
            &format!("{ADMIN_PUBLIC}/resources"),
            Some(&token),
            &[],
            "{}",
        )
        .await;
    let on_path = demo
        .call(
            Method::POST,
            &format!("{ADMIN}/resources"),
            Some(&token),
            &[],
            "{}",
        )
        .await;
    assert_eq!(on_alias.status, on_path.status);
}

#[tokio::test]
async fn an_alias_is_decided_by_managed_access_with_the_current_grants() {
    let demo = Demo::start().await;
    let path = format!("{ADMIN_PUBLIC}/users/myuser");
    let user = demo.token(Role::RegisteredUser);
    assert_eq!(demo.get(&path, &user).await.status, 200);
    assert_eq!(demo.get_anonymously(&path).await.status, 401);
    // An administrator takes GET /users/myuser away from REGISTERED_USER.
    let id = demo.resource_id("rs-admin", "/users/myuser", "GET").await;
    let token = demo.project_admin();
    let revoke = format!("{ADMIN}/roles/REGISTERED_USER/resources/{id}");
    let reply = demo
        .call(Method::DELETE, &revoke, Some(&token), &[], "")
        .await;
    assert_eq!(reply.status, 204, "{:?}", reply.body);

    assert_eq!(demo.get(&path, &user).await.status, 403);
    let direct = demo.get(&format!("{ADMIN}/users/myuser"), &user).await;
    assert_eq!(direct.status, 403);
    // EXPLOIT keeps it.
    assert_eq!(
        demo.get(&path, &demo.token(Role::Exploit)).await.status,
        200
    );
}

// ---- the token call ---------------------------------------------------------------------------

#[tokio::test]
async fn token_call_of_the_web_client_with_its_extra_parameters_succeeds() {
    let demo = Demo::start().await;
    // As the client writes it (`AuthenticateActions`), its two extra parameters included.
    let path = "/api/v1/rs-authentication/oauth/token?grant_type=password\
                &username=admin%40regards.fr&password=admin&scope=project1\
                &origineUrl=http%3A%2F%2F127.0.0.1%3A3333%2Fadmin%2Fproject1&requestLink=";
    let basic = [("authorization", "Basic Y2xpZW50OnNlY3JldA==")];
    let reply = demo.call(Method::POST, path, None, &basic, "").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.json()["role"], "PROJECT_ADMIN");
}
