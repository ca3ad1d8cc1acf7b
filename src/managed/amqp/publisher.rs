//! [`EventPublisher`]: sends REGARDS' security and tenant events as REGARDS' rs-admin and
//! rs-admin-instance do (same virtual host, exchange, properties, headers and body), for a
//! service that changes rights itself, for tests, and for the demo's rs-admin.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{Channel, Connection};

use super::config::AmqpConfig;
use super::error::AmqpError;
use super::management;
use super::message::{RegardsEvent, project_name};
use super::topology::{self, EventKind, INSTANCE_TENANT, INSTANCE_VHOST};
use crate::client::HttpTransport;

/// Publishes [`RegardsEvent`]s on RabbitMQ the way REGARDS does: a project's events in its
/// virtual host (or the shared one), tenant events in `regards.instance.manager`, each on its
/// event's fanout exchange, declared first as REGARDS' publisher declares it, then confirmed by
/// the broker before [`publish`](Self::publish) returns.
///
/// ```no_run
/// use regards_auth::managed::amqp::{AmqpConfig, EventPublisher, RegardsEvent};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let publisher = EventPublisher::new(AmqpConfig::from_env()?);
/// publisher
///     .publish("project1", &RegardsEvent::Role { role: "NOTIFIER_OPERATOR".into() })
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct EventPublisher {
    config: AmqpConfig,
    transport: HttpTransport,
    links: tokio::sync::Mutex<HashMap<String, Link>>,
}

struct Link {
    // Kept open with its channel.
    _connection: Connection,
    channel: Channel,
    declared: HashSet<EventKind>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").finish_non_exhaustive()
    }
}

impl EventPublisher {
    /// A publisher on the broker `config` names; it connects on its first publication.
    pub fn new(config: AmqpConfig) -> Self {
        EventPublisher {
            config,
            transport: HttpTransport::new(),
            links: tokio::sync::Mutex::default(),
        }
    }

    /// Publishes `event` about `project` (ignored for tenant events, whose project is in the
    /// event), and waits for the broker's confirmation.
    ///
    /// # Errors
    ///
    /// - [`AmqpError::NameTooLong`]: `project` is not a name this crate follows (empty, longer
    ///   than 200 bytes, or with control characters);
    /// - [`AmqpError::Management`]: the virtual host could not be read or created through the
    ///   management API (an error status, or the API unreachable);
    /// - [`AmqpError::Connection`]: no address of the broker could be connected to, or the
    ///   connection failed;
    /// - [`AmqpError::Refused`]: the broker refused an operation (an AMQP protocol error on
    ///   connecting, declaring or publishing), or did not confirm the message (a `nack`);
    /// - [`AmqpError::Timeout`]: connecting, a management call or the confirmation took longer
    ///   than the [connection timeout](super::AmqpConfigBuilder::connect_timeout).
    ///
    /// After an error, the next publication to the same virtual host opens a new connection.
    pub async fn publish(&self, project: &str, event: &RegardsEvent) -> Result<(), AmqpError> {
        let kind = event.kind();
        let (vhost, tenant) = match kind {
            EventKind::TenantCreated | EventKind::TenantDeleted => {
                (INSTANCE_VHOST.to_owned(), INSTANCE_TENANT)
            }
            _ if project_name(project) => {
                (topology::project_vhost(self.config.mode, project), project)
            }
            _ => return Err(AmqpError::NameTooLong),
        };
        let mut links = self.links.lock().await;
        let mut link = match links.entry(vhost) {
            Entry::Occupied(link) => link,
            Entry::Vacant(slot) => {
                let link = self.open(slot.key()).await?;
                slot.insert_entry(link)
            }
        };
        let result = publish_on(link.get_mut(), &self.config, tenant, event).await;
        if result.is_err() {
            // The next publication starts from a new connection.
            link.remove();
        }
        result
    }

    async fn open(&self, vhost: &str) -> Result<Link, AmqpError> {
        management::ensure_vhost(&self.transport, &self.config, vhost).await?;
        let connection = super::listener::connect(&self.config, vhost, "publisher").await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        topology::declare_dead_letter(&channel).await?;
        Ok(Link {
            _connection: connection,
            channel,
            declared: HashSet::new(),
        })
    }
}

async fn publish_on(
    link: &mut Link,
    config: &AmqpConfig,
    tenant: &str,
    event: &RegardsEvent,
) -> Result<(), AmqpError> {
    let kind = event.kind();
    if !link.declared.contains(&kind) {
        topology::declare_exchange(&link.channel, &config.namespace, kind).await?;
        link.declared.insert(kind);
    }
    let exchange = topology::exchange_name(&config.namespace, kind);
    let confirmation = link
        .channel
        .basic_publish(
            exchange.as_str().into(),
            "".into(),
            BasicPublishOptions::default(),
            &event.to_json(),
            event.properties(tenant, &config.application_id),
        )
        .await?;
    let confirmation = tokio::time::timeout(config.connect_timeout, confirmation)
        .await
        .map_err(|_| AmqpError::Timeout)??;
    if confirmation.is_nack() {
        return Err(AmqpError::Refused(
            "the broker did not accept the message".into(),
        ));
    }
    Ok(())
}
