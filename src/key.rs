//! Algorithms and keys, read the way REGARDS configures them (`jwt.signing-key.<ALG>`), and
//! the configuration errors a service sees at start-up.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;

/// REGARDS' public development and test key (`jwt.signing-key.HS256` and `HS512` of its
/// default configuration). Anyone can sign tokens with it: the crate accepts it only through
/// an explicit opt-in ([`VerifierBuilder::allow_development_key`](crate::VerifierBuilder::allow_development_key),
/// [`TokenIssuer::development`](crate::TokenIssuer::development)), and logs a warning, once
/// per process and algorithm.
pub const REGARDS_DEVELOPMENT_KEY: &str =
    "!!!!!==========abcdefghijklmnopqrstuvwxyz0123456789==========!!!!!";

/// A JWS algorithm REGARDS may sign with. Every other value of `alg` (`none`, `ES256`,
/// `PS256`, lower-case names...) is refused. Non-exhaustive: REGARDS may come to sign with
/// another algorithm, which a later version would then accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512: REGARDS' default.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
    ];

    /// The `alg` value (`"HS512"`...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
        }
    }

    /// The algorithm an exact (case-sensitive) `alg` value names.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|alg| alg.as_str() == name)
    }

    /// The environment variable [`Verifier::from_env`](crate::Verifier::from_env) reads this
    /// algorithm's key from.
    pub const fn env_var(self) -> &'static str {
        match self {
            Algorithm::HS256 => "JWT_SIGNING_KEY_HS256",
            Algorithm::HS384 => "JWT_SIGNING_KEY_HS384",
            Algorithm::HS512 => "JWT_SIGNING_KEY_HS512",
            Algorithm::RS256 => "JWT_SIGNING_KEY_RS256",
            Algorithm::RS384 => "JWT_SIGNING_KEY_RS384",
            Algorithm::RS512 => "JWT_SIGNING_KEY_RS512",
        }
    }

    /// Whether this is an HMAC algorithm (HS*).
    pub const fn is_hmac(self) -> bool {
        matches!(self, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
    }

    /// The index of the algorithm in [`Algorithm::ALL`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The hash output size: the shortest HMAC key accepted (RFC 7518 §3.2).
    const fn hash_len(self) -> usize {
        match self {
            Algorithm::HS256 | Algorithm::RS256 => 32,
            Algorithm::HS384 | Algorithm::RS384 => 48,
            Algorithm::HS512 | Algorithm::RS512 => 64,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The smallest RSA modulus accepted, in bits (RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;

/// A configuration mistake, found when the verifier or issuer is built. Each message says what
/// to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No key at all.
    NoKey,
    /// A key is the empty string.
    EmptyKey(Algorithm),
    /// An HMAC key shorter than its hash output.
    HmacKeyTooShort {
        /// The algorithm.
        algorithm: Algorithm,
        /// The key's length, in bytes.
        len: usize,
    },
    /// REGARDS' public development key, without the opt-in.
    DevelopmentKey(Algorithm),
    /// An RSA key that is neither base64 DER SubjectPublicKeyInfo nor PEM, or not RSA.
    InvalidRsaKey(Algorithm),
    /// An RSA key under 2048 bits.
    RsaKeyTooSmall {
        /// The algorithm.
        algorithm: Algorithm,
        /// The modulus size, in bits.
        bits: usize,
    },
    /// An RSA key over 4096 bits, the largest the RSA implementation loads.
    RsaKeyTooLarge {
        /// The algorithm.
        algorithm: Algorithm,
        /// The modulus size, in bits.
        bits: usize,
    },
    /// An environment variable that is set but not valid UTF-8.
    NotUnicode(&'static str),
    /// An empty audience.
    EmptyAudience,
    /// An algorithm the component cannot use (the issuer signs with HMAC only).
    UnsupportedAlgorithm(Algorithm),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoKey => {
                f.write_str("no token verification key is configured: set at least one of ")?;
                for (i, alg) in Algorithm::ALL.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{}", alg.env_var())?;
                }
                f.write_str(" (REGARDS' jwt.signing-key.*), or give a key to Verifier::builder()")
            }
            ConfigError::EmptyKey(alg) => write!(
                f,
                "the {alg} key ({}) is empty: give the key REGARDS signs tokens with (jwt.signing-key.{alg})",
                alg.env_var()
            ),
            ConfigError::HmacKeyTooShort { algorithm, len } => write!(
                f,
                "the {algorithm} key ({}) is {len} bytes long: {algorithm} needs a key of at least {} bytes",
                algorithm.env_var(),
                algorithm.hash_len()
            ),
            ConfigError::DevelopmentKey(alg) => write!(
                f,
                "the {alg} key ({}) is REGARDS' public development key, with which anyone can sign tokens: \
                 configure the deployment's secret key, or opt in with allow_development_key() on a development machine",
                alg.env_var()
            ),
            ConfigError::InvalidRsaKey(alg) => write!(
                f,
                "the {alg} key ({}) is not an RSA public key: give the standard base64 of a DER SubjectPublicKeyInfo \
                 (REGARDS' format) or a PEM block",
                alg.env_var()
            ),
            ConfigError::RsaKeyTooSmall { algorithm, bits } => write!(
                f,
                "the {algorithm} key ({}) has {bits} bits: RSA keys need at least {MIN_RSA_BITS} bits",
                algorithm.env_var()
            ),
            ConfigError::RsaKeyTooLarge { algorithm, bits } => write!(
                f,
                "the {algorithm} key ({}) has {bits} bits: RSA keys of at most {} bits are supported",
                algorithm.env_var(),
                RsaPublicKey::MAX_SIZE
            ),
            ConfigError::NotUnicode(var) => {
                write!(f, "the environment variable {var} is not valid UTF-8")
            }
            ConfigError::EmptyAudience => {
                f.write_str("the audience is empty: give the value tokens carry in `aud`")
            }
            ConfigError::UnsupportedAlgorithm(alg) => {
                write!(f, "{alg} cannot be used here: use HS256, HS384 or HS512")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// A ready-to-use verification key: the HMAC state is keyed once (ipad/opad computed), the RSA
/// key parsed once (by the RSA backend of the build: `rsa` crate, or AWS-LC with the feature
/// `aws-lc-rs`).
#[derive(Clone)]
// The keys live once per verifier; boxing the HMAC state would cost an indirection on every
// verification to save a few hundred bytes per verifier.
#[allow(clippy::large_enum_variant)]
pub(crate) enum VerifyingKey {
    Hmac(hmac_key::HmacKey),
    Rsa(rsa_backend::RsaKey),
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifyingKey(<redacted>)")
    }
}

/// Checks an HMAC secret: non-empty, at least the hash length, not the public development key
/// unless allowed.
pub(crate) fn check_hmac_secret(
    algorithm: Algorithm,
    secret: &[u8],
    allow_development_key: bool,
) -> Result<(), ConfigError> {
    if secret.is_empty() {
        return Err(ConfigError::EmptyKey(algorithm));
    }
    if secret.len() < algorithm.hash_len() {
        return Err(ConfigError::HmacKeyTooShort {
            algorithm,
            len: secret.len(),
        });
    }
    if secret == REGARDS_DEVELOPMENT_KEY.as_bytes() {
        if !allow_development_key {
            return Err(ConfigError::DevelopmentKey(algorithm));
        }
        warn_development_key(algorithm);
    }
    Ok(())
}

/// Warns that REGARDS' public development key is in use with `algorithm`.
pub(crate) fn warn_development_key(algorithm: Algorithm) {
    // Once per process and algorithm: a verifier and an issuer built with the key (the demo
    // stack builds both) would otherwise say the same thing again.
    if !DEVELOPMENT_KEY_WARNED[algorithm.index()].swap(true, Ordering::Relaxed) {
        tracing::warn!(
            %algorithm,
            "using REGARDS' public development key: anyone can sign tokens this service \
             accepts; configure the deployment's own secret ({})",
            algorithm.env_var()
        );
    }
}

// `TokenIssuer::development` signs with the key without checking it at run time.
const _: () = assert!(REGARDS_DEVELOPMENT_KEY.len() >= Algorithm::HS512.hash_len());

/// Whether the development-key warning was logged, per algorithm.
static DEVELOPMENT_KEY_WARNED: [AtomicBool; Algorithm::ALL.len()] =
    [const { AtomicBool::new(false) }; Algorithm::ALL.len()];

/// Parses an RSA public key: PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`), or the standard base64 of
/// a DER SubjectPublicKeyInfo, as REGARDS stores it.
fn parse_rsa_key(algorithm: Algorithm, text: &str) -> Result<RsaPublicKey, ConfigError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ConfigError::EmptyKey(algorithm));
    }
    let key = if text.starts_with("-----BEGIN") {
        RsaPublicKey::from_public_key_pem(text)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(text))
            .ok()
    } else {
        let compact: String = text.split_ascii_whitespace().collect();
        STANDARD
            .decode(compact)
            .ok()
            .and_then(|der| RsaPublicKey::from_public_key_der(&der).ok())
    };
    let Some(key) = key else {
        return Err(match oversized_rsa_modulus(text) {
            Some(bits) => ConfigError::RsaKeyTooLarge { algorithm, bits },
            None => ConfigError::InvalidRsaKey(algorithm),
        });
    };
    let bits = key.n().bits();
    if bits < MIN_RSA_BITS {
        return Err(ConfigError::RsaKeyTooSmall { algorithm, bits });
    }
    Ok(key)
}

/// The modulus size of a well-formed RSA public key that the RSA implementation refuses to load
/// because it is larger than it supports, so that the error says so rather than "not an RSA
/// public key". `None` for anything else.
fn oversized_rsa_modulus(text: &str) -> Option<usize> {
    use rsa::pkcs8::der::Decode;
    let der = if text.starts_with("-----BEGIN") {
        rsa::pkcs8::Document::from_pem(text).ok()?.1.into_vec()
    } else {
        let compact: String = text.split_ascii_whitespace().collect();
        STANDARD.decode(compact).ok()?
    };
    // A SubjectPublicKeyInfo wraps the PKCS#1 RSAPublicKey; a `RSA PUBLIC KEY` PEM is bare.
    let spki = rsa::pkcs8::SubjectPublicKeyInfoRef::from_der(&der).ok();
    let pkcs1 = match &spki {
        Some(spki) => spki.subject_public_key.as_bytes()?,
        None => &der,
    };
    let modulus = rsa::pkcs1::RsaPublicKey::from_der(pkcs1).ok()?.modulus;
    let modulus = modulus.as_bytes();
    let bits = modulus.len() * 8 - modulus.first()?.leading_zeros() as usize;
    (bits > RsaPublicKey::MAX_SIZE).then_some(bits)
}

impl VerifyingKey {
    /// Builds the key for `algorithm` from its configured text.
    pub(crate) fn new(
        algorithm: Algorithm,
        key: &[u8],
        allow_development_key: bool,
    ) -> Result<Self, ConfigError> {
        if algorithm.is_hmac() {
            check_hmac_secret(algorithm, key, allow_development_key)?;
            return Ok(VerifyingKey::Hmac(hmac_key::HmacKey::new(algorithm, key)));
        }
        let text = std::str::from_utf8(key).map_err(|_| ConfigError::InvalidRsaKey(algorithm))?;
        let rsa = parse_rsa_key(algorithm, text)?;
        Ok(VerifyingKey::Rsa(rsa_backend::RsaKey::new(algorithm, rsa)?))
    }

    /// The exact signature length this key produces.
    pub(crate) fn signature_len(&self) -> usize {
        match self {
            VerifyingKey::Hmac(key) => key.signature_len(),
            VerifyingKey::Rsa(key) => key.signature_len(),
        }
    }

    /// Checks `signature` over `message`. MACs are compared in constant time.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            VerifyingKey::Hmac(key) => key.verify(message, signature),
            VerifyingKey::Rsa(key) => key.verify(message, signature),
        }
    }
}

/// HMAC with RustCrypto's `hmac` and `sha2`, whatever the backend: measured as fast as AWS-LC's
/// HMAC-SHA512 and faster for HMAC-SHA256 (see BENCHMARKS.md).
mod hmac_key {
    use hmac::{Hmac, Mac};
    use sha2::{Sha256, Sha384, Sha512};

    use super::Algorithm;

    /// An HMAC state keyed once; each verification clones it.
    #[derive(Clone)]
    pub(crate) enum HmacKey {
        Hs256(Hmac<Sha256>),
        Hs384(Hmac<Sha384>),
        Hs512(Hmac<Sha512>),
    }

    fn keyed<M: Mac + hmac::digest::KeyInit>(secret: &[u8]) -> M {
        <M as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length")
    }

    fn mac<M: Mac + Clone>(keyed: &M, message: &[u8], signature: &[u8]) -> bool {
        let mut mac = keyed.clone();
        mac.update(message);
        // Constant time, word by word (`verify_slice` compares byte by byte behind an
        // optimization barrier each: the same guarantee, several times slower).
        constant_time_eq::constant_time_eq(&mac.finalize().into_bytes(), signature)
    }

    impl HmacKey {
        pub(crate) fn new(algorithm: Algorithm, secret: &[u8]) -> Self {
            match algorithm {
                Algorithm::HS256 => HmacKey::Hs256(keyed(secret)),
                Algorithm::HS384 => HmacKey::Hs384(keyed(secret)),
                _ => HmacKey::Hs512(keyed(secret)),
            }
        }

        pub(crate) fn signature_len(&self) -> usize {
            match self {
                HmacKey::Hs256(_) => 32,
                HmacKey::Hs384(_) => 48,
                HmacKey::Hs512(_) => 64,
            }
        }

        pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
            match self {
                HmacKey::Hs256(key) => mac(key, message, signature),
                HmacKey::Hs384(key) => mac(key, message, signature),
                HmacKey::Hs512(key) => mac(key, message, signature),
            }
        }
    }
}

/// RSA verification with RustCrypto's `rsa` crate (default).
#[cfg(not(feature = "aws-lc-rs"))]
mod rsa_backend {
    use rsa::traits::PublicKeyParts;
    use rsa::{RsaPublicKey, pkcs1v15};
    use sha2::{Sha256, Sha384, Sha512};

    use super::{Algorithm, ConfigError};

    /// An RSA public key parsed once.
    #[derive(Clone)]
    pub(crate) enum RsaKey {
        Rs256(pkcs1v15::VerifyingKey<Sha256>),
        Rs384(pkcs1v15::VerifyingKey<Sha384>),
        Rs512(pkcs1v15::VerifyingKey<Sha512>),
    }

    fn rsa<V: rsa::signature::Verifier<pkcs1v15::Signature>>(
        key: &V,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        pkcs1v15::Signature::try_from(signature)
            .is_ok_and(|signature| key.verify(message, &signature).is_ok())
    }

    impl RsaKey {
        pub(crate) fn new(algorithm: Algorithm, key: RsaPublicKey) -> Result<Self, ConfigError> {
            Ok(match algorithm {
                Algorithm::RS256 => RsaKey::Rs256(pkcs1v15::VerifyingKey::new(key)),
                Algorithm::RS384 => RsaKey::Rs384(pkcs1v15::VerifyingKey::new(key)),
                _ => RsaKey::Rs512(pkcs1v15::VerifyingKey::new(key)),
            })
        }

        pub(crate) fn signature_len(&self) -> usize {
            match self {
                RsaKey::Rs256(key) => key.as_ref().size(),
                RsaKey::Rs384(key) => key.as_ref().size(),
                RsaKey::Rs512(key) => key.as_ref().size(),
            }
        }

        pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
            match self {
                RsaKey::Rs256(key) => rsa(key, message, signature),
                RsaKey::Rs384(key) => rsa(key, message, signature),
                RsaKey::Rs512(key) => rsa(key, message, signature),
            }
        }
    }
}

/// RSA verification with AWS-LC (feature `aws-lc-rs`): about eight times faster than the `rsa`
/// crate. Keys are still read and checked by the `rsa` crate, then handed over as PKCS#1 DER.
#[cfg(feature = "aws-lc-rs")]
mod rsa_backend {
    use aws_lc_rs::signature;
    use rsa::RsaPublicKey;
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::traits::PublicKeyParts;

    use super::{Algorithm, ConfigError};

    /// An RSA public key parsed once by AWS-LC.
    #[derive(Clone)]
    pub(crate) struct RsaKey {
        key: std::sync::Arc<signature::ParsedPublicKey>,
        len: usize,
    }

    impl RsaKey {
        pub(crate) fn new(algorithm: Algorithm, key: RsaPublicKey) -> Result<Self, ConfigError> {
            let parameters = match algorithm {
                Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                _ => &signature::RSA_PKCS1_2048_8192_SHA512,
            };
            let der = key
                .to_pkcs1_der()
                .map_err(|_| ConfigError::InvalidRsaKey(algorithm))?;
            let parsed = signature::ParsedPublicKey::new(parameters, der.as_bytes())
                .map_err(|_| ConfigError::InvalidRsaKey(algorithm))?;
            Ok(RsaKey {
                key: std::sync::Arc::new(parsed),
                len: key.size(),
            })
        }

        pub(crate) fn signature_len(&self) -> usize {
            self.len
        }

        pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
            self.key.verify_sig(message, signature).is_ok()
        }
    }
}
