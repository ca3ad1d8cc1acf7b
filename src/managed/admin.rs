//! The conversation with rs-admin, as REGARDS' `RemoteAuthoritiesProvider` and tenant resolver
//! hold it: every call authenticated with a system token minted for the project, answers read
//! with a size cap and a timeout, and parsed into the few members the decision needs.

use std::error::Error;
use std::fmt::{self, Write as _};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tower_service::Service;

use super::error::AdminError;
use super::rights::{AdminResource, AdminRole};
use crate::TokenIssuer;
use crate::client::HttpTransport;

/// The tenant REGARDS' system tokens carry on calls that concern no project.
const NO_TENANT: &str = "_NOTENANT_";

/// A client of rs-admin (and rs-admin-instance, for project discovery).
#[derive(Clone)]
pub(crate) struct AdminClient {
    /// rs-admin's base URL, without a trailing `/`.
    pub(crate) admin: String,
    /// rs-admin-instance's base URL, without a trailing `/`.
    pub(crate) instance: Option<String>,
    pub(crate) microservice: String,
    pub(crate) issuer: TokenIssuer,
    pub(crate) transport: HttpTransport,
    pub(crate) timeout: Duration,
    pub(crate) max_response: usize,
}

impl fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminClient")
            .field("admin", &self.admin)
            .field("instance", &self.instance)
            .field("microservice", &self.microservice)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The most roles a project answer may list: each costs a call, and REGARDS projects have a
/// handful.
pub(crate) const MAX_ROLES: usize = 1000;

impl AdminClient {
    /// `POST /resources/microservices/{microservice}` with the service's resource mappings.
    pub(crate) async fn register(&self, project: &str, body: Vec<u8>) -> Result<(), AdminError> {
        let url = format!(
            "{}/resources/microservices/{}",
            self.admin,
            segment(&self.microservice)
        );
        self.call(Method::POST, url, project, Some(body)).await?;
        Ok(())
    }

    /// `GET /roles`: the project's roles.
    pub(crate) async fn roles(&self, project: &str) -> Result<Vec<AdminRole>, AdminError> {
        let url = format!("{}/roles", self.admin);
        let body = self.call(Method::GET, url, project, None).await?;
        read_roles(&body)
    }

    /// `GET /roles/{role}/resources/{microservice}`: the endpoints of this service `role` is
    /// granted; `None` if rs-admin no longer knows the role (deleted since it was listed).
    pub(crate) async fn role_resources(
        &self,
        project: &str,
        role: &str,
    ) -> Result<Option<Vec<AdminResource>>, AdminError> {
        let url = format!(
            "{}/roles/{}/resources/{}",
            self.admin,
            segment(role),
            segment(&self.microservice)
        );
        let body = match self.call(Method::GET, url, project, None).await {
            Ok(body) => body,
            Err(AdminError::Status(StatusCode::NOT_FOUND)) => return Ok(None),
            Err(error) => return Err(error),
        };
        read_resources(&body, &self.microservice).map(Some)
    }

    /// `GET {rs-admin-instance}/tenants/{microservice}`: the active projects of this service.
    pub(crate) async fn projects(&self) -> Result<Vec<String>, AdminError> {
        let Some(instance) = &self.instance else {
            return Ok(Vec::new());
        };
        let url = format!("{instance}/tenants/{}", segment(&self.microservice));
        let body = self.call(Method::GET, url, NO_TENANT, None).await?;
        read_projects(&body)
    }

    /// Sends one request with a fresh system token for `tenant`; the body of a 2xx answer.
    async fn call(
        &self,
        method: Method,
        url: String,
        tenant: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, AdminError> {
        let token = self.issuer.system_token(&self.microservice, tenant);
        let mut request = Request::builder()
            .method(method)
            .uri(url)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(ACCEPT, "application/json");
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|_| AdminError::Transport("the request URL is not valid".into()))?;
        tokio::time::timeout(self.timeout, self.exchange(request))
            .await
            .map_err(|_| AdminError::Timeout)?
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Bytes, AdminError> {
        let mut transport = self.transport.clone();
        std::future::poll_fn(|cx| transport.poll_ready(cx))
            .await
            .map_err(|error| AdminError::Transport(chain(&error)))?;
        let response = transport
            .call(request)
            .await
            .map_err(|error| AdminError::Transport(chain(&error)))?;
        let (parts, body) = response.into_parts();
        if !parts.status.is_success() {
            return Err(AdminError::Status(parts.status));
        }
        match Limited::new(body, self.max_response).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(error) if error.is::<LengthLimitError>() => Err(AdminError::BadAnswer(
                "the answer is larger than the size cap",
            )),
            Err(error) => Err(AdminError::Transport(chain(error.as_ref()))),
        }
    }
}

/// rs-admin's roles (`GET /roles`), as the decision needs them.
fn read_roles(body: &[u8]) -> Result<Vec<AdminRole>, AdminError> {
    let roles: Vec<Entity<RoleJson>> = parse(body)?;
    if roles.len() > MAX_ROLES {
        return Err(AdminError::BadAnswer("more than 1000 roles"));
    }
    roles
        .into_iter()
        .map(|Entity { content }| {
            let name = content.name.filter(|name| !name.is_empty());
            Ok(AdminRole {
                name: name.ok_or(AdminError::BadAnswer("a role has no name"))?,
                parent: content.parent_role.and_then(|parent| parent.name),
                native: content.is_native.unwrap_or(false),
                authorized_addresses: content.authorized_addresses.unwrap_or_default(),
            })
        })
        .collect()
}

/// The resources of `microservice` a role is granted (`GET /roles/{role}/resources/{ms}`);
/// those of other microservices, if rs-admin sends any, are left out.
fn read_resources(body: &[u8], microservice: &str) -> Result<Vec<AdminResource>, AdminError> {
    let resources: Vec<Entity<ResourceJson>> = parse(body)?;
    resources
        .into_iter()
        .filter(|Entity { content }| {
            content
                .microservice
                .as_deref()
                .is_none_or(|owner| owner == microservice)
        })
        .map(
            |Entity { content }| match (content.resource, content.verb) {
                (Some(resource), Some(verb)) => Ok(AdminResource { resource, verb }),
                _ => Err(AdminError::BadAnswer("a resource has no path or verb")),
            },
        )
        .collect()
}

/// The projects of `GET /tenants/{microservice}`, empty names left out.
fn read_projects(body: &[u8]) -> Result<Vec<String>, AdminError> {
    let projects: Vec<String> = parse(body)?;
    Ok(projects
        .into_iter()
        .filter(|project| !project.is_empty())
        .collect())
}

/// An error and its sources, on one line.
fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    serde_json::from_slice(body).map_err(|_| AdminError::BadAnswer("not the JSON REGARDS sends"))
}

/// `text` as one URL path segment: unreserved characters kept, every other byte percent-encoded.
fn segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

/// Spring HATEOAS' `EntityModel` as Gson writes it: the object under `content`, then `links`.
#[derive(Deserialize)]
struct Entity<T> {
    content: T,
}

/// The members of rs-admin's `Role` the decision uses (nulls read as absent).
#[derive(Deserialize)]
struct RoleJson {
    name: Option<String>,
    #[serde(rename = "parentRole")]
    parent_role: Option<ParentJson>,
    #[serde(rename = "isNative")]
    is_native: Option<bool>,
    #[serde(rename = "authorizedAddresses")]
    authorized_addresses: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ParentJson {
    name: Option<String>,
}

/// The members of rs-admin's `ResourcesAccess` the decision uses.
#[derive(Deserialize)]
struct ResourceJson {
    resource: Option<String>,
    verb: Option<String>,
    microservice: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(segment("NOTIFIER_OPERATOR"), "NOTIFIER_OPERATOR");
        assert_eq!(segment("a/b c?d#é"), "a%2Fb%20c%3Fd%23%C3%A9");
        assert_eq!(segment(".."), "..");
    }

    #[test]
    fn roles_parse_from_gson_entity_models() {
        let body = br#"[{"content":{"id":3,"name":"NOTIFIER_OPERATOR",
            "parentRole":{"id":2,"name":"REGISTERED_USER","parentRole":{"id":1,"name":"PUBLIC","isNative":true},"isNative":true},
            "authorizedAddresses":["127\\.0\\.0\\.1"],"isDefault":false,"isNative":false},
            "links":[{"rel":"self","href":"http://x/roles/NOTIFIER_OPERATOR"}]}]"#;
        let roles: Vec<Entity<RoleJson>> = parse(body).unwrap();
        let role = &roles[0].content;
        assert_eq!(role.name.as_deref(), Some("NOTIFIER_OPERATOR"));
        assert_eq!(
            role.parent_role.as_ref().unwrap().name.as_deref(),
            Some("REGISTERED_USER")
        );
        assert_eq!(role.is_native, Some(false));
        assert_eq!(
            role.authorized_addresses.as_deref(),
            Some(&[r"127\.0\.0\.1".to_owned()][..])
        );
    }

    #[test]
    fn resources_parse_from_gson_entity_models() {
        let body = br#"[{"content":{"id":12,"description":"Import a rule","microservice":"rs-notifier",
            "controllerSimpleName":"RuleController","resource":"/rule","verb":"PUT","defaultRole":"PROJECT_ADMIN"},"links":[]}]"#;
        let resources: Vec<Entity<ResourceJson>> = parse(body).unwrap();
        assert_eq!(resources[0].content.resource.as_deref(), Some("/rule"));
        assert_eq!(resources[0].content.verb.as_deref(), Some("PUT"));
    }

    #[test]
    fn roles_without_a_name_and_resources_without_a_verb_are_bad_answers() {
        assert_eq!(
            read_roles(br#"[{"content":{"name":""}}]"#),
            Err(AdminError::BadAnswer("a role has no name"))
        );
        assert_eq!(
            read_resources(br#"[{"content":{"resource":"/rule"}}]"#, "rs-notifier"),
            Err(AdminError::BadAnswer("a resource has no path or verb"))
        );
    }

    #[test]
    fn resources_of_other_microservices_are_left_out() {
        let body = br#"[{"content":{"resource":"/a","verb":"GET","microservice":"rs-catalog"}},
                        {"content":{"resource":"/b","verb":"GET","microservice":"rs-notifier"}},
                        {"content":{"resource":"/c","verb":"GET"}}]"#;
        let paths: Vec<String> = read_resources(body, "rs-notifier")
            .unwrap()
            .into_iter()
            .map(|resource| resource.resource)
            .collect();
        assert_eq!(paths, ["/b", "/c"]);
    }

    #[test]
    fn too_many_roles_are_a_bad_answer() {
        let one = r#"{"content":{"name":"R"}}"#;
        let body = format!("[{}]", vec![one; MAX_ROLES + 1].join(","));
        assert_eq!(
            read_roles(body.as_bytes()),
            Err(AdminError::BadAnswer("more than 1000 roles"))
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 512, ..Default::default() })]

        /// Whatever rs-admin sends, reading it answers (a value or a fixed error), never panics.
        #[test]
        fn any_answer_is_read_without_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = read_roles(&body);
            let _ = read_resources(&body, "rs-notifier");
            let _ = read_projects(&body);
        }

        /// JSON of roughly the right shape with arbitrary values and nulls, too.
        #[test]
        fn any_shaped_answer_is_read_without_panic(
            name in proptest::option::of(".{0,12}"),
            parent in proptest::option::of(".{0,12}"),
            native in proptest::option::of(proptest::bool::ANY),
            addresses in proptest::option::of(proptest::collection::vec(".{0,12}", 0..4)),
        ) {
            let role = serde_json::json!([{"content": {"name": name, "parentRole": parent.map(|p| serde_json::json!({"name": p})),
                "isNative": native, "authorizedAddresses": addresses}}]);
            let _ = read_roles(role.to_string().as_bytes());
        }
    }

    #[test]
    fn garbage_is_a_bad_answer() {
        assert_eq!(
            parse::<Vec<Entity<RoleJson>>>(b"<html>").err(),
            Some(AdminError::BadAnswer("not the JSON REGARDS sends"))
        );
        assert!(parse::<Vec<Entity<RoleJson>>>(br#"{"content":[]}"#).is_err());
    }
}
