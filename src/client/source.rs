//! Where tokens come from: the [`TokenSource`] trait, the [`AccessToken`] it yields, and the
//! sources that need no network ([`FixedToken`], [`SystemToken`], [`ForwardedToken`]).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Extensions, HeaderValue};

use super::time::now;
use super::{ClientError, ClientErrorKind};
use crate::verify::unix_now;
use crate::{BearerToken, Claims, TokenIssuer};

/// A token ready to be sent, and when it stops being valid.
///
/// Instants are read on tokio's clock, as the [`TokenCache`](super::TokenCache)'s: the
/// system's, unless a test paused it (`tokio::time::pause`), so that a test, or a caller,
/// controls every time the client side compares.
///
/// ```
/// use std::time::Duration;
/// use regards_auth::BearerToken;
/// use regards_auth::client::AccessToken;
///
/// let token = AccessToken::expiring_in(BearerToken::new("a.b.c").unwrap(), Duration::from_secs(60));
/// assert!(token.is_fresh(Duration::from_secs(10)));
/// assert!(!token.is_fresh(Duration::from_secs(90)));
/// assert_eq!(token.header_value().to_str().unwrap(), "Bearer a.b.c");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    token: BearerToken,
    expires_at: Option<Instant>,
}

impl AccessToken {
    /// A token valid until `expires_at` (`None`: no known expiry).
    pub fn new(token: BearerToken, expires_at: Option<Instant>) -> Self {
        AccessToken { token, expires_at }
    }

    /// A token valid for `validity` from now (tokio's clock).
    pub fn expiring_in(token: BearerToken, validity: Duration) -> Self {
        let expires_at = now().checked_add(validity);
        AccessToken { token, expires_at }
    }

    /// A token whose expiry is a Unix time in seconds, as in a JWT's `exp`.
    pub fn expiring_at_unix(token: BearerToken, exp: u64) -> Self {
        let remaining = Duration::from_secs(exp.saturating_sub(unix_now()));
        Self::expiring_in(token, remaining)
    }

    /// The token.
    pub fn token(&self) -> &BearerToken {
        &self.token
    }

    /// When the token stops being valid, if known.
    pub fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }

    /// Whether the token is still valid `margin` from now, on tokio's clock as the cache reads
    /// it (always, with no known expiry).
    pub fn is_fresh(&self, margin: Duration) -> bool {
        self.fresh_at(now(), margin)
    }

    pub(crate) fn fresh_at(&self, now: Instant, margin: Duration) -> bool {
        match self.expires_at {
            None => true,
            Some(expires_at) => now
                .checked_add(margin)
                .is_some_and(|limit| limit < expires_at),
        }
    }

    /// `Bearer <token>`, marked sensitive, for an `Authorization` header.
    pub fn header_value(&self) -> HeaderValue {
        self.token.to_header_value()
    }
}

/// Something that gives a token for an outgoing request.
///
/// `request` is the outgoing request's extensions: sources that act for the caller read the
/// caller's [`BearerToken`] or [`Claims`] there; the others ignore it. Implement it with an
/// `async fn`:
///
/// ```
/// use http::Extensions;
/// use regards_auth::BearerToken;
/// use regards_auth::client::{AccessToken, ClientError, TokenSource};
///
/// struct FromVault;
///
/// impl TokenSource for FromVault {
///     async fn token(&self, _request: &Extensions) -> Result<AccessToken, ClientError> {
///         let text = "eyJhbGciOiJIUzUxMiJ9.e30.c2ln"; // read it from your vault
///         Ok(AccessToken::new(BearerToken::new(text).unwrap(), None))
///     }
/// }
/// ```
pub trait TokenSource: Send + Sync {
    /// Gives a token for a request whose extensions are `request`.
    fn token(
        &self,
        request: &Extensions,
    ) -> impl Future<Output = Result<AccessToken, ClientError>> + Send;

    /// The called service refused `token` (`401`): a source that keeps tokens drops it, so the
    /// next call gets a new one. Does nothing by default.
    fn invalidate(&self, token: &BearerToken) {
        let _ = token;
    }
}

impl<S: TokenSource> TokenSource for Arc<S> {
    fn token(
        &self,
        request: &Extensions,
    ) -> impl Future<Output = Result<AccessToken, ClientError>> + Send {
        (**self).token(request)
    }

    fn invalidate(&self, token: &BearerToken) {
        (**self).invalidate(token);
    }
}

/// Always the same token (configured, or obtained elsewhere).
///
/// ```
/// use regards_auth::BearerToken;
/// use regards_auth::client::FixedToken;
///
/// let source = FixedToken::new(BearerToken::new("eyJhbGciOiJIUzUxMiJ9.e30.c2ln").unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct FixedToken {
    token: AccessToken,
}

impl FixedToken {
    /// A source that always gives `token`, with no known expiry.
    pub fn new(token: BearerToken) -> Self {
        FixedToken {
            token: AccessToken::new(token, None),
        }
    }
}

impl TokenSource for FixedToken {
    async fn token(&self, _request: &Extensions) -> Result<AccessToken, ClientError> {
        Ok(self.token.clone())
    }
}

/// A system token minted locally with the shared key, as REGARDS services do for
/// service-to-service calls: role `ROLE_SYS_<application>`, `sub` and `email` the application
/// name (see [`TokenIssuer::system_token`]). Minting takes microseconds, so each call gets a
/// new token.
///
/// ```
/// use regards_auth::TokenIssuer;
/// use regards_auth::client::SystemToken;
///
/// // For one project:
/// let fixed = SystemToken::new(TokenIssuer::development(), "rs-notifier", "project1");
/// // For the project of the request being served (its Claims are copied to the outgoing request):
/// let current = SystemToken::for_caller_tenant(TokenIssuer::development(), "rs-notifier");
/// ```
#[derive(Debug, Clone)]
pub struct SystemToken {
    issuer: TokenIssuer,
    application: String,
    tenant: Option<String>,
}

impl SystemToken {
    /// System tokens of `application` for `tenant`.
    pub fn new(
        issuer: TokenIssuer,
        application: impl Into<String>,
        tenant: impl Into<String>,
    ) -> Self {
        SystemToken {
            issuer,
            application: application.into(),
            tenant: Some(tenant.into()),
        }
    }

    /// System tokens of `application` for the tenant of the [`Claims`] found in the outgoing
    /// request's extensions (REGARDS' "current tenant"); [`ClientErrorKind::NoCallerTenant`]
    /// without them.
    pub fn for_caller_tenant(issuer: TokenIssuer, application: impl Into<String>) -> Self {
        SystemToken {
            issuer,
            application: application.into(),
            tenant: None,
        }
    }

    fn mint(&self, request: &Extensions) -> Result<AccessToken, ClientError> {
        let tenant = match &self.tenant {
            Some(tenant) => tenant.as_str(),
            None => {
                let claims = request
                    .get::<Claims>()
                    .ok_or(ClientErrorKind::NoCallerTenant)?;
                claims.tenant()
            }
        };
        let text = self.issuer.system_token(&self.application, tenant);
        let token = BearerToken::new(&text).map_err(|_| {
            ClientError::unexpected_response(
                http::StatusCode::OK,
                "the issuer minted a token longer than the size cap",
                b"",
            )
        })?;
        Ok(AccessToken::expiring_in(token, self.issuer.validity()))
    }
}

impl TokenSource for SystemToken {
    async fn token(&self, request: &Extensions) -> Result<AccessToken, ClientError> {
        self.mint(request)
    }
}

/// Forwards the caller's own token, REGARDS' default for service-to-service calls.
///
/// [`BearerAuthLayer`](crate::BearerAuthLayer) leaves the caller's identity, [`Claims`], in the
/// incoming request's extensions; it holds the token. Copy it (a reference-count increment) into
/// the outgoing request's extensions and this source sends its token on, expiring with its
/// `exp`. A [`BearerToken`] alone works too (then without an expiry, unless `Claims` are there
/// as well).
///
/// ```
/// use regards_auth::Claims;
/// use regards_auth::client::ForwardedToken;
///
/// # fn outgoing(claims: Claims) -> http::Request<String> {
/// // In a handler that got `claims: Claims` (an axum extractor):
/// http::Request::get("http://rs-admin/api/v1/rs-admin/users/myuser")
///     .extension(claims) // the layer with ForwardedToken sends its token as Authorization
///     .body(String::new())
///     .unwrap()
/// # }
/// let source = ForwardedToken;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ForwardedToken;

impl TokenSource for ForwardedToken {
    async fn token(&self, request: &Extensions) -> Result<AccessToken, ClientError> {
        let claims = request.get::<Claims>();
        let token = request
            .get::<BearerToken>()
            .cloned()
            .or_else(|| claims.and_then(Claims::bearer_token))
            .ok_or(ClientErrorKind::NoCallerToken)?;
        Ok(match claims {
            Some(claims) => AccessToken::expiring_at_unix(token, claims.exp()),
            None => AccessToken::new(token, None),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Role, Verifier};

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn verifier() -> Verifier {
        Verifier::builder()
            .hs512(crate::REGARDS_DEVELOPMENT_KEY)
            .allow_development_key()
            .build()
            .unwrap()
    }

    #[test]
    fn system_token_is_a_regards_system_token_for_the_tenant() {
        let source = SystemToken::new(TokenIssuer::development(), "rs-notifier", "project1");
        let token = block_on(source.token(&Extensions::new())).unwrap();
        let claims = verifier().verify(token.token().as_str()).unwrap();
        assert_eq!(claims.role(), &Role::System("rs-notifier".into()));
        assert_eq!(
            (claims.sub(), claims.email(), claims.tenant()),
            ("rs-notifier", "rs-notifier", "project1")
        );
        assert!(token.expires_at().is_some());
    }

    #[test]
    fn system_token_for_caller_tenant_uses_the_claims_tenant() {
        let source = SystemToken::for_caller_tenant(TokenIssuer::development(), "rs-catalog");
        let mut request = Extensions::new();
        request.insert(Claims::new("a@b.c", "a@b.c", Role::Admin, "project2", 0));
        let token = block_on(source.token(&request)).unwrap();
        assert_eq!(
            verifier().verify(token.token().as_str()).unwrap().tenant(),
            "project2"
        );
    }

    #[test]
    fn system_token_for_caller_tenant_needs_claims() {
        let source = SystemToken::for_caller_tenant(TokenIssuer::development(), "rs-catalog");
        assert_eq!(
            block_on(source.token(&Extensions::new())).unwrap_err(),
            ClientError::from(ClientErrorKind::NoCallerTenant)
        );
    }

    #[test]
    fn forwarded_token_is_the_callers() {
        let caller = BearerToken::new("eyJhbGciOiJIUzUxMiJ9.e30.c2ln").unwrap();
        let mut request = Extensions::new();
        request.insert(caller.clone());
        let token = block_on(ForwardedToken.token(&request)).unwrap();
        assert_eq!(token.token(), &caller);
        assert_eq!(token.expires_at(), None);
    }

    #[test]
    fn forwarded_token_expires_with_the_callers_claims() {
        let mut request = Extensions::new();
        request.insert(BearerToken::new("a.b.c").unwrap());
        request.insert(Claims::new("a", "a", Role::Admin, "p", unix_now() + 100));
        let token = block_on(ForwardedToken.token(&request)).unwrap();
        assert!(token.is_fresh(Duration::from_secs(90)));
        assert!(!token.is_fresh(Duration::from_secs(110)));
    }

    #[test]
    fn forwarded_token_is_read_from_the_callers_identity() {
        let caller = TokenIssuer::development().mint("a@b.c", Role::Admin, "p");
        let claims = verifier().verify(&caller).unwrap();
        let mut request = Extensions::new();
        request.insert(claims);
        let token = block_on(ForwardedToken.token(&request)).unwrap();
        assert_eq!(token.token().as_str(), caller);
        assert!(token.expires_at().is_some());
    }

    #[test]
    fn forwarded_token_of_an_anonymous_caller_is_an_error() {
        let mut request = Extensions::new();
        request.insert(Claims::public("project1"));
        assert_eq!(
            block_on(ForwardedToken.token(&request)).unwrap_err(),
            ClientError::from(ClientErrorKind::NoCallerToken)
        );
    }

    #[test]
    fn forwarded_token_without_caller_token_is_an_error() {
        assert_eq!(
            block_on(ForwardedToken.token(&Extensions::new())).unwrap_err(),
            ClientError::from(ClientErrorKind::NoCallerToken)
        );
    }

    #[test]
    fn freshness_is_read_on_the_paused_clock() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let token = AccessToken::expiring_in(
                BearerToken::new("a.b.c").unwrap(),
                Duration::from_secs(60),
            );
            assert!(token.is_fresh(Duration::from_secs(50)));
            // Only the paused clock moves: an hour of it passes in no real time.
            tokio::time::advance(Duration::from_secs(15)).await;
            assert!(!token.is_fresh(Duration::from_secs(50)));
            assert!(token.is_fresh(Duration::from_secs(40)));
            tokio::time::advance(Duration::from_secs(3600)).await;
            assert!(!token.is_fresh(Duration::ZERO));
        });
    }

    #[test]
    fn token_without_expiry_is_always_fresh() {
        let token = AccessToken::new(BearerToken::new("a.b.c").unwrap(), None);
        assert!(token.is_fresh(Duration::MAX));
    }

    #[test]
    fn header_value_is_sensitive() {
        let token = AccessToken::new(BearerToken::new("a.b.c").unwrap(), None);
        assert!(token.header_value().is_sensitive());
    }
}
