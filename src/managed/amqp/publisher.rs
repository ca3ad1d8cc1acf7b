//! [`EventPublisher`]: sends REGARDS' security and tenant events as REGARDS' rs-admin and
//! rs-admin-instance do (same virtual host, exchange, properties, headers and body), for a
//! service that changes rights itself, for tests, and for the demo's rs-admin.

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
        if !links.contains_key(&vhost) {
            let link = self.open(&vhost).await?;
            links.insert(vhost.clone(), link);
        }
        let link = links.get_mut(&vhost).expect("just inserted");
        let result = publish_on(link, &self.config, tenant, event).await;
        if result.is_err() {
            // The next publication starts from a new connection.
            links.remove(&vhost);
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
