//! What every clone of a [`ManagedAccess`](super::ManagedAccess), its layers and its background
//! work share: the rights the request path reads, the projects served, their health and
//! bookkeeping. The layer reads this and nothing else; the operations on it live in `access`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

use super::address::TrustedProxies;
use super::admin::AdminClient;
use super::endpoint::Endpoints;
use super::error::AdminError;
use super::rights::ProjectRights;
use crate::role::RoleHierarchy;

/// The most projects discovery adds (REGARDS deployments have a handful).
pub const MAX_PROJECTS: usize = 1000;

/// The rights of every project, as the request path reads them: one immutable map, swapped
/// whole.
pub(crate) type RightsByProject = HashMap<String, Arc<ProjectRights>>;

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
    pub(crate) new_project: Arc<tokio::sync::Notify>,
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
pub(crate) struct ProjectState {
    pub(crate) registered: bool,
    pub(crate) registration_failing: bool,
    pub(crate) refresh_failing: bool,
    pub(crate) last_success: Option<SystemTime>,
    pub(crate) last_failure: Option<SystemTime>,
    pub(crate) last_error: Option<String>,
    pub(crate) consecutive_failures: u32,
    /// One refresh of a project at a time, so that an older answer never replaces a newer one.
    pub(crate) refreshing: Arc<tokio::sync::Mutex<()>>,
    /// How many refreshes were asked for so far.
    pub(crate) refresh_requests: u64,
    /// The number of requests made before the last successful refresh started: those are
    /// answered by it (a burst of events costs one or two reads, not one each).
    pub(crate) refreshed_through: u64,
}

impl ProjectState {
    pub(crate) fn record_failure(&mut self, error: &AdminError) {
        self.last_failure = Some(SystemTime::now());
        self.last_error = Some(error.to_string());
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
    }
}

impl Shared {
    pub(crate) fn new(endpoints: Endpoints, admin: AdminClient, settings: Settings) -> Self {
        Shared {
            endpoints: Arc::new(endpoints),
            admin,
            settings,
            rights: ArcSwap::from_pointee(RightsByProject::new()),
            rights_writer: Mutex::new(()),
            served: ArcSwap::from_pointee(HashSet::new()),
            projects: Mutex::new(BTreeMap::new()),
            new_project: Arc::default(),
        }
    }

    pub(crate) fn lock_projects(&self) -> MutexGuard<'_, BTreeMap<String, ProjectState>> {
        self.projects.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves `project` from now on; `true` if it is new.
    pub(crate) fn insert_project(&self, project: &str) -> bool {
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
    pub(crate) fn log_new_projects(&self, projects: &str) {
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

    pub(crate) fn update(&self, project: &str, change: impl FnOnce(&mut ProjectState)) {
        if let Some(state) = self.lock_projects().get_mut(project) {
            change(state);
        }
    }

    /// Replaces `project`'s rights in a new map (the request path keeps reading the old one
    /// until the swap).
    pub(crate) fn swap(&self, project: &str, rights: Option<Arc<ProjectRights>>) {
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
