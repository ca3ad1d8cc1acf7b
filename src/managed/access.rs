//! [`ManagedAccess`]: the service's endpoints and the operations on the rights rs-admin grants
//! on them per project: register, refresh, add and remove projects, health.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use super::admin::{ReadBudget, RoleGrants, sendable_name};
use super::endpoint::Endpoints;
use super::error::{AdminError, ManagedConfigError};
use super::health::{Health, ProjectHealth, RightsSource};
use super::layer::ManagedAccessLayer;
use super::rights::{AdminRole, BuildReport, GrantSet, ProjectRights};
use super::state::{ProjectState, Shared};
use crate::role::{Role, RoleHierarchy};

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

impl ManagedAccess {
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
    ///
    /// # Errors
    ///
    /// [`ManagedConfigError::EmptyProject`] for an empty name. A project already served is no
    /// error (nothing changes).
    pub fn add_project(&self, project: &str) -> Result<(), ManagedConfigError> {
        if project.is_empty() {
            return Err(ManagedConfigError::EmptyProject);
        }
        if self.shared.insert_project(project) {
            self.shared.log_new_projects(project);
            self.shared.projects_changed.notify_one();
        }
        Ok(())
    }

    /// Stops serving `project` (REGARDS' project deletion, `TenantDeletedEvent`, which
    /// `amqp::EventListener` follows): its rights are dropped, its
    /// background refresh stops, it leaves [`health`](Self::health), and its requests are then
    /// decided as those of any project not served (403 to all but system roles, INSTANCE_ADMIN
    /// and PROJECT_ADMIN). A refresh running for it meanwhile brings nothing back. Adding it
    /// again later starts afresh: registration, then the declared defaults until rs-admin
    /// answers.
    ///
    /// Returns whether `project` was served.
    ///
    /// ```
    /// # use regards_auth::{Role, TokenIssuer};
    /// # use regards_auth::managed::{Endpoint, Endpoints, ManagedAccess, ResourceAccess};
    /// # use http::Method;
    /// # let endpoints = Endpoints::new([Endpoint::new(Method::PUT, "/rule", "RuleController",
    /// #     ResourceAccess::new("Import a notification rule", Role::ProjectAdmin))]).unwrap();
    /// let access = ManagedAccess::builder("rs-notifier", endpoints)
    ///     .admin_url("http://rs-admin:9011")
    ///     .system_tokens(TokenIssuer::development())
    ///     .projects(["project1", "project2"])
    ///     .build()?;
    /// assert!(access.remove_project("project2"));
    /// assert_eq!(access.projects(), ["project1"]);
    /// assert!(!access.remove_project("project2"));
    /// # Ok::<(), regards_auth::managed::ManagedConfigError>(())
    /// ```
    pub fn remove_project(&self, project: &str) -> bool {
        if !self.shared.remove_project(project) {
            return false;
        }
        tracing::info!(
            microservice = self.microservice(),
            project,
            "project no longer served: its rights are dropped"
        );
        self.shared.projects_changed.notify_one();
        true
    }

    /// The projects served.
    pub fn projects(&self) -> Vec<String> {
        self.shared.lock_projects().keys().cloned().collect()
    }

    /// Registers the endpoints with rs-admin for `project` (REGARDS' `registerEndpoints`).
    /// A failure is recorded in [`health`](Self::health) and logged once until it recovers.
    /// A project not served ([`add_project`](Self::add_project) first) is refused with
    /// [`AdminError::UnknownProject`]: an event naming any tenant must not make it served.
    ///
    /// # Errors
    ///
    /// - [`AdminError::UnknownProject`]: `project` is not served;
    /// - [`AdminError::Transport`]: the request could not be sent or the answer not read;
    /// - [`AdminError::Timeout`]: no complete answer within the rs-admin timeout
    ///   ([`ManagedAccessBuilder::admin_timeout`](super::ManagedAccessBuilder::admin_timeout));
    /// - [`AdminError::Status`]: rs-admin answered a status other than a success;
    /// - [`AdminError::BadAnswer`]: the answer is larger than the size cap
    ///   ([`ManagedAccessBuilder::max_response_size`](super::ManagedAccessBuilder::max_response_size)).
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
    /// bounded by the refresh timeout ([`ManagedAccessBuilder::refresh_timeout`](super::ManagedAccessBuilder::refresh_timeout)).
    ///
    /// # Errors
    ///
    /// - [`AdminError::UnknownProject`]: `project` is not served, or stopped being served while
    ///   rs-admin was read (its rights are then not installed);
    /// - [`AdminError::Timeout`]: the whole read took longer than the refresh timeout, one call
    ///   longer than the rs-admin timeout
    ///   ([`ManagedAccessBuilder::admin_timeout`](super::ManagedAccessBuilder::admin_timeout)),
    ///   or the runtime shut down while the rights were built;
    /// - [`AdminError::Transport`]: a request could not be sent or its answer not read;
    /// - [`AdminError::Status`]: rs-admin answered a status other than a success (a 404 on a
    ///   role's rights that is not rs-admin's own answer included);
    /// - [`AdminError::BadAnswer`]: an answer is not the JSON REGARDS sends (wrong shape, more
    ///   than 1000 roles, a role without a name...), is larger than the size cap, the answers
    ///   together exceed the refresh size cap
    ///   ([`ManagedAccessBuilder::max_refresh_size`](super::ManagedAccessBuilder::max_refresh_size)),
    ///   or rs-admin lists a role whose rights it says it does not know.
    pub async fn refresh(&self, project: &str) -> Result<(), AdminError> {
        let mut admitted = None;
        self.shared.update(project, |state| {
            state.refresh_requests += 1;
            admitted = Some((
                state.refresh_requests,
                state.refreshing.clone(),
                state.generation,
            ));
        });
        let Some((request, lock, generation)) = admitted else {
            return Err(AdminError::UnknownProject);
        };
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
                if !self.shared.install(project, generation, Arc::new(rights)) {
                    // Removed while rs-admin was read: it stays removed.
                    return Err(AdminError::UnknownProject);
                }
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
    ///
    /// # Errors
    ///
    /// The error of [`register`](Self::register) if it failed, else that of
    /// [`refresh`](Self::refresh).
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
            broker_link: *self.shared.broker_link.borrow(),
            refresh_period: self.shared.refresh_period(),
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
            if !sendable_name(name) {
                // rs-admin could not be asked (see `sendable_name`): such a role is granted
                // nothing, rather than every refresh of the project failing.
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
        // rs-admin does not know these names. A name listed only with `ROLE_` (`ROLE_CURATOR`,
        // read under `CURATOR`) is simply granted nothing, as by REGARDS. A name the listing
        // held as is must have been deleted since: believe it only if a fresh listing agrees;
        // otherwise the answers contradict each other, and the rights in force are safer.
        unknown.retain(|&name| roles.iter().any(|role| role.name == name));
        if !unknown.is_empty() {
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
        for role in &report.impersonating {
            tracing::error!(
                microservice,
                project,
                role,
                "a custom role is named like INSTANCE_ADMIN or a system role: callers holding that role are refused in this project until it is renamed"
            );
        }
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
                roles,
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

    pub(crate) fn state<T>(
        &self,
        project: &str,
        read: impl FnOnce(&ProjectState) -> T,
    ) -> Option<T> {
        self.shared.lock_projects().get(project).map(read)
    }

    /// Installs `rights` for `project` as if rs-admin had answered them (tests of the layer).
    #[cfg(test)]
    pub(crate) fn install(&self, project: &str, rights: ProjectRights) {
        self.add_project(project).expect("a project name");
        let generation = self
            .state(project, |state| state.generation)
            .expect("just added");
        self.shared.install(project, generation, Arc::new(rights));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::TokenIssuer;
    use crate::managed::ManagedAccessBuilder;
    use crate::managed::fixtures::endpoints;

    fn builder() -> ManagedAccessBuilder {
        ManagedAccess::builder("rs-notifier", endpoints())
            .admin_url("http://127.0.0.1:9")
            .system_tokens(TokenIssuer::development())
            .projects(["project1"])
    }

    #[test]
    fn health_starts_on_defaults_or_refused_when_strict() {
        let health = builder().build().unwrap().health();
        assert_eq!(health.projects[0].rights, RightsSource::Defaults);
        assert!(!health.projects[0].registered);
        let strict = builder().strict().build().unwrap().health();
        assert_eq!(strict.projects[0].rights, RightsSource::Refused);
    }

    #[cfg(feature = "amqp")]
    #[test]
    fn health_says_whether_events_arrive_and_the_refresh_period_that_follows() {
        use crate::managed::{BrokerLink, DEFAULT_REFRESH_PERIOD, DEFAULT_SAFETY_REFRESH_PERIOD};
        let access = builder().build().unwrap();
        let health = access.health();
        assert_eq!(health.broker_link, BrokerLink::Absent);
        assert_eq!(health.refresh_period, DEFAULT_REFRESH_PERIOD);
        assert!(access.shared.claim_broker_link());
        assert!(
            !access.shared.claim_broker_link(),
            "one listener per access"
        );
        assert_eq!(access.health().broker_link, BrokerLink::Disconnected);
        assert_eq!(access.health().refresh_period, DEFAULT_REFRESH_PERIOD);
        access.shared.set_broker_link(BrokerLink::Connected);
        let health = access.health();
        assert_eq!(health.broker_link, BrokerLink::Connected);
        assert_eq!(health.refresh_period, DEFAULT_SAFETY_REFRESH_PERIOD);
        assert_eq!(DEFAULT_SAFETY_REFRESH_PERIOD, Duration::from_secs(600));
        access.shared.set_broker_link(BrokerLink::Disconnected);
        assert_eq!(access.health().refresh_period, Duration::from_secs(60));
    }

    #[test]
    fn a_removed_project_added_again_starts_afresh() {
        let access = builder().build().unwrap();
        access
            .shared
            .update("project1", |state| state.registered = true);
        assert!(access.remove_project("project1"));
        assert!(access.health().projects.is_empty());
        access.add_project("project1").unwrap();
        let health = access.health();
        assert_eq!(health.projects[0].rights, RightsSource::Defaults);
        assert!(!health.projects[0].registered, "registered again");
    }
}
