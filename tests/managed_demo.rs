//! The demo stack's microservices under REGARDS-managed access, against the demo's own rs-admin,
//! over real HTTP on loopback: the README walkthrough, propagation through the role tree as the
//! services decide it, super and system roles, undeclared endpoints, the registration rs-admin
//! keeps, rs-admin down at start-up, role address filters (IPv4, IPv6, forwarded headers,
//! invalid patterns) and the services' health.
//!
//! Every service is served with `ConnectInfo`, so that the address filters see the peer. The
//! example's rs-notifier (`examples/notifier.rs`) is served beside the demo where a service
//! that hears none of rs-admin's events is needed: it learns changes from its periodic refresh
//! only, as a REGARDS service without AMQP would.

#[path = "../examples/regards_demo/main.rs"]
mod regards_demo;
#[path = "support/reply.rs"]
mod reply;
#[path = "support/served_demo.rs"]
mod served_demo;

// Only `routes` and `app` are used here; `main` is the example's.
#[allow(dead_code)]
#[path = "../examples/notifier.rs"]
mod notifier;

use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use regards_auth::managed::{
    ForwardedHeader, ManagedAccess, Refresher, RightsSource, TrustedProxies,
};
use regards_auth::{REGARDS_DEVELOPMENT_KEY, Role, TokenIssuer, Verifier};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use regards_demo::{DemoConfig, DemoUser, RightsEvents};
use reply::{HttpClient, Reply, client, send_json};
use served_demo::{ServedDemo, serve, serve_demo};

const TOKEN_PATH: &str = "/api/v1/rs-authentication/oauth/token";
/// The demo's OAuth client, `client:secret`.
const CLIENT_BASIC: &str = "Basic Y2xpZW50OnNlY3JldA==";
const ADMIN: &str = "/api/v1/rs-admin";
const RULE: &str = "/api/v1/rs-notifier/rule";
const MY_USER: &str = "/api/v1/rs-admin/users/myuser";
const OPERATOR: &str = "NOTIFIER_OPERATOR";

/// The challenge of an address refusal: the token is fine, the place is not.
const ADDRESS_REFUSED: &str = r#"Bearer realm="regards""#;
const INSUFFICIENT_SCOPE: &str = r#"Bearer realm="regards", error="insufficient_scope""#;

/// How long any other wait may take.
const WAIT: Duration = Duration::from_secs(10);
/// The standalone notifier's refresh period.
const STANDALONE_REFRESH: Duration = Duration::from_millis(300);

/// Polls `check` until it holds; fails after [`WAIT`]. Returns how long it took.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < WAIT, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The demo stack served on an ephemeral port of 127.0.0.1, its services registered and their
/// rights read.
struct Stack {
    base: String,
    issuer: TokenIssuer,
    demo: regards_demo::Demo,
    client: HttpClient,
}

impl Stack {
    async fn start() -> Stack {
        Stack::start_with(|_| {}).await
    }

    async fn start_with(configure: impl FnOnce(&mut DemoConfig)) -> Stack {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Stack::start_on(listener, configure).await
    }

    /// The demo on `listener`; its services reach rs-admin at the listener's address.
    async fn start_on(listener: TcpListener, configure: impl FnOnce(&mut DemoConfig)) -> Stack {
        let ServedDemo { base, issuer, demo } =
            serve_demo(listener, configure, RightsEvents::default()).await;
        Stack {
            base,
            issuer,
            demo,
            client: client(),
        }
    }

    /// The same stack served on [::1] too; its base URL.
    async fn also_on_ipv6(&self) -> String {
        let listener = TcpListener::bind("[::1]:0")
            .await
            .expect("the IPv6 loopback is available");
        let base = format!("http://{}", listener.local_addr().unwrap());
        serve(listener, self.demo.router.clone());
        base
    }

    fn admin_url(&self) -> String {
        format!("{}{ADMIN}", self.base)
    }

    fn token(&self, role: Role, project: &str) -> String {
        self.issuer.mint("jane@regards.fr", role, project)
    }

    fn operator(&self, project: &str) -> String {
        self.token(Role::Custom(OPERATOR.into()), project)
    }

    fn service(&self, microservice: &str) -> &ManagedAccess {
        self.demo
            .services
            .iter()
            .find(|access| access.microservice() == microservice)
            .unwrap_or_else(|| panic!("the demo runs {microservice}"))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        send_json(&self.client, method, &url, token, headers, body).await
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), &[], "").await
    }

    /// `PUT /rule` on rs-notifier, through the gateway.
    async fn put_rule(&self, token: &str) -> Reply {
        self.put_rule_with(token, &[]).await
    }

    async fn put_rule_with(&self, token: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::PUT, RULE, Some(token), headers, r#"{"name":"r1"}"#)
            .await
    }

    /// A password grant at the demo's token endpoint; the access token.
    async fn login(&self, username: &str, password: &str, project: &str) -> String {
        let path = format!(
            "{TOKEN_PATH}?grant_type=password&scope={project}&username={username}&password={password}"
        );
        let reply = self
            .send(
                Method::POST,
                &path,
                None,
                &[("authorization", CLIENT_BASIC)],
                "",
            )
            .await;
        assert_eq!(reply.status, 200, "{username} logs in on {project}");
        reply.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates a custom role in the project of `admin`'s token.
    async fn create_role(&self, admin: &str, name: &str, parent: &str) -> Value {
        let body = json!({ "name": name, "parentRole": { "name": parent } }).to_string();
        let reply = self
            .send(
                Method::POST,
                &format!("{ADMIN}/roles"),
                Some(admin),
                &[],
                &body,
            )
            .await;
        assert_eq!(reply.status, 201, "{name}: {:?}", reply.body);
        reply.json()
    }

    /// The id rs-admin gives `verb path` of `microservice` in the project of `token`.
    async fn resource_id(&self, token: &str, microservice: &str, path: &str, verb: &str) -> u64 {
        let reply = self
            .get(
                &format!("{ADMIN}/resources/microservices/{microservice}"),
                token,
            )
            .await;
        assert_eq!(reply.status, 200);
        reply.resource_id(path, verb)
    }

    async fn grant(&self, admin: &str, role: &str, resource: u64) {
        let reply = self
            .send(
                Method::POST,
                &format!("{ADMIN}/roles/{role}/resources"),
                Some(admin),
                &[],
                &json!({ "id": resource }).to_string(),
            )
            .await;
        assert_eq!(reply.status, 201, "grant to {role}: {:?}", reply.body);
    }

    async fn revoke(&self, admin: &str, role: &str, resource: u64) {
        let path = format!("{ADMIN}/roles/{role}/resources/{resource}");
        let reply = self.send(Method::DELETE, &path, Some(admin), &[], "").await;
        assert_eq!(reply.status, 204, "revoke from {role}: {:?}", reply.body);
    }

    /// Sets a role's `authorizedAddresses` (`PUT /roles/{name}`, the parent repeated).
    async fn set_addresses(&self, admin: &str, role: &str, addresses: &[&str]) {
        let path = format!("{ADMIN}/roles/{role}");
        let current = self.get(&path, admin).await.json();
        let parent = &current["content"]["parentRole"]["name"];
        let body = json!({
            "name": role,
            "parentRole": { "name": parent },
            "authorizedAddresses": addresses,
        });
        let reply = self
            .send(Method::PUT, &path, Some(admin), &[], &body.to_string())
            .await;
        assert_eq!(reply.status, 200, "{role}: {:?}", reply.body);
    }

    /// NOTIFIER_OPERATOR (parent REGISTERED_USER) in project1, granted `PUT /rule`; the
    /// PROJECT_ADMIN token used.
    async fn operator_granted_put_rule(&self) -> String {
        let admin = self.token(Role::ProjectAdmin, "project1");
        self.create_role(&admin, OPERATOR, "REGISTERED_USER").await;
        let put_rule = self
            .resource_id(&admin, "rs-notifier", "/rule", "PUT")
            .await;
        self.grant(&admin, OPERATOR, put_rule).await;
        admin
    }
}

fn verifier() -> Verifier {
    Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap()
}

/// The example's notifier (`examples/notifier.rs`: its routes and app, health included),
/// served on its own port, registered as `microservice` with the rs-admin at `admin_url`,
/// refreshed every [`STANDALONE_REFRESH`]. It subscribes to no rights event.
struct Standalone {
    base: String,
    client: HttpClient,
    _refresher: Refresher,
}

impl Standalone {
    async fn start(microservice: &str, admin_url: String) -> Standalone {
        let (router, endpoints) = notifier::routes().build().unwrap();
        let access = ManagedAccess::builder(microservice, endpoints)
            .admin_url(admin_url)
            .system_tokens(TokenIssuer::development())
            .projects(["project1", "project2"])
            .refresh_period(STANDALONE_REFRESH)
            .admin_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let refresher = access.spawn();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        serve(listener, notifier::app(router, access, verifier()));
        Standalone {
            base,
            client: client(),
            _refresher: refresher,
        }
    }

    async fn health(&self) -> Value {
        let url = format!("{}/health", self.base);
        let reply = send_json(&self.client, Method::GET, &url, None, &[], "").await;
        assert_eq!(reply.status, 200);
        reply.json()
    }

    async fn wait_up_to_date(&self) -> Value {
        let mut health = Value::Null;
        eventually("the standalone notifier reads its rights", async || {
            health = self.health().await;
            health["upToDate"] == true
        })
        .await;
        health
    }

    async fn status(&self, method: Method, path: &str, token: &str) -> StatusCode {
        let url = format!("{}{path}", self.base);
        let body = r#"{"name":"r1"}"#;
        send_json(&self.client, method, &url, Some(token), &[], body)
            .await
            .status
    }
}

// ---- the README walkthrough ---------------------------------------------------------------------

#[tokio::test]
async fn readme_walkthrough_a_custom_role_is_granted_then_revoked_put_rule_in_one_project_only() {
    // The demo's services follow rs-admin's events only: no periodic refresh during the test.
    let stack = Stack::start_with(|config| {
        config.refresh_period = Duration::from_secs(3600);
        config.users.push(DemoUser::new(
            "admin2@regards.fr",
            "admin2",
            [("project2", Role::ProjectAdmin)],
        ));
    })
    .await;
    // The example's rs-notifier, outside the demo: it learns changes from its periodic refresh.
    let standalone = Standalone::start("rs-notifier", stack.admin_url()).await;
    standalone.wait_up_to_date().await;

    let admin = stack.login("admin@regards.fr", "admin", "project1").await;
    let created = stack.create_role(&admin, OPERATOR, "REGISTERED_USER").await;
    assert_eq!(created["content"]["parentRole"]["name"], "REGISTERED_USER");
    assert_eq!(created["content"]["isNative"], false);

    let operator1 = stack
        .login("operator@regards.fr", "operator", "project1")
        .await;
    let operator2 = stack
        .login("operator@regards.fr", "operator", "project2")
        .await;
    let refused = stack.put_rule(&operator1).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.challenge(), Some(INSUFFICIENT_SCOPE));
    assert_eq!(stack.put_rule(&operator2).await.status, 403);
    assert_eq!(
        standalone.status(Method::PUT, "/rule", &operator1).await,
        403
    );

    let put_rule = stack
        .resource_id(&admin, "rs-notifier", "/rule", "PUT")
        .await;
    stack.grant(&admin, OPERATOR, put_rule).await;
    // rs-admin's event had rs-notifier read its rights again before the grant was answered.
    let stored = stack.put_rule(&operator1).await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.json()["name"], "r1");
    assert_eq!(stack.put_rule(&operator2).await.status, 403, "project2");
    eventually(
        "the standalone notifier's refresh sees the grant",
        async || standalone.status(Method::PUT, "/rule", &operator1).await == 200,
    )
    .await;
    assert_eq!(
        standalone.status(Method::PUT, "/rule", &operator2).await,
        403
    );

    stack.revoke(&admin, OPERATOR, put_rule).await;
    assert_eq!(stack.put_rule(&operator1).await.status, 403);
    assert_eq!(stack.put_rule(&operator2).await.status, 403, "project2");
    eventually(
        "the standalone notifier's refresh sees the revocation",
        async || standalone.status(Method::PUT, "/rule", &operator1).await == 403,
    )
    .await;

    // The same steps in project2 open project2 only.
    let admin2 = stack.login("admin2@regards.fr", "admin2", "project2").await;
    stack
        .create_role(&admin2, OPERATOR, "REGISTERED_USER")
        .await;
    let put_rule2 = stack
        .resource_id(&admin2, "rs-notifier", "/rule", "PUT")
        .await;
    stack.grant(&admin2, OPERATOR, put_rule2).await;
    assert_eq!(stack.put_rule(&operator2).await.status, 200);
    assert_eq!(stack.put_rule(&operator1).await.status, 403, "project1");
}

// ---- propagation --------------------------------------------------------------------------------

#[tokio::test]
async fn a_grant_to_registered_user_reaches_the_roles_above_it_and_a_revocation_from_exploit_the_roles_below()
 {
    let stack = Stack::start().await;
    let admin = stack.token(Role::ProjectAdmin, "project1");
    stack.create_role(&admin, OPERATOR, "REGISTERED_USER").await;
    let put_rule = stack
        .resource_id(&admin, "rs-notifier", "/rule", "PUT")
        .await;
    let roles = [
        Role::Public,
        Role::RegisteredUser,
        Role::Exploit,
        Role::Admin,
        Role::Custom(OPERATOR.into()),
    ];
    let statuses = async |project: &str| {
        let mut statuses = Vec::new();
        for role in &roles {
            let status = stack
                .put_rule(&stack.token(role.clone(), project))
                .await
                .status;
            statuses.push((role.to_string(), status.as_u16()));
        }
        statuses
    };
    let expect = |codes: [u16; 5]| -> Vec<(String, u16)> {
        roles.iter().map(ToString::to_string).zip(codes).collect()
    };
    assert_eq!(statuses("project1").await, expect([403; 5]));

    stack.grant(&admin, "REGISTERED_USER", put_rule).await;
    assert_eq!(
        statuses("project1").await,
        expect([403, 200, 200, 200, 200])
    );
    assert_eq!(statuses("project2").await, expect([403; 5]), "project2");

    stack.revoke(&admin, "EXPLOIT", put_rule).await;
    // A custom role keeps what it holds (REGARDS only moves it under another parent).
    assert_eq!(
        statuses("project1").await,
        expect([403, 403, 403, 200, 200])
    );
}

// ---- super and system roles ---------------------------------------------------------------------

#[tokio::test]
async fn super_and_system_roles_pass_an_endpoint_granted_to_nobody_but_project_admin_not_instance_endpoints()
 {
    let stack = Stack::start().await;
    let admin = stack.token(Role::ProjectAdmin, "project1");
    let recipients = "/api/v1/rs-notifier/recipients";
    let id = stack
        .resource_id(&admin, "rs-notifier", "/recipients", "GET")
        .await;
    // Granted at registration to EXPLOIT and ADMIN (its default role and above); revoking it
    // from ADMIN takes it from the roles below too. PROJECT_ADMIN never held it.
    stack.revoke(&admin, "ADMIN", id).await;
    let roles = stack.get(&format!("{ADMIN}/roles"), &admin).await.json();
    for role in roles.as_array().unwrap() {
        let name = role["content"]["name"].as_str().unwrap();
        let held = stack
            .get(
                &format!("{ADMIN}/roles/{name}/resources/rs-notifier"),
                &admin,
            )
            .await
            .json();
        let holds = held
            .as_array()
            .unwrap()
            .iter()
            .any(|model| model["content"]["id"] == id);
        assert!(!holds, "{name} holds GET /recipients");
    }

    for role in [Role::Exploit, Role::Admin] {
        let reply = stack
            .get(recipients, &stack.token(role.clone(), "project1"))
            .await;
        assert_eq!(reply.status, 403, "{role}");
    }
    let root = stack.login("root@regards.fr", "root", "instance").await;
    let passing = [
        ("PROJECT_ADMIN", admin.clone()),
        (
            "INSTANCE_ADMIN",
            stack.token(Role::InstanceAdmin, "project1"),
        ),
        ("INSTANCE_ADMIN of the instance", root.clone()),
        (
            "system",
            stack.issuer.system_token("rs-catalog", "project1"),
        ),
    ];
    for (who, token) in &passing {
        assert_eq!(stack.get(recipients, token).await.status, 200, "{who}");
    }

    let accounts = "/api/v1/rs-admin-instance/accounts";
    let refused = stack.get(accounts, &admin).await;
    assert_eq!(
        refused.status, 403,
        "PROJECT_ADMIN on an INSTANCE_ADMIN endpoint"
    );
    assert_eq!(refused.challenge(), Some(INSUFFICIENT_SCOPE));
    for token in [&root, &stack.issuer.system_token("rs-admin", "project1")] {
        let reply = stack.get(accounts, token).await;
        assert_eq!(reply.status, 200);
        assert!(
            reply
                .json()
                .as_array()
                .unwrap()
                .contains(&json!("root@regards.fr"))
        );
    }
}

// ---- undeclared endpoints -----------------------------------------------------------------------

#[tokio::test]
async fn a_method_not_declared_on_a_declared_path_is_refused_even_to_super_roles() {
    let stack = Stack::start().await;
    let callers = [
        stack.token(Role::ProjectAdmin, "project1"),
        stack.token(Role::InstanceAdmin, "project1"),
        stack.issuer.system_token("rs-catalog", "project1"),
    ];
    let undeclared = [
        (Method::PATCH, RULE),
        (Method::DELETE, RULE),
        (Method::GET, "/api/v1/rs-notifier/rule/1"),
        (Method::POST, "/api/v1/rs-notifier/recipients"),
    ];
    for token in &callers {
        for (method, path) in &undeclared {
            let reply = stack
                .send(method.clone(), path, Some(token), &[], "{}")
                .await;
            assert_eq!(reply.status, 403, "{method} {path}");
            assert_eq!(
                reply.challenge(),
                Some(INSUFFICIENT_SCOPE),
                "{method} {path}"
            );
            assert_eq!(reply.json(), json!({ "messages": ["Access is denied"] }));
        }
        // A path nobody declared is not found: the gateway routes it nowhere.
        let nowhere = stack
            .send(
                Method::GET,
                "/api/v1/rs-notifier/nowhere",
                Some(token),
                &[],
                "",
            )
            .await;
        assert_eq!(nowhere.status, 404);
        // The declared neighbours pass.
        assert_eq!(stack.put_rule(token).await.status, 200);
        let deleted = stack
            .send(Method::DELETE, &format!("{RULE}/999"), Some(token), &[], "")
            .await;
        assert_eq!(deleted.status, 404, "declared, decided, no such rule");
    }
}

#[tokio::test]
async fn a_project_no_service_serves_is_refused_to_every_role_but_the_super_ones() {
    let stack = Stack::start().await;
    let recipients = "/api/v1/rs-notifier/recipients";
    // No rights will ever be read for project9: REGARDS' services hold no authorities for its
    // tenant and refuse; the declared defaults are only for served projects not read yet.
    for role in [Role::RegisteredUser, Role::Exploit, Role::Admin] {
        let reply = stack
            .get(recipients, &stack.token(role.clone(), "project9"))
            .await;
        assert_eq!(reply.status, 403, "{role} of project9");
        assert_eq!(reply.challenge(), Some(INSUFFICIENT_SCOPE));
        let served = stack
            .get(recipients, &stack.token(role.clone(), "project1"))
            .await;
        let expected = if role == Role::RegisteredUser {
            403
        } else {
            200
        };
        assert_eq!(served.status, expected, "{role} of project1");
    }
    for role in [Role::ProjectAdmin, Role::InstanceAdmin] {
        let reply = stack
            .get(recipients, &stack.token(role.clone(), "project9"))
            .await;
        assert_eq!(reply.status, 200, "{role} of project9");
    }
    // PUBLIC endpoints stay open to the public of any project.
    let search = "/api/v1/rs-catalog/engines/legacy/entities/search?scope=project9";
    assert_eq!(
        stack.send(Method::GET, search, None, &[], "").await.status,
        200
    );
}

// ---- registration -------------------------------------------------------------------------------

#[tokio::test]
async fn rs_admin_lists_the_notifier_endpoints_with_their_declared_descriptions_controllers_and_default_roles()
 {
    let stack = Stack::start().await;
    // As examples/regards_demo/notifier.rs declares them, REGARDS' own descriptions.
    let declared = json!([
        [
            "/rule",
            "GET",
            "RuleController",
            "PROJECT_ADMIN",
            "List all Rules"
        ],
        [
            "/rule",
            "POST",
            "RuleController",
            "PROJECT_ADMIN",
            "Create a Rule"
        ],
        [
            "/rule",
            "PUT",
            "RuleController",
            "PROJECT_ADMIN",
            "Update a Rule"
        ],
        [
            "/rule/{id}",
            "DELETE",
            "RuleController",
            "PROJECT_ADMIN",
            "Delete a rule"
        ],
        [
            "/recipients",
            "GET",
            "RecipientDtoController",
            "EXPLOIT",
            "Endpoint to retrieve all recipients"
        ],
    ]);
    let from_the_service: Vec<Value> = stack
        .service("rs-notifier")
        .endpoints()
        .iter()
        .map(|endpoint| {
            json!([
                endpoint.path(),
                endpoint.method().as_str(),
                endpoint.controller(),
                endpoint.access().role().to_string(),
                endpoint.access().description(),
            ])
        })
        .collect();
    assert_eq!(Value::Array(from_the_service), declared);

    for project in ["project1", "project2"] {
        let admin = stack.token(Role::ProjectAdmin, project);
        let page = stack
            .get(
                &format!("{ADMIN}/resources/microservices/rs-notifier"),
                &admin,
            )
            .await;
        assert_eq!(page.status, 200);
        let page = page.json();
        assert_eq!(page["metadata"]["totalElements"], 5, "{project}");
        let mut ids = Vec::new();
        let listed: Vec<Value> = page["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|model| {
                let resource = &model["content"];
                ids.push(resource["id"].as_u64().expect("an id"));
                assert_eq!(resource["microservice"], "rs-notifier");
                let object = resource.as_object().unwrap();
                let mut fields: Vec<&str> = object.keys().map(String::as_str).collect();
                fields.sort_unstable();
                assert_eq!(
                    fields,
                    [
                        "controllerSimpleName",
                        "defaultRole",
                        "description",
                        "id",
                        "microservice",
                        "resource",
                        "verb"
                    ]
                );
                json!([
                    resource["resource"],
                    resource["verb"],
                    resource["controllerSimpleName"],
                    resource["defaultRole"],
                    resource["description"],
                ])
            })
            .collect();
        assert_eq!(Value::Array(listed), declared, "{project}");
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 5, "{project}: one id per resource");

        let controllers = stack
            .get(
                &format!("{ADMIN}/resources/microservices/rs-notifier/controllers"),
                &admin,
            )
            .await;
        assert_eq!(
            controllers.json(),
            json!(["RecipientDtoController", "RuleController"])
        );
    }
}

// ---- rs-admin down at start-up ------------------------------------------------------------------

#[tokio::test]
async fn a_service_started_before_rs_admin_serves_from_its_defaults_then_registers_when_rs_admin_comes_up()
 {
    // An address nothing listens on yet; the demo is served there later.
    let address = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let microservice = "rs-notifier-standalone";
    let standalone = Standalone::start(microservice, format!("http://{address}{ADMIN}")).await;
    let issuer = TokenIssuer::development();
    let token = |role: Role| issuer.mint("jane@regards.fr", role, "project1");

    let mut health = Value::Null;
    eventually(
        "the failure to reach rs-admin is in the health",
        async || {
            health = standalone.health().await;
            health["projects"]
                .as_array()
                .unwrap()
                .iter()
                .all(|project| project["consecutiveFailures"].as_u64() > Some(0))
        },
    )
    .await;
    assert_eq!(health["microservice"], microservice);
    assert_eq!(health["upToDate"], false);
    for project in health["projects"].as_array().unwrap() {
        assert_eq!(project["rights"], "defaults");
        assert_eq!(project["registered"], false);
        assert_eq!(project["lastSuccess"], Value::Null);
        let error = project["lastError"].as_str().unwrap();
        assert!(
            error.starts_with("rs-admin could not be reached"),
            "{error}"
        );
    }
    // Serving from the declared defaults through the native hierarchy.
    let decisions = [
        (Role::ProjectAdmin, Method::PUT, "/rule", 200),
        (Role::Admin, Method::PUT, "/rule", 403),
        (Role::Exploit, Method::GET, "/recipients", 200),
        (Role::Admin, Method::GET, "/recipients", 200),
        (Role::RegisteredUser, Method::GET, "/recipients", 403),
    ];
    for (role, method, path, expected) in &decisions {
        let status = standalone
            .status(method.clone(), path, &token(role.clone()))
            .await;
        assert_eq!(
            status, *expected,
            "{role} {method} {path} from the defaults"
        );
    }

    let listener = TcpListener::bind(address)
        .await
        .expect("the address is still free");
    let stack = Stack::start_on(listener, |_| {}).await;
    let health = standalone.wait_up_to_date().await;
    for project in health["projects"].as_array().unwrap() {
        assert_eq!(project["rights"], "administered");
        assert_eq!(project["registered"], true);
        assert_eq!(project["consecutiveFailures"], 0);
    }
    for project in ["project1", "project2"] {
        let listed = stack
            .get(
                &format!("{ADMIN}/resources/microservices/{microservice}"),
                &stack.token(Role::ProjectAdmin, project),
            )
            .await
            .json();
        let mut listed: Vec<String> = listed["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|model| {
                let resource = &model["content"];
                format!(
                    "{} {} {}: {}",
                    resource["verb"].as_str().unwrap(),
                    resource["resource"].as_str().unwrap(),
                    resource["defaultRole"].as_str().unwrap(),
                    resource["description"].as_str().unwrap()
                )
            })
            .collect();
        listed.sort();
        assert_eq!(
            listed,
            [
                "DELETE /rule/{id} PROJECT_ADMIN: Delete a notification rule",
                "GET /recipients EXPLOIT: List the recipients",
                "GET /rule PROJECT_ADMIN: List the notification rules",
                "PUT /rule PROJECT_ADMIN: Import a notification rule",
            ],
            "{project}"
        );
    }
    // Now decided from rs-admin's rights: a grant there opens the endpoint.
    let admin = stack.token(Role::ProjectAdmin, "project1");
    let recipients = stack
        .resource_id(&admin, microservice, "/recipients", "GET")
        .await;
    stack.grant(&admin, "REGISTERED_USER", recipients).await;
    eventually("the grant is read", async || {
        standalone
            .status(Method::GET, "/recipients", &token(Role::RegisteredUser))
            .await
            == 200
    })
    .await;
}

// ---- address filters ----------------------------------------------------------------------------

#[tokio::test]
async fn a_role_address_filter_lets_ipv4_clients_through_only_when_a_pattern_matches_the_whole_address()
 {
    let stack = Stack::start().await;
    let admin = stack.operator_granted_put_rule().await;
    let operator = stack.operator("project1");
    let user = stack.token(Role::RegisteredUser, "project1");
    assert_eq!(stack.put_rule(&operator).await.status, 200, "no filter");

    let cases: [(&[&str], u16); 6] = [
        (&[r"127\.0\.0\.1"], 200),
        (&[r"10\.0\.0\.\d+"], 401),
        // Java's `matches()`: the whole address, not a part of it.
        (&[r"127\.0\.0"], 401),
        (&[r"0\.0\.1"], 401),
        (&[r"10\.1\.1\.1", r"127\..*"], 200),
        (&[], 200),
    ];
    for (patterns, expected) in cases {
        stack.set_addresses(&admin, OPERATOR, patterns).await;
        let reply = stack.put_rule(&operator).await;
        assert_eq!(reply.status, expected, "{patterns:?}");
        // The filter is the role's, on every service: rs-admin's own endpoints too.
        let my_user = stack.get(MY_USER, &operator).await;
        assert_eq!(my_user.status, expected, "{patterns:?} on rs-admin");
        if expected == 401 {
            assert_eq!(reply.challenge(), Some(ADDRESS_REFUSED));
            assert_eq!(my_user.challenge(), Some(ADDRESS_REFUSED));
        }
        // Other roles are not filtered.
        assert_eq!(stack.get(MY_USER, &user).await.status, 200);
    }
}

#[tokio::test]
async fn a_role_address_filter_matches_ipv6_clients_in_java_and_compressed_forms() {
    let stack = Stack::start().await;
    let admin = stack.operator_granted_put_rule().await;
    let operator = stack.operator("project1");
    let ipv6 = stack.also_on_ipv6().await;
    let from_ipv6 = async || {
        let url = format!("{ipv6}{RULE}");
        let reply = send_json(
            &stack.client,
            Method::PUT,
            &url,
            Some(&operator),
            &[],
            r#"{"name":"r1"}"#,
        )
        .await;
        if reply.status == 401 {
            assert_eq!(reply.challenge(), Some(ADDRESS_REFUSED));
        }
        reply.status.as_u16()
    };
    assert_eq!(from_ipv6().await, 200, "no filter");

    // (patterns, the status from ::1, the status from 127.0.0.1)
    let cases: [(&[&str], u16, u16); 5] = [
        (&["0:0:0:0:0:0:0:1"], 200, 401),
        (&["::1"], 200, 401),
        (&["0:0:0:0:0:0:0:2", "::2"], 401, 401),
        (&[r"127\.0\.0\.1"], 401, 200),
        (&[r"127\.0\.0\.1", r"(0:){7}1"], 200, 200),
    ];
    for (patterns, v6, v4) in cases {
        stack.set_addresses(&admin, OPERATOR, patterns).await;
        assert_eq!(from_ipv6().await, v6, "{patterns:?} from ::1");
        assert_eq!(
            stack.put_rule(&operator).await.status,
            v4,
            "{patterns:?} from 127.0.0.1"
        );
    }
}

/// With `proxies` trusted (the tests' client, 127.0.0.1, plays the proxy) and the operator
/// restricted to 192.0.2.7: the status of `PUT /rule` for each set of forwarding headers.
async fn behind_127_0_0_1(proxies: TrustedProxies, cases: &[(&[(&str, &str)], u16)]) {
    let stack = Stack::start_with(|config| config.trusted_proxies = proxies).await;
    let admin = stack.operator_granted_put_rule().await;
    stack
        .set_addresses(&admin, OPERATOR, &[r"192\.0\.2\.7"])
        .await;
    let operator = stack.operator("project1");
    for &(headers, expected) in cases {
        let reply = stack.put_rule_with(&operator, headers).await;
        assert_eq!(reply.status, expected, "{headers:?}");
    }
}

#[tokio::test]
async fn forwarded_headers_from_a_trusted_proxy_name_the_client_of_the_address_filter() {
    let cases: [(&[(&str, &str)], u16); 6] = [
        (&[], 401),
        (&[("x-forwarded-for", "192.0.2.7")], 200),
        (&[("x-forwarded-for", "198.51.100.1")], 401),
        // The rightmost address the trusted proxy did not write is the client: what a client
        // writes on the left is not believed.
        (&[("x-forwarded-for", "192.0.2.7, 198.51.100.1")], 401),
        // The proxies write X-Forwarded-For: a Forwarded header is the client's own.
        (&[("forwarded", "for=192.0.2.7")], 401),
        (
            &[
                ("forwarded", "for=192.0.2.7"),
                ("x-forwarded-for", "198.51.100.1"),
            ],
            401,
        ),
    ];
    behind_127_0_0_1(TrustedProxies::new(["127.0.0.1"]).unwrap(), &cases).await;
}

#[tokio::test]
async fn proxies_that_write_forwarded_are_read_through_forwarded_only() {
    let cases: [(&[(&str, &str)], u16); 5] = [
        (&[("forwarded", "for=192.0.2.7;proto=http")], 200),
        (&[("forwarded", r#"for="192.0.2.7:4711""#)], 200),
        (&[("forwarded", "for=unknown")], 401),
        (&[("x-forwarded-for", "192.0.2.7")], 401),
        (
            &[
                ("x-forwarded-for", "192.0.2.7"),
                ("forwarded", "for=198.51.100.1"),
            ],
            401,
        ),
    ];
    let proxies = TrustedProxies::new(["127.0.0.1"]).unwrap();
    behind_127_0_0_1(proxies.reading(ForwardedHeader::Forwarded), &cases).await;
}

#[tokio::test]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let stack = Stack::start().await;
    let admin = stack.operator_granted_put_rule().await;
    let operator = stack.operator("project1");
    let spoofed: [&[(&str, &str)]; 3] = [
        &[("x-forwarded-for", "192.0.2.7")],
        &[("forwarded", "for=192.0.2.7")],
        &[
            ("x-forwarded-for", "192.0.2.7"),
            ("forwarded", "for=192.0.2.7"),
        ],
    ];
    stack
        .set_addresses(&admin, OPERATOR, &[r"192\.0\.2\.7"])
        .await;
    for headers in spoofed {
        let reply = stack.put_rule_with(&operator, headers).await;
        assert_eq!(reply.status, 401, "spoofing with {headers:?}");
        assert_eq!(reply.challenge(), Some(ADDRESS_REFUSED));
    }
    // The peer is the client, whatever the headers say.
    stack
        .set_addresses(&admin, OPERATOR, &[r"127\.0\.0\.1"])
        .await;
    for headers in spoofed {
        let reply = stack.put_rule_with(&operator, headers).await;
        assert_eq!(reply.status, 200, "{headers:?}");
    }
}

#[tokio::test]
async fn a_role_with_an_address_pattern_that_does_not_compile_is_refused_and_nothing_else_changes()
{
    let stack = Stack::start().await;
    let admin = stack.operator_granted_put_rule().await;
    let operator = stack.operator("project1");
    let loopback = r"127\.0\.0\.1";
    // Each next to a pattern that matches: the role is refused because of the bad one.
    let invalid = [
        "(unclosed",
        r"127\.0\.0\.[",
        // Valid in Java, not in a linear-time engine: look-around and back-references.
        r"(?=1)127\.0\.0\.1",
        r"(1)\1",
        // Compiles to more than the size cap.
        r"(?:\d{1000}){1000}",
    ];
    for pattern in invalid {
        stack
            .set_addresses(&admin, OPERATOR, &[loopback, pattern])
            .await;
        let reply = stack.put_rule(&operator).await;
        assert_eq!(reply.status, 401, "{pattern}");
        assert_eq!(reply.challenge(), Some(ADDRESS_REFUSED));
        assert_eq!(stack.get(MY_USER, &operator).await.status, 401, "{pattern}");
        // The refresh that read it succeeded, and everyone else is served as before.
        for service in &stack.demo.services {
            assert!(service.health().is_up_to_date(), "{pattern}");
        }
        let user = stack.token(Role::RegisteredUser, "project1");
        assert_eq!(stack.get(MY_USER, &user).await.status, 200);
        let project_admin = stack.token(Role::ProjectAdmin, "project1");
        assert_eq!(stack.put_rule(&project_admin).await.status, 200);
    }
    stack.set_addresses(&admin, OPERATOR, &[loopback]).await;
    assert_eq!(stack.put_rule(&operator).await.status, 200, "fixed");
}

// ---- health -------------------------------------------------------------------------------------

#[tokio::test]
async fn every_demo_service_reports_administered_rights_registration_and_no_failure() {
    let stack = Stack::start_with(|config| config.refresh_period = Duration::from_secs(3600)).await;
    let mut names: Vec<&str> = stack
        .demo
        .services
        .iter()
        .map(ManagedAccess::microservice)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "rs-access-project",
            "rs-admin",
            "rs-admin-instance",
            "rs-catalog",
            "rs-notifier"
        ]
    );
    let read_at = |project: &str| -> Vec<_> {
        stack
            .demo
            .services
            .iter()
            .map(|service| {
                let health = service.health();
                let project = health
                    .projects
                    .iter()
                    .find(|health| health.project == project)
                    .unwrap();
                project.last_success.unwrap()
            })
            .collect()
    };
    for service in &stack.demo.services {
        let health = service.health();
        assert!(health.is_up_to_date(), "{}", health.microservice);
        let projects: Vec<&str> = health.projects.iter().map(|p| p.project.as_str()).collect();
        assert_eq!(projects, ["project1", "project2"]);
        for project in &health.projects {
            let who = format!("{} {}", health.microservice, project.project);
            assert_eq!(project.rights, RightsSource::Administered, "{who}");
            assert!(project.registered, "{who}");
            assert!(project.last_success.is_some(), "{who}");
            assert_eq!(project.last_failure, None, "{who}");
            assert_eq!(project.last_error, None, "{who}");
            assert_eq!(project.consecutive_failures, 0, "{who}");
        }
        let json = serde_json::to_value(&health).unwrap();
        assert_eq!(json["upToDate"], true);
        assert_eq!(json["projects"][0]["rights"], "administered");
    }

    // A role created in project1 has every service read project1's rights again, and only
    // project1's. First let the reads that follow each service's registration end: the
    // services are up to date before the last of them is done.
    let mut previous = Vec::new();
    eventually("the services' start-up reads end", async || {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = [read_at("project1"), read_at("project2")].concat();
        let settled = now == previous;
        previous = now;
        settled
    })
    .await;
    let before = (read_at("project1"), read_at("project2"));
    stack
        .create_role(
            &stack.token(Role::ProjectAdmin, "project1"),
            OPERATOR,
            "REGISTERED_USER",
        )
        .await;
    let after = (read_at("project1"), read_at("project2"));
    for (before, after) in before.0.iter().zip(&after.0) {
        assert!(after > before, "project1 read again");
    }
    assert_eq!(before.1, after.1, "project2 untouched");
    for service in &stack.demo.services {
        assert!(service.health().is_up_to_date());
    }
}

#[tokio::test]
async fn a_project_admin_cannot_open_an_instance_endpoint_to_itself() {
    let stack = Stack::start().await;
    let admin = stack.token(Role::ProjectAdmin, "project1");
    let accounts = "/api/v1/rs-admin-instance/accounts";
    assert_eq!(stack.get(accounts, &admin).await.status, 403);
    let body = json!({"microservice": "rs-admin-instance", "resource": "/accounts", "verb": "GET"});
    let reply = stack
        .send(
            Method::POST,
            &format!("{ADMIN}/roles/PROJECT_ADMIN/resources"),
            Some(&admin),
            &[],
            &body.to_string(),
        )
        .await;
    assert_eq!(reply.status, 403, "rs-admin refuses the grant");
    assert_eq!(stack.get(accounts, &admin).await.status, 403);
}
