//! A small REGARDS look-alike on localhost: a token endpoint that answers like rs-authentication,
//! and a few REGARDS routes protected by `regards_auth`, each with the role REGARDS gives it.
//!
//! ```text
//! cargo run --example regards_demo
//!
//! HOST=http://127.0.0.1:8080
//! curl -X POST "$HOST/api/v1/rs-authentication/oauth/token?grant_type=password&scope=project1&username=admin@regards.fr&password=admin" \
//!   -H 'Authorization: Basic Y2xpZW50OnNlY3JldA==' \
//!   -H 'Content-Type: application/json;charset=UTF-8' -H 'Accept: application/json'
//! curl -v -XPUT $HOST/api/v1/rs-notifier/rule -H 'Authorization:Bearer <access_token>' \
//!   -H 'Content-Type: application/json' -H 'Accept: application/json' --data '{"name":"r1"}'
//! ```
//!
//! Configuration (environment, all optional):
//!
//! | variable | default |
//! |---|---|
//! | `REGARDS_DEMO_ADDR` | `127.0.0.1:8080` |
//! | `JWT_SIGNING_KEY_HS512` (and the other `JWT_SIGNING_KEY_*` of `Verifier::from_env`) | REGARDS' public development key, with a warning |
//! | `REGARDS_CLIENT_ID` / `REGARDS_CLIENT_SECRET` | `client` / `secret` |
//! | `REGARDS_TOKEN_VALIDITY` (seconds) | `7200` |
//! | `REGARDS_DEMO_USERS` (path to a JSON file) | the built-in users below |
//!
//! Built-in users: `admin@regards.fr`/`admin` (PROJECT_ADMIN on `project1`, REGISTERED_USER on
//! `project2`), `user@regards.fr`/`user` (REGISTERED_USER on `project1`), `root@regards.fr`/`root`
//! (INSTANCE_ADMIN on `instance`). A users file holds the same shape:
//! `[{"login": "jane@regards.fr", "password": "...", "roles": {"project1": "EXPLOIT"}}]`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{Path, State};
use axum::http::header::{
    ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue, PRAGMA,
    WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use regards_auth::{
    Algorithm, BearerAuthLayer, Claims, REGARDS_DEVELOPMENT_KEY, RequireRoleLayer, Role,
    TokenIssuer, Verifier,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

const TOKEN_PATH: &str = "/api/v1/rs-authentication/oauth/token";
/// Requests with a larger body are refused with 413.
const MAX_BODY_BYTES: usize = 64 * 1024;

// Tests include this file as a module and start `app` themselves: `main` is unused there.
#[allow(dead_code)]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let run = async {
        let config = DemoConfig::from_env()?;
        let shutdown = shutdown_signal()
            .map_err(|error| format!("cannot listen for Ctrl-C and SIGTERM: {error}"))?;
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|error| {
                format!(
                    "cannot listen on {}: {error} (set REGARDS_DEMO_ADDR)",
                    config.addr
                )
            })?;
        let addr = listener.local_addr().map_err(|error| error.to_string())?;
        println!("REGARDS demo listening on http://{addr}");
        axum::serve(listener, app(config))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|error| error.to_string())
    };
    match run.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("regards_demo: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The demo REGARDS stack: the token endpoint and the protected routes, with CORS, a body
/// limit and a request timeout around them.
pub fn app(config: DemoConfig) -> Router {
    let request_timeout = config.request_timeout;
    let guard = RequireRoleLayer::at_least;
    let protected = Router::new()
        .route(
            "/api/v1/rs-notifier/rule",
            get(list_rules)
                .post(store_rule)
                .put(store_rule)
                .route_layer(guard(Role::ProjectAdmin)),
        )
        .route(
            "/api/v1/rs-notifier/rule/{id}",
            delete(delete_rule).route_layer(guard(Role::ProjectAdmin)),
        )
        .route(
            "/api/v1/rs-notifier/recipients",
            get(recipients).route_layer(guard(Role::Exploit)),
        )
        .route(
            "/api/v1/rs-admin/users/myuser",
            get(my_user).route_layer(guard(Role::RegisteredUser)),
        )
        .route(
            "/api/v1/rs-catalog/engines/{engine}/entities/search",
            get(search).route_layer(guard(Role::Public)),
        )
        .route(
            "/api/v1/rs-admin-instance/accounts",
            get(accounts).route_layer(guard(Role::InstanceAdmin)),
        )
        // Anonymous requests naming a project (`scope`) are served as its PUBLIC user.
        .layer(BearerAuthLayer::new(config.verifier.clone()).allow_public());

    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            AUTHORIZATION,
            CONTENT_TYPE,
            ACCEPT,
            HeaderName::from_static("scope"),
        ]);
    Router::new()
        .route(TOKEN_PATH, post(token))
        .merge(protected)
        .with_state(Arc::new(Demo {
            config,
            rules: Mutex::default(),
        }))
        // Each layer wraps the ones before it. CORS is outermost: preflights are answered
        // without a token, and every answer, even a refusal, carries the CORS headers.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(cors)
}

/// What the handlers share: the configuration and the notifier rules.
struct Demo {
    config: DemoConfig,
    rules: Mutex<Rules>,
}

/// The notifier rules, per tenant.
#[derive(Default)]
struct Rules {
    last_id: u64,
    by_tenant: HashMap<String, Vec<Map<String, Value>>>,
}

impl Demo {
    fn rules(&self) -> std::sync::MutexGuard<'_, Rules> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A refused request, answered the REGARDS way: `{"messages":["<fixed message>"]}`. A 401
/// comes from the token endpoint, and asks for the client's Basic credentials.
struct Refusal(StatusCode, &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let Refusal(status, message) = self;
        let mut response = (status, Json(json!({ "messages": [message] }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            let challenge = HeaderValue::from_static(r#"Basic realm="regards""#);
            response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

fn bad_request(message: &'static str) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, message)
}

// ---- the protected REGARDS routes ---------------------------------------------------------

/// rs-notifier `GET /rule` (PROJECT_ADMIN): the caller's project's rules.
async fn list_rules(
    State(demo): State<Arc<Demo>>,
    claims: Claims,
) -> Json<Vec<Map<String, Value>>> {
    let rules = demo.rules();
    Json(
        rules
            .by_tenant
            .get(&claims.tenant)
            .cloned()
            .unwrap_or_default(),
    )
}

/// rs-notifier `POST|PUT /rule` (PROJECT_ADMIN): stores the rule for the caller's project and
/// answers it with its id.
async fn store_rule(
    State(demo): State<Arc<Demo>>,
    method: Method,
    claims: Claims,
    rule: Result<Json<Map<String, Value>>, JsonRejection>,
) -> Result<(StatusCode, Json<Map<String, Value>>), Refusal> {
    let Json(mut rule) = rule.map_err(|rejection| {
        let message = "A rule is a JSON object (Content-Type: application/json)";
        Refusal(rejection.status(), message)
    })?;
    let mut rules = demo.rules();
    rules.last_id += 1;
    rule.insert("id".into(), rules.last_id.into());
    rules
        .by_tenant
        .entry(claims.tenant)
        .or_default()
        .push(rule.clone());
    let status = if method == Method::POST {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(rule)))
}

/// rs-notifier `DELETE /rule/{id}` (PROJECT_ADMIN): only the caller's project's rules.
async fn delete_rule(
    State(demo): State<Arc<Demo>>,
    claims: Claims,
    Path(id): Path<String>,
) -> Result<StatusCode, Refusal> {
    let mut rules = demo.rules();
    let tenant_rules = rules.by_tenant.entry(claims.tenant).or_default();
    let position = id.parse::<u64>().ok().and_then(|id| {
        tenant_rules
            .iter()
            .position(|rule| rule.get("id") == Some(&id.into()))
    });
    let position = position.ok_or(Refusal(
        StatusCode::NOT_FOUND,
        "No such rule in this project",
    ))?;
    tenant_rules.remove(position);
    Ok(StatusCode::NO_CONTENT)
}

/// rs-notifier `GET /recipients` (EXPLOIT).
async fn recipients() -> Json<Value> {
    Json(json!([{ "id": "mail", "label": "E-mail to the project's operators" }]))
}

/// rs-admin `GET /users/myuser` (REGISTERED_USER): who the caller is.
async fn my_user(claims: Claims) -> Json<Value> {
    Json(json!({
        "sub": claims.sub,
        "email": claims.email,
        "role": claims.role,
        "tenant": claims.tenant,
        "accessGroups": claims.access_groups,
    }))
}

/// rs-catalog `GET /engines/{engine}/entities/search` (PUBLIC): an empty page of results.
async fn search(claims: Claims) -> Json<Value> {
    Json(json!({ "tenant": claims.tenant, "caller": claims.sub, "content": [] }))
}

/// rs-admin-instance `GET /accounts` (INSTANCE_ADMIN): the known logins.
async fn accounts(State(demo): State<Arc<Demo>>) -> Json<Value> {
    let logins: Vec<&str> = demo
        .config
        .users
        .iter()
        .map(|user| user.login.as_str())
        .collect();
    Json(json!(logins))
}

// ---- rs-authentication: POST /oauth/token -------------------------------------------------

/// The parameters of a password grant, from the query string, a form or a JSON body.
#[derive(Debug, Default, Deserialize)]
struct TokenParams {
    grant_type: Option<String>,
    scope: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

impl TokenParams {
    fn from_form(input: &[u8]) -> Result<TokenParams, &'static str> {
        let mut params = TokenParams::default();
        for (name, value) in form_urlencoded::parse(input) {
            if value.is_empty() {
                continue;
            }
            let slot = match &*name {
                "grant_type" => &mut params.grant_type,
                "scope" => &mut params.scope,
                "username" => &mut params.username,
                "password" => &mut params.password,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err("A token request parameter is given more than once");
            }
        }
        Ok(params)
    }

    fn from_body(headers: &HeaderMap, body: &[u8]) -> Result<TokenParams, Refusal> {
        if body.is_empty() {
            return Ok(TokenParams::default());
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|essence| essence.trim().to_ascii_lowercase());
        match content_type.as_deref() {
            Some("application/x-www-form-urlencoded") => {
                TokenParams::from_form(body).map_err(bad_request)
            }
            Some("application/json") => serde_json::from_slice(body)
                .map_err(|_| bad_request("The JSON body must be an object of string parameters")),
            _ => Err(Refusal(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the token request parameters as a query string, a form or JSON",
            )),
        }
    }

    /// `self`'s parameters, completed by `fallback`'s.
    fn or(self, fallback: TokenParams) -> TokenParams {
        TokenParams {
            grant_type: self.grant_type.or(fallback.grant_type),
            scope: self.scope.or(fallback.scope),
            username: self.username.or(fallback.username),
            password: self.password.or(fallback.password),
        }
    }
}

/// Compares secrets without stopping at the first difference.
fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// Checks `Authorization: Basic base64(client_id:client_secret)`.
fn authenticate_client(config: &DemoConfig, headers: &HeaderMap) -> Result<(), Refusal> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        let message = "Full authentication is required to access this resource";
        return Err(Refusal(StatusCode::UNAUTHORIZED, message));
    };
    let credentials = value
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok());
    let authenticated = credentials
        .as_deref()
        .and_then(|credentials| credentials.split_once(':'))
        .is_some_and(|(id, secret)| {
            same_secret(id, &config.client_id) && same_secret(secret, &config.client_secret)
        });
    if authenticated {
        Ok(())
    } else {
        Err(Refusal(StatusCode::UNAUTHORIZED, "Bad client credentials"))
    }
}

/// The password grant. Parameters come from the query string and from a form or JSON body
/// (the body wins); the project must be named in the query (`scope`) or a `scope` header.
async fn token(
    State(demo): State<Arc<Demo>>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refusal> {
    let config = &demo.config;
    authenticate_client(config, &headers)?;
    let body = body.map_err(|rejection| Refusal(rejection.status(), "The body cannot be read"))?;
    let query = TokenParams::from_form(uri.query().unwrap_or_default().as_bytes());
    let query = query.map_err(bad_request)?;
    let scope_header = headers.get("scope").and_then(|value| value.to_str().ok());
    let scope_header = scope_header
        .filter(|value| !value.is_empty())
        .map(str::to_owned);
    let scope_requested = query.scope.is_some() || scope_header.is_some();
    let params = TokenParams::from_body(&headers, &body)?.or(query);

    match params.grant_type.as_deref() {
        Some("password") => {}
        None => return Err(bad_request("grant_type is required")),
        Some(_) => {
            return Err(bad_request(
                "Unsupported grant type: use grant_type=password",
            ));
        }
    }
    let tenant = params.scope.or(scope_header);
    let tenant = tenant
        .filter(|tenant| scope_requested && !tenant.is_empty())
        .ok_or_else(|| {
            bad_request("scope is required: name the project in the query string or a scope header")
        })?;
    let (Some(username), Some(password)) = (params.username, params.password) else {
        return Err(bad_request("username and password are required"));
    };
    // An unknown user and a wrong password get the very same answer.
    let user = config
        .users
        .iter()
        .find(|user| user.login == username && same_secret(&password, &user.password))
        .ok_or_else(|| bad_request("Bad credentials"))?;
    let role = user
        .roles
        .get(&tenant)
        .ok_or_else(|| bad_request("The user has no role on the requested project"))?;

    let claims = config
        .issuer
        .user_claims(&user.login, role.clone(), &tenant);
    let answer = TokenAnswer {
        access_token: config.issuer.issue(&claims),
        token_type: "bearer",
        expires_in: config.issuer.validity().as_secs(),
        role: claims.role,
        scope: tenant,
        sub: claims.sub,
        tenant: claims.tenant,
        email: claims.email,
    };
    let no_cache = [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")];
    Ok((no_cache, Json(answer)).into_response())
}

/// rs-authentication's answer, field for field.
#[derive(Serialize)]
struct TokenAnswer {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    role: Role,
    scope: String,
    sub: String,
    tenant: String,
    email: String,
}

// ---- configuration ------------------------------------------------------------------------

/// Everything the demo needs: where to listen, the keys, the OAuth client and the users.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Where to listen (`REGARDS_DEMO_ADDR`).
    pub addr: SocketAddr,
    /// Verifies the bearer tokens of the protected routes.
    pub verifier: Verifier,
    /// Mints the tokens of the token endpoint; its validity is the answer's `expires_in`.
    pub issuer: TokenIssuer,
    /// The OAuth client id expected in `Authorization: Basic`.
    pub client_id: String,
    /// The OAuth client secret expected in `Authorization: Basic`.
    pub client_secret: String,
    /// Who can get a token, with which role on which tenant.
    pub users: Vec<DemoUser>,
    /// Requests that take longer are answered with 408 (30 s unless set).
    pub request_timeout: Duration,
}

/// A user: a login (also the token's `sub` and `email`), a password, a role per tenant.
#[derive(Debug, Clone)]
pub struct DemoUser {
    /// The login, an e-mail address in REGARDS.
    pub login: String,
    /// The password.
    pub password: String,
    /// The user's role on each tenant (project) it belongs to.
    pub roles: BTreeMap<String, Role>,
}

impl DemoUser {
    /// A user with a role on each of the given tenants.
    pub fn new<'a>(
        login: &str,
        password: &str,
        roles: impl IntoIterator<Item = (&'a str, Role)>,
    ) -> DemoUser {
        DemoUser {
            login: login.to_owned(),
            password: password.to_owned(),
            roles: roles
                .into_iter()
                .map(|(tenant, role)| (tenant.to_owned(), role))
                .collect(),
        }
    }
}

impl DemoConfig {
    /// All defaults: REGARDS' public development key (logged as such), client `client` /
    /// `secret`, 7200 s tokens, the built-in users, `127.0.0.1:8080`.
    pub fn development() -> DemoConfig {
        tracing::warn!(
            "no JWT_SIGNING_KEY_* is set: signing and verifying tokens with REGARDS' public \
             development key; set JWT_SIGNING_KEY_HS512 to use your own"
        );
        let verifier = Verifier::builder()
            .hs512(REGARDS_DEVELOPMENT_KEY)
            .allow_development_key()
            .build()
            .expect("the development key is a valid HS512 key");
        DemoConfig::with_keys(verifier, TokenIssuer::development())
    }

    /// The defaults of [`development`](Self::development) around the given keys.
    pub fn with_keys(verifier: Verifier, issuer: TokenIssuer) -> DemoConfig {
        DemoConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            verifier,
            issuer,
            client_id: "client".into(),
            client_secret: "secret".into(),
            request_timeout: Duration::from_secs(30),
            users: vec![
                DemoUser::new(
                    "admin@regards.fr",
                    "admin",
                    [
                        ("project1", Role::ProjectAdmin),
                        ("project2", Role::RegisteredUser),
                    ],
                ),
                DemoUser::new(
                    "user@regards.fr",
                    "user",
                    [("project1", Role::RegisteredUser)],
                ),
                DemoUser::new(
                    "root@regards.fr",
                    "root",
                    [("instance", Role::InstanceAdmin)],
                ),
            ],
        }
    }

    /// [`development`](Self::development), changed by the environment variables listed in the
    /// module docs. The error says which variable to fix.
    pub fn from_env() -> Result<DemoConfig, String> {
        let any_key_set = Algorithm::ALL
            .iter()
            .any(|algorithm| std::env::var_os(algorithm.env_var()).is_some());
        let mut config = if any_key_set {
            keys_from_env()?
        } else {
            DemoConfig::development()
        };
        if let Some(addr) = env_var("REGARDS_DEMO_ADDR")? {
            config.addr = addr.parse().map_err(|_| {
                "REGARDS_DEMO_ADDR is not an address and port like 127.0.0.1:8080".to_owned()
            })?;
        }
        if let Some(client_id) = env_var("REGARDS_CLIENT_ID")? {
            config.client_id = client_id;
        }
        if let Some(client_secret) = env_var("REGARDS_CLIENT_SECRET")? {
            config.client_secret = client_secret;
        }
        if let Some(validity) = env_var("REGARDS_TOKEN_VALIDITY")? {
            let seconds = validity.parse::<u64>().ok().filter(|&s| s > 0).ok_or(
                "REGARDS_TOKEN_VALIDITY must be a positive number of seconds (REGARDS uses 7200)",
            )?;
            config.issuer = config.issuer.with_validity(Duration::from_secs(seconds));
        }
        if let Some(path) = env_var("REGARDS_DEMO_USERS")? {
            config.users = read_users(&path)?;
        }
        Ok(config)
    }
}

/// The defaults with the operator's keys: the verifier takes every
/// `JWT_SIGNING_KEY_*`, the issuer signs with the HS512 one, as rs-authentication does.
fn keys_from_env() -> Result<DemoConfig, String> {
    let verifier = Verifier::builder()
        .keys_from_env()
        // A demo may run with the public key on purpose; the crate logs a warning if so.
        .allow_development_key()
        .build()
        .map_err(|error| error.to_string())?;
    let key = std::env::var(Algorithm::HS512.env_var()).map_err(|_| {
        "the demo mints HS512 tokens as REGARDS does: set JWT_SIGNING_KEY_HS512 too".to_owned()
    })?;
    let issuer = if key == REGARDS_DEVELOPMENT_KEY {
        TokenIssuer::development()
    } else {
        TokenIssuer::new(Algorithm::HS512, key).map_err(|error| error.to_string())?
    };
    Ok(DemoConfig::with_keys(verifier, issuer))
}

/// A variable that is set and not empty.
fn env_var(name: &str) -> Result<Option<String>, String> {
    match std::env::var(name) {
        Ok(value) if value.is_empty() => Err(format!("{name} is empty: unset it or give a value")),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{name} is not valid UTF-8")),
    }
}

/// Reads a users file: `[{"login": ..., "password": ..., "roles": {"<tenant>": "<ROLE>"}}]`.
fn read_users(path: &str) -> Result<Vec<DemoUser>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        login: String,
        password: String,
        roles: BTreeMap<String, String>,
    }
    let shape =
        r#"a JSON array of {"login": "...", "password": "...", "roles": {"<tenant>": "<ROLE>"}}"#;
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("REGARDS_DEMO_USERS: cannot read {path}: {error}"))?;
    let entries: Vec<Entry> = serde_json::from_str(&text)
        .map_err(|error| format!("REGARDS_DEMO_USERS: {path} is not {shape}: {error}"))?;
    let mut users: Vec<DemoUser> = Vec::with_capacity(entries.len());
    for Entry {
        login,
        password,
        roles,
    } in entries
    {
        let blank = [&login, &password]
            .into_iter()
            .chain(roles.keys())
            .chain(roles.values());
        if blank.into_iter().any(String::is_empty) || users.iter().any(|u| u.login == login) {
            return Err(format!(
                "REGARDS_DEMO_USERS: {path} has an empty field or a login listed twice"
            ));
        }
        let roles = roles
            .iter()
            .map(|(tenant, role)| (tenant.as_str(), Role::from_name(role)));
        users.push(DemoUser::new(&login, &password, roles));
    }
    Ok(users)
}

/// Installs the Ctrl-C (SIGINT) and SIGTERM handlers now, so that a signal sent as soon as the
/// demo says it listens is caught; the future resolves on the first of them, and the server
/// then stops accepting and finishes its requests.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutting down");
    })
}

/// Resolves on Ctrl-C: the server then stops accepting and finishes its requests.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
}
