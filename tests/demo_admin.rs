//! The demo's rs-admin access rights (`examples/regards_demo/admin/`) over real HTTP on
//! 127.0.0.1: REGARDS' paths, payloads and status codes, propagation seen as a microservice
//! reads it, project isolation, who may call what, bad input, and the rights-change events.

#[path = "../examples/regards_demo/main.rs"]
mod regards_demo;
#[path = "support/reply.rs"]
mod reply;
#[path = "support/served_demo.rs"]
mod served_demo;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use regards_auth::{Role, TokenIssuer};
use serde_json::{Value, json};

use regards_demo::{RightsEvent, RightsEvents};
use reply::{Reply, client, send_json};
use served_demo::{ServedDemo, serve_demo};

const ADMIN: &str = "/api/v1/rs-admin";
const TOKEN_PATH: &str = "/api/v1/rs-authentication/oauth/token";
/// The microservice the tests register.
const MS: &str = "rs-test";
/// What the tests put in bad input, to check that no answer quotes it.
const MARKER: &str = "ECHO_MARKER";

/// The demo served on an ephemeral port, and the issuer of its tokens.
struct Demo {
    base: String,
    issuer: TokenIssuer,
}

impl Demo {
    async fn start() -> Demo {
        Demo::start_with(RightsEvents::default()).await
    }

    async fn start_with(events: RightsEvents) -> Demo {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ServedDemo { base, issuer, .. } = serve_demo(listener, |_| {}, events).await;
        Demo { base, issuer }
    }

    fn token(&self, role: Role, project: &str) -> String {
        self.issuer.mint("jane@regards.fr", role, project)
    }

    fn project_admin(&self) -> String {
        self.token(Role::ProjectAdmin, "project1")
    }

    /// What a microservice calls rs-admin with.
    fn system_token(&self, project: &str) -> String {
        self.issuer.system_token(MS, project)
    }

    async fn send(&self, method: Method, path: &str, token: Option<&str>, body: &str) -> Reply {
        let url = format!("{}{path}", self.base);
        send_json(&client(), method, &url, token, &[], body).await
    }

    async fn admin(&self, method: Method, path: &str, token: &str, body: &str) -> Reply {
        self.send(method, &format!("{ADMIN}{path}"), Some(token), body)
            .await
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.admin(Method::GET, path, token, "").await
    }

    /// Creates a custom role in project1 as its PROJECT_ADMIN.
    async fn create_role(&self, name: &str, parent: &str) -> Reply {
        let body = json!({ "name": name, "parentRole": { "name": parent } }).to_string();
        self.admin(Method::POST, "/roles", &self.project_admin(), &body)
            .await
    }

    /// The paths and verbs a role may call of one microservice, as a microservice reads them.
    async fn rights(&self, role: &str, microservice: &str, project: &str) -> Vec<String> {
        let reply = self
            .get(
                &format!("/roles/{role}/resources/{microservice}"),
                &self.system_token(project),
            )
            .await;
        assert_eq!(reply.status, 200, "{role}: {:?}", reply.body);
        reply
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|model| {
                let content = &model["content"];
                format!(
                    "{}@{}",
                    content["resource"].as_str().unwrap(),
                    content["verb"].as_str().unwrap()
                )
            })
            .collect()
    }

    /// The id of a registered resource of project1.
    async fn resource_id(&self, microservice: &str, path: &str, verb: &str) -> u64 {
        let reply = self
            .get(
                &format!("/resources/microservices/{microservice}?size=2000"),
                &self.system_token("project1"),
            )
            .await;
        reply.resource_id(path, verb)
    }
}

/// A registration as a REGARDS microservice sends it (`ResourceMapping`, written by Gson).
const REGISTRATION: &str = r#"[
  {"resourceAccess":{"role":"PROJECT_ADMIN","description":"Import a rule"},
   "fullPath":"/rule","controllerSimpleName":"RuleController","method":"PUT",
   "authorizedRoles":[{"autority":"ROLE_PROJECT_ADMIN","authorizedIpAdresses":[]}]},
  {"resourceAccess":{"role":"EXPLOIT","description":"Delete a rule"},
   "fullPath":"/rule/{id}","controllerSimpleName":"RuleController","method":"DELETE",
   "authorizedRoles":[{"autority":"ROLE_EXPLOIT","authorizedIpAdresses":[]}]},
  {"fullPath":"/legacy","controllerSimpleName":"LegacyController","method":"GET"},
  null
]"#;

async fn register(demo: &Demo, project: &str) -> Reply {
    let path = format!("/resources/microservices/{MS}");
    demo.admin(
        Method::POST,
        &path,
        &demo.system_token(project),
        REGISTRATION,
    )
    .await
}

// ---- registration and listings ----------------------------------------------------------------

#[tokio::test]
async fn registration_in_regards_format_is_accepted_and_listed_as_regards_pages_it() {
    let demo = Demo::start().await;

    let reply = register(&demo, "project1").await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty());

    let page = demo
        .get(
            &format!("/resources/microservices/{MS}?page=0&size=2"),
            &demo.system_token("project1"),
        )
        .await;
    assert_eq!(page.status, 200);
    let page = page.json();
    let first = &page["content"][0];
    let id = first["content"]["id"].clone();
    assert_eq!(
        first,
        &json!({"content": {"id": id, "description": "Import a rule", "microservice": MS,
                            "controllerSimpleName": "RuleController", "resource": "/rule",
                            "verb": "PUT", "defaultRole": "PROJECT_ADMIN"},
                "links": []})
    );
    assert_eq!(
        page["metadata"],
        json!({"size": 2, "totalElements": 3, "totalPages": 2, "number": 0})
    );
    assert_eq!(page["links"][0]["rel"], "self");
    let legacy = demo
        .get(
            &format!("/resources/microservices/{MS}?page=1&size=2"),
            &demo.system_token("project1"),
        )
        .await
        .json();
    assert_eq!(
        (
            &legacy["content"][0]["content"]["defaultRole"],
            &legacy["content"][0]["content"]["description"]
        ),
        (&json!("PROJECT_ADMIN"), &json!("Missing description"))
    );

    for role in ["EXPLOIT", "ADMIN"] {
        assert_eq!(
            demo.rights(role, MS, "project1").await,
            ["/rule/{id}@DELETE"]
        );
    }
    assert!(
        demo.rights("REGISTERED_USER", MS, "project1")
            .await
            .is_empty()
    );
    assert_eq!(
        demo.rights("PROJECT_ADMIN", MS, "project1").await,
        ["/legacy@GET", "/rule@PUT"]
    );
}

#[tokio::test]
async fn registration_needs_instance_admin_or_a_system_token() {
    let demo = Demo::start().await;
    let path = format!("/resources/microservices/{MS}");
    let project_admin = demo
        .admin(Method::POST, &path, &demo.project_admin(), REGISTRATION)
        .await;
    assert_eq!(project_admin.status, 403);
    assert_eq!(project_admin.messages(), ["Access is denied"]);
    let instance_admin = demo.token(Role::InstanceAdmin, "project1");
    let reply = demo
        .admin(Method::POST, &path, &instance_admin, REGISTRATION)
        .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn the_demo_services_are_registered_at_start_in_every_project() {
    let demo = Demo::start().await;
    for project in ["project1", "project2"] {
        let rule = demo.rights("PROJECT_ADMIN", "rs-notifier", project).await;
        assert!(
            rule.contains(&"/rule@PUT".to_owned()),
            "{project}: {rule:?}"
        );
        let recipients = demo.rights("EXPLOIT", "rs-notifier", project).await;
        assert_eq!(recipients, ["/recipients@GET"]);
        let search = demo.rights("PUBLIC", "rs-catalog", project).await;
        assert_eq!(search, ["/engines/{engineType}/entities/search@GET"]);
    }
    let controllers = demo
        .get(
            "/resources/microservices/rs-notifier/controllers",
            &demo.project_admin(),
        )
        .await;
    assert_eq!(
        controllers.json(),
        json!(["RecipientDtoController", "RuleController"])
    );
    let rule_controller = demo
        .get(
            "/resources/microservices/rs-notifier/controllers/RuleController",
            &demo.project_admin(),
        )
        .await
        .json();
    let paths: Vec<String> = rule_controller
        .as_array()
        .unwrap()
        .iter()
        .map(|model| {
            format!(
                "{}@{}",
                model["content"]["resource"].as_str().unwrap(),
                model["content"]["verb"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        paths,
        ["/rule@GET", "/rule@POST", "/rule@PUT", "/rule/{id}@DELETE"]
    );
}

#[tokio::test]
async fn the_roles_listing_has_regards_shape() {
    let demo = Demo::start().await;
    let reply = demo.get("/roles", &demo.project_admin()).await;
    assert_eq!(reply.status, 200);
    let roles = reply.json();
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|model| model["content"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "ADMIN",
            "EXPLOIT",
            "PROJECT_ADMIN",
            "PUBLIC",
            "REGISTERED_USER"
        ]
    );
    let registered_user = &roles[4];
    assert_eq!(
        registered_user["content"],
        json!({"id": 2, "name": "REGISTERED_USER",
               "parentRole": {"id": 1, "name": "PUBLIC", "authorizedAddresses": [],
                              "isDefault": false, "isNative": true},
               "authorizedAddresses": [], "isDefault": true, "isNative": true})
    );
    assert!(
        registered_user["links"]
            .as_array()
            .unwrap()
            .contains(&json!({"rel": "self", "href": "/api/v1/rs-admin/roles/REGISTERED_USER"}))
    );

    let exploit = demo
        .get("/roles", &demo.token(Role::Exploit, "project1"))
        .await
        .json();
    let names: Vec<&str> = exploit
        .as_array()
        .unwrap()
        .iter()
        .map(|model| model["content"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["EXPLOIT", "PUBLIC", "REGISTERED_USER"]);
}

// ---- roles and rights -------------------------------------------------------------------------

#[tokio::test]
async fn project_admin_creates_a_role_that_holds_its_parents_rights() {
    let demo = Demo::start().await;

    let reply = demo
        .create_role("NOTIFIER_OPERATOR", "REGISTERED_USER")
        .await;

    assert_eq!(reply.status, 201);
    let model = reply.json();
    assert_eq!(
        model["content"],
        json!({"id": 7, "name": "NOTIFIER_OPERATOR",
               "parentRole": {"id": 2, "name": "REGISTERED_USER",
                              "parentRole": {"id": 1, "name": "PUBLIC", "authorizedAddresses": [],
                                             "isDefault": false, "isNative": true},
                              "authorizedAddresses": [], "isDefault": true, "isNative": true},
               "authorizedAddresses": [], "isDefault": false, "isNative": false})
    );
    let rels: Vec<&str> = model["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|link| link["rel"].as_str().unwrap())
        .collect();
    for rel in ["self", "update", "delete", "manage-resource-access"] {
        assert!(rels.contains(&rel), "{rels:?}");
    }
    let fetched = demo
        .get(
            "/roles/NOTIFIER_OPERATOR",
            &demo.token(Role::Exploit, "project1"),
        )
        .await;
    assert_eq!(fetched.json()["content"], model["content"]);
    assert_eq!(
        demo.rights("NOTIFIER_OPERATOR", "rs-admin", "project1")
            .await,
        demo.rights("REGISTERED_USER", "rs-admin", "project1").await
    );

    let again = demo.create_role("NOTIFIER_OPERATOR", "EXPLOIT").await;
    assert_eq!(again.status, 409);
    assert_eq!(again.messages(), ["A role with this name already exists"]);
}

#[tokio::test]
async fn grant_and_revoke_propagate_as_the_microservices_read_them() {
    let demo = Demo::start().await;
    demo.create_role("NOTIFIER_OPERATOR", "REGISTERED_USER")
        .await;
    let put_rule = demo.resource_id("rs-notifier", "/rule", "PUT").await;
    let project_admin = demo.project_admin();
    let has_put_rule = |rights: Vec<String>| rights.iter().any(|right| right == "/rule@PUT");

    let granted = demo
        .admin(
            Method::POST,
            "/roles/REGISTERED_USER/resources",
            &project_admin,
            &json!({ "id": put_rule }).to_string(),
        )
        .await;
    assert_eq!(granted.status, 201);
    assert_eq!(granted.json()["content"]["id"], put_rule);
    for role in ["REGISTERED_USER", "EXPLOIT", "ADMIN", "NOTIFIER_OPERATOR"] {
        assert!(
            has_put_rule(demo.rights(role, "rs-notifier", "project1").await),
            "{role}"
        );
    }
    assert!(!has_put_rule(
        demo.rights("PUBLIC", "rs-notifier", "project1").await
    ));

    let revoked = demo
        .admin(
            Method::DELETE,
            &format!("/roles/EXPLOIT/resources/{put_rule}"),
            &project_admin,
            "",
        )
        .await;
    assert_eq!(revoked.status, 204);
    for role in ["EXPLOIT", "REGISTERED_USER"] {
        assert!(
            !has_put_rule(demo.rights(role, "rs-notifier", "project1").await),
            "{role}"
        );
    }
    assert!(has_put_rule(
        demo.rights("ADMIN", "rs-notifier", "project1").await
    ));
    assert!(
        has_put_rule(
            demo.rights("NOTIFIER_OPERATOR", "rs-notifier", "project1")
                .await
        ),
        "a custom role keeps what it was granted"
    );

    let by_key = json!({"microservice": "rs-notifier", "resource": "/rule", "verb": "PUT"});
    let granted = demo
        .admin(
            Method::POST,
            "/roles/EXPLOIT/resources",
            &project_admin,
            &by_key.to_string(),
        )
        .await;
    assert_eq!(granted.status, 201);
    assert!(has_put_rule(
        demo.rights("EXPLOIT", "rs-notifier", "project1").await
    ));
}

#[tokio::test]
async fn rights_of_one_project_do_not_change_another() {
    let demo = Demo::start().await;
    demo.create_role("NOTIFIER_OPERATOR", "REGISTERED_USER")
        .await;
    let put_rule = demo.resource_id("rs-notifier", "/rule", "PUT").await;
    let body = json!({ "id": put_rule }).to_string();
    demo.admin(
        Method::POST,
        "/roles/REGISTERED_USER/resources",
        &demo.project_admin(),
        &body,
    )
    .await;

    let project2_admin = demo.token(Role::ProjectAdmin, "project2");
    let role = demo.get("/roles/NOTIFIER_OPERATOR", &project2_admin).await;
    assert_eq!(role.status, 404);
    assert_eq!(role.messages(), ["No such role in this project"]);
    assert!(
        !demo
            .rights("REGISTERED_USER", "rs-notifier", "project2")
            .await
            .contains(&"/rule@PUT".to_owned())
    );
}

#[tokio::test]
async fn a_custom_role_moved_by_put_gets_its_new_parents_rights() {
    let demo = Demo::start().await;
    demo.create_role("NOTIFIER_OPERATOR", "ADMIN").await;
    let body = json!({"name": "NOTIFIER_OPERATOR", "parentRole": {"name": "REGISTERED_USER"},
                      "authorizedAddresses": ["127\\.0\\.0\\.1"]});
    let reply = demo
        .admin(
            Method::PUT,
            "/roles/NOTIFIER_OPERATOR",
            &demo.project_admin(),
            &body.to_string(),
        )
        .await;
    assert_eq!(reply.status, 200);
    let content = &reply.json()["content"];
    assert_eq!(content["parentRole"]["name"], "REGISTERED_USER");
    assert_eq!(content["authorizedAddresses"], json!(["127\\.0\\.0\\.1"]));
    assert_eq!(
        demo.rights("NOTIFIER_OPERATOR", "rs-notifier", "project1")
            .await,
        demo.rights("REGISTERED_USER", "rs-notifier", "project1")
            .await
    );
}

#[tokio::test]
async fn native_roles_cannot_be_removed_custom_ones_can() {
    let demo = Demo::start().await;
    let native = demo
        .admin(Method::DELETE, "/roles/EXPLOIT", &demo.project_admin(), "")
        .await;
    assert_eq!(native.status, 403);
    assert_eq!(
        native.messages(),
        ["Modifications on native roles are forbidden"]
    );
    demo.create_role("NOTIFIER_OPERATOR", "REGISTERED_USER")
        .await;
    let custom = demo
        .admin(
            Method::DELETE,
            "/roles/NOTIFIER_OPERATOR",
            &demo.project_admin(),
            "",
        )
        .await;
    assert_eq!(custom.status, 200);
    assert_eq!(
        demo.get("/roles/NOTIFIER_OPERATOR", &demo.project_admin())
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn revoking_from_project_admin_is_forbidden() {
    let demo = Demo::start().await;
    let put_rule = demo.resource_id("rs-notifier", "/rule", "PUT").await;
    let reply = demo
        .admin(
            Method::DELETE,
            &format!("/roles/PROJECT_ADMIN/resources/{put_rule}"),
            &demo.project_admin(),
            "",
        )
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.messages(),
        ["Removing resource accesses from role PROJECT_ADMIN is forbidden"]
    );
}

// ---- who may call what --------------------------------------------------------------------------

#[tokio::test]
async fn each_endpoint_asks_for_its_regards_default_role() {
    let demo = Demo::start().await;
    let role_body = json!({"name": "X", "parentRole": {"name": "PUBLIC"}}).to_string();
    // (method, path, body, the least role that passes, the role just below it)
    let cases = [
        (
            Method::GET,
            "/roles",
            "",
            Role::Exploit,
            Role::RegisteredUser,
        ),
        (
            Method::GET,
            "/roles/PUBLIC",
            "",
            Role::Exploit,
            Role::RegisteredUser,
        ),
        (
            Method::POST,
            "/roles",
            role_body.as_str(),
            Role::ProjectAdmin,
            Role::Admin,
        ),
        (
            Method::GET,
            "/roles/PUBLIC/resources",
            "",
            Role::ProjectAdmin,
            Role::Admin,
        ),
        (
            Method::GET,
            "/resources/microservices/rs-notifier/controllers",
            "",
            Role::ProjectAdmin,
            Role::Admin,
        ),
    ];
    for (method, path, body, enough, too_low) in cases {
        let refused = demo
            .admin(
                method.clone(),
                path,
                &demo.token(too_low.clone(), "project1"),
                body,
            )
            .await;
        assert_eq!(refused.status, 403, "{method} {path} as {too_low}");
        assert_eq!(refused.messages(), ["Access is denied"]);
        let passed = demo
            .admin(
                method.clone(),
                path,
                &demo.token(enough.clone(), "project1"),
                body,
            )
            .await;
        assert!(
            passed.status.is_success(),
            "{method} {path} as {enough}: {}",
            passed.status
        );
    }

    let anonymous = demo
        .send(
            Method::GET,
            &format!("{ADMIN}/resources/microservices/rs-catalog?scope=project1"),
            None,
            "",
        )
        .await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(anonymous.json()["metadata"]["totalElements"], 1);
}

#[tokio::test]
async fn tenants_list_the_projects_to_the_instance() {
    let demo = Demo::start().await;
    let root = demo.token(Role::InstanceAdmin, "instance");
    for path in [
        "/api/v1/rs-admin-instance/tenants",
        "/api/v1/rs-admin-instance/tenants/rs-notifier",
    ] {
        for token in [root.as_str(), demo.system_token("instance").as_str()] {
            let reply = demo.send(Method::GET, path, Some(token), "").await;
            assert_eq!(reply.status, 200, "{path}");
            assert_eq!(reply.json(), json!(["project1", "project2"]));
        }
        let refused = demo
            .send(Method::GET, path, Some(&demo.project_admin()), "")
            .await;
        assert_eq!(refused.status, 403, "{path}");
    }
}

#[tokio::test]
async fn the_operator_has_a_role_rs_admin_does_not_know_until_it_is_created() {
    let demo = Demo::start().await;
    let url = format!(
        "{TOKEN_PATH}?grant_type=password&scope=project1&username=operator@regards.fr&password=operator"
    );
    let client = http::HeaderValue::from_static("Basic Y2xpZW50OnNlY3JldA==");
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{}{url}", demo.base))
        .header("authorization", client)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = Client::builder(TokioExecutor::new())
        .build_http()
        .request(request)
        .await
        .unwrap();
    let answer: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(answer["role"], "NOTIFIER_OPERATOR");

    let unknown = demo
        .get("/roles/NOTIFIER_OPERATOR", &demo.project_admin())
        .await;
    assert_eq!(unknown.status, 404);
    let token = answer["access_token"].as_str().unwrap();
    let rule = demo
        .send(
            Method::PUT,
            "/api/v1/rs-notifier/rule",
            Some(token),
            r#"{"name":"r1"}"#,
        )
        .await;
    assert_eq!(rule.status, 403);
}

// ---- bad input --------------------------------------------------------------------------------

#[tokio::test]
async fn bad_input_gets_a_4xx_with_regards_body_that_quotes_nothing() {
    let demo = Demo::start().await;
    let admin = demo.project_admin();
    let system = demo.system_token("project1");
    let unknown_role = format!("/roles/{MARKER}");
    let grant_to_unknown = format!("/roles/{MARKER}/resources");
    let register = format!("/resources/microservices/{MS}");
    let unknown_parent = json!({"name": "NEW", "parentRole": {"name": MARKER}}).to_string();
    let bad_name =
        json!({"name": format!("{MARKER} <script>"), "parentRole": {"name": "PUBLIC"}}).to_string();
    let unknown_default = json!([{"fullPath": "/x", "method": "GET", "controllerSimpleName": "C",
                "resourceAccess": {"role": MARKER}}])
    .to_string();
    let bad_mapping =
        json!([{"fullPath": MARKER, "method": "GET", "controllerSimpleName": "C"}]).to_string();
    let huge = format!(r#"{{"name":"{}"}}"#, MARKER.repeat(10 * 1024));
    let cases: Vec<(Method, &str, &str, &str, u16)> = vec![
        (Method::POST, "/roles", &admin, "{not json", 400),
        (Method::POST, "/roles", &admin, "[1, 2]", 400),
        (Method::POST, "/roles", &admin, &bad_name, 422),
        (Method::POST, "/roles", &admin, r#"{"name":"NEW"}"#, 422),
        (Method::POST, "/roles", &admin, &unknown_parent, 404),
        (Method::POST, "/roles", &admin, &huge, 413),
        (Method::GET, &unknown_role, &admin, "", 404),
        (
            Method::PUT,
            "/roles/EXPLOIT",
            &admin,
            r#"{"name":"ADMIN"}"#,
            400,
        ),
        (Method::POST, &grant_to_unknown, &admin, r#"{"id":1}"#, 404),
        (Method::POST, "/roles/EXPLOIT/resources", &admin, "{}", 422),
        (
            Method::POST,
            "/roles/EXPLOIT/resources",
            &admin,
            r#"{"id":999999}"#,
            404,
        ),
        (
            Method::POST,
            "/roles/EXPLOIT/resources",
            &admin,
            r#"{"id":"one"}"#,
            400,
        ),
        (
            Method::DELETE,
            "/roles/EXPLOIT/resources/one",
            &admin,
            "",
            400,
        ),
        (
            Method::POST,
            &register,
            &system,
            r#"{"not":"an array"}"#,
            400,
        ),
        (Method::POST, &register, &system, &unknown_default, 400),
        (Method::POST, &register, &system, &bad_mapping, 422),
        (
            Method::GET,
            "/resources/microservices/rs-test?page=abc",
            &system,
            "",
            400,
        ),
        (Method::GET, "/nowhere", &admin, "", 404),
        // A method nobody declared on a path: refused by managed access before axum's 405.
        (Method::PATCH, "/roles", &admin, "", 403),
    ];
    for (method, path, token, body, expected) in cases {
        let reply = demo.admin(method.clone(), path, token, body).await;
        assert_eq!(reply.status, expected, "{method} {path} {:.80}", body);
        let messages = reply.messages();
        assert_eq!(messages.len(), 1, "{method} {path}");
        assert!(!messages[0].is_empty());
        assert!(
            !messages[0].contains(MARKER) && !messages[0].contains("script"),
            "{method} {path}: {messages:?}"
        );
    }
}

#[tokio::test]
async fn a_project_without_rights_is_not_found() {
    let demo = Demo::start().await;
    let reply = demo
        .get("/roles", &demo.token(Role::InstanceAdmin, "instance"))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.messages(), ["No such project"]);
}

// ---- events -------------------------------------------------------------------------------------

#[tokio::test]
async fn rights_changes_are_published_and_handled_before_the_answer() {
    let events = RightsEvents::new(Duration::from_secs(30));
    let seen: Arc<Mutex<Vec<RightsEvent>>> = Arc::default();
    let sink = seen.clone();
    events.subscribe(move |event| {
        let sink = sink.clone();
        async move {
            // A subscriber that takes its time, as a service re-reading its rights would.
            tokio::time::sleep(Duration::from_millis(50)).await;
            sink.lock().unwrap().push(event);
        }
    });
    let demo = Demo::start_with(events).await;
    // Registering links each new endpoint to its default role and the roles above it, and
    // rs-admin says so, as REGARDS' does.
    let registration = RightsEvent {
        project: "project1".into(),
        microservice: Some("rs-notifier".into()),
        role: "EXPLOIT".into(),
    };
    assert!(seen.lock().unwrap().contains(&registration));
    seen.lock().unwrap().clear();

    demo.create_role("NOTIFIER_OPERATOR", "REGISTERED_USER")
        .await;
    let role_event = RightsEvent {
        project: "project1".into(),
        microservice: None,
        role: "NOTIFIER_OPERATOR".into(),
    };
    assert_eq!(*seen.lock().unwrap(), [role_event]);

    let put_rule = demo.resource_id("rs-notifier", "/rule", "PUT").await;
    seen.lock().unwrap().clear();
    demo.admin(
        Method::POST,
        "/roles/NOTIFIER_OPERATOR/resources",
        &demo.project_admin(),
        &json!({ "id": put_rule }).to_string(),
    )
    .await;
    let access_event = RightsEvent {
        project: "project1".into(),
        microservice: Some("rs-notifier".into()),
        role: "NOTIFIER_OPERATOR".into(),
    };
    assert_eq!(*seen.lock().unwrap(), [access_event]);
}

#[tokio::test]
async fn a_stuck_subscriber_holds_the_answer_no_longer_than_the_delivery_timeout() {
    let events = RightsEvents::new(Duration::from_millis(100));
    events.subscribe(|_| std::future::pending::<()>());
    let demo = Demo::start_with(events).await;

    let reply = tokio::time::timeout(
        Duration::from_secs(30),
        demo.create_role("NOTIFIER_OPERATOR", "REGISTERED_USER"),
    )
    .await
    .expect("the answer does not wait for the stuck subscriber");

    assert_eq!(reply.status, 201);
}
