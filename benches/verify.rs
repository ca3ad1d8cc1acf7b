//! `Verifier::verify` against a raw `jsonwebtoken::decode` doing the same validation into a
//! typed struct, for HS256, HS512 and RS256 REGARDS-like tokens.
//!
//! `cargo bench --bench verify` (add `--features aws-lc-rs` for the other crypto backend).
//! Prints the medians and the ratios at the end.

mod common;

use std::hint::black_box;

use common::{JwtClaims, jwt_validation};
use jsonwebtoken::{DecodingKey, decode};
use regards_auth::{Algorithm, Verifier};

const CASES: [(&str, Algorithm, jsonwebtoken::Algorithm); 3] = [
    ("HS256", Algorithm::HS256, jsonwebtoken::Algorithm::HS256),
    ("HS512", Algorithm::HS512, jsonwebtoken::Algorithm::HS512),
    ("RS256", Algorithm::RS256, jsonwebtoken::Algorithm::RS256),
];

const FUNCTIONS: [&str; 3] = ["regards_auth", "regards_auth_cached", "jsonwebtoken"];

fn main() {
    let pair = common::rsa_pair();
    let mut setups = Vec::new();
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
        cached.verify(&token).unwrap();
        decode::<JwtClaims>(&token, &jwt_key, &validation).unwrap();
        setups.push((name, token, verifier, cached, jwt_key, validation));
    }

    // The primitives of both backends over the same inputs, in the same run (the AWS-LC side
    // exists only with `--features aws-lc-rs`).
    let hs256_token = &setups[0].1;
    let hs512_token = &setups[1].1;
    let rs256_token = &setups[2].1;
    #[cfg(feature = "aws-lc-rs")]
    let backends = backends::Backends::new(hs256_token, hs512_token, rs256_token, &pair);
    #[cfg(not(feature = "aws-lc-rs"))]
    let _ = (hs256_token, hs512_token, rs256_token);

    let mut cases: Vec<common::Case<'_>> = Vec::new();
    for (name, token, verifier, cached, jwt_key, validation) in &setups {
        cases.push(common::Case::new(
            format!("verify_{name}/regards_auth"),
            move |iters| common::time(iters, || verifier.verify(black_box(token)).unwrap()),
        ));
        cases.push(common::Case::new(
            format!("verify_{name}/regards_auth_cached"),
            move |iters| common::time(iters, || cached.verify(black_box(token)).unwrap()),
        ));
        cases.push(common::Case::new(
            format!("verify_{name}/jsonwebtoken"),
            move |iters| {
                common::time(iters, || {
                    decode::<JwtClaims>(black_box(token), jwt_key, validation).unwrap()
                })
            },
        ));
    }

    #[cfg(feature = "aws-lc-rs")]
    backends.cases(&mut cases);

    let Some(medians) = common::run("verify", &mut cases) else {
        return;
    };
    println!(
        "\n== verify: interleaved medians ({}), backend {} ==",
        common::clock_name(),
        if cfg!(feature = "aws-lc-rs") {
            "aws-lc-rs"
        } else {
            "RustCrypto"
        }
    );
    for (name, ns) in &medians {
        println!("{name:<40} {:>12}", common::format_ns(*ns));
    }
    let median = |id: String| {
        medians
            .iter()
            .find(|(name, _)| *name == id)
            .map(|&(_, ns)| ns)
    };
    #[cfg(feature = "aws-lc-rs")]
    backends::report(&median);
    println!("\n== verify: ratios ==");
    for (name, ..) in CASES {
        let [ours, cached, theirs] =
            FUNCTIONS.map(|function| median(format!("verify_{name}/{function}")));
        if let (Some(ours), Some(cached), Some(theirs)) = (ours, cached, theirs) {
            println!(
                "{name}: jsonwebtoken::decode / Verifier::verify = {:.2}x; a cache hit is {:.1}x faster than a full verification",
                theirs / ours,
                ours / cached
            );
        }
    }
}

/// RustCrypto against AWS-LC: HMAC-SHA512 from a pre-keyed state and RSA-2048 PKCS#1 v1.5
/// SHA-256 verification with a parsed key, over the benchmark tokens.
#[cfg(feature = "aws-lc-rs")]
mod backends {
    use std::hint::black_box;

    use aws_lc_rs::{hmac as lc_hmac, signature as lc_signature};
    use hmac::{Hmac, Mac};
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs1v15;
    use rsa::signature::Verifier as _;
    use sha2::{Sha256, Sha512};

    use crate::common::{self, Case, RsaPair};

    pub struct Backends {
        hs256_input: Vec<u8>,
        rust_hmac256: Hmac<Sha256>,
        lc_hmac256: lc_hmac::Key,
        hs512_input: Vec<u8>,
        rs256_input: Vec<u8>,
        rs256_signature: Vec<u8>,
        rust_hmac: Hmac<Sha512>,
        lc_hmac: lc_hmac::Key,
        rust_rsa: pkcs1v15::VerifyingKey<Sha256>,
        lc_rsa: lc_signature::ParsedPublicKey,
    }

    fn signing_input(token: &str) -> Vec<u8> {
        token.as_bytes()[..token.rfind('.').unwrap()].to_vec()
    }

    impl Backends {
        pub fn new(
            hs256_token: &str,
            hs512_token: &str,
            rs256_token: &str,
            pair: &RsaPair,
        ) -> Self {
            use base64::Engine;
            let signature = &rs256_token[rs256_token.rfind('.').unwrap() + 1..];
            let public = pair.private.to_public_key();
            let der = public.to_pkcs1_der().unwrap();
            Backends {
                hs256_input: signing_input(hs256_token),
                rust_hmac256: Hmac::new_from_slice(common::SECRET.as_bytes()).unwrap(),
                lc_hmac256: lc_hmac::Key::new(lc_hmac::HMAC_SHA256, common::SECRET.as_bytes()),
                hs512_input: signing_input(hs512_token),
                rs256_input: signing_input(rs256_token),
                rs256_signature: base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(signature)
                    .unwrap(),
                rust_hmac: Hmac::new_from_slice(common::SECRET.as_bytes()).unwrap(),
                lc_hmac: lc_hmac::Key::new(lc_hmac::HMAC_SHA512, common::SECRET.as_bytes()),
                rust_rsa: pkcs1v15::VerifyingKey::new(public),
                lc_rsa: lc_signature::ParsedPublicKey::new(
                    &lc_signature::RSA_PKCS1_2048_8192_SHA256,
                    der.as_bytes(),
                )
                .unwrap(),
            }
        }

        pub fn cases<'a>(&'a self, cases: &mut Vec<Case<'a>>) {
            cases.push(Case::new("backend_hmac_sha256/rustcrypto", move |iters| {
                common::time(iters, || {
                    let mut mac = self.rust_hmac256.clone();
                    mac.update(black_box(&self.hs256_input));
                    mac.finalize().into_bytes()
                })
            }));
            cases.push(Case::new("backend_hmac_sha256/aws_lc_rs", move |iters| {
                common::time(iters, || {
                    lc_hmac::sign(&self.lc_hmac256, black_box(&self.hs256_input))
                })
            }));
            cases.push(Case::new("backend_hmac_sha512/rustcrypto", move |iters| {
                common::time(iters, || {
                    let mut mac = self.rust_hmac.clone();
                    mac.update(black_box(&self.hs512_input));
                    mac.finalize().into_bytes()
                })
            }));
            cases.push(Case::new("backend_hmac_sha512/aws_lc_rs", move |iters| {
                common::time(iters, || {
                    lc_hmac::sign(&self.lc_hmac, black_box(&self.hs512_input))
                })
            }));
            let signature = pkcs1v15::Signature::try_from(&self.rs256_signature[..]).unwrap();
            cases.push(Case::new(
                "backend_rsa2048_sha256/rustcrypto",
                move |iters| {
                    common::time(iters, || {
                        self.rust_rsa
                            .verify(black_box(&self.rs256_input), &signature)
                            .unwrap()
                    })
                },
            ));
            cases.push(Case::new(
                "backend_rsa2048_sha256/aws_lc_rs",
                move |iters| {
                    common::time(iters, || {
                        self.lc_rsa
                            .verify_sig(black_box(&self.rs256_input), &self.rs256_signature)
                            .unwrap()
                    })
                },
            ));
        }
    }

    pub fn report(median: &dyn Fn(String) -> Option<f64>) {
        println!("\n== backends: RustCrypto / AWS-LC (same run) ==");
        for primitive in [
            "backend_hmac_sha256",
            "backend_hmac_sha512",
            "backend_rsa2048_sha256",
        ] {
            let rust = median(format!("{primitive}/rustcrypto"));
            let lc = median(format!("{primitive}/aws_lc_rs"));
            if let (Some(rust), Some(lc)) = (rust, lc) {
                println!(
                    "{primitive}: RustCrypto {} / AWS-LC {} = {:.2}x",
                    common::format_ns(rust),
                    common::format_ns(lc),
                    rust / lc
                );
            }
        }
    }
}
