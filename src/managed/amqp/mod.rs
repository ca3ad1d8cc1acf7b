//! Following rs-admin over RabbitMQ (feature `amqp`), as REGARDS' Java services do: rights and
//! projects pushed to every instance at once, the periodic refresh of
//! [`ManagedAccess::spawn`](super::ManagedAccess::spawn) only a safety net.
//!
//! What REGARDS does (regards-backend `amqp-regards`, `amqp-regards-starter` and
//! `security-regards`), and so what this module does on the same broker:
//!
//! - **Virtual hosts.** Projects' events travel in `regards.multitenant.manager` (mode SINGLE,
//!   REGARDS' default) or in one vhost per project, `regards.<project in lower case>` (MULTI);
//!   project creation and deletion in `regards.instance.manager`. Missing vhosts are created
//!   through the management HTTP API (`PUT /api/vhosts/<vhost>`, then every permission to the
//!   configured user), so the broker needs the `rabbitmq_management` plugin, or the vhosts
//!   created beforehand with the user's permissions (then the API is only read).
//! - **Events.** rs-admin publishes `RoleEvent` (a role created, changed, deleted) and
//!   `ResourceAccessEvent` (a role's rights on a microservice changed) in the project's vhost,
//!   and `ResourceAccessInit` once a new project's rights are set up; rs-admin-instance
//!   publishes `TenantCreatedEvent` and `TenantDeletedEvent`. All are `Target.ALL`: every
//!   instance of every service gets each one.
//! - **Declarations.** Per vhost: the dead-letter exchange `regards.DLX` (topic, durable) and
//!   queue `regards.DLQ` (durable, `x-max-priority` 255, bound under `regards.DLQ`); per event,
//!   the fanout durable exchange `<namespace>.broadcast.<event class>` and this instance's
//!   queue `<namespace>.broadcast.<type id>.<instance id>.<handler class>`: durable,
//!   auto-delete, not exclusive, with `x-max-priority` 255, `x-dead-letter-exchange`
//!   `regards.DLX` and `x-dead-letter-routing-key` `regards.DLQ`, bound with an empty routing
//!   key. The handler classes are REGARDS' own (`SecurityEventHandler$RoleEventHandler`...), so
//!   a Java and a Rust instance declare alike and an operator finds the same queues. REGARDS'
//!   delayed `regards.retry` exchange (plugin `rabbitmq_delayed_message_exchange`) is not
//!   declared: nothing here is bound to it.
//! - **Messages.** Headers `regards.tenant` (the project; `instance` for tenant events),
//!   `__TypeId__` (the event's Java class) and `regards.converter` (`JACKSON`); content type
//!   `application/json`, encoding `UTF-8`, persistent, priority 1, `app_id` the instance name.
//!   The body is the event alone: `{"role":...}`, `{"microservice":...,"roleName":...}`, `{}`,
//!   `{"tenant":...}` (REGARDS wrapped it in a `TenantWrapper` before 1.7; no longer).
//! - **Settings.** `spring.rabbitmq.*` and `regards.amqp.*`, read here from the same
//!   environment variables ([`AmqpConfig::from_env`]).
//!
//! ```no_run
//! use regards_auth::managed::ManagedAccess;
//! use regards_auth::managed::amqp::{AmqpConfig, EventListener};
//!
//! # fn run(access: ManagedAccess) -> Result<(), Box<dyn std::error::Error>> {
//! let _refresher = access.spawn();                       // the periodic safety net
//! let events = EventListener::start(&access, AmqpConfig::from_env()?)?;
//! println!("{}", serde_json::to_string(&events.health())?);
//! # Ok(()) }
//! ```

mod config;
mod error;
mod health;
mod listener;
mod management;
mod message;
mod publisher;
mod topology;

pub use config::{
    AmqpConfig, AmqpConfigBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_PREFETCH, FIRST_RECONNECT_BACKOFF, MAX_RECONNECT_BACKOFF,
};
pub use error::{AmqpConfigError, AmqpError};
pub use health::{BrokerHealth, LinkHealth};
pub use listener::EventListener;
pub use message::{Dropped, RegardsEvent};
pub use publisher::EventPublisher;
pub use topology::VhostMode;
