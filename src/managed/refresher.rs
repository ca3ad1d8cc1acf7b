//! [`Refresher`]: the background work that keeps a [`ManagedAccess`] up to date without
//! events: one task per project (registration until it succeeds, then a refresh every period),
//! and project discovery.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

use super::access::ManagedAccess;
use super::backoff::{Backoff, periodic_spread};
use super::state::{MAX_PROJECTS, Shared};

/// The shortest time between two reads of rs-admin-instance's project list asked for by
/// events: a flood of project announcements costs one read per gap.
const MIN_DISCOVERY_GAP: Duration = Duration::from_secs(1);

/// How often rights are read again from rs-admin by default while rs-admin's events do not
/// reach the service (no event listener, or its broker link down): 60 seconds.
pub const DEFAULT_REFRESH_PERIOD: Duration = Duration::from_secs(60);
/// How often rights are read again by default while an event listener follows rs-admin's
/// events: 10 minutes, a safety net for an event lost where the listener cannot see it.
pub const DEFAULT_SAFETY_REFRESH_PERIOD: Duration = Duration::from_secs(600);
/// The first wait after a failed registration or refresh; it doubles up to
/// [`MAX_RETRY_BACKOFF`], with jitter.
pub const FIRST_RETRY_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between two attempts after failures: 60 seconds (or the refresh period, if
/// shorter).
pub const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(60);

impl ManagedAccess {
    /// Starts the background work on the current tokio runtime: for every project (configured,
    /// added, or discovered from rs-admin-instance), register the endpoints, retrying with a
    /// bounded, jittered backoff until it succeeds, and refresh the rights every refresh period
    /// (sooner after a failure). Serving never waits for it. A project removed
    /// ([`remove_project`](Self::remove_project)) has its work stopped at once.
    ///
    /// The period depends on whether rs-admin's events reach the service (see
    /// [`health`](Self::health)'s `broker_link`): without an `amqp::EventListener`, or while its
    /// link is down, it is the refresh period
    /// ([`ManagedAccessBuilder::refresh_period`](super::ManagedAccessBuilder::refresh_period),
    /// 60 s by default); while the link is up, events bring every change and the periodic
    /// refresh is a safety net
    /// ([`ManagedAccessBuilder::safety_refresh_period`](super::ManagedAccessBuilder::safety_refresh_period),
    /// 10 minutes by default).
    ///
    /// The work stops when the returned [`Refresher`] is dropped, or, once
    /// [`detached`](Refresher::detach), when the last clone of this access is.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as [`tokio::spawn`].
    pub fn spawn(&self) -> Refresher {
        let weak = Arc::downgrade(&self.shared);
        Refresher {
            task: Some(tokio::spawn(supervise(weak))),
        }
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

/// Runs one task per project served (started when it is added, stopped when it is removed),
/// and discovers projects every refresh period.
async fn supervise(shared: Weak<Shared>) {
    let Some((projects_changed, mut link)) = shared.upgrade().map(|shared| {
        (
            shared.projects_changed.clone(),
            shared.broker_link.subscribe(),
        )
    }) else {
        return;
    };
    let mut tasks = JoinSet::new();
    let mut running: HashMap<String, AbortHandle> = HashMap::new();
    let mut last_discovery: Option<Instant> = None;
    loop {
        let Some(access) = shared.upgrade().map(|shared| ManagedAccess { shared }) else {
            return;
        };
        let period = access.shared.refresh_period();
        let discovers = access.shared.discovers();
        let asked = discovers && access.shared.discovery_asked.load(Ordering::Relaxed);
        let due = last_discovery.is_none_or(|at| at.elapsed() >= period);
        let asked_now = asked && last_discovery.is_none_or(|at| at.elapsed() >= MIN_DISCOVERY_GAP);
        if discovers && (due || asked_now) {
            access
                .shared
                .discovery_asked
                .store(false, Ordering::Relaxed);
            last_discovery = Some(Instant::now());
            discover(&access).await;
        }
        let served: HashSet<String> = access.projects().into_iter().collect();
        running.retain(|project, task| {
            let keep = served.contains(project);
            if !keep {
                task.abort();
            }
            keep
        });
        for project in served {
            if let Entry::Vacant(entry) = running.entry(project) {
                let task = keep_up_to_date(Arc::downgrade(&access.shared), entry.key().clone());
                entry.insert(tasks.spawn(task));
            }
        }
        while tasks.try_join_next().is_some() {}
        // Asked for within the gap after the last discovery: read again when the gap ends.
        let asked = discovers && access.shared.discovery_asked.load(Ordering::Relaxed);
        drop(access);
        let since = last_discovery.unwrap_or_else(Instant::now);
        let next_discovery = if asked {
            since + MIN_DISCOVERY_GAP
        } else {
            since + period
        };
        tokio::select! {
            () = tokio::time::sleep_until(next_discovery), if discovers => {}
            () = projects_changed.notified() => {}
            changed = link.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Adds the projects rs-admin-instance says this microservice is active on.
async fn discover(access: &ManagedAccess) {
    match access.shared.admin.projects(MAX_PROJECTS).await {
        Ok(discovered) => {
            let shared = &access.shared;
            let added = shared.insert_projects(discovered.iter().map(String::as_str), MAX_PROJECTS);
            if !added.is_empty() {
                shared.log_new_projects(&added.join(", "));
            }
            if added.len() < discovered.len() && access.projects().len() >= MAX_PROJECTS {
                tracing::warn!(
                    microservice = access.microservice(),
                    "rs-admin-instance lists more than {MAX_PROJECTS} projects: serving the first ones"
                );
            }
        }
        Err(error) => tracing::warn!(
            microservice = access.microservice(), %error,
            "cannot discover projects from rs-admin-instance; serving the known ones"
        ),
    }
}

/// Registers `project` until it succeeds, and refreshes its rights every period: the period
/// the broker link calls for, counted from the end of the last refresh, drawn in its last tenth
/// (projects and instances started together do not read rs-admin together), and shortened at
/// once when the link is lost.
async fn keep_up_to_date(shared: Weak<Shared>, project: String) {
    let mut backoff = Backoff::new(FIRST_RETRY_BACKOFF, MAX_RETRY_BACKOFF);
    let Some((periods, mut link)) = shared
        .upgrade()
        .map(|shared| (shared.settings.periods, shared.broker_link.subscribe()))
    else {
        return;
    };
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
        drop(access);
        let retry = if registration.is_ok() && refresh.is_ok() {
            backoff.reset();
            None
        } else {
            Some(backoff.next())
        };
        let since = Instant::now();
        let spread = periodic_spread();
        loop {
            let period = periods.for_link(*link.borrow_and_update()).mul_f64(spread);
            let wait = retry.map_or(period, |retry| retry.min(period));
            tokio::select! {
                () = tokio::time::sleep_until(since + wait) => break,
                changed = link.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
            }
        }
    }
}
