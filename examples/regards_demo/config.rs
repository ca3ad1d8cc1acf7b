//! The demo's configuration: where to listen, the keys, the OAuth client and the users, from
//! the environment (the variables are listed in `main.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use regards_auth::managed::TrustedProxies;
use regards_auth::managed::amqp::{AmqpConfig, VhostMode};
use regards_auth::{Algorithm, REGARDS_DEVELOPMENT_KEY, Role, TokenIssuer, Verifier};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

/// The tenant of instance-wide accounts (INSTANCE_ADMIN), not a project.
const INSTANCE_TENANT: &str = "instance";

/// What `Debug` shows instead of a secret.
const REDACTED: &str = "<redacted>";

/// Everything the demo needs: where to listen, the keys, the OAuth client and the users.
/// `Debug` shows neither the client secret nor the passwords.
#[derive(Clone)]
pub struct DemoConfig {
    /// Where to listen (`REGARDS_DEMO_ADDR`).
    pub addr: SocketAddr,
    /// Verifies the bearer tokens of the protected routes.
    pub verifier: Verifier,
    /// Mints the tokens of the token endpoint; its validity is the answer's `expires_in`.
    pub issuer: TokenIssuer,
    /// The OAuth client id expected in `Authorization: Basic`.
    pub client_id: String,
    /// The OAuth client secret expected in `Authorization: Basic`.
    pub client_secret: String,
    /// Who can get a token, with which role on which tenant.
    pub users: Vec<DemoUser>,
    /// Requests that take longer are answered with 408 (30 s unless set).
    pub request_timeout: Duration,
    /// How often the services read their rights from rs-admin again
    /// (`REGARDS_DEMO_REFRESH_SECONDS`, 30 s unless set); a change made through rs-admin is
    /// also pushed to them at once, as REGARDS' AMQP events do.
    pub refresh_period: Duration,
    /// The proxies whose `Forwarded` / `X-Forwarded-For` the services believe for the roles'
    /// address filters (`REGARDS_DEMO_TRUSTED_PROXIES`, comma-separated; none unless set).
    pub trusted_proxies: TrustedProxies,
    /// RabbitMQ (`REGARDS_AMQP_URL`, e.g. `amqp://guest:guest@127.0.0.1:5672`, plus the
    /// `SPRING_RABBITMQ_*` / `REGARDS_AMQP_*` variables of `AmqpConfig::from_env`, MULTI vhost
    /// mode unless `REGARDS_AMQP_MANAGEMENT_MODE` says otherwise): rs-admin publishes its events
    /// there as REGARDS' does and every service follows them with the crate's listener. Unset:
    /// the in-process bus.
    pub amqp: Option<AmqpConfig>,
}

/// A user: a login (also the token's `sub` and `email`), a password, a role per tenant.
/// `Debug` does not show the password.
#[derive(Clone)]
pub struct DemoUser {
    /// The login, an e-mail address in REGARDS.
    pub login: String,
    /// The password.
    pub password: String,
    /// The user's role on each tenant (project) it belongs to.
    pub roles: BTreeMap<String, Role>,
}

impl fmt::Debug for DemoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoConfig")
            .field("addr", &self.addr)
            .field("verifier", &self.verifier)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &REDACTED)
            .field("users", &self.users)
            .field("request_timeout", &self.request_timeout)
            .field("refresh_period", &self.refresh_period)
            .field("amqp", &self.amqp)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

impl fmt::Debug for DemoUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoUser")
            .field("login", &self.login)
            .field("password", &REDACTED)
            .field("roles", &self.roles)
            .finish()
    }
}

impl DemoUser {
    /// A user with a role on each of the given tenants.
    pub fn new<'a>(
        login: &str,
        password: &str,
        roles: impl IntoIterator<Item = (&'a str, Role)>,
    ) -> DemoUser {
        DemoUser {
            login: login.to_owned(),
            password: password.to_owned(),
            roles: roles
                .into_iter()
                .map(|(tenant, role)| (tenant.to_owned(), role))
                .collect(),
        }
    }
}

impl DemoConfig {
    /// All defaults: REGARDS' public development key (logged as such, once, by regards_auth),
    /// client `client` / `secret`, 7200 s tokens, the built-in users, `127.0.0.1:8080`.
    pub fn development() -> DemoConfig {
        let verifier = Verifier::builder()
            .hs512(REGARDS_DEVELOPMENT_KEY)
            .allow_development_key()
            .build()
            .expect("the development key is a valid HS512 key");
        DemoConfig::with_keys(verifier, TokenIssuer::development())
    }

    /// The defaults of [`development`](Self::development) around the given keys.
    pub fn with_keys(verifier: Verifier, issuer: TokenIssuer) -> DemoConfig {
        DemoConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            verifier,
            issuer,
            client_id: "client".into(),
            client_secret: "secret".into(),
            request_timeout: Duration::from_secs(30),
            refresh_period: Duration::from_secs(30),
            trusted_proxies: TrustedProxies::none(),
            amqp: None,
            users: vec![
                DemoUser::new(
                    "admin@regards.fr",
                    "admin",
                    [
                        ("project1", Role::ProjectAdmin),
                        ("project2", Role::RegisteredUser),
                    ],
                ),
                DemoUser::new(
                    "user@regards.fr",
                    "user",
                    [("project1", Role::RegisteredUser)],
                ),
                DemoUser::new(
                    "root@regards.fr",
                    "root",
                    [("instance", Role::InstanceAdmin)],
                ),
                // A custom role that exists only once an administrator creates it in rs-admin.
                DemoUser::new(
                    "operator@regards.fr",
                    "operator",
                    [
                        ("project1", Role::Custom("NOTIFIER_OPERATOR".into())),
                        ("project2", Role::Custom("NOTIFIER_OPERATOR".into())),
                    ],
                ),
            ],
        }
    }

    /// Where the demo's services reach rs-admin: the demo's own, over HTTP, through the
    /// gateway's prefix, as they would reach a remote one.
    pub fn admin_url(&self) -> String {
        format!("http://{}/api/v1/rs-admin", self.addr)
    }

    /// The projects the demo serves: `project1`, `project2` and every project a user has a
    /// role on, except `instance`, REGARDS' name for the instance itself.
    pub fn projects(&self) -> BTreeSet<String> {
        let named = self.users.iter().flat_map(|user| user.roles.keys());
        ["project1", "project2"]
            .into_iter()
            .map(str::to_owned)
            .chain(named.filter(|tenant| *tenant != INSTANCE_TENANT).cloned())
            .collect()
    }

    /// [`development`](Self::development), changed by the environment variables listed in the
    /// module docs. The error says which variable to fix.
    pub fn from_env() -> Result<DemoConfig, String> {
        let any_key_set = Algorithm::ALL
            .iter()
            .any(|algorithm| std::env::var_os(algorithm.env_var()).is_some());
        let mut config = if any_key_set {
            keys_from_env()?
        } else {
            DemoConfig::development()
        };
        if let Some(addr) = env_var("REGARDS_DEMO_ADDR")? {
            config.addr = addr.parse().map_err(|_| {
                "REGARDS_DEMO_ADDR is not an address and port like 127.0.0.1:8080".to_owned()
            })?;
        }
        if let Some(client_id) = env_var("REGARDS_CLIENT_ID")? {
            config.client_id = client_id;
        }
        if let Some(client_secret) = env_var("REGARDS_CLIENT_SECRET")? {
            config.client_secret = client_secret;
        }
        if let Some(validity) = env_var("REGARDS_TOKEN_VALIDITY")? {
            let seconds = validity.parse::<u64>().ok().filter(|&s| s > 0).ok_or(
                "REGARDS_TOKEN_VALIDITY must be a positive number of seconds (REGARDS uses 7200)",
            )?;
            config.issuer = config.issuer.with_validity(Duration::from_secs(seconds));
        }
        if let Some(path) = env_var("REGARDS_DEMO_USERS")? {
            config.users = read_users(&path)?;
        }
        if let Some(seconds) = env_var("REGARDS_DEMO_REFRESH_SECONDS")? {
            let seconds = seconds
                .parse::<u64>()
                .ok()
                .filter(|&s| s > 0)
                .ok_or("REGARDS_DEMO_REFRESH_SECONDS must be a positive number of seconds")?;
            config.refresh_period = Duration::from_secs(seconds);
        }
        if let Some(proxies) = env_var("REGARDS_DEMO_TRUSTED_PROXIES")? {
            config.trusted_proxies = TrustedProxies::new(proxies.split(',').map(str::trim))
                .map_err(|error| format!("REGARDS_DEMO_TRUSTED_PROXIES: {error}"))?;
        }
        if let Some(url) = env_var("REGARDS_AMQP_URL")? {
            let amqp = AmqpConfig::builder()
                .vhost_mode(VhostMode::Multi)
                .env()
                .url(url)
                .build()
                .map_err(|error| format!("REGARDS_AMQP_URL: {error}"))?;
            config.amqp = Some(amqp);
        }
        Ok(config)
    }
}

/// The defaults with the operator's keys: the verifier takes every
/// `JWT_SIGNING_KEY_*`, the issuer signs with the HS512 one, as rs-authentication does.
fn keys_from_env() -> Result<DemoConfig, String> {
    let verifier = Verifier::builder()
        .keys_from_env()
        // A demo may run with the public key on purpose; the crate logs a warning if so.
        .allow_development_key()
        .build()
        .map_err(|error| error.to_string())?;
    let key = std::env::var(Algorithm::HS512.env_var()).map_err(|_| {
        "the demo mints HS512 tokens as REGARDS does: set JWT_SIGNING_KEY_HS512 too".to_owned()
    })?;
    let issuer = if key == REGARDS_DEVELOPMENT_KEY {
        TokenIssuer::development()
    } else {
        TokenIssuer::new(Algorithm::HS512, key).map_err(|error| error.to_string())?
    };
    Ok(DemoConfig::with_keys(verifier, issuer))
}

/// A variable that is set and not empty.
fn env_var(name: &str) -> Result<Option<String>, String> {
    match std::env::var(name) {
        Ok(value) if value.is_empty() => Err(format!("{name} is empty: unset it or give a value")),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{name} is not valid UTF-8")),
    }
}

/// Reads a users file: `[{"login": ..., "password": ..., "roles": {"<tenant>": "<ROLE>"}}]`.
fn read_users(path: &str) -> Result<Vec<DemoUser>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        login: String,
        password: String,
        roles: UniqueKeys,
    }
    let shape =
        r#"a JSON array of {"login": "...", "password": "...", "roles": {"<tenant>": "<ROLE>"}}"#;
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("REGARDS_DEMO_USERS: cannot read {path}: {error}"))?;
    let entries: Vec<Entry> = serde_json::from_str(&text)
        .map_err(|error| format!("REGARDS_DEMO_USERS: {path} is not {shape}: {error}"))?;
    let mut users: Vec<DemoUser> = Vec::with_capacity(entries.len());
    for Entry {
        login,
        password,
        roles: UniqueKeys(roles),
    } in entries
    {
        let blank = [&login, &password]
            .into_iter()
            .chain(roles.keys())
            .chain(roles.values());
        if blank.into_iter().any(String::is_empty) || users.iter().any(|u| u.login == login) {
            return Err(format!(
                "REGARDS_DEMO_USERS: {path} has an empty field or a login listed twice"
            ));
        }
        let roles = roles
            .iter()
            .map(|(tenant, role)| (tenant.as_str(), Role::from_name(role)));
        users.push(DemoUser::new(&login, &password, roles));
    }
    Ok(users)
}

/// A JSON object of strings whose keys are all different. serde keeps the last of duplicated
/// keys; a users file that gives a user two roles on one project is a mistake to report.
struct UniqueKeys(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UniqueKeysVisitor;

        impl<'de> Visitor<'de> for UniqueKeysVisitor {
            type Value = UniqueKeys;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"an object {"<tenant>": "<ROLE>"}"#)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
                let mut entries = BTreeMap::new();
                while let Some((key, value)) = map.next_entry::<String, String>()? {
                    if entries.contains_key(&key) {
                        return Err(serde::de::Error::custom(format_args!(
                            "project {key:?} is listed more than once in a user's roles: \
                             keep one role per project"
                        )));
                    }
                    entries.insert(key, value);
                }
                Ok(UniqueKeys(entries))
            }
        }

        deserializer.deserialize_map(UniqueKeysVisitor)
    }
}
