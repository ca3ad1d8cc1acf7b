//! A small REGARDS look-alike on localhost: a token endpoint that answers like rs-authentication,
//! and a few REGARDS routes protected by `regards_auth`, each with the role REGARDS gives it.
//! One module per REGARDS service it imitates; this file is the table of contents.
//!
//! ```text
//! cargo run --example regards_demo
//!
//! HOST=http://127.0.0.1:8080
//! curl -X POST "$HOST/api/v1/rs-authentication/oauth/token?grant_type=password&scope=project1&username=admin@regards.fr&password=admin" \
//!   -H 'Authorization: Basic Y2xpZW50OnNlY3JldA==' \
//!   -H 'Content-Type: application/json;charset=UTF-8' -H 'Accept: application/json'
//! curl -v -XPUT $HOST/api/v1/rs-notifier/rule -H 'Authorization:Bearer <access_token>' \
//!   -H 'Content-Type: application/json' -H 'Accept: application/json' --data '{"name":"r1"}'
//! ```
//!
//! Configuration (environment, all optional):
//!
//! | variable | default |
//! |---|---|
//! | `REGARDS_DEMO_ADDR` | `127.0.0.1:8080` |
//! | `JWT_SIGNING_KEY_HS512` (and the other `JWT_SIGNING_KEY_*` of `Verifier::from_env`) | REGARDS' public development key, with a warning |
//! | `REGARDS_CLIENT_ID` / `REGARDS_CLIENT_SECRET` | `client` / `secret` |
//! | `REGARDS_TOKEN_VALIDITY` (seconds) | `7200` |
//! | `REGARDS_DEMO_USERS` (path to a JSON file) | the built-in users below |
//!
//! Built-in users: `admin@regards.fr`/`admin` (PROJECT_ADMIN on `project1`, REGISTERED_USER on
//! `project2`), `user@regards.fr`/`user` (REGISTERED_USER on `project1`), `root@regards.fr`/`root`
//! (INSTANCE_ADMIN on `instance`), `operator@regards.fr`/`operator` (NOTIFIER_OPERATOR, a custom
//! role rs-admin knows once an administrator creates it, on `project1` and `project2`). A users
//! file holds the same shape, each project at most once per user:
//! `[{"login": "jane@regards.fr", "password": "...", "roles": {"project1": "EXPLOIT"}}]`.
//!
//! The projects are `project1`, `project2` and every other one a user has a role on. rs-admin
//! keeps the access rights of each (roles, the endpoints every microservice registers at
//! start-up, grants), with REGARDS' paths and payloads. Every microservice, rs-admin included,
//! uses REGARDS-managed access (`regards_auth::managed`): it registers its endpoints with this
//! rs-admin over HTTP, reads the rights administrators grant, and follows their changes
//! (rs-admin's events, and a refresh every `REGARDS_DEMO_REFRESH_SECONDS`, 30 by default).
//! `REGARDS_DEMO_TRUSTED_PROXIES` lists the proxies whose `X-Forwarded-For` / `Forwarded`
//! the roles' address filters believe (none by default). With `REGARDS_AMQP_URL` (e.g.
//! `amqp://guest:guest@127.0.0.1:5672`), rs-admin's events go through RabbitMQ as REGARDS'
//! do, and every service follows them with `regards_auth::managed::amqp::EventListener`.

mod access_project;
pub mod admin;
mod admin_instance;
pub mod authentication;
mod catalog;
mod config;
mod events;
mod gateway;
pub mod notifier;
mod public_aliases;

use std::sync::Arc;

use axum::Router;
use regards_auth::managed::ManagedAccess;
use regards_auth::managed::amqp::{EventListener, EventPublisher};

// Every crate that includes the demo uses `DemoConfig`; only some use the others.
#[allow(unused_imports)]
pub use config::{DemoConfig, DemoUser};
#[allow(unused_imports)]
pub use events::{RightsEvent, RightsEvents};

// Tests include this file as a module and start `app` themselves: `main` is unused there.
#[allow(dead_code)]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let run = async {
        let mut config = DemoConfig::from_env()?;
        let shutdown = shutdown_signal()
            .map_err(|error| format!("cannot listen for Ctrl-C and SIGTERM: {error}"))?;
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|error| {
                format!(
                    "cannot listen on {}: {error} (set REGARDS_DEMO_ADDR)",
                    config.addr
                )
            })?;
        let addr = listener.local_addr().map_err(|error| error.to_string())?;
        // The services reach rs-admin where the demo really listens (port 0 picks one).
        config.addr = addr;
        println!("REGARDS demo listening on http://{addr}");
        // The peer address reaches the services (`ConnectInfo`) for the roles' address filters.
        let app = app(config).into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|error| error.to_string())
    };
    match run.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("regards_demo: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The demo REGARDS stack: the token endpoint and the microservices behind the gateway.
pub fn app(config: DemoConfig) -> Router {
    let events = match &config.amqp {
        Some(amqp) => RightsEvents::with_broker(EventPublisher::new(amqp.clone())),
        None => RightsEvents::default(),
    };
    let demo = demo(config, events);
    // The router owns the listeners: they stop when it is dropped.
    let listeners = Arc::new(demo.listeners);
    demo.router.layer(axum::Extension(listeners))
}

/// The demo's router, and the managed access of each of its microservices.
pub struct Demo {
    /// The gateway and everything behind it.
    pub router: Router,
    /// rs-notifier's, rs-admin's, rs-catalog's, rs-admin-instance's and rs-access-project's
    /// managed access.
    pub services: Vec<ManagedAccess>,
    /// Their RabbitMQ listeners, when the demo has a broker.
    pub listeners: Vec<EventListener>,
}

impl Demo {
    /// Waits until every service has registered its endpoints with rs-admin and read its
    /// rights, for every project; `false` if that takes longer than `timeout`.
    #[allow(dead_code, reason = "tests wait for it; the binary serves at once")]
    pub async fn managed(&self, timeout: std::time::Duration) -> bool {
        let ready = || {
            self.services.iter().all(|service| {
                let health = service.health();
                health.is_up_to_date() && health.projects.iter().all(|p| p.registered)
            })
        };
        let deadline = tokio::time::Instant::now() + timeout;
        while !ready() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        true
    }
}

/// Builds the demo, and starts each microservice's REGARDS-managed access on the current tokio
/// runtime: it registers its endpoints with the demo's rs-admin over HTTP (at
/// [`DemoConfig::admin_url`]), for every project, reads its rights, and reads them again every
/// refresh period and on every rights event rs-admin publishes (on RabbitMQ if
/// [`DemoConfig::amqp`] is set, through the crate's listener; in process otherwise).
pub fn demo(config: DemoConfig, events: RightsEvents) -> Demo {
    let config = Arc::new(config);
    let projects = config.projects();
    let rights = Arc::new(admin::RightsService::new(&projects, events.clone()));
    let instance = admin_instance::Instance {
        logins: config.users.iter().map(|user| user.login.clone()).collect(),
        projects: projects.clone(),
    };
    let microservices = [
        notifier::microservice(),
        admin::microservice(rights),
        catalog::microservice(),
        admin_instance::microservice(instance),
        access_project::microservice(),
    ];
    let mut services = Vec::new();
    let mut listeners = Vec::new();
    let mut routers = Vec::new();
    for microservice in microservices {
        let access = ManagedAccess::builder(microservice.name(), microservice.endpoints().clone())
            .admin_url(config.admin_url())
            .system_tokens(config.issuer.clone())
            .projects(projects.iter().cloned())
            .refresh_period(config.refresh_period)
            .trusted_proxies(config.trusted_proxies.clone())
            .build()
            .unwrap_or_else(|error| panic!("{}: {error}", microservice.name()));
        match &config.amqp {
            Some(amqp) => listeners.push(
                EventListener::start(&access, amqp.clone())
                    .unwrap_or_else(|error| panic!("{}: {error}", microservice.name())),
            ),
            None => follow(&events, &access),
        }
        access.spawn().detach();
        routers.push(microservice.guarded_by(&access));
        services.push(access);
    }
    let router = gateway::gateway(
        config.verifier.clone(),
        config.request_timeout,
        authentication::router(config.clone()),
        routers,
    );
    Demo {
        router,
        services,
        listeners,
    }
}

/// Re-reads `access`'s rights in a project when rs-admin says they changed, as a REGARDS
/// service does on `RoleEvent` (any role) and `ResourceAccessEvent` (its own resources).
fn follow(events: &RightsEvents, access: &ManagedAccess) {
    let access = access.clone();
    events.subscribe(move |event: RightsEvent| {
        let access = access.clone();
        async move {
            let concerned = event
                .microservice
                .as_deref()
                .is_none_or(|microservice| microservice == access.microservice());
            if concerned {
                // A failure is logged and in the health; the periodic refresh catches up.
                let _ = access.refresh(&event.project).await;
            }
        }
    });
}

/// Installs the Ctrl-C (SIGINT) and SIGTERM handlers now, so that a signal sent as soon as the
/// demo says it listens is caught; the future resolves on the first of them, and the server
/// then stops accepting and finishes its requests.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutting down");
    })
}

/// Resolves on Ctrl-C: the server then stops accepting and finishes its requests.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
}
