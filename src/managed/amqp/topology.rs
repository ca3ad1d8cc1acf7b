//! The names and declarations REGARDS' `RegardsAmqpAdmin` and `RabbitVirtualHostAdmin` use, so
//! that a Java service and this one declare the same things with the same arguments on a shared
//! broker (a difference would make the second declaration fail with `PRECONDITION_FAILED`).

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, ExchangeKind};

use super::error::LinkError;

/// Where tenant life-cycle events travel, whatever the mode (`AmqpChannel.AMQP_INSTANCE_MANAGER`).
pub(crate) const INSTANCE_VHOST: &str = "regards.instance.manager";
/// The virtual host every project shares in [`VhostMode::Single`].
pub(crate) const MULTITENANT_VHOST: &str = "regards.multitenant.manager";
/// The tenant REGARDS' instance publisher writes in the tenant header.
pub(crate) const INSTANCE_TENANT: &str = "instance";
/// REGARDS' dead-letter exchange and queue (fixed names, whatever the namespace).
const DEAD_LETTER_EXCHANGE: &str = "regards.DLX";
const DEAD_LETTER_QUEUE: &str = "regards.DLQ";
/// REGARDS declares its queues with the highest priority AMQP allows it.
const MAX_PRIORITY: i32 = 255;

/// How REGARDS spreads its projects over virtual hosts (`regards.amqp.management.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VhostMode {
    /// One virtual host shared by every project, `regards.multitenant.manager`; the tenant
    /// travels in each message's header. REGARDS' default.
    Single,
    /// One virtual host per project, `regards.<project in lower case>`.
    Multi,
}

/// The virtual host of `project`'s events in `mode`.
pub(crate) fn project_vhost(mode: VhostMode, project: &str) -> String {
    match mode {
        VhostMode::Single => MULTITENANT_VHOST.to_owned(),
        // Java's `toLowerCase()`; project names are ASCII in practice.
        VhostMode::Multi => format!("regards.{}", project.to_lowercase()),
    }
}

/// One of REGARDS' events this crate follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum EventKind {
    /// A role was created, changed or deleted.
    Role,
    /// A role's rights on one microservice changed.
    ResourceAccess,
    /// A project's security was initialised: register again.
    ResourceAccessInit,
    /// A project was created (instance-wide).
    TenantCreated,
    /// A project was deleted (instance-wide).
    TenantDeleted,
}

impl EventKind {
    pub(crate) const PROJECT: [EventKind; 3] = [
        EventKind::Role,
        EventKind::ResourceAccess,
        EventKind::ResourceAccessInit,
    ];
    pub(crate) const INSTANCE: [EventKind; 2] =
        [EventKind::TenantCreated, EventKind::TenantDeleted];

    /// The event's Java class: the exchange name's suffix and the `__TypeId__` header.
    pub(crate) const fn java_class(self) -> &'static str {
        match self {
            EventKind::Role => "fr.cnes.regards.framework.security.event.RoleEvent",
            EventKind::ResourceAccess => {
                "fr.cnes.regards.framework.security.event.ResourceAccessEvent"
            }
            EventKind::ResourceAccessInit => {
                "fr.cnes.regards.framework.security.event.ResourceAccessInit"
            }
            EventKind::TenantCreated => {
                "fr.cnes.regards.framework.amqp.event.tenant.TenantCreatedEvent"
            }
            EventKind::TenantDeleted => {
                "fr.cnes.regards.framework.amqp.event.tenant.TenantDeletedEvent"
            }
        }
    }

    /// The Java handler a REGARDS service subscribes with (`SecurityEventHandler`'s and
    /// `AmqpEventHandler`'s inner classes): the last part of the queue name. The same names
    /// here, so that an operator finds the same queues for a Rust instance as for a Java one.
    pub(crate) const fn handler(self) -> &'static str {
        match self {
            EventKind::Role => {
                "fr.cnes.regards.framework.security.event.SecurityEventHandler$RoleEventHandler"
            }
            EventKind::ResourceAccess => {
                "fr.cnes.regards.framework.security.event.SecurityEventHandler$ResourceAccessUpdateHandler"
            }
            EventKind::ResourceAccessInit => {
                "fr.cnes.regards.framework.security.event.SecurityEventHandler$ResourceAccessInitHandler"
            }
            EventKind::TenantCreated => {
                "fr.cnes.regards.framework.amqp.autoconfigure.AmqpEventHandler$TenantCreationHandler"
            }
            EventKind::TenantDeleted => {
                "fr.cnes.regards.framework.amqp.autoconfigure.AmqpEventHandler$TenantDeletionHandler"
            }
        }
    }
}

/// The fanout exchange every instance's queue for `kind` is bound to:
/// `<namespace>.broadcast.<event class>` (events `@Event(target = Target.ALL)`).
pub(crate) fn exchange_name(namespace: &str, kind: EventKind) -> String {
    format!("{namespace}.broadcast.{}", kind.java_class())
}

/// This instance's queue for `kind`:
/// `<namespace>.broadcast.<type id>.<instance id>.<handler class>`.
pub(crate) fn queue_name(
    namespace: &str,
    type_identifier: &str,
    instance_identifier: &str,
    kind: EventKind,
) -> String {
    format!(
        "{namespace}.broadcast.{type_identifier}.{instance_identifier}.{}",
        kind.handler()
    )
}

/// Whether `part` can go in an exchange or queue name (a whole name is also checked against
/// AMQP's 255 bytes when the listener starts).
pub(crate) fn valid_name_part(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 64
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
}

fn short(name: &str) -> Result<ShortString, LinkError> {
    // Names are checked when the listener starts; this keeps a mistake an error, not a panic.
    ShortString::try_new(name).map_err(|_| LinkError::NameTooLong)
}

/// Declares REGARDS' dead-letter exchange and queue (`declareDeadLetter`): a durable topic
/// exchange `regards.DLX` and a durable priority queue `regards.DLQ` bound to it under its own
/// name. REGARDS also declares a delayed `regards.retry` exchange, which needs the
/// `rabbitmq_delayed_message_exchange` plugin; no queue of ours is bound to it, so it is not
/// declared here.
pub(crate) async fn declare_dead_letter(channel: &Channel) -> Result<(), LinkError> {
    channel
        .exchange_declare(
            short(DEAD_LETTER_EXCHANGE)?,
            ExchangeKind::Topic,
            durable_exchange(),
            FieldTable::default(),
        )
        .await?;
    let mut arguments = FieldTable::default();
    arguments.insert("x-max-priority".into(), AMQPValue::LongInt(MAX_PRIORITY));
    channel
        .queue_declare(
            short(DEAD_LETTER_QUEUE)?,
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await?;
    channel
        .queue_bind(
            short(DEAD_LETTER_QUEUE)?,
            short(DEAD_LETTER_EXCHANGE)?,
            short(DEAD_LETTER_QUEUE)?,
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

/// Declares `kind`'s broadcast exchange: fanout, durable, as REGARDS' publisher and subscriber
/// both do.
pub(crate) async fn declare_exchange(
    channel: &Channel,
    namespace: &str,
    kind: EventKind,
) -> Result<(), LinkError> {
    channel
        .exchange_declare(
            short(&exchange_name(namespace, kind))?,
            ExchangeKind::Fanout,
            durable_exchange(),
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

/// The arguments of a subscription queue: priorities up to 255, dead letters to `regards.DLX`
/// under `regards.DLQ` (`RegardsAmqpAdmin.declareQueue` for a broadcast handler).
pub(crate) fn subscription_arguments() -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert("x-max-priority".into(), AMQPValue::LongInt(MAX_PRIORITY));
    arguments.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(DEAD_LETTER_EXCHANGE.into()),
    );
    arguments.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(DEAD_LETTER_QUEUE.into()),
    );
    arguments
}

/// Declares this instance's queue for `kind` (durable, auto-delete: an instance's queue goes
/// with its last consumer, as REGARDS' `Target.ALL` queues do) and binds it to the exchange.
pub(crate) async fn declare_subscription(
    channel: &Channel,
    namespace: &str,
    queue: &str,
    kind: EventKind,
) -> Result<(), LinkError> {
    declare_exchange(channel, namespace, kind).await?;
    channel
        .queue_declare(
            short(queue)?,
            QueueDeclareOptions {
                durable: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            subscription_arguments(),
        )
        .await?;
    channel
        .queue_bind(
            short(queue)?,
            short(&exchange_name(namespace, kind))?,
            ShortString::from(""),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

fn durable_exchange() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_regards_names() {
        assert_eq!(
            exchange_name("regards", EventKind::Role),
            "regards.broadcast.fr.cnes.regards.framework.security.event.RoleEvent"
        );
        assert_eq!(
            queue_name(
                "regards",
                "rs-notifier",
                "rs-notifier-1",
                EventKind::ResourceAccess
            ),
            "regards.broadcast.rs-notifier.rs-notifier-1.fr.cnes.regards.framework.security.event.SecurityEventHandler$ResourceAccessUpdateHandler"
        );
        assert_eq!(
            exchange_name("regards", EventKind::TenantDeleted),
            "regards.broadcast.fr.cnes.regards.framework.amqp.event.tenant.TenantDeletedEvent"
        );
    }

    #[test]
    fn vhosts_follow_the_mode() {
        assert_eq!(
            project_vhost(VhostMode::Multi, "Project1"),
            "regards.project1"
        );
        assert_eq!(
            project_vhost(VhostMode::Single, "Project1"),
            "regards.multitenant.manager"
        );
    }

    #[test]
    fn identifiers_of_64_bytes_fit_an_amqp_short_string() {
        let part = "x".repeat(64);
        let longest = [
            EventKind::PROJECT.as_slice(),
            EventKind::INSTANCE.as_slice(),
        ]
        .concat()
        .into_iter()
        .map(|kind| queue_name("regards", &part, &part, kind).len())
        .max()
        .unwrap();
        assert!(longest <= 255, "{longest}");
    }
}
