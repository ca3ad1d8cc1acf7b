//! What `BearerAuthLayer` + `RequireRoleLayer` add to an axum 0.8 route, per request.
//!
//! `PUT /api/v1/rs-notifier/rule` (PROJECT_ADMIN), whose handler extracts the caller's claims,
//! driven by `Router::oneshot` on a current-thread runtime, against the same router without
//! authentication (the bare cost), a naive `from_fn` + `jsonwebtoken::decode` middleware, and
//! the floor of the cryptography (HMAC-SHA512 over the signing input from a pre-keyed state).
//! Valid, bad-signature, garbage and missing credentials; verified-token cache off and on.
//!
//! jwt-authorizer 0.15 is not measured: it is built on axum 0.7 (a second axum, axum-core,
//! tower-http and matchit), jsonwebtoken 9 with ring, reqwest with native TLS and chrono; the
//! naive middleware, which the issue measured at about the same cost, stands for it.
//!
//! `cargo bench --bench layer`. Prints the medians, the added costs and the target ratios.

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use common::{JwtClaims, format_ns, jwt_validation};
use hmac::{Hmac, Mac};
use regards_auth::{Algorithm, BearerAuthLayer, Claims, RequireRoleLayer, Role, Verifier};
use sha2::Sha512;
use tokio::runtime::Runtime;
use tower::ServiceExt;
use tower::layer::util::Identity;

const PATH: &str = "/api/v1/rs-notifier/rule";

/// The handler of the routes without authentication.
async fn import_rule() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// The handler behind `BearerAuthLayer`: it extracts the caller's identity and reads it.
async fn import_rule_for(claims: Claims) -> StatusCode {
    black_box(claims.tenant());
    StatusCode::NO_CONTENT
}

/// The handler behind the naive middleware: it extracts the claims the middleware decoded.
async fn import_rule_for_naive(Extension(claims): Extension<JwtClaims>) -> StatusCode {
    black_box(claims.tenant.as_str());
    StatusCode::NO_CONTENT
}

/// Routers are finished with `with_state(())`, as `axum::serve` does: their routes are then
/// built once, not on every request.
fn bare() -> Router {
    Router::new().route(PATH, put(import_rule)).with_state(())
}

/// The same router as [`layered`] with layers that do nothing: what axum's boxing of layered
/// routes costs by itself, whatever the layers do.
fn pass_through() -> Router {
    Router::new()
        .route(PATH, put(import_rule).route_layer(Identity::new()))
        .layer(Identity::new())
        .with_state(())
}

fn layered(verifier: Verifier) -> Router {
    Router::new()
        .route(
            PATH,
            put(import_rule_for).route_layer(RequireRoleLayer::at_least(Role::ProjectAdmin)),
        )
        .layer(BearerAuthLayer::new(verifier))
        .with_state(())
}

struct Naive {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

/// What a service author writes in a few minutes with `from_fn` and `jsonwebtoken`.
async fn naive_auth(State(naive): State<Arc<Naive>>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = token else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    match jsonwebtoken::decode::<JwtClaims>(token, &naive.key, &naive.validation) {
        Ok(data)
            if matches!(
                data.claims.role.as_str(),
                "PROJECT_ADMIN" | "INSTANCE_ADMIN"
            ) =>
        {
            request.extensions_mut().insert(data.claims);
            next.run(request).await
        }
        Ok(_) => StatusCode::FORBIDDEN.into_response(),
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}

fn naive() -> Router {
    let naive = Arc::new(Naive {
        key: jsonwebtoken::DecodingKey::from_secret(common::SECRET.as_bytes()),
        validation: jwt_validation(jsonwebtoken::Algorithm::HS512),
    });
    Router::new()
        .route(PATH, put(import_rule_for_naive))
        .layer(from_fn_with_state(naive, naive_auth))
        .with_state(())
}

/// A fresh request per call, with a `Host` header as every HTTP/1.1 request has (so the header
/// map is allocated in every case, `bare` and `missing` included). The `Authorization` value is
/// cloned from one already shared, as hyper hands out slices of its read buffer (cloning it
/// only bumps a reference count).
fn request(authorization: Option<&HeaderValue>) -> Request {
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::PUT;
    *request.uri_mut() = Uri::from_static(PATH);
    request
        .headers_mut()
        .insert(HOST, HeaderValue::from_static("rs-notifier:9000"));
    if let Some(value) = authorization {
        request.headers_mut().insert(AUTHORIZATION, value.clone());
    }
    request
}

fn shared(value: String) -> HeaderValue {
    let value = HeaderValue::try_from(value).unwrap();
    // Promote the buffer to a shared one once, as a server's read buffer already is.
    drop(value.clone());
    value
}

/// One request of a case, as a closure measured by criterion and by the interleaved run.
fn run_requests<'a>(
    rt: &'a Runtime,
    router: &'a Router,
    authorization: Option<&'a HeaderValue>,
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

const GARBAGE: [&str; 5] = [
    "garbage_xyz",
    "garbage_scheme",
    "garbage_charset",
    "garbage_segments",
    "garbage_oversize",
];

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pair = common::rsa_pair();
    let hs512 = || Verifier::builder().hs512(common::SECRET);
    let rs256 = || Verifier::builder().rs256(&pair.public_spki_b64);

    let token = common::hmac_token(Algorithm::HS512);
    let rs_token = common::rs256_token(&pair);
    let valid = shared(format!("Bearer {token}"));
    let bad_signature = shared(format!("Bearer {}", common::with_bad_signature(&token)));
    let rs_valid = shared(format!("Bearer {rs_token}"));
    let garbage = [
        shared("Bearer x.y.z".into()),
        shared("Basic Y2xpZW50OnNlY3JldA==".into()),
        shared(format!("Bearer {}$", &token[..token.len() - 1])),
        shared(format!("Bearer {token}.x")),
        shared(format!("Bearer {}", "a".repeat(9 * 1024))),
    ];

    let bare = bare();
    let pass_through = pass_through();
    let layered_hs512 = layered(hs512().build().unwrap());
    let cached_hs512 = layered(hs512().cache(1024).build().unwrap());
    let layered_rs256 = layered(rs256().build().unwrap());
    let cached_rs256 = layered(rs256().cache(1024).build().unwrap());
    let naive = naive();

    let ok = StatusCode::NO_CONTENT;
    let refused = StatusCode::UNAUTHORIZED;
    let mut routes: Vec<(&str, &Router, Option<&HeaderValue>, StatusCode)> = vec![
        ("bare", &bare, Some(&valid), ok),
        ("pass_through_layers", &pass_through, Some(&valid), ok),
        ("hs512_valid", &layered_hs512, Some(&valid), ok),
        (
            "hs512_bad_signature",
            &layered_hs512,
            Some(&bad_signature),
            refused,
        ),
    ];
    for (name, value) in GARBAGE.iter().zip(&garbage) {
        routes.push((name, &layered_hs512, Some(value), refused));
    }
    routes.extend([
        ("missing", &layered_hs512, None, refused),
        ("hs512_valid_cached", &cached_hs512, Some(&valid), ok),
        ("rs256_valid", &layered_rs256, Some(&rs_valid), ok),
        ("rs256_valid_cached", &cached_rs256, Some(&rs_valid), ok),
        ("naive_hs512_valid", &naive, Some(&valid), ok),
        (
            "naive_hs512_bad_signature",
            &naive,
            Some(&bad_signature),
            refused,
        ),
    ]);

    // The floor: the MAC itself, over the same signing input.
    let signing_input = &token.as_bytes()[..token.rfind('.').unwrap()];
    let prekeyed = Hmac::<Sha512>::new_from_slice(common::SECRET.as_bytes()).unwrap();
    let floor_prekeyed = |iters| {
        common::time(iters, || {
            let mut mac = prekeyed.clone();
            mac.update(black_box(signing_input));
            mac.finalize().into_bytes()
        })
    };
    let floor_keyed_per_call = |iters| {
        common::time(iters, || {
            let mut mac = Hmac::<Sha512>::new_from_slice(common::SECRET.as_bytes()).unwrap();
            mac.update(black_box(signing_input));
            mac.finalize().into_bytes()
        })
    };

    let mut cases: Vec<common::Case<'_>> = Vec::new();
    for &(name, router, authorization, expected) in &routes {
        let response = rt.block_on(router.clone().oneshot(request(authorization)));
        assert_eq!(response.unwrap().status(), expected, "{name}");
        cases.push(common::Case::new(
            format!("layer/{name}"),
            run_requests(&rt, router, authorization),
        ));
    }
    cases.push(common::Case::new(
        "floor/hmac_sha512_prekeyed",
        floor_prekeyed,
    ));
    cases.push(common::Case::new(
        "floor/hmac_sha512_keyed_per_call",
        floor_keyed_per_call,
    ));

    if let Some(by_pass) = common::run_by_pass("layer", &mut cases) {
        report(&by_pass);
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// Prints the medians, then the rows: each overhead and ratio is taken within each
/// interleaved pass (its cases ran under the same load), then the median over the passes is
/// shown with the range of the passes.
fn report(by_pass: &[(String, Vec<f64>)]) {
    let case = |id: &str| {
        by_pass
            .iter()
            .find(|(name, _)| name == id)
            .map(|(_, passes)| passes.clone())
    };
    let passes = by_pass[0].1.len();
    // The median over the passes of `value(pass)`, and the lowest and highest.
    let over_passes = |value: &dyn Fn(usize) -> f64| {
        let values: Vec<f64> = (0..passes).map(value).collect();
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (common::median(values), low, high)
    };
    let bare = case("layer/bare").expect("the bare router is measured");
    let pass = case("layer/pass_through_layers").expect("the pass-through router is measured");
    let floor = case("floor/hmac_sha512_prekeyed").expect("the floor is measured");
    println!(
        "\n== layer: medians of {passes} interleaved passes ({}); added over the bare router and \
         over the pass-through layers, pass by pass ==",
        common::clock_name()
    );
    for (name, ns) in by_pass {
        let (median, _, _) = over_passes(&|p| ns[p]);
        let (added, own) = match name.strip_prefix("layer/") {
            Some("bare") | None => (String::new(), String::new()),
            Some(_) => (
                format!("+{}", format_ns(over_passes(&|p| ns[p] - bare[p]).0)),
                format!("{:+.3} µs", over_passes(&|p| ns[p] - pass[p]).0 / 1000.0),
            ),
        };
        println!("{name:<40} {:>12} {added:>12} {own:>12}", format_ns(median));
    }
    let added = |name: &str| {
        case(&format!("layer/{name}"))
            .map(|ns| (0..passes).map(|p| ns[p] - bare[p]).collect::<Vec<f64>>())
    };

    println!(
        "\n== the issue's rows: overhead over the bare router, and its ratio taken in each pass \
         (median [lowest, highest] of {passes}); floor: pre-keyed HMAC-SHA512 {} ==",
        format_ns(over_passes(&|p| floor[p]).0)
    );
    let row =
        |what: &str, ns: &[f64], ratio: (f64, f64, f64), unit: &str, target: &str, ok: bool| {
            let (median_ns, _, _) = over_passes(&|p| ns[p]);
            println!(
                "{what:<40} {:>10} {:>6.2}x {unit:<11} [{:.2}, {:.2}]  target {target:<16} {}",
                format!("+{}", format_ns(median_ns)),
                ratio.0,
                ratio.1,
                ratio.2,
                verdict(ok)
            );
        };
    let of_floor = |ns: &[f64]| over_passes(&|p| ns[p] / floor[p]);
    let valid = added("hs512_valid").expect("valid HS512 is measured");
    let ratio = of_floor(&valid);
    row(
        "regards-auth, valid HS512",
        &valid,
        ratio,
        "floor",
        "<= 2.2x floor",
        ratio.0 <= 2.2,
    );
    if let Some(naive) = added("naive_hs512_valid") {
        let ratio = over_passes(&|p| naive[p] / valid[p]);
        row(
            "naive from_fn + jsonwebtoken",
            &naive,
            ratio,
            "ours",
            ">= 2.6x ours",
            ratio.0 >= 2.6,
        );
    }
    let missing = added("missing").expect("missing is measured");
    let ratio = of_floor(&missing);
    row(
        "regards-auth, missing header",
        &missing,
        ratio,
        "floor",
        "(reference)",
        true,
    );
    for name in GARBAGE {
        if let Some(ns) = added(name) {
            let ratio = of_floor(&ns);
            row(
                &format!("regards-auth, {name}"),
                &ns,
                ratio,
                "floor",
                "<= 0.3x floor",
                ratio.0 <= 0.3,
            );
            let (over_missing, low, high) = over_passes(&|p| ns[p] - missing[p]);
            println!(
                "{:<40} {:>+9.0} ns over missing [{low:+.0}, {high:+.0}]",
                "", over_missing
            );
        }
    }
    for (name, what) in [
        ("hs512_valid_cached", "cache(1024), repeated HS512 token"),
        ("rs256_valid_cached", "cache(1024), repeated RS256 token"),
    ] {
        if let Some(ns) = added(name) {
            let ratio = of_floor(&ns);
            row(
                what,
                &ns,
                ratio,
                "HS512 floor",
                "<= 0.45x floor",
                ratio.0 <= 0.45,
            );
        }
    }
    if let Some(bad) = added("hs512_bad_signature") {
        let (bad, _, _) = over_passes(&|p| bad[p]);
        let (valid, _, _) = over_passes(&|p| valid[p]);
        println!(
            "bad signature adds +{} vs valid +{}: {}",
            format_ns(bad),
            format_ns(valid),
            verdict(bad <= valid)
        );
    }
    if let (Some(full), Some(cached)) = (added("rs256_valid"), added("rs256_valid_cached")) {
        println!(
            "the cache turns RS256's +{} into +{}",
            format_ns(over_passes(&|p| full[p]).0),
            format_ns(over_passes(&|p| cached[p]).0)
        );
    }
    println!(
        "axum's own cost of having layers on the route (pass-through): +{}",
        format_ns(over_passes(&|p| pass[p] - bare[p]).0)
    );
}
