//! The events REGARDS' rs-admin publishes when rights change (`RoleEvent`,
//! `ResourceAccessEvent`). By default an in-process stand-in: rs-admin publishes after each
//! change and waits, a bounded time, until every subscriber has handled it, so that a service
//! that re-reads its rights on an event does so before the administrator gets the answer. With
//! a broker ([`RightsEvents::with_broker`]) they go to RabbitMQ as REGARDS' rs-admin sends
//! them, each confirmed by the broker before the answer, and the services follow them with the
//! crate's listener.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use regards_auth::managed::amqp::{EventPublisher, RegardsEvent};

/// How long a publication waits for its subscribers unless told otherwise.
pub const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// A change of rights in a project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RightsEvent {
    /// The project (tenant).
    pub project: String,
    /// `Some(microservice)`: the role's rights on that microservice's resources changed
    /// (`ResourceAccessEvent`); `None`: the role itself was created, updated or deleted
    /// (`RoleEvent`).
    pub microservice: Option<String>,
    /// The role.
    pub role: String,
}

type Callback = Arc<dyn Fn(RightsEvent) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The bus: cloning it gives another handle on the same subscribers.
#[derive(Clone)]
pub struct RightsEvents {
    subscribers: Arc<RwLock<Vec<Callback>>>,
    delivery_timeout: Duration,
    broker: Option<Arc<EventPublisher>>,
}

impl Default for RightsEvents {
    fn default() -> Self {
        RightsEvents::new(DEFAULT_DELIVERY_TIMEOUT)
    }
}

impl std::fmt::Debug for RightsEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let subscribers = self
            .subscribers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("RightsEvents")
            .field("subscribers", &subscribers)
            .field("delivery_timeout", &self.delivery_timeout)
            .field("broker", &self.broker.is_some())
            .finish()
    }
}

impl RightsEvents {
    /// A bus whose publications wait at most `delivery_timeout` for the subscribers.
    pub fn new(delivery_timeout: Duration) -> Self {
        RightsEvents {
            subscribers: Arc::default(),
            delivery_timeout,
            broker: None,
        }
    }

    /// A bus that also publishes every event on RabbitMQ, as REGARDS' rs-admin does.
    pub fn with_broker(publisher: EventPublisher) -> Self {
        RightsEvents {
            broker: Some(Arc::new(publisher)),
            ..RightsEvents::default()
        }
    }

    /// Calls `callback` for every event published from now on.
    #[allow(
        dead_code,
        reason = "the demo's services subscribe once they use managed access"
    )]
    pub fn subscribe<F, Fut>(&self, callback: F)
    where
        F: Fn(RightsEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let callback: Callback = Arc::new(move |event| Box::pin(callback(event)));
        self.subscribers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(callback);
    }

    /// Hands every event to every subscriber, concurrently, and waits until they are done or
    /// the delivery timeout has passed; late subscribers finish in the background.
    pub async fn publish(&self, events: impl IntoIterator<Item = RightsEvent>) {
        let events: Vec<RightsEvent> = events.into_iter().collect();
        if let Some(broker) = &self.broker {
            for event in &events {
                let regards_event = match &event.microservice {
                    Some(microservice) => RegardsEvent::ResourceAccess {
                        microservice: microservice.clone(),
                        role: event.role.clone(),
                    },
                    None => RegardsEvent::Role {
                        role: event.role.clone(),
                    },
                };
                if let Err(error) = broker.publish(&event.project, &regards_event).await {
                    // The services' periodic refresh catches up.
                    tracing::warn!(%error, project = event.project, "cannot publish a rights event on RabbitMQ");
                }
            }
        }
        let subscribers = self
            .subscribers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if subscribers.is_empty() {
            return;
        }
        let mut deliveries = tokio::task::JoinSet::new();
        for event in events {
            for subscriber in &subscribers {
                deliveries.spawn(subscriber(event.clone()));
            }
        }
        let all_delivered = async {
            while let Some(delivered) = deliveries.join_next().await {
                if delivered.is_err() {
                    tracing::warn!("a rights event subscriber failed");
                }
            }
        };
        if tokio::time::timeout(self.delivery_timeout, all_delivered)
            .await
            .is_err()
        {
            tracing::warn!(
                timeout = ?self.delivery_timeout,
                "rights event subscribers are slow: answering without waiting for them"
            );
            deliveries.detach_all();
        }
    }
}
