//! REGARDS' security and tenant events on the wire, both ways: reading a delivery (bounded,
//! never trusting it) and writing one exactly as REGARDS' publisher does.
//!
//! Since REGARDS 1.7 the tenant travels in the `regards.tenant` header and the body is the
//! event alone (the `TenantWrapper` body of older versions is gone); `__TypeId__` names the
//! event's Java class and `regards.converter` the JSON library that wrote it (`JACKSON`, the
//! default of these events' `@Event`, or `GSON`: for these classes both write the same object).

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use serde::Deserialize;

use super::topology::EventKind;

/// The header naming the tenant (project) a message is about.
const TENANT_HEADER: &str = "regards.tenant";
/// The header naming the JSON converter.
const CONVERTER_HEADER: &str = "regards.converter";
/// The header naming the event's Java class (Spring AMQP's).
const TYPE_HEADER: &str = "__TypeId__";
/// The type header of REGARDS before 1.7, still read by REGARDS.
const LEGACY_TYPE_HEADER: &str = "regards.type";
/// The longest project name followed (REGARDS' project names are short; a vhost name is at most
/// 255 bytes).
const MAX_PROJECT: usize = 200;

/// An event REGARDS publishes when rights or projects change, as an
/// [`EventPublisher`](super::EventPublisher) sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegardsEvent {
    /// `RoleEvent`: a role was created, changed or deleted in the project.
    Role {
        /// The role's name.
        role: String,
    },
    /// `ResourceAccessEvent`: a role's rights on a microservice's endpoints changed.
    ResourceAccess {
        /// The microservice whose endpoints are concerned.
        microservice: String,
        /// The role.
        role: String,
    },
    /// `ResourceAccessInit`: the project's security was initialised; services register again.
    ResourceAccessInit,
    /// `TenantCreatedEvent`: a project was created (instance-wide).
    TenantCreated {
        /// The new project.
        tenant: String,
    },
    /// `TenantDeletedEvent`: a project was deleted (instance-wide).
    TenantDeleted {
        /// The deleted project.
        tenant: String,
    },
}

impl RegardsEvent {
    pub(crate) fn kind(&self) -> EventKind {
        match self {
            RegardsEvent::Role { .. } => EventKind::Role,
            RegardsEvent::ResourceAccess { .. } => EventKind::ResourceAccess,
            RegardsEvent::ResourceAccessInit => EventKind::ResourceAccessInit,
            RegardsEvent::TenantCreated { .. } => EventKind::TenantCreated,
            RegardsEvent::TenantDeleted { .. } => EventKind::TenantDeleted,
        }
    }

    /// The body REGARDS' publisher writes for this event (Jackson, members in declaration
    /// order).
    #[allow(
        clippy::missing_panics_doc,
        reason = "never panics: serde_json fails to serialize a `Value` only when its writer \
                  fails, and a `Vec` never does"
    )]
    pub fn to_json(&self) -> Vec<u8> {
        let json = match self {
            RegardsEvent::Role { role } => serde_json::json!({ "role": role }),
            RegardsEvent::ResourceAccess { microservice, role } => {
                // Built in order: Jackson writes `microservice` then `roleName`.
                let mut object = serde_json::Map::new();
                object.insert("microservice".into(), microservice.as_str().into());
                object.insert("roleName".into(), role.as_str().into());
                serde_json::Value::Object(object)
            }
            RegardsEvent::ResourceAccessInit => serde_json::json!({}),
            RegardsEvent::TenantCreated { tenant } | RegardsEvent::TenantDeleted { tenant } => {
                serde_json::json!({ "tenant": tenant })
            }
        };
        serde_json::to_vec(&json).expect("a JSON value serializes")
    }

    /// The properties REGARDS' publisher sets on the message: JSON in UTF-8, the three REGARDS
    /// headers, persistent, priority 1 (REGARDS' default), the time in seconds, the instance
    /// name as `app_id`.
    pub(crate) fn properties(&self, tenant: &str, application_id: &str) -> BasicProperties {
        let mut headers = FieldTable::default();
        let text = |value: &str| AMQPValue::LongString(LongString::from(value.as_bytes()));
        headers.insert(TYPE_HEADER.into(), text(self.kind().java_class()));
        headers.insert(CONVERTER_HEADER.into(), text("JACKSON"));
        headers.insert(TENANT_HEADER.into(), text(tenant));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        BasicProperties::default()
            .with_content_type(ShortString::from("application/json"))
            .with_content_encoding(ShortString::from("UTF-8"))
            .with_headers(headers)
            .with_delivery_mode(2)
            .with_priority(1)
            .with_timestamp(now)
            .with_app_id(ShortString::try_new(application_id).unwrap_or_else(|_| "REGARDS".into()))
    }
}

/// A delivery that was read: the project it concerns and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    /// The tenant header (`instance` for tenant events).
    pub(crate) tenant: String,
    pub(crate) event: Event,
}

/// What a delivery says, with what REGARDS' handlers read of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    Role,
    ResourceAccess { microservice: Option<String> },
    ResourceAccessInit,
    TenantCreated(String),
    TenantDeleted(String),
}

/// Why a delivery was dropped; each has its counter in the listener's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Dropped {
    /// The body is larger than the configured cap.
    TooLarge,
    /// No `regards.tenant` header, or not a project name.
    NoTenant,
    /// `__TypeId__` missing or not the class this queue receives.
    UnknownType,
    /// `regards.converter` missing or neither `JACKSON` nor `GSON`.
    UnknownConverter,
    /// The body is not the event's JSON object.
    BadJson,
    /// An event about a project this service does not serve.
    UnservedProject,
    /// In MULTI vhost mode, an event naming a project whose events travel in another virtual
    /// host than the one it came in: whoever may write in one project's virtual host does not
    /// speak for another project.
    OtherVhost,
}

impl Dropped {
    /// All reasons, in order.
    pub const ALL: [Dropped; 7] = [
        Dropped::TooLarge,
        Dropped::NoTenant,
        Dropped::UnknownType,
        Dropped::UnknownConverter,
        Dropped::BadJson,
        Dropped::UnservedProject,
        Dropped::OtherVhost,
    ];

    /// A short name for logs and health: `too_large`, `no_tenant`, `unknown_type`,
    /// `unknown_converter`, `bad_json`, `unserved_project`, `other_vhost`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Dropped::TooLarge => "too_large",
            Dropped::NoTenant => "no_tenant",
            Dropped::UnknownType => "unknown_type",
            Dropped::UnknownConverter => "unknown_converter",
            Dropped::BadJson => "bad_json",
            Dropped::UnservedProject => "unserved_project",
            Dropped::OtherVhost => "other_vhost",
        }
    }
}

#[derive(Deserialize)]
struct ResourceAccessBody {
    microservice: Option<String>,
}

#[derive(Deserialize)]
struct TenantBody {
    tenant: Option<String>,
}

/// Reads a delivery from the queue of `expected` events: headers first, the body only if they
/// are right and it is small enough.
pub(crate) fn read(
    expected: EventKind,
    headers: Option<&FieldTable>,
    body: &[u8],
    max_size: usize,
) -> Result<Received, Dropped> {
    if body.len() > max_size {
        return Err(Dropped::TooLarge);
    }
    let header = |name: &str| headers.and_then(|headers| text(headers.inner().get(name)?));
    let tenant = header(TENANT_HEADER)
        .filter(|tenant| project_name(tenant))
        .ok_or(Dropped::NoTenant)?;
    let class = header(TYPE_HEADER).or_else(|| header(LEGACY_TYPE_HEADER));
    if class != Some(expected.java_class()) {
        return Err(Dropped::UnknownType);
    }
    if !matches!(header(CONVERTER_HEADER), Some("JACKSON" | "GSON")) {
        return Err(Dropped::UnknownConverter);
    }
    // One JSON object, as Jackson and Gson read an event (serde would take an array too).
    let object = body.trim_ascii_start().first() == Some(&b'{');
    let bad = |_| Dropped::BadJson;
    let event = match expected {
        EventKind::Role if object => {
            serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(bad)?;
            Event::Role
        }
        EventKind::ResourceAccess if object => {
            let body: ResourceAccessBody = serde_json::from_slice(body).map_err(bad)?;
            Event::ResourceAccess {
                microservice: body.microservice,
            }
        }
        EventKind::ResourceAccessInit if object => {
            serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(bad)?;
            Event::ResourceAccessInit
        }
        EventKind::TenantCreated | EventKind::TenantDeleted if object => {
            let body: TenantBody = serde_json::from_slice(body).map_err(bad)?;
            let project = body
                .tenant
                .filter(|tenant| project_name(tenant))
                .ok_or(Dropped::BadJson)?;
            if expected == EventKind::TenantCreated {
                Event::TenantCreated(project)
            } else {
                Event::TenantDeleted(project)
            }
        }
        _ => return Err(Dropped::BadJson),
    };
    Ok(Received {
        tenant: tenant.to_owned(),
        event,
    })
}

/// A header's text (Java's client writes strings as long strings).
fn text(value: &AMQPValue) -> Option<&str> {
    match value {
        AMQPValue::LongString(text) => std::str::from_utf8(text.as_bytes()).ok(),
        AMQPValue::ShortString(text) => Some(text.as_str()),
        _ => None,
    }
}

/// A name usable as a project (and in a virtual host name).
pub(crate) fn project_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_PROJECT && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> FieldTable {
        let mut table = FieldTable::default();
        for (name, value) in pairs {
            table.insert(
                (*name).into(),
                AMQPValue::LongString(LongString::from(value.as_bytes())),
            );
        }
        table
    }

    fn regards_headers(tenant: &str, kind: EventKind) -> FieldTable {
        headers(&[
            (TENANT_HEADER, tenant),
            (TYPE_HEADER, kind.java_class()),
            (CONVERTER_HEADER, "JACKSON"),
        ])
    }

    #[test]
    fn a_resource_access_event_names_its_microservice() {
        let headers = regards_headers("project1", EventKind::ResourceAccess);
        let received = read(
            EventKind::ResourceAccess,
            Some(&headers),
            br#"{"microservice":"rs-notifier","roleName":"NOTIFIER_OPERATOR"}"#,
            1024,
        )
        .unwrap();
        assert_eq!(received.tenant, "project1");
        assert_eq!(
            received.event,
            Event::ResourceAccess {
                microservice: Some("rs-notifier".into())
            }
        );
    }

    #[test]
    fn tenant_events_carry_the_project_in_the_body() {
        let headers = regards_headers("instance", EventKind::TenantCreated);
        let received = read(
            EventKind::TenantCreated,
            Some(&headers),
            br#"{"tenant":"project3"}"#,
            1024,
        )
        .unwrap();
        assert_eq!(received.event, Event::TenantCreated("project3".into()));
    }

    #[test]
    fn the_legacy_type_header_and_gson_are_read() {
        let headers = headers(&[
            (TENANT_HEADER, "project1"),
            (LEGACY_TYPE_HEADER, EventKind::Role.java_class()),
            (CONVERTER_HEADER, "GSON"),
        ]);
        let received = read(EventKind::Role, Some(&headers), br#"{"role":"X"}"#, 1024);
        assert_eq!(received.unwrap().event, Event::Role);
    }

    #[test]
    fn unreadable_deliveries_say_why() {
        let role = regards_headers("project1", EventKind::Role);
        let cases: Vec<(Option<FieldTable>, &[u8], Dropped)> = vec![
            (Some(role.clone()), &[b' '; 2000], Dropped::TooLarge),
            (None, br#"{"role":"X"}"#, Dropped::NoTenant),
            (
                Some(regards_headers("", EventKind::Role)),
                b"{}",
                Dropped::NoTenant,
            ),
            (
                Some(regards_headers("project1", EventKind::ResourceAccess)),
                b"{}",
                Dropped::UnknownType,
            ),
            (
                Some(headers(&[
                    (TENANT_HEADER, "project1"),
                    (TYPE_HEADER, EventKind::Role.java_class()),
                ])),
                b"{}",
                Dropped::UnknownConverter,
            ),
            (Some(role.clone()), b"{\"role\":", Dropped::BadJson),
            (Some(role.clone()), b"[\"X\"]", Dropped::BadJson),
            (Some(role.clone()), b"\xff\xfe", Dropped::BadJson),
            (Some(role), &[b'['; 1000], Dropped::BadJson),
        ];
        for (headers, body, expected) in cases {
            assert_eq!(
                read(EventKind::Role, headers.as_ref(), body, 1024),
                Err(expected),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn a_tenant_event_without_a_project_is_bad_json() {
        let headers = regards_headers("instance", EventKind::TenantDeleted);
        for body in [&b"{}"[..], br#"{"tenant":""}"#, br#"{"tenant":3}"#] {
            assert_eq!(
                read(EventKind::TenantDeleted, Some(&headers), body, 1024),
                Err(Dropped::BadJson)
            );
        }
    }

    #[test]
    fn published_events_are_read_back() {
        let events = [
            RegardsEvent::Role { role: "R".into() },
            RegardsEvent::ResourceAccess {
                microservice: "rs-notifier".into(),
                role: "R".into(),
            },
            RegardsEvent::ResourceAccessInit,
            RegardsEvent::TenantCreated { tenant: "p".into() },
            RegardsEvent::TenantDeleted { tenant: "p".into() },
        ];
        for event in events {
            let properties = event.properties("project1", "REGARDS");
            let body = event.to_json();
            assert!(read(event.kind(), properties.headers().as_ref(), &body, 1024).is_ok());
        }
    }
}
