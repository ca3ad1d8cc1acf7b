//! Token verification: [`Verifier`], its [`VerifierBuilder`] and the rules it applies.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::AuthError;
use crate::claims::{Claims, MAX_TOKEN_LEN, check_token_syntax, decode_claims};
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
///    algorithm that has a configured key, no `crit` or `cty`, and `typ` absent or `JWT`;
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
    leeway: u64,
    audience: Option<String>,
}

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
    pub fn from_env() -> Result<Verifier, ConfigError> {
        Verifier::builder().keys_from_env().build()
    }

    /// The algorithms that have a key.
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        Algorithm::ALL
            .into_iter()
            .filter(|alg| self.inner.keys[alg.index()].is_some())
    }

    /// Verifies a compact JWS and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        self.verify_at(token, unix_now())
    }

    /// [`verify`](Self::verify) at a given time, in seconds since the Unix epoch.
    pub fn verify_at(&self, token: &str, now: u64) -> Result<Claims, AuthError> {
        check_token_syntax(token.as_bytes())?;
        let segments = jws::split(token)?;

        let mut header_buf = [0; 1024];
        let header = jws::decode_header(segments.header, &mut header_buf)?;
        let key = Algorithm::from_name(&header.alg)
            .and_then(|alg| self.inner.keys[alg.index()].as_ref())
            .ok_or(AuthError::UnsupportedAlgorithm)?;

        let expected_len = key.signature_len();
        let mut signature_buf = [0; 1024];
        let signature = (segments.signature.len() == jws::encoded_len(expected_len))
            .then(|| jws::decode_segment(segments.signature, &mut signature_buf))
            .flatten()
            .ok_or(AuthError::InvalidSignature)?;
        if !key.verify(segments.signing_input, signature) {
            return Err(AuthError::InvalidSignature);
        }

        let mut payload_buf = [0; MAX_TOKEN_LEN / 4 * 3];
        let payload = jws::decode_segment(segments.payload, &mut payload_buf)
            .ok_or(AuthError::MalformedToken)?;
        let claims = decode_claims(payload)?;
        self.check_claims(&claims, now)?;
        Ok(claims)
    }

    fn check_claims(&self, claims: &Claims, now: u64) -> Result<(), AuthError> {
        let leeway = self.inner.leeway;
        if now >= claims.exp.saturating_add(leeway) {
            return Err(AuthError::Expired);
        }
        if claims
            .not_before()
            .is_some_and(|nbf| now.saturating_add(leeway) < nbf)
        {
            return Err(AuthError::NotYetValid);
        }
        if let Some(aud) = claims.additional("aud") {
            let expected = self
                .inner
                .audience
                .as_deref()
                .ok_or(AuthError::InvalidAudience)?;
            let names_expected = match aud {
                Value::String(aud) => aud == expected,
                Value::Array(auds) => {
                    auds.iter().all(Value::is_string)
                        && auds.iter().any(|aud| aud.as_str() == Some(expected))
                }
                _ => false,
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
    error: Option<ConfigError>,
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("allow_development_key", &self.allow_development_key)
            .field("leeway", &self.leeway)
            .field("audience", &self.audience)
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

    /// Checks the configuration and builds the verifier.
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
        Ok(Verifier {
            inner: Arc::new(Inner {
                keys,
                leeway: self.leeway.unwrap_or(DEFAULT_LEEWAY).as_secs(),
                audience: self.audience,
            }),
        })
    }
}
