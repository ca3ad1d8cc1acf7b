//! [`Routes`]: declare each endpoint once, with its handler, its default role and its
//! description; get the axum router and the [`Endpoints`] to register from the same list.

use http::Method;

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};

use super::endpoint::{Endpoint, Endpoints, ResourceAccess, shape};
use super::error::ManagedConfigError;
use super::security::SECURITY_RESOURCES_PATH;

/// An axum router built from endpoint declarations, as REGARDS' controllers declare them with
/// `@RequestMapping` + `@ResourceAccess`: each path is written once, next to its handler, its
/// default role and its description.
///
/// ```
/// use axum::Json;
/// use regards_auth::{Claims, Role};
/// use regards_auth::managed::{ResourceAccess, Routes};
///
/// async fn import_rule(claims: Claims, Json(rule): Json<serde_json::Value>) -> String {
///     format!("rule stored for {}", claims.tenant())
/// }
/// async fn recipients() -> &'static str { "[]" }
///
/// let (router, endpoints) = Routes::<()>::new("RuleController")
///     .put("/rule", ResourceAccess::new("Import a notification rule", Role::ProjectAdmin), import_rule)
///     .controller("RecipientController")
///     .get("/recipients", ResourceAccess::new("List the recipients", Role::Exploit), recipients)
///     .build()?;
/// assert_eq!(endpoints.len(), 2);
/// # let _: axum::Router = router;
/// # Ok::<(), regards_auth::managed::ManagedConfigError>(())
/// ```
///
/// The router also serves `GET /security/resources`, the list of the declared endpoints every
/// REGARDS service answers there (see [`Endpoints::security_resources`]).
///
/// The router has no authorization of its own: add
/// [`ManagedAccess::layer`](super::ManagedAccess::layer) (built from the returned endpoints)
/// with `Router::route_layer` once every route is added: every route is then decided, an
/// unknown path still gets axum's 404, and a method declared on no endpoint of a path gets 403
/// (the layer cannot tell whether the router would have answered it).
pub struct Routes<S = ()> {
    controller: String,
    declared: Vec<(Endpoint, Option<MethodRouter<S>>)>,
}

impl<S> std::fmt::Debug for Routes<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.declared
                    .iter()
                    .map(|(endpoint, _)| endpoint.resource_id()),
            )
            .finish()
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    /// No endpoint yet; the next ones belong to `controller` (REGARDS groups endpoints by their
    /// controller's name in its administration pages, e.g. `RuleController`).
    pub fn new(controller: impl Into<String>) -> Self {
        Routes {
            controller: controller.into(),
            declared: Vec::new(),
        }
    }

    /// The endpoints declared from now on belong to `controller`.
    pub fn controller(mut self, controller: impl Into<String>) -> Self {
        self.controller = controller.into();
        self
    }

    /// Declares `method path`, served by `handler`.
    pub fn on<H, T>(
        mut self,
        method: Method,
        path: &str,
        access: ResourceAccess,
        handler: H,
    ) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let route = MethodFilter::try_from(method.clone())
            .ok()
            .map(|filter| axum::routing::on(filter, handler));
        let endpoint = Endpoint::new(method, path, self.controller.clone(), access);
        self.declared.push((endpoint, route));
        self
    }

    /// Declares `GET path` (which also answers `HEAD`).
    pub fn get<H: Handler<T, S>, T: 'static>(
        self,
        path: &str,
        access: ResourceAccess,
        handler: H,
    ) -> Self {
        self.on(Method::GET, path, access, handler)
    }

    /// Declares `POST path`.
    pub fn post<H: Handler<T, S>, T: 'static>(
        self,
        path: &str,
        access: ResourceAccess,
        handler: H,
    ) -> Self {
        self.on(Method::POST, path, access, handler)
    }

    /// Declares `PUT path`.
    pub fn put<H: Handler<T, S>, T: 'static>(
        self,
        path: &str,
        access: ResourceAccess,
        handler: H,
    ) -> Self {
        self.on(Method::PUT, path, access, handler)
    }

    /// Declares `PATCH path`.
    pub fn patch<H: Handler<T, S>, T: 'static>(
        self,
        path: &str,
        access: ResourceAccess,
        handler: H,
    ) -> Self {
        self.on(Method::PATCH, path, access, handler)
    }

    /// Declares `DELETE path`.
    pub fn delete<H: Handler<T, S>, T: 'static>(
        self,
        path: &str,
        access: ResourceAccess,
        handler: H,
    ) -> Self {
        self.on(Method::DELETE, path, access, handler)
    }

    /// Checks the declarations and builds the router and the endpoints.
    ///
    /// # Errors
    ///
    /// The [`ManagedConfigError`] of [`Endpoints::new`], or
    /// [`UnsupportedMethod`](ManagedConfigError::UnsupportedMethod) for a method axum does not
    /// route; checked before any route is added, so none of axum's panics is reached.
    pub fn build(self) -> Result<(Router<S>, Endpoints), ManagedConfigError> {
        let mut routes: Vec<(String, MethodRouter<S>)> = Vec::new();
        let mut endpoints = Vec::with_capacity(self.declared.len());
        for (endpoint, route) in self.declared {
            let route = route
                .ok_or_else(|| ManagedConfigError::UnsupportedMethod(endpoint.resource_id()))?;
            endpoints.push(endpoint);
            let path = endpoints
                .last()
                .map(|endpoint| endpoint.path().to_owned())
                .unwrap_or_default();
            routes.push((path, route));
        }
        // Checked first: axum panics on the mistakes `Endpoints` reports.
        let endpoints = Endpoints::new(endpoints)?;
        // REGARDS' endpoint list, which every service serves (merged with any other method
        // declared on its path).
        routes.push((
            SECURITY_RESOURCES_PATH.to_owned(),
            endpoints.security_resources_route(),
        ));
        // One axum route per path shape, with the parameter names of its first declaration
        // (axum, like any router, holds one template per shape).
        let mut by_shape: Vec<(String, String, MethodRouter<S>)> = Vec::new();
        for (path, route) in routes {
            let path_shape = shape(&path);
            match by_shape
                .iter()
                .position(|(known, _, _)| *known == path_shape)
            {
                Some(index) => {
                    let (known, first, merged) = by_shape.swap_remove(index);
                    by_shape.push((known, first, merged.merge(route)));
                }
                None => by_shape.push((path_shape, path, route)),
            }
        }
        let router = by_shape
            .into_iter()
            .fold(Router::new(), |router, (_, path, route)| {
                router.route(&path, route)
            });
        Ok((router, endpoints))
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;
    use crate::Role;

    fn access(role: Role) -> ResourceAccess {
        ResourceAccess::new("an endpoint", role)
    }

    async fn status(router: &Router, method: Method, path: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn one_declaration_gives_the_route_and_the_endpoint() {
        let (router, endpoints) = Routes::<()>::new("RuleController")
            .get("/rule", access(Role::ProjectAdmin), || async { "list" })
            .put("/rule", access(Role::ProjectAdmin), || async { "stored" })
            .controller("OtherController")
            .delete(
                "/rule/{id}",
                access(Role::Admin),
                |axum::extract::Path(id): axum::extract::Path<u32>| async move {
                    format!("deleted {id}")
                },
            )
            .build()
            .unwrap();
        assert_eq!(
            status(&router, Method::GET, "/rule").await,
            (StatusCode::OK, "list".into())
        );
        assert_eq!(
            status(&router, Method::PUT, "/rule").await,
            (StatusCode::OK, "stored".into())
        );
        assert_eq!(
            status(&router, Method::DELETE, "/rule/7").await,
            (StatusCode::OK, "deleted 7".into())
        );
        let ids: Vec<String> = endpoints.iter().map(Endpoint::resource_id).collect();
        assert_eq!(ids, ["/rule@GET", "/rule@PUT", "/rule/{id}@DELETE"]);
        assert_eq!(endpoints.get(2).unwrap().controller(), "OtherController");
        assert_eq!(endpoints.get(2).unwrap().access().role(), &Role::Admin);
    }

    #[tokio::test]
    async fn same_shape_with_other_names_routes_every_method() {
        let (router, endpoints) = Routes::<()>::new("RoleResourceController")
            .get(
                "/roles/{role_name}/resources/{microservice}",
                access(Role::ProjectAdmin),
                || async { "list" },
            )
            .delete(
                "/roles/{role_name}/resources/{resources_access_id}",
                access(Role::ProjectAdmin),
                || async { "revoked" },
            )
            .build()
            .unwrap();
        assert_eq!(
            status(&router, Method::GET, "/roles/R/resources/rs-notifier")
                .await
                .1,
            "list"
        );
        assert_eq!(
            status(&router, Method::DELETE, "/roles/R/resources/3")
                .await
                .1,
            "revoked"
        );
        assert_eq!(endpoints.len(), 2);
    }

    #[tokio::test]
    async fn the_router_lists_the_declared_endpoints_as_regards_does() {
        let (router, endpoints) = Routes::<()>::new("RuleController")
            .put("/rule", access(Role::ProjectAdmin), || async { "stored" })
            .post("/security/resources", access(Role::Admin), || async {
                "posted"
            })
            .build()
            .unwrap();
        let (status_code, body) = status(&router, Method::GET, "/security/resources").await;
        assert_eq!(status_code, StatusCode::OK);
        assert_eq!(body.as_bytes(), endpoints.registration_body());
        assert_eq!(
            status(&router, Method::POST, "/security/resources").await,
            (StatusCode::OK, "posted".into())
        );
    }

    #[test]
    fn mistakes_are_errors_not_axum_panics() {
        let duplicate = Routes::<()>::new("C")
            .get("/x", access(Role::Public), || async { "" })
            .get("/x", access(Role::Public), || async { "" })
            .build();
        assert_eq!(
            duplicate.err(),
            Some(ManagedConfigError::DuplicateEndpoint("/x@GET".into()))
        );
        let overlapping = Routes::<()>::new("C")
            .get("/x/{a}", access(Role::Public), || async { "" })
            .get("/x/{b}", access(Role::Public), || async { "" })
            .build();
        assert!(matches!(
            overlapping.err(),
            Some(ManagedConfigError::OverlappingPaths { .. })
        ));
        let custom = Routes::<()>::new("C")
            .get("/x", access(Role::Custom("CURATOR".into())), || async {
                ""
            })
            .build();
        assert!(matches!(
            custom.err(),
            Some(ManagedConfigError::DefaultRoleNotNative { .. })
        ));
        let colon = Routes::<()>::new("C")
            .get("/x/:id", access(Role::Public), || async { "" })
            .build();
        assert_eq!(
            colon.err(),
            Some(ManagedConfigError::InvalidPath("/x/:id".into()))
        );
    }
}
