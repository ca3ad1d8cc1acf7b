//! What REGARDS-managed access costs per request, against the static `RequireRoleLayer`, in
//! the same run.
//!
//! One axum 0.8 router per case, `GET /recipients` (default role EXPLOIT) driven by
//! `Router::oneshot` on a current-thread runtime, a valid HS512 token of an ADMIN caller:
//! - `bare`: no authentication;
//! - `static`: `BearerAuthLayer` + `RequireRoleLayer::at_least(EXPLOIT)` on the route;
//! - `managed`: `BearerAuthLayer` + `ManagedAccess::layer()` around the router built by
//!   `Routes`, with rights read from an rs-admin on 127.0.0.1 (ADMIN granted the endpoint);
//! - `managed_address_filter`: the same, ADMIN restricted to `127\.0\.0\.\d+` (the address is
//!   printed and matched on every request);
//! - `managed_super_role` / `static_super_role`: a PROJECT_ADMIN caller (passes by voter);
//! - `managed_refused` / `static_refused`: a REGISTERED_USER caller (403).
//!
//! `cargo bench --features managed --bench managed`. Prints the medians and the managed
//! decision's extra cost as a share of what a valid-token request costs (target < 10 %).

mod common;

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::routing::get;
use common::format_ns;
use regards_auth::managed::{Endpoints, ManagedAccess, ResourceAccess, Routes};
use regards_auth::{Algorithm, BearerAuthLayer, RequireRoleLayer, Role, TokenIssuer, Verifier};
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tower::ServiceExt;

const PATH: &str = "/recipients";

async fn recipients() -> StatusCode {
    StatusCode::NO_CONTENT
}

fn verifier() -> Verifier {
    Verifier::builder().hs512(common::SECRET).build().unwrap()
}

fn bare() -> Router {
    Router::new().route(PATH, get(recipients)).with_state(())
}

fn static_guard() -> Router {
    Router::new()
        .route(
            PATH,
            get(recipients).route_layer(RequireRoleLayer::at_least(Role::Exploit)),
        )
        .layer(BearerAuthLayer::new(verifier()))
        .with_state(())
}

fn managed(access: &ManagedAccess, router: Router) -> Router {
    router
        .route_layer(access.layer())
        .layer(BearerAuthLayer::new(verifier()))
        .with_state(())
}

/// An rs-admin on 127.0.0.1 granting `GET /recipients` to ADMIN and EXPLOIT, ADMIN restricted
/// to `addresses`.
async fn serve_admin(addresses: Vec<&'static str>) -> SocketAddr {
    let roles = move || {
        let addresses = addresses.clone();
        async move {
            axum::Json(json!([
                {"content": {"name": "REGISTERED_USER", "isNative": true}, "links": []},
                {"content": {"name": "EXPLOIT", "isNative": true}, "links": []},
                {"content": {"name": "ADMIN", "isNative": true, "authorizedAddresses": addresses}, "links": []},
            ]))
        }
    };
    let resources = |Path((role, _)): Path<(String, String)>| async move {
        let granted = role != "REGISTERED_USER";
        let list: Vec<Value> = granted
            .then(|| json!({"content": {"resource": PATH, "verb": "GET", "microservice": "rs-notifier"}, "links": []}))
            .into_iter()
            .collect();
        axum::Json(Value::Array(list))
    };
    let admin = Router::new()
        .route("/roles", get(roles))
        .route("/roles/{role}/resources/{ms}", get(resources));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, admin).await.unwrap() });
    address
}

/// The managed router and its access, rights read from an rs-admin on loopback.
fn managed_router(rt: &Runtime, addresses: Vec<&'static str>) -> (ManagedAccess, Router) {
    let (router, endpoints): (Router, Endpoints) = Routes::new("RecipientController")
        .get(
            PATH,
            ResourceAccess::new("List the recipients", Role::Exploit),
            recipients,
        )
        .build()
        .unwrap();
    let admin = rt.block_on(serve_admin(addresses));
    let access = ManagedAccess::builder("rs-notifier", endpoints)
        .admin_url(format!("http://{admin}"))
        .system_tokens(TokenIssuer::new(Algorithm::HS512, common::SECRET).unwrap())
        .projects(["project1"])
        .build()
        .unwrap();
    rt.block_on(access.refresh("project1")).unwrap();
    let router = managed(&access, router);
    (access, router)
}

fn token(role: Role) -> HeaderValue {
    let token = TokenIssuer::new(Algorithm::HS512, common::SECRET)
        .unwrap()
        .mint("jane.doe@regards-project.example.org", role, "project1");
    let value = HeaderValue::try_from(format!("Bearer {token}")).unwrap();
    drop(value.clone());
    value
}

fn request(authorization: &HeaderValue) -> Request {
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::GET;
    *request.uri_mut() = Uri::from_static(PATH);
    request
        .headers_mut()
        .insert(AUTHORIZATION, authorization.clone());
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 50000))));
    request
}

fn run_requests<'a>(
    rt: &'a Runtime,
    router: &'a Router,
    authorization: &'a HeaderValue,
) -> impl FnMut(u64) -> Duration + 'a {
    move |iters| {
        rt.block_on(async {
            let start = common::now();
            for _ in 0..iters {
                let response = router.clone().oneshot(request(authorization)).await;
                black_box(response.unwrap().status());
            }
            common::now() - start
        })
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bare = bare();
    let static_guard = static_guard();
    let (_access, managed) = managed_router(&rt, vec![]);
    let (_filtered, managed_filtered) = managed_router(&rt, vec![r"127\.0\.0\.\d+"]);
    let admin = token(Role::Admin);
    let project_admin = token(Role::ProjectAdmin);
    let registered = token(Role::RegisteredUser);

    let ok = StatusCode::NO_CONTENT;
    let forbidden = StatusCode::FORBIDDEN;
    let routes: Vec<(&str, &Router, &HeaderValue, StatusCode)> = vec![
        ("bare", &bare, &admin, ok),
        ("static", &static_guard, &admin, ok),
        ("managed", &managed, &admin, ok),
        ("managed_address_filter", &managed_filtered, &admin, ok),
        ("static_super_role", &static_guard, &project_admin, ok),
        ("managed_super_role", &managed, &project_admin, ok),
        ("static_refused", &static_guard, &registered, forbidden),
        ("managed_refused", &managed, &registered, forbidden),
    ];
    let mut cases = Vec::new();
    for &(name, router, authorization, expected) in &routes {
        let response = rt.block_on(router.clone().oneshot(request(authorization)));
        assert_eq!(response.unwrap().status(), expected, "{name}");
        cases.push(common::Case::new(
            format!("managed/{name}"),
            run_requests(&rt, router, authorization),
        ));
    }
    if let Some(medians) = common::run("managed", &mut cases) {
        report(&medians);
    }
}

fn report(medians: &[(String, f64)]) {
    let median = |name: &str| {
        medians
            .iter()
            .find(|(id, _)| id == &format!("managed/{name}"))
            .map(|&(_, ns)| ns)
    };
    println!(
        "\n== managed: interleaved medians ({}) ==",
        common::clock_name()
    );
    for (name, ns) in medians {
        println!("{name:<40} {:>12}", format_ns(*ns));
    }
    let (Some(bare), Some(static_guard)) = (median("bare"), median("static")) else {
        return;
    };
    let request_cost = static_guard - bare;
    println!(
        "\nvalid-token request cost (static - bare): {}",
        format_ns(request_cost)
    );
    for (managed, versus) in [
        ("managed", "static"),
        ("managed_address_filter", "static"),
        ("managed_super_role", "static_super_role"),
        ("managed_refused", "static_refused"),
    ] {
        if let (Some(managed_ns), Some(versus_ns)) = (median(managed), median(versus)) {
            let extra = managed_ns - versus_ns;
            let share = 100.0 * extra / request_cost;
            let verdict = if share < 10.0 { "met" } else { "MISSED" };
            println!(
                "{managed} - {versus} = {:+.0} ns = {share:+.1} % of the request cost (target < 10 %): {verdict}",
                extra
            );
        }
    }
}
