//! Minting REGARDS tokens, as rs-authentication does: for the demo stack, for system tokens
//! (service-to-service calls) and for tests.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha384, Sha512};

use crate::claims::Claims;
use crate::key::{
    Algorithm, ConfigError, REGARDS_DEVELOPMENT_KEY, check_hmac_secret, warn_development_key,
};
use crate::role::Role;
use crate::verify::unix_now;

/// REGARDS' token validity: 7200 seconds.
pub const DEFAULT_VALIDITY: Duration = Duration::from_secs(7200);

/// Signs REGARDS tokens with an HMAC key: header exactly `{"alg":"<ALG>"}` (no `typ`), claims
/// `tenant`, `role`, `sub`, `email`, `exp`, as rs-authentication mints them.
///
/// ```
/// use regards_auth::{Role, TokenIssuer, Verifier, REGARDS_DEVELOPMENT_KEY};
///
/// let issuer = TokenIssuer::development();
/// let token = issuer.mint("jane@regards.fr", Role::Admin, "project1");
/// let verifier = Verifier::builder()
///     .hs512(REGARDS_DEVELOPMENT_KEY)
///     .allow_development_key()
///     .build()
///     .unwrap();
/// let claims = verifier.verify(&token).unwrap();
/// assert_eq!((claims.sub(), claims.role()), ("jane@regards.fr", &Role::Admin));
/// ```
#[derive(Clone)]
pub struct TokenIssuer {
    algorithm: Algorithm,
    secret: Vec<u8>,
    validity: Duration,
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("algorithm", &self.algorithm)
            .field("validity", &self.validity)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// An issuer signing with `algorithm` (HS256, HS384 or HS512) and `secret` (its raw bytes
    /// are the key, as REGARDS' `jwt.signing-key.<ALG>`). The key is checked as the verifier
    /// checks it; REGARDS' public development key is refused here (see
    /// [`development`](Self::development)).
    ///
    /// # Errors
    ///
    /// [`ConfigError::UnsupportedAlgorithm`] for an RSA algorithm (this crate signs with HMAC
    /// only), [`ConfigError::EmptyKey`] for an empty key, [`ConfigError::HmacKeyTooShort`] for
    /// one shorter than the hash output, [`ConfigError::DevelopmentKey`] for REGARDS' public
    /// development key.
    pub fn new(algorithm: Algorithm, secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let secret = secret.as_ref();
        if !algorithm.is_hmac() {
            return Err(ConfigError::UnsupportedAlgorithm(algorithm));
        }
        check_hmac_secret(algorithm, secret, false)?;
        Ok(TokenIssuer {
            algorithm,
            secret: secret.to_vec(),
            validity: DEFAULT_VALIDITY,
        })
    }

    /// An HS512 issuer with REGARDS' public development key, for development stacks and tests.
    /// Logs a warning: anyone can sign tokens with that key.
    pub fn development() -> Self {
        // Of the checks `new` runs, only the warning applies: the key is long enough for HS512
        // (asserted at compile time where it is defined).
        warn_development_key(Algorithm::HS512);
        TokenIssuer {
            algorithm: Algorithm::HS512,
            secret: REGARDS_DEVELOPMENT_KEY.as_bytes().to_vec(),
            validity: DEFAULT_VALIDITY,
        }
    }

    /// Sets how long minted tokens are valid ([`DEFAULT_VALIDITY`] unless set).
    pub fn with_validity(mut self, validity: Duration) -> Self {
        self.validity = validity;
        self
    }

    /// How long minted tokens are valid.
    pub fn validity(&self) -> Duration {
        self.validity
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The claims REGARDS gives a user: `sub` and `email` are the login, `exp` is now plus the
    /// validity.
    pub fn user_claims(&self, login: &str, role: Role, tenant: &str) -> Claims {
        Claims::new(
            login,
            login,
            role,
            tenant,
            unix_now().saturating_add(self.validity.as_secs()),
        )
    }

    /// A token for a user (see [`user_claims`](Self::user_claims)).
    pub fn mint(&self, login: &str, role: Role, tenant: &str) -> String {
        self.issue(&self.user_claims(login, role, tenant))
    }

    /// A system token for service-to-service calls, as REGARDS services mint them: role
    /// `ROLE_SYS_<application>`, `sub` and `email` the application name, on `tenant`.
    pub fn system_token(&self, application: &str, tenant: &str) -> String {
        self.mint(application, Role::System(application.to_owned()), tenant)
    }

    /// Signs `claims` as they are.
    #[allow(
        clippy::missing_panics_doc,
        reason = "never panics: serializing `Claims` into JSON fails only if an additional \
                  claim's text is not JSON, and every one is (read by a JSON parser, or written \
                  by serde_json in `Claims::with_additional`)"
    )]
    pub fn issue(&self, claims: &Claims) -> String {
        let header = format!(r#"{{"alg":"{}"}}"#, self.algorithm);
        let payload = serde_json::to_vec(claims).expect("claims serialize to JSON");
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = self.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        token
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        fn mac<M: Mac + hmac::digest::KeyInit>(secret: &[u8], message: &[u8]) -> Vec<u8> {
            let mut mac = <M as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        match self.algorithm {
            Algorithm::HS256 => mac::<Hmac<Sha256>>(&self.secret, message),
            Algorithm::HS384 => mac::<Hmac<Sha384>>(&self.secret, message),
            _ => mac::<Hmac<Sha512>>(&self.secret, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_exactly_regards_one() {
        let token = TokenIssuer::development().mint("a", Role::Admin, "p");
        let header = token.split('.').next().unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(header).unwrap(),
            br#"{"alg":"HS512"}"#
        );
    }

    #[test]
    fn claims_follow_regards_layout() {
        let issuer = TokenIssuer::development();
        let claims = Claims::new("a@b.c", "a@b.c", Role::Exploit, "p1", 42);
        let token = issuer.issue(&claims);
        let payload = token.split('.').nth(1).unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.decode(payload).unwrap(),
            br#"{"tenant":"p1","role":"EXPLOIT","sub":"a@b.c","email":"a@b.c","exp":42}"#
        );
    }

    #[test]
    fn system_token_carries_the_application_role() {
        let issuer = TokenIssuer::development();
        let claims = issuer.user_claims("rs-notifier", Role::System("rs-notifier".into()), "p");
        assert_eq!(claims.role().to_string(), "ROLE_SYS_rs-notifier");
        assert!(issuer.system_token("rs-notifier", "p").len() > 100);
    }

    #[test]
    fn development_key_needs_the_explicit_constructor() {
        assert_eq!(
            TokenIssuer::new(Algorithm::HS512, REGARDS_DEVELOPMENT_KEY).unwrap_err(),
            ConfigError::DevelopmentKey(Algorithm::HS512)
        );
    }

    #[test]
    fn rsa_issuing_is_refused() {
        assert_eq!(
            TokenIssuer::new(Algorithm::RS256, "x").unwrap_err(),
            ConfigError::UnsupportedAlgorithm(Algorithm::RS256)
        );
    }

    #[test]
    fn short_secret_is_refused() {
        assert_eq!(
            TokenIssuer::new(Algorithm::HS256, "short").unwrap_err(),
            ConfigError::HmacKeyTooShort {
                algorithm: Algorithm::HS256,
                len: 5
            }
        );
    }
}
