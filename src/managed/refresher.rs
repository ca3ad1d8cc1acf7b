//! [`Refresher`]: the background work that keeps a [`ManagedAccess`] up to date without
//! events: one task per project (registration until it succeeds, then a refresh every period),
//! and project discovery.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::task::JoinSet;

use super::access::ManagedAccess;
use super::backoff::Backoff;
use super::state::{MAX_PROJECTS, Shared};

/// How often rights are read again from rs-admin by default: 60 seconds.
pub const DEFAULT_REFRESH_PERIOD: Duration = Duration::from_secs(60);
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
    let mut backoff = Backoff::new(FIRST_RETRY_BACKOFF, MAX_RETRY_BACKOFF);
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
            backoff.reset();
            period
        } else {
            backoff.next().min(period)
        };
        tokio::time::sleep(wait).await;
    }
}
