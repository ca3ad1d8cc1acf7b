//! What every clone of a [`ManagedAccess`](super::ManagedAccess), its layers and its background
//! work share: the rights the request path reads, the projects served, their health and
//! bookkeeping. The layer reads this and nothing else; the operations on it live in `access`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

use super::address::TrustedProxies;
use super::admin::AdminClient;
use super::endpoint::Endpoints;
use super::error::AdminError;
use super::health::BrokerLink;
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
    /// Read on every request (lock-free); written under the `projects` lock, so that a project
    /// removed never gets rights back from a refresh that was running.
    pub(crate) rights: ArcSwap<RightsByProject>,
    /// The projects served, read lock-free by a request on a project without rights; written
    /// under the `projects` lock.
    pub(crate) served: ArcSwap<HashSet<String>>,
    /// Health and bookkeeping per project (never taken on the request path); the writers'
    /// lock of `rights` and `served`.
    projects: Mutex<Projects>,
    /// Wakes the refresher when a project is added or removed, or a discovery is asked for.
    pub(crate) projects_changed: Arc<tokio::sync::Notify>,
    /// Set when rs-admin-instance's project list should be read again soon (a project was
    /// announced or deleted): the refresher reads it at most once per
    /// `MIN_DISCOVERY_GAP`, however many ask.
    pub(crate) discovery_asked: AtomicBool,
    /// Whether rs-admin's events reach this access: set by the event listener, watched by the
    /// refresher (its period depends on it).
    pub(crate) broker_link: tokio::sync::watch::Sender<BrokerLink>,
}

/// The projects served, and how many were ever added (each addition is a new generation, so
/// that a refresh started before a project was removed and added again is told apart).
#[derive(Default)]
pub(crate) struct Projects {
    pub(crate) states: BTreeMap<String, ProjectState>,
    added: u64,
}

pub(crate) struct Settings {
    pub(crate) periods: RefreshPeriods,
    pub(crate) refresh_timeout: Duration,
    pub(crate) max_refresh_size: usize,
    pub(crate) strict: bool,
    pub(crate) trusted_proxies: TrustedProxies,
    pub(crate) default_hierarchy: RoleHierarchy,
}

#[derive(Default)]
pub(crate) struct ProjectState {
    /// Which addition of the project this is.
    pub(crate) generation: u64,
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

/// How often rights are read again on their own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefreshPeriods {
    /// While rs-admin's events do not reach the access.
    pub(crate) without_events: Duration,
    /// While they do: a safety net.
    pub(crate) with_events: Duration,
}

impl RefreshPeriods {
    /// The period given the broker link.
    pub(crate) fn for_link(self, link: BrokerLink) -> Duration {
        match link {
            BrokerLink::Connected => self.with_events,
            BrokerLink::Absent | BrokerLink::Disconnected => self.without_events,
        }
    }
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
            served: ArcSwap::from_pointee(HashSet::new()),
            projects: Mutex::default(),
            projects_changed: Arc::default(),
            discovery_asked: AtomicBool::new(false),
            broker_link: tokio::sync::watch::Sender::new(BrokerLink::Absent),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Projects> {
        self.projects.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The projects served and their state.
    pub(crate) fn lock_projects(&self) -> ProjectsGuard<'_> {
        ProjectsGuard(self.lock())
    }

    /// Serves `project` from now on; `true` if it is new.
    pub(crate) fn insert_project(&self, project: &str) -> bool {
        !self.insert_projects([project], usize::MAX).is_empty()
    }

    /// Serves the new ones of `projects` from now on, as long as fewer than `most` are served:
    /// one update of the served set for all of them. The ones added.
    pub(crate) fn insert_projects<'a>(
        &self,
        projects: impl IntoIterator<Item = &'a str>,
        most: usize,
    ) -> Vec<&'a str> {
        let mut projects_served = self.lock();
        let mut added = Vec::new();
        for project in projects {
            if projects_served.states.len() >= most {
                break;
            }
            if !projects_served.states.contains_key(project) {
                projects_served.added += 1;
                let generation = projects_served.added;
                projects_served.states.insert(
                    project.to_owned(),
                    ProjectState {
                        generation,
                        ..ProjectState::default()
                    },
                );
                added.push(project);
            }
        }
        if !added.is_empty() {
            let mut served = HashSet::clone(&self.served.load());
            served.extend(added.iter().map(|&project| project.to_owned()));
            self.served.store(Arc::new(served));
        }
        added
    }

    /// Stops serving `project`: its state, its rights and its place among the projects served
    /// go together. `true` if it was served.
    /// Whether projects are discovered from rs-admin-instance.
    pub(crate) fn discovers(&self) -> bool {
        self.admin.instance.is_some()
    }

    /// Asks the refresher to read rs-admin-instance's project list again soon.
    pub(crate) fn ask_discovery(&self) {
        self.discovery_asked.store(true, Ordering::Relaxed);
        self.projects_changed.notify_one();
    }

    pub(crate) fn remove_project(&self, project: &str) -> bool {
        let mut projects = self.lock();
        if projects.states.remove(project).is_none() {
            return false;
        }
        let mut served = HashSet::clone(&self.served.load());
        served.remove(project);
        self.served.store(Arc::new(served));
        self.swap(&projects, project, None);
        true
    }

    /// Puts `rights` in force for `project` if it is still served as the same `generation`
    /// (not removed meanwhile); `false` otherwise.
    pub(crate) fn install(
        &self,
        project: &str,
        generation: u64,
        rights: Arc<ProjectRights>,
    ) -> bool {
        let projects = self.lock();
        let current = projects.states.get(project).map(|state| state.generation);
        if current != Some(generation) {
            return false;
        }
        self.swap(&projects, project, Some(rights));
        true
    }

    /// The refresh period in force now.
    pub(crate) fn refresh_period(&self) -> Duration {
        self.settings.periods.for_link(*self.broker_link.borrow())
    }

    /// Records whether rs-admin's events reach this access; logs a change of period.
    #[cfg(feature = "amqp")]
    pub(crate) fn set_broker_link(&self, link: BrokerLink) {
        let before = self.broker_link.send_replace(link);
        let periods = self.settings.periods;
        let (before, after) = (periods.for_link(before), periods.for_link(link));
        if before != after {
            tracing::info!(
                microservice = self.admin.microservice,
                broker_link = link.as_str(),
                period_seconds = after.as_secs(),
                "the broker link changed the period of the rights' refresh"
            );
        }
    }

    /// Marks the access as followed by an event listener (not connected yet); `false` if one
    /// follows it already.
    #[cfg(feature = "amqp")]
    pub(crate) fn claim_broker_link(&self) -> bool {
        self.broker_link.send_if_modified(|link| {
            let free = *link == BrokerLink::Absent;
            if free {
                *link = BrokerLink::Disconnected;
            }
            free
        })
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
        if let Some(state) = self.lock().states.get_mut(project) {
            change(state);
        }
    }

    /// Replaces `project`'s rights in a new map (the request path keeps reading the old one
    /// until the swap). The caller holds the `projects` lock, the writers' lock.
    fn swap(
        &self,
        _writers: &MutexGuard<'_, Projects>,
        project: &str,
        rights: Option<Arc<ProjectRights>>,
    ) {
        let mut next = RightsByProject::clone(&self.rights.load());
        match rights {
            Some(rights) => next.insert(project.to_owned(), rights),
            None => next.remove(project),
        };
        self.rights.store(Arc::new(next));
    }
}

/// The `projects` lock, seen as the map of projects served.
pub(crate) struct ProjectsGuard<'a>(MutexGuard<'a, Projects>);

impl std::ops::Deref for ProjectsGuard<'_> {
    type Target = BTreeMap<String, ProjectState>;

    fn deref(&self) -> &Self::Target {
        &self.0.states
    }
}
