//! A verified-token cache hit, part by part, and hits from 16 concurrent tasks.
//!
//! Parts (per-thread CPU time, interleaved): the slot hash (NH over the 64-byte tail, as
//! `src/cache.rs` computes it, against std's SipHash-1-3 over the same tail and over the whole
//! token), the shard's read lock, the constant-time comparison of the whole token, the clone and
//! drop of the shared identity, its insertion as a request extension, and the whole hit through
//! `Verifier::verify`.
//!
//! Concurrency (process CPU time, so that time waiting for a core is not counted): the same
//! number of cache hits from one task, and from 16 tasks on a multi-threaded tokio runtime with
//! one worker per core, all on the same token or each on its own. Hits take a shard's read lock
//! (shared, never blocking another reader) and increment the identity's reference count; if
//! they contended, the CPU time per hit would grow with the tasks.
//!
//! `cargo bench --bench cache`.

mod common;

use std::hash::{BuildHasher, RandomState};
use std::hint::black_box;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use common::format_ns;
use regards_auth::{Algorithm, Claims, Role, TokenIssuer, Verifier};

/// The bytes of the token's tail the cache hashes.
const HASHED_TAIL: usize = 64;
const HASHED_WORDS: usize = HASHED_TAIL / 8 + 2;

/// The cache's slot hash (a copy of `SlotHash::hash` in `src/cache.rs`, which is private).
fn nh(keys: &[u64; HASHED_WORDS], token: &[u8]) -> u64 {
    let tail = &token[token.len().saturating_sub(HASHED_TAIL)..];
    let mut bytes = [0u8; HASHED_TAIL];
    bytes[..tail.len()].copy_from_slice(tail);
    let mut words = [0u64; HASHED_WORDS];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        *word = u64::from_le_bytes(chunk.try_into().unwrap());
    }
    words[HASHED_WORDS - 2] = token.len() as u64;
    let sum = words
        .chunks_exact(2)
        .zip(keys.chunks_exact(2))
        .fold(0u128, |sum, (m, k)| {
            let a = u128::from(m[0].wrapping_add(k[0]));
            let b = u128::from(m[1].wrapping_add(k[1]));
            sum.wrapping_add(a * b)
        });
    (sum >> 64) as u64 ^ sum as u64
}

/// CPU time of the whole process (every thread), on Linux.
fn process_cpu_time() -> Duration {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `time` is a valid, writable timespec; the clock id is a constant of the platform.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut time) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
}

fn main() {
    let token = common::hmac_token(Algorithm::HS512);
    let bytes = token.as_bytes();
    let verifier = Verifier::builder()
        .hs512(common::SECRET)
        .cache(10_000)
        .build()
        .unwrap();
    let identity = verifier.verify(&token).unwrap();

    let seed = RandomState::new();
    let keys: [u64; HASHED_WORDS] = std::array::from_fn(|i| seed.hash_one(i));
    let sip = RandomState::new();
    let shard = RwLock::new(());
    let copy = token.clone().into_bytes();
    let mut extensions = http::Extensions::new();

    let mut cases = vec![
        common::Case::new("hit/1_hash_nh_tail64", |iters| {
            common::time(iters, || nh(&keys, black_box(bytes)))
        }),
        common::Case::new("hit/1_hash_siphash13_tail64 (before)", |iters| {
            common::time(iters, || {
                let tail = &bytes[bytes.len() - HASHED_TAIL..];
                sip.hash_one((black_box(bytes).len(), tail))
            })
        }),
        common::Case::new("hit/1_hash_siphash13_whole_token", |iters| {
            common::time(iters, || sip.hash_one(black_box(bytes)))
        }),
        common::Case::new("hit/2_shard_read_lock", |iters| {
            common::time(iters, || drop(black_box(&shard).read().unwrap()))
        }),
        common::Case::new("hit/3_constant_time_compare_312b", |iters| {
            common::time(iters, || {
                constant_time_eq::constant_time_eq(black_box(&copy), black_box(bytes))
            })
        }),
        common::Case::new("hit/4_clone_and_drop_identity", |iters| {
            common::time(iters, || drop(black_box(identity.clone())))
        }),
        common::Case::new("hit/5_extension_insert_and_drop", |iters| {
            common::time(iters, || {
                extensions.insert(identity.clone());
                extensions.remove::<Claims>()
            })
        }),
        common::Case::new("hit/all_verifier_verify_cached", |iters| {
            common::time(iters, || verifier.verify(black_box(&token)).unwrap())
        }),
    ];
    if let Some(medians) = common::run("cache", &mut cases) {
        println!("\n== a cache hit, part by part (interleaved medians) ==");
        for (name, ns) in &medians {
            println!("{name:<48} {:>12}", format_ns(*ns));
        }
    }
    drop(cases);

    if common::interleaving_enabled() && std::env::var("BENCH_PROFILE").is_err() {
        concurrency(&verifier, &token);
    }
}

/// What each task repeats: a cache hit on its token, or (the control) a clone of one shared
/// identity, which every hit also makes.
#[derive(Clone, Copy)]
enum Work {
    Hit,
    CloneIdentity,
}

/// Per-operation CPU time of `hits` operations spread over `tasks` tasks (a token each, or one
/// for all), and the wall-clock time they took.
fn hits_per_task(
    runtime: &tokio::runtime::Runtime,
    verifier: &Verifier,
    tokens: &[String],
    tasks: usize,
    hits: usize,
    work: Work,
) -> (f64, Duration) {
    let per_task = hits / tasks;
    let identity = verifier.verify(&tokens[0]).unwrap();
    let (cpu, wall) = (process_cpu_time(), Instant::now());
    runtime.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|task| {
                let verifier = verifier.clone();
                let token = tokens[task % tokens.len()].clone();
                let identity = identity.clone();
                tokio::spawn(async move {
                    for i in 0..per_task {
                        match work {
                            Work::Hit => drop(black_box(verifier.verify(&token).unwrap())),
                            Work::CloneIdentity => drop(black_box(identity.clone())),
                        }
                        if i % 256 == 255 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    let cpu = process_cpu_time() - cpu;
    (
        cpu.as_nanos() as f64 / (per_task * tasks) as f64,
        wall.elapsed(),
    )
}

fn concurrency(verifier: &Verifier, token: &str) {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .build()
        .unwrap();
    let issuer = TokenIssuer::new(Algorithm::HS512, common::SECRET).unwrap();
    let distinct: Vec<String> = (0..16)
        .map(|i| issuer.mint(&format!("user{i}@regards.fr"), Role::Admin, "project1"))
        .collect();
    for token in &distinct {
        verifier.verify(token).unwrap();
    }
    let same = vec![token.to_owned()];
    let hits = 1 << 20;
    let passes = 3;
    let cases: [(&str, &[String], usize, Work); 5] = [
        ("hits: 1 task, one token", &same, 1, Work::Hit),
        ("hits: 16 tasks, the same token", &same, 16, Work::Hit),
        ("hits: 16 tasks, 16 tokens", &distinct, 16, Work::Hit),
        ("identity clones: 1 task", &same, 1, Work::CloneIdentity),
        ("identity clones: 16 tasks", &same, 16, Work::CloneIdentity),
    ];
    let mut samples = vec![Vec::new(); cases.len()];
    for _ in 0..passes {
        for ((_, tokens, tasks, work), samples) in cases.iter().zip(&mut samples) {
            samples.push(hits_per_task(
                &runtime, verifier, tokens, *tasks, hits, *work,
            ));
        }
    }
    println!(
        "\n== cache hits, {hits} per case, {cores} worker threads, medians of {passes} interleaved \
         passes (process CPU time per hit; wall-clock for all) =="
    );
    let mut single = 0.0;
    for ((name, _, tasks, _), mut samples) in cases.iter().zip(samples) {
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (cpu, wall) = samples[samples.len() / 2];
        if *tasks == 1 {
            single = cpu;
        }
        println!(
            "{name:<34} {:>10} per operation ({:.2}x one task)   {wall:>10.1?} in all",
            format_ns(cpu),
            cpu / single
        );
    }
}
