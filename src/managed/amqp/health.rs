//! Where the broker links stand: a value a service puts on its health endpoint.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};

use super::message::Dropped;

/// The state of an [`EventListener`](super::EventListener), from its
/// [`health`](super::EventListener::health). Serializes to JSON (times as seconds since the
/// Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrokerHealth {
    /// Whether every link the projects call for is connected and consuming.
    pub connected: bool,
    /// One entry per virtual host, by name.
    pub links: Vec<LinkHealth>,
    /// Deliveries read and acted upon.
    pub events: u64,
    /// Deliveries acknowledged and dropped, by reason.
    pub dropped: Vec<(Dropped, u64)>,
}

/// One virtual host's link.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkHealth {
    /// The virtual host.
    pub vhost: String,
    /// Whether it is connected and consuming.
    pub connected: bool,
    /// Since when, if connected.
    pub connected_since: Option<SystemTime>,
    /// How many times it connected.
    pub connections: u64,
    /// Why it was last lost or could not connect (never holds a password).
    pub last_error: Option<String>,
}

fn unix(time: Option<SystemTime>) -> Option<u64> {
    time.and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map(|since| since.as_secs())
}

struct DroppedCounts<'a>(&'a [(Dropped, u64)]);

impl Serialize for DroppedCounts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (reason, count) in self.0 {
            map.serialize_entry(reason.as_str(), count)?;
        }
        map.end()
    }
}

impl Serialize for BrokerHealth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut health = serializer.serialize_struct("BrokerHealth", 4)?;
        health.serialize_field("connected", &self.connected)?;
        health.serialize_field("links", &self.links)?;
        health.serialize_field("events", &self.events)?;
        health.serialize_field("dropped", &DroppedCounts(&self.dropped))?;
        health.end()
    }
}

impl Serialize for LinkHealth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut link = serializer.serialize_struct("LinkHealth", 5)?;
        link.serialize_field("vhost", &self.vhost)?;
        link.serialize_field("connected", &self.connected)?;
        link.serialize_field("connectedSince", &unix(self.connected_since))?;
        link.serialize_field("connections", &self.connections)?;
        link.serialize_field("lastError", &self.last_error)?;
        link.end()
    }
}

impl BrokerHealth {
    /// How many deliveries were dropped for `reason`.
    pub fn dropped(&self, reason: Dropped) -> u64 {
        self.dropped
            .iter()
            .find(|(known, _)| *known == reason)
            .map_or(0, |(_, count)| *count)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn broker_health_serializes_for_a_health_endpoint() {
        let health = BrokerHealth {
            connected: true,
            links: vec![LinkHealth {
                vhost: "regards.project1".into(),
                connected: true,
                connected_since: Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
                connections: 2,
                last_error: None,
            }],
            events: 3,
            dropped: vec![(Dropped::BadJson, 1)],
        };
        assert_eq!(
            serde_json::to_string(&health).unwrap(),
            r#"{"connected":true,"links":[{"vhost":"regards.project1","connected":true,"connectedSince":1800000000,"connections":2,"lastError":null}],"events":3,"dropped":{"bad_json":1}}"#
        );
        assert_eq!(health.dropped(Dropped::BadJson), 1);
        assert_eq!(health.dropped(Dropped::TooLarge), 0);
    }
}
