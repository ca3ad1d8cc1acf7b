//! What authentication costs on a real server, where users feel it: the demo's `PUT /rule`
//! route served by axum (hyper) on 127.0.0.1, driven by `wrk` (Debian's package), each variant
//! in turn, in interleaved passes.
//!
//! The route is the demo's (`examples/regards_demo`): `PUT /api/v1/rs-notifier/rule` with a
//! JSON rule, stored for the caller's project and answered with its id, behind the demo's
//! outer layers (CORS, body limit, request timeout), served with the peer's address
//! (`ConnectInfo`). The variants differ only in authentication:
//! - `bare`: no authentication (the request carries the token all the same);
//! - `pass_through`: layers that do nothing (`tower::layer::util::Identity`) where ours go, and
//!   the handler extracting nothing: what axum's layering costs by itself, whatever the layers;
//! - `static`: `BearerAuthLayer::allow_public` + `RequireRoleLayer::at_least(PROJECT_ADMIN)`;
//! - `cached`: the same with the verified-token cache (`cache(1024)`);
//! - `managed`: `BearerAuthLayer::allow_public` + REGARDS-managed access (rights read from an
//!   rs-admin on loopback), as the demo serves it;
//! - `managed_cached`: the same with the cache.
//!
//! For each run: the requests `wrk` completed, and the CPU time this process (the server)
//! used meanwhile (`getrusage`), hence CPU time per request; `wrk` runs on the same two cores.
//! The authentication's share of a request is `(variant - bare) / variant`, per pass.
//!
//! `scripts/load.sh` installs `wrk` if needed and runs this. Knobs: `LOAD_SECONDS` (per run,
//! 5), `LOAD_CONNECTIONS` (32), `LOAD_THREADS` (wrk's, 1), `LOAD_WORKERS` (the server's tokio
//! worker threads, 1: with wrk's one thread, one core each), `LOAD_PASSES` (3).

mod common;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::routing::{get, put};
use axum::{Json, Router};
use regards_auth::managed::{ManagedAccess, ResourceAccess, Routes};
use regards_auth::{
    Algorithm, BearerAuthLayer, Claims, RequireRoleLayer, Role, TokenIssuer, Verifier,
};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tower::layer::util::Identity;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// Where REGARDS' gateway serves rs-notifier.
const PREFIX: &str = "/api/v1/rs-notifier";
const RULE: &str = "/rule";
/// The rule every request stores.
const BODY: &str = r#"{"name":"r1","recipients":["mail"]}"#;
/// The rules kept per project: the demo's store, bounded so that a load test cannot grow it.
const KEPT: usize = 1024;

#[derive(Default)]
struct Rules {
    last_id: u64,
    by_tenant: HashMap<String, VecDeque<Map<String, Value>>>,
}

type SharedRules = Arc<Mutex<Rules>>;

/// The demo's `PUT /rule`: stores the rule for `tenant` and answers it with its id.
fn store(rules: &Mutex<Rules>, tenant: &str, mut rule: Map<String, Value>) -> Json<Value> {
    let mut rules = rules.lock().unwrap_or_else(PoisonError::into_inner);
    rules.last_id += 1;
    rule.insert("id".into(), rules.last_id.into());
    let kept = rules.by_tenant.entry(tenant.to_owned()).or_default();
    if kept.len() == KEPT {
        kept.pop_front();
    }
    kept.push_back(rule.clone());
    Json(Value::Object(rule))
}

async fn store_rule(
    State(rules): State<SharedRules>,
    claims: Claims,
    Json(rule): Json<Map<String, Value>>,
) -> Json<Value> {
    store(&rules, claims.tenant(), rule)
}

/// The same without authentication: the project the token would have named.
async fn store_rule_unauthenticated(
    State(rules): State<SharedRules>,
    Json(rule): Json<Map<String, Value>>,
) -> Json<Value> {
    store(&rules, "project1", rule)
}

/// The demo's gateway around the routes: CORS outermost, a body limit, a request timeout.
fn gateway(routes: Router) -> Router {
    routes
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(RequestBodyLimitLayer::new(1024 * 1024))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers([AUTHORIZATION, CONTENT_TYPE]),
        )
}

fn verifier(cache: usize) -> Verifier {
    Verifier::builder()
        .hs512(common::SECRET)
        .cache(cache)
        .build()
        .expect("the bench key is valid")
}

fn statically_guarded(cache: usize) -> Router {
    let routes = Router::new()
        .route(
            RULE,
            put(store_rule).route_layer(RequireRoleLayer::at_least(Role::ProjectAdmin)),
        )
        .with_state(SharedRules::default());
    gateway(
        Router::new()
            .nest(PREFIX, routes)
            .layer(BearerAuthLayer::new(verifier(cache)).allow_public()),
    )
}

fn managed(access: &ManagedAccess, routes: Router, cache: usize) -> Router {
    gateway(
        Router::new()
            .nest(PREFIX, routes.route_layer(access.layer()))
            .layer(BearerAuthLayer::new(verifier(cache)).allow_public()),
    )
}

/// rs-notifier's `PUT /rule` declared for managed access, and its access, with rights read
/// from an rs-admin on loopback that grants nothing more than REGARDS' defaults.
async fn managed_access() -> (ManagedAccess, Router) {
    let (routes, endpoints) = Routes::new("RuleController")
        .put(
            RULE,
            ResourceAccess::new("Update a Rule", Role::ProjectAdmin),
            store_rule,
        )
        .build()
        .expect("one endpoint");
    let roles = || async {
        Json(json!([
            {"content": {"name": "PROJECT_ADMIN", "isNative": true}, "links": []},
            {"content": {"name": "ADMIN", "isNative": true}, "links": []},
        ]))
    };
    let resources = |Path((_role, _ms)): Path<(String, String)>| async { Json(json!([])) };
    let admin = Router::new()
        .route("/roles", get(roles))
        .route("/roles/{role}/resources/{ms}", get(resources));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, admin).await });
    let access = ManagedAccess::builder("rs-notifier", endpoints)
        .admin_url(format!("http://{address}"))
        .system_tokens(TokenIssuer::new(Algorithm::HS512, common::SECRET).expect("valid key"))
        .projects(["project1"])
        .build()
        .expect("a valid configuration");
    access
        .refresh("project1")
        .await
        .expect("rights read from the loopback rs-admin");
    (access, routes.with_state(SharedRules::default()))
}

/// Serves `app` on 127.0.0.1 with the peer's address, as the demo does.
async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("bound");
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// CPU time used so far by this process (`RUSAGE_SELF`: every thread, user and system), or
/// by its children once they have been waited for (`RUSAGE_CHILDREN`).
fn cpu_time(who: libc::c_int) -> Duration {
    // SAFETY: `usage` is a valid, writable rusage; `who` is RUSAGE_SELF or RUSAGE_CHILDREN.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(who, &mut usage), 0, "getrusage");
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

struct Settings {
    seconds: u64,
    connections: u64,
    threads: u64,
    workers: usize,
    passes: usize,
}

impl Settings {
    fn from_env() -> Self {
        let env = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|value| value.parse().ok())
                .unwrap_or(default)
                .max(1)
        };
        Settings {
            seconds: env("LOAD_SECONDS", 5).min(60),
            connections: env("LOAD_CONNECTIONS", 32).min(256),
            threads: env("LOAD_THREADS", 1).min(8),
            workers: env("LOAD_WORKERS", 1).min(8) as usize,
            passes: env("LOAD_PASSES", 3).min(9) as usize,
        }
    }
}

/// One run of `wrk` against `address`.
struct Run {
    requests: f64,
    requests_per_second: f64,
    server_cpu_per_request: Duration,
    wrk_cpu: Duration,
}

/// `wrk` against `address` for the configured time; `Err` when it fails, or when an answer was
/// not a 2xx.
fn run_wrk(
    address: SocketAddr,
    script: &std::path::Path,
    settings: &Settings,
) -> Result<Run, String> {
    let (server_before, children_before) =
        (cpu_time(libc::RUSAGE_SELF), cpu_time(libc::RUSAGE_CHILDREN));
    // `timeout` bounds the run even if wrk hangs.
    let output = Command::new("timeout")
        .arg(format!("{}", settings.seconds + 30))
        .arg("wrk")
        .arg(format!("-t{}", settings.threads))
        .arg(format!("-c{}", settings.connections))
        .arg(format!("-d{}s", settings.seconds))
        .arg("-s")
        .arg(script)
        .arg(format!("http://{address}{PREFIX}{RULE}"))
        .output()
        .map_err(|error| {
            format!("cannot run wrk ({error}): run scripts/load.sh, which installs it")
        })?;
    let (server_after, children_after) =
        (cpu_time(libc::RUSAGE_SELF), cpu_time(libc::RUSAGE_CHILDREN));
    let out = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || out.contains("Non-2xx") {
        return Err(format!("wrk failed or some answers were not 2xx:\n{out}"));
    }
    let field = |prefix: &str, index: usize| {
        out.lines()
            .find(|line| line.trim_start().starts_with(prefix) || line.contains(prefix))
            .and_then(|line| line.split_whitespace().nth(index))
            .and_then(|value| value.parse::<f64>().ok())
    };
    let requests = field("requests in", 0).ok_or_else(|| format!("no request count:\n{out}"))?;
    let requests_per_second =
        field("Requests/sec:", 1).ok_or_else(|| format!("no rate:\n{out}"))?;
    Ok(Run {
        requests,
        requests_per_second,
        server_cpu_per_request: (server_after - server_before).div_f64(requests.max(1.0)),
        wrk_cpu: children_after - children_before,
    })
}

/// A `wrk` script: `PUT` of the rule, with the token, as the demo's README sends it.
fn wrk_script(token: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("regards-auth-load-{}.lua", std::process::id()));
    let script = format!(
        "wrk.method = \"PUT\"\nwrk.body = '{BODY}'\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n\
         wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"
    );
    std::fs::write(&path, script).expect("a temporary file");
    path
}

/// Sends one request the way wrk will, and checks the answer is a 200.
async fn check(address: SocketAddr, token: &str) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|error| error.to_string())?;
    let request = format!(
        "PUT {PREFIX}{RULE} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| error.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .map_err(|error| error.to_string())?;
    if answer.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!("expected 200, got: {answer}"))
    }
}

/// The variants, in the order they are measured.
const VARIANTS: [&str; 6] = [
    "bare",
    "pass_through",
    "static",
    "cached",
    "managed",
    "managed_cached",
];

/// The app of a variant, and the managed access it uses (which refreshes in the background for
/// as long as it lives).
async fn variant(name: &str) -> (Router, Option<ManagedAccess>) {
    match name {
        "bare" => {
            let routes = Router::new()
                .route(RULE, put(store_rule_unauthenticated))
                .with_state(SharedRules::default());
            (gateway(Router::new().nest(PREFIX, routes)), None)
        }
        "pass_through" => {
            let routes = Router::new()
                .route(
                    RULE,
                    put(store_rule_unauthenticated).route_layer(Identity::new()),
                )
                .with_state(SharedRules::default());
            let app = Router::new().nest(PREFIX, routes).layer(Identity::new());
            (gateway(app), None)
        }
        "static" => (statically_guarded(0), None),
        "cached" => (statically_guarded(1024), None),
        "managed" | "managed_cached" => {
            let (access, routes) = managed_access().await;
            let cache = if name == "managed" { 0 } else { 1024 };
            (managed(&access, routes, cache), Some(access))
        }
        _ => panic!("no variant {name}: one of {VARIANTS:?}"),
    }
}

fn token() -> String {
    TokenIssuer::new(Algorithm::HS512, common::SECRET)
        .expect("valid key")
        .mint("admin@regards.fr", Role::ProjectAdmin, "project1")
}

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// `LOAD_SERVE=<variant>`: serves that variant alone (one worker), prints its address and a
/// wrk script for it, and stops after `LOAD_SERVE_SECONDS` (120, at most 600): what
/// `scripts/load.sh` counts instructions in under callgrind.
fn serve_alone(name: &str) {
    let seconds = std::env::var("LOAD_SERVE_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(120u64)
        .min(600);
    let token = token();
    runtime(1).block_on(async {
        let (app, _access) = variant(name).await;
        let address = serve(app).await;
        if let Err(error) = check(address, &token).await {
            panic!("{name}: {error}");
        }
        let script = wrk_script(&token);
        println!(
            "serving {name} on {address} {PREFIX}{RULE} script {}",
            script.display()
        );
        use std::io::Write;
        std::io::stdout().flush().expect("stdout");
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let _ = std::fs::remove_file(&script);
    });
}

fn main() {
    if let Ok(name) = std::env::var("LOAD_SERVE") {
        return serve_alone(&name);
    }
    if std::env::var_os("BENCH_PROFILE").is_some()
        || Command::new("wrk").arg("-v").output().is_err()
    {
        println!("server: wrk is not installed (scripts/load.sh installs it and runs this bench)");
        return;
    }
    let settings = Settings::from_env();
    let runtime = runtime(settings.workers);
    let token = token();
    // The accesses refresh in the background for as long as they live: kept to the end.
    let (variants, _accesses): (Vec<(&str, SocketAddr)>, Vec<Option<ManagedAccess>>) = runtime
        .block_on(async {
            let mut variants = Vec::new();
            let mut accesses = Vec::new();
            for name in VARIANTS {
                let (app, access) = variant(name).await;
                let address = serve(app).await;
                if let Err(error) = check(address, &token).await {
                    panic!("{name}: {error}");
                }
                variants.push((name, address));
                accesses.push(access);
            }
            (variants, accesses)
        });
    let script = wrk_script(&token);
    println!(
        "wrk -t{} -c{} -d{}s, {} passes, against the demo's PUT /rule on 127.0.0.1 served by {} \
         tokio worker(s) ({} cores shared by the server and wrk)",
        settings.threads,
        settings.connections,
        settings.seconds,
        settings.passes,
        settings.workers,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let mut runs: Vec<Vec<Run>> = variants.iter().map(|_| Vec::new()).collect();
    for pass in 0..settings.passes {
        println!("\n-- pass {} of {} --", pass + 1, settings.passes);
        for ((name, address), runs) in variants.iter().zip(&mut runs) {
            let run = run_wrk(*address, &script, &settings)
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            println!(
                "{name:<16} {:>10.0} req/s {:>10.0} requests   server CPU {:>7.2} µs/request   wrk CPU {:>6.2} s",
                run.requests_per_second,
                run.requests,
                run.server_cpu_per_request.as_secs_f64() * 1e6,
                run.wrk_cpu.as_secs_f64()
            );
            runs.push(run);
        }
    }
    let _ = std::fs::remove_file(&script);
    report(&variants, &runs);
}

/// Medians over the passes, and the authentication's share of a request's CPU time, taken in
/// each pass then the median (with the lowest and highest pass).
fn report(variants: &[(&str, SocketAddr)], runs: &[Vec<Run>]) {
    let cpu = |runs: &[Run], pass: usize| runs[pass].server_cpu_per_request.as_secs_f64() * 1e6;
    let bare = &runs[0];
    println!("\n== server: medians of {} passes ==", bare.len());
    println!(
        "{:<16} {:>12} {:>16} {:>22}",
        "variant", "req/s", "CPU µs/request", "authentication share"
    );
    for ((name, _), variant) in variants.iter().zip(runs) {
        let rate = common::median(variant.iter().map(|run| run.requests_per_second).collect());
        let per_request = common::median((0..variant.len()).map(|p| cpu(variant, p)).collect());
        let shares: Vec<f64> = (0..variant.len())
            .map(|p| 100.0 * (cpu(variant, p) - cpu(bare, p)) / cpu(variant, p))
            .collect();
        let low = shares.iter().copied().fold(f64::INFINITY, f64::min);
        let high = shares.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let share = common::median(shares);
        let (target, verdict) = match *name {
            "bare" => (String::new(), String::new()),
            "pass_through" => ("(axum's layering alone)".into(), String::new()),
            cached if cached.ends_with("cached") => ("<= 3 %".into(), verdict(share <= 3.0)),
            _ => ("<= 10 %".into(), verdict(share <= 10.0)),
        };
        if *name == "bare" {
            println!("{name:<16} {rate:>12.0} {per_request:>16.2}");
        } else {
            println!(
                "{name:<16} {rate:>12.0} {per_request:>16.2} {share:>+10.1} % [{low:+.1}, {high:+.1}]  target {target} {verdict}"
            );
        }
    }
}

fn verdict(ok: bool) -> String {
    if ok { "met" } else { "MISSED" }.into()
}
