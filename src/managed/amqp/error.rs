//! What can go wrong with the broker: a configuration mistake at start-up
//! ([`AmqpConfigError`]), a link to the broker that failed ([`AmqpError`]).

use std::error::Error;
use std::fmt;

/// A mistake in the RabbitMQ configuration, found at start-up. The message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmqpConfigError {
    /// A setting that cannot be read; names the variable (or builder setting) to fix.
    Invalid(&'static str),
    /// A zero prefetch count, size cap or timeout.
    Zero(&'static str),
    /// `spring.rabbitmq.ssl.enabled`: TLS to the broker is not supported yet.
    TlsUnsupported,
    /// A queue name longer than AMQP's 255 bytes: shorten the namespace, type or instance
    /// identifier.
    NameTooLong(String),
    /// [`EventListener::start`](super::EventListener::start) on an access another listener
    /// follows already: one listener per access (its health and refresh period are one).
    AlreadyFollowed,
}

impl fmt::Display for AmqpConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmqpConfigError::Invalid(which) => write!(f, "invalid RabbitMQ setting: {which}"),
            AmqpConfigError::Zero(which) => write!(f, "{which} must not be zero"),
            AmqpConfigError::TlsUnsupported => f.write_str(
                "TLS to RabbitMQ (SPRING_RABBITMQ_SSL_ENABLED) is not supported: use a plain \
                 amqp:// address on a trusted network",
            ),
            AmqpConfigError::NameTooLong(name) => write!(
                f,
                "the queue name {name} is longer than 255 bytes: shorten the namespace, type or \
                 instance identifier"
            ),
            AmqpConfigError::AlreadyFollowed => f.write_str(
                "this ManagedAccess already has an EventListener: start one listener per access",
            ),
        }
    }
}

impl Error for AmqpConfigError {}

/// Why a link to the broker, or a publication, failed. The text never holds a password.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmqpError {
    /// The broker could not be reached or closed the connection.
    Connection(String),
    /// The broker refused a declaration or an operation (e.g. `PRECONDITION_FAILED`).
    Refused(String),
    /// The management API answered an error or could not be reached.
    Management(String),
    /// The broker did not answer in time.
    Timeout,
    /// A name (a project's virtual host) too long for AMQP.
    NameTooLong,
}

impl fmt::Display for AmqpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmqpError::Connection(reason) => write!(f, "RabbitMQ connection failed: {reason}"),
            AmqpError::Refused(reason) => write!(f, "RabbitMQ refused: {reason}"),
            AmqpError::Management(reason) => {
                write!(f, "RabbitMQ management API failed: {reason}")
            }
            AmqpError::Timeout => f.write_str("RabbitMQ did not answer in time"),
            AmqpError::NameTooLong => f.write_str("a name is longer than AMQP's 255 bytes"),
        }
    }
}

impl Error for AmqpError {}

pub(crate) type LinkError = AmqpError;

impl From<lapin::Error> for AmqpError {
    fn from(error: lapin::Error) -> Self {
        match error.kind() {
            lapin::ErrorKind::ProtocolError(protocol) => AmqpError::Refused(protocol.to_string()),
            _ => AmqpError::Connection(error.to_string()),
        }
    }
}
