//! Token verification: [`Verifier`], its [`VerifierBuilder`] and the rules it applies.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::AuthError;
use crate::cache::TokenCache;
use crate::claims::{
    ClaimValue, Claims, MAX_TOKEN_LEN, check_token_syntax, read_claims, string_array,
};
use crate::jws;
use crate::key::{Algorithm, ConfigError, VerifyingKey};

/// The clock skew tolerated on `exp` and `nbf` unless configured: 60 seconds, as Spring
/// Security's resource server.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// Verifies REGARDS tokens: one key per algorithm, the algorithm chosen by the token among the
/// configured ones only.
///
/// Cheap to clone (the keys are shared). Usable without the middleware, e.g. for a token read
/// from a websocket handshake.
///
/// What [`verify`](Self::verify) checks, in order:
/// 1. size (8 KiB at most), RFC 6750 `b64token` syntax, three segments;
/// 2. the JOSE header is a JSON object without duplicate members, with a string `alg` naming an
///    algorithm that has a configured key, no `crit` or `cty`, and `typ` absent or naming a
///    JWT (`JWT`, `JOSE`, `application/jwt`, `application/jose`, in any case);
/// 3. the signature (strict base64url, exact length, constant-time MAC comparison);
/// 4. the claims (see [`Claims`]): `exp` not passed, `nbf` (if present) reached, both with the
///    leeway; `aud` refused unless an audience is configured and `aud` names it.
///
/// ```
/// use regards_auth::{Verifier, AuthError};
///
/// let verifier = Verifier::builder()
///     .hs512("a-deployment-secret-of-at-least-sixty-four-bytes-................")
///     .build()?;
/// assert_eq!(verifier.verify("not-a-token").unwrap_err(), AuthError::MalformedToken);
/// # Ok::<(), regards_auth::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    keys: [Option<VerifyingKey>; 6],
    /// The encoded header segments that need no decoding: for each configured algorithm,
    /// `{"alg":"<ALG>"}` (REGARDS') and the two orders of `{"alg":"<ALG>","typ":"JWT"}`.
    known_headers: Vec<(Box<[u8]>, Algorithm)>,
    /// The length of the shortest token with one of them: a shorter one is judged without
    /// looking for them.
    shortest_usual_token: usize,
    leeway: u64,
    audience: Option<String>,
    cache: Option<TokenCache>,
}

/// The JOSE headers common enough to be recognized by their encoding. Decoding any of them
/// gives `alg` and an accepted `typ`, nothing else: comparing the encoded bytes is the same
/// decision as decoding them (strict base64url has one encoding per byte string).
fn known_headers(algorithm: Algorithm) -> [Box<[u8]>; 3] {
    let alg = algorithm.as_str();
    [
        format!(r#"{{"alg":"{alg}"}}"#),
        format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
        format!(r#"{{"typ":"JWT","alg":"{alg}"}}"#),
    ]
    .map(|json| jws::encode(json.as_bytes()).into_bytes().into_boxed_slice())
}

/// Whether a token is RFC 6750 `b64token` syntax with exactly three segments: scanned once,
/// and only when a refusal's reason depends on it.
struct Syntax<'t> {
    token: &'t [u8],
    payload: &'t [u8],
    well_formed: Option<bool>,
}

impl<'t> Syntax<'t> {
    fn new(token: &'t [u8], payload: &'t [u8]) -> Self {
        Syntax {
            token,
            payload,
            well_formed: None,
        }
    }

    fn is_well_formed(&mut self) -> bool {
        *self.well_formed.get_or_insert_with(|| {
            check_token_syntax(self.token).is_ok() && !self.payload.contains(&b'.')
        })
    }

    /// `error` for a well-formed token, [`AuthError::MalformedToken`] for any other.
    fn malformed_or(&mut self, error: AuthError) -> AuthError {
        if self.is_well_formed() {
            error
        } else {
            AuthError::MalformedToken
        }
    }
}

/// The largest payload decoded on the stack; larger ones (rare: many access groups or
/// additional claims) are decoded into a heap buffer.
const STACK_PAYLOAD_LEN: usize = 1536;
/// The largest signature: RSA-8192.
const MAX_SIGNATURE_LEN: usize = 1024;

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algorithms: Vec<_> = Algorithm::ALL
            .into_iter()
            .filter(|alg| self.inner.keys[alg.index()].is_some())
            .collect();
        f.debug_struct("Verifier")
            .field("algorithms", &algorithms)
            .field("leeway", &self.inner.leeway)
            .field("audience", &self.inner.audience)
            .field(
                "cache",
                &self.inner.cache.as_ref().map(TokenCache::capacity),
            )
            .finish()
    }
}

impl Verifier {
    /// A builder with no key, the default leeway and no audience.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }

    /// A verifier configured from the environment, as REGARDS' `jwt.signing-key.*`:
    /// `JWT_SIGNING_KEY_HS256`, `JWT_SIGNING_KEY_HS384`, `JWT_SIGNING_KEY_HS512` (the raw
    /// UTF-8 bytes are the HMAC key) and `JWT_SIGNING_KEY_RS256`, `JWT_SIGNING_KEY_RS384`,
    /// `JWT_SIGNING_KEY_RS512` (standard base64 DER SubjectPublicKeyInfo, or PEM).
    ///
    /// Fails when none is set, or when one is unusable; REGARDS' public development key is
    /// refused (use [`VerifierBuilder::keys_from_env`] with
    /// [`VerifierBuilder::allow_development_key`] on a development machine).
    ///
    /// # Errors
    ///
    /// [`ConfigError::NotUnicode`] for a variable that is set but not UTF-8,
    /// [`ConfigError::NoKey`] when none is set, and the key errors of
    /// [`VerifierBuilder::build`] for a key that is unusable (an empty variable is
    /// [`ConfigError::EmptyKey`]).
    pub fn from_env() -> Result<Verifier, ConfigError> {
        Verifier::builder().keys_from_env().build()
    }

    /// The algorithms that have a key.
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        Algorithm::ALL
            .into_iter()
            .filter(|alg| self.inner.keys[alg.index()].is_some())
    }

    /// Verifies a compact JWS and returns its claims, which hold the token (see
    /// [`Claims::bearer_token`]).
    ///
    /// # Errors
    ///
    /// The [`AuthError`] of the first check the token fails, in the order of the
    /// [type's docs](Verifier); a token that is not well-formed is
    /// [`MalformedToken`](AuthError::MalformedToken), whatever else is wrong with it:
    /// - [`TokenTooLarge`](AuthError::TokenTooLarge): longer than 8 KiB;
    /// - [`MalformedToken`](AuthError::MalformedToken): not RFC 6750 `b64token` syntax with
    ///   exactly three segments, a segment that is not strict base64url, or a header that is
    ///   not one JSON object of at most 1 KiB with unique members (16 at most) and a string
    ///   `alg`;
    /// - [`UnsupportedHeader`](AuthError::UnsupportedHeader): `crit`, `cty` or `zip` in the
    ///   header, or a `typ` that is not a JWT's;
    /// - [`UnsupportedAlgorithm`](AuthError::UnsupportedAlgorithm): `alg` names no configured
    ///   key (`none` and lower-case names included);
    /// - [`InvalidSignature`](AuthError::InvalidSignature): a signature of the wrong length for
    ///   the key, or one that does not match;
    /// - [`InvalidClaims`](AuthError::InvalidClaims): the claims are not of the REGARDS shape
    ///   (see [`Claims`]);
    /// - [`Expired`](AuthError::Expired), [`NotYetValid`](AuthError::NotYetValid): `exp`
    ///   passed, or `nbf` not reached, beyond the leeway;
    /// - [`InvalidAudience`](AuthError::InvalidAudience): an `aud` that does not name the
    ///   configured audience, or any `aud` when none is configured.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        self.verify_token(token.as_bytes(), unix_now)
    }

    /// [`verify`](Self::verify) at a given time, in seconds since the Unix epoch.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify), with `exp` and `nbf` judged at `now`.
    pub fn verify_at(&self, token: &str, now: u64) -> Result<Claims, AuthError> {
        self.verify_token(token.as_bytes(), move || now)
    }

    /// Forgets every cached token (see [`VerifierBuilder::cache`]). Does nothing without a
    /// cache. The cache is shared by the clones of this verifier.
    pub fn clear_cache(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.clear();
        }
    }

    /// Verifies a token as a request presents it: the size cap; then, when there is a cache, a
    /// lookup (a hit is a token this verifier already checked and verified, compared whole:
    /// no syntax scan); then the syntax, the signature and the claims. The clock is read only
    /// when a date is to be checked (never for a token refused before).
    pub(crate) fn verify_token(
        &self,
        token: &[u8],
        clock: impl Fn() -> u64 + Copy,
    ) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TokenTooLarge);
        }
        let Some(cache) = &self.inner.cache else {
            return self.verify_uncached(token, clock);
        };
        let now = clock();
        if let Some(claims) = cache.get(token, now) {
            // Checked again at this time: a caller of `verify_at` may go back in time.
            self.check_times_and_audience(
                claims.exp(),
                claims.not_before(),
                claims.additional("aud"),
                now,
            )?;
            return Ok(claims);
        }
        let claims = self.verify_uncached(token, move || now)?;
        cache.insert(&claims, now);
        Ok(claims)
    }

    /// Verifies a token that is not in the cache.
    ///
    /// The usual token (a header among the [`known_headers`], base64url segments) is verified
    /// without the syntax scan: decoding its segments checks every character the scan would.
    /// The scan runs when a refusal's reason depends on it: a token that is not RFC 6750
    /// `b64token` syntax with exactly three segments is malformed, whatever else is wrong with
    /// it, and costs no cryptography; an unknown header is decoded only from a token that is.
    fn verify_uncached(
        &self,
        token: &[u8],
        clock: impl Fn() -> u64 + Copy,
    ) -> Result<Claims, AuthError> {
        let (segments, key) = match self.usual_segments(token) {
            Some((segments, key)) => (segments, Some(key)),
            None => {
                let segments = jws::split_at_outer_dots(token).ok_or(AuthError::MalformedToken)?;
                (segments, self.known_key(segments.header))
            }
        };
        let mut syntax = Syntax::new(token, segments.payload);
        let key = match key {
            Some(key) => key,
            None if syntax.is_well_formed() => self.header_key(segments.header)?,
            None => return Err(AuthError::MalformedToken),
        };

        let mut signature_buf = jws::buffer::<MAX_SIGNATURE_LEN>();
        let signature = (segments.signature.len() == jws::encoded_len(key.signature_len()))
            .then(|| jws::decode_segment(segments.signature, &mut signature_buf))
            .flatten();
        let Some(signature) = signature else {
            return Err(syntax.malformed_or(AuthError::InvalidSignature));
        };

        // Decoded before the signature is checked (it then checks the payload's characters),
        // read only after.
        let mut stack_buf = jws::buffer::<STACK_PAYLOAD_LEN>();
        let mut heap_buf = Vec::new();
        let payload_buf = if segments.payload.len() <= jws::encoded_len(STACK_PAYLOAD_LEN) {
            &mut stack_buf[..]
        } else {
            heap_buf.reserve_exact(segments.payload.len() / 4 * 3 + 3);
            heap_buf.spare_capacity_mut()
        };
        let payload = jws::decode_segment(segments.payload, payload_buf);
        if payload.is_none() && !syntax.is_well_formed() {
            return Err(AuthError::MalformedToken);
        }
        if !key.verify(segments.signing_input, signature) {
            return Err(AuthError::InvalidSignature);
        }
        let payload = payload.ok_or(AuthError::MalformedToken)?;
        self.identity(token, payload, clock())
    }

    /// Reads and checks the claims of a token whose signature is valid, and builds the shared
    /// identity that holds them with the token.
    fn identity(&self, token: &[u8], payload: &[u8], now: u64) -> Result<Claims, AuthError> {
        let claims = read_claims(payload)?;
        self.check_times_and_audience(
            claims.exp(),
            claims.not_before(),
            claims.additional("aud"),
            now,
        )?;
        // Only ASCII gets this far (base64url segments, or the syntax scan): this never fails.
        let token = std::str::from_utf8(token).map_err(|_| AuthError::MalformedToken)?;
        Ok(claims.into_claims(token))
    }

    /// The segments of a token that starts with one of the [`known_headers`] and a dot, and
    /// ends with a dot and a signature of its key's length, and that key: found where they
    /// must be, without searching for the dots (the same segments as the search finds, as
    /// neither a known header nor base64url holds a dot).
    fn usual_segments<'t>(&self, token: &'t [u8]) -> Option<(jws::Segments<'t>, &VerifyingKey)> {
        if token.len() < self.inner.shortest_usual_token {
            return None;
        }
        self.inner
            .known_headers
            .iter()
            .find_map(|(header, algorithm)| {
                let key = self.inner.keys[algorithm.index()].as_ref()?;
                let signature_len = jws::encoded_len(key.signature_len());
                let last = token.len().checked_sub(signature_len + 1)?;
                let segments = jws::split_at(token, header.len(), last)?;
                (segments.header == &**header).then_some((segments, key))
            })
    }

    /// The key of a header among the [`known_headers`], without decoding it.
    fn known_key(&self, header: &[u8]) -> Option<&VerifyingKey> {
        let &(_, algorithm) = self
            .inner
            .known_headers
            .iter()
            .find(|(known, _)| **known == *header)?;
        self.inner.keys[algorithm.index()].as_ref()
    }

    /// The configured key a header that is not one of the [`known_headers`] names, once
    /// decoded.
    fn header_key(&self, header: &[u8]) -> Result<&VerifyingKey, AuthError> {
        let mut header_buf = jws::buffer::<{ jws::MAX_HEADER_LEN }>();
        let header = jws::decode_header(header, &mut header_buf)?;
        Algorithm::from_name(&header.alg)
            .and_then(|alg| self.inner.keys[alg.index()].as_ref())
            .ok_or(AuthError::UnsupportedAlgorithm)
    }

    fn check_times_and_audience(
        &self,
        exp: u64,
        nbf: Option<u64>,
        aud: Option<ClaimValue<'_>>,
        now: u64,
    ) -> Result<(), AuthError> {
        let leeway = self.inner.leeway;
        if now >= exp.saturating_add(leeway) {
            return Err(AuthError::Expired);
        }
        if nbf.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
            return Err(AuthError::NotYetValid);
        }
        if let Some(aud) = aud {
            let expected = self
                .inner
                .audience
                .as_deref()
                .ok_or(AuthError::InvalidAudience)?;
            // A string, or an array of strings one of which names it.
            let names_expected = match aud.as_str() {
                Some(aud) => aud == expected,
                None => {
                    string_array(aud.json()).is_some_and(|auds| auds.contains(&expected.into()))
                }
            };
            if !names_expected {
                return Err(AuthError::InvalidAudience);
            }
        }
        Ok(())
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Builds a [`Verifier`]. Keys are checked by [`build`](Self::build), which reports the first
/// mistake.
///
/// ```
/// use std::time::Duration;
/// use regards_auth::{Verifier, REGARDS_DEVELOPMENT_KEY};
///
/// // A development setup: REGARDS' public key, accepted only because we say so.
/// let verifier = Verifier::builder()
///     .hs512(REGARDS_DEVELOPMENT_KEY)
///     .hs256(REGARDS_DEVELOPMENT_KEY)
///     .allow_development_key()
///     .leeway(Duration::from_secs(5))
///     .build()
///     .unwrap();
/// assert_eq!(verifier.algorithms().count(), 2);
/// ```
#[derive(Default)]
pub struct VerifierBuilder {
    keys: [Option<Vec<u8>>; 6],
    allow_development_key: bool,
    leeway: Option<Duration>,
    audience: Option<String>,
    cache_entries: usize,
    error: Option<ConfigError>,
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("allow_development_key", &self.allow_development_key)
            .field("leeway", &self.leeway)
            .field("audience", &self.audience)
            .field("cache_entries", &self.cache_entries)
            .finish_non_exhaustive()
    }
}

impl VerifierBuilder {
    /// Sets the key of `algorithm`: for HS*, the raw bytes of the secret; for RS*, the text of
    /// the public key (standard base64 DER SubjectPublicKeyInfo, or PEM).
    pub fn key(mut self, algorithm: Algorithm, key: impl AsRef<[u8]>) -> Self {
        self.keys[algorithm.index()] = Some(key.as_ref().to_vec());
        self
    }

    /// The HS256 secret; its raw UTF-8 bytes are the key (`jwt.signing-key.HS256`).
    pub fn hs256(self, secret: impl AsRef<[u8]>) -> Self {
        self.key(Algorithm::HS256, secret)
    }

    /// The HS384 secret; its raw UTF-8 bytes are the key (`jwt.signing-key.HS384`).
    pub fn hs384(self, secret: impl AsRef<[u8]>) -> Self {
        self.key(Algorithm::HS384, secret)
    }

    /// The HS512 secret; its raw UTF-8 bytes are the key (`jwt.signing-key.HS512`).
    pub fn hs512(self, secret: impl AsRef<[u8]>) -> Self {
        self.key(Algorithm::HS512, secret)
    }

    /// The RS256 public key: standard base64 of a DER SubjectPublicKeyInfo (REGARDS' format),
    /// or PEM.
    pub fn rs256(self, public_key: impl AsRef<str>) -> Self {
        self.key(Algorithm::RS256, public_key.as_ref())
    }

    /// The RS384 public key, as [`rs256`](Self::rs256).
    pub fn rs384(self, public_key: impl AsRef<str>) -> Self {
        self.key(Algorithm::RS384, public_key.as_ref())
    }

    /// The RS512 public key, as [`rs256`](Self::rs256).
    pub fn rs512(self, public_key: impl AsRef<str>) -> Self {
        self.key(Algorithm::RS512, public_key.as_ref())
    }

    /// Reads every `JWT_SIGNING_KEY_<ALG>` variable that is set (see [`Verifier::from_env`]).
    /// A variable that is set but empty is an [`ConfigError::EmptyKey`] at build time.
    pub fn keys_from_env(mut self) -> Self {
        for algorithm in Algorithm::ALL {
            match std::env::var(algorithm.env_var()) {
                Ok(key) => self = self.key(algorithm, key),
                Err(std::env::VarError::NotPresent) => {}
                Err(std::env::VarError::NotUnicode(_)) => {
                    self.error
                        .get_or_insert(ConfigError::NotUnicode(algorithm.env_var()));
                }
            }
        }
        self
    }

    /// Accepts REGARDS' public development key ([`REGARDS_DEVELOPMENT_KEY`](crate::REGARDS_DEVELOPMENT_KEY)),
    /// with a warning in the logs. For development and tests only: anyone can sign tokens with
    /// that key.
    pub fn allow_development_key(mut self) -> Self {
        self.allow_development_key = true;
        self
    }

    /// The clock skew tolerated on `exp` and `nbf` ([`DEFAULT_LEEWAY`] unless set). Counted in
    /// whole seconds.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = Some(leeway);
        self
    }

    /// Accepts tokens with an `aud` claim naming `audience`. Without it, any token carrying
    /// `aud` is refused (REGARDS never sets it, so a token that has one was meant for someone
    /// else). Tokens without `aud` are accepted either way.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Keeps up to `entries` verified tokens (rounded up to a multiple of 64; 0, the default,
    /// means no cache), so that a token seen again costs a lookup instead of a verification:
    /// worth it for RS* keys (about a hundred microseconds per RSA verification) and for
    /// services that see the same tokens again and again.
    ///
    /// ```
    /// use regards_auth::{Role, TokenIssuer, Verifier, REGARDS_DEVELOPMENT_KEY};
    ///
    /// let verifier = Verifier::builder()
    ///     .hs512(REGARDS_DEVELOPMENT_KEY)
    ///     .allow_development_key()
    ///     .cache(10_000)
    ///     .build()?;
    /// let token = TokenIssuer::development().mint("jane@regards.fr", Role::Admin, "project1");
    /// let first = verifier.verify(&token).unwrap(); // verified, then cached
    /// assert_eq!(verifier.verify(&token).unwrap(), first); // served from the cache
    /// # Ok::<(), regards_auth::ConfigError>(())
    /// ```
    ///
    /// What the cache guarantees:
    /// - memory is bounded: at most that many entries, each a copy of the token (8 KiB at most)
    ///   and of its claims; slots are allocated by [`build`](Self::build);
    /// - an entry never outlives the token's `exp` (after it, the token is verified in full
    ///   again, leeway included); `nbf` and `aud` are checked again on every hit;
    /// - only tokens that passed every check are stored, and a lookup compares the whole token
    ///   in constant time after finding its slot with a keyed hash (random keys per cache):
    ///   timing tells a caller nothing about what is cached;
    /// - the cache belongs to the verifier: a verifier's keys never change, so a key rotation
    ///   means building a new verifier, which starts with an empty cache (tokens verified with
    ///   the old keys are not carried over). The clones of a verifier share one cache;
    ///   [`Verifier::clear_cache`] empties it, e.g. after revoking a token upstream;
    /// - concurrency: the table is split into 16 shards, each behind its own read-write lock;
    ///   a hit takes one shard's read lock for the time of a comparison and a clone.
    pub fn cache(mut self, entries: usize) -> Self {
        self.cache_entries = entries;
        self
    }

    /// Checks the configuration and builds the verifier.
    ///
    /// # Errors
    ///
    /// The first mistake found, in this order:
    /// - [`ConfigError::NotUnicode`]: a variable [`keys_from_env`](Self::keys_from_env) read is
    ///   not UTF-8;
    /// - [`ConfigError::EmptyAudience`]: [`audience`](Self::audience) is the empty string;
    /// - for each key set, from HS256 to RS512: [`ConfigError::EmptyKey`];
    ///   [`ConfigError::HmacKeyTooShort`] (an HMAC key shorter than its hash output);
    ///   [`ConfigError::DevelopmentKey`] (REGARDS' public key without
    ///   [`allow_development_key`](Self::allow_development_key));
    ///   [`ConfigError::InvalidRsaKey`] (neither base64 DER SubjectPublicKeyInfo nor PEM of an
    ///   RSA key); [`ConfigError::RsaKeyTooSmall`] (under 2048 bits) or
    ///   [`ConfigError::RsaKeyTooLarge`] (over 4096 bits);
    /// - [`ConfigError::NoKey`]: no key at all.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.audience.as_deref() == Some("") {
            return Err(ConfigError::EmptyAudience);
        }
        let mut keys: [Option<VerifyingKey>; 6] = Default::default();
        for (algorithm, configured) in Algorithm::ALL.into_iter().zip(&self.keys) {
            if let Some(key) = configured {
                keys[algorithm.index()] = Some(VerifyingKey::new(
                    algorithm,
                    key,
                    self.allow_development_key,
                )?);
            }
        }
        if keys.iter().all(Option::is_none) {
            return Err(ConfigError::NoKey);
        }
        let known_headers: Vec<(Box<[u8]>, Algorithm)> = Algorithm::ALL
            .into_iter()
            .filter(|alg| keys[alg.index()].is_some())
            .flat_map(|alg| known_headers(alg).map(|header| (header, alg)))
            .collect();
        // A header, a dot, a payload of one character at least, a dot, a signature.
        let shortest_usual_token = (known_headers.iter())
            .filter_map(|(header, alg)| {
                let key = keys[alg.index()].as_ref()?;
                Some(header.len() + 3 + jws::encoded_len(key.signature_len()))
            })
            .min()
            .unwrap_or(usize::MAX);
        Ok(Verifier {
            inner: Arc::new(Inner {
                keys,
                known_headers,
                shortest_usual_token,
                leeway: self.leeway.unwrap_or(DEFAULT_LEEWAY).as_secs(),
                audience: self.audience,
                cache: TokenCache::new(self.cache_entries),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::TokenIssuer;
    use crate::role::Role;

    const SECRET: &str = "verify-tests-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH";
    const NOW: u64 = 1_000_000;

    fn token_with_header(header: &str, claims: &Claims) -> String {
        // Sign with the issuer, then swap the header and sign again by hand.
        let payload = serde_json::to_vec(claims).unwrap();
        let signing_input = format!(
            "{}.{}",
            jws::encode(header.as_bytes()),
            jws::encode(&payload)
        );
        let signature = {
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha2::Sha512>::new_from_slice(SECRET.as_bytes()).unwrap();
            mac.update(signing_input.as_bytes());
            mac.finalize().into_bytes()
        };
        format!("{signing_input}.{}", jws::encode(&signature))
    }

    fn claims() -> Claims {
        Claims::new("a@b.c", "a@b.c", Role::Admin, "p", NOW + 100)
    }

    fn verifier(cache: usize) -> Verifier {
        Verifier::builder()
            .hs512(SECRET)
            .cache(cache)
            .build()
            .unwrap()
    }

    #[test]
    fn known_headers_take_the_fast_path_with_the_same_outcome() {
        for header in [
            r#"{"alg":"HS512"}"#,
            r#"{"alg":"HS512","typ":"JWT"}"#,
            r#"{"typ":"JWT","alg":"HS512"}"#,
            r#"{"typ":"jwt","alg":"HS512"}"#,
            r#"{ "alg" : "HS512" }"#,
        ] {
            let token = token_with_header(header, &claims());
            assert_eq!(verifier(0).verify_at(&token, NOW), Ok(claims()), "{header}");
        }
    }

    #[test]
    fn known_header_of_an_unconfigured_algorithm_is_refused() {
        let token = token_with_header(r#"{"alg":"HS256"}"#, &claims());
        assert_eq!(
            verifier(0).verify_at(&token, NOW),
            Err(AuthError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn header_close_to_a_known_one_is_decoded_and_judged() {
        for (header, error) in [
            (
                r#"{"alg":"HS512","cty":"JWT"}"#,
                AuthError::UnsupportedHeader,
            ),
            (
                r#"{"alg":"HS512","typ":"JOSE+JSON"}"#,
                AuthError::UnsupportedHeader,
            ),
            (
                r#"{"alg":"HS512","alg":"HS512"}"#,
                AuthError::MalformedToken,
            ),
            (r#"{"alg":"hs512"}"#, AuthError::UnsupportedAlgorithm),
        ] {
            let token = token_with_header(header, &claims());
            assert_eq!(verifier(0).verify_at(&token, NOW), Err(error), "{header}");
        }
    }

    #[test]
    fn large_payload_is_decoded_on_the_heap_the_same_way() {
        let groups: Vec<String> = (0..200).map(|i| format!("access-group-{i}")).collect();
        let claims = claims().with_access_groups(groups);
        let token = token_with_header(r#"{"alg":"HS512"}"#, &claims);
        assert!(token.len() > 4 * STACK_PAYLOAD_LEN / 3);
        assert_eq!(verifier(0).verify_at(&token, NOW), Ok(claims));
    }

    #[test]
    fn cached_token_gives_the_same_claims() {
        let verifier = verifier(64);
        let token = token_with_header(r#"{"alg":"HS512"}"#, &claims());
        assert_eq!(verifier.verify_at(&token, NOW), Ok(claims()));
        assert_eq!(verifier.inner.cache.as_ref().unwrap().len(), 1);
        assert_eq!(verifier.verify_at(&token, NOW + 1), Ok(claims()));
    }

    #[test]
    fn verified_claims_hold_their_token() {
        let token = token_with_header(r#"{"alg":"HS512"}"#, &claims());
        let verified = verifier(0).verify_at(&token, NOW).unwrap();
        assert_eq!(verified.bearer_token().unwrap().as_str(), token);
    }

    #[test]
    fn cache_hit_shares_the_verified_identity() {
        let verifier = verifier(64);
        let token = token_with_header(r#"{"alg":"HS512"}"#, &claims());
        let first = verifier.verify_at(&token, NOW).unwrap();
        let hit = verifier.verify_at(&token, NOW + 1).unwrap();
        assert!(hit.shares(&first));
        assert_eq!(hit.bearer_token().unwrap().as_str(), token);
    }

    #[test]
    fn invalid_tokens_are_not_cached() {
        let verifier = verifier(64);
        let token = token_with_header(r#"{"alg":"HS512"}"#, &claims());
        let dot = token.rfind('.').unwrap() + 1;
        let flipped = if &token[dot..=dot] == "A" { "B" } else { "A" };
        let token = format!("{}{flipped}{}", &token[..dot], &token[dot + 1..]);
        assert_eq!(
            verifier.verify_at(&token, NOW),
            Err(AuthError::InvalidSignature)
        );
        assert_eq!(verifier.inner.cache.as_ref().unwrap().len(), 0);
    }

    #[test]
    fn cached_token_expires_with_exp_and_is_then_verified_with_the_leeway() {
        let verifier = verifier(64);
        let token = token_with_header(r#"{"alg":"HS512"}"#, &claims());
        verifier.verify_at(&token, NOW).unwrap();
        let exp = claims().exp();
        // Past exp the entry is ignored; the full verification still grants the leeway.
        assert_eq!(verifier.verify_at(&token, exp + 10), Ok(claims()));
        assert_eq!(
            verifier.verify_at(&token, exp + DEFAULT_LEEWAY.as_secs()),
            Err(AuthError::Expired)
        );
    }

    #[test]
    fn cache_hit_is_checked_again_against_nbf() {
        let verifier = verifier(64);
        let mut json = serde_json::to_value(claims()).unwrap();
        json["nbf"] = NOW.into();
        let claims: Claims = serde_json::from_value(json).unwrap();
        let token = token_with_header(r#"{"alg":"HS512"}"#, &claims);
        verifier.verify_at(&token, NOW).unwrap();
        assert_eq!(
            verifier.verify_at(&token, NOW - 1000),
            Err(AuthError::NotYetValid)
        );
    }

    #[test]
    fn a_new_verifier_does_not_inherit_the_cache() {
        let token = TokenIssuer::new(Algorithm::HS512, SECRET)
            .unwrap()
            .mint("a", Role::Admin, "p");
        let old = verifier(64);
        old.verify(&token).unwrap();
        let rotated = Verifier::builder()
            .hs512("another-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN")
            .cache(64)
            .build()
            .unwrap();
        assert_eq!(rotated.verify(&token), Err(AuthError::InvalidSignature));
    }

    #[test]
    fn clear_cache_empties_the_shared_cache() {
        let verifier = verifier(64);
        let clone = verifier.clone();
        let token = token_with_header(r#"{"alg":"HS512"}"#, &claims());
        verifier.verify_at(&token, NOW).unwrap();
        clone.clear_cache();
        assert_eq!(verifier.inner.cache.as_ref().unwrap().len(), 0);
    }

    #[test]
    fn no_cache_by_default() {
        assert!(verifier(0).inner.cache.is_none());
        assert!(format!("{:?}", verifier(0)).contains("cache: None"));
    }
}
