//! The endpoints a service exposes, each with its REGARDS default role and description
//! ([`ResourceAccess`], REGARDS' `@ResourceAccess`), and the matcher that finds the endpoint of
//! a request.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use http::Method;
use serde::Serialize;

use super::error::ManagedConfigError;
use super::security::SECURITY_RESOURCES_PATH;
use crate::role::Role;

/// What REGARDS' `@ResourceAccess` annotation says of an endpoint: a description for
/// administrators and the *default* role, the native role that is granted the endpoint when it
/// is first registered with rs-admin (administrators may then grant or revoke it per role).
///
/// The default role is one of REGARDS' native roles (PUBLIC, REGISTERED_USER, EXPLOIT, ADMIN,
/// PROJECT_ADMIN, INSTANCE_ADMIN); another role is refused when the endpoints are built.
///
/// ```
/// use regards_auth::Role;
/// use regards_auth::managed::ResourceAccess;
///
/// let access = ResourceAccess::new("Import a notification rule", Role::ProjectAdmin);
/// assert_eq!(access.role(), &Role::ProjectAdmin);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceAccess {
    description: Cow<'static, str>,
    role: Role,
}

impl ResourceAccess {
    /// An endpoint described by `description`, granted to `role` (and, through rs-admin's
    /// propagation, to the roles above it) until administrators decide otherwise.
    pub fn new(description: impl Into<Cow<'static, str>>, role: Role) -> Self {
        ResourceAccess {
            description: description.into(),
            role,
        }
    }

    /// The description shown to administrators.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The default role.
    pub fn role(&self) -> &Role {
        &self.role
    }
}

/// One REST endpoint of the service: HTTP method, path template, the controller it belongs to
/// (REGARDS groups endpoints by controller in its administration pages) and its
/// [`ResourceAccess`].
///
/// The path template uses axum's syntax, which is also Spring's: `/rule/{id}`, and is the path
/// the service itself serves, without the gateway's `/api/v1/<microservice>` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    method: Method,
    path: String,
    controller: String,
    access: ResourceAccess,
}

impl Endpoint {
    /// An endpoint.
    ///
    /// ```
    /// use http::Method;
    /// use regards_auth::Role;
    /// use regards_auth::managed::{Endpoint, ResourceAccess};
    ///
    /// let delete = Endpoint::new(Method::DELETE, "/rule/{id}", "RuleController",
    ///     ResourceAccess::new("Delete a rule", Role::ProjectAdmin));
    /// assert_eq!(delete.resource_id(), "/rule/{id}@DELETE");
    /// ```
    pub fn new(
        method: Method,
        path: impl Into<String>,
        controller: impl Into<String>,
        access: ResourceAccess,
    ) -> Self {
        Endpoint {
            method,
            path: path.into(),
            controller: controller.into(),
            access,
        }
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path template.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The controller's name.
    pub fn controller(&self) -> &str {
        &self.controller
    }

    /// The default role and description.
    pub fn access(&self) -> &ResourceAccess {
        &self.access
    }

    /// REGARDS' identifier of the endpoint: `<path>@<METHOD>`.
    pub fn resource_id(&self) -> String {
        format!("{}@{}", self.path, self.method)
    }
}

/// The methods declared on one path shape, each with its endpoint's index.
type MethodIndex = Vec<(Method, usize)>;

/// The HTTP methods rs-admin stores (Spring's `RequestMethod`).
const REGARDS_METHODS: [Method; 8] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
    Method::TRACE,
];

/// The declared endpoints of a service and the matcher that finds which one a request is for.
///
/// Built once at start-up (directly, or by [`Routes`](super::Routes) together with the axum
/// router); every mistake is a [`ManagedConfigError`] naming the endpoint to fix: a default role
/// that is not native, a path that does not start with `/` or is not a valid template, two
/// endpoints for the same method and path, templates that overlap (`/rule/{id}` and
/// `/rule/{name}`), an empty description or controller name, a method rs-admin does not store,
/// a `GET /security/resources` (every managed service serves that one itself, see
/// [`Endpoints::security_resources`]: declaring it is a duplicate).
///
/// Matching uses the router axum itself is built on (`matchit`), on the request's path as sent,
/// so an endpoint matches exactly the requests axum routes to it. A `HEAD` request matches the
/// `GET` endpoint of its path unless `HEAD` is declared, as axum and Spring serve it.
///
/// ```
/// use http::Method;
/// use regards_auth::Role;
/// use regards_auth::managed::{Endpoint, Endpoints, ResourceAccess};
///
/// let endpoints = Endpoints::new([
///     Endpoint::new(Method::PUT, "/rule", "RuleController",
///         ResourceAccess::new("Import a rule", Role::ProjectAdmin)),
///     Endpoint::new(Method::DELETE, "/rule/{id}", "RuleController",
///         ResourceAccess::new("Delete a rule", Role::ProjectAdmin)),
/// ])?;
/// assert_eq!(endpoints.find(&Method::DELETE, "/rule/12"), Some(1));
/// assert_eq!(endpoints.find(&Method::GET, "/rule"), None);
/// # Ok::<(), regards_auth::managed::ManagedConfigError>(())
/// ```
#[derive(Clone)]
pub struct Endpoints {
    list: Vec<Endpoint>,
    /// Path template -> the methods declared on it, with each endpoint's index in `list`.
    matcher: matchit::Router<MethodIndex>,
    /// Path template as declared -> the same, to read rs-admin's grants without a scan.
    by_template: HashMap<String, MethodIndex>,
}

impl Endpoints {
    /// Checks and indexes `endpoints`.
    ///
    /// # Errors
    ///
    /// A [`ManagedConfigError`] naming the first endpoint to fix (see the type's docs).
    pub fn new(endpoints: impl IntoIterator<Item = Endpoint>) -> Result<Self, ManagedConfigError> {
        let list: Vec<Endpoint> = endpoints.into_iter().collect();
        // Templates are matched by their shape: REGARDS names a segment differently on
        // different methods (`/roles/{role_name}/resources/{microservice}` on GET,
        // `.../{resources_access_id}` on DELETE), which is one path for a router.
        let mut by_shape: Vec<(String, &str, MethodIndex)> = Vec::new();
        let mut seen: HashMap<(Method, String), &str> = HashMap::new();
        for (index, endpoint) in list.iter().enumerate() {
            check(endpoint)?;
            if endpoint.method == Method::GET && endpoint.path == SECURITY_RESOURCES_PATH {
                return Err(ManagedConfigError::ReservedEndpoint(endpoint.resource_id()));
            }
            let shape = shape(&endpoint.path);
            let key = (endpoint.method.clone(), shape.clone());
            if let Some(first) = seen.insert(key, &endpoint.path) {
                return Err(if first == endpoint.path {
                    ManagedConfigError::DuplicateEndpoint(endpoint.resource_id())
                } else {
                    ManagedConfigError::OverlappingPaths {
                        path: endpoint.path.clone(),
                        with: first.to_owned(),
                    }
                });
            }
            let method = (endpoint.method.clone(), index);
            match by_shape.iter_mut().find(|(known, _, _)| *known == shape) {
                Some((_, _, methods)) => methods.push(method),
                None => by_shape.push((shape, &endpoint.path, vec![method])),
            }
        }
        let mut by_template: HashMap<String, MethodIndex> = HashMap::new();
        for (index, endpoint) in list.iter().enumerate() {
            by_template
                .entry(endpoint.path.clone())
                .or_default()
                .push((endpoint.method.clone(), index));
        }
        let mut matcher = matchit::Router::new();
        for (shape, path, methods) in by_shape {
            matcher
                .insert(shape, methods)
                .map_err(|error| match error {
                    matchit::InsertError::Conflict { with } => {
                        ManagedConfigError::OverlappingPaths {
                            path: path.to_owned(),
                            with,
                        }
                    }
                    _ => ManagedConfigError::InvalidPath(path.to_owned()),
                })?;
        }
        Ok(Endpoints {
            list,
            matcher,
            by_template,
        })
    }

    /// The index of the endpoint `method` and `path` are for, if one is declared.
    pub fn find(&self, method: &Method, path: &str) -> Option<usize> {
        let methods = self.matcher.at(path).ok()?.value;
        let exact = methods.iter().find(|(declared, _)| declared == method);
        let exact = match exact {
            None if method == Method::HEAD => {
                methods.iter().find(|(declared, _)| declared == Method::GET)
            }
            found => found,
        };
        exact.map(|&(_, index)| index)
    }

    /// The endpoint at `index` (as [`find`](Self::find) returns).
    pub fn get(&self, index: usize) -> Option<&Endpoint> {
        self.list.get(index)
    }

    /// The index of the endpoint declared with exactly `method` and `path` template.
    pub fn position(&self, method: &str, path: &str) -> Option<usize> {
        self.by_template
            .get(path)?
            .iter()
            .find(|(declared, _)| declared.as_str() == method)
            .map(|&(_, index)| index)
    }

    /// The declared endpoints, in declaration order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Endpoint> {
        self.list.iter()
    }

    /// How many endpoints are declared.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether none is declared.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The registration body rs-admin expects: the list of REGARDS `ResourceMapping`s.
    pub(crate) fn registration_body(&self) -> Vec<u8> {
        let mappings: Vec<ResourceMapping<'_>> =
            self.list.iter().map(ResourceMapping::from).collect();
        serde_json::to_vec(&mappings).expect("resource mappings serialize")
    }
}

impl fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(Endpoint::resource_id))
            .finish()
    }
}

/// A path template with its parameters named by position (`/roles/{p0}/resources/{p1}`) and its
/// catch-all named `{*p}`: two templates of the same shape match the same requests.
pub(crate) fn shape(path: &str) -> String {
    let mut shape = String::with_capacity(path.len());
    let mut index = 0;
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(length) = rest[start..].find('}') else {
            break;
        };
        shape.push_str(&rest[..start]);
        if rest[start + 1..].starts_with('*') {
            shape.push_str("{*p}");
        } else {
            shape.push_str(&format!("{{p{index}}}"));
            index += 1;
        }
        rest = &rest[start + length + 1..];
    }
    shape.push_str(rest);
    shape
}

fn check(endpoint: &Endpoint) -> Result<(), ManagedConfigError> {
    let id = || endpoint.resource_id();
    if endpoint.access.role.native_name().is_none() {
        return Err(ManagedConfigError::DefaultRoleNotNative {
            endpoint: id(),
            role: endpoint.access.role.to_string(),
        });
    }
    // Segments starting with `:` or `*` were axum 0.7's parameters; axum 0.8 refuses them.
    let old_syntax = endpoint
        .path
        .split('/')
        .any(|segment| segment.starts_with(':') || segment.starts_with('*'));
    if !endpoint.path.starts_with('/') || old_syntax {
        return Err(ManagedConfigError::InvalidPath(endpoint.path.clone()));
    }
    if !REGARDS_METHODS.contains(&endpoint.method) {
        return Err(ManagedConfigError::UnsupportedMethod(id()));
    }
    if endpoint.access.description.trim().is_empty() {
        return Err(ManagedConfigError::MissingDescription(id()));
    }
    if endpoint.controller.trim().is_empty() {
        return Err(ManagedConfigError::MissingController(id()));
    }
    Ok(())
}

/// REGARDS' `ResourceMapping` as its services send it (Gson, fields in declaration order).
#[derive(Serialize)]
struct ResourceMapping<'a> {
    #[serde(rename = "resourceAccess")]
    resource_access: ResourceAccessJson<'a>,
    #[serde(rename = "fullPath")]
    full_path: &'a str,
    #[serde(rename = "controllerSimpleName")]
    controller_simple_name: &'a str,
    method: &'a str,
    #[serde(rename = "authorizedRoles")]
    authorized_roles: [RoleAuthorityJson; 1],
}

/// `@ResourceAccess` as REGARDS' `ResourceAccessAdapter` writes it.
#[derive(Serialize)]
struct ResourceAccessJson<'a> {
    role: &'a str,
    description: &'a str,
}

/// REGARDS' `RoleAuthority` as Gson writes it (the field names are REGARDS' spelling).
#[derive(Serialize)]
struct RoleAuthorityJson {
    autority: String,
    #[serde(rename = "authorizedIpAdresses")]
    authorized_ip_adresses: [(); 0],
}

impl<'a> From<&'a Endpoint> for ResourceMapping<'a> {
    fn from(endpoint: &'a Endpoint) -> Self {
        let role = endpoint
            .access
            .role
            .native_name()
            .unwrap_or("PROJECT_ADMIN");
        ResourceMapping {
            resource_access: ResourceAccessJson {
                role,
                description: &endpoint.access.description,
            },
            full_path: &endpoint.path,
            controller_simple_name: &endpoint.controller,
            method: endpoint.method.as_str(),
            authorized_roles: [RoleAuthorityJson {
                autority: format!("ROLE_{role}"),
                authorized_ip_adresses: [],
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(method: Method, path: &str, role: Role) -> Endpoint {
        Endpoint::new(
            method,
            path,
            "RuleController",
            ResourceAccess::new("a rule", role),
        )
    }

    fn rules() -> Endpoints {
        Endpoints::new([
            endpoint(Method::GET, "/rule", Role::ProjectAdmin),
            endpoint(Method::PUT, "/rule", Role::ProjectAdmin),
            endpoint(Method::DELETE, "/rule/{id}", Role::ProjectAdmin),
            endpoint(Method::GET, "/recipients", Role::Exploit),
        ])
        .unwrap()
    }

    #[test]
    fn requests_match_their_method_and_template() {
        let endpoints = rules();
        assert_eq!(endpoints.find(&Method::GET, "/rule"), Some(0));
        assert_eq!(endpoints.find(&Method::PUT, "/rule"), Some(1));
        assert_eq!(endpoints.find(&Method::DELETE, "/rule/42"), Some(2));
        assert_eq!(endpoints.find(&Method::GET, "/recipients"), Some(3));
    }

    #[test]
    fn undeclared_methods_and_paths_match_nothing() {
        let endpoints = rules();
        assert_eq!(endpoints.find(&Method::POST, "/rule"), None);
        assert_eq!(endpoints.find(&Method::DELETE, "/rule"), None);
        assert_eq!(endpoints.find(&Method::GET, "/rule/"), None);
        assert_eq!(endpoints.find(&Method::GET, "/rule/42/x"), None);
        assert_eq!(endpoints.find(&Method::GET, "/Rule"), None);
        assert_eq!(endpoints.find(&Method::GET, ""), None);
    }

    #[test]
    fn head_matches_the_get_endpoint() {
        assert_eq!(rules().find(&Method::HEAD, "/recipients"), Some(3));
        assert_eq!(rules().find(&Method::HEAD, "/rule/1"), None);
    }

    #[test]
    fn default_role_must_be_native() {
        let error = Endpoints::new([endpoint(Method::GET, "/x", Role::Custom("CURATOR".into()))])
            .unwrap_err();
        assert_eq!(
            error,
            ManagedConfigError::DefaultRoleNotNative {
                endpoint: "/x@GET".into(),
                role: "CURATOR".into()
            }
        );
    }

    #[test]
    fn duplicate_and_overlapping_endpoints_are_refused() {
        let duplicate = Endpoints::new([
            endpoint(Method::GET, "/x", Role::Public),
            endpoint(Method::GET, "/x", Role::Admin),
        ]);
        assert_eq!(
            duplicate.unwrap_err(),
            ManagedConfigError::DuplicateEndpoint("/x@GET".into())
        );
        let overlapping = Endpoints::new([
            endpoint(Method::GET, "/rule/{id}", Role::Public),
            endpoint(Method::GET, "/rule/{name}", Role::Public),
        ]);
        assert_eq!(
            overlapping.unwrap_err(),
            ManagedConfigError::OverlappingPaths {
                path: "/rule/{name}".into(),
                with: "/rule/{id}".into()
            }
        );
    }

    #[test]
    fn declaring_the_endpoint_list_is_refused_as_reserved() {
        let declared = Endpoints::new([endpoint(Method::GET, "/security/resources", Role::Public)]);
        let error = declared.unwrap_err();
        assert_eq!(
            error,
            ManagedConfigError::ReservedEndpoint("/security/resources@GET".into())
        );
        assert!(error.to_string().contains("do not declare it"), "{error}");
        let other_method =
            Endpoints::new([endpoint(Method::POST, "/security/resources", Role::Admin)]);
        assert!(other_method.is_ok());
    }

    #[test]
    fn same_shape_with_other_parameter_names_on_other_methods_is_one_path() {
        // rs-admin's own endpoints name the last segment differently per method.
        let endpoints = Endpoints::new([
            endpoint(
                Method::GET,
                "/roles/{role_name}/resources/{microservice}",
                Role::Public,
            ),
            endpoint(
                Method::DELETE,
                "/roles/{role_name}/resources/{resources_access_id}",
                Role::ProjectAdmin,
            ),
            endpoint(Method::GET, "/roles/borrowables", Role::Public),
        ])
        .unwrap();
        assert_eq!(
            endpoints.find(&Method::GET, "/roles/X/resources/rs-notifier"),
            Some(0)
        );
        assert_eq!(
            endpoints.find(&Method::DELETE, "/roles/X/resources/12"),
            Some(1)
        );
        assert_eq!(endpoints.find(&Method::GET, "/roles/borrowables"), Some(2));
        assert_eq!(
            endpoints.position(
                "DELETE",
                "/roles/{role_name}/resources/{resources_access_id}"
            ),
            Some(1)
        );
    }

    #[test]
    fn shapes_name_parameters_by_position() {
        assert_eq!(shape("/a/{x}/b/{y}"), "/a/{p0}/b/{p1}");
        assert_eq!(shape("/files/{*rest}"), "/files/{*p}");
        assert_eq!(shape("/plain"), "/plain");
    }

    #[test]
    fn bad_paths_methods_descriptions_and_controllers_are_refused() {
        for (endpoint, expected) in [
            (
                endpoint(Method::GET, "rule", Role::Public),
                ManagedConfigError::InvalidPath("rule".into()),
            ),
            (
                endpoint(Method::GET, "/rule/{", Role::Public),
                ManagedConfigError::InvalidPath("/rule/{".into()),
            ),
            (
                endpoint(Method::CONNECT, "/rule", Role::Public),
                ManagedConfigError::UnsupportedMethod("/rule@CONNECT".into()),
            ),
            (
                Endpoint::new(
                    Method::GET,
                    "/rule",
                    "C",
                    ResourceAccess::new(" ", Role::Public),
                ),
                ManagedConfigError::MissingDescription("/rule@GET".into()),
            ),
            (
                Endpoint::new(
                    Method::GET,
                    "/rule",
                    "",
                    ResourceAccess::new("d", Role::Public),
                ),
                ManagedConfigError::MissingController("/rule@GET".into()),
            ),
        ] {
            assert_eq!(Endpoints::new([endpoint]).unwrap_err(), expected);
        }
    }

    #[test]
    fn registration_body_is_regards_resource_mapping_list() {
        let body = Endpoints::new([Endpoint::new(
            Method::DELETE,
            "/rule/{id}",
            "RuleController",
            ResourceAccess::new("Delete a rule", Role::Exploit),
        )])
        .unwrap()
        .registration_body();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"[{"resourceAccess":{"role":"EXPLOIT","description":"Delete a rule"},"fullPath":"/rule/{id}","controllerSimpleName":"RuleController","method":"DELETE","authorizedRoles":[{"autority":"ROLE_EXPLOIT","authorizedIpAdresses":[]}]}]"#
        );
    }
}
