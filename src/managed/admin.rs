//! The conversation with rs-admin, as REGARDS' `RemoteAuthoritiesProvider` and tenant resolver
//! hold it: every call authenticated with a system token minted for the project, answers read
//! with a size cap and a timeout, and parsed into the few members the decision needs.

use std::borrow::Cow;
use std::collections::HashSet;
use std::error::Error;
use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};
use tower_service::Service;

use super::endpoint::Endpoints;
use super::error::AdminError;
use super::patterns::{MAX_PATTERN_LENGTH, MAX_PATTERNS_PER_ROLE, Refusal};
use super::rights::{AdminRole, GrantSet};
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

/// What `GET /roles/{role}/resources/{microservice}` says of a role.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RoleGrants {
    /// The declared endpoints the role is granted, and how many granted endpoints this
    /// version does not declare (registered by an older one).
    Granted { set: GrantSet, undeclared: usize },
    /// rs-admin's own 404 (its `{"messages":[...]}` body): it does not know the role.
    Unknown,
}

/// How many bytes the answers of one refresh may still take, in all.
#[derive(Debug)]
pub(crate) struct ReadBudget {
    left: usize,
}

impl ReadBudget {
    pub(crate) fn new(bytes: usize) -> Self {
        ReadBudget { left: bytes }
    }
}

/// The most of a 404's body read to tell rs-admin's own answer from a gateway's.
const NOT_FOUND_BODY: usize = 16 << 10;

impl AdminClient {
    /// `POST /resources/microservices/{microservice}` with the service's resource mappings.
    pub(crate) async fn register(&self, project: &str, body: Vec<u8>) -> Result<(), AdminError> {
        let url = format!(
            "{}/resources/microservices/{}",
            self.admin,
            segment(&self.microservice)
        );
        self.call(Method::POST, url, project, Some(body), None)
            .await?;
        Ok(())
    }

    /// `GET /roles`: the project's roles.
    pub(crate) async fn roles(
        &self,
        project: &str,
        budget: &mut ReadBudget,
    ) -> Result<Vec<AdminRole>, AdminError> {
        let url = format!("{}/roles", self.admin);
        let body = self
            .call(Method::GET, url, project, None, Some(budget))
            .await?;
        off_runtime(move || read_roles(&body)).await
    }

    /// `GET /roles/{name}/resources/{microservice}`: the endpoints of this service the role
    /// REGARDS reads under `name` is granted, read straight into a [`GrantSet`] of `endpoints`
    /// (the answer is dropped as soon as it is read).
    pub(crate) async fn role_grants(
        &self,
        project: &str,
        name: &str,
        endpoints: &Arc<Endpoints>,
        budget: &mut ReadBudget,
    ) -> Result<RoleGrants, AdminError> {
        let url = format!(
            "{}/roles/{}/resources/{}",
            self.admin,
            segment(name),
            segment(&self.microservice)
        );
        let token = self.issuer.system_token(&self.microservice, project);
        let request = request(Method::GET, url, &token, None)?;
        let (status, body) = tokio::time::timeout(
            self.timeout,
            self.exchange(request, Some(budget), StatusCode::NOT_FOUND),
        )
        .await
        .map_err(|_| AdminError::Timeout)??;
        if status == StatusCode::NOT_FOUND {
            // A gateway or proxy without the route answers 404 too: only rs-admin's own
            // answer says the role is unknown.
            return match is_regards_error(&body) {
                true => Ok(RoleGrants::Unknown),
                false => Err(AdminError::Status(status)),
            };
        }
        let (microservice, endpoints) = (self.microservice.clone(), endpoints.clone());
        off_runtime(move || read_grants(&body, &microservice, &endpoints)).await
    }

    /// `GET {rs-admin-instance}/tenants/{microservice}`: the active projects of this service,
    /// each once, at most `most` of them, in rs-admin-instance's order.
    pub(crate) async fn projects(&self, most: usize) -> Result<Vec<String>, AdminError> {
        let Some(instance) = &self.instance else {
            return Ok(Vec::new());
        };
        let url = format!("{instance}/tenants/{}", segment(&self.microservice));
        let body = self.call(Method::GET, url, NO_TENANT, None, None).await?;
        off_runtime(move || read_projects(&body, most)).await
    }

    /// Sends one request with a fresh system token for `tenant`; the body of a 2xx answer,
    /// counted against `budget` if given.
    async fn call(
        &self,
        method: Method,
        url: String,
        tenant: &str,
        body: Option<Vec<u8>>,
        budget: Option<&mut ReadBudget>,
    ) -> Result<Bytes, AdminError> {
        let token = self.issuer.system_token(&self.microservice, tenant);
        let request = request(method, url, &token, body)?;
        let (_, body) =
            tokio::time::timeout(self.timeout, self.exchange(request, budget, StatusCode::OK))
                .await
                .map_err(|_| AdminError::Timeout)??;
        Ok(body)
    }

    /// Sends `request`; the status and body of a success, or of an answer with the status
    /// `also` (read up to [`NOT_FOUND_BODY`]). The body is read up to the answer size cap and
    /// what `budget` has left, and taken from it.
    async fn exchange(
        &self,
        request: Request<Full<Bytes>>,
        budget: Option<&mut ReadBudget>,
        also: StatusCode,
    ) -> Result<(StatusCode, Bytes), AdminError> {
        let mut transport = self.transport.clone();
        std::future::poll_fn(|cx| transport.poll_ready(cx))
            .await
            .map_err(|error| AdminError::Transport(chain(&error)))?;
        let response = transport
            .call(request)
            .await
            .map_err(|error| AdminError::Transport(chain(&error)))?;
        let (parts, body) = response.into_parts();
        let answer_cap = if parts.status.is_success() {
            self.max_response
        } else if parts.status == also {
            self.max_response.min(NOT_FOUND_BODY)
        } else {
            return Err(AdminError::Status(parts.status));
        };
        let left = budget.as_ref().map_or(usize::MAX, |budget| budget.left);
        match Limited::new(body, answer_cap.min(left)).collect().await {
            Ok(collected) => {
                let body = collected.to_bytes();
                if let Some(budget) = budget {
                    budget.left -= body.len();
                }
                Ok((parts.status, body))
            }
            Err(error) if error.is::<LengthLimitError>() => {
                Err(AdminError::BadAnswer(if left < answer_cap {
                    "the answers of one refresh are larger than the refresh size cap"
                } else {
                    "the answer is larger than the size cap"
                }))
            }
            Err(error) => Err(AdminError::Transport(chain(error.as_ref()))),
        }
    }
}

/// Runs `read` on a blocking thread: reading an answer of up to the size cap (4 MiB by
/// default) is CPU work the runtime's workers must not be held by.
async fn off_runtime<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, AdminError> + Send + 'static,
) -> Result<T, AdminError> {
    tokio::task::spawn_blocking(read)
        .await
        .unwrap_or(Err(AdminError::Transport(
            "the runtime is shutting down".into(),
        )))
}

/// A request to rs-admin, authenticated with `token`.
fn request(
    method: Method,
    url: String,
    token: &str,
    body: Option<Vec<u8>>,
) -> Result<Request<Full<Bytes>>, AdminError> {
    let mut request = Request::builder()
        .method(method)
        .uri(url)
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(ACCEPT, "application/json");
    if body.is_some() {
        request = request.header(CONTENT_TYPE, "application/json");
    }
    request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|_| AdminError::Transport("the request URL is not valid".into()))
}

/// Whether `body` is REGARDS' error answer (`ServerErrorResponse`: `{"messages":[...]}`).
pub(crate) fn is_regards_error(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct ServerErrorResponse {
        #[allow(dead_code)]
        messages: Vec<de::IgnoredAny>,
    }
    serde_json::from_slice::<ServerErrorResponse>(body).is_ok()
}

/// rs-admin's roles (`GET /roles`), as the decision needs them.
pub(crate) fn read_roles(body: &[u8]) -> Result<Vec<AdminRole>, AdminError> {
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
                authorized_addresses: content
                    .authorized_addresses
                    .map_or(Ok(Vec::new()), |read| read.0),
            })
        })
        .collect()
}

/// A role's `authorizedAddresses`, read within the budgets: past the most patterns a role may
/// have, or a pattern past the longest, none is kept (the role is refused anyway), so that a
/// roles answer of a million tiny patterns costs no more than a count.
struct AuthorizedAddresses(Result<Vec<String>, Refusal>);

impl<'de> Deserialize<'de> for AuthorizedAddresses {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Patterns;
        impl<'de> Visitor<'de> for Patterns {
            type Value = AuthorizedAddresses;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of address patterns")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Self::Value, A::Error> {
                let mut kept = Ok(Vec::new());
                while let Some(pattern) = items.next_element::<Cow<'de, str>>()? {
                    kept = match kept {
                        Ok(_) if pattern.len() > MAX_PATTERN_LENGTH => Err(Refusal::TooLong),
                        Ok(patterns) if patterns.len() == MAX_PATTERNS_PER_ROLE => {
                            Err(Refusal::TooMany)
                        }
                        Ok(mut patterns) => {
                            patterns.push(pattern.into_owned());
                            Ok(patterns)
                        }
                        refused => refused,
                    };
                }
                Ok(AuthorizedAddresses(kept))
            }
        }
        deserializer.deserialize_seq(Patterns)
    }
}

/// The endpoints of `endpoints` a role is granted (`GET /roles/{role}/resources/{ms}`), read
/// entry by entry into a [`GrantSet`]: the memory taken follows the number of declared
/// endpoints, not the size of the answer. Resources of other microservices, if rs-admin sends
/// any, are left out.
pub(crate) fn read_grants(
    body: &[u8],
    microservice: &str,
    endpoints: &Endpoints,
) -> Result<RoleGrants, AdminError> {
    let mut reader = GrantReader {
        microservice,
        endpoints,
        set: GrantSet::empty(endpoints.len()),
        undeclared: 0,
        problem: None,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let read = (&mut reader)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    match (read, reader.problem) {
        (Ok(()), _) => Ok(RoleGrants::Granted {
            set: reader.set,
            undeclared: reader.undeclared,
        }),
        (Err(_), Some(problem)) => Err(AdminError::BadAnswer(problem)),
        (Err(_), None) => Err(AdminError::BadAnswer("not the JSON REGARDS sends")),
    }
}

/// Reads a list of `EntityModel<ResourcesAccess>` into a grant set.
struct GrantReader<'a> {
    microservice: &'a str,
    endpoints: &'a Endpoints,
    set: GrantSet,
    undeclared: usize,
    /// Why the answer was refused, when it is JSON of the wrong content.
    problem: Option<&'static str>,
}

impl<'de> DeserializeSeed<'de> for &mut GrantReader<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for &mut GrantReader<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of resources")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        while let Some(Entity { content }) = entries.next_element::<Entity<ResourceJson<'de>>>()? {
            let ours = content
                .microservice
                .as_deref()
                .is_none_or(|owner| owner == self.microservice);
            if !ours {
                continue;
            }
            let (Some(resource), Some(verb)) = (content.resource, content.verb) else {
                self.problem = Some("a resource has no path or verb");
                return Err(de::Error::custom("a resource has no path or verb"));
            };
            match self.endpoints.position(&verb, &resource) {
                Some(index) => self.set.insert(index),
                None => self.undeclared += 1,
            }
        }
        Ok(())
    }
}

/// The projects of `GET /tenants/{microservice}`, empty names left out.
fn read_projects(body: &[u8], most: usize) -> Result<Vec<String>, AdminError> {
    let listed: Vec<Cow<'_, str>> = parse(body)?;
    let mut seen = HashSet::new();
    Ok(listed
        .into_iter()
        .filter(|project| !project.is_empty() && seen.insert(project.clone()))
        .take(most)
        .map(Cow::into_owned)
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

/// Whether a role's name can be sent to rs-admin as a path segment and reach the role: not a
/// dot segment (resolved away on the way, naming another URL), nor holding what Spring
/// Security's default firewall, in front of rs-admin, refuses even encoded (`/`, `\`, `%`,
/// `;`, control characters, U+2028 and U+2029): such a request would fail every refresh.
pub(crate) fn sendable_name(name: &str) -> bool {
    !matches!(name, "" | "." | "..")
        && !name.chars().any(|c| {
            matches!(c, '/' | '\\' | '%' | ';' | '\u{2028}' | '\u{2029}') || c.is_control()
        })
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
    authorized_addresses: Option<AuthorizedAddresses>,
}

#[derive(Deserialize)]
struct ParentJson {
    name: Option<String>,
}

/// The members of rs-admin's `ResourcesAccess` the decision uses, borrowed from the answer
/// where they hold no escape.
#[derive(Deserialize)]
struct ResourceJson<'a> {
    #[serde(borrow)]
    resource: Option<Cow<'a, str>>,
    #[serde(borrow)]
    verb: Option<Cow<'a, str>>,
    #[serde(borrow)]
    microservice: Option<Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::fixtures::endpoints;

    /// The indexes of the endpoints granted in `body`, and how many granted are undeclared.
    fn granted(body: &[u8]) -> Result<(Vec<usize>, usize), AdminError> {
        let declared = endpoints();
        match read_grants(body, "rs-notifier", &declared)? {
            RoleGrants::Granted { set, undeclared } => {
                let indexes = (0..declared.len()).filter(|&i| set.contains(i)).collect();
                Ok((indexes, undeclared))
            }
            RoleGrants::Unknown => unreachable!("read_grants reads a 200's body"),
        }
    }

    #[test]
    fn names_the_firewall_refuses_are_not_sendable() {
        for name in ["CURATOR", "ROLE_CURATOR", "R&D ops", "é", "a.b", "..."] {
            assert!(sendable_name(name), "{name}");
        }
        for name in [
            "",
            ".",
            "..",
            "R&D/ops",
            "a\\b",
            "50%",
            "a;b",
            "a\nb",
            "a\u{0}b",
            "a\u{2028}b",
        ] {
            assert!(!sendable_name(name), "{name:?}");
        }
    }

    #[test]
    fn listed_projects_are_read_once_each_up_to_the_most() {
        let mut listed = vec!["p1", "", "p2", "p1", "p3"];
        listed.extend(std::iter::repeat_n("p2", 10_000));
        let body = serde_json::to_vec(&listed).unwrap();
        assert_eq!(read_projects(&body, 1000).unwrap(), ["p1", "p2", "p3"]);
        assert_eq!(read_projects(&body, 2).unwrap(), ["p1", "p2"]);
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(segment("NOTIFIER_OPERATOR"), "NOTIFIER_OPERATOR");
        assert_eq!(segment("a/b c?d#é"), "a%2Fb%20c%3Fd%23%C3%A9");
        assert_eq!(
            segment(".."),
            "..",
            "names that are dot segments are never sent (access.rs)"
        );
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
            role.authorized_addresses.as_ref().map(|read| &read.0),
            Some(&Ok(vec![r"127\.0\.0\.1".to_owned()]))
        );
    }

    #[test]
    fn patterns_past_the_budgets_are_counted_not_kept() {
        let role = |addresses: Vec<String>| {
            let body =
                serde_json::json!([{"content": {"name": "R", "authorizedAddresses": addresses}}]);
            read_roles(body.to_string().as_bytes()).unwrap()[0]
                .authorized_addresses
                .clone()
        };
        let most = vec![r"10\..*".to_owned(); MAX_PATTERNS_PER_ROLE];
        assert_eq!(role(most.clone()), Ok(most));
        let many = vec!["a".to_owned(); 100_000];
        assert_eq!(role(many), Err(Refusal::TooMany));
        let long = vec!["1".repeat(MAX_PATTERN_LENGTH + 1), r"10\..*".to_owned()];
        assert_eq!(role(long), Err(Refusal::TooLong));
        assert!(read_roles(br#"[{"content":{"name":"R","authorizedAddresses":[1]}}]"#).is_err());
    }

    #[test]
    fn resources_read_from_gson_entity_models_into_the_grant_set() {
        let body = br#"[{"content":{"id":12,"description":"Import a rule","microservice":"rs-notifier",
            "controllerSimpleName":"RuleController","resource":"/rule","verb":"PUT","defaultRole":"PROJECT_ADMIN"},"links":[]},
            {"content":{"resource":"\/search","verb":"GET"},"links":[]}]"#;
        assert_eq!(granted(body), Ok((vec![0, 2], 0)));
    }

    #[test]
    fn grants_of_undeclared_endpoints_are_counted_and_ignored() {
        let body = br#"[{"content":{"resource":"/old","verb":"GET"}},{"content":{"resource":"/recipients","verb":"GET"}},
            {"content":{"resource":"/rule","verb":"DELETE"}}]"#;
        assert_eq!(granted(body), Ok((vec![1], 2)));
    }

    #[test]
    fn only_rs_admins_own_error_body_says_a_role_is_unknown() {
        assert!(is_regards_error(
            br#"{"messages":["Role CURATOR not found"]}"#
        ));
        assert!(is_regards_error(br#"{"messages":[]}"#));
        assert!(!is_regards_error(
            b"<html><body>404 Not Found</body></html>"
        ));
        assert!(!is_regards_error(br#"{"error":"Not Found","status":404}"#));
        assert!(!is_regards_error(b""));
    }

    #[test]
    fn roles_without_a_name_and_resources_without_a_verb_are_bad_answers() {
        assert_eq!(
            read_roles(br#"[{"content":{"name":""}}]"#),
            Err(AdminError::BadAnswer("a role has no name"))
        );
        assert_eq!(
            granted(br#"[{"content":{"resource":"/rule"}}]"#),
            Err(AdminError::BadAnswer("a resource has no path or verb"))
        );
        assert_eq!(
            granted(br#"[{"content":{"resource":"/rule","verb":"PUT"}}] x"#),
            Err(AdminError::BadAnswer("not the JSON REGARDS sends"))
        );
    }

    #[test]
    fn resources_of_other_microservices_are_left_out() {
        let body = br#"[{"content":{"resource":"/rule","verb":"PUT","microservice":"rs-catalog"}},
                        {"content":{"resource":"/recipients","verb":"GET","microservice":"rs-notifier"}},
                        {"content":{"resource":"/search","verb":"GET"}}]"#;
        assert_eq!(granted(body), Ok((vec![1, 2], 0)));
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
            let _ = read_grants(&body, "rs-notifier", &endpoints());
            let _ = read_projects(&body, 1000);
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
