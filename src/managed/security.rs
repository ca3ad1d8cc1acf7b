//! `GET /security/resources`: every REGARDS service lists its endpoints there, the same list it
//! registers with rs-admin (`SecurityResourcesController` of REGARDS' security starter).
//!
//! REGARDS gives that endpoint no `@ResourceAccess`: it is not registered, no administrator
//! grants it, and Spring lets any authenticated caller through (the PUBLIC identity of an
//! anonymous request with a `scope` included), after the address filter of the caller's role.
//! [`ManagedAccessLayer`](super::ManagedAccessLayer) decides it the same way: as an endpoint whose
//! default role is PUBLIC, which the address filter still applies to.

use axum::Router;
use axum::routing::{MethodRouter, get};
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request};

use super::endpoint::Endpoints;
use crate::Role;

/// The path of the endpoint list every REGARDS service serves, under its own root (behind the
/// gateway: `/api/v1/<microservice>/security/resources`).
pub const SECURITY_RESOURCES_PATH: &str = "/security/resources";

/// How the managed decision sees a request for no declared endpoint that is
/// `GET` (or `HEAD`) `/security/resources`: an endpoint with PUBLIC as its default role, at an
/// index no declared endpoint has (a PUBLIC default decides before any grant is read).
pub(crate) fn undeclared_endpoint<B>(request: &Request<B>) -> Option<(usize, &'static Role)> {
    static PUBLIC: Role = Role::Public;
    let listing = matches!(*request.method(), Method::GET | Method::HEAD)
        && request.uri().path() == SECURITY_RESOURCES_PATH;
    listing.then_some((usize::MAX, &PUBLIC))
}

impl Endpoints {
    /// A router that serves `GET /security/resources` with these endpoints' list, as REGARDS'
    /// services do: the JSON array of REGARDS `ResourceMapping`s they register with rs-admin,
    /// byte for byte. [`Routes::build`](super::Routes::build) adds it to the router it builds;
    /// merge this one into a router built by hand. Decided by
    /// [`ManagedAccessLayer`](super::ManagedAccessLayer) as REGARDS decides it: any
    /// authenticated caller, within its role's address filter.
    ///
    /// ```
    /// use http::Method;
    /// use regards_auth::Role;
    /// use regards_auth::managed::{Endpoint, Endpoints, ResourceAccess};
    ///
    /// let endpoints = Endpoints::new([Endpoint::new(Method::GET, "/recipients",
    ///     "RecipientController", ResourceAccess::new("List the recipients", Role::Exploit))])?;
    /// let router: axum::Router = axum::Router::new()
    ///     // .route("/recipients", get(recipients)) ...
    ///     .merge(endpoints.security_resources());
    /// # Ok::<(), regards_auth::managed::ManagedConfigError>(())
    /// ```
    pub fn security_resources<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new().route(SECURITY_RESOURCES_PATH, self.security_resources_route())
    }

    /// The `GET` route of [`security_resources`](Self::security_resources), for
    /// [`Routes::build`](super::Routes::build), which merges it with the routes declared on the
    /// same path.
    pub(crate) fn security_resources_route<S: Clone + Send + Sync + 'static>(
        &self,
    ) -> MethodRouter<S> {
        let body = Bytes::from(self.registration_body());
        get(move || {
            let body = body.clone();
            async move {
                (
                    [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                    body,
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use http::StatusCode;
    use tower::ServiceExt;

    use super::*;
    use crate::managed::{Endpoint, ResourceAccess};

    fn endpoints() -> Endpoints {
        Endpoints::new([Endpoint::new(
            Method::DELETE,
            "/rule/{id}",
            "RuleController",
            ResourceAccess::new("Delete a rule", Role::Exploit),
        )])
        .unwrap()
    }

    #[tokio::test]
    async fn security_resources_answers_the_registration_body() {
        let endpoints = endpoints();
        let request = Request::get(SECURITY_RESOURCES_PATH)
            .body(Body::empty())
            .unwrap();
        let response = endpoints
            .security_resources::<()>()
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        assert_eq!(body, endpoints.registration_body());
    }

    #[test]
    fn only_get_and_head_of_the_exact_path_are_the_listing() {
        let request = |method: Method, path: &str| {
            Request::builder()
                .method(method)
                .uri(path)
                .body(())
                .unwrap()
        };
        for (method, path, listing) in [
            (Method::GET, "/security/resources", true),
            (Method::HEAD, "/security/resources", true),
            (Method::POST, "/security/resources", false),
            (Method::GET, "/security/resources/", false),
            (Method::GET, "/security/Resources", false),
            (Method::GET, "/x/security/resources", false),
        ] {
            assert_eq!(
                undeclared_endpoint(&request(method.clone(), path)).is_some(),
                listing,
                "{method} {path}"
            );
        }
    }
}
