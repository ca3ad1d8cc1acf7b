//! The worst rs-admin answers managed access accepts, and what one refresh of them costs: how
//! long it may hold the async runtime's thread, and how much memory it may take.
//!
//! rs-admin (or a project administrator through it) chooses the roles, each role's address
//! patterns and each role's grants. Here a local rs-admin sends the most the limits let
//! through: 1,000 roles (the cap), the project's address-pattern budgets spent in the costliest
//! ways, and grants answers just under the per-answer cap (4 MiB) until the
//! refresh's total cap (32 MiB) is nearly reached. The refresh must succeed, leave a ticker on
//! the same current-thread runtime running on time, and keep its peak heap far below what the
//! answers weigh together.
//!
//! The bounds asserted are generous (the figures vary with the machine and the build); the
//! figures measured are printed (`cargo test --test managed_bounds -- --nocapture`) and
//! reported in BENCHMARKS.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::response::Response;
use axum::routing::{get, post};
use http::{Method, StatusCode};
use regards_auth::managed::{
    DEFAULT_MAX_REFRESH_SIZE, DEFAULT_MAX_RESPONSE, Endpoint, Endpoints, MAX_PATTERNS_PER_PROJECT,
    MAX_PATTERNS_PER_ROLE, ManagedAccess, ResourceAccess,
};
use regards_auth::{Role, TokenIssuer};
use tokio::net::TcpListener;

#[path = "support/managed.rs"]
mod managed_support;
use managed_support::through_layer;

/// Counts the bytes allocated now and the most at any time since the last reset.
struct PeakAllocator;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let now = CURRENT.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counters are atomics,
// which never allocate.
unsafe impl GlobalAlloc for PeakAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            grew(new_size - layout.size());
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: PeakAllocator = PeakAllocator;

const MIB: usize = 1 << 20;

/// The tests of this file run one at a time: the allocator's counters are process-wide.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The patterns of role `index`: the project's budgets go to roles in rs-admin's order, so
/// the first ones take them all, each in the costliest way the limits allow:
/// - roles 0–3: 32 distinct networks each, accepted (the largest matchers kept);
/// - roles 4–7: 32 patterns of case-insensitive classes each (in Unicode mode, 0.27 s to parse
///   one of them), refused past the role's program budget;
/// - roles 8–23: one pattern each whose DFA blows up past the role's matcher limit, until the
///   project's matcher budget is spent;
/// - the others: none.
fn addresses(index: usize) -> Vec<String> {
    match index {
        0..4 => (0..MAX_PATTERNS_PER_ROLE)
            .map(|net| format!(r"10\.{}\.\d{{1,3}}\.\d{{1,3}}", index * 32 + net))
            .collect(),
        4..8 => (0..MAX_PATTERNS_PER_ROLE)
            .map(|n| format!("(?i){}{n:02}", r"[\w\W]".repeat(38)))
            .collect(),
        8..24 => vec![format!(r"[ab]*a[ab]{{16}}{index}")],
        _ => Vec::new(),
    }
}

/// rs-admin's answers, built once and served without copies.
struct Answers {
    roles: Bytes,
    /// Role name -> its grants answer.
    grants: Vec<(String, Bytes)>,
    /// What all the answers weigh together.
    total: usize,
}

/// The worst project the limits let through: 1,000 roles, the first ones holding the
/// project's pattern budgets (see [`addresses`]), and grants answers just under 4 MiB each
/// until the refresh's 32 MiB are nearly spent.
fn worst_answers() -> Answers {
    assert_eq!(MAX_PATTERNS_PER_PROJECT, 8 * MAX_PATTERNS_PER_ROLE);
    let roles: Vec<serde_json::Value> = (0..1000)
        .map(|index| {
            let name = format!("CUSTOM_ROLE_{index:04}_{}", "X".repeat(40));
            serde_json::json!({"content": {"id": index, "name": name,
                "parentRole": {"name": "REGISTERED_USER"}, "isNative": false,
                "authorizedAddresses": addresses(index)}, "links": []})
        })
        .collect();
    let roles = Bytes::from(serde_json::to_vec(&roles).unwrap());
    // Grants of endpoints this service does not declare (the reader only counts them), and
    // one it does, in answers just under the per-answer cap.
    let entry = r#"{"content":{"id":1,"description":"Some endpoint","microservice":"rs-notifier","controllerSimpleName":"SomeController","resource":"/some/endpoint/of/an/older/version","verb":"GET","defaultRole":"EXPLOIT"},"links":[]}"#;
    let mut grants_answer = String::from(r#"[{"content":{"resource":"/recipients","verb":"GET"}}"#);
    while grants_answer.len() + entry.len() + 2 < DEFAULT_MAX_RESPONSE {
        grants_answer.push(',');
        grants_answer.push_str(entry);
    }
    grants_answer.push(']');
    let grants_answer = Bytes::from(grants_answer);
    let mut total = roles.len();
    let mut grants = Vec::new();
    for index in 0..1000 {
        let name = format!("CUSTOM_ROLE_{index:04}_{}", "X".repeat(40));
        // Leave room for the small answers of the other roles.
        if total + grants_answer.len() + 4096 < DEFAULT_MAX_REFRESH_SIZE {
            total += grants_answer.len();
            grants.push((name, grants_answer.clone()));
        } else {
            total += 2;
            grants.push((name, Bytes::from_static(b"[]")));
        }
    }
    Answers {
        roles,
        grants,
        total,
    }
}

async fn start_admin(answers: Arc<Answers>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let roles = answers.clone();
    let app = Router::new()
        .route("/resources/microservices/{ms}", post(|| async { "" }))
        .route(
            "/roles",
            get(move || {
                let answers = roles.clone();
                async move { json(answers.roles.clone()) }
            }),
        )
        .route(
            "/roles/{role}/resources/{ms}",
            get(move |Path((role, _ms)): Path<(String, String)>| {
                let answers = answers.clone();
                async move {
                    let body = answers
                        .grants
                        .iter()
                        .find(|(name, _)| *name == role)
                        .map_or(Bytes::from_static(b"[]"), |(_, body)| body.clone());
                    json(body)
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

fn json(body: Bytes) -> Response {
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

fn access(admin_url: String) -> ManagedAccess {
    let endpoints = Endpoints::new([Endpoint::new(
        Method::GET,
        "/recipients",
        "RecipientController",
        ResourceAccess::new("List the recipients", Role::Exploit),
    )])
    .unwrap();
    ManagedAccess::builder("rs-notifier", endpoints)
        .admin_url(admin_url)
        .system_tokens(TokenIssuer::development())
        .projects(["project1"])
        .build()
        .unwrap()
}

/// The status `role`, calling from `peer`, gets on `GET /recipients` in project1.
async fn status(access: &ManagedAccess, role: &str, peer: &str) -> StatusCode {
    let role = Role::from_name(role);
    through_layer(access, role, Some(peer), Method::GET, "/recipients")
        .await
        .status()
}

/// The longest the ticker waited past its 5 ms period while `work` ran.
async fn longest_stall<F: std::future::Future>(work: F) -> (F::Output, Duration) {
    let longest = Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let recorded = longest.clone();
    let ticker = tokio::spawn(async move {
        let period = Duration::from_millis(5);
        loop {
            let before = Instant::now();
            tokio::time::sleep(period).await;
            let late = before.elapsed().saturating_sub(period);
            let mut longest = recorded.lock().unwrap();
            *longest = (*longest).max(late);
        }
    });
    let output = work.await;
    // The tick due while `work` ran records its lateness once it runs.
    tokio::time::sleep(Duration::from_millis(20)).await;
    ticker.abort();
    let longest = *longest.lock().unwrap();
    (output, longest)
}

#[tokio::test]
async fn the_worst_answers_rs_admin_may_send_cost_a_bounded_refresh() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let answers = Arc::new(worst_answers());
    let total = answers.total;
    let url = start_admin(answers).await;
    let access = access(url);

    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let started = Instant::now();
    let (refreshed, stall) = longest_stall(access.refresh("project1")).await;
    let took = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    refreshed.expect("the worst answers within the limits are read");
    let kept = CURRENT.load(Ordering::Relaxed).saturating_sub(before);
    println!(
        "worst refresh: {:.1} MiB of answers read in {took:?}; peak heap +{:.1} MiB; kept +{:.2} MiB; longest runtime stall {stall:?}",
        total as f64 / MIB as f64,
        peak as f64 / MIB as f64,
        kept as f64 / MIB as f64,
    );
    assert!(total > 28 * MIB, "the answers fill the refresh cap");
    // Memory follows the declared endpoints and the bounded answers, not their sum: at most a
    // few answers' worth at once, however many roles answer.
    assert!(peak < 24 * MIB, "peak heap +{peak} bytes");
    assert!(kept < 8 * MIB, "kept +{kept} bytes");
    // The runtime's thread only moves bytes: reading the answers and compiling the patterns
    // run on blocking threads beside it.
    assert!(stall < Duration::from_millis(500), "stalled {stall:?}");

    // The rights read are the ones sent: the first roles are restricted by their patterns.
    let first = format!("CUSTOM_ROLE_0000_{}", "X".repeat(40));
    assert_eq!(status(&access, &first, "10.0.0.1").await, StatusCode::OK);
    assert_eq!(
        status(&access, &first, "10.32.0.1").await,
        StatusCode::UNAUTHORIZED,
        "another role's network"
    );
    for refused in [5, 9] {
        let name = format!("CUSTOM_ROLE_{refused:04}_{}", "X".repeat(40));
        let got = status(&access, &name, "10.0.0.1").await;
        assert_eq!(
            got,
            StatusCode::UNAUTHORIZED,
            "role {refused}'s patterns are refused"
        );
    }
    let unrestricted = format!("CUSTOM_ROLE_0999_{}", "X".repeat(40));
    assert_eq!(
        status(&access, &unrestricted, "10.0.0.1").await,
        StatusCode::FORBIDDEN,
        "granted nothing"
    );
}

#[tokio::test]
async fn a_huge_project_list_is_discovered_without_holding_the_runtime() {
    let _alone = ONE_AT_A_TIME.lock().await;
    // rs-admin-instance lists 999 projects, then the first one again until the answer nears
    // the 4 MiB cap (600,000 entries): each project is added once, in one update.
    let mut listed: Vec<String> = (0..999).map(|index| format!("p{index:03}")).collect();
    let mut size = listed.len() * 7;
    while size + 7 < DEFAULT_MAX_RESPONSE {
        listed.push("p000".into());
        size += 7;
    }
    let tenants = Bytes::from(serde_json::to_vec(&listed).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/resources/microservices/{ms}", post(|| async { "" }))
        .route("/roles", get(|| async { json(Bytes::from_static(b"[]")) }))
        .route(
            "/tenants/{ms}",
            get(move || {
                let tenants = tenants.clone();
                async move { json(tenants) }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let endpoints = Endpoints::new([Endpoint::new(
        Method::GET,
        "/recipients",
        "RecipientController",
        ResourceAccess::new("List the recipients", Role::Exploit),
    )])
    .unwrap();
    let access = ManagedAccess::builder("rs-notifier", endpoints)
        .admin_url(url.clone())
        .admin_instance_url(url)
        .system_tokens(TokenIssuer::development())
        .refresh_period(Duration::from_secs(3600))
        .build()
        .unwrap();
    let refresher = access.spawn();
    let discovered = async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while access.projects().len() < 999 {
            assert!(
                Instant::now() < deadline,
                "{} projects",
                access.projects().len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let started = Instant::now();
    let ((), stall) = longest_stall(discovered).await;
    refresher.stop();
    println!(
        "999 projects discovered from {} entries in {:?}; longest runtime stall {stall:?}",
        listed.len(),
        started.elapsed()
    );
    assert_eq!(access.projects().len(), 999);
    // Reading the list is off the runtime; what is left is 999 projects' registrations and
    // refreshes starting at once on this one thread (before: 80 s held by the list alone).
    assert!(stall < Duration::from_secs(2), "stalled {stall:?}");
}
