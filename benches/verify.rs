//! `Verifier::verify` against a raw `jsonwebtoken::decode` doing the same validation into a
//! typed struct, for HS256, HS512 and RS256 REGARDS-like tokens.
//!
//! `cargo bench --bench verify` (add `--features aws-lc-rs` for the other crypto backend).
//! Prints the medians and the ratios at the end.

mod common;

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use common::{JwtClaims, jwt_validation};
use criterion::Criterion;
use jsonwebtoken::{DecodingKey, decode};
use regards_auth::{Algorithm, Verifier};

const CASES: [(&str, Algorithm, jsonwebtoken::Algorithm); 3] = [
    ("HS256", Algorithm::HS256, jsonwebtoken::Algorithm::HS256),
    ("HS512", Algorithm::HS512, jsonwebtoken::Algorithm::HS512),
    ("RS256", Algorithm::RS256, jsonwebtoken::Algorithm::RS256),
];

fn bench(c: &mut Criterion) {
    let pair = common::rsa_pair();
    for (name, algorithm, jwt_algorithm) in CASES {
        let builder = || {
            if algorithm.is_hmac() {
                Verifier::builder().key(algorithm, common::SECRET)
            } else {
                Verifier::builder().rs256(&pair.public_spki_b64)
            }
        };
        let (token, jwt_key) = if algorithm.is_hmac() {
            (
                common::hmac_token(algorithm),
                DecodingKey::from_secret(common::SECRET.as_bytes()),
            )
        } else {
            (
                common::rs256_token(&pair),
                DecodingKey::from_rsa_der(&pair.public_pkcs1_der),
            )
        };
        let verifier = builder().build().unwrap();
        let cached = builder().cache(1024).build().unwrap();
        let validation = jwt_validation(jwt_algorithm);
        // Both accept the token, so both measure the full success path.
        verifier.verify(&token).unwrap();
        decode::<JwtClaims>(&token, &jwt_key, &validation).unwrap();

        let mut group = c.benchmark_group(format!("verify_{name}"));
        group.bench_function("regards_auth", |b| {
            b.iter_custom(|iters| {
                common::time(iters, || verifier.verify(black_box(&token)).unwrap())
            })
        });
        group.bench_function("regards_auth_cached", |b| {
            b.iter_custom(|iters| common::time(iters, || cached.verify(black_box(&token)).unwrap()))
        });
        group.bench_function("jsonwebtoken", |b| {
            b.iter_custom(|iters| {
                common::time(iters, || {
                    decode::<JwtClaims>(black_box(&token), &jwt_key, &validation).unwrap()
                })
            })
        });
        group.finish();
    }
}

fn report(since: SystemTime) {
    let ids: Vec<String> = CASES
        .iter()
        .flat_map(|(name, ..)| {
            ["regards_auth", "regards_auth_cached", "jsonwebtoken"]
                .map(|function| format!("verify_{name}/{function}"))
        })
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    common::print_medians("verify", &ids, since);
    println!("\n== verify: ratios (jsonwebtoken::decode / Verifier::verify) ==");
    for (name, ..) in CASES {
        let ours = common::median_ns(&format!("verify_{name}/regards_auth"), since);
        let cached = common::median_ns(&format!("verify_{name}/regards_auth_cached"), since);
        let theirs = common::median_ns(&format!("verify_{name}/jsonwebtoken"), since);
        if let (Some(ours), Some(theirs)) = (ours, theirs) {
            println!(
                "{name}: Verifier is {:.2}x faster than jsonwebtoken",
                theirs / ours
            );
        }
        if let (Some(ours), Some(cached)) = (ours, cached) {
            println!(
                "{name}: a cache hit is {:.1}x faster than a full verification",
                ours / cached
            );
        }
    }
}

fn main() {
    let since = SystemTime::now();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .output_directory(&common::criterion_home())
        .configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    report(since);
}
