//! [`AmqpConfig`]: where the broker is and who this instance is, set as a Java REGARDS service
//! sets it (`spring.rabbitmq.*`, `regards.amqp.*`), from a builder or from the environment.

use std::time::Duration;

use super::error::AmqpConfigError;
use super::topology::{self, VhostMode};

/// The most deliveries handed to this instance before it acknowledges them (AMQP prefetch) by
/// default: 16. Each event costs a refresh at most, and refreshes coalesce.
pub const DEFAULT_PREFETCH: u16 = 16;
/// The largest message body read by default: 64 KiB. REGARDS' security events are a few dozen
/// bytes.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 10;
/// How long connecting to the broker (or a call to its management API) may take by default:
/// 10 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The first wait before connecting again after the broker was lost; it doubles up to
/// [`MAX_RECONNECT_BACKOFF`], with jitter.
pub const FIRST_RECONNECT_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait between two connection attempts: 30 seconds.
pub const MAX_RECONNECT_BACKOFF: Duration = Duration::from_secs(30);

/// How to reach RabbitMQ and how this instance names its subscriptions, as a Java REGARDS
/// service is configured (`amqp-regards-starter`).
///
/// ```
/// use regards_auth::managed::amqp::{AmqpConfig, VhostMode};
///
/// let config = AmqpConfig::builder()
///     .addresses("rabbitmq:5672")
///     .credentials("regards", "secret")
///     .management("http", "rabbitmq", 15672)
///     .vhost_mode(VhostMode::Multi)
///     .instance_identifier("rs-notifier-1")
///     .build()?;
/// # Ok::<(), regards_auth::managed::amqp::AmqpConfigError>(())
/// ```
#[derive(Clone)]
pub struct AmqpConfig {
    pub(crate) addresses: Vec<(String, u16)>,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) management: String,
    pub(crate) mode: VhostMode,
    pub(crate) namespace: String,
    pub(crate) type_identifier: Option<String>,
    pub(crate) instance_identifier: String,
    pub(crate) application_id: String,
    pub(crate) prefetch: u16,
    pub(crate) max_message_size: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) follow_projects: bool,
}

impl std::fmt::Debug for AmqpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches logs.
        f.debug_struct("AmqpConfig")
            .field("addresses", &self.addresses)
            .field("username", &self.username)
            .field("management", &self.management)
            .field("mode", &self.mode)
            .field("namespace", &self.namespace)
            .field("type_identifier", &self.type_identifier)
            .field("instance_identifier", &self.instance_identifier)
            .field("prefetch", &self.prefetch)
            .field("max_message_size", &self.max_message_size)
            .field("follow_projects", &self.follow_projects)
            .finish_non_exhaustive()
    }
}

/// Builds an [`AmqpConfig`]; see [`AmqpConfig::builder`]. Every setting defaults to the value a
/// Java REGARDS service would take.
#[derive(Debug, Clone)]
pub struct AmqpConfigBuilder {
    addresses: Option<String>,
    host: Option<String>,
    port: Option<String>,
    url: Option<String>,
    username: String,
    password: String,
    ssl: bool,
    management_protocol: String,
    management_host: Option<String>,
    management_port: String,
    mode: Option<String>,
    vhost_mode: VhostMode,
    namespace: String,
    type_identifier: Option<String>,
    instance_identifier: Option<String>,
    application_id: String,
    prefetch: u16,
    max_message_size: usize,
    connect_timeout: Duration,
    follow_projects: bool,
}

impl Default for AmqpConfigBuilder {
    fn default() -> Self {
        AmqpConfigBuilder {
            addresses: None,
            host: None,
            port: None,
            url: None,
            username: "guest".into(),
            password: "guest".into(),
            ssl: false,
            management_protocol: "http".into(),
            management_host: None,
            management_port: "15672".into(),
            mode: None,
            vhost_mode: VhostMode::Single,
            namespace: "regards".into(),
            type_identifier: None,
            instance_identifier: None,
            application_id: "REGARDS".into(),
            prefetch: DEFAULT_PREFETCH,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            follow_projects: true,
        }
    }
}

impl AmqpConfig {
    /// Starts from REGARDS' defaults: broker `localhost:5672`, user `guest`/`guest`, management
    /// API `http://localhost:15672`, [`VhostMode::Single`], namespace `regards`, type identifier
    /// the microservice name, a random instance identifier.
    pub fn builder() -> AmqpConfigBuilder {
        AmqpConfigBuilder::default()
    }

    /// Reads the variables a REGARDS deployment sets for its Java services (Spring Boot's
    /// environment names of the same properties), each optional:
    ///
    /// | variable | property | default |
    /// |---|---|---|
    /// | `SPRING_RABBITMQ_ADDRESSES` | `spring.rabbitmq.addresses` (`host:port,host:port`) | `SPRING_RABBITMQ_HOST`:`SPRING_RABBITMQ_PORT` |
    /// | `SPRING_RABBITMQ_HOST`, `SPRING_RABBITMQ_PORT` | `spring.rabbitmq.host`, `.port` | `localhost`, `5672` |
    /// | `SPRING_RABBITMQ_USERNAME`, `SPRING_RABBITMQ_PASSWORD` | `spring.rabbitmq.username`, `.password` | `guest`, `guest` |
    /// | `SPRING_RABBITMQ_SSL_ENABLED` | `spring.rabbitmq.ssl.enabled` | `false` (`true` is refused: no TLS yet) |
    /// | `REGARDS_AMQP_MANAGEMENT_PROTOCOL`, `_HOST`, `_PORT` | `regards.amqp.management.protocol`, `.host`, `.port` | `http`, `localhost`, `15672` |
    /// | `REGARDS_AMQP_MANAGEMENT_MODE` | `regards.amqp.management.mode` | `SINGLE` |
    /// | `REGARDS_AMQP_MANAGEMENT_NAMESPACE` | `regards.amqp.management.namespace` | `regards` |
    /// | `REGARDS_AMQP_MICROSERVICE_TYPEIDENTIFIER` | `regards.amqp.microservice.type-identifier` | the microservice name |
    /// | `REGARDS_AMQP_MICROSERVICE_INSTANCEIDENTIFIER` | `regards.amqp.microservice.instance-identifier` | random |
    /// | `REGARDS_INSTANCE_NAME` | `regards.instance.name` (the `app_id` of published messages) | `REGARDS` |
    ///
    /// Values that make no sense fail with a message naming the variable.
    ///
    /// # Errors
    ///
    /// Those of [`AmqpConfigBuilder::build`]. A variable that is empty or not UTF-8 counts as
    /// unset.
    pub fn from_env() -> Result<AmqpConfig, AmqpConfigError> {
        AmqpConfig::builder().env().build()
    }

    /// The virtual host mode.
    pub fn vhost_mode(&self) -> VhostMode {
        self.mode
    }

    /// This instance's identifier (REGARDS' `instance-identifier`), given or generated.
    pub fn instance_identifier(&self) -> &str {
        &self.instance_identifier
    }

    /// The type identifier, the microservice name unless configured.
    pub(crate) fn type_identifier<'a>(&'a self, microservice: &'a str) -> &'a str {
        self.type_identifier.as_deref().unwrap_or(microservice)
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

impl AmqpConfigBuilder {
    /// Applies every variable [`AmqpConfig::from_env`] reads that is set (later builder calls
    /// override them).
    pub fn env(mut self) -> Self {
        if let Some(addresses) = env("SPRING_RABBITMQ_ADDRESSES") {
            self.addresses = Some(addresses);
        }
        if let Some(host) = env("SPRING_RABBITMQ_HOST") {
            self.host = Some(host);
        }
        if let Some(port) = env("SPRING_RABBITMQ_PORT") {
            self.port = Some(port);
        }
        if let Some(username) = env("SPRING_RABBITMQ_USERNAME") {
            self.username = username;
        }
        if let Some(password) = env("SPRING_RABBITMQ_PASSWORD") {
            self.password = password;
        }
        if let Some(ssl) = env("SPRING_RABBITMQ_SSL_ENABLED") {
            self.ssl = ssl.eq_ignore_ascii_case("true");
        }
        if let Some(protocol) = env("REGARDS_AMQP_MANAGEMENT_PROTOCOL") {
            self.management_protocol = protocol;
        }
        if let Some(host) = env("REGARDS_AMQP_MANAGEMENT_HOST") {
            self.management_host = Some(host);
        }
        if let Some(port) = env("REGARDS_AMQP_MANAGEMENT_PORT") {
            self.management_port = port;
        }
        if let Some(mode) = env("REGARDS_AMQP_MANAGEMENT_MODE") {
            self.mode = Some(mode);
        }
        if let Some(namespace) = env("REGARDS_AMQP_MANAGEMENT_NAMESPACE") {
            self.namespace = namespace;
        }
        if let Some(type_identifier) = env("REGARDS_AMQP_MICROSERVICE_TYPEIDENTIFIER") {
            self.type_identifier = Some(type_identifier);
        }
        if let Some(instance) = env("REGARDS_AMQP_MICROSERVICE_INSTANCEIDENTIFIER") {
            self.instance_identifier = Some(instance);
        }
        if let Some(name) = env("REGARDS_INSTANCE_NAME") {
            self.application_id = name;
        }
        self
    }

    /// The broker's addresses, `host[:port]` separated by commas (`spring.rabbitmq.addresses`);
    /// they are tried in turn.
    pub fn addresses(mut self, addresses: impl Into<String>) -> Self {
        self.addresses = Some(addresses.into());
        self
    }

    /// The broker as one URL, `amqp://user:password@host:port` (user, password and port
    /// optional; a virtual host in it is refused: REGARDS chooses them). Sets the addresses and,
    /// if present, the credentials; the management API is then looked for on the same host
    /// unless [`management`](Self::management) says otherwise.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The user and password for the broker and its management API.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = username.into();
        self.password = password.into();
        self
    }

    /// The management HTTP API (protocol `http` or `https`, host, port) the virtual hosts are
    /// created through, as REGARDS' `RabbitVirtualHostAdmin` does (the `rabbitmq_management`
    /// plugin).
    pub fn management(mut self, protocol: &str, host: &str, port: u16) -> Self {
        self.management_protocol = protocol.into();
        self.management_host = Some(host.into());
        self.management_port = port.to_string();
        self
    }

    /// One virtual host per project, or one shared by all (REGARDS' default, [`VhostMode::Single`]).
    pub fn vhost_mode(mut self, mode: VhostMode) -> Self {
        self.vhost_mode = mode;
        self.mode = None;
        self
    }

    /// The prefix of exchange and queue names (`regards.amqp.management.namespace`, default
    /// `regards`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The microservice type in queue names (default: the microservice name).
    pub fn type_identifier(mut self, identifier: impl Into<String>) -> Self {
        self.type_identifier = Some(identifier.into());
        self
    }

    /// This instance's identifier in queue names: unique among the instances of the
    /// microservice, or they share one queue and each event reaches only one of them (default:
    /// random).
    pub fn instance_identifier(mut self, identifier: impl Into<String>) -> Self {
        self.instance_identifier = Some(identifier.into());
        self
    }

    /// The `app_id` of the messages an [`EventPublisher`](super::EventPublisher) sends
    /// (`regards.instance.name`, default `REGARDS`).
    pub fn application_id(mut self, id: impl Into<String>) -> Self {
        self.application_id = id.into();
        self
    }

    /// How many deliveries the broker hands over before they are acknowledged (default
    /// [`DEFAULT_PREFETCH`]).
    pub fn prefetch(mut self, count: u16) -> Self {
        self.prefetch = count;
        self
    }

    /// The largest message body read (default [`DEFAULT_MAX_MESSAGE_SIZE`]); larger ones are
    /// acknowledged and dropped.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// How long connecting, and each management API call, may take (default
    /// [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whether the projects rs-admin-instance announces are followed, as a Java service does:
    /// served from their creation (`TenantCreatedEvent`), no longer served from their deletion
    /// (`TenantDeletedEvent`, [`ManagedAccess::remove_project`](crate::managed::ManagedAccess::remove_project)).
    /// Default `true`; `false` keeps the projects served as they are.
    pub fn follow_projects(mut self, follow: bool) -> Self {
        self.follow_projects = follow;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    ///
    /// The first mistake found, in this order:
    /// - [`AmqpConfigError::TlsUnsupported`]: `SPRING_RABBITMQ_SSL_ENABLED` is `true` (any case);
    /// - [`AmqpConfigError::Invalid`], naming the setting to fix: a broker [`url`](Self::url)
    ///   that is not `amqp://[user[:password]@]host[:port][/]` (a path, query or fragment, a
    ///   bad percent escape); [`addresses`](Self::addresses) (or host and port) that are not a
    ///   non-empty list of `host[:port]`; a host that is not letters, digits, `.`, `-`, `_` and
    ///   `:` (253 bytes at most) or a port that is not 1 to 65535, management's included; a
    ///   management protocol other than `http` or `https`; a mode other than `SINGLE` or
    ///   `MULTI`; a namespace, type identifier or instance identifier that is not 1 to 64
    ///   letters, digits, `.`, `-`, `_` or `:`;
    /// - [`AmqpConfigError::Zero`]: a zero [`prefetch`](Self::prefetch),
    ///   [`max_message_size`](Self::max_message_size) or
    ///   [`connect_timeout`](Self::connect_timeout).
    pub fn build(self) -> Result<AmqpConfig, AmqpConfigError> {
        if self.ssl {
            return Err(AmqpConfigError::TlsUnsupported);
        }
        let (addresses, credentials) = match &self.url {
            Some(url) => parse_url(url)?,
            None => {
                let addresses = match (&self.addresses, &self.host) {
                    (Some(addresses), _) => addresses.clone(),
                    (None, host) => {
                        let host = host.as_deref().unwrap_or("localhost");
                        match &self.port {
                            Some(port) => format!("{host}:{port}"),
                            None => host.to_owned(),
                        }
                    }
                };
                (parse_addresses(&addresses)?, None)
            }
        };
        let (username, password) = credentials.unwrap_or((self.username, self.password));
        let management_port: u16 = self
            .management_port
            .parse()
            .ok()
            .filter(|port| *port != 0)
            .ok_or(AmqpConfigError::Invalid("REGARDS_AMQP_MANAGEMENT_PORT"))?;
        let protocol = self.management_protocol.to_ascii_lowercase();
        let management_host = match (self.management_host, &self.url) {
            (Some(host), _) => host,
            (None, Some(_)) => addresses[0].0.clone(),
            (None, None) => "localhost".to_owned(),
        };
        if !matches!(protocol.as_str(), "http" | "https") || !valid_host(&management_host) {
            return Err(AmqpConfigError::Invalid(
                "REGARDS_AMQP_MANAGEMENT_PROTOCOL / _HOST",
            ));
        }
        let mode = match self.mode.as_deref() {
            None => self.vhost_mode,
            Some(mode) if mode.eq_ignore_ascii_case("SINGLE") => VhostMode::Single,
            Some(mode) if mode.eq_ignore_ascii_case("MULTI") => VhostMode::Multi,
            Some(_) => return Err(AmqpConfigError::Invalid("REGARDS_AMQP_MANAGEMENT_MODE")),
        };
        if !topology::valid_name_part(&self.namespace) {
            return Err(AmqpConfigError::Invalid(
                "REGARDS_AMQP_MANAGEMENT_NAMESPACE",
            ));
        }
        if let Some(type_identifier) = &self.type_identifier
            && !topology::valid_name_part(type_identifier)
        {
            return Err(AmqpConfigError::Invalid(
                "REGARDS_AMQP_MICROSERVICE_TYPEIDENTIFIER",
            ));
        }
        let instance_identifier = match self.instance_identifier {
            Some(identifier) if topology::valid_name_part(&identifier) => identifier,
            Some(_) => {
                return Err(AmqpConfigError::Invalid(
                    "REGARDS_AMQP_MICROSERVICE_INSTANCEIDENTIFIER",
                ));
            }
            None => random_identifier(),
        };
        if self.prefetch == 0 {
            return Err(AmqpConfigError::Zero("the prefetch count"));
        }
        if self.max_message_size == 0 {
            return Err(AmqpConfigError::Zero("the message size cap"));
        }
        if self.connect_timeout.is_zero() {
            return Err(AmqpConfigError::Zero("the connection timeout"));
        }
        let management = format!(
            "{protocol}://{}:{management_port}/api",
            bracketed(&management_host)
        );
        Ok(AmqpConfig {
            addresses,
            username,
            password,
            management,
            mode,
            namespace: self.namespace,
            type_identifier: self.type_identifier,
            instance_identifier,
            application_id: self.application_id,
            prefetch: self.prefetch,
            max_message_size: self.max_message_size,
            connect_timeout: self.connect_timeout,
            follow_projects: self.follow_projects,
        })
    }
}

/// `host[:port]` pairs separated by commas, port 5672 by default.
fn parse_addresses(addresses: &str) -> Result<Vec<(String, u16)>, AmqpConfigError> {
    const WHICH: &str = "SPRING_RABBITMQ_ADDRESSES / _HOST / _PORT";
    let parsed: Vec<(String, u16)> = addresses
        .split(',')
        .map(str::trim)
        .filter(|address| !address.is_empty())
        .map(|address| parse_address(address).ok_or(AmqpConfigError::Invalid(WHICH)))
        .collect::<Result<_, _>>()?;
    if parsed.is_empty() {
        return Err(AmqpConfigError::Invalid(WHICH));
    }
    Ok(parsed)
}

fn parse_address(address: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        // [IPv6]:port
        let (host, rest) = rest.split_once(']')?;
        match rest.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if rest.is_empty() => (host, None),
            None => return None,
        }
    } else {
        match address.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port)),
            Some(_) => (address, None),
            None => (address, None),
        }
    };
    let port = match port {
        Some(port) => port.parse().ok().filter(|port| *port != 0)?,
        None => 5672,
    };
    valid_host(host).then(|| (host.to_owned(), port))
}

type Credentials = Option<(String, String)>;

/// `amqp://[user[:password]@]host[:port][/]`.
fn parse_url(url: &str) -> Result<(Vec<(String, u16)>, Credentials), AmqpConfigError> {
    const WHICH: &str = "the broker URL (amqp://user:password@host:port)";
    let rest = url
        .strip_prefix("amqp://")
        .ok_or(AmqpConfigError::Invalid(WHICH))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#']) {
        return Err(AmqpConfigError::Invalid(WHICH));
    }
    let (credentials, address) = match rest.rsplit_once('@') {
        Some((credentials, address)) => {
            let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
            let decode = |text: &str| percent_decode(text).ok_or(AmqpConfigError::Invalid(WHICH));
            (Some((decode(user)?, decode(password)?)), address)
        }
        None => (None, rest),
    };
    let address = parse_address(address).ok_or(AmqpConfigError::Invalid(WHICH))?;
    Ok((vec![address], credentials))
}

fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(byte) = input.next() {
        if byte == b'%' {
            let high = (input.next()? as char).to_digit(16)?;
            let low = (input.next()? as char).to_digit(16)?;
            bytes.push((high * 16 + low) as u8);
        } else {
            bytes.push(byte);
        }
    }
    String::from_utf8(bytes).ok()
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
}

/// An IPv6 address in a URL needs brackets.
pub(crate) fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// A random identifier, as REGARDS generates one when none is configured (a UUID there; 128
/// random bits written in hex here, from std's randomly keyed hasher).
fn random_identifier() -> String {
    use std::hash::{BuildHasher, RandomState};
    let high = RandomState::new().hash_one(std::time::SystemTime::now());
    let low = RandomState::new().hash_one(std::process::id());
    format!("{high:016x}{low:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_regards_defaults() {
        let config = AmqpConfig::builder().build().unwrap();
        assert_eq!(config.addresses, [("localhost".to_owned(), 5672)]);
        assert_eq!(
            (config.username.as_str(), config.password.as_str()),
            ("guest", "guest")
        );
        assert_eq!(config.management, "http://localhost:15672/api");
        assert_eq!(config.mode, VhostMode::Single);
        assert_eq!(config.namespace, "regards");
        assert_eq!(config.type_identifier("rs-notifier"), "rs-notifier");
        assert_eq!(config.instance_identifier.len(), 32);
        assert_ne!(
            config.instance_identifier,
            AmqpConfig::builder().build().unwrap().instance_identifier
        );
    }

    #[test]
    fn addresses_are_read_as_spring_writes_them() {
        let config = AmqpConfig::builder()
            .addresses("rabbit1:5673, rabbit2,[::1]:5674")
            .build()
            .unwrap();
        assert_eq!(
            config.addresses,
            [
                ("rabbit1".to_owned(), 5673),
                ("rabbit2".to_owned(), 5672),
                ("::1".to_owned(), 5674)
            ]
        );
    }

    #[test]
    fn a_url_gives_address_and_credentials() {
        let config = AmqpConfig::builder()
            .url("amqp://regards:p%40ss@127.0.0.1:5672")
            .build()
            .unwrap();
        assert_eq!(config.addresses, [("127.0.0.1".to_owned(), 5672)]);
        assert_eq!(config.username, "regards");
        assert_eq!(config.password, "p@ss");
        assert_eq!(config.management, "http://127.0.0.1:15672/api");
    }

    #[test]
    fn configuration_mistakes_name_what_to_fix() {
        let cases = [
            (AmqpConfig::builder().url("http://x"), "broker URL"),
            (AmqpConfig::builder().url("amqp://x/vhost"), "broker URL"),
            (
                AmqpConfig::builder().addresses("host:port"),
                "SPRING_RABBITMQ",
            ),
            (AmqpConfig::builder().addresses(" , "), "SPRING_RABBITMQ"),
            (
                AmqpConfig::builder().management("ftp", "h", 1),
                "MANAGEMENT",
            ),
            (AmqpConfig::builder().namespace("a b"), "NAMESPACE"),
            (
                AmqpConfig::builder().instance_identifier(""),
                "INSTANCEIDENTIFIER",
            ),
            (
                AmqpConfig::builder().type_identifier("x".repeat(300)),
                "TYPEIDENTIFIER",
            ),
            (AmqpConfig::builder().prefetch(0), "prefetch"),
            (AmqpConfig::builder().max_message_size(0), "size"),
        ];
        for (builder, expected) in cases {
            let message = builder.build().unwrap_err().to_string();
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn tls_is_refused_at_start_up() {
        let mut builder = AmqpConfig::builder();
        builder.ssl = true;
        assert_eq!(
            builder.build().unwrap_err(),
            AmqpConfigError::TlsUnsupported
        );
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        let config = AmqpConfig::builder()
            .credentials("u", "hunter2")
            .build()
            .unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
