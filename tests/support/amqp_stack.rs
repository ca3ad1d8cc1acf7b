//! The stack the RabbitMQ tests and the latency measurement (`benches/amqp_latency.rs`) drive:
//! the demo with its rs-admin publishing on the private broker, and separate instances of
//! rs-notifier (`examples/notifier.rs`) following it. The including crate declares the modules
//! `rabbitmq`, `regards_demo`, `reply` and `notifier`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use http::{Method, StatusCode};
use regards_auth::managed::amqp::{
    AmqpConfig, AmqpConfigBuilder, EventListener, EventPublisher, VhostMode,
};
use regards_auth::managed::{ManagedAccess, Refresher};
use regards_auth::{REGARDS_DEVELOPMENT_KEY, Role, TokenIssuer, Verifier};
use tokio::net::TcpListener;

use crate::notifier;
use crate::rabbitmq::Broker;
use crate::regards_demo::{self, DemoConfig, RightsEvents};
use crate::reply::{self, HttpClient, client, send_json};

pub const ADMIN: &str = "/api/v1/rs-admin";
pub const OPERATOR: &str = "NOTIFIER_OPERATOR";
/// Long enough that a test passing shows events, not the timer, did the work.
pub const NO_POLL: Duration = Duration::from_secs(3600);
/// How long the services may take to register, read their rights and connect.
pub const READY: Duration = Duration::from_secs(30);
/// How long an event may take to reach every instance.
pub const WAIT: Duration = Duration::from_secs(15);

/// Polls `check` until it holds; fails after `limit`.
pub async fn eventually(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn development_verifier() -> Verifier {
    Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap()
}

pub fn serve(listener: TcpListener, router: Router) {
    tokio::spawn(async move {
        let app = router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await
    });
}

/// The demo stack with its rs-admin publishing on the broker, served on an ephemeral port, its
/// rs-admin's role reads counted.
pub struct Stack {
    pub base: String,
    pub issuer: TokenIssuer,
    pub client: HttpClient,
    /// Reads of GET /roles, by every service.
    pub role_reads: Arc<AtomicU64>,
    /// Calls to rs-admin by the microservice their system token names.
    calls_by: Arc<Mutex<HashMap<String, AdminCalls>>>,
    pub demo: regards_demo::Demo,
}

/// The calls one microservice made to rs-admin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdminCalls {
    /// `GET /roles`.
    pub role_listings: u64,
    /// Every call (registrations, listings, a role's grants...).
    pub all: u64,
}

/// The configuration of one test: its vhost mode, and its own namespace, so that tests sharing
/// the broker never receive each other's events.
pub fn test_config(broker: &Broker, mode: VhostMode, namespace: &str) -> AmqpConfigBuilder {
    broker.config().vhost_mode(mode).namespace(namespace)
}

impl Stack {
    pub async fn start(broker: &Broker, mode: VhostMode, namespace: &str) -> Stack {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut config = DemoConfig::development();
        config.addr = listener.local_addr().unwrap();
        let amqp = test_config(broker, mode, namespace).build().unwrap();
        config.amqp = Some(amqp.clone());
        let base = format!("http://{}", config.addr);
        let issuer = config.issuer.clone();
        let demo = regards_demo::demo(config, RightsEvents::with_broker(EventPublisher::new(amqp)));
        let role_reads = Arc::new(AtomicU64::new(0));
        let calls_by = Arc::new(Mutex::new(HashMap::new()));
        let (counter, by_subject) = (role_reads.clone(), calls_by.clone());
        let verifier = Arc::new(development_verifier());
        let router = demo.router.clone().layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let (counter, by_subject) = (counter.clone(), by_subject.clone());
                let verifier = verifier.clone();
                async move {
                    let path = request.uri().path();
                    let listing =
                        request.method() == Method::GET && path == "/api/v1/rs-admin/roles";
                    if listing {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    let subject = request
                        .headers()
                        .get("authorization")
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| value.strip_prefix("Bearer "))
                        .and_then(|token| verifier.verify(token).ok())
                        .map(|claims| claims.sub().to_owned());
                    if let (Some(subject), true) = (subject, path.starts_with(ADMIN)) {
                        let mut by_subject = by_subject.lock().unwrap();
                        let calls: &mut AdminCalls = by_subject.entry(subject).or_default();
                        calls.all += 1;
                        calls.role_listings += u64::from(listing);
                    }
                    next.run(request).await
                }
            },
        ));
        serve(listener, router);
        assert!(demo.managed(READY).await, "the demo's services are ready");
        eventually("the demo's services follow the broker", READY, async || {
            demo.listeners
                .iter()
                .all(|listener| listener.health().connected)
        })
        .await;
        // Their first connection's refresh done.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Stack {
            base,
            issuer,
            client: client(),
            role_reads,
            calls_by,
            demo,
        }
    }

    /// The calls `microservice` made to rs-admin so far.
    pub fn calls_by(&self, microservice: &str) -> AdminCalls {
        let calls = self.calls_by.lock().unwrap();
        calls.get(microservice).copied().unwrap_or_default()
    }

    pub fn admin_url(&self) -> String {
        format!("{}{ADMIN}", self.base)
    }

    pub fn admin(&self) -> String {
        self.issuer
            .mint("admin@regards.fr", Role::ProjectAdmin, "project1")
    }

    pub fn operator(&self) -> String {
        self.issuer.mint(
            "operator@regards.fr",
            Role::Custom(OPERATOR.into()),
            "project1",
        )
    }

    pub async fn admin_call(&self, method: Method, path: &str, body: &str) -> reply::Reply {
        let url = format!("{}{path}", self.admin_url());
        send_json(&self.client, method, &url, Some(&self.admin()), &[], body).await
    }

    pub async fn create_operator_role(&self) {
        let reply = self
            .admin_call(
                Method::POST,
                "/roles",
                r#"{"name":"NOTIFIER_OPERATOR","parentRole":{"name":"REGISTERED_USER"}}"#,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    }

    pub async fn put_rule_id(&self) -> u64 {
        self.put_rule_id_of("rs-notifier").await
    }

    /// The id rs-admin gave `PUT /rule` of `microservice` (registered by then).
    pub async fn put_rule_id_of(&self, microservice: &str) -> u64 {
        let path = format!("/resources/microservices/{microservice}");
        self.admin_call(Method::GET, &path, "")
            .await
            .resource_id("/rule", "PUT")
    }

    pub async fn grant(&self, id: u64) {
        let reply = self
            .admin_call(
                Method::POST,
                &format!("/roles/{OPERATOR}/resources"),
                &format!(r#"{{"id":{id}}}"#),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }

    pub async fn revoke(&self, id: u64) {
        let reply = self
            .admin_call(
                Method::DELETE,
                &format!("/roles/{OPERATOR}/resources/{id}"),
                "",
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
    }
}

/// A separate instance of rs-notifier (`examples/notifier.rs`) on the demo's rs-admin, refreshing
/// only once an hour, following the broker.
pub struct Instance {
    pub base: String,
    pub access: ManagedAccess,
    pub listener: EventListener,
    pub client: HttpClient,
    _refresher: Refresher,
}

impl Instance {
    pub async fn start(stack: &Stack, config: AmqpConfig) -> Instance {
        let (router, endpoints) = notifier::routes().build().unwrap();
        let access = ManagedAccess::builder("rs-notifier", endpoints)
            .admin_url(stack.admin_url())
            .system_tokens(TokenIssuer::development())
            .projects(["project1", "project2"])
            .refresh_period(NO_POLL)
            .build()
            .unwrap();
        let refresher = access.spawn();
        let listener = EventListener::start(&access, config).unwrap();
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", server.local_addr().unwrap());
        serve(
            server,
            notifier::app(router, access.clone(), development_verifier()),
        );
        let instance = Instance {
            base,
            access,
            listener,
            client: client(),
            _refresher: refresher,
        };
        eventually("an instance is ready", READY, async || {
            instance.access.health().is_up_to_date() && instance.listener.health().connected
        })
        .await;
        instance
    }

    pub async fn put_rule(&self, token: &str) -> StatusCode {
        let url = format!("{}/rule", self.base);
        send_json(
            &self.client,
            Method::PUT,
            &url,
            Some(token),
            &[],
            r#"{"name":"r1"}"#,
        )
        .await
        .status
    }
}

pub async fn three_instances(
    stack: &Stack,
    broker: &Broker,
    mode: VhostMode,
    namespace: &str,
) -> Vec<Instance> {
    let mut instances = Vec::new();
    for n in 0..3 {
        let config = test_config(broker, mode, namespace)
            .instance_identifier(format!("rs-notifier-{n}"))
            .build()
            .unwrap();
        instances.push(Instance::start(stack, config).await);
    }
    instances
}

/// Waits until `token` gets `expected` on `PUT /rule` at every instance.
pub async fn every_instance_answers(instances: &[Instance], token: &str, expected: StatusCode) {
    for (n, instance) in instances.iter().enumerate() {
        eventually(
            &format!("instance {n} answers {expected}"),
            WAIT,
            async || instance.put_rule(token).await == expected,
        )
        .await;
    }
}
