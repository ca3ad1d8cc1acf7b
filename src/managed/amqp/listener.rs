//! [`EventListener`]: one connection per virtual host, one queue per event, deliveries read and
//! acknowledged as they come, the access refreshed in the background; the broker lost and found
//! again as an ordinary state.

use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::{Duration, SystemTime};

use futures_core::Stream;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPUri, AMQPUserInfo};
use lapin::{Connection, ConnectionProperties, Consumer};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::config::{AmqpConfig, FIRST_RECONNECT_BACKOFF, MAX_RECONNECT_BACKOFF};
use super::error::{AmqpConfigError, AmqpError};
use super::health::{BrokerHealth, LinkHealth};
use super::management;
use super::message::{self, Dropped, Event, project_name};
use super::topology::{self, EventKind, INSTANCE_VHOST, VhostMode};
use crate::client::HttpTransport;
use crate::managed::backoff::Backoff;
use crate::managed::{BrokerLink, MAX_PROJECTS, ManagedAccess};

/// How often the projects served are looked at, for projects added by other means than an
/// event (discovery, [`ManagedAccess::add_project`]).
const PROJECTS_CHECK: Duration = Duration::from_secs(5);
/// At most this many event-driven refreshes of a project start in any [`REFRESH_WINDOW`]: a
/// lone event, and the one after it (a role created, then granted), are followed at once; a
/// stream of events costs four refreshes a second, whatever their number.
const REFRESH_BURST: usize = 2;
const REFRESH_WINDOW: Duration = Duration::from_millis(500);
/// The heartbeat asked of the broker: a broker that vanished without closing is noticed within
/// two of them.
const HEARTBEAT_SECONDS: u16 = 20;
/// The longest name AMQP carries (a short string: virtual hosts, exchanges, queues).
const MAX_SHORT_STRING: usize = 255;

/// Follows rs-admin's events over RabbitMQ for a [`ManagedAccess`], as a Java REGARDS service's
/// `SecurityEventHandler` and `AmqpEventHandler` do:
///
/// | event (queue per instance) | effect |
/// |---|---|
/// | `RoleEvent` | [`ManagedAccess::refresh`] of the project |
/// | `ResourceAccessEvent` naming this microservice | [`ManagedAccess::refresh`] of the project |
/// | `ResourceAccessInit` | [`ManagedAccess::register_and_refresh`] of the project |
/// | `TenantCreatedEvent` (instance vhost) | with an [rs-admin-instance URL](crate::managed::ManagedAccessBuilder::admin_instance_url), its project list read again (at most once a second), which serves the project if it lists it; without, [`ManagedAccess::add_project`] (unless [`follow_projects(false)`](super::AmqpConfigBuilder::follow_projects)) |
/// | `TenantDeletedEvent` (instance vhost) | [`ManagedAccess::remove_project`] (unless [`follow_projects(false)`](super::AmqpConfigBuilder::follow_projects)), then, with an rs-admin-instance URL, its list read again (creation and deletion travel in two queues, which RabbitMQ does not order); in MULTI mode the project's link closes |
///
/// Refreshes run in the background, one at a time per project, at most two starting in any
/// 500 ms: a lone event, and the next one, are followed at once; the events that come while a
/// refresh runs or waits its turn are joined into the next one (a burst of a thousand costs
/// about four refreshes per second it lasts). A delivery is acknowledged once its refresh is started or joined to a pending
/// one. A delivery that cannot be read (too large, no tenant, unknown type or converter, bad
/// JSON) or that concerns a project not served is acknowledged, counted in
/// [`health`](Self::health) and dropped, never requeued. When the broker is unreachable, each
/// link tries again with a jittered backoff (0.5 s doubling to 30 s); once connected again, the
/// projects it carries are refreshed in full, since their events were missed.
///
/// The listener tells the access whether events reach it ([`Health::broker_link`](crate::managed::Health::broker_link)):
/// while every link is up, the periodic refresh of [`ManagedAccess::spawn`] is only a safety
/// net, every [`safety_refresh_period`](crate::managed::ManagedAccessBuilder::safety_refresh_period)
/// (10 minutes by default); while a link is down or not connected yet, and once the listener is
/// dropped, it is back to every [`refresh_period`](crate::managed::ManagedAccessBuilder::refresh_period)
/// (60 s by default). One listener per access: a second one is refused.
///
/// The listener stops when this handle is dropped.
///
/// ```no_run
/// use regards_auth::managed::ManagedAccess;
/// use regards_auth::managed::amqp::{AmqpConfig, EventListener};
///
/// # fn run(access: ManagedAccess) -> Result<(), Box<dyn std::error::Error>> {
/// let _refresher = access.spawn();
/// let _events = EventListener::start(&access, AmqpConfig::from_env()?)?;
/// # Ok(()) }
/// ```
#[must_use = "the listener stops when the EventListener is dropped"]
#[derive(Debug)]
pub struct EventListener {
    state: Arc<ListenerState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EventListener {
    fn drop(&mut self) {
        self.task.abort();
        let mut stopped = self
            .state
            .stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *stopped = true;
        self.state.access.shared.set_broker_link(BrokerLink::Absent);
    }
}

impl EventListener {
    /// Checks the names this instance will use and starts listening on the current tokio
    /// runtime. Connecting happens in the background: an unreachable broker is not an error
    /// here, it shows in [`health`](Self::health) and the logs.
    ///
    /// # Errors
    ///
    /// - [`AmqpConfigError::Invalid`]: the type identifier (the microservice name unless
    ///   [configured](super::AmqpConfigBuilder::type_identifier)) is not 1 to 64 letters,
    ///   digits, `.`, `-`, `_` or `:`;
    /// - [`AmqpConfigError::NameTooLong`]: a queue name this instance would use is longer than
    ///   AMQP's 255 bytes;
    /// - [`AmqpConfigError::AlreadyFollowed`]: another listener of `access` is alive.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as [`tokio::spawn`]; `access` is left as it was.
    pub fn start(access: &ManagedAccess, config: AmqpConfig) -> Result<Self, AmqpConfigError> {
        // Outside a runtime, panic before the access is marked as followed, not after.
        let runtime = tokio::runtime::Handle::current();
        let microservice = access.microservice();
        let type_identifier = config.type_identifier(microservice);
        if !topology::valid_name_part(type_identifier) {
            return Err(AmqpConfigError::Invalid(
                "REGARDS_AMQP_MICROSERVICE_TYPEIDENTIFIER (or the microservice name)",
            ));
        }
        for kind in EventKind::PROJECT.into_iter().chain(EventKind::INSTANCE) {
            let queue = topology::queue_name(
                &config.namespace,
                type_identifier,
                &config.instance_identifier,
                kind,
            );
            if queue.len() > 255 {
                return Err(AmqpConfigError::NameTooLong(queue));
            }
        }
        if !access.shared.claim_broker_link() {
            return Err(AmqpConfigError::AlreadyFollowed);
        }
        let state = Arc::new(ListenerState {
            access: access.clone(),
            config,
            transport: HttpTransport::new(),
            links: Mutex::default(),
            pending: Mutex::default(),
            handled: AtomicU64::new(0),
            dropped: Default::default(),
            wake: tokio::sync::Notify::new(),
            stopped: Mutex::new(false),
        });
        let task = runtime.spawn(supervise(state.clone()));
        Ok(EventListener { state, task })
    }

    /// The broker links and what was received, for a health endpoint.
    pub fn health(&self) -> BrokerHealth {
        self.state.health()
    }
}

/// What the supervisor, the links and the handle share.
struct ListenerState {
    access: ManagedAccess,
    config: AmqpConfig,
    transport: HttpTransport,
    links: Mutex<BTreeMap<String, LinkState>>,
    /// Per project: the refresh running or waiting its turn, and when the last ones started.
    pending: Mutex<HashMap<String, Refreshes>>,
    handled: AtomicU64,
    dropped: [AtomicU64; Dropped::ALL.len()],
    /// Wakes the supervisor when a project is added or removed.
    wake: tokio::sync::Notify,
    /// Set when the handle is dropped: the links still running must not report being up.
    stopped: Mutex<bool>,
}

impl std::fmt::Debug for ListenerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct LinkState {
    connected: bool,
    connected_since: Option<SystemTime>,
    last_error: Option<String>,
    connections: u64,
    /// Set once a failure was logged, so that a broker down is logged once, not per attempt.
    failing: bool,
}

/// What an event asks of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Work {
    Refresh,
    RegisterAndRefresh,
}

/// The event-driven refreshes of one project.
#[derive(Default)]
struct Refreshes {
    /// A task runs this project's refreshes (or waits to start the next one).
    running: bool,
    /// What the events that came since the last refresh started ask for.
    asked: Option<Work>,
    pacer: Pacer,
}

/// Spaces the starts of a project's refreshes: at most [`REFRESH_BURST`] in any
/// [`REFRESH_WINDOW`].
#[derive(Debug, Default)]
struct Pacer {
    /// The last starts, the oldest first.
    starts: [Option<Instant>; REFRESH_BURST],
}

impl Pacer {
    /// When the next refresh may start.
    fn next_start(&self, now: Instant) -> Instant {
        match self.starts[0] {
            Some(oldest) => now.max(oldest + REFRESH_WINDOW),
            None => now,
        }
    }

    fn started(&mut self, at: Instant) {
        self.starts.rotate_left(1);
        self.starts[REFRESH_BURST - 1] = Some(at);
    }
}

/// Starts and stops one link per virtual host as the projects served change.
async fn supervise(state: Arc<ListenerState>) {
    let mut links = JoinSet::new();
    let mut running: HashMap<String, tokio::task::AbortHandle> = HashMap::new();
    loop {
        let wanted = state.wanted_links();
        running.retain(|vhost, task| {
            let keep = wanted.contains_key(vhost);
            if !keep {
                task.abort();
                state.lock_links().remove(vhost);
            }
            keep
        });
        for (vhost, kinds) in wanted {
            if let std::collections::hash_map::Entry::Vacant(entry) = running.entry(vhost) {
                let vhost = entry.key().clone();
                // Only the supervisor adds and removes a link's entry: an aborted link that was
                // between two awaits on another worker must not bring its entry back.
                state
                    .lock_links()
                    .insert(vhost.clone(), LinkState::default());
                entry.insert(links.spawn(keep_linked(state.clone(), vhost, kinds)));
            }
        }
        // Reap finished links. They end only when aborted, or if one panicked: that one is
        // started again at the next check (at most every PROJECTS_CHECK), not left dead.
        while let Some(ended) = links.try_join_next_with_id() {
            let Err(error) = ended else { continue };
            if !error.is_panic() {
                continue;
            }
            let id = error.id();
            if let Some(vhost) = running
                .iter()
                .find_map(|(vhost, task)| (task.id() == id).then(|| vhost.clone()))
            {
                running.remove(&vhost);
                state.record_lost(&vhost, &AmqpError::Connection("the link failed".into()));
            }
        }
        state.report_link();
        state.forget_unserved();
        tokio::select! {
            () = tokio::time::sleep(PROJECTS_CHECK) => {}
            () = state.wake.notified() => {}
        }
    }
}

/// The events a link receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkKind {
    /// Security events of the projects in this vhost.
    Projects,
    /// Tenant life-cycle events.
    Instance,
}

impl LinkKind {
    fn events(self) -> &'static [EventKind] {
        match self {
            LinkKind::Projects => &EventKind::PROJECT,
            LinkKind::Instance => &EventKind::INSTANCE,
        }
    }
}

/// Keeps one virtual host's link up: connects, declares, consumes; after a loss, waits and does
/// it again.
async fn keep_linked(state: Arc<ListenerState>, vhost: String, kind: LinkKind) {
    let mut backoff = Backoff::new(FIRST_RECONNECT_BACKOFF, MAX_RECONNECT_BACKOFF);
    loop {
        let lost = link(&state, &vhost, kind, &mut backoff).await;
        state.record_lost(&vhost, &lost);
        state.report_link();
        tokio::time::sleep(backoff.next()).await;
    }
}

/// One life of a link: returns why it ended.
async fn link(
    state: &Arc<ListenerState>,
    vhost: &str,
    kind: LinkKind,
    backoff: &mut Backoff,
) -> AmqpError {
    let config = &state.config;
    if let Err(error) = management::ensure_vhost(&state.transport, config, vhost).await {
        return error;
    }
    let connection = match connect(config, vhost, state.access.microservice()).await {
        Ok(connection) => connection,
        Err(error) => return error,
    };
    let consumers = match subscribe(state, &connection, kind).await {
        Ok(consumers) => consumers,
        Err(error) => {
            let _ = connection.close(200, "declaration refused".into()).await;
            return error;
        }
    };
    backoff.reset();
    state.record_connected(vhost);
    state.report_link();
    if kind == LinkKind::Projects {
        // Whatever happened while the link was down is unknown: read every project it carries.
        for project in state.projects_of(vhost) {
            state.request(&project, Work::Refresh);
        }
    }
    let lost = consume(state, vhost, consumers).await;
    let _ = connection.close(200, "listener stopping".into()).await;
    lost
}

pub(crate) async fn connect(
    config: &AmqpConfig,
    vhost: &str,
    microservice: &str,
) -> Result<Connection, AmqpError> {
    if vhost.len() > MAX_SHORT_STRING {
        // lapin would panic on it.
        return Err(AmqpError::Connection(
            "virtual host name longer than 255 bytes".into(),
        ));
    }
    let mut last = AmqpError::Connection("no address".into());
    for (host, port) in &config.addresses {
        let uri = AMQPUri {
            authority: AMQPAuthority {
                userinfo: AMQPUserInfo {
                    username: config.username.clone(),
                    password: config.password.clone(),
                },
                host: host.clone(),
                port: *port,
            },
            vhost: vhost.to_owned(),
            query: AMQPQueryString {
                heartbeat: Some(HEARTBEAT_SECONDS),
                ..AMQPQueryString::default()
            },
            ..AMQPUri::default()
        };
        let name = format!("{microservice} {}", config.instance_identifier);
        let properties = ConnectionProperties::default().with_connection_name(name.into());
        match tokio::time::timeout(
            config.connect_timeout,
            Connection::connect_uri(uri, properties),
        )
        .await
        {
            Ok(Ok(connection)) => return Ok(connection),
            Ok(Err(error)) => last = error.into(),
            Err(_) => last = AmqpError::Timeout,
        }
    }
    Err(last)
}

/// Declares what REGARDS declares for these subscriptions and starts consuming.
async fn subscribe(
    state: &ListenerState,
    connection: &Connection,
    kind: LinkKind,
) -> Result<Vec<(EventKind, Consumer)>, AmqpError> {
    let config = &state.config;
    let channel = connection.create_channel().await?;
    channel
        .basic_qos(config.prefetch, BasicQosOptions::default())
        .await?;
    topology::declare_dead_letter(&channel).await?;
    let type_identifier = config.type_identifier(state.access.microservice());
    let mut consumers = Vec::new();
    for &event in kind.events() {
        let queue = topology::queue_name(
            &config.namespace,
            type_identifier,
            &config.instance_identifier,
            event,
        );
        topology::declare_subscription(&channel, &config.namespace, &queue, event).await?;
        let consumer = channel
            .basic_consume(
                queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        consumers.push((event, consumer));
    }
    Ok(consumers)
}

/// Reads the consumers' deliveries as they come; returns when the link is lost.
async fn consume(
    state: &Arc<ListenerState>,
    vhost: &str,
    mut consumers: Vec<(EventKind, Consumer)>,
) -> AmqpError {
    loop {
        let next = std::future::poll_fn(|cx| {
            for (kind, consumer) in &mut consumers {
                if let Poll::Ready(item) = Pin::new(consumer).poll_next(cx) {
                    return Poll::Ready((*kind, item));
                }
            }
            Poll::Pending
        })
        .await;
        match next {
            (kind, Some(Ok(delivery))) => {
                if let Err(error) = state.handle(vhost, kind, delivery).await {
                    return error;
                }
            }
            (_, Some(Err(error))) => return error.into(),
            (_, None) => return AmqpError::Connection("the broker cancelled a consumer".into()),
        }
    }
}

impl ListenerState {
    fn lock_links(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, LinkState>> {
        self.links.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The links the projects served call for: the instance vhost, and the projects' vhosts.
    fn wanted_links(&self) -> BTreeMap<String, LinkKind> {
        let mut wanted = BTreeMap::new();
        wanted.insert(INSTANCE_VHOST.to_owned(), LinkKind::Instance);
        for project in self.access.projects() {
            if !self.linkable(&project) {
                continue;
            }
            wanted.insert(
                topology::project_vhost(self.config.mode, &project),
                LinkKind::Projects,
            );
        }
        wanted
    }

    /// Whether `project`'s events can travel in a virtual host of their own (MULTI mode): its
    /// name is one REGARDS could have, and the vhost's name, lower-cased as REGARDS writes it
    /// (which may lengthen it), fits AMQP's 255 bytes. Always true in SINGLE mode.
    fn linkable(&self, project: &str) -> bool {
        self.config.mode == VhostMode::Single
            || (project_name(project)
                && topology::project_vhost(self.config.mode, project).len() <= MAX_SHORT_STRING)
    }

    /// The projects served whose events travel in `vhost`.
    fn projects_of(&self, vhost: &str) -> Vec<String> {
        self.access
            .projects()
            .into_iter()
            .filter(|project| topology::project_vhost(self.config.mode, project) == vhost)
            .collect()
    }

    fn served(&self, project: &str) -> bool {
        self.access.shared.served.load().contains(project)
    }

    /// Reads one delivery, starts what it asks for, and acknowledges it.
    async fn handle(
        self: &Arc<Self>,
        vhost: &str,
        kind: EventKind,
        delivery: Delivery,
    ) -> Result<(), AmqpError> {
        let headers = delivery.properties.headers().as_ref();
        let outcome = message::read(kind, headers, &delivery.data, self.config.max_message_size)
            .and_then(|received| self.act(vhost, received));
        match outcome {
            Ok(()) => {
                self.handled.fetch_add(1, Ordering::Relaxed);
            }
            Err(reason) => self.count_dropped(reason),
        }
        delivery.ack(BasicAckOptions::default()).await?;
        Ok(())
    }

    fn act(self: &Arc<Self>, vhost: &str, received: message::Received) -> Result<(), Dropped> {
        let project = received.tenant;
        let tenant_event = matches!(
            received.event,
            Event::TenantCreated(_) | Event::TenantDeleted(_)
        );
        if !tenant_event && topology::project_vhost(self.config.mode, &project) != vhost {
            return Err(Dropped::OtherVhost);
        }
        match received.event {
            Event::Role => self.request_served(&project, Work::Refresh),
            Event::ResourceAccess { microservice } => {
                // REGARDS' handler ignores other microservices' resources (and none named).
                if microservice.as_deref() == Some(self.access.microservice()) {
                    self.request_served(&project, Work::Refresh)
                } else {
                    Ok(())
                }
            }
            Event::ResourceAccessInit => self.request_served(&project, Work::RegisterAndRefresh),
            Event::TenantCreated(project) => {
                if !self.config.follow_projects || self.served(&project) {
                    return Ok(());
                }
                let shared = &self.access.shared;
                if shared.discovers() {
                    // An announcement is a hint: served once rs-admin-instance lists it for
                    // this microservice (a forged one costs one coalesced read, nothing more).
                    shared.ask_discovery();
                    return Ok(());
                }
                if !self.linkable(&project) {
                    tracing::warn!(
                        microservice = self.access.microservice(),
                        "a new project is announced whose virtual host name would be longer than AMQP allows: not serving it"
                    );
                    return Ok(());
                }
                // Checked and added under one lock, so that discovery cannot pass the cap either.
                if shared
                    .insert_projects([project.as_str()], MAX_PROJECTS)
                    .is_empty()
                {
                    tracing::warn!(
                        microservice = self.access.microservice(),
                        project,
                        "a new project is announced but {MAX_PROJECTS} are served already: not serving it"
                    );
                    return Ok(());
                }
                shared.log_new_projects(&project);
                shared.projects_changed.notify_one();
                self.wake.notify_one();
                Ok(())
            }
            Event::TenantDeleted(project) => {
                if self.config.follow_projects && self.access.remove_project(&project) {
                    self.wake.notify_one();
                    if self.access.shared.discovers() {
                        // Deletion and creation travel in two queues, which RabbitMQ does not
                        // order: a project deleted and created again is served again once
                        // rs-admin-instance still lists it.
                        self.access.shared.ask_discovery();
                    }
                }
                Ok(())
            }
        }
    }

    fn request_served(self: &Arc<Self>, project: &str, work: Work) -> Result<(), Dropped> {
        if !self.served(project) {
            return Err(Dropped::UnservedProject);
        }
        self.request(project, work);
        Ok(())
    }

    /// Starts `work` on `project` in the background as soon as its pacer allows, or, if a
    /// refresh of it runs or waits, asks for one more after it (joined with any already asked
    /// for).
    fn request(self: &Arc<Self>, project: &str, work: Work) {
        let mut pending = self.lock_pending();
        let refreshes = pending.entry(project.to_owned()).or_default();
        refreshes.asked = refreshes.asked.max(Some(work));
        if refreshes.running {
            return;
        }
        refreshes.running = true;
        let first = refreshes.pacer.next_start(Instant::now());
        drop(pending);
        let state = self.clone();
        let project = project.to_owned();
        tokio::spawn(async move {
            let mut start = first;
            loop {
                tokio::time::sleep_until(start).await;
                let work = {
                    let mut pending = state.lock_pending();
                    let Some(refreshes) = pending.get_mut(&project) else {
                        return;
                    };
                    refreshes.pacer.started(Instant::now());
                    refreshes.asked.take()
                };
                // Failures are logged and in the access's health; the periodic refresh retries.
                let _ = match work {
                    Some(Work::Refresh) => state.access.refresh(&project).await,
                    Some(Work::RegisterAndRefresh) => {
                        state.access.register_and_refresh(&project).await
                    }
                    None => Ok(()),
                };
                let mut pending = state.lock_pending();
                let Some(refreshes) = pending.get_mut(&project) else {
                    return;
                };
                if refreshes.asked.is_none() {
                    refreshes.running = false;
                    return;
                }
                start = refreshes.pacer.next_start(Instant::now());
            }
        });
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Refreshes>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets the pacing of projects no longer served and idle.
    fn forget_unserved(&self) {
        let served = self.access.shared.served.load();
        self.lock_pending()
            .retain(|project, refreshes| refreshes.running || served.contains(project));
    }

    fn count_dropped(&self, reason: Dropped) {
        let index = Dropped::ALL
            .iter()
            .position(|known| *known == reason)
            .expect("every reason is listed");
        let before = self.dropped[index].fetch_add(1, Ordering::Relaxed);
        let microservice = self.access.microservice();
        let reason = reason.as_str();
        // The first of each kind is worth a warning; a flood of them is not worth a log flood.
        if before == 0 && reason != Dropped::UnservedProject.as_str() {
            tracing::warn!(
                microservice,
                reason,
                "RabbitMQ message dropped (counted in health; later ones logged at debug)"
            );
        } else {
            tracing::debug!(microservice, reason, "RabbitMQ message dropped");
        }
    }

    fn record_connected(&self, vhost: &str) {
        let mut links = self.lock_links();
        let Some(link) = links.get_mut(vhost) else {
            return; // The link was stopped meanwhile.
        };
        let microservice = self.access.microservice();
        if link.failing || link.connections > 0 {
            tracing::info!(
                microservice,
                vhost,
                "RabbitMQ reached again: following rs-admin's events; every project refreshed"
            );
        } else {
            tracing::info!(
                microservice,
                vhost,
                "following rs-admin's events over RabbitMQ"
            );
        }
        link.connected = true;
        link.failing = false;
        link.connected_since = Some(SystemTime::now());
        link.connections += 1;
    }

    fn record_lost(&self, vhost: &str, error: &AmqpError) {
        let mut links = self.lock_links();
        let Some(link) = links.get_mut(vhost) else {
            return; // The link was stopped meanwhile.
        };
        if !link.failing {
            tracing::warn!(
                microservice = self.access.microservice(), vhost, %error,
                "RabbitMQ link lost or unreachable: serving on, refreshing periodically, reconnecting with backoff"
            );
        }
        link.connected = false;
        link.failing = true;
        link.connected_since = None;
        link.last_error = Some(error.to_string());
    }

    /// Whether every link the projects served call for is connected.
    fn all_connected(&self) -> bool {
        let wanted = self.wanted_links();
        let links = self.lock_links();
        wanted
            .keys()
            .all(|vhost| links.get(vhost).is_some_and(|link| link.connected))
    }

    /// Tells the access whether events reach it (its refresh period depends on it).
    fn report_link(&self) {
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        if *stopped {
            // The handle is dropped; its links are going: the access is told so already.
            return;
        }
        let link = if self.all_connected() {
            BrokerLink::Connected
        } else {
            BrokerLink::Disconnected
        };
        self.access.shared.set_broker_link(link);
    }

    fn health(&self) -> BrokerHealth {
        let links: Vec<LinkHealth> = self
            .lock_links()
            .iter()
            .map(|(vhost, link)| LinkHealth {
                vhost: vhost.clone(),
                connected: link.connected,
                connected_since: link.connected_since,
                connections: link.connections,
                last_error: link.last_error.clone(),
            })
            .collect();
        BrokerHealth {
            connected: self.all_connected(),
            links,
            events: self.handled.load(Ordering::Relaxed),
            dropped: Dropped::ALL
                .iter()
                .zip(&self.dropped)
                .map(|(reason, count)| (*reason, count.load(Ordering::Relaxed)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_event_and_the_next_are_followed_at_once_then_two_refreshes_per_window() {
        let mut pacer = Pacer::default();
        let t0 = Instant::now();
        assert_eq!(pacer.next_start(t0), t0, "a lone event");
        pacer.started(t0);
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(pacer.next_start(t1), t1, "the next one");
        pacer.started(t1);
        let t2 = t0 + Duration::from_millis(150);
        assert_eq!(pacer.next_start(t2), t0 + REFRESH_WINDOW, "a third waits");
        // A stream: starts paced at two per window, however many events come.
        let mut now = t2;
        let mut starts = 0;
        while now < t0 + Duration::from_secs(10) {
            now = pacer.next_start(now);
            pacer.started(now);
            starts += 1;
        }
        assert!(starts <= 2 * 20, "{starts} starts in 10 s");
        // Idle for a window: followed at once again.
        let later = now + REFRESH_WINDOW;
        assert_eq!(pacer.next_start(later), later);
    }

    #[test]
    fn a_start_outside_a_runtime_leaves_the_access_free_to_be_followed() {
        let access = ManagedAccess::builder("rs-notifier", crate::managed::fixtures::endpoints())
            .admin_url("http://127.0.0.1:9")
            .system_tokens(crate::TokenIssuer::development())
            .projects(["project1"])
            .build()
            .unwrap();
        // Nothing listens on the discard port: the listener only fails to connect.
        let config = || {
            AmqpConfig::builder()
                .url("amqp://guest:guest@127.0.0.1:9")
                .management("http", "127.0.0.1", 9)
                .build()
                .unwrap()
        };
        let outside = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            EventListener::start(&access, config())
        }));
        assert!(outside.is_err(), "no runtime: tokio's panic");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _inside = runtime.enter();
        assert!(EventListener::start(&access, config()).is_ok());
    }
}
