//! The gateway's `-public` aliases. REGARDS' web client reaches a few endpoints under a
//! microservice name that no microservice has (`/api/v1/rs-admin-public/resources`): REGARDS'
//! gateway (`rs-gateway.properties` in rs-config) routes each of them, one path pattern at a
//! time, to the real microservice with the alias stripped (`StripPrefix=3`), so that only those
//! paths are reachable that way. The demo does the same with REGARDS' list: the request goes on
//! to `/api/v1/<microservice><path>` through the same router, so the bearer-token check and the
//! microservice's managed access decide it as they decide the direct path.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tower::ServiceExt;

use super::gateway::Refusal;

/// One route of REGARDS' gateway: `/api/v1/<alias><pattern>` goes to
/// `/api/v1/<microservice><path>`. In a pattern, `*` is one path segment and a final `/**` any
/// number of them, none included, as in Spring's path patterns.
struct PublicRoute {
    alias: &'static str,
    microservice: &'static str,
    pattern: &'static str,
}

const fn route(alias: &'static str, pattern: &'static str) -> PublicRoute {
    // Every alias is `<microservice>-public`.
    let microservice = match alias.as_bytes() {
        b"rs-dam-public" => "rs-dam",
        b"rs-admin-public" => "rs-admin",
        b"rs-admin-instance-public" => "rs-admin-instance",
        _ => panic!("an alias without its microservice"),
    };
    PublicRoute {
        alias,
        microservice,
        pattern,
    }
}

/// REGARDS' public routes, in its order (`spring.cloud.gateway.routes[0..=20]`).
const PUBLIC_ROUTES: [PublicRoute; 21] = [
    route("rs-dam-public", "/models/attributes"),
    route("rs-dam-public", "/models/*/attributes"),
    route("rs-dam-public", "/models/attributes/modeltype/**"),
    route("rs-admin-instance-public", "/projects/**"),
    route("rs-admin-instance-public", "/accounts/password"),
    route("rs-admin-instance-public", "/notifications"),
    route("rs-admin-instance-public", "/notifications/**"),
    route("rs-admin-instance-public", "/notifications/*/read"),
    route("rs-admin-instance-public", "/notifications/read/delete"),
    route("rs-admin-instance-public", "/notifications/all/read"),
    route("rs-admin-public", "/resources"),
    route("rs-admin-public", "/roles/borrowables"),
    route("rs-admin-public", "/notifications"),
    route("rs-admin-public", "/notifications/**"),
    route("rs-admin-public", "/notifications/*/read"),
    route("rs-admin-public", "/notifications/read/delete"),
    route("rs-admin-public", "/notifications/all/read"),
    route("rs-admin-public", "/users/myuser"),
    route("rs-admin-public", "/accesses"),
    route("rs-admin-public", "/accesses/verifyEmail/**"),
    route("rs-admin-public", "/accesses/settings"),
];

/// `routes` with the aliases in front: an alias path that REGARDS' gateway routes is sent on,
/// rewritten, into `routes`; any other path under an alias gets 404, as from REGARDS' gateway.
pub fn with_public_aliases(routes: Router) -> Router {
    let aliases: BTreeSet<&str> = PUBLIC_ROUTES.iter().map(|route| route.alias).collect();
    let forwarding = aliases.into_iter().fold(Router::new(), |router, alias| {
        router.route(&format!("/api/v1/{alias}/{{*path}}"), any(forward))
    });
    routes.clone().merge(forwarding.with_state(routes))
}

/// Sends `request` on to the microservice its alias path is routed to, or answers 404.
async fn forward(
    State(routes): State<Router>,
    Path(path): Path<String>,
    request: Request<Body>,
) -> Response {
    let Some(target) = target_path(request.uri(), &path) else {
        return Refusal(StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    // A fresh request: the alias route's path parameters and matched path must not reach the
    // microservice's handlers. Only the peer address is kept, for the roles' address filters.
    let (parts, body) = request.into_parts();
    let mut forwarded = Request::new(body);
    *forwarded.method_mut() = parts.method;
    *forwarded.uri_mut() = target;
    *forwarded.version_mut() = parts.version;
    *forwarded.headers_mut() = parts.headers;
    if let Some(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        forwarded.extensions_mut().insert(*peer);
    }
    match routes.oneshot(forwarded).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The rewritten URI (the query kept) when one of REGARDS' public routes takes `uri`, whose
/// part after the alias is `/` + `path`.
fn target_path(uri: &Uri, path: &str) -> Option<Uri> {
    // The alias is the third segment: `/api/v1/<alias>/...`.
    let alias = uri.path().split('/').nth(3)?;
    let route = PUBLIC_ROUTES
        .iter()
        .find(|route| route.alias == alias && matches(route.pattern, path))?;
    let query = uri
        .query()
        .map(|query| format!("?{query}"))
        .unwrap_or_default();
    format!("/api/v1/{}/{path}{query}", route.microservice)
        .parse()
        .ok()
}

/// Whether `path` (without its leading `/`) matches `pattern`. Empty, `.` and `..` segments
/// (written plainly or percent-encoded) match nothing: the alias must not reach beyond itself.
fn matches(pattern: &str, path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    if segments.iter().any(|segment| is_dot_or_empty(segment)) {
        return false;
    }
    let mut wanted: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    let open_ended = wanted.last() == Some(&"**");
    if open_ended {
        wanted.pop();
    }
    let fits = |(want, segment): (&&str, &&str)| *want == "*" || want == segment;
    if open_ended {
        segments.len() >= wanted.len() && wanted.iter().zip(&segments).all(fits)
    } else {
        segments.len() == wanted.len() && wanted.iter().zip(&segments).all(fits)
    }
}

fn is_dot_or_empty(segment: &str) -> bool {
    let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
    decoded.is_empty() || decoded == "." || decoded == ".."
}
