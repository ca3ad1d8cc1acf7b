//! rs-authentication: the token endpoint `POST /oauth/token` (password grant), answering as
//! REGARDS does.

use std::fmt;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use regards_auth::Role;
use serde::{Deserialize, Serialize};

use super::config::DemoConfig;
use super::gateway::{Refusal, bad_request};

const TOKEN_PATH: &str = "/api/v1/rs-authentication/oauth/token";

/// The token endpoint. It sits outside the bearer-token check: it authenticates its client
/// with `Authorization: Basic`.
pub fn router(config: Arc<DemoConfig>) -> Router {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .with_state(config)
}

/// The parameters of a password grant, from the query string, a form or a JSON body.
/// `Debug` does not show the password.
#[derive(Default, Deserialize)]
pub struct TokenParams {
    grant_type: Option<String>,
    scope: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

impl fmt::Debug for TokenParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenParams")
            .field("grant_type", &self.grant_type)
            .field("scope", &self.scope)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl TokenParams {
    /// The parameters of a query string or a form body; empty values count as absent.
    pub fn from_form(input: &[u8]) -> Result<TokenParams, &'static str> {
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
                .map(TokenParams::without_empty_values)
                .map_err(|_| bad_request("The JSON body must be an object of string parameters")),
            _ => Err(Refusal(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the token request parameters as a query string, a form or JSON",
            )),
        }
    }

    /// Empty values count as absent, as in a form: `{"scope":""}` does not hide `?scope=`.
    fn without_empty_values(self) -> TokenParams {
        let given = |value: Option<String>| value.filter(|value| !value.is_empty());
        TokenParams {
            grant_type: given(self.grant_type),
            scope: given(self.scope),
            username: given(self.username),
            password: given(self.password),
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
    State(config): State<Arc<DemoConfig>>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Refusal> {
    authenticate_client(&config, &headers)?;
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
        role: claims.role().clone(),
        scope: tenant,
        sub: claims.sub().to_owned(),
        tenant: claims.tenant().to_owned(),
        email: claims.email().to_owned(),
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
