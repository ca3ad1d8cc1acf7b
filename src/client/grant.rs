//! The password grant of REGARDS' rs-authentication, as the "Retrieve token REST" page documents
//! it: [`PasswordGrant`], its credentials and the [`TokenResponse`].

use std::fmt;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{Extensions, HeaderValue, Request, Response, StatusCode, Uri};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use serde_json::{Map, Value};
use tower_service::Service;

use super::redact::excerpt;
use super::{
    AccessToken, ClientConfigError, ClientError, ClientErrorKind, HttpTransport, TokenSource,
};
use crate::{BearerToken, Role};

/// The token endpoint's path under the REGARDS host (the gateway).
pub const TOKEN_PATH: &str = "/api/v1/rs-authentication/oauth/token";
/// How long one token request may take, connection included, unless set: 10 seconds.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest token answer read: 64 KiB.
pub const MAX_RESPONSE_LEN: usize = 64 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The OAuth client id and secret sent as `Authorization: Basic` (REGARDS' default is
/// `client` / `secret`). `Debug` does not show the secret.
///
/// ```
/// use regards_auth::client::ClientCredentials;
/// let client = ClientCredentials::new("client", "secret");
/// assert_eq!(format!("{client:?}"), r#"ClientCredentials { id: "client", secret: "<redacted>" }"#);
/// ```
#[derive(Clone)]
pub struct ClientCredentials {
    id: String,
    secret: String,
}

impl ClientCredentials {
    /// Credentials of the OAuth client `id`.
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        ClientCredentials {
            id: id.into(),
            secret: secret.into(),
        }
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A REGARDS user's login and password. `Debug` does not show the password.
///
/// ```
/// use regards_auth::client::UserCredentials;
/// let user = UserCredentials::new("admin@regards.fr", "admin");
/// assert!(!format!("{user:?}").contains("\"admin\""));
/// ```
#[derive(Clone)]
pub struct UserCredentials {
    username: String,
    password: String,
}

impl UserCredentials {
    /// The login (an e-mail address) and password of a user.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        UserCredentials {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A successful answer of the token endpoint.
///
/// `Debug` does not show the token ([`BearerToken`] redacts itself). Non-exhaustive: a member
/// REGARDS may add to its answer can become a field without breaking code that reads these.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenResponse {
    /// `access_token`: the token to send as `Authorization: Bearer`.
    pub access_token: BearerToken,
    /// `token_type`: `bearer` (checked, case-insensitively).
    pub token_type: String,
    /// `expires_in`: seconds of validity left when the answer was made.
    pub expires_in: u64,
    /// `role`: the user's role on the project.
    pub role: Role,
    /// `scope`: the project asked for.
    pub scope: String,
    /// `sub`: the user's login.
    pub sub: String,
    /// `tenant`: the project the token is valid for.
    pub tenant: String,
    /// `email`: the user's e-mail address.
    pub email: String,
}

impl TokenResponse {
    /// Reads a token answer. Members other than the eight REGARDS sends are ignored.
    ///
    /// # Errors
    ///
    /// A [`ClientError`] of kind [`UnexpectedResponse`](ClientErrorKind::UnexpectedResponse)
    /// (status `200`), whose [`reason`](ClientError::reason) says what is wrong: not a JSON
    /// object, a member missing or of the wrong type, a token type other than `bearer`. The body
    /// is not quoted: it may hold a token.
    ///
    /// ```
    /// use regards_auth::client::TokenResponse;
    /// use regards_auth::Role;
    ///
    /// let answer = TokenResponse::from_json(br#"{"access_token":"eyJhbGciOiJIUzUxMiJ9.e30.c2ln",
    ///     "token_type":"bearer","expires_in":7199,"role":"PROJECT_ADMIN","scope":"project1",
    ///     "sub":"admin@regards.fr","tenant":"project1","email":"admin@regards.fr"}"#).unwrap();
    /// assert_eq!((answer.role, answer.expires_in), (Role::ProjectAdmin, 7199));
    /// let error = TokenResponse::from_json(br#"{"access_token":42}"#).unwrap_err();
    /// assert_eq!(error.reason(), Some("`access_token` is missing or not a non-empty string"));
    /// ```
    pub fn from_json(json: &[u8]) -> Result<Self, ClientError> {
        Self::parse(json).map_err(|reason| {
            ClientError::answered(
                ClientErrorKind::UnexpectedResponse,
                StatusCode::OK,
                Some(reason),
                String::new(),
            )
        })
    }

    /// Reads a token answer; the error is the reason it is not one.
    fn parse(json: &[u8]) -> Result<Self, &'static str> {
        let object: Map<String, Value> =
            serde_json::from_slice(json).map_err(|_| "the body is not a JSON object")?;
        let text = |name: &'static str, reason: &'static str| match object.get(name) {
            Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
            _ => Err(reason),
        };
        let access_token = text(
            "access_token",
            "`access_token` is missing or not a non-empty string",
        )?;
        let access_token = BearerToken::new(&access_token)
            .map_err(|_| "`access_token` is not a well-formed bearer token")?;
        let token_type = text("token_type", "`token_type` is missing or not a string")?;
        if !token_type.eq_ignore_ascii_case("bearer") {
            return Err("`token_type` is not `bearer`");
        }
        let expires_in = object
            .get("expires_in")
            .and_then(Value::as_u64)
            .ok_or("`expires_in` is missing or not a non-negative integer")?;
        Ok(TokenResponse {
            access_token,
            token_type,
            expires_in,
            role: Role::from_name(&text("role", "`role` is missing or not a string")?),
            scope: text("scope", "`scope` is missing or not a string")?,
            sub: text("sub", "`sub` is missing or not a string")?,
            tenant: text("tenant", "`tenant` is missing or not a string")?,
            email: text("email", "`email` is missing or not a string")?,
        })
    }

    /// The token, expiring `expires_in` seconds after `requested_at` (when the request was
    /// sent, so the expiry errs on the early side).
    pub fn to_access_token(&self, requested_at: Instant) -> AccessToken {
        AccessToken::new(
            self.access_token.clone(),
            requested_at.checked_add(Duration::from_secs(self.expires_in)),
        )
    }
}

/// Logs a user in through rs-authentication's password grant, exactly as REGARDS' "Retrieve
/// token REST" documents it:
///
/// ```text
/// POST <HOST>/api/v1/rs-authentication/oauth/token?grant_type=password&scope=<tenant>&username=<login>&password=<password>
/// Authorization: Basic base64(<client id>:<client secret>)
/// Content-Type: application/json;charset=UTF-8
/// Accept: application/json
/// ```
///
/// The query parameters are percent-encoded. Answers are told apart: `200` with a token
/// ([`TokenResponse`]), `401` ([`ClientErrorKind::BadClientCredentials`]), `400`
/// ([`ClientErrorKind::BadUserCredentials`]), anything else
/// ([`ClientErrorKind::UnexpectedResponse`]). Each request is bounded by a
/// [timeout](Self::with_timeout) and the answer by [`MAX_RESPONSE_LEN`].
///
/// The transport is [`HttpTransport`] unless [`with_transport`](Self::with_transport) gives
/// another `tower` service (`Service<Request<B>>` where `B: From<Bytes>`, [`Full<Bytes>`]
/// unless [`with_body`](Self::with_body) says otherwise). As a [`TokenSource`] every call
/// fetches: put it behind a [`TokenCache`](super::TokenCache).
///
/// ```no_run
/// use regards_auth::client::{ClientCredentials, PasswordGrant, UserCredentials};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let grant = PasswordGrant::new(
///     "http://127.0.0.1:8080",
///     "project1",
///     ClientCredentials::new("client", "secret"),
///     UserCredentials::new("admin@regards.fr", "admin"),
/// )?;
/// let answer = grant.fetch().await?;
/// println!("logged in as {} ({}) on {}", answer.sub, answer.role, answer.tenant);
/// # Ok(()) }
/// ```
pub struct PasswordGrant<T = HttpTransport, B = Full<Bytes>> {
    /// The token URL, query included (it holds the password: never shown).
    uri: Uri,
    /// `<scheme>://<authority><path>` of the host, for `Debug`.
    host: String,
    tenant: String,
    username: String,
    authorization: HeaderValue,
    /// What errors must never show: the password, the client secret and the `Basic` value
    /// (without its `=` padding, which tells nothing, so that an echo that drops it is found).
    secrets: [String; 3],
    timeout: Duration,
    transport: T,
    body: PhantomData<fn() -> B>,
}

impl<T: Clone, B> Clone for PasswordGrant<T, B> {
    fn clone(&self) -> Self {
        PasswordGrant {
            uri: self.uri.clone(),
            host: self.host.clone(),
            tenant: self.tenant.clone(),
            username: self.username.clone(),
            authorization: self.authorization.clone(),
            secrets: self.secrets.clone(),
            timeout: self.timeout,
            transport: self.transport.clone(),
            body: PhantomData,
        }
    }
}

impl<T: fmt::Debug, B> fmt::Debug for PasswordGrant<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordGrant")
            .field("host", &self.host)
            .field("tenant", &self.tenant)
            .field("username", &self.username)
            .field("timeout", &self.timeout)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl PasswordGrant {
    /// A password grant for `user` on the project `tenant`, through the REGARDS gateway at
    /// `host` (`http://127.0.0.1:8080`, `https://regards.example/prefix`...), with the default
    /// [`HttpTransport`].
    ///
    /// # Errors
    ///
    /// A [`ClientConfigError`], the first of:
    /// [`EmptyParameter`](ClientConfigError::EmptyParameter) if the tenant or username is
    /// empty; [`InvalidClientId`](ClientConfigError::InvalidClientId) if the client id is empty
    /// or has a `:`; [`InvalidHost`](ClientConfigError::InvalidHost) if the host is not an
    /// absolute `http(s)://` URL without query or fragment; for an `https://` host,
    /// [`HttpsNeedsFeature`](ClientConfigError::HttpsNeedsFeature) without the `client-rustls`
    /// feature, or [`Tls`](ClientConfigError::Tls) if no system root certificate could be
    /// loaded.
    pub fn new(
        host: &str,
        tenant: &str,
        client: ClientCredentials,
        user: UserCredentials,
    ) -> Result<Self, ClientConfigError> {
        let transport = HttpTransport::new();
        let grant = Self::with_custom_transport(host, tenant, client, user, transport)?;
        if grant.uri.scheme() == Some(&http::uri::Scheme::HTTPS) {
            if !cfg!(feature = "client-rustls") {
                return Err(ClientConfigError::HttpsNeedsFeature);
            }
            if !grant.transport.supports_https() {
                return Err(ClientConfigError::Tls(
                    "no system root certificate could be loaded (install the ca-certificates \
                     package, or build an HttpTransport with_tls_config)"
                        .into(),
                ));
            }
        }
        Ok(grant)
    }
}

impl<T, B> PasswordGrant<T, B> {
    /// Like [`new`](PasswordGrant::new), with your transport.
    ///
    /// # Errors
    ///
    /// As [`new`](PasswordGrant::new), except for HTTPS, which is the transport's business.
    #[allow(
        clippy::missing_panics_doc,
        reason = "never panics: `Basic` and base64 are always a valid header value, and \
                  `HeaderValue` has no infallible constructor without `unsafe`"
    )]
    pub fn with_custom_transport(
        host: &str,
        tenant: &str,
        client: ClientCredentials,
        user: UserCredentials,
        transport: T,
    ) -> Result<Self, ClientConfigError> {
        if tenant.is_empty() {
            return Err(ClientConfigError::EmptyParameter("tenant"));
        }
        if user.username.is_empty() {
            return Err(ClientConfigError::EmptyParameter("username"));
        }
        if client.id.is_empty() || client.id.contains(':') {
            return Err(ClientConfigError::InvalidClientId);
        }
        let base = host
            .parse::<Uri>()
            .map_err(|_| ClientConfigError::InvalidHost)?;
        let (Some(scheme), Some(authority)) = (base.scheme_str(), base.authority()) else {
            return Err(ClientConfigError::InvalidHost);
        };
        if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
            || base.query().is_some()
            || host.contains('#')
        {
            return Err(ClientConfigError::InvalidHost);
        }
        let host = format!(
            "{}://{authority}{}",
            scheme.to_ascii_lowercase(),
            base.path().trim_end_matches('/')
        );
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "password")
            .append_pair("scope", tenant)
            .append_pair("username", &user.username)
            .append_pair("password", &user.password)
            .finish();
        let uri = format!("{host}{TOKEN_PATH}?{query}")
            .parse::<Uri>()
            .map_err(|_| ClientConfigError::InvalidHost)?;
        let basic = STANDARD.encode(format!("{}:{}", client.id, client.secret));
        let mut authorization = HeaderValue::from_str(&format!("Basic {basic}"))
            .expect("base64 is a valid header value");
        authorization.set_sensitive(true);
        Ok(PasswordGrant {
            uri,
            host,
            tenant: tenant.to_owned(),
            username: user.username,
            authorization,
            secrets: [
                user.password,
                client.secret,
                basic.trim_end_matches('=').to_owned(),
            ],
            timeout: DEFAULT_FETCH_TIMEOUT,
            transport,
            body: PhantomData,
        })
    }

    /// Bounds each token request, connection and answer included ([`DEFAULT_FETCH_TIMEOUT`]
    /// unless set).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends token requests through `transport` instead.
    pub fn with_transport<T2>(self, transport: T2) -> PasswordGrant<T2, B> {
        PasswordGrant {
            uri: self.uri,
            host: self.host,
            tenant: self.tenant,
            username: self.username,
            authorization: self.authorization,
            secrets: self.secrets,
            timeout: self.timeout,
            transport,
            body: PhantomData,
        }
    }

    /// Builds token requests with the body type `B2` (for a transport that takes another body
    /// than [`Full<Bytes>`]).
    pub fn with_body<B2>(self) -> PasswordGrant<T, B2> {
        PasswordGrant {
            uri: self.uri,
            host: self.host,
            tenant: self.tenant,
            username: self.username,
            authorization: self.authorization,
            secrets: self.secrets,
            timeout: self.timeout,
            transport: self.transport,
            body: PhantomData,
        }
    }

    /// The project tokens are asked for.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The token request, as sent.
    fn request(&self) -> Request<B>
    where
        B: From<Bytes>,
    {
        let mut request = Request::new(B::from(Bytes::new()));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, self.authorization.clone());
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        );
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        request
    }

    fn secrets(&self) -> [&str; 3] {
        self.secrets.each_ref().map(String::as_str)
    }

    fn transport_error(&self, error: impl Into<BoxError>) -> ClientError {
        let error: BoxError = error.into();
        ClientError::transport_redacted(&*error, &self.secrets())
    }

    /// Reads an answer of the token endpoint.
    fn interpret(&self, status: StatusCode, body: &[u8]) -> Result<TokenResponse, ClientError> {
        let answered = |kind, reason| {
            ClientError::answered(kind, status, reason, excerpt(body, &self.secrets()))
        };
        match status {
            // A token answer that did not parse may still carry a token: the excerpt withholds
            // such a body (as it does under any status).
            StatusCode::OK => TokenResponse::parse(body)
                .map_err(|reason| answered(ClientErrorKind::UnexpectedResponse, Some(reason))),
            StatusCode::UNAUTHORIZED => Err(answered(ClientErrorKind::BadClientCredentials, None)),
            StatusCode::BAD_REQUEST => Err(answered(ClientErrorKind::BadUserCredentials, None)),
            _ => Err(answered(
                ClientErrorKind::UnexpectedResponse,
                Some("the status is none of 200, 400 and 401"),
            )),
        }
    }
}

impl<T, B, RB> PasswordGrant<T, B>
where
    T: Service<Request<B>, Response = Response<RB>> + Clone,
    T::Error: Into<BoxError>,
    B: From<Bytes>,
    RB: Body,
    RB::Error: Into<BoxError>,
{
    /// Asks the token endpoint for a token, once (no retry: [`TokenCache`](super::TokenCache)
    /// retries).
    ///
    /// # Errors
    ///
    /// A [`ClientError`]: the client or the user credentials refused, an answer that is not a
    /// token answer, the transport's failure, or no answer within the
    /// [timeout](Self::with_timeout).
    pub async fn fetch(&self) -> Result<TokenResponse, ClientError> {
        Ok(self.fetch_timed().await?.0)
    }

    async fn fetch_timed(&self) -> Result<(TokenResponse, Instant), ClientError> {
        // The client side's clock, as the cache's.
        let requested_at = super::time::now();
        let (status, body) = tokio::time::timeout(self.timeout, self.exchange())
            .await
            .map_err(|_| ClientError::timed_out(self.timeout))??;
        let answer = self.interpret(status, &body)?;
        tracing::debug!(
            tenant = %answer.tenant,
            role = %answer.role,
            expires_in = answer.expires_in,
            "token obtained by password grant"
        );
        Ok((answer, requested_at))
    }

    async fn exchange(&self) -> Result<(StatusCode, Bytes), ClientError> {
        let mut transport = self.transport.clone();
        poll_fn(|cx| transport.poll_ready(cx))
            .await
            .map_err(|error| self.transport_error(error))?;
        let response = transport
            .call(self.request())
            .await
            .map_err(|error| self.transport_error(error))?;
        let (parts, body) = response.into_parts();
        match Limited::new(body, MAX_RESPONSE_LEN).collect().await {
            Ok(collected) => Ok((parts.status, collected.to_bytes())),
            Err(error) if error.is::<LengthLimitError>() => Err(ClientError::answered(
                ClientErrorKind::UnexpectedResponse,
                parts.status,
                Some("the body is larger than 64 KiB"),
                String::new(),
            )),
            Err(error) => Err(self.transport_error(error)),
        }
    }
}

impl<T, B, RB> TokenSource for PasswordGrant<T, B>
where
    T: Service<Request<B>, Response = Response<RB>> + Clone + Send + Sync,
    T::Future: Send,
    T::Error: Into<BoxError>,
    B: From<Bytes> + Send,
    RB: Body + Send,
    RB::Data: Send,
    RB::Error: Into<BoxError>,
{
    async fn token(&self, _request: &Extensions) -> Result<AccessToken, ClientError> {
        let (answer, requested_at) = self.fetch_timed().await?;
        Ok(answer.to_access_token(requested_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::redact::WITHHELD;

    fn grant(host: &str) -> Result<PasswordGrant, ClientConfigError> {
        PasswordGrant::new(
            host,
            "project1",
            ClientCredentials::new("client", "secret"),
            UserCredentials::new("admin@regards.fr", "p@ss wörd&x=1"),
        )
    }

    #[test]
    fn request_follows_the_seed() {
        let request = grant("http://127.0.0.1:8080/").unwrap().request();
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(
            request.uri().to_string(),
            "http://127.0.0.1:8080/api/v1/rs-authentication/oauth/token?grant_type=password\
             &scope=project1&username=admin%40regards.fr&password=p%40ss+w%C3%B6rd%26x%3D1"
        );
        let headers = request.headers();
        assert_eq!(headers[AUTHORIZATION], "Basic Y2xpZW50OnNlY3JldA==");
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert_eq!(headers[CONTENT_TYPE], "application/json;charset=UTF-8");
        assert_eq!(headers[ACCEPT], "application/json");
    }

    #[test]
    fn host_path_prefix_is_kept() {
        let request = grant("https://regards.example/gateway/").map(|g| g.request());
        if cfg!(feature = "client-rustls") {
            if let Ok(request) = request {
                assert!(
                    request
                        .uri()
                        .to_string()
                        .starts_with("https://regards.example/gateway/api/v1/rs-authentication/")
                );
            }
        } else {
            assert_eq!(request.unwrap_err(), ClientConfigError::HttpsNeedsFeature);
        }
    }

    #[test]
    fn debug_shows_no_password_nor_secret() {
        let text = format!("{:?}", grant("http://h:1").unwrap());
        assert!(!text.contains("p@ss") && !text.contains("p%40ss") && !text.contains("secret"));
        assert!(text.contains("admin@regards.fr"));
    }

    #[test]
    fn bad_hosts_are_refused() {
        for host in [
            "",
            "127.0.0.1:8080",
            "ftp://h",
            "http://h/?a=b",
            "http://h/#f",
            "/api",
        ] {
            assert_eq!(
                grant(host).unwrap_err(),
                ClientConfigError::InvalidHost,
                "{host}"
            );
        }
    }

    #[test]
    fn bad_client_id_is_refused() {
        let error = PasswordGrant::new(
            "http://h",
            "p",
            ClientCredentials::new("a:b", "s"),
            UserCredentials::new("u", "p"),
        )
        .unwrap_err();
        assert_eq!(error, ClientConfigError::InvalidClientId);
    }

    #[test]
    fn empty_tenant_is_refused() {
        let error = PasswordGrant::new(
            "http://h",
            "",
            ClientCredentials::new("client", "secret"),
            UserCredentials::new("u", "p"),
        )
        .unwrap_err();
        assert_eq!(error, ClientConfigError::EmptyParameter("tenant"));
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        let grant = grant("http://h").unwrap();
        let kind = |status, body: &[u8]| grant.interpret(status, body).unwrap_err().kind();
        assert_eq!(
            kind(StatusCode::UNAUTHORIZED, b"{}"),
            ClientErrorKind::BadClientCredentials
        );
        let refused = grant
            .interpret(StatusCode::BAD_REQUEST, br#"{"error":"invalid_grant"}"#)
            .unwrap_err();
        assert_eq!(refused.kind(), ClientErrorKind::BadUserCredentials);
        assert!(refused.excerpt().contains("invalid_grant"));
        let forbidden = grant.interpret(StatusCode::FORBIDDEN, b"").unwrap_err();
        assert_eq!(forbidden.kind(), ClientErrorKind::UnexpectedResponse);
        assert_eq!(forbidden.status(), Some(StatusCode::FORBIDDEN));
    }

    #[test]
    fn echoed_password_is_redacted() {
        let grant = grant("http://h").unwrap();
        let error = grant
            .interpret(
                StatusCode::NOT_FOUND,
                b"no route for /oauth/token?password=p%40ss+w%C3%B6rd%26x%3D1 (p@ss w\xc3\xb6rd&x=1)",
            )
            .unwrap_err();
        let text = error.to_string();
        assert!(!text.contains("p@ss") && !text.contains("p%40ss"), "{text}");
    }

    #[test]
    fn malformed_token_answer_is_not_quoted() {
        let grant = grant("http://h").unwrap();
        let json = br#"{"access_token":"eyJhbGciOiJIUzUxMiJ9.e30.c2ln","token_type":"bearer","expires_in":"1"}"#;
        let error = grant.interpret(StatusCode::OK, json).unwrap_err();
        assert_eq!(error.kind(), ClientErrorKind::UnexpectedResponse);
        assert_eq!(error.excerpt(), WITHHELD);
        assert!(!error.to_string().contains("eyJ"));
    }

    #[test]
    fn token_type_must_be_bearer() {
        let json = br#"{"access_token":"a.b.c","token_type":"mac","expires_in":1,"role":"ADMIN",
            "scope":"p","sub":"s","tenant":"p","email":"e"}"#;
        assert_eq!(
            TokenResponse::parse(json).unwrap_err(),
            "`token_type` is not `bearer`"
        );
    }

    #[test]
    fn expires_in_must_be_an_integer() {
        let json =
            br#"{"access_token":"a.b.c","token_type":"bearer","expires_in":"7200","role":"ADMIN",
            "scope":"p","sub":"s","tenant":"p","email":"e"}"#;
        assert_eq!(
            TokenResponse::parse(json).unwrap_err(),
            "`expires_in` is missing or not a non-negative integer"
        );
    }

    #[test]
    fn access_token_must_be_a_bearer_token() {
        let json = br#"{"access_token":"not a token","token_type":"bearer","expires_in":1,
            "role":"ADMIN","scope":"p","sub":"s","tenant":"p","email":"e"}"#;
        assert_eq!(
            TokenResponse::parse(json).unwrap_err(),
            "`access_token` is not a well-formed bearer token"
        );
    }
}
