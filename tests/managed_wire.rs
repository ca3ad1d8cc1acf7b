//! Managed access speaks REGARDS' wire formats as Gson writes them: the registration body is the
//! one a REGARDS service POSTs, and rs-admin's `GET /roles` and `GET /roles/{role}/resources/{ms}`
//! answers, exactly as Gson serializes them, are read and decided on.
//!
//! The fixtures under `tests/fixtures/gson/` are written by Gson itself from Java classes shaped
//! as REGARDS' (`tests/fixtures/RegardsGson.java`; `tests/fixtures/README-gson.md` says how to
//! re-run it). They are served by a small rs-admin on 127.0.0.1.
//!
//! A managed service also answers `GET /security/resources` with that registration body, as
//! every REGARDS service does, under REGARDS' rule for it (any authenticated caller, within its
//! role's address filter).

#[path = "support/reply.rs"]
mod reply;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::header::CONTENT_TYPE;
use http::{Method, StatusCode};
use regards_auth::managed::{
    Endpoint, Endpoints, ManagedAccess, ResourceAccess, RightsSource, Routes,
};
use regards_auth::{
    AuthError, BearerAuthLayer, REGARDS_DEVELOPMENT_KEY, Role, TokenIssuer, Verifier,
};
use serde_json::Value;
use tokio::net::TcpListener;

#[path = "support/managed.rs"]
mod managed_support;
use managed_support::through_layer;

/// A Gson fixture's exact bytes.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/gson/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("JSON")
}

/// The roles `roles.json` lists, each with a `resources-<ROLE>.json` answer.
const ROLES: [&str; 7] = [
    "ADMIN",
    "EXPLOIT",
    "NOTIFIER_OPERATOR",
    "NOTIFIER_SUPERVISOR",
    "PROJECT_ADMIN",
    "PUBLIC",
    "REGISTERED_USER",
];

/// An rs-admin answering with fixed bodies and recording the registrations it receives.
struct Admin {
    roles: Vec<u8>,
    /// Role -> its `GET /roles/{role}/resources/rs-notifier` answer.
    resources: HashMap<String, Vec<u8>>,
    /// (microservice, body as received).
    registrations: Mutex<Vec<(String, Bytes)>>,
}

impl Admin {
    /// rs-admin answering with the Gson fixtures, each passed through `edit`.
    fn gson(edit: impl Fn(Vec<u8>) -> Vec<u8>) -> Arc<Self> {
        let resources = ROLES
            .iter()
            .map(|role| {
                let body = fixture(&format!("resources-{role}.json"));
                ((*role).to_owned(), edit(body))
            })
            .collect();
        Arc::new(Admin {
            roles: edit(fixture("roles.json")),
            resources,
            registrations: Mutex::new(Vec::new()),
        })
    }
}

fn json_response(body: &[u8]) -> Response {
    ([(CONTENT_TYPE, "application/json")], body.to_vec()).into_response()
}

async fn register(
    State(admin): State<Arc<Admin>>,
    Path(microservice): Path<String>,
    body: Bytes,
) -> StatusCode {
    admin
        .registrations
        .lock()
        .unwrap()
        .push((microservice, body));
    StatusCode::OK
}

async fn roles(State(admin): State<Arc<Admin>>) -> Response {
    json_response(&admin.roles)
}

async fn role_resources(
    State(admin): State<Arc<Admin>>,
    Path((role, microservice)): Path<(String, String)>,
) -> Response {
    match admin.resources.get(&role) {
        Some(body) if microservice == "rs-notifier" => json_response(body),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn start_admin(admin: Arc<Admin>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/resources/microservices/{ms}", post(register))
        .route("/roles", get(roles))
        .route("/roles/{role}/resources/{ms}", get(role_resources))
        .with_state(admin);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}

/// The endpoints of `tests/managed_faults.rs`, which `RegardsGson.java` declares too.
fn endpoints() -> Endpoints {
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
            ResourceAccess::new("List the recipients", Role::Exploit),
        ),
    ])
    .unwrap()
}

fn access(address: SocketAddr, endpoints: Endpoints) -> ManagedAccess {
    ManagedAccess::builder("rs-notifier", endpoints)
        .admin_url(format!("http://{address}"))
        .system_tokens(TokenIssuer::development())
        .projects(["project1"])
        .admin_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// A managed access whose rights were just read from rs-admin answering `admin`.
async fn refreshed(admin: Arc<Admin>) -> ManagedAccess {
    let access = access(start_admin(admin).await, endpoints());
    access.refresh("project1").await.unwrap();
    assert_eq!(
        access.health().projects[0].rights,
        RightsSource::Administered
    );
    access
}

/// The body `endpoints` are registered with, as rs-admin receives it.
async fn registration_body(endpoints: Endpoints) -> Bytes {
    let admin = Admin::gson(|body| body);
    let access = access(start_admin(admin.clone()).await, endpoints);
    access.register("project1").await.unwrap();
    let registrations = admin.registrations.lock().unwrap();
    assert_eq!(registrations.len(), 1);
    assert_eq!(registrations[0].0, "rs-notifier");
    registrations[0].1.clone()
}

/// The response `role`, calling from `from`, gets on `method path` in project1 (the handler
/// answers 200).
async fn call(
    access: &ManagedAccess,
    role: &str,
    from: &str,
    method: Method,
    path: &str,
) -> Response {
    through_layer(access, Role::from_name(role), Some(from), method, path).await
}

async fn status(
    access: &ManagedAccess,
    role: &str,
    from: &str,
    method: Method,
    path: &str,
) -> StatusCode {
    call(access, role, from, method, path).await.status()
}

/// Gson's HTML-safe escapes (`'`, `<`, `>`, `&`, `=` as `\u00XX`) replaced by the characters.
fn without_html_escapes(gson: &[u8]) -> Vec<u8> {
    let mut text = String::from_utf8(gson.to_vec()).unwrap();
    for (escape, character) in [
        (r"\u0027", "'"),
        (r"\u003c", "<"),
        (r"\u003e", ">"),
        (r"\u0026", "&"),
        (r"\u003d", "="),
    ] {
        text = text.replace(escape, character);
    }
    text.into_bytes()
}

#[tokio::test]
async fn registration_body_is_byte_for_byte_the_one_gson_writes() {
    let ours = registration_body(endpoints()).await;
    let gson = fixture("registration.json");
    assert_eq!(json(&ours), json(&gson));
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&gson)
    );
}

#[tokio::test]
async fn registration_body_differs_from_gson_only_by_gson_html_escapes() {
    // Gson (HTML-safe by default, as REGARDS leaves it) writes ' < > & = as \u00XX escapes;
    // serde_json writes the characters. Both are the same JSON string to any JSON reader,
    // rs-admin's Gson included; non-ASCII text is raw UTF-8 in both.
    let ours = registration_body(
        Endpoints::new([Endpoint::new(
            Method::DELETE,
            "/rule/{id}/recipients",
            "RuleController",
            ResourceAccess::new(
                "Remove a rule's recipients <all> & reset = 'règle vide'",
                Role::Admin,
            ),
        )])
        .unwrap(),
    )
    .await;
    let gson = fixture("registration-escaped.json");
    assert_eq!(json(&ours), json(&gson));
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&without_html_escapes(&gson))
    );
}

#[tokio::test]
async fn gson_roles_answer_gives_custom_roles_their_native_parents() {
    let access = refreshed(Admin::gson(|body| body)).await;
    let hierarchy = access.hierarchy("project1").unwrap();
    let operator = Role::from_name("NOTIFIER_OPERATOR");
    let supervisor = Role::from_name("NOTIFIER_SUPERVISOR");
    assert!(hierarchy.reaches(&operator, &Role::RegisteredUser));
    assert!(!hierarchy.reaches(&operator, &Role::Exploit));
    assert!(hierarchy.reaches(&supervisor, &Role::Admin));
    assert!(!hierarchy.reaches(&supervisor, &Role::ProjectAdmin));
}

#[tokio::test]
async fn custom_role_granted_put_rule_in_gson_answers_passes() {
    let access = refreshed(Admin::gson(|body| body)).await;
    let role = "NOTIFIER_OPERATOR";
    assert_eq!(
        status(&access, role, "203.0.113.9", Method::PUT, "/rule").await,
        StatusCode::OK
    );
    // Not among its grants: rs-admin's answer, not the hierarchy, decides.
    assert_eq!(
        status(&access, role, "203.0.113.9", Method::GET, "/recipients").await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn native_roles_are_granted_what_gson_answers_list() {
    let access = refreshed(Admin::gson(|body| body)).await;
    // `"authorizedAddresses":[]` (every native role here) restricts nothing.
    for (role, method, path, expected) in [
        ("EXPLOIT", Method::GET, "/recipients", StatusCode::OK),
        ("ADMIN", Method::GET, "/recipients", StatusCode::OK),
        ("EXPLOIT", Method::PUT, "/rule", StatusCode::FORBIDDEN),
        ("ADMIN", Method::PUT, "/rule", StatusCode::FORBIDDEN),
        (
            "REGISTERED_USER",
            Method::GET,
            "/recipients",
            StatusCode::FORBIDDEN,
        ),
        ("PUBLIC", Method::GET, "/recipients", StatusCode::FORBIDDEN),
        ("PROJECT_ADMIN", Method::PUT, "/rule", StatusCode::OK),
    ] {
        assert_eq!(
            status(&access, role, "203.0.113.9", method.clone(), path).await,
            expected,
            "{role} {method} {path}"
        );
    }
}

#[tokio::test]
async fn address_restricted_role_is_refused_401_from_outside_its_addresses() {
    let access = refreshed(Admin::gson(|body| body)).await;
    // NOTIFIER_SUPERVISOR: ["10\\.1\\.2\\.[0-9]+","192\\.168\\.0\\.7"] in Gson's JSON, Java
    // regexes matched against the whole address.
    let role = "NOTIFIER_SUPERVISOR";
    for from in ["10.1.2.7", "10.1.2.250", "192.168.0.7"] {
        assert_eq!(
            status(&access, role, from, Method::PUT, "/rule").await,
            StatusCode::OK,
            "{from}"
        );
    }
    for from in ["127.0.0.1", "192.168.0.70", "110.1.2.7", "::1"] {
        let response = call(&access, role, from, Method::PUT, "/rule").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{from}");
        assert_eq!(
            response.extensions().get::<AuthError>(),
            Some(&AuthError::AddressNotAllowed)
        );
    }
}

/// `value` with members no REGARDS version writes today added to every object, at every depth.
fn with_unknown_members(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for member in members.values_mut() {
                with_unknown_members(member);
            }
            members.insert(
                "addedInAFutureVersion".into(),
                serde_json::json!({"nested": [1, null, "x", {"deeper": true}]}),
            );
            members.insert("permissions".into(), serde_json::json!([]));
        }
        Value::Array(items) => items.iter_mut().for_each(with_unknown_members),
        _ => {}
    }
}

#[tokio::test]
async fn unknown_members_in_gson_answers_are_ignored() {
    // Gson's answers already carry members the client does not read (id, isDefault, links,
    // description, controllerSimpleName, defaultRole); later versions may add others anywhere.
    let roles = json(&fixture("roles.json"));
    let first = &roles[0];
    for member in ["id", "isDefault"] {
        assert!(first["content"].get(member).is_some(), "{member}");
    }
    assert_eq!(first["links"][0]["rel"], "self");
    let access = refreshed(Admin::gson(|body| {
        let mut value = json(&body);
        with_unknown_members(&mut value);
        serde_json::to_vec(&value).unwrap()
    }))
    .await;
    assert_eq!(
        status(
            &access,
            "NOTIFIER_OPERATOR",
            "203.0.113.9",
            Method::PUT,
            "/rule"
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        status(
            &access,
            "NOTIFIER_SUPERVISOR",
            "127.0.0.1",
            Method::PUT,
            "/rule"
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(
            &access,
            "EXPLOIT",
            "203.0.113.9",
            Method::GET,
            "/recipients"
        )
        .await,
        StatusCode::OK
    );
}

/// rs-notifier with the fixtures' two endpoints, declared with `Routes`, served on 127.0.0.1
/// behind `BearerAuthLayer` (public access on) and its managed access, whose rights were read
/// from rs-admin answering the Gson fixtures.
async fn serve_notifier() -> SocketAddr {
    let admin = start_admin(Admin::gson(|body| body)).await;
    let (router, endpoints) = Routes::new("RuleController")
        .put(
            "/rule",
            ResourceAccess::new("Import a rule", Role::ProjectAdmin),
            || async { "stored" },
        )
        .controller("RecipientController")
        .get(
            "/recipients",
            ResourceAccess::new("List the recipients", Role::Exploit),
            || async { "[]" },
        )
        .build()
        .unwrap();
    let access = access(admin, endpoints);
    access.refresh("project1").await.unwrap();
    let verifier = Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap();
    let app = router
        .route_layer(access.layer())
        .layer(BearerAuthLayer::new(verifier).allow_public())
        .into_make_service_with_connect_info::<SocketAddr>();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

#[tokio::test]
async fn security_resources_answers_the_body_gson_writes_for_the_registration() {
    let notifier = serve_notifier().await;
    let url = format!("http://{notifier}/security/resources");
    let token = |role: &str| {
        let token =
            TokenIssuer::development().mint("jane@regards.fr", Role::from_name(role), "project1");
        format!("Bearer {token}")
    };
    // A custom role granted nothing in rs-admin: the list needs no grant.
    let operator = token("NOTIFIER_OPERATOR");
    let reply = reply::send(Method::GET, &url, &[("authorization", &operator)], "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(
        String::from_utf8_lossy(&reply.body),
        String::from_utf8_lossy(&fixture("registration.json"))
    );
    // The PUBLIC identity of an anonymous request with a scope is authenticated too.
    let anonymous = reply::send(Method::GET, &format!("{url}?scope=project1"), &[], "").await;
    assert_eq!(anonymous.body, reply.body);
    // Not authenticated at all: 401.
    assert_eq!(reply::send(Method::GET, &url, &[], "").await.status, 401);
    // NOTIFIER_SUPERVISOR may only call from 10.1.2.x and 192.168.0.7: not from 127.0.0.1.
    let supervisor = token("NOTIFIER_SUPERVISOR");
    let refused = reply::send(Method::GET, &url, &[("authorization", &supervisor)], "").await;
    assert_eq!(refused.status, 401);
}
