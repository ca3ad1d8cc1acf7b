//! The gateway in front of the demo's services, as REGARDS' gateway: every microservice under
//! `/api/v1/<microservice>`, the bearer-token check, CORS for REGARDS' web client, a body limit
//! and a request timeout. Also the two things every service module shares: the table its
//! endpoints are declared in ([`Microservice`]) and REGARDS' error body ([`Refusal`]).

use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::handler::Handler;
use axum::http::Response;
use axum::http::header::{
    ACCEPT, AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, HeaderName,
    HeaderValue, WWW_AUTHENTICATE,
};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::{BoxError, Json, Router, middleware};
use regards_auth::managed::{Endpoints, ManagedAccess, ResourceAccess, Routes};
use regards_auth::{BearerAuthLayer, Role, Verifier};
use serde_json::json;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// Where REGARDS' gateway serves the microservices: `/api/v1/<microservice><path>`.
const API_PREFIX: &str = "/api/v1";
/// Requests with a larger body are refused with 413.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// A REGARDS microservice behind the gateway: its endpoints declared once, with REGARDS'
/// default role and description (`regards_auth::managed::Routes`), from which come both its
/// router and the list it registers with rs-admin.
pub struct Microservice<S = ()> {
    name: &'static str,
    routes: Routes<S>,
}

/// A microservice ready for the gateway: its router (not yet guarded) and its endpoints.
pub struct BuiltMicroservice {
    name: &'static str,
    router: Router,
    endpoints: Endpoints,
}

impl<S: Clone + Send + Sync + 'static> Microservice<S> {
    /// A microservice named as REGARDS' `spring.application.name` (`rs-notifier`), with no
    /// endpoint yet.
    pub fn new(name: &'static str) -> Self {
        Microservice {
            name,
            routes: Routes::new(name),
        }
    }

    /// Declares an endpoint (`@RequestMapping` + `@ResourceAccess(description, role)` on a
    /// method of `controller`) served by `handler`. Handlers read path parameters by
    /// position: REGARDS names the same segment differently on different methods.
    pub fn endpoint<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        role: Role,
        description: &'static str,
        controller: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let access = ResourceAccess::new(description, role);
        self.routes = self
            .routes
            .controller(controller)
            .on(method, path, access, handler);
        self
    }

    /// The microservice with its handlers' state given, ready for the gateway.
    pub fn with_state(self, state: S) -> BuiltMicroservice {
        let (router, endpoints) = self.routes.build().unwrap_or_else(|error| {
            panic!("the endpoint table of {} is wrong: {error}", self.name)
        });
        BuiltMicroservice {
            name: self.name,
            router: router.with_state(state),
            endpoints,
        }
    }
}

impl BuiltMicroservice {
    /// The microservice's name, its path prefix behind the gateway.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The endpoints, as declared.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Its router, each request decided by `access` (REGARDS-managed access), under
    /// `/api/v1/<name>`: the service sees its own paths, as behind REGARDS' gateway.
    pub fn guarded_by(self, access: &ManagedAccess) -> Router {
        let prefix = format!("{API_PREFIX}/{}", self.name);
        Router::new().nest(&prefix, self.router.route_layer(access.layer()))
    }
}

/// The gateway: `public` routes as they are (the token endpoint authenticates its client
/// itself), the microservices behind the bearer-token check, and around everything a request
/// timeout, a body limit and CORS.
pub fn gateway(
    verifier: Verifier,
    request_timeout: Duration,
    public: Router,
    microservices: impl IntoIterator<Item = Router>,
) -> Router {
    let protected = microservices
        .into_iter()
        .fold(Router::new(), Router::merge)
        // Anonymous requests naming a project (`scope`) are served as its PUBLIC user.
        .layer(BearerAuthLayer::new(verifier).allow_public());
    // REGARDS' `-public` aliases lead to the same routes, under the same checks.
    super::public_aliases::with_public_aliases(public.merge(protected))
        // Each layer wraps the ones before it. CORS is outermost: preflights are answered
        // without a token, and every answer, even a refusal, carries the CORS headers.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::map_response(regards_error_body))
        .layer(cors())
}

/// Gives every refusal REGARDS' body: the routes answer it themselves, but a body over the
/// limit (413), a timeout (408), an unknown path (404) or method (405) and axum's extractor
/// rejections come with an empty or plain-text body. The message is the status's reason.
async fn regards_error_body<B>(response: Response<B>) -> Response<Body>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response.map(Body::new);
    }
    let message = status.canonical_reason().unwrap_or("Request refused");
    let body = json!({ "messages": [message] }).to_string();
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}

/// What REGARDS' web client, served from another origin, needs: REGARDS' own CORS filter
/// (any origin, these methods and request headers, preflights cached an hour), plus the
/// answer headers a page may read besides the safelisted ones: `WWW-Authenticate`, to tell an
/// expired token (`error="invalid_token"`) from a missing one, and `Content-Disposition`,
/// the file name of a download.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            AUTHORIZATION,
            CONTENT_TYPE,
            ACCEPT,
            HeaderName::from_static("scope"),
        ])
        .expose_headers([WWW_AUTHENTICATE, CONTENT_DISPOSITION])
        .max_age(Duration::from_secs(3600))
}

/// A refused request, answered the REGARDS way: `{"messages":["<fixed message>"]}`. A 401
/// comes from the token endpoint, and asks for the client's Basic credentials.
#[derive(Debug, Clone, Copy)]
pub struct Refusal(pub StatusCode, pub &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> axum::response::Response {
        let Refusal(status, message) = self;
        let mut response = (status, Json(json!({ "messages": [message] }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            let challenge = HeaderValue::from_static(r#"Basic realm="regards""#);
            response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// Spring's default page size, and the largest it serves.
const DEFAULT_PAGE_SIZE: usize = 20;
const MAX_PAGE_SIZE: usize = 2000;

/// Spring's `page` (from 0) and `size` query parameters, with its defaults and bounds.
pub fn page_request(query: &str) -> Result<(usize, usize), Refusal> {
    let mut number = 0;
    let mut size = DEFAULT_PAGE_SIZE;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match &*name {
            "page" => &mut number,
            "size" => &mut size,
            _ => continue,
        };
        *slot = value
            .parse()
            .map_err(|_| Refusal(StatusCode::BAD_REQUEST, "page and size are whole numbers"))?;
    }
    if size == 0 {
        size = DEFAULT_PAGE_SIZE;
    }
    Ok((number, size.min(MAX_PAGE_SIZE)))
}

/// A 400 with a fixed message.
pub fn bad_request(message: &'static str) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, message)
}
