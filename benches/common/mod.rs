//! Shared by the benchmarks: REGARDS-like tokens, a test RSA key made at run time, and the
//! ratio report read back from criterion's own estimates of this run.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use regards_auth::{Algorithm, Claims, Role, TokenIssuer};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde::Deserialize;

/// An HS256/HS384/HS512 secret of a realistic deployment (64 printable bytes).
pub const SECRET: &str = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN";

/// REGARDS-like claims: a project administrator on `project1`, valid for an hour.
pub fn claims() -> Claims {
    let exp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    Claims::new(
        "jane.doe@regards-project.example.org",
        "jane.doe@regards-project.example.org",
        Role::ProjectAdmin,
        "project1",
        exp,
    )
}

/// A token signed by REGARDS' issuer (header exactly `{"alg":"<ALG>"}`).
pub fn hmac_token(algorithm: Algorithm) -> String {
    TokenIssuer::new(algorithm, SECRET)
        .unwrap()
        .issue(&claims())
}

/// An RSA-2048 key pair generated for this run (no key is committed).
pub struct RsaPair {
    pub private: rsa::RsaPrivateKey,
    /// Standard base64 of the DER SubjectPublicKeyInfo (REGARDS' `jwt.signing-key.RS256`).
    pub public_spki_b64: String,
    /// DER RSAPublicKey (PKCS#1), as `jsonwebtoken::DecodingKey::from_rsa_der` wants.
    pub public_pkcs1_der: Vec<u8>,
}

pub fn rsa_pair() -> RsaPair {
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let public = private.to_public_key();
    RsaPair {
        public_spki_b64: STANDARD.encode(public.to_public_key_der().unwrap().as_bytes()),
        public_pkcs1_der: public.to_pkcs1_der().unwrap().as_bytes().to_vec(),
        private,
    }
}

/// An RS256 token with REGARDS' header shape.
pub fn rs256_token(pair: &RsaPair) -> String {
    let mut token = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(serde_json::to_vec(&claims()).unwrap(), &mut token);
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(pair.private.clone());
    let signature = signer.sign(token.as_bytes()).to_vec();
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    token
}

/// The same token with one signature character changed (still canonical base64url).
pub fn with_bad_signature(token: &str) -> String {
    let dot = token.rfind('.').unwrap();
    let mut bytes = token.as_bytes().to_vec();
    bytes[dot + 1] = if bytes[dot + 1] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// The typed claims the jsonwebtoken baselines decode into (same required members).
#[derive(Debug, Clone, Deserialize)]
pub struct JwtClaims {
    pub sub: String,
    pub email: String,
    pub role: String,
    pub tenant: String,
    pub exp: u64,
    #[serde(rename = "accessGroups", default)]
    pub access_groups: Vec<String>,
}

/// The validation `Verifier` applies, expressed for jsonwebtoken: the one algorithm, `exp`
/// required and checked, `nbf` checked, 60 s leeway, `aud` refused (none configured).
pub fn jwt_validation(algorithm: jsonwebtoken::Algorithm) -> jsonwebtoken::Validation {
    let mut validation = jsonwebtoken::Validation::new(algorithm);
    validation.leeway = 60;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp"]);
    validation
}

/// Per-thread CPU time: the time this thread ran, not the time it waited while other jobs had
/// the shared cores. `BENCH_CLOCK=wall` measures wall-clock time instead.
pub fn now() -> Duration {
    static WALL: OnceLock<Option<Instant>> = OnceLock::new();
    let wall = WALL
        .get_or_init(|| (std::env::var("BENCH_CLOCK").as_deref() == Ok("wall")).then(Instant::now));
    if let Some(start) = wall {
        return start.elapsed();
    }
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `time` is a valid, writable timespec; the clock id is a constant of the platform.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
}

/// Runs `f` `iters` times and returns the time taken, on the [`now`] clock.
pub fn time<R>(iters: u64, mut f: impl FnMut() -> R) -> Duration {
    let start = now();
    for _ in 0..iters {
        std::hint::black_box(f());
    }
    now() - start
}

/// Which clock the run used, for the report.
pub fn clock_name() -> &'static str {
    if std::env::var("BENCH_CLOCK").as_deref() == Ok("wall") {
        "wall-clock time"
    } else {
        "per-thread CPU time"
    }
}

/// Where criterion writes its estimates (the same rule criterion applies, made explicit so
/// that the report reads what this run wrote).
pub fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("criterion")
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

/// The median (ns) criterion estimated for `id` ("group/function") during this run, if it ran.
pub fn median_ns(id: &str, since: SystemTime) -> Option<f64> {
    // Criterion turns the slash of an id that is not in a group into an underscore.
    [id.to_owned(), id.replace('/', "_")]
        .iter()
        .find_map(|dir| {
            let path = criterion_home()
                .join(dir)
                .join("new")
                .join("estimates.json");
            let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
            if modified < since {
                return None;
            }
            let estimates: Estimates = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
            Some(estimates.median.point_estimate)
        })
}

/// Prints a table of medians for `ids`, skipping those this run did not measure.
pub fn print_medians(title: &str, ids: &[&str], since: SystemTime) {
    println!("\n== {title}: medians of this run ({}) ==", clock_name());
    for id in ids {
        if let Some(ns) = median_ns(id, since) {
            println!("{id:<48} {:>12}", format_ns(ns));
        }
    }
}

pub fn format_ns(ns: f64) -> String {
    if ns >= 10_000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else {
        format!("{:.3} µs", ns / 1000.0)
    }
}

/// Runs every case under criterion (one benchmark after the other, medians printed under
/// `name`), then, unless `BENCH_INTERLEAVED=0`, interleaved (see [`interleaved`]): returns the
/// interleaved median of each case, in ns, with its name.
///
/// `BENCH_PROFILE=<case name>` runs only that case, `BENCH_PROFILE_ITERS` times (100 000 by
/// default), without criterion: for `valgrind --tool=callgrind`. `BENCH_CRITERION=0` skips
/// criterion (the interleaved run alone, for quick comparisons).
pub fn run(name: &str, cases: &mut [Case<'_>]) -> Option<Vec<(String, f64)>> {
    let by_pass = run_by_pass(name, cases)?;
    Some(
        by_pass
            .into_iter()
            .map(|(name, passes)| (name, median(passes)))
            .collect(),
    )
}

/// The median of `samples`.
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// As [`run`], but returns each case's median in each interleaved pass, so that ratios can be
/// taken within a pass (whose cases ran under the same load) before the median over passes.
// Never inlined: scripts/instructions.sh counts instructions from this function down
// (`--toggle-collect`), which must therefore exist in every bench binary.
#[inline(never)]
pub fn run_by_pass(name: &str, cases: &mut [Case<'_>]) -> Option<Vec<(String, Vec<f64>)>> {
    if let Ok(profiled) = std::env::var("BENCH_PROFILE") {
        let iters = std::env::var("BENCH_PROFILE_ITERS")
            .ok()
            .and_then(|iters| iters.parse().ok())
            .unwrap_or(100_000);
        let case = cases
            .iter_mut()
            .find(|case| case.name == profiled)
            .unwrap_or_else(|| panic!("no case named {profiled}"));
        let elapsed = (case.run)(iters);
        println!("{profiled}: {iters} iterations in {elapsed:?}");
        return None;
    }
    if std::env::var("BENCH_CRITERION").as_deref() == Ok("0") {
        let medians = interleaved(cases);
        return Some(
            cases
                .iter()
                .map(|case| case.name.clone())
                .zip(medians)
                .collect(),
        );
    }
    let since = SystemTime::now();
    let mut criterion = criterion::Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .output_directory(&criterion_home())
        .configure_from_args();
    for case in cases.iter_mut() {
        criterion.bench_function(&case.name, |b| b.iter_custom(|iters| (case.run)(iters)));
    }
    criterion.final_summary();
    let names: Vec<&str> = cases.iter().map(|case| case.name.as_str()).collect();
    print_medians(
        &format!("{name} (criterion, one benchmark after the other)"),
        &names,
        since,
    );
    if !interleaving_enabled() {
        return None;
    }
    let medians = interleaved(cases);
    Some(
        cases
            .iter()
            .map(|case| case.name.clone())
            .zip(medians)
            .collect(),
    )
}

/// `BENCH_INTERLEAVED=0` skips the interleaved run (e.g. when profiling one benchmark).
pub fn interleaving_enabled() -> bool {
    std::env::var("BENCH_INTERLEAVED").as_deref() != Ok("0")
}

/// One measured operation: runs it `iters` times and returns the time taken.
pub struct Case<'a> {
    pub name: String,
    pub run: Box<dyn FnMut(u64) -> Duration + 'a>,
}

impl<'a> Case<'a> {
    pub fn new(name: impl Into<String>, run: impl FnMut(u64) -> Duration + 'a) -> Self {
        Case {
            name: name.into(),
            run: Box::new(run),
        }
    }
}

/// Measures every case in turn, round after round, each turn lasting about 5 ms, in
/// `BENCH_PASSES` passes (3 by default) of `BENCH_ROUNDS` rounds (11 by default); returns, for
/// each case, its median time per operation in each pass, in ns. Each pass's medians are
/// printed too, so that the spread between passes shows.
///
/// Criterion measures one benchmark after the other; on shared cores the load changes between
/// them, which skews the ratios. Interleaving gives every case the same conditions, so the
/// ratios are taken from these medians.
pub fn interleaved(cases: &mut [Case<'_>]) -> Vec<Vec<f64>> {
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
            .max(1)
    };
    let (passes, rounds) = (env("BENCH_PASSES", 3), env("BENCH_ROUNDS", 11));
    let turn = Duration::from_millis(5);
    let iters: Vec<u64> = cases
        .iter_mut()
        .map(|case| {
            let mut iters = 1u64;
            loop {
                let elapsed = (case.run)(iters);
                if elapsed >= turn / 8 || iters >= 1 << 24 {
                    let per_op = elapsed.as_secs_f64() / iters as f64;
                    break ((turn.as_secs_f64() / per_op.max(1e-12)) as u64).max(1);
                }
                iters *= 2;
            }
        })
        .collect();
    let mut pass_medians = vec![Vec::with_capacity(passes); cases.len()];
    for pass in 0..passes {
        let mut samples = vec![Vec::with_capacity(rounds); cases.len()];
        for _ in 0..rounds {
            for ((case, &iters), samples) in cases.iter_mut().zip(&iters).zip(&mut samples) {
                let elapsed = (case.run)(iters);
                samples.push(elapsed.as_nanos() as f64 / iters as f64);
            }
        }
        println!(
            "\n-- interleaved pass {} of {passes} ({rounds} rounds) --",
            pass + 1
        );
        for ((case, samples), medians) in cases.iter().zip(samples).zip(&mut pass_medians) {
            let ns = median(samples);
            println!("{:<48} {:>12}", case.name, format_ns(ns));
            medians.push(ns);
        }
    }
    pass_medians
}
