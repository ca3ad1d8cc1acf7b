//! The optional verified-token cache of a [`Verifier`](crate::Verifier) (see
//! [`VerifierBuilder::cache`](crate::VerifierBuilder::cache)).
//!
//! A set-associative table split into shards, each behind its own read-write lock: a hit takes
//! one shard's read lock, so requests on different tokens rarely meet and hits on the same token
//! share the lock (a hit never waits for another; only an insertion, on a miss, takes the write
//! lock). Slots are allocated once, at build time; an entry holds the verified identity itself
//! ([`Claims`], which holds its token), and a hit hands out a clone of it: a reference-count
//! increment. On one token from several cores, that count's cache line is the one contended
//! (see `benches/cache.rs`).
//!
//! Lookups leak nothing useful through timing: the slot is chosen by a keyed hash ([`SlotHash`],
//! random keys drawn per cache), so a caller cannot aim at a slot, and a candidate entry is
//! accepted only after a constant-time comparison of the whole token. The hash covers the
//! token's length and its last [`HASHED_TAIL`] bytes, which lie in the signature: distinct for
//! distinct valid tokens (only those are stored), and a cost that does not grow with the token
//! (an RS256 token is twice as long as an HS512 one).
//!
//! Entries never outlive the token's `exp` (without the leeway: near its end, a token is
//! verified again in full), and a hit is checked again against `nbf` and `aud` at the time of
//! the lookup.

use std::hash::{BuildHasher, RandomState};
use std::sync::{PoisonError, RwLock};

use crate::claims::Claims;

/// Independent locks. A power of two: the shard is read from the high bits of the hash.
const SHARDS: usize = 16;
/// Entries per set: a token can live in any of the `WAYS` slots of its set.
const WAYS: usize = 4;

/// How many bytes, from the end of the token, the keyed hash reads.
const HASHED_TAIL: usize = 64;

/// The slots of one shard: `sets_per_shard * WAYS` entries, allocated once.
type Slots = Box<[Option<Entry>]>;

/// The words [`SlotHash`] reads: the tail, then the length and a zero.
const HASHED_WORDS: usize = HASHED_TAIL / 8 + 2;

/// The keyed hash that places a token in the cache: NH, the universal hash of UMAC
/// (RFC 4418 §5; Black, Halevi, Krawczyk, Krovetz, Rogaway, CRYPTO 1999), over the token's last
/// [`HASHED_TAIL`] bytes (zero-padded) and its length, under [`HASHED_WORDS`] random 64-bit
/// keys drawn for each cache:
///
/// `NH(m) = Σ (m[2i] + k[2i] mod 2^64) · (m[2i+1] + k[2i+1] mod 2^64) mod 2^128`.
///
/// Why it is enough. For any two different inputs fixed without knowing the keys, NH over
/// 64-bit words collides with probability at most 2^-64 over the random keys (it is
/// 2^-64-almost-universal); the slot is a function of that value, so which tokens would share a
/// set is unpredictable to anyone without the keys, and the keys never leave the process. Nothing
/// more is asked of it: it is not a MAC, a collision only puts two tokens in the same set of
/// [`WAYS`] slots, the whole tokens are then compared in constant time, and only verified tokens
/// are ever stored (an attacker can only place tokens that REGARDS signed for them).
///
/// Why this one. On the 64-byte tail it is five 64×64→128-bit multiplications, about forty
/// instructions, against about 640 for SipHash-1-3 (std's `RandomState`) on the same input,
/// which was the largest part of a cache hit (see `benches/cache.rs` and BENCHMARKS.md).
struct SlotHash {
    keys: [u64; HASHED_WORDS],
}

impl SlotHash {
    /// Keys drawn from the operating system's randomness (through std's `RandomState`, whose
    /// SipHash keys are random per instance).
    fn random() -> Self {
        let seed = RandomState::new();
        SlotHash {
            keys: std::array::from_fn(|i| seed.hash_one(i)),
        }
    }

    fn hash(&self, token: &[u8]) -> u64 {
        let tail = &token[token.len().saturating_sub(HASHED_TAIL)..];
        let mut bytes = [0u8; HASHED_TAIL];
        bytes[..tail.len()].copy_from_slice(tail);
        let mut words = [0u64; HASHED_WORDS];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            *word = u64::from_le_bytes(chunk.try_into().expect("8-byte chunks"));
        }
        // The length makes the zero-padded tails of tokens of different lengths distinct.
        words[HASHED_WORDS - 2] = token.len() as u64;
        let sum =
            words
                .chunks_exact(2)
                .zip(self.keys.chunks_exact(2))
                .fold(0u128, |sum, (m, k)| {
                    let a = u128::from(m[0].wrapping_add(k[0]));
                    let b = u128::from(m[1].wrapping_add(k[1]));
                    sum.wrapping_add(a * b)
                });
        // The low bits of a product are poorly mixed (its lowest is an AND): fold in the high half.
        (sum >> 64) as u64 ^ sum as u64
    }
}

/// A bounded map from verified tokens to their claims.
pub(crate) struct TokenCache {
    hasher: SlotHash,
    shards: Box<[RwLock<Slots>]>,
    sets_per_shard: usize,
}

/// A verified identity and the hash of its token. The token itself is in the identity.
struct Entry {
    hash: u64,
    claims: Claims,
}

impl Entry {
    /// Whether this entry is `token`'s: same hash, then the whole token compared in constant
    /// time.
    fn is_for(&self, hash: u64, token: &[u8]) -> bool {
        self.hash == hash
            && constant_time_eq::constant_time_eq(self.claims.token().as_bytes(), token)
    }
}

impl TokenCache {
    /// A cache of at least `entries` tokens (rounded up to a multiple of 64); `None` for 0.
    pub(crate) fn new(entries: usize) -> Option<Self> {
        if entries == 0 {
            return None;
        }
        let sets_per_shard = entries.div_ceil(SHARDS * WAYS);
        let shards = (0..SHARDS)
            .map(|_| RwLock::new((0..sets_per_shard * WAYS).map(|_| None).collect()))
            .collect();
        Some(TokenCache {
            hasher: SlotHash::random(),
            shards,
            sets_per_shard,
        })
    }

    /// How many tokens the cache holds at most.
    pub(crate) fn capacity(&self) -> usize {
        SHARDS * self.sets_per_shard * WAYS
    }

    /// The keyed hash of a token: its length and its last bytes.
    fn hash(&self, token: &[u8]) -> u64 {
        self.hasher.hash(token)
    }

    /// The shard and the first slot of the set a token hash maps to.
    fn place(&self, hash: u64) -> (&RwLock<Slots>, usize) {
        let shard = (hash >> (u64::BITS - SHARDS.trailing_zeros())) as usize;
        // The low bits choose the set: independent of the shard bits for any table size.
        let set = (hash as usize) % self.sets_per_shard;
        (&self.shards[shard], set * WAYS)
    }

    /// The identity cached for `token` (shared, not copied), if it is there and `now` is
    /// before its `exp`.
    pub(crate) fn get(&self, token: &[u8], now: u64) -> Option<Claims> {
        let hash = self.hash(token);
        let (shard, set) = self.place(hash);
        let slots = shard.read().unwrap_or_else(PoisonError::into_inner);
        slots[set..set + WAYS]
            .iter()
            .flatten()
            .find(|entry| now < entry.claims.exp() && entry.is_for(hash, token))
            .map(|entry| entry.claims.clone())
    }

    /// Remembers a verified identity (it holds its token), unless it has already expired. Takes
    /// the slot of the same token, else a free or expired one, else the one that expires first.
    pub(crate) fn insert(&self, claims: &Claims, now: u64) {
        if now >= claims.exp() {
            return;
        }
        let token = claims.token().as_bytes();
        let hash = self.hash(token);
        let (shard, set) = self.place(hash);
        let mut slots = shard.write().unwrap_or_else(PoisonError::into_inner);
        let set = &mut slots[set..set + WAYS];
        let victim = set
            .iter()
            .position(|slot| match slot {
                None => true,
                Some(entry) => now >= entry.claims.exp() || entry.is_for(hash, token),
            })
            .unwrap_or_else(|| {
                (0..WAYS)
                    .min_by_key(|&i| set[i].as_ref().map_or(0, |entry| entry.claims.exp()))
                    .unwrap_or(0)
            });
        set[victim] = Some(Entry {
            hash,
            claims: claims.clone(),
        });
    }

    /// Forgets every token.
    pub(crate) fn clear(&self) {
        for shard in &self.shards {
            let mut slots = shard.write().unwrap_or_else(PoisonError::into_inner);
            slots.iter_mut().for_each(|slot| *slot = None);
        }
    }

    /// How many tokens are cached (expired ones included until they are replaced).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let slots = shard.read().unwrap_or_else(PoisonError::into_inner);
                slots.iter().flatten().count()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;

    /// The identity of `token`, expiring at `exp`.
    fn claims(token: &[u8], exp: u64) -> Claims {
        Claims::new("a@b.c", "a@b.c", Role::Admin, "p", exp)
            .with_token(std::str::from_utf8(token).unwrap())
    }

    /// The token of the identity cached for `token`.
    fn cached(cache: &TokenCache, token: &[u8], now: u64) -> Option<String> {
        cache
            .get(token, now)
            .map(|claims| claims.token().to_owned())
    }

    #[test]
    fn zero_entries_means_no_cache() {
        assert!(TokenCache::new(0).is_none());
    }

    #[test]
    fn capacity_is_rounded_up_to_whole_sets() {
        assert_eq!(TokenCache::new(1).unwrap().capacity(), 64);
        assert_eq!(TokenCache::new(1000).unwrap().capacity(), 1024);
    }

    #[test]
    fn a_cached_token_returns_its_claims() {
        let cache = TokenCache::new(64).unwrap();
        cache.insert(&claims(b"a.b.c", 100), 10);
        assert_eq!(cached(&cache, b"a.b.c", 10).as_deref(), Some("a.b.c"));
        assert_eq!(cache.get(b"a.b.d", 10), None);
        assert_eq!(
            cache.get(b"a.b.c.", 10),
            None,
            "a longer token is another token"
        );
    }

    #[test]
    fn tokens_sharing_their_tail_are_told_apart() {
        let cache = TokenCache::new(64).unwrap();
        let tail = "s".repeat(HASHED_TAIL);
        let (one, two) = (format!("one.{tail}"), format!("two.{tail}"));
        cache.insert(&claims(one.as_bytes(), 100), 0);
        assert_eq!(cache.get(two.as_bytes(), 0), None);
        cache.insert(&claims(two.as_bytes(), 200), 0);
        assert_eq!(cached(&cache, one.as_bytes(), 0), Some(one.clone()));
        assert_eq!(cached(&cache, two.as_bytes(), 0), Some(two.clone()));
        assert_eq!(cache.get(two.as_bytes(), 0).unwrap().exp(), 200);
    }

    #[test]
    fn a_hit_shares_the_cached_identity() {
        let cache = TokenCache::new(64).unwrap();
        let identity = claims(b"a.b.c", 100);
        cache.insert(&identity, 0);
        assert!(cache.get(b"a.b.c", 0).unwrap().shares(&identity));
    }

    #[test]
    fn slot_hash_tells_lengths_and_tails_apart() {
        let hash = SlotHash::random();
        let tail = [b's'; HASHED_TAIL];
        let long = [&b"x."[..], &tail].concat();
        assert_ne!(hash.hash(b"abc"), hash.hash(b"abc\0"));
        assert_ne!(
            hash.hash(&long[1..]),
            hash.hash(&long),
            "same tail, other length"
        );
        assert_ne!(hash.hash(b"a.b.c"), hash.hash(b"a.b.d"));
        assert_eq!(hash.hash(b"a.b.c"), hash.hash(b"a.b.c"));
        assert_ne!(
            SlotHash::random().hash(b"a.b.c"),
            SlotHash::random().hash(b"a.b.c"),
            "keys are drawn per cache"
        );
    }

    #[test]
    fn slot_hash_spreads_tokens_over_the_sets() {
        let cache = TokenCache::new(16 * 64 * WAYS).unwrap();
        let mut used = std::collections::HashSet::new();
        for i in 0..4096 {
            let hash = cache.hash(format!("token-{i:04}").as_bytes());
            let (shard, set) = cache.place(hash);
            used.insert((shard as *const _ as usize, set));
        }
        // 4096 tokens over 1024 sets: a uniform spread leaves about 2 % of them empty.
        assert!(used.len() > 950, "{} sets used", used.len());
    }

    #[test]
    fn entries_never_outlive_exp() {
        let cache = TokenCache::new(64).unwrap();
        cache.insert(&claims(b"t", 100), 10);
        assert!(cache.get(b"t", 99).is_some());
        assert_eq!(cache.get(b"t", 100), None);
        cache.insert(&claims(b"expired", 100), 100);
        assert_eq!(cache.len(), 1, "an expired token is not stored");
    }

    #[test]
    fn memory_is_bounded_by_the_capacity() {
        let cache = TokenCache::new(64).unwrap();
        for i in 0..10_000 {
            cache.insert(&claims(format!("token-{i}").as_bytes(), 1000 + i), 0);
        }
        assert_eq!(cache.len(), 64);
    }

    #[test]
    fn the_same_token_takes_its_own_slot_again() {
        let cache = TokenCache::new(64).unwrap();
        for _ in 0..10 {
            cache.insert(&claims(b"t", 100), 0);
        }
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn clear_forgets_everything() {
        let cache = TokenCache::new(64).unwrap();
        cache.insert(&claims(b"t", 100), 0);
        cache.clear();
        assert_eq!(cache.get(b"t", 0), None);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn hits_are_safe_under_concurrency() {
        let cache = std::sync::Arc::new(TokenCache::new(256).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    for i in 0..2_000u64 {
                        let token = format!("token-{}", (i + t) % 300);
                        if cache.get(token.as_bytes(), 0).is_none() {
                            cache.insert(&claims(token.as_bytes(), 10_000 + i % 300), 0);
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(cache.len() <= cache.capacity());
        assert!(cache.len() > 0);
    }
}
