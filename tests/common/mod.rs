//! Test helpers shared by the integration tests: RSA keys generated at test time (none is
//! committed) and tokens signed by an independent library (jsonwebtoken).

#![allow(dead_code)]

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};

/// An RSA key pair in the formats REGARDS and jsonwebtoken use.
pub struct RsaKeys {
    /// PKCS#1 PEM of the private key (for jsonwebtoken).
    pub private_pem: String,
    /// Standard base64 of the DER SubjectPublicKeyInfo: REGARDS' `jwt.signing-key.RS256` format.
    pub public_der_base64: String,
    /// The same public key as a PEM `PUBLIC KEY` block.
    pub public_pem: String,
}

fn generate(bits: usize) -> RsaKeys {
    let private = RsaPrivateKey::new(&mut rand::thread_rng(), bits).expect("RSA key generation");
    let public = RsaPublicKey::from(&private);
    RsaKeys {
        private_pem: private.to_pkcs1_pem(LineEnding::LF).unwrap().to_string(),
        public_der_base64: STANDARD.encode(public.to_public_key_der().unwrap().as_bytes()),
        public_pem: public.to_public_key_pem(LineEnding::LF).unwrap(),
    }
}

/// A 2048-bit key pair, generated once per test binary.
pub fn rsa_keys() -> &'static RsaKeys {
    static KEYS: OnceLock<RsaKeys> = OnceLock::new();
    KEYS.get_or_init(|| generate(2048))
}

/// Another 2048-bit key pair (a stranger's).
pub fn other_rsa_keys() -> &'static RsaKeys {
    static KEYS: OnceLock<RsaKeys> = OnceLock::new();
    KEYS.get_or_init(|| generate(2048))
}

/// A 1024-bit key pair: too weak to be accepted.
pub fn weak_rsa_keys() -> &'static RsaKeys {
    static KEYS: OnceLock<RsaKeys> = OnceLock::new();
    KEYS.get_or_init(|| generate(1024))
}

/// A 64-byte HMAC secret that is not the development key.
pub const SECRET: &str = "a-deployment-secret-of-sixty-four-bytes-for-the-integration-tests";

/// REGARDS-shaped claims for `role` on `tenant`, expiring at `exp`.
pub fn claims(role: &str, tenant: &str, exp: u64) -> serde_json::Value {
    serde_json::json!({
        "tenant": tenant, "role": role, "sub": "jane@regards.fr", "email": "jane@regards.fr", "exp": exp
    })
}

/// Seconds since the epoch, plus `offset`.
pub fn now_plus(offset: i64) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    now.saturating_add_signed(offset)
}

/// A token signed by jsonwebtoken with an HMAC secret.
pub fn hs_token(alg: jsonwebtoken::Algorithm, secret: &[u8], claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// A token signed by jsonwebtoken with an RSA private key.
pub fn rs_token(
    alg: jsonwebtoken::Algorithm,
    keys: &RsaKeys,
    claims: &serde_json::Value,
) -> String {
    let key = EncodingKey::from_rsa_pem(keys.private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(alg), claims, &key).unwrap()
}
