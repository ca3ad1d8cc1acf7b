//! [`ManagedAccess`]: the service's endpoints, the rights rs-admin grants on them per project,
//! and the work that keeps those rights up to date.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use tokio::task::JoinSet;

use super::address::TrustedProxies;
use super::admin::{AdminClient, ReadBudget, RoleGrants};
use super::endpoint::Endpoints;
use super::error::{AdminError, ManagedConfigError};
use super::health::{Health, ProjectHealth, RightsSource};
use super::layer::ManagedAccessLayer;
use super::rights::{AdminRole, BuildReport, GrantSet, ProjectRights};
use crate::TokenIssuer;
use crate::client::HttpTransport;
use crate::role::{Role, RoleHierarchy};

/// The most projects discovery adds (REGARDS deployments have a handful).
pub const MAX_PROJECTS: usize = 1000;
/// How long reading a project's rights (its roles, then each role's endpoints) may take in
/// all by default: 60 seconds.
pub const DEFAULT_REFRESH_TIMEOUT: Duration = Duration::from_secs(60);
/// How often rights are read again from rs-admin by default: 60 seconds.
pub const DEFAULT_REFRESH_PERIOD: Duration = Duration::from_secs(60);
/// How long one call to rs-admin may take by default: 10 seconds.
pub const DEFAULT_ADMIN_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest rs-admin answer read by default: 4 MiB.
pub const DEFAULT_MAX_RESPONSE: usize = 4 << 20;
/// The most bytes the answers of one project's refresh may take in all by default: 32 MiB.
pub const DEFAULT_MAX_REFRESH_SIZE: usize = 32 << 20;
/// The first wait after a failed registration or refresh; it doubles up to
/// [`MAX_RETRY_BACKOFF`], with jitter.
pub const FIRST_RETRY_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between two attempts after failures: 60 seconds (or the refresh period, if
/// shorter).
pub const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(60);

/// The rights of every project, as the request path reads them: one immutable map, swapped
/// whole.
type RightsByProject = HashMap<String, Arc<ProjectRights>>;

/// A REGARDS-managed access point: the endpoints a service declares, registered with rs-admin
/// for each project it serves, and the rights administrators grant on them, fetched from
/// rs-admin and kept up to date.
///
/// Cheap to clone (clones share everything). [`layer`](Self::layer) makes the tower layer that
/// decides each request; [`spawn`](Self::spawn) starts the background work (registration with
/// retries, periodic refresh, project discovery); [`refresh`](Self::refresh) and
/// [`register`](Self::register) are the on-demand hooks (what REGARDS' AMQP events trigger);
/// [`health`](Self::health) tells where each project stands.
///
/// ```no_run
/// use regards_auth::{Role, TokenIssuer};
/// use regards_auth::managed::{Endpoint, Endpoints, ManagedAccess, ResourceAccess};
/// use http::Method;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let endpoints = Endpoints::new([Endpoint::new(Method::PUT, "/rule", "RuleController",
///     ResourceAccess::new("Import a notification rule", Role::ProjectAdmin))])?;
/// let access = ManagedAccess::builder("rs-notifier", endpoints)
///     .admin_url("http://rs-admin:9011")
///     .system_tokens(TokenIssuer::development())
///     .projects(["project1", "project2"])
///     .build()?;
/// let _refresher = access.spawn(); // registers, fetches, refreshes until dropped
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ManagedAccess {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for ManagedAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedAccess")
            .field("microservice", &self.shared.admin.microservice)
            .field("endpoints", &self.shared.endpoints)
            .finish_non_exhaustive()
    }
}

/// What every clone of a [`ManagedAccess`] and every layer share.
pub(crate) struct Shared {
    /// Shared with the blocking threads that read rs-admin's grants into bit sets.
    pub(crate) endpoints: Arc<Endpoints>,
    pub(crate) admin: AdminClient,
    pub(crate) settings: Settings,
    /// Read on every request (lock-free); written by refreshes.
    pub(crate) rights: ArcSwap<RightsByProject>,
    /// Serialises the writers of `rights` (never taken on the request path).
    rights_writer: Mutex<()>,
    /// The projects served, read lock-free by a request on a project without rights; written
    /// under the `projects` lock.
    pub(crate) served: ArcSwap<HashSet<String>>,
    /// Health and bookkeeping per project (never taken on the request path).
    projects: Mutex<BTreeMap<String, ProjectState>>,
    /// Wakes the refresher when a project is added.
    new_project: Arc<tokio::sync::Notify>,
}

pub(crate) struct Settings {
    pub(crate) refresh_period: Duration,
    pub(crate) refresh_timeout: Duration,
    pub(crate) max_refresh_size: usize,
    pub(crate) strict: bool,
    pub(crate) trusted_proxies: TrustedProxies,
    pub(crate) default_hierarchy: RoleHierarchy,
}

#[derive(Default)]
struct ProjectState {
    registered: bool,
    registration_failing: bool,
    refresh_failing: bool,
    last_success: Option<SystemTime>,
    last_failure: Option<SystemTime>,
    last_error: Option<String>,
    consecutive_failures: u32,
    /// One refresh of a project at a time, so that an older answer never replaces a newer one.
    refreshing: Arc<tokio::sync::Mutex<()>>,
    /// How many refreshes were asked for so far.
    refresh_requests: u64,
    /// The number of requests made before the last successful refresh started: those are
    /// answered by it (a burst of events costs one or two reads, not one each).
    refreshed_through: u64,
}

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

    /// The tower layer that decides every request (install it inside
    /// [`BearerAuthLayer`](crate::BearerAuthLayer)).
    pub fn layer(&self) -> ManagedAccessLayer {
        ManagedAccessLayer::new(self.shared.clone())
    }

    /// The microservice name.
    pub fn microservice(&self) -> &str {
        &self.shared.admin.microservice
    }

    /// The declared endpoints.
    pub fn endpoints(&self) -> &Endpoints {
        &self.shared.endpoints
    }

    /// Serves `project` too (REGARDS' new-project event): the refresher, if running, registers
    /// the endpoints and fetches the project's rights right away.
    pub fn add_project(&self, project: &str) -> Result<(), ManagedConfigError> {
        if project.is_empty() {
            return Err(ManagedConfigError::EmptyProject);
        }
        if self.shared.insert_project(project) {
            self.shared.log_new_projects(project);
            self.shared.new_project.notify_one();
        }
        Ok(())
    }

    /// The projects served.
    pub fn projects(&self) -> Vec<String> {
        self.shared.lock_projects().keys().cloned().collect()
    }

    /// Registers the endpoints with rs-admin for `project` (REGARDS' `registerEndpoints`).
    /// A failure is recorded in [`health`](Self::health) and logged once until it recovers.
    /// A project not served ([`add_project`](Self::add_project) first) is refused with
    /// [`AdminError::UnknownProject`]: an event naming any tenant must not make it served.
    pub async fn register(&self, project: &str) -> Result<(), AdminError> {
        self.served(project)?;
        let result = self
            .shared
            .admin
            .register(project, self.shared.endpoints.registration_body())
            .await;
        let microservice = self.microservice();
        self.shared.update(project, |state| match &result {
            Ok(()) => {
                if state.registration_failing {
                    tracing::info!(microservice, project, "endpoints registered with rs-admin");
                } else {
                    tracing::debug!(microservice, project, "endpoints registered with rs-admin");
                }
                state.registered = true;
                state.registration_failing = false;
            }
            Err(error) => {
                if !state.registration_failing {
                    tracing::error!(
                        microservice, project, %error,
                        "cannot register endpoints with rs-admin; retrying with backoff"
                    );
                }
                state.registration_failing = true;
                state.record_failure(error);
            }
        });
        result
    }

    /// Reads `project`'s roles and this service's rights in it from rs-admin and swaps them in
    /// (REGARDS' `collectRolesAndAuthorities`, what a `RoleEvent` or `ResourceAccessEvent`
    /// triggers). On failure the rights in force stay (the last good ones, or the declared
    /// defaults), the failure is recorded in [`health`](Self::health) and logged once until
    /// it recovers.
    ///
    /// A project not served is refused with [`AdminError::UnknownProject`]. The whole read is
    /// bounded by the refresh timeout ([`ManagedAccessBuilder::refresh_timeout`]).
    pub async fn refresh(&self, project: &str) -> Result<(), AdminError> {
        self.served(project)?;
        let mut request = 0;
        let mut lock = Arc::default();
        self.shared.update(project, |state| {
            state.refresh_requests += 1;
            request = state.refresh_requests;
            lock = state.refreshing.clone();
        });
        let _one_at_a_time = lock.lock().await;
        let mut started_after = 0;
        let mut covered = false;
        self.shared.update(project, |state| {
            covered = state.refreshed_through >= request;
            started_after = state.refresh_requests;
        });
        if covered {
            // A refresh that started after this request was made has succeeded meanwhile.
            return Ok(());
        }
        let deadline = self.shared.settings.refresh_timeout;
        let result = tokio::time::timeout(deadline, self.fetch(project))
            .await
            .unwrap_or(Err(AdminError::Timeout));
        let microservice = self.microservice();
        match result {
            Ok(rights) => {
                let roles = rights.role_count();
                let fetched_at = rights.fetched_at;
                self.shared.swap(project, Some(Arc::new(rights)));
                self.shared.update(project, |state| {
                    if state.last_success.is_none() {
                        tracing::info!(microservice, project, roles, "rights read from rs-admin");
                    } else if state.refresh_failing {
                        tracing::info!(
                            microservice,
                            project,
                            roles,
                            "rs-admin answers again: rights refreshed"
                        );
                    } else {
                        tracing::debug!(microservice, project, roles, "rights refreshed");
                    }
                    state.refresh_failing = false;
                    state.refreshed_through = state.refreshed_through.max(started_after);
                    state.last_success = Some(fetched_at);
                    state.consecutive_failures = 0;
                });
                Ok(())
            }
            Err(error) => {
                let strict = self.shared.settings.strict;
                self.shared.update(project, |state| {
                    if !state.refresh_failing {
                        match (state.last_success, strict) {
                            (Some(_), _) => tracing::warn!(
                                microservice, project, %error,
                                "cannot refresh rights from rs-admin: keeping the last ones read"
                            ),
                            (None, false) => tracing::warn!(
                                microservice, project, %error,
                                "cannot read rights from rs-admin: deciding from the declared default roles"
                            ),
                            (None, true) => tracing::warn!(
                                microservice, project, %error,
                                "cannot read rights from rs-admin: refusing every request but super roles' and PUBLIC endpoints' (strict)"
                            ),
                        }
                    }
                    state.refresh_failing = true;
                    state.record_failure(&error);
                });
                Err(error)
            }
        }
    }

    /// Registers then refreshes `project`, as a REGARDS service does for each project at
    /// start-up (`manageTenant`). Both are attempted; the first error is returned.
    pub async fn register_and_refresh(&self, project: &str) -> Result<(), AdminError> {
        let registered = self.register(project).await;
        let refreshed = self.refresh(project).await;
        registered.and(refreshed)
    }

    /// Where every project stands, for a health endpoint.
    pub fn health(&self) -> Health {
        let rights = self.shared.rights.load();
        let strict = self.shared.settings.strict;
        let projects = self
            .shared
            .lock_projects()
            .iter()
            .map(|(project, state)| ProjectHealth {
                project: project.clone(),
                rights: match (rights.contains_key(project), strict) {
                    (true, _) => RightsSource::Administered,
                    (false, false) => RightsSource::Defaults,
                    (false, true) => RightsSource::Refused,
                },
                registered: state.registered,
                last_success: state.last_success,
                last_failure: state.last_failure,
                last_error: state.last_error.clone(),
                consecutive_failures: state.consecutive_failures,
            })
            .collect();
        Health {
            microservice: self.microservice().to_owned(),
            projects,
        }
    }

    /// The role tree rs-admin gave for `project` (custom roles with their parents), to reason
    /// about custom roles elsewhere (e.g. a [`RequireRoleLayer`](crate::RequireRoleLayer));
    /// `None` before the first successful refresh.
    pub fn hierarchy(&self, project: &str) -> Option<RoleHierarchy> {
        let rights = self.shared.rights.load();
        let project_rights = rights.get(project)?;
        Some(
            project_rights
                .parents()
                .fold(RoleHierarchy::new(), |hierarchy, (role, parent)| {
                    hierarchy.with_custom(role, Role::from_name(parent))
                }),
        )
    }

    /// Starts the background work on the current tokio runtime: for every project (configured,
    /// added, or discovered from rs-admin-instance), register the endpoints, retrying with a
    /// bounded, jittered backoff until it succeeds, and refresh the rights every refresh period
    /// (sooner after a failure). Serving never waits for it.
    ///
    /// The work stops when the returned [`Refresher`] is dropped, or, once
    /// [`detached`](Refresher::detach), when the last clone of this access is.
    pub fn spawn(&self) -> Refresher {
        let weak = Arc::downgrade(&self.shared);
        Refresher {
            task: Some(tokio::spawn(supervise(weak))),
        }
    }

    /// Reads `project`'s roles and each role's grants from rs-admin, and builds its rights.
    async fn fetch(&self, project: &str) -> Result<ProjectRights, AdminError> {
        let shared = &self.shared;
        let admin = &shared.admin;
        let microservice = self.microservice();
        let mut budget = ReadBudget::new(shared.settings.max_refresh_size);
        let mut roles = admin.roles(project, &mut budget).await?;
        let mut grants: HashMap<String, GrantSet> = HashMap::with_capacity(roles.len());
        let mut unknown: Vec<&str> = Vec::new();
        let mut undeclared = 0;
        for role in &roles {
            // `X` and `ROLE_X` are read once, under `X`, as REGARDS reads them.
            let name = role.grants_name();
            if grants.contains_key(name) || unknown.contains(&name) {
                continue;
            }
            if matches!(name, "" | "." | "..") {
                // A dot segment would be resolved away on the way to rs-admin (another URL):
                // such a role is granted nothing.
                tracing::warn!(
                    microservice,
                    project,
                    role = role.name,
                    "a role's name cannot be sent to rs-admin in a URL: it is granted nothing"
                );
                continue;
            }
            match admin
                .role_grants(project, name, &shared.endpoints, &mut budget)
                .await?
            {
                RoleGrants::Granted { set, undeclared: n } => {
                    undeclared += n;
                    grants.insert(name.to_owned(), set);
                }
                RoleGrants::Unknown => unknown.push(name),
            }
        }
        if !unknown.is_empty() {
            // rs-admin no longer knows these names. Believe it only if a fresh listing agrees
            // (the role was deleted since it was listed); otherwise the answers contradict
            // each other, and the rights in force are safer than either.
            let listed = admin.roles(project, &mut budget).await?;
            if listed
                .iter()
                .any(|role| unknown.contains(&role.name.as_str()))
            {
                return Err(AdminError::BadAnswer(
                    "rs-admin lists a role whose rights it says it does not know",
                ));
            }
            let deleted: Vec<String> = unknown.iter().map(|&name| name.to_owned()).collect();
            roles.retain(|role| !deleted.contains(&role.name));
        }
        if undeclared > 0 {
            tracing::debug!(
                microservice,
                project,
                grants = undeclared,
                "rs-admin grants endpoints this version does not declare: ignored"
            );
        }
        let (rights, report) = self.build_off_runtime(project, roles, grants).await?;
        for (role, refusal) in &report.refused_patterns {
            tracing::error!(
                microservice,
                project,
                role,
                reason = refusal.reason(),
                "the role's authorized addresses are refused: the role is refused until an administrator fixes them"
            );
        }
        Ok(rights)
    }

    /// Builds the rights on a blocking thread (compiling address patterns is CPU work the
    /// runtime's workers must not do), reusing the patterns the rights in force compiled.
    /// If the refresh gives up meanwhile (its deadline), the build stops at the next role.
    async fn build_off_runtime(
        &self,
        project: &str,
        roles: Vec<AdminRole>,
        grants: HashMap<String, GrantSet>,
    ) -> Result<(ProjectRights, BuildReport), AdminError> {
        /// Tells the build to stop when the refresh waiting for it is dropped.
        struct AbandonOnDrop(Arc<AtomicBool>);
        impl Drop for AbandonOnDrop {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let abandoned = Arc::new(AtomicBool::new(false));
        let _abandon = AbandonOnDrop(abandoned.clone());
        let previous = self.shared.rights.load().get(project).cloned();
        let endpoints = self.shared.endpoints.len();
        let build = tokio::task::spawn_blocking(move || {
            ProjectRights::build(
                endpoints,
                &roles,
                &grants,
                previous.as_deref(),
                SystemTime::now(),
                &abandoned,
            )
        });
        match build.await {
            Ok(Some(built)) => Ok(built),
            // Abandoned, or the runtime is shutting down.
            Ok(None) | Err(_) => Err(AdminError::Timeout),
        }
    }

    fn served(&self, project: &str) -> Result<(), AdminError> {
        match self.state(project, |_| ()) {
            Some(()) => Ok(()),
            None => Err(AdminError::UnknownProject),
        }
    }

    fn state<T>(&self, project: &str, read: impl FnOnce(&ProjectState) -> T) -> Option<T> {
        self.shared.lock_projects().get(project).map(read)
    }

    /// Installs `rights` for `project` as if rs-admin had answered them (tests of the layer).
    #[cfg(test)]
    pub(crate) fn install(&self, project: &str, rights: ProjectRights) {
        self.add_project(project).expect("a project name");
        self.shared.swap(project, Some(Arc::new(rights)));
    }
}

impl ProjectState {
    fn record_failure(&mut self, error: &AdminError) {
        self.last_failure = Some(SystemTime::now());
        self.last_error = Some(error.to_string());
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
    }
}

impl Shared {
    fn lock_projects(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ProjectState>> {
        self.projects.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves `project` from now on; `true` if it is new.
    fn insert_project(&self, project: &str) -> bool {
        let mut projects = self.lock_projects();
        if projects.contains_key(project) {
            return false;
        }
        projects.insert(project.to_owned(), ProjectState::default());
        let mut served = HashSet::clone(&self.served.load());
        served.insert(project.to_owned());
        self.served.store(Arc::new(served));
        true
    }

    /// Says how `projects`, just added, are decided until rs-admin answers.
    fn log_new_projects(&self, projects: &str) {
        let microservice = &self.admin.microservice;
        if self.settings.strict {
            tracing::info!(
                microservice,
                projects,
                "refusing all but super roles until rs-admin's rights are read (strict)"
            );
        } else {
            tracing::info!(
                microservice,
                projects,
                "deciding from the declared default roles until rs-admin's rights are read"
            );
        }
    }

    fn update(&self, project: &str, change: impl FnOnce(&mut ProjectState)) {
        if let Some(state) = self.lock_projects().get_mut(project) {
            change(state);
        }
    }

    /// Replaces `project`'s rights in a new map (the request path keeps reading the old one
    /// until the swap).
    fn swap(&self, project: &str, rights: Option<Arc<ProjectRights>>) {
        let _writer = self
            .rights_writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut next = RightsByProject::clone(&self.rights.load());
        match rights {
            Some(rights) => next.insert(project.to_owned(), rights),
            None => next.remove(project),
        };
        self.rights.store(Arc::new(next));
    }
}

/// The background work of a [`ManagedAccess`] (see [`ManagedAccess::spawn`]); stops when
/// dropped.
#[must_use = "the background refresh stops when the Refresher is dropped"]
#[derive(Debug)]
pub struct Refresher {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Refresher {
    /// Stops the background work.
    pub fn stop(self) {}

    /// Lets the background work go on until every clone of the [`ManagedAccess`], and every
    /// layer made from it, is dropped (for a service whose router owns the access).
    pub fn detach(mut self) {
        self.task = None;
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Runs one task per project, and discovers projects every refresh period.
async fn supervise(shared: Weak<Shared>) {
    let mut tasks = JoinSet::new();
    let mut running: Vec<String> = Vec::new();
    loop {
        let Some(access) = shared.upgrade().map(|shared| ManagedAccess { shared }) else {
            return;
        };
        if access.shared.admin.instance.is_some() {
            match access.shared.admin.projects().await {
                Ok(discovered) => {
                    for project in discovered {
                        if access.projects().len() >= MAX_PROJECTS {
                            tracing::warn!(
                                microservice = access.microservice(),
                                "rs-admin-instance lists more than {MAX_PROJECTS} projects: serving the first ones"
                            );
                            break;
                        }
                        access.add_project(&project).ok();
                    }
                }
                Err(error) => tracing::warn!(
                    microservice = access.microservice(), %error,
                    "cannot discover projects from rs-admin-instance; serving the known ones"
                ),
            }
        }
        for project in access.projects() {
            if !running.contains(&project) {
                tasks.spawn(keep_up_to_date(
                    Arc::downgrade(&access.shared),
                    project.clone(),
                ));
                running.push(project);
            }
        }
        let period = access.shared.settings.refresh_period;
        let new_project = access.shared.new_project.clone();
        drop(access);
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            () = new_project.notified() => {}
        }
    }
}

/// Registers `project` until it succeeds, and refreshes its rights every period.
async fn keep_up_to_date(shared: Weak<Shared>, project: String) {
    let mut backoff = Backoff::default();
    loop {
        let Some(access) = shared.upgrade().map(|shared| ManagedAccess { shared }) else {
            return;
        };
        let registered = access.state(&project, |state| state.registered) == Some(true);
        let registration = if registered {
            Ok(())
        } else {
            access.register(&project).await
        };
        let refresh = access.refresh(&project).await;
        let period = access.shared.settings.refresh_period;
        drop(access);
        let wait = if registration.is_ok() && refresh.is_ok() {
            backoff = Backoff::default();
            period
        } else {
            backoff.next().min(period)
        };
        tokio::time::sleep(wait).await;
    }
}

/// Exponential backoff from [`FIRST_RETRY_BACKOFF`] to [`MAX_RETRY_BACKOFF`], each wait drawn
/// between half and all of its step so that services restarted together do not call rs-admin
/// in step.
#[derive(Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let step = FIRST_RETRY_BACKOFF
            .saturating_mul(1 << self.failures.min(16))
            .min(MAX_RETRY_BACKOFF);
        self.failures = self.failures.saturating_add(1);
        let jitter = jitter_fraction();
        step.mul_f64(0.5 + jitter / 2.0)
    }
}

/// A number in [0, 1) that differs between processes and calls (std's randomly keyed hasher;
/// jitter needs no cryptographic randomness).
fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, RandomState};
    let bits = RandomState::new().hash_one(std::time::Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
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

    /// How often rights are read again (default [`DEFAULT_REFRESH_PERIOD`]). Without REGARDS'
    /// AMQP events, a change made in rs-admin is followed within this period, or at once through
    /// [`ManagedAccess::refresh`].
    pub fn refresh_period(mut self, period: Duration) -> Self {
        self.refresh_period = period;
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
        let shared = Arc::new(Shared {
            endpoints: Arc::new(self.endpoints),
            admin: AdminClient {
                admin,
                instance,
                microservice: self.microservice,
                issuer,
                transport: self.transport.unwrap_or_default(),
                timeout: self.timeout,
                max_response: self.max_response,
            },
            settings: Settings {
                refresh_period: self.refresh_period,
                refresh_timeout: self.refresh_timeout,
                max_refresh_size: self.max_refresh_size,
                strict: self.strict,
                trusted_proxies: self.trusted_proxies,
                default_hierarchy: self.default_hierarchy,
            },
            rights: ArcSwap::from_pointee(RightsByProject::new()),
            rights_writer: Mutex::new(()),
            served: ArcSwap::from_pointee(HashSet::new()),
            projects: Mutex::new(BTreeMap::new()),
            new_project: Arc::default(),
        });
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

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut backoff = Backoff::default();
        let waits: Vec<Duration> = (0..10).map(|_| backoff.next()).collect();
        for (attempt, wait) in waits.iter().enumerate() {
            let step = FIRST_RETRY_BACKOFF
                .saturating_mul(1 << attempt)
                .min(MAX_RETRY_BACKOFF);
            assert!(*wait >= step / 2 && *wait <= step, "{attempt}: {wait:?}");
        }
    }

    #[test]
    fn health_starts_on_defaults_or_refused_when_strict() {
        let health = builder().build().unwrap().health();
        assert_eq!(health.projects[0].rights, RightsSource::Defaults);
        assert!(!health.projects[0].registered);
        let strict = builder().strict().build().unwrap().health();
        assert_eq!(strict.projects[0].rights, RightsSource::Refused);
    }
}
