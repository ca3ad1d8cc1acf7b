//! [`ManagedAccessBuilder`]: the settings of a [`ManagedAccess`], checked once at start-up.

use std::sync::Arc;
use std::time::Duration;

use super::access::ManagedAccess;
use super::address::TrustedProxies;
use super::admin::AdminClient;
use super::endpoint::Endpoints;
use super::error::ManagedConfigError;
use super::refresher::{DEFAULT_REFRESH_PERIOD, DEFAULT_SAFETY_REFRESH_PERIOD};
use super::state::{RefreshPeriods, Settings, Shared};
use crate::TokenIssuer;
use crate::client::HttpTransport;
use crate::role::RoleHierarchy;

/// How long reading a project's rights (its roles, then each role's endpoints) may take in
/// all by default: 60 seconds.
pub const DEFAULT_REFRESH_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one call to rs-admin may take by default: 10 seconds.
pub const DEFAULT_ADMIN_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest rs-admin answer read by default: 4 MiB.
pub const DEFAULT_MAX_RESPONSE: usize = 4 << 20;
/// The most bytes the answers of one project's refresh may take in all by default: 32 MiB.
pub const DEFAULT_MAX_REFRESH_SIZE: usize = 32 << 20;

/// Builds a [`ManagedAccess`]; see [`ManagedAccess::builder`].
#[derive(Debug)]
pub struct ManagedAccessBuilder {
    microservice: String,
    endpoints: Endpoints,
    admin_url: Option<String>,
    instance_url: Option<String>,
    projects: Vec<String>,
    issuer: Option<TokenIssuer>,
    refresh_period: Duration,
    safety_refresh_period: Duration,
    refresh_timeout: Duration,
    timeout: Duration,
    max_response: usize,
    max_refresh_size: usize,
    strict: bool,
    trusted_proxies: TrustedProxies,
    default_hierarchy: RoleHierarchy,
    transport: Option<HttpTransport>,
}

impl ManagedAccess {
    /// Starts configuring managed access for `microservice` (REGARDS'
    /// `spring.application.name`, e.g. `rs-notifier`) and its declared `endpoints`.
    pub fn builder(microservice: impl Into<String>, endpoints: Endpoints) -> ManagedAccessBuilder {
        ManagedAccessBuilder {
            microservice: microservice.into(),
            endpoints,
            admin_url: None,
            instance_url: None,
            projects: Vec::new(),
            issuer: None,
            refresh_period: DEFAULT_REFRESH_PERIOD,
            safety_refresh_period: DEFAULT_SAFETY_REFRESH_PERIOD,
            refresh_timeout: DEFAULT_REFRESH_TIMEOUT,
            timeout: DEFAULT_ADMIN_TIMEOUT,
            max_response: DEFAULT_MAX_RESPONSE,
            max_refresh_size: DEFAULT_MAX_REFRESH_SIZE,
            strict: false,
            trusted_proxies: TrustedProxies::none(),
            default_hierarchy: RoleHierarchy::new(),
            transport: None,
        }
    }
}

impl ManagedAccessBuilder {
    /// rs-admin's base URL: `http://rs-admin:9011` when services call it directly (as REGARDS'
    /// Feign clients do), or the gateway's `http://gateway:9030/api/v1/rs-admin`.
    pub fn admin_url(mut self, url: impl Into<String>) -> Self {
        self.admin_url = Some(url.into());
        self
    }

    /// rs-admin-instance's base URL, to discover the projects this service is active on
    /// (`GET /tenants/{microservice}`, as REGARDS' tenant resolver), again every refresh period.
    pub fn admin_instance_url(mut self, url: impl Into<String>) -> Self {
        self.instance_url = Some(url.into());
        self
    }

    /// Projects to serve (REGARDS' `regards.tenants`), in addition to discovered ones.
    pub fn projects<I, P>(mut self, projects: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.projects.extend(projects.into_iter().map(Into::into));
        self
    }

    /// Mints the system tokens the service calls rs-admin with (role
    /// `ROLE_SYS_<microservice>`, tenant the project), with REGARDS' shared key. Required.
    pub fn system_tokens(mut self, issuer: TokenIssuer) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// How often rights are read again while rs-admin's events do not reach the service
    /// (default [`DEFAULT_REFRESH_PERIOD`], 60 s): without an `amqp::EventListener`, or while its
    /// broker link is down. A change made in rs-admin is then followed within this period, or
    /// at once through [`ManagedAccess::refresh`].
    pub fn refresh_period(mut self, period: Duration) -> Self {
        self.refresh_period = period;
        self
    }

    /// How often rights are read again while an `amqp::EventListener` follows rs-admin's
    /// events (default [`DEFAULT_SAFETY_REFRESH_PERIOD`], 10 minutes). Events bring every
    /// change at once; this period only bounds how long an event lost in a way the listener
    /// cannot see (a broker's bug, an operator purging a queue) may go unnoticed. When the link
    /// is lost, the period goes back to [`refresh_period`](Self::refresh_period) from that
    /// moment, and every project is read again once the link is back.
    pub fn safety_refresh_period(mut self, period: Duration) -> Self {
        self.safety_refresh_period = period;
        self
    }

    /// How long reading a project's rights may take in all, every call included (default
    /// [`DEFAULT_REFRESH_TIMEOUT`]); past it the refresh fails and the rights in force stay.
    pub fn refresh_timeout(mut self, timeout: Duration) -> Self {
        self.refresh_timeout = timeout;
        self
    }

    /// How long one call to rs-admin may take (default [`DEFAULT_ADMIN_TIMEOUT`]).
    pub fn admin_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest rs-admin answer read (default [`DEFAULT_MAX_RESPONSE`]); a larger one fails
    /// the refresh.
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response = bytes;
        self
    }

    /// The most bytes the answers of one project's refresh may take in all, its roles and
    /// every role's grants (default [`DEFAULT_MAX_REFRESH_SIZE`]); past it the refresh fails
    /// and the rights in force stay.
    pub fn max_refresh_size(mut self, bytes: usize) -> Self {
        self.max_refresh_size = bytes;
        self
    }

    /// On a project whose rights were never read from rs-admin, refuses (403) every request
    /// but those of system roles, INSTANCE_ADMIN and PROJECT_ADMIN, and those on endpoints
    /// whose default role is PUBLIC (open to all, as in REGARDS), instead of deciding from the
    /// declared default roles. This is what REGARDS itself does.
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// The proxies whose `Forwarded` / `X-Forwarded-For` headers give the client address for
    /// the roles' address filters (default: none, the connection's peer is the client).
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// The hierarchy the declared default roles are reached through before rs-admin's rights
    /// are read (default: the native one; add custom roles you know of).
    pub fn default_hierarchy(mut self, hierarchy: RoleHierarchy) -> Self {
        self.default_hierarchy = hierarchy;
        self
    }

    /// The HTTP client for rs-admin (default: a new [`HttpTransport`]; give one with your TLS
    /// configuration for `https://`).
    pub fn transport(mut self, transport: HttpTransport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    ///
    /// The first mistake found, in this order:
    /// - [`ManagedConfigError::InvalidMicroservice`]: the microservice name is empty or not
    ///   only letters, digits, `-`, `_` and `.`;
    /// - [`ManagedConfigError::InvalidAdminUrl`]: no [`admin_url`](Self::admin_url), or it
    ///   or the [`admin_instance_url`](Self::admin_instance_url) is not an absolute `http://`
    ///   or `https://` URL with a host and without query or fragment;
    /// - [`ManagedConfigError::EmptyProject`]: an empty project name;
    /// - [`ManagedConfigError::NoProject`]: no project and no rs-admin-instance URL;
    /// - [`ManagedConfigError::MissingSystemTokens`]: no [`system_tokens`](Self::system_tokens);
    /// - [`ManagedConfigError::ZeroSetting`]: a zero refresh period, safety refresh period,
    ///   refresh timeout, rs-admin timeout, response size cap or refresh size cap.
    pub fn build(self) -> Result<ManagedAccess, ManagedConfigError> {
        let microservice_ok = !self.microservice.is_empty()
            && self
                .microservice
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !microservice_ok {
            return Err(ManagedConfigError::InvalidMicroservice);
        }
        let admin = base_url(self.admin_url.as_deref(), "rs-admin")?
            .ok_or(ManagedConfigError::InvalidAdminUrl("rs-admin"))?;
        let instance = base_url(self.instance_url.as_deref(), "rs-admin-instance")?;
        if self.projects.iter().any(String::is_empty) {
            return Err(ManagedConfigError::EmptyProject);
        }
        if self.projects.is_empty() && instance.is_none() {
            return Err(ManagedConfigError::NoProject);
        }
        let issuer = self.issuer.ok_or(ManagedConfigError::MissingSystemTokens)?;
        if self.refresh_period.is_zero() {
            return Err(ManagedConfigError::ZeroSetting("the refresh period"));
        }
        if self.safety_refresh_period.is_zero() {
            return Err(ManagedConfigError::ZeroSetting("the safety refresh period"));
        }
        if self.refresh_timeout.is_zero() {
            return Err(ManagedConfigError::ZeroSetting("the refresh timeout"));
        }
        if self.timeout.is_zero() {
            return Err(ManagedConfigError::ZeroSetting("the rs-admin timeout"));
        }
        if self.max_response == 0 {
            return Err(ManagedConfigError::ZeroSetting(
                "the rs-admin response size cap",
            ));
        }
        if self.max_refresh_size == 0 {
            return Err(ManagedConfigError::ZeroSetting("the refresh size cap"));
        }
        let admin = AdminClient {
            admin,
            instance,
            microservice: self.microservice,
            issuer,
            transport: self.transport.unwrap_or_default(),
            timeout: self.timeout,
            max_response: self.max_response,
        };
        let settings = Settings {
            periods: RefreshPeriods {
                without_events: self.refresh_period,
                with_events: self.safety_refresh_period,
            },
            refresh_timeout: self.refresh_timeout,
            max_refresh_size: self.max_refresh_size,
            strict: self.strict,
            trusted_proxies: self.trusted_proxies,
            default_hierarchy: self.default_hierarchy,
        };
        let shared = Arc::new(Shared::new(self.endpoints, admin, settings));
        let added: Vec<&str> = self
            .projects
            .iter()
            .filter(|project| shared.insert_project(project))
            .map(String::as_str)
            .collect();
        if !added.is_empty() {
            shared.log_new_projects(&added.join(", "));
        }
        Ok(ManagedAccess { shared })
    }
}

/// Checks a base URL (absolute http(s), no query or fragment) and drops its trailing `/`.
fn base_url(url: Option<&str>, which: &'static str) -> Result<Option<String>, ManagedConfigError> {
    let Some(url) = url else {
        return Ok(None);
    };
    let parsed: http::Uri = url
        .parse()
        .map_err(|_| ManagedConfigError::InvalidAdminUrl(which))?;
    let scheme_ok = matches!(parsed.scheme_str(), Some("http" | "https"));
    if !scheme_ok || parsed.host().is_none() || parsed.query().is_some() || url.contains('#') {
        return Err(ManagedConfigError::InvalidAdminUrl(which));
    }
    Ok(Some(url.trim_end_matches('/').to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::fixtures::endpoints;

    fn builder() -> ManagedAccessBuilder {
        ManagedAccess::builder("rs-notifier", endpoints())
            .admin_url("http://127.0.0.1:9/api/v1/rs-admin/")
            .system_tokens(TokenIssuer::development())
            .projects(["project1"])
    }

    #[test]
    fn a_valid_configuration_builds() {
        let access = builder().build().unwrap();
        assert_eq!(
            access.shared.admin.admin,
            "http://127.0.0.1:9/api/v1/rs-admin"
        );
        assert_eq!(access.projects(), ["project1"]);
    }

    #[test]
    fn configuration_mistakes_say_what_to_fix() {
        let cases: Vec<(ManagedAccessBuilder, ManagedConfigError)> = vec![
            (
                ManagedAccess::builder("rs notifier", endpoints()),
                ManagedConfigError::InvalidMicroservice,
            ),
            (
                ManagedAccess::builder("", endpoints()),
                ManagedConfigError::InvalidMicroservice,
            ),
            (
                ManagedAccess::builder("rs-notifier", endpoints()),
                ManagedConfigError::InvalidAdminUrl("rs-admin"),
            ),
            (
                builder().admin_url("rs-admin:9011"),
                ManagedConfigError::InvalidAdminUrl("rs-admin"),
            ),
            (
                builder().admin_url("ftp://rs-admin"),
                ManagedConfigError::InvalidAdminUrl("rs-admin"),
            ),
            (
                builder().admin_url("http://rs-admin/?x=1"),
                ManagedConfigError::InvalidAdminUrl("rs-admin"),
            ),
            (
                builder().admin_instance_url("nope"),
                ManagedConfigError::InvalidAdminUrl("rs-admin-instance"),
            ),
            (builder().projects([""]), ManagedConfigError::EmptyProject),
            (
                ManagedAccess::builder("rs-notifier", endpoints())
                    .admin_url("http://rs-admin")
                    .system_tokens(TokenIssuer::development()),
                ManagedConfigError::NoProject,
            ),
            (
                ManagedAccess::builder("rs-notifier", endpoints())
                    .admin_url("http://rs-admin")
                    .projects(["p"]),
                ManagedConfigError::MissingSystemTokens,
            ),
            (
                builder().refresh_period(Duration::ZERO),
                ManagedConfigError::ZeroSetting("the refresh period"),
            ),
            (
                builder().safety_refresh_period(Duration::ZERO),
                ManagedConfigError::ZeroSetting("the safety refresh period"),
            ),
            (
                builder().admin_timeout(Duration::ZERO),
                ManagedConfigError::ZeroSetting("the rs-admin timeout"),
            ),
            (
                builder().max_response_size(0),
                ManagedConfigError::ZeroSetting("the rs-admin response size cap"),
            ),
        ];
        for (builder, expected) in cases {
            let error = builder.build().unwrap_err();
            assert_eq!(error, expected);
            assert!(!error.to_string().is_empty());
        }
    }
}
