//! Managed access against an rs-admin that misbehaves, over real HTTP on 127.0.0.1: down at
//! start-up then up, answering 500, garbage, slowly, or more than the size cap. Whatever it
//! does, requests keep being decided (the last good rights, or the declared defaults), nothing
//! panics, the health says what happened.
//!
//! The rs-admin here is a small axum server speaking rs-admin's paths and payloads, whose
//! answers a test switches between good and bad ones; `tests/managed_demo.rs` runs the demo's
//! full rs-admin.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{Method, Request, StatusCode};
use regards_auth::managed::{
    AdminError, Endpoint, Endpoints, ManagedAccess, ResourceAccess, RightsSource,
};
use regards_auth::{AuthError, Claims, Role, TokenIssuer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tower::{Layer, ServiceExt, service_fn};

#[path = "support/managed.rs"]
mod managed_support;
use managed_support::through_layer;

/// How rs-admin answers.
#[derive(Clone)]
enum Mode {
    /// As REGARDS: the rights below.
    Good,
    Status500,
    Garbage,
    Slow(Duration),
    /// A body of this many bytes.
    Huge(usize),
}

/// A role and the endpoints (verb, path) of rs-notifier it is granted.
type Grants = Vec<(String, Vec<(String, String)>)>;

struct Admin {
    mode: Mutex<Mode>,
    /// Role -> the endpoints (verb, path) of rs-notifier it is granted.
    grants: Mutex<Grants>,
    registrations: Mutex<Vec<(String, Value)>>,
    /// How many times `GET /roles` was called.
    role_listings: Mutex<usize>,
    /// The `Authorization` header of every call.
    authorizations: Mutex<Vec<String>>,
    /// Roles the next `GET /roles` lists, then deleted: their resources are not found.
    deleted: Mutex<Vec<String>>,
    /// Roles every `GET /roles` lists but whose resources rs-admin says it does not know.
    phantoms: Mutex<Vec<String>>,
    /// Whether role resources are answered by a gateway without that route (HTML 404s).
    gateway_404: Mutex<bool>,
    /// The path of every call.
    paths: Mutex<Vec<String>>,
}

impl Admin {
    fn new() -> Arc<Self> {
        Arc::new(Admin {
            mode: Mutex::new(Mode::Good),
            grants: Mutex::new(vec![
                ("PUBLIC".into(), vec![]),
                ("REGISTERED_USER".into(), vec![]),
                ("EXPLOIT".into(), vec![("GET".into(), "/recipients".into())]),
                ("ADMIN".into(), vec![("GET".into(), "/recipients".into())]),
                ("PROJECT_ADMIN".into(), vec![]),
            ]),
            registrations: Mutex::new(Vec::new()),
            authorizations: Mutex::new(Vec::new()),
            role_listings: Mutex::new(0),
            deleted: Mutex::new(Vec::new()),
            phantoms: Mutex::new(Vec::new()),
            gateway_404: Mutex::new(false),
            paths: Mutex::new(Vec::new()),
        })
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn grant(&self, role: &str, verb: &str, path: &str) {
        let mut grants = self.grants.lock().unwrap();
        match grants.iter_mut().find(|(name, _)| name == role) {
            Some((_, list)) => list.push((verb.into(), path.into())),
            None => grants.push((role.into(), vec![(verb.into(), path.into())])),
        }
    }

    /// The answer for `good`, unless the mode says otherwise.
    async fn answer(&self, good: Value) -> Response {
        let mode = self.mode.lock().unwrap().clone();
        match mode {
            Mode::Good => axum::Json(good).into_response(),
            Mode::Status500 => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
            Mode::Garbage => (StatusCode::OK, "<html>not json</html>").into_response(),
            Mode::Slow(delay) => {
                tokio::time::sleep(delay).await;
                axum::Json(good).into_response()
            }
            Mode::Huge(bytes) => {
                let mut body = b"[".to_vec();
                body.resize(bytes, b' ');
                (StatusCode::OK, body).into_response()
            }
        }
    }
}

async fn register(
    State(admin): State<Arc<Admin>>,
    Path(microservice): Path<String>,
    body: String,
) -> Response {
    let answer = admin.answer(json!(null)).await;
    if answer.status().is_success() {
        let body = serde_json::from_str(&body).unwrap_or(Value::Null);
        admin
            .registrations
            .lock()
            .unwrap()
            .push((microservice, body));
        StatusCode::OK.into_response()
    } else {
        answer
    }
}

async fn roles(State(admin): State<Arc<Admin>>) -> Response {
    *admin.role_listings.lock().unwrap() += 1;
    let mut names: Vec<String> = admin
        .grants
        .lock()
        .unwrap()
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    names.extend(admin.deleted.lock().unwrap().drain(..));
    names.extend(admin.phantoms.lock().unwrap().iter().cloned());
    let roles: Vec<Value> = names
        .iter()
        .map(|name| json!({"content": {"name": name, "isNative": true}, "links": []}))
        .collect();
    admin.answer(Value::Array(roles)).await
}

async fn role_resources(
    State(admin): State<Arc<Admin>>,
    Path((role, microservice)): Path<(String, String)>,
) -> Response {
    let granted = admin
        .grants
        .lock()
        .unwrap()
        .iter()
        .find(|(name, _)| *name == role)
        .map(|(_, list)| list.clone());
    if *admin.gateway_404.lock().unwrap() {
        return (
            StatusCode::NOT_FOUND,
            "<html><body>404 Not Found</body></html>",
        )
            .into_response();
    }
    let Some(granted) = granted else {
        // rs-admin's own answer (`ServerErrorResponse`).
        let body = json!({"messages": [format!("Role with name {role} does not exist")]});
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    };
    let resources: Vec<Value> = granted
        .iter()
        .map(|(verb, path)| {
            json!({"content": {"microservice": microservice, "resource": path, "verb": verb,
                "controllerSimpleName": "C", "defaultRole": "PROJECT_ADMIN"}, "links": []})
        })
        .collect();
    admin.answer(Value::Array(resources)).await
}

async fn tenants(State(admin): State<Arc<Admin>>, Path(microservice): Path<String>) -> Response {
    let projects = if microservice == "rs-notifier" {
        json!(["project1", "project7"])
    } else {
        json!([])
    };
    admin.answer(projects).await
}

fn admin_router(admin: Arc<Admin>) -> Router {
    let recorder = admin.clone();
    Router::new()
        .route("/resources/microservices/{ms}", post(register))
        .route("/roles", get(roles))
        .route("/roles/{role}/resources/{ms}", get(role_resources))
        // rs-admin-instance's tenant list, served here too for discovery.
        .route("/tenants/{ms}", get(tenants))
        .with_state(admin)
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let recorder = recorder.clone();
                async move {
                    let path = request.uri().path().to_owned();
                    recorder.paths.lock().unwrap().push(path);
                    if let Some(value) = request.headers().get("authorization") {
                        let value = value.to_str().unwrap_or_default().to_owned();
                        recorder.authorizations.lock().unwrap().push(value);
                    }
                    next.run(request).await
                }
            },
        ))
}

async fn serve_on(listener: TcpListener, admin: Arc<Admin>) {
    tokio::spawn(async move {
        axum::serve(listener, admin_router(admin)).await.unwrap();
    });
}

async fn start_admin() -> (Arc<Admin>, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let admin = Admin::new();
    serve_on(listener, admin.clone()).await;
    (admin, address)
}

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

fn access(address: SocketAddr) -> ManagedAccess {
    ManagedAccess::builder("rs-notifier", endpoints())
        .admin_url(format!("http://{address}"))
        .system_tokens(TokenIssuer::development())
        .projects(["project1"])
        .admin_timeout(Duration::from_millis(500))
        .max_response_size(64 * 1024)
        .refresh_period(Duration::from_millis(200))
        .build()
        .unwrap()
}

/// The status `role` gets on `method path` in project1 (the handler answers 200).
async fn status(access: &ManagedAccess, role: Role, method: Method, path: &str) -> StatusCode {
    through_layer(access, role, None, method, path)
        .await
        .status()
}

fn rights_source(access: &ManagedAccess) -> RightsSource {
    access.health().projects[0].rights
}

#[tokio::test]
async fn registration_sends_the_resource_mappings_with_a_system_token() {
    let (admin, address) = start_admin().await;
    let access = access(address);
    access.register("project1").await.unwrap();
    let registrations = admin.registrations.lock().unwrap().clone();
    assert_eq!(registrations.len(), 1);
    let (microservice, body) = &registrations[0];
    assert_eq!(microservice, "rs-notifier");
    assert_eq!(
        body,
        &json!([
            {"resourceAccess": {"role": "PROJECT_ADMIN", "description": "Import a rule"},
             "fullPath": "/rule", "controllerSimpleName": "RuleController", "method": "PUT",
             "authorizedRoles": [{"autority": "ROLE_PROJECT_ADMIN", "authorizedIpAdresses": []}]},
            {"resourceAccess": {"role": "EXPLOIT", "description": "List the recipients"},
             "fullPath": "/recipients", "controllerSimpleName": "RecipientController", "method": "GET",
             "authorizedRoles": [{"autority": "ROLE_EXPLOIT", "authorizedIpAdresses": []}]}
        ])
    );
    assert!(access.health().projects[0].registered);
    let authorization = admin.authorizations.lock().unwrap()[0].clone();
    let token = authorization
        .strip_prefix("Bearer ")
        .expect("a bearer token");
    let verifier = regards_auth::Verifier::builder()
        .hs512(regards_auth::REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap();
    let claims = verifier.verify(token).unwrap();
    assert_eq!(claims.role(), &Role::System("rs-notifier".into()));
    assert_eq!(claims.role().to_string(), "ROLE_SYS_rs-notifier");
    assert_eq!((claims.sub(), claims.tenant()), ("rs-notifier", "project1"));
}

#[tokio::test]
async fn refreshed_rights_replace_the_defaults() {
    let (admin, address) = start_admin().await;
    let access = access(address);
    // Defaults: GET /recipients needs EXPLOIT or above.
    assert_eq!(
        status(&access, Role::RegisteredUser, Method::GET, "/recipients").await,
        403
    );
    admin.grant("REGISTERED_USER", "GET", "/recipients");
    access.refresh("project1").await.unwrap();
    assert_eq!(rights_source(&access), RightsSource::Administered);
    assert_eq!(
        status(&access, Role::RegisteredUser, Method::GET, "/recipients").await,
        200
    );
}

#[tokio::test]
async fn a_failing_refresh_keeps_the_last_good_rights() {
    let (admin, address) = start_admin().await;
    let access = access(address);
    admin.grant("REGISTERED_USER", "GET", "/recipients");
    access.refresh("project1").await.unwrap();
    for (mode, expected) in [
        (
            Mode::Status500,
            AdminError::Status(StatusCode::INTERNAL_SERVER_ERROR),
        ),
        (
            Mode::Garbage,
            AdminError::BadAnswer("not the JSON REGARDS sends"),
        ),
        (Mode::Slow(Duration::from_secs(3)), AdminError::Timeout),
        (
            Mode::Huge(10 << 20),
            AdminError::BadAnswer("the answer is larger than the size cap"),
        ),
    ] {
        admin.set(mode);
        assert_eq!(access.refresh("project1").await, Err(expected.clone()));
        assert_eq!(rights_source(&access), RightsSource::Administered);
        assert_eq!(
            status(&access, Role::RegisteredUser, Method::GET, "/recipients").await,
            200,
            "{expected}"
        );
        let health = &access.health().projects[0];
        assert!(health.consecutive_failures > 0);
        assert_eq!(
            health.last_error.as_deref(),
            Some(expected.to_string().as_str())
        );
    }
    admin.set(Mode::Good);
    access.refresh("project1").await.unwrap();
    assert_eq!(access.health().projects[0].consecutive_failures, 0);
}

#[tokio::test]
async fn bad_answers_before_any_rights_leave_the_defaults_deciding() {
    let (admin, address) = start_admin().await;
    let access = access(address);
    admin.set(Mode::Status500);
    assert!(access.refresh("project1").await.is_err());
    assert_eq!(rights_source(&access), RightsSource::Defaults);
    assert_eq!(
        status(&access, Role::Exploit, Method::GET, "/recipients").await,
        200
    );
    assert_eq!(
        status(&access, Role::Exploit, Method::PUT, "/rule").await,
        403
    );
}

#[tokio::test]
async fn admin_down_at_start_up_then_up_is_followed_by_the_refresher() {
    // A port nothing listens on yet.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let access = access(address);
    let refresher = access.spawn();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = &access.health().projects[0];
    assert_eq!(health.rights, RightsSource::Defaults);
    assert!(!health.registered);
    assert!(matches!(
        health.last_error.as_deref(),
        Some(error) if error.starts_with("rs-admin could not be reached")
    ));
    // Serving goes on, from the defaults.
    assert_eq!(
        status(&access, Role::Exploit, Method::GET, "/recipients").await,
        200
    );

    let admin = Admin::new();
    admin.grant("REGISTERED_USER", "GET", "/recipients");
    serve_on(TcpListener::bind(address).await.unwrap(), admin.clone()).await;
    // The first retry comes within the refresh period (200 ms here); allow a few.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !access.health().is_up_to_date() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            access.health()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(access.health().projects[0].registered);
    assert_eq!(admin.registrations.lock().unwrap().len(), 1);
    assert_eq!(
        status(&access, Role::RegisteredUser, Method::GET, "/recipients").await,
        200
    );
    drop(refresher);
}

#[tokio::test]
async fn periodic_refresh_follows_a_grant_and_a_revocation() {
    let (admin, address) = start_admin().await;
    let access = access(address);
    let _refresher = access.spawn();
    let wait_for = |expected: StatusCode| {
        let access = access.clone();
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                let got = status(&access, Role::RegisteredUser, Method::GET, "/recipients").await;
                if got == expected {
                    return;
                }
                assert!(tokio::time::Instant::now() < deadline, "still {got}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    wait_for(StatusCode::FORBIDDEN).await;
    admin.grant("REGISTERED_USER", "GET", "/recipients");
    wait_for(StatusCode::OK).await;
    admin
        .grants
        .lock()
        .unwrap()
        .retain(|(name, _)| name != "REGISTERED_USER");
    wait_for(StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_role_deleted_between_listing_and_reading_is_skipped() {
    let (admin, address) = start_admin().await;
    let access = access(address);
    // Listed by the first GET /roles, then deleted: rs-admin's own 404 on its resources, and
    // absent from the listing read again to confirm.
    admin.deleted.lock().unwrap().push("GHOST".into());
    access.refresh("project1").await.unwrap();
    assert_eq!(rights_source(&access), RightsSource::Administered);
    assert_eq!(*admin.role_listings.lock().unwrap(), 2);
    assert_eq!(
        status(
            &access,
            Role::Custom("GHOST".into()),
            Method::GET,
            "/recipients"
        )
        .await,
        403
    );
}

/// project1's rights read once (REGISTERED_USER granted GET /recipients), then `break_it`
/// applied to rs-admin: the next refresh must fail, keep those rights and say so in health.
async fn next_refresh_fails_and_keeps_the_rights(
    break_it: impl FnOnce(&Admin),
    expected: AdminError,
) {
    let (admin, address) = start_admin().await;
    let access = access(address);
    admin.grant("REGISTERED_USER", "GET", "/recipients");
    access.refresh("project1").await.unwrap();
    break_it(&admin);
    assert_eq!(access.refresh("project1").await, Err(expected.clone()));
    let health = &access.health().projects[0];
    assert_eq!(health.rights, RightsSource::Administered);
    assert_eq!(health.consecutive_failures, 1);
    assert_eq!(health.last_error.as_deref(), Some(&*expected.to_string()));
    assert!(!access.health().is_up_to_date());
    for role in [Role::RegisteredUser, Role::Exploit] {
        let got = status(&access, role.clone(), Method::GET, "/recipients").await;
        assert_eq!(got, 200, "{role} keeps the last good rights");
    }
}

#[tokio::test]
async fn a_gateways_404_on_role_resources_fails_the_refresh_instead_of_wiping_the_rights() {
    next_refresh_fails_and_keeps_the_rights(
        |admin| *admin.gateway_404.lock().unwrap() = true,
        AdminError::Status(StatusCode::NOT_FOUND),
    )
    .await;
}

#[tokio::test]
async fn rs_admins_404_for_a_role_it_still_lists_fails_the_refresh() {
    next_refresh_fails_and_keeps_the_rights(
        |admin| admin.phantoms.lock().unwrap().push("CURATOR".into()),
        AdminError::BadAnswer("rs-admin lists a role whose rights it says it does not know"),
    )
    .await;
}

#[tokio::test]
async fn answers_past_the_refresh_size_cap_fail_the_refresh() {
    let (admin, address) = start_admin().await;
    let access = ManagedAccess::builder("rs-notifier", endpoints())
        .admin_url(format!("http://{address}"))
        .system_tokens(TokenIssuer::development())
        .projects(["project1"])
        .max_refresh_size(2048)
        .build()
        .unwrap();
    admin.grant("REGISTERED_USER", "GET", "/recipients");
    access.refresh("project1").await.unwrap();
    // Each answer is under the per-answer cap; together they are past the refresh's.
    for role in 0..8 {
        admin.grant(&format!("ROLE{role}"), "GET", "/recipients");
    }
    assert_eq!(
        access.refresh("project1").await,
        Err(AdminError::BadAnswer(
            "the answers of one refresh are larger than the refresh size cap"
        ))
    );
    assert_eq!(
        status(&access, Role::RegisteredUser, Method::GET, "/recipients").await,
        200
    );
}

#[tokio::test]
async fn role_x_and_role_prefixed_x_both_get_the_grants_rs_admin_holds_for_x() {
    // REGARDS reads the grants of every listed role under its name without `ROLE_`: the
    // grants rs-admin holds for a role literally named ROLE_CURATOR are never read.
    let (admin, address) = start_admin().await;
    let access = access(address);
    admin
        .grants
        .lock()
        .unwrap()
        .push(("CURATOR".into(), vec![]));
    admin.grant("ROLE_CURATOR", "GET", "/recipients");
    access.refresh("project1").await.unwrap();
    for role in ["CURATOR", "ROLE_CURATOR"] {
        let got = status(&access, Role::from_name(role), Method::GET, "/recipients").await;
        assert_eq!(got, 403, "{role}");
    }
    let paths = admin.paths.lock().unwrap().clone();
    assert!(paths.contains(&"/roles/CURATOR/resources/rs-notifier".to_owned()));
    assert!(
        !paths.iter().any(|path| path.contains("ROLE_CURATOR")),
        "{paths:?}"
    );
}

#[tokio::test]
async fn a_role_rs_admin_cannot_be_asked_about_is_never_sent_and_gets_nothing() {
    // Dot segments would name another URL; `/`, `\`, `%`, `;` and control characters are
    // refused by the firewall in front of rs-admin, which would fail every refresh.
    let (admin, address) = start_admin().await;
    let access = access(address);
    let names = [
        ".",
        "..",
        "ROLE_..",
        "R&D/ops",
        "50%",
        "a;b",
        "a\\b",
        "tab\tname",
    ];
    for name in names {
        admin.grant(name, "GET", "/recipients");
    }
    access.refresh("project1").await.unwrap();
    let paths = admin.paths.lock().unwrap().clone();
    let asked: Vec<&String> = paths
        .iter()
        .filter(|path| path.starts_with("/roles/"))
        .collect();
    let sendable = [
        "PUBLIC",
        "REGISTERED_USER",
        "EXPLOIT",
        "ADMIN",
        "PROJECT_ADMIN",
    ];
    assert_eq!(asked.len(), sendable.len(), "{paths:?}");
    for name in names {
        let got = status(&access, Role::from_name(name), Method::GET, "/recipients").await;
        assert_eq!(got, 403, "{name}");
    }
}

#[tokio::test]
async fn dropping_the_refresher_stops_the_background_work() {
    let (admin, address) = start_admin().await;
    let access = access(address);
    let refresher = access.spawn();
    tokio::time::sleep(Duration::from_millis(300)).await;
    refresher.stop();
    let registrations = admin.registrations.lock().unwrap().len();
    assert_eq!(registrations, 1);
    let failures_before = access.health().projects[0].last_success;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(access.health().projects[0].last_success, failures_before);
}

#[tokio::test]
async fn a_detached_refresher_stops_with_the_last_clone_of_the_access() {
    let (admin, address) = start_admin().await;
    let access = access(address);
    access.spawn().detach();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(admin.registrations.lock().unwrap().len(), 1);
    let calls = || admin.authorizations.lock().unwrap().len();
    drop(access);
    // A call may be in flight when the access goes; none starts after it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_drop = calls();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(calls(), after_drop);
}

#[tokio::test]
async fn projects_are_discovered_from_rs_admin_instance_and_registered() {
    let (admin, address) = start_admin().await;
    let access = ManagedAccess::builder("rs-notifier", endpoints())
        .admin_url(format!("http://{address}"))
        .admin_instance_url(format!("http://{address}"))
        .system_tokens(TokenIssuer::development())
        .refresh_period(Duration::from_millis(200))
        .build()
        .unwrap();
    assert!(access.projects().is_empty());
    let _refresher = access.spawn();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(access.projects() == ["project1", "project7"] && access.health().is_up_to_date()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            access.health()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let registrations = admin.registrations.lock().unwrap().len();
    assert_eq!(registrations, 2, "once per discovered project");
    // The discovery call carries a system token for no project, as REGARDS' tenant resolver.
    let verifier = regards_auth::Verifier::builder()
        .hs512(regards_auth::REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap();
    let tenants: Vec<String> = admin
        .authorizations
        .lock()
        .unwrap()
        .iter()
        .map(|value| {
            verifier
                .verify(value.strip_prefix("Bearer ").unwrap())
                .unwrap()
                .tenant()
                .to_owned()
        })
        .collect();
    assert!(tenants.iter().any(|tenant| tenant == "_NOTENANT_"));
}

#[tokio::test]
async fn discovery_failure_keeps_serving_the_configured_projects() {
    let (admin, address) = start_admin().await;
    admin.set(Mode::Garbage);
    let access = ManagedAccess::builder("rs-notifier", endpoints())
        .admin_url(format!("http://{address}"))
        .admin_instance_url(format!("http://{address}"))
        .system_tokens(TokenIssuer::development())
        .projects(["project1"])
        .refresh_period(Duration::from_millis(200))
        .build()
        .unwrap();
    let _refresher = access.spawn();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(access.projects(), ["project1"]);
    assert_eq!(
        status(&access, Role::Exploit, Method::GET, "/recipients").await,
        200
    );
}

#[tokio::test]
async fn a_burst_of_refresh_requests_reads_rs_admin_at_most_twice() {
    let (admin, address) = start_admin().await;
    let access = access(address);
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let access = access.clone();
        burst.spawn(async move { access.refresh("project1").await });
    }
    while let Some(refreshed) = burst.join_next().await {
        assert_eq!(refreshed.unwrap(), Ok(()));
    }
    // The first read, then one that started after the last request: it answers them all.
    let listings = *admin.role_listings.lock().unwrap();
    assert!(
        (1..=2).contains(&listings),
        "{listings} reads for 10 requests"
    );
    // A request made after that burst reads again.
    access.refresh("project1").await.unwrap();
    assert_eq!(*admin.role_listings.lock().unwrap(), listings + 1);
}

#[tokio::test]
async fn a_refresh_slower_than_its_deadline_fails_and_keeps_the_rights() {
    let (admin, address) = start_admin().await;
    let access = ManagedAccess::builder("rs-notifier", endpoints())
        .admin_url(format!("http://{address}"))
        .system_tokens(TokenIssuer::development())
        .projects(["project1"])
        .admin_timeout(Duration::from_millis(500))
        .refresh_timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    access.refresh("project1").await.unwrap();
    // Each call answers within its own timeout, but six of them do not fit in the deadline.
    admin.set(Mode::Slow(Duration::from_millis(300)));
    assert_eq!(access.refresh("project1").await, Err(AdminError::Timeout));
    assert_eq!(rights_source(&access), RightsSource::Administered);
}

#[tokio::test]
async fn events_for_a_project_not_served_are_refused_and_serve_nothing() {
    let (admin, address) = start_admin().await;
    let access = access(address);
    assert_eq!(
        access.refresh("project9").await,
        Err(AdminError::UnknownProject)
    );
    assert_eq!(
        access.register("project9").await,
        Err(AdminError::UnknownProject)
    );
    assert_eq!(access.projects(), ["project1"]);
    assert!(
        admin.authorizations.lock().unwrap().is_empty(),
        "rs-admin not called"
    );
}

#[tokio::test]
async fn rejected_request_carries_the_typed_reason() {
    let (_admin, address) = start_admin().await;
    let access = access(address);
    let mut request = Request::get("/nowhere").body(Body::empty()).unwrap();
    request.extensions_mut().insert(Claims::new(
        "a",
        "a",
        Role::ProjectAdmin,
        "project1",
        u64::MAX,
    ));
    let response = access
        .layer()
        .layer(service_fn(|_: Request<Body>| async {
            Ok::<_, Infallible>(Response::new(Body::empty()))
        }))
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(
        response.extensions().get::<AuthError>(),
        Some(&AuthError::EndpointNotDeclared)
    );
}

/// How many calls rs-admin received with a system token for `tenant`.
fn calls_for(admin: &Admin, tenant: &str) -> usize {
    let verifier = regards_auth::Verifier::builder()
        .hs512(regards_auth::REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap();
    admin
        .authorizations
        .lock()
        .unwrap()
        .iter()
        .filter_map(|value| value.strip_prefix("Bearer "))
        .filter_map(|token| verifier.verify(token).ok())
        .filter(|claims| claims.tenant() == tenant)
        .count()
}

#[tokio::test]
async fn a_removed_project_is_no_longer_read_from_rs_admin() {
    let (admin, address) = start_admin().await;
    let access = ManagedAccess::builder("rs-notifier", endpoints())
        .admin_url(format!("http://{address}"))
        .system_tokens(TokenIssuer::development())
        .projects(["project1", "project2"])
        .refresh_period(Duration::from_millis(100))
        .build()
        .unwrap();
    let _refresher = access.spawn();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(access.health().is_up_to_date() && calls_for(&admin, "project1") >= 4) {
        assert!(tokio::time::Instant::now() < deadline, "refreshed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    assert!(access.remove_project("project1"));
    // A call may be in flight when the project goes; none starts after it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (project1, project2) = (calls_for(&admin, "project1"), calls_for(&admin, "project2"));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(calls_for(&admin, "project1"), project1, "its task stopped");
    assert!(
        calls_for(&admin, "project2") > project2,
        "the other project is still refreshed"
    );
    assert_eq!(access.projects(), ["project2"]);
    assert_eq!(access.health().projects.len(), 1);
}

#[tokio::test]
async fn a_refresh_running_when_its_project_is_removed_brings_no_rights_back() {
    let (admin, address) = start_admin().await;
    let access = access(address);
    // Served, rights not read yet: EXPLOIT passes on its default endpoint.
    assert_eq!(
        status(&access, Role::Exploit, Method::GET, "/recipients").await,
        StatusCode::OK
    );
    admin.set(Mode::Slow(Duration::from_millis(400)));
    let refreshing = tokio::spawn({
        let access = access.clone();
        async move { access.refresh("project1").await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(access.remove_project("project1"));
    assert_eq!(
        refreshing.await.unwrap(),
        Err(AdminError::UnknownProject),
        "the refresh finds its project gone"
    );
    assert!(access.health().projects.is_empty());
    assert!(access.hierarchy("project1").is_none());
    assert_eq!(
        status(&access, Role::Exploit, Method::GET, "/recipients").await,
        StatusCode::FORBIDDEN,
        "decided as a project not served"
    );
}
