//! What `BearerAuthLayer` + `RequireRoleLayer` add to an axum 0.8 route, per request.
//!
//! `PUT /api/v1/rs-notifier/rule` (PROJECT_ADMIN), driven by `Router::oneshot` on a
//! current-thread runtime, against the same router without authentication (the bare cost),
//! a naive `from_fn` + `jsonwebtoken::decode` middleware, and the floor of the cryptography
//! (HMAC-SHA512 over the signing input from a pre-keyed state). Valid, bad-signature,
//! garbage and missing credentials; verified-token cache off and on.
//!
//! `cargo bench --bench layer`. Prints the medians, the added costs and the target ratios.

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use common::{JwtClaims, format_ns, jwt_validation};
use hmac::{Hmac, Mac};
use regards_auth::{Algorithm, BearerAuthLayer, RequireRoleLayer, Role, Verifier};
use sha2::Sha512;
use tokio::runtime::Runtime;
use tower::ServiceExt;
use tower::layer::util::Identity;

const PATH: &str = "/api/v1/rs-notifier/rule";

async fn import_rule() -> StatusCode {
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
            put(import_rule).route_layer(RequireRoleLayer::at_least(Role::ProjectAdmin)),
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
        .route(PATH, put(import_rule))
        .layer(from_fn_with_state(naive, naive_auth))
        .with_state(())
}

/// A fresh request per call. The `Authorization` value is cloned from one already shared, as
/// hyper hands out slices of its read buffer (cloning it only bumps a reference count).
fn request(authorization: Option<&HeaderValue>) -> Request {
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::PUT;
    *request.uri_mut() = Uri::from_static(PATH);
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

const GARBAGE: [&str; 4] = [
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
        ("bare", &bare, None, ok),
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

    if let Some(medians) = common::run("layer", &mut cases) {
        report(&medians);
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn report(medians: &[(String, f64)]) {
    let median = |id: &str| {
        medians
            .iter()
            .find(|(name, _)| name == id)
            .map(|&(_, ns)| ns)
    };
    println!(
        "\n== layer: interleaved medians ({}) and added cost over the bare router ==",
        common::clock_name()
    );
    let bare = median("layer/bare").expect("the bare router is measured");
    for (name, ns) in medians {
        let added = match name.strip_prefix("layer/") {
            Some("bare") | None => String::new(),
            Some(_) => format!("+{}", format_ns(ns - bare)),
        };
        println!("{name:<40} {:>12} {added:>12}", format_ns(*ns));
    }
    let added = |name: &str| median(&format!("layer/{name}")).map(|ns| ns - bare);

    println!("\n== targets ==");
    let floor = median("floor/hmac_sha512_prekeyed");
    if let Some(valid) = added("hs512_valid") {
        println!(
            "1. valid HS512 adds {} (target <= 1.000 µs): {}",
            format_ns(valid),
            verdict(valid <= 1000.0)
        );
        if let Some(floor) = floor {
            println!(
                "1. added / pre-keyed HMAC floor ({}) = {:.2}x (target <= 2.3x): {}",
                format_ns(floor),
                valid / floor,
                verdict(valid / floor <= 2.3)
            );
        }
        if let Some(naive) = added("naive_hs512_valid") {
            println!(
                "1. naive from_fn + jsonwebtoken adds {} = {:.2}x ours (target >= 2.5x): {}",
                format_ns(naive),
                naive / valid,
                verdict(naive / valid >= 2.5)
            );
        }
        if let Some(bad) = added("hs512_bad_signature") {
            println!(
                "2. bad signature adds {} vs valid {} (target: no more): {}",
                format_ns(bad),
                format_ns(valid),
                verdict(bad <= valid)
            );
        }
    }
    for name in GARBAGE.iter().chain(&["missing"]) {
        if let Some(ns) = added(name) {
            println!(
                "2. {name} adds {} (target <= 0.150 µs): {}",
                format_ns(ns),
                verdict(ns <= 150.0)
            );
        }
    }
    for name in ["hs512_valid_cached", "rs256_valid_cached"] {
        if let Some(ns) = added(name) {
            println!(
                "3. {name} adds {} (target <= 0.300 µs): {}",
                format_ns(ns),
                verdict(ns <= 300.0)
            );
        }
    }
    if let (Some(full), Some(cached)) = (added("rs256_valid"), added("rs256_valid_cached")) {
        println!(
            "3. the cache turns RS256's +{} into +{}",
            format_ns(full),
            format_ns(cached)
        );
    }
}
