//! Where managed access stands, per project: a value a service puts on its health endpoint.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// The state of a [`ManagedAccess`](super::ManagedAccess), from
/// [`health`](super::ManagedAccess::health). Serializes to JSON for a health endpoint (times as
/// seconds since the Unix epoch, the refresh period in seconds):
///
/// ```json
/// {"microservice":"rs-notifier","upToDate":true,"brokerLink":"connected","refreshPeriod":600,
///  "projects":[{"project":"project1","rights":"administered","registered":true,
///   "lastSuccess":1800000000,"lastFailure":null,"lastError":null,"consecutiveFailures":0}]}
/// ```
///
/// The broker link's details (per virtual host, events received and dropped) are in
/// `amqp::EventListener::health` (feature `amqp`).
///
/// ```
/// # use regards_auth::managed::Health;
/// fn ready(health: &Health) -> bool {
///     health.is_up_to_date()
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// The microservice name.
    pub microservice: String,
    /// Whether rs-admin's events reach the service over RabbitMQ (feature `amqp`).
    pub broker_link: BrokerLink,
    /// How often every project's rights are read again now: the safety period while the
    /// broker link is connected, the refresh period otherwise (see
    /// [`ManagedAccessBuilder::safety_refresh_period`](super::ManagedAccessBuilder::safety_refresh_period)).
    pub refresh_period: Duration,
    /// One entry per project served, by name.
    pub projects: Vec<ProjectHealth>,
}

impl Health {
    /// Whether every project is registered with rs-admin, decides from rs-admin's rights, and
    /// its last refresh succeeded.
    pub fn is_up_to_date(&self) -> bool {
        self.projects.iter().all(|project| {
            project.registered
                && project.rights == RightsSource::Administered
                && project.consecutive_failures == 0
        })
    }
}

/// Where one project stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProjectHealth {
    /// The project.
    pub project: String,
    /// What requests on this project are decided from.
    pub rights: RightsSource,
    /// Whether rs-admin accepted the endpoints' registration.
    pub registered: bool,
    /// When rights were last read from rs-admin.
    pub last_success: Option<SystemTime>,
    /// When the last registration or refresh failed.
    pub last_failure: Option<SystemTime>,
    /// Why (never holds a token).
    pub last_error: Option<String>,
    /// Failed attempts since the last success (0 when up to date).
    pub consecutive_failures: u32,
}

/// Whether rs-admin's events reach a [`ManagedAccess`](super::ManagedAccess), which sets how
/// often it reads rs-admin on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerLink {
    /// No `amqp::EventListener` follows rs-admin's events for this
    /// access: changes are followed by the periodic refresh (and on-demand refreshes).
    Absent,
    /// A listener follows the events: every link it needs is connected and consuming, so the
    /// periodic refresh is only a safety net.
    Connected,
    /// A listener is there but some link is down or not connected yet: events may be missed,
    /// so the periodic refresh is back to its own period until the link is up again.
    Disconnected,
}

impl BrokerLink {
    /// `"absent"`, `"connected"` or `"disconnected"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            BrokerLink::Absent => "absent",
            BrokerLink::Connected => "connected",
            BrokerLink::Disconnected => "disconnected",
        }
    }
}

impl Serialize for BrokerLink {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// What a project's requests are decided from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RightsSource {
    /// The rights rs-admin gave (the last ones read, if a refresh has failed since).
    Administered,
    /// The declared default roles, through the native role hierarchy: rs-admin has not been
    /// read yet for this project.
    Defaults,
    /// Nothing: rs-admin has not been read yet and the access is strict, so only system roles,
    /// INSTANCE_ADMIN and PROJECT_ADMIN pass, and anyone on an endpoint whose default role is
    /// PUBLIC.
    Refused,
}

impl RightsSource {
    /// `"administered"`, `"defaults"` or `"refused"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RightsSource::Administered => "administered",
            RightsSource::Defaults => "defaults",
            RightsSource::Refused => "refused",
        }
    }
}

impl Serialize for RightsSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Serialize for Health {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut health = serializer.serialize_struct("Health", 5)?;
        health.serialize_field("microservice", &self.microservice)?;
        health.serialize_field("upToDate", &self.is_up_to_date())?;
        health.serialize_field("brokerLink", &self.broker_link)?;
        health.serialize_field("refreshPeriod", &self.refresh_period.as_secs())?;
        health.serialize_field("projects", &self.projects)?;
        health.end()
    }
}

impl Serialize for ProjectHealth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let unix = |time: Option<SystemTime>| {
            time.and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                .map(|since| since.as_secs())
        };
        let mut project = serializer.serialize_struct("ProjectHealth", 7)?;
        project.serialize_field("project", &self.project)?;
        project.serialize_field("rights", &self.rights)?;
        project.serialize_field("registered", &self.registered)?;
        project.serialize_field("lastSuccess", &unix(self.last_success))?;
        project.serialize_field("lastFailure", &unix(self.last_failure))?;
        project.serialize_field("lastError", &self.last_error)?;
        project.serialize_field("consecutiveFailures", &self.consecutive_failures)?;
        project.end()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn health_serializes_for_a_health_endpoint() {
        let health = Health {
            microservice: "rs-notifier".into(),
            broker_link: BrokerLink::Connected,
            refresh_period: Duration::from_secs(600),
            projects: vec![ProjectHealth {
                project: "project1".into(),
                rights: RightsSource::Administered,
                registered: true,
                last_success: Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
                last_failure: None,
                last_error: None,
                consecutive_failures: 0,
            }],
        };
        assert_eq!(
            serde_json::to_string(&health).unwrap(),
            r#"{"microservice":"rs-notifier","upToDate":true,"brokerLink":"connected","refreshPeriod":600,"projects":[{"project":"project1","rights":"administered","registered":true,"lastSuccess":1800000000,"lastFailure":null,"lastError":null,"consecutiveFailures":0}]}"#
        );
    }
}
