//! Following rs-admin over a real RabbitMQ (Debian's `rabbitmq-server`, one private broker for
//! this binary, see `support/rabbitmq.rs`): REGARDS' declarations, the demo's rs-admin
//! publishing as REGARDS' does, three instances of a service learning every change without a
//! poll (refresh period one hour) in MULTI and SINGLE vhost modes, the broker stopped and
//! started again, hostile messages, a burst of events.

#[path = "support/rabbitmq.rs"]
mod rabbitmq;
#[path = "../examples/regards_demo/main.rs"]
mod regards_demo;
#[path = "support/reply.rs"]
mod reply;

// Only `routes` and `app` are used here; `main` is the example's.
#[path = "support/amqp_stack.rs"]
mod amqp_stack;
#[allow(dead_code)]
#[path = "../examples/notifier.rs"]
mod notifier;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use lapin::options::{BasicPublishOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use regards_auth::managed::amqp::{
    AmqpConfig, AmqpConfigBuilder, Dropped, EventListener, EventPublisher, RegardsEvent, VhostMode,
};
use regards_auth::managed::{BrokerLink, DEFAULT_SAFETY_REFRESH_PERIOD, ManagedAccess, Refresher};
use regards_auth::{REGARDS_DEVELOPMENT_KEY, Role, TokenIssuer};

use amqp_stack::{
    Instance, NO_POLL, OPERATOR, READY, Stack, WAIT, eventually, every_instance_answers,
    test_config, three_instances,
};
use rabbitmq::{Broker, broker};
use reply::send_json;

/// The demo stack in `namespace`, and one instance of rs-notifier following it, its settings
/// given by `configure`.
async fn stack_and_instance(
    broker: &Broker,
    mode: VhostMode,
    namespace: &str,
    instance: &str,
    configure: impl FnOnce(AmqpConfigBuilder) -> AmqpConfigBuilder,
) -> (Stack, Instance) {
    let stack = Stack::start(broker, mode, namespace).await;
    let config = configure(test_config(broker, mode, namespace).instance_identifier(instance))
        .build()
        .unwrap();
    let instance = Instance::start(&stack, config).await;
    (stack, instance)
}

/// REGARDS' headers: each value a long string, as Spring AMQP writes them.
fn regards_headers(pairs: &[(&str, &str)]) -> FieldTable {
    let mut table = FieldTable::default();
    for (name, value) in pairs {
        table.insert(
            (*name).into(),
            AMQPValue::LongString(LongString::from(value.as_bytes())),
        );
    }
    table
}

/// A channel on `vhost` of the test broker, to publish as another REGARDS service would.
async fn channel_in(broker: &Broker, vhost: &str) -> (Connection, lapin::Channel) {
    let connection = Connection::connect(
        &format!("{}/{vhost}", broker.url()),
        ConnectionProperties::default(),
    )
    .await
    .unwrap();
    let channel = connection.create_channel().await.unwrap();
    (connection, channel)
}

/// The broker, or `None` when the test must skip (the reason is printed once).
macro_rules! broker_or_skip {
    () => {
        match broker() {
            Some(broker) => broker,
            None => return,
        }
    };
}

/// Grant, revocation, a new role and a new project reach all three instances at once, though
/// none reads rs-admin on its own for an hour.
async fn changes_reach_every_instance_without_a_poll(mode: VhostMode, namespace: &str) {
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let stack = Stack::start(broker, mode, namespace).await;
    let instances = three_instances(&stack, broker, mode, namespace).await;
    let operator = stack.operator();
    every_instance_answers(&instances, &operator, StatusCode::FORBIDDEN).await;

    // A new role (RoleEvent), then a grant to it (ResourceAccessEvent).
    stack.create_operator_role().await;
    let put_rule = stack.put_rule_id().await;
    stack.grant(put_rule).await;
    every_instance_answers(&instances, &operator, StatusCode::OK).await;

    // A revocation.
    stack.revoke(put_rule).await;
    every_instance_answers(&instances, &operator, StatusCode::FORBIDDEN).await;

    // A new project, announced by rs-admin-instance.
    let publisher = EventPublisher::new(test_config(broker, mode, namespace).build().unwrap());
    publisher
        .publish(
            "",
            &RegardsEvent::TenantCreated {
                tenant: "project9".into(),
            },
        )
        .await
        .unwrap();
    for instance in &instances {
        eventually("the new project is served", WAIT, async || {
            instance.access.projects().contains(&"project9".to_owned())
        })
        .await;
    }

    // A project deleted, announced by rs-admin-instance: not served any more, its rights gone,
    // though the operator was granted PUT /rule there.
    stack.grant(put_rule).await;
    every_instance_answers(&instances, &operator, StatusCode::OK).await;
    publisher
        .publish(
            "",
            &RegardsEvent::TenantDeleted {
                tenant: "project1".into(),
            },
        )
        .await
        .unwrap();
    for instance in &instances {
        eventually("the deleted project is not served", WAIT, async || {
            !instance.access.projects().contains(&"project1".to_owned())
        })
        .await;
        let health = instance.access.health();
        assert!(health.projects.iter().all(|p| p.project != "project1"));
        assert!(instance.access.hierarchy("project1").is_none());
    }
    // Decided as a project never served: a custom role gets 403.
    every_instance_answers(&instances, &operator, StatusCode::FORBIDDEN).await;
    if mode == VhostMode::Multi {
        // Its virtual host's link is closed (REGARDS' subscriber drops the tenant too).
        for instance in &instances {
            let start = Instant::now();
            loop {
                let health = instance.listener.health();
                let closed = health
                    .links
                    .iter()
                    .all(|link| link.vhost != "regards.project1");
                if closed && health.connected {
                    break;
                }
                assert!(
                    start.elapsed() < WAIT,
                    "the project's link is not closed, or another is down, after {WAIT:?}: {health:?}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_every_instance_without_a_poll_with_a_vhost_per_project() {
    changes_reach_every_instance_without_a_poll(VhostMode::Multi, "multi").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_every_instance_without_a_poll_with_one_shared_vhost() {
    changes_reach_every_instance_without_a_poll(VhostMode::Single, "single").await;
}

/// What the listener declared is what REGARDS declares: a Java service declaring the same
/// exchange and dead-letter queue is not refused, and the queue carries REGARDS' arguments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declarations_are_regards_own_so_java_services_share_the_broker() {
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let (_stack, instance) = stack_and_instance(
        broker,
        VhostMode::Multi,
        "regards",
        "declarations",
        |config| config,
    )
    .await;
    let queue = broker
        .management_get(
            "/queues/regards.project1/regards.broadcast.rs-notifier.declarations.fr.cnes.regards.framework.security.event.SecurityEventHandler%24RoleEventHandler",
        )
        .expect("the queue is declared in the project's vhost");
    assert_eq!(queue["durable"], true);
    assert_eq!(queue["auto_delete"], true);
    assert_eq!(queue["exclusive"], false);
    assert_eq!(
        queue["arguments"],
        serde_json::json!({
            "x-dead-letter-exchange": "regards.DLX",
            "x-dead-letter-routing-key": "regards.DLQ",
            "x-max-priority": 255
        })
    );
    let exchange = broker
        .management_get(
            "/exchanges/regards.project1/regards.broadcast.fr.cnes.regards.framework.security.event.RoleEvent",
        )
        .expect("the exchange is declared");
    assert_eq!(exchange["type"], "fanout");
    assert_eq!(exchange["durable"], true);
    assert!(broker.management_get("/queues/regards.instance.manager/regards.broadcast.rs-notifier.declarations.fr.cnes.regards.framework.amqp.autoconfigure.AmqpEventHandler%24TenantCreationHandler").is_some());

    // A Java service's own declarations of the shared ones, argument for argument.
    let (_connection, channel) = channel_in(broker, "regards.project1").await;
    let mut priority = FieldTable::default();
    priority.insert("x-max-priority".into(), AMQPValue::LongInt(255));
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare("regards.DLQ".into(), durable, priority)
        .await
        .expect("REGARDS' dead-letter queue, as REGARDS declares it, is accepted");
    // And the check is real: another shape is refused.
    let refused = channel
        .queue_declare("regards.DLQ".into(), durable, FieldTable::default())
        .await
        .expect_err("a different declaration is refused");
    assert!(
        refused.to_string().contains("PRECONDITION_FAILED"),
        "{refused}"
    );
    drop(instance);
}

/// Messages a listener cannot read, or that concern a project it does not serve, are
/// acknowledged, counted and dropped; the link stays, and the next good event is followed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_messages_are_counted_and_dropped_without_breaking_the_link() {
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let (stack, instance) =
        stack_and_instance(broker, VhostMode::Single, "hostile", "hostile", |config| {
            config.max_message_size(1024)
        })
        .await;
    let (_connection, channel) = channel_in(broker, "regards.multitenant.manager").await;
    let role_exchange = "hostile.broadcast.fr.cnes.regards.framework.security.event.RoleEvent";
    let headers = regards_headers;
    let role = "fr.cnes.regards.framework.security.event.RoleEvent";
    let good = [
        ("regards.tenant", "project1"),
        ("__TypeId__", role),
        ("regards.converter", "JACKSON"),
    ];
    let huge = vec![b' '; 1 << 20];
    let cases: Vec<(FieldTable, &[u8])> = vec![
        (headers(&good), &huge),
        (headers(&good[1..]), br#"{"role":"X"}"#),
        (
            headers(&[good[0], ("__TypeId__", "java.lang.Runtime"), good[2]]),
            b"{}",
        ),
        (
            headers(&[good[0], good[1], ("regards.converter", "XSTREAM")]),
            b"{}",
        ),
        (headers(&good), b"{\"role\":"),
        (
            headers(&[("regards.tenant", "nobody's project"), good[1], good[2]]),
            b"{}",
        ),
    ];
    for (headers, body) in cases {
        channel
            .basic_publish(
                role_exchange.into(),
                "".into(),
                BasicPublishOptions::default(),
                body,
                BasicProperties::default().with_headers(headers),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    // One vhost for every project here: no event can come from another project's.
    let per_project_vhost = [Dropped::OtherVhost];
    eventually("every hostile message is counted", WAIT, async || {
        let health = instance.listener.health();
        Dropped::ALL
            .iter()
            .filter(|reason| !per_project_vhost.contains(reason))
            .all(|reason| health.dropped(*reason) == 1)
    })
    .await;
    assert!(instance.listener.health().connected);
    // The link still follows rs-admin.
    stack.create_operator_role().await;
    let put_rule = stack.put_rule_id().await;
    stack.grant(put_rule).await;
    every_instance_answers(
        std::slice::from_ref(&instance),
        &stack.operator(),
        StatusCode::OK,
    )
    .await;
}

/// In a vhost per project, an event in one project's vhost naming another project is dropped:
/// whoever may write in project1's vhost does not speak for project2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_naming_a_project_of_another_vhost_is_dropped() {
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let (_stack, instance) =
        stack_and_instance(broker, VhostMode::Multi, "cross", "cross", |config| config).await;
    let (_connection, channel) = channel_in(broker, "regards.project1").await;
    let role = "fr.cnes.regards.framework.security.event.RoleEvent";
    let before = instance.listener.health();
    for tenant in ["project2", "project1"] {
        let headers = regards_headers(&[
            ("regards.tenant", tenant),
            ("__TypeId__", role),
            ("regards.converter", "JACKSON"),
        ]);
        channel
            .basic_publish(
                format!("cross.broadcast.{role}").as_str().into(),
                "".into(),
                BasicPublishOptions::default(),
                br#"{"role":"X"}"#,
                BasicProperties::default().with_headers(headers),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    eventually("project1's event is acted upon", WAIT, async || {
        instance.listener.health().events > before.events
    })
    .await;
    let health = instance.listener.health();
    assert_eq!(
        health.dropped(Dropped::OtherVhost),
        before.dropped(Dropped::OtherVhost) + 1,
        "{health:?}"
    );
    assert!(health.connected, "{health:?}");
}

/// A project announced under a name whose vhost name, lower-cased as REGARDS writes it, is
/// longer than AMQP allows is not served, and every other link stays up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_whose_vhost_name_is_too_long_is_not_served() {
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let (_stack, instance) =
        stack_and_instance(broker, VhostMode::Multi, "long", "long", |config| config).await;
    let publisher = EventPublisher::new(
        test_config(broker, VhostMode::Multi, "long")
            .build()
            .unwrap(),
    );
    // 200 bytes, 300 once lower-cased (U+023A lower-cases to a three-byte character).
    let long = "\u{23a}".repeat(100);
    for tenant in [long.clone(), "project9".to_owned()] {
        publisher
            .publish("", &RegardsEvent::TenantCreated { tenant })
            .await
            .unwrap();
    }
    eventually("the next project is served", WAIT, async || {
        instance.access.projects().contains(&"project9".to_owned())
    })
    .await;
    assert!(!instance.access.projects().contains(&long));
    eventually("every link is up", WAIT, async || {
        let health = instance.listener.health();
        health.connected
            && health
                .links
                .iter()
                .any(|link| link.vhost == "regards.project9")
    })
    .await;
}

/// With rs-admin-instance to ask, a project announced by an event is served only once
/// rs-admin-instance lists it for the service (a forged announcement serves nothing), and a
/// project deleted and announced again at once (two queues, which RabbitMQ does not order) is
/// served again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_rs_admin_instance_announced_projects_are_served_once_it_lists_them() {
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let stack = Stack::start(broker, VhostMode::Single, "confirm").await;
    let (_, endpoints) = notifier::routes().build().unwrap();
    let access = ManagedAccess::builder("rs-confirm", endpoints)
        .admin_url(stack.admin_url())
        .admin_instance_url(format!("{}/api/v1/rs-admin-instance", stack.base))
        .system_tokens(TokenIssuer::development())
        .refresh_period(NO_POLL)
        .safety_refresh_period(NO_POLL)
        .build()
        .unwrap();
    let _refresher = access.spawn();
    let config = test_config(broker, VhostMode::Single, "confirm")
        .instance_identifier("confirm")
        .build()
        .unwrap();
    let listener = EventListener::start(&access, config).unwrap();
    let served = |project: &str| access.projects().contains(&project.to_owned());
    eventually("the listed projects are served", READY, async || {
        served("project1") && served("project2") && listener.health().connected
    })
    .await;
    let publisher = EventPublisher::new(
        test_config(broker, VhostMode::Single, "confirm")
            .build()
            .unwrap(),
    );
    let before = listener.health().events;
    for event in [
        RegardsEvent::TenantCreated {
            tenant: "ghost".into(),
        },
        RegardsEvent::TenantDeleted {
            tenant: "project2".into(),
        },
        RegardsEvent::TenantCreated {
            tenant: "project2".into(),
        },
    ] {
        publisher.publish("", &event).await.unwrap();
    }
    eventually("the three events are read", WAIT, async || {
        listener.health().events >= before + 3
    })
    .await;
    eventually("project2 is served again", WAIT, async || {
        served("project2")
    })
    .await;
    // Past the gap between two reads of the list: the forged announcement served nothing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!served("ghost"), "{:?}", access.projects());
    assert!(served("project1") && served("project2"));
}

/// A thousand events for one project in a burst cost a few reads of rs-admin, not a thousand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_a_thousand_events_costs_a_few_reads_of_rs_admin() {
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let (stack, instance) =
        stack_and_instance(broker, VhostMode::Multi, "burst", "burst", |config| config).await;
    // Published as REGARDS' rs-admin writes them, without waiting for each confirmation.
    let (_connection, channel) = channel_in(broker, "regards.project1").await;
    let headers = regards_headers(&[
        ("regards.tenant", "project1"),
        (
            "__TypeId__",
            "fr.cnes.regards.framework.security.event.RoleEvent",
        ),
        ("regards.converter", "JACKSON"),
    ]);
    let properties = BasicProperties::default().with_headers(headers);
    let events_before = instance.listener.health().events;
    let reads_before = stack.role_reads.load(Ordering::Relaxed);
    let start = Instant::now();
    for n in 0..1000 {
        let body = format!(r#"{{"role":"ROLE{n}"}}"#);
        channel
            .basic_publish(
                "burst.broadcast.fr.cnes.regards.framework.security.event.RoleEvent".into(),
                "".into(),
                BasicPublishOptions::default(),
                body.as_bytes(),
                properties.clone(),
            )
            .await
            .unwrap();
    }
    let published = start.elapsed();
    eventually("the burst is received", WAIT, async || {
        instance.listener.health().events >= events_before + 1000
    })
    .await;
    let received = start.elapsed();
    // The services drain their queues at their own pace: wait until nobody reads.
    let mut reads = stack.role_reads.load(Ordering::Relaxed) - reads_before;
    let mut settled = start.elapsed();
    loop {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let now = stack.role_reads.load(Ordering::Relaxed) - reads_before;
        if now == reads {
            break;
        }
        (reads, settled) = (now, start.elapsed());
    }
    // The demo's own services follow the same events, beside the instance.
    let services = stack.demo.services.len() as u64 + 1;
    eprintln!(
        "1000 events published in {published:?}, received in {received:?}; {services} services: \
         {reads} reads of GET /roles, the last by {settled:?}"
    );
    // Per service, at most two refreshes start in any 500 ms (the listener's pacing), whatever
    // the number of events.
    let rounds = 2 * (1 + (settled.as_millis() / 500) as u64);
    assert!(
        reads <= services * rounds,
        "{reads} reads of GET /roles for 1000 events, the last by {settled:?}"
    );
}

/// The broker stopped: the instance serves on with the last rights it read; the broker back:
/// it reconnects and reads every project again, catching up with what changed meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_stopped_and_started_again_is_caught_up_with() {
    let broker = broker_or_skip!();
    let _alone = broker.exclusive().await;
    let (stack, instance) =
        stack_and_instance(broker, VhostMode::Multi, "restart", "restart", |config| {
            config
        })
        .await;
    stack.create_operator_role().await;
    let put_rule = stack.put_rule_id().await;
    stack.grant(put_rule).await;
    let operator = stack.operator();
    every_instance_answers(std::slice::from_ref(&instance), &operator, StatusCode::OK).await;

    tokio::task::spawn_blocking(|| broker.stop_app())
        .await
        .unwrap();
    eventually("the link is reported lost", WAIT, async || {
        !instance.listener.health().connected
    })
    .await;
    // Events may be missed: the periodic refresh is back to its own period.
    let health = instance.access.health();
    assert_eq!(health.broker_link, BrokerLink::Disconnected);
    assert_eq!(health.refresh_period, NO_POLL);
    // rs-admin's event is lost with the broker; the instance serves with what it knew.
    stack.revoke(put_rule).await;
    assert_eq!(instance.put_rule(&operator).await, StatusCode::OK);

    tokio::task::spawn_blocking(|| broker.start_app())
        .await
        .unwrap();
    eventually("the link is back", Duration::from_secs(60), async || {
        instance.listener.health().connected
    })
    .await;
    let health = instance.access.health();
    assert_eq!(health.broker_link, BrokerLink::Connected);
    assert_eq!(health.refresh_period, DEFAULT_SAFETY_REFRESH_PERIOD);
    every_instance_answers(
        std::slice::from_ref(&instance),
        &operator,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        instance
            .listener
            .health()
            .links
            .iter()
            .all(|link| link.connections >= 2)
    );
}

/// While the broker link is up, events bring every change and the periodic refresh waits its
/// safety period (an hour here); without a listener, or with its broker unreachable, it reads
/// rs-admin every refresh period (200 ms here), and goes back to it as soon as the link goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_refresh_is_only_a_safety_net_while_the_broker_link_is_up() {
    const PERIOD: Duration = Duration::from_millis(200);
    const WINDOW: Duration = Duration::from_millis(1200);
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let stack = Stack::start(broker, VhostMode::Single, "period").await;
    let (_, endpoints) = notifier::routes().build().unwrap();
    let access = ManagedAccess::builder("rs-period", endpoints)
        .admin_url(stack.admin_url())
        .system_tokens(TokenIssuer::development())
        .projects(["project1"])
        .refresh_period(PERIOD)
        .safety_refresh_period(NO_POLL)
        .build()
        .unwrap();
    let _refresher = access.spawn();
    eventually("rights read", READY, async || {
        access.health().is_up_to_date()
    })
    .await;
    let reads_in_window = async || {
        let before = stack.calls_by("rs-period").role_listings;
        tokio::time::sleep(WINDOW).await;
        stack.calls_by("rs-period").role_listings - before
    };

    // No listener: every 200 ms (six in the window, three at least on a loaded machine).
    assert_eq!(access.health().broker_link, BrokerLink::Absent);
    assert_eq!(access.health().refresh_period, PERIOD);
    let reads = reads_in_window().await;
    assert!(reads >= 3, "{reads} reads without a listener");

    // A listener whose broker cannot be reached: still every 200 ms.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = AmqpConfig::builder()
        .url(format!("amqp://guest:guest@127.0.0.1:{closed}"))
        .management("http", "127.0.0.1", closed)
        .namespace("period")
        .build()
        .unwrap();
    let listener = EventListener::start(&access, unreachable).unwrap();
    let second = test_config(broker, VhostMode::Single, "period")
        .build()
        .unwrap();
    assert!(
        EventListener::start(&access, second).is_err(),
        "one listener per access"
    );
    eventually("the link is reported down", WAIT, async || {
        listener
            .health()
            .links
            .iter()
            .any(|link| link.last_error.is_some())
    })
    .await;
    assert_eq!(access.health().broker_link, BrokerLink::Disconnected);
    let reads = reads_in_window().await;
    assert!(reads >= 3, "{reads} reads with the broker unreachable");
    drop(listener);

    // The link up: no read of its own for the safety period.
    let config = test_config(broker, VhostMode::Single, "period")
        .instance_identifier("period")
        .build()
        .unwrap();
    let listener = EventListener::start(&access, config).unwrap();
    eventually("the link is up", READY, async || {
        access.health().broker_link == BrokerLink::Connected
    })
    .await;
    assert_eq!(access.health().refresh_period, NO_POLL);
    // The full refresh the link asks for when it connects, and any read already under way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        reads_in_window().await,
        0,
        "no periodic read while the link is up"
    );

    // The listener gone: every 200 ms again, at once.
    drop(listener);
    assert_eq!(access.health().broker_link, BrokerLink::Absent);
    let reads = reads_in_window().await;
    assert!(reads >= 3, "{reads} reads once the listener is gone");
}

/// rs-admin's load on a small deployment, counted (BENCHMARKS.md extrapolates it to 10 instances
/// x 20 projects x 15 roles): a refresh of a project costs one listing plus one call per role;
/// polling pays it every period for every instance and project; with events, the periodic
/// refresh waits its safety period and a change costs it once per instance, for its project.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs_admin_load_polling_against_events() {
    const MICROSERVICE: &str = "rs-load";
    const INSTANCES: u64 = 2;
    const PERIOD: Duration = Duration::from_millis(500);
    const WINDOW: Duration = Duration::from_secs(3);
    const CHANGES: u64 = 6;
    /// Longer than the listener's pacing window (two refreshes per 500 ms) plus a refresh:
    /// changes never coalesce.
    const CHANGE_SPACING: Duration = Duration::from_millis(700);
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let stack = Stack::start(broker, VhostMode::Multi, "load").await;
    stack.create_operator_role().await;
    let calls = || stack.calls_by(MICROSERVICE).all;
    let mut instances = Vec::new();
    for _ in 0..INSTANCES {
        let (_, endpoints) = notifier::routes().build().unwrap();
        let access = ManagedAccess::builder(MICROSERVICE, endpoints)
            .admin_url(stack.admin_url())
            .system_tokens(TokenIssuer::development())
            .projects(["project1", "project2"])
            .refresh_period(PERIOD)
            .safety_refresh_period(NO_POLL)
            .build()
            .unwrap();
        instances.push(access);
    }

    // One refresh of each project, counted (nothing else runs yet), against the roles rs-admin
    // lists.
    let mut per_refresh = Vec::new();
    for project in ["project1", "project2"] {
        instances[0].register(project).await.unwrap();
        let before = calls();
        instances[0].refresh(project).await.unwrap();
        let cost = calls() - before;
        let token = stack
            .issuer
            .mint("admin@regards.fr", Role::ProjectAdmin, project);
        let url = format!("{}/roles", stack.admin_url());
        let listed = send_json(&stack.client, Method::GET, &url, Some(&token), &[], "")
            .await
            .json()
            .as_array()
            .expect("a role listing")
            .len() as u64;
        assert_eq!(
            cost,
            1 + listed,
            "{project}: one listing, one call per role"
        );
        per_refresh.push(cost);
    }
    let per_round: u64 = per_refresh.iter().sum();
    let _refreshers: Vec<Refresher> = instances.iter().map(ManagedAccess::spawn).collect();
    eventually("the instances are up to date", READY, async || {
        instances
            .iter()
            .all(|access| access.health().is_up_to_date())
    })
    .await;

    // Polling every 500 ms.
    let before = calls();
    tokio::time::sleep(WINDOW).await;
    let polled = calls() - before;
    let rounds = WINDOW.as_millis() / PERIOD.as_millis();
    eprintln!(
        "polling: {INSTANCES} instances x 2 projects, calls per refresh {per_refresh:?}: \
         {polled} calls in {WINDOW:?} at a {PERIOD:?} period (at most {} for {rounds} rounds)",
        INSTANCES * per_round * rounds as u64
    );
    assert!(
        polled >= INSTANCES * per_round,
        "{polled} calls: at least a round"
    );

    // Events: nothing read while nothing changes; a change costs a refresh of its project.
    let listeners: Vec<EventListener> = instances
        .iter()
        .enumerate()
        .map(|(n, access)| {
            let config = test_config(broker, VhostMode::Multi, "load")
                .instance_identifier(format!("load-{n}"))
                .build()
                .unwrap();
            EventListener::start(access, config).unwrap()
        })
        .collect();
    eventually("the links are up", READY, async || {
        instances
            .iter()
            .all(|access| access.health().broker_link == BrokerLink::Connected)
    })
    .await;
    // The refresh each link asks for when it connects.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = calls();
    tokio::time::sleep(WINDOW).await;
    let idle = calls() - before;
    let put_rule = stack.put_rule_id_of(MICROSERVICE).await;
    let before = calls();
    for change in 0..CHANGES {
        if change % 2 == 0 {
            stack.grant(put_rule).await;
        } else {
            stack.revoke(put_rule).await;
        }
        tokio::time::sleep(CHANGE_SPACING).await;
    }
    let changed = calls() - before;
    let one_refresh_each = CHANGES * INSTANCES * per_refresh[0];
    eprintln!(
        "events: {idle} calls in {WINDOW:?} without a change; {CHANGES} changes in project1: \
         {changed} calls ({one_refresh_each} for one refresh per change and instance)"
    );
    assert_eq!(idle, 0, "no periodic read while the links are up");
    assert!(
        (one_refresh_each..=2 * one_refresh_each).contains(&changed),
        "{changed} calls for {CHANGES} changes"
    );
    assert!(listeners.iter().all(|listener| listener.health().connected));
}

/// The fixtures written by Jackson and Gson from REGARDS-shaped classes
/// (`tests/fixtures/RegardsAmqp.java`): `(event name, body, properties)`.
fn wire_fixtures() -> Vec<(&'static str, Vec<u8>, serde_json::Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/amqp");
    [
        "RoleEvent",
        "ResourceAccessEvent",
        "ResourceAccessInit",
        "TenantCreatedEvent",
        "TenantDeletedEvent",
    ]
    .into_iter()
    .map(|name| {
        let body = std::fs::read(format!("{dir}/{name}.json")).unwrap();
        let properties = std::fs::read(format!("{dir}/{name}.properties.json")).unwrap();
        (name, body, serde_json::from_slice(&properties).unwrap())
    })
    .collect()
}

fn fixture_event(name: &str) -> RegardsEvent {
    match name {
        "RoleEvent" => RegardsEvent::Role {
            role: OPERATOR.into(),
        },
        "ResourceAccessEvent" => RegardsEvent::ResourceAccess {
            microservice: "rs-notifier".into(),
            role: OPERATOR.into(),
        },
        "ResourceAccessInit" => RegardsEvent::ResourceAccessInit,
        "TenantCreatedEvent" => RegardsEvent::TenantCreated {
            tenant: "project3".into(),
        },
        _ => RegardsEvent::TenantDeleted {
            tenant: "project3".into(),
        },
    }
}

fn fixture_vhost(name: &str) -> &'static str {
    if name.starts_with("Tenant") {
        "regards.instance.manager"
    } else {
        "regards.multitenant.manager"
    }
}

fn exchange_of(namespace: &str, name: &str) -> String {
    let package = if name.starts_with("Tenant") {
        "fr.cnes.regards.framework.amqp.event.tenant"
    } else {
        "fr.cnes.regards.framework.security.event"
    };
    format!("{namespace}.broadcast.{package}.{name}")
}

/// The properties of a received message, in the fixture's shape (the timestamp aside).
fn properties_json(properties: &BasicProperties) -> serde_json::Value {
    let text = |value: &AMQPValue| match value {
        AMQPValue::LongString(text) => String::from_utf8(text.as_bytes().to_vec()).unwrap(),
        other => panic!("a header that is not a long string: {other:?}"),
    };
    let headers: serde_json::Map<String, serde_json::Value> = properties
        .headers()
        .as_ref()
        .unwrap()
        .inner()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), text(value).into()))
        .collect();
    serde_json::json!({
        "content_type": properties.content_type().as_ref().unwrap().as_str(),
        "content_encoding": properties.content_encoding().as_ref().unwrap().as_str(),
        "delivery_mode": properties.delivery_mode().unwrap(),
        "priority": properties.priority().unwrap(),
        "app_id": properties.app_id().as_ref().unwrap().as_str(),
        "headers": headers,
    })
}

/// What `EventPublisher` (the demo's rs-admin) sends is, byte for byte and header for header,
/// what REGARDS' publisher sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publisher_writes_regards_bytes_and_headers() {
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let publisher = EventPublisher::new(
        test_config(broker, VhostMode::Single, "wire-out")
            .build()
            .unwrap(),
    );
    for (name, body, properties) in wire_fixtures() {
        // Declares the vhost and exchange, as REGARDS' publisher does on its first message.
        publisher
            .publish("project1", &fixture_event(name))
            .await
            .unwrap();
        let connection = Connection::connect(
            &format!("{}/{}", broker.url(), fixture_vhost(name)),
            ConnectionProperties::default(),
        )
        .await
        .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_bind(
                queue.name().clone(),
                exchange_of("wire-out", name).into(),
                "".into(),
                lapin::options::QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        publisher
            .publish("project1", &fixture_event(name))
            .await
            .unwrap();
        let message = channel
            .basic_get(
                queue.name().clone(),
                lapin::options::BasicGetOptions::default(),
            )
            .await
            .unwrap()
            .expect("the message is in the queue");
        assert_eq!(
            String::from_utf8_lossy(&message.delivery.data),
            String::from_utf8_lossy(&body),
            "{name}"
        );
        assert_eq!(
            properties_json(&message.delivery.properties),
            properties,
            "{name}"
        );
    }
}

/// The listener follows REGARDS' own bytes: every fixture is read and acted upon, none dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_follows_regards_own_bytes() {
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let (_stack, instance) =
        stack_and_instance(broker, VhostMode::Single, "wire-in", "wire", |config| {
            config
        })
        .await;
    for (name, body, properties) in wire_fixtures() {
        let before = instance.listener.health().events;
        let connection = Connection::connect(
            &format!("{}/{}", broker.url(), fixture_vhost(name)),
            ConnectionProperties::default(),
        )
        .await
        .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let mut headers = FieldTable::default();
        for (header, value) in properties["headers"].as_object().unwrap() {
            let value = value.as_str().unwrap().as_bytes();
            headers.insert(
                header.as_str().into(),
                AMQPValue::LongString(LongString::from(value)),
            );
        }
        let amqp_properties = BasicProperties::default()
            .with_content_type(properties["content_type"].as_str().unwrap().into())
            .with_content_encoding(properties["content_encoding"].as_str().unwrap().into())
            .with_delivery_mode(2)
            .with_priority(1)
            .with_app_id(properties["app_id"].as_str().unwrap().into())
            .with_headers(headers);
        channel
            .basic_publish(
                exchange_of("wire-in", name).into(),
                "".into(),
                BasicPublishOptions::default(),
                &body,
                amqp_properties,
            )
            .await
            .unwrap()
            .await
            .unwrap();
        // One at a time: the events travel in different queues, in no set order.
        eventually(&format!("{name} is followed"), WAIT, async || {
            instance.listener.health().events > before
        })
        .await;
        let project3 = instance.access.projects().contains(&"project3".to_owned());
        match name {
            "TenantCreatedEvent" => assert!(project3, "created"),
            "TenantDeletedEvent" => assert!(!project3, "deleted"),
            _ => {}
        }
    }
    let health = instance.listener.health();
    assert!(
        Dropped::ALL
            .iter()
            .all(|reason| health.dropped(*reason) == 0),
        "{health:?}"
    );
}

/// Builds an example (a no-op when `cargo test` already did) and returns its path.
fn example_binary(name: &str) -> std::path::PathBuf {
    // This test runs from <target>/<profile>/deps/; examples land in <target>/<profile>/examples/.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(std::path::Path::parent).unwrap();
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "build",
            "--example",
            name,
            "--all-features",
            "--profile",
            profile,
        ])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .arg("--target-dir")
        .arg(profile_dir.parent().unwrap())
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "cargo build --example {name} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// An example running as its own process, killed when dropped.
struct Process {
    child: std::process::Child,
    base: String,
}

impl Process {
    /// Starts `name` with only `env` (plus `PATH`), and waits for the line giving its address.
    fn start(name: &str, env: &[(&str, String)], address_line: &str) -> Process {
        use std::io::BufRead;
        let mut child = std::process::Command::new(example_binary(name))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the example starts");
        let stdout = child.stdout.take().unwrap();
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let prefix = address_line.to_owned();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(base) = line.strip_prefix(&prefix) {
                    let _ = address_tx.send(base.to_owned());
                }
            }
        });
        let mut process = Process {
            child,
            base: String::new(),
        };
        process.base = address_rx
            .recv_timeout(READY)
            .unwrap_or_else(|_| panic!("{name} did not say where it listens"));
        process
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The README's two-process walkthrough, as written: the demo and `examples/notifier.rs` as
/// separate processes on one broker (MULTI vhost mode, the default refresh periods); a grant
/// made in the demo's rs-admin reaches the separate notifier at once, and so does the
/// revocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_two_process_walkthrough_follows_grants_at_once() {
    let broker = broker_or_skip!();
    let _shared = broker.shared().await;
    let amqp = [
        ("REGARDS_AMQP_URL", broker.url()),
        (
            "REGARDS_AMQP_MANAGEMENT_PORT",
            broker.management_port.to_string(),
        ),
        // Apart from the other tests on this broker.
        (
            "REGARDS_AMQP_MANAGEMENT_NAMESPACE",
            "walkthrough".to_owned(),
        ),
    ];
    let mut demo_env = amqp.to_vec();
    demo_env.push(("REGARDS_DEMO_ADDR", "127.0.0.1:0".to_owned()));
    let demo = Process::start("regards_demo", &demo_env, "REGARDS demo listening on ");
    let mut notifier_env = amqp.to_vec();
    notifier_env.extend([
        ("JWT_SIGNING_KEY_HS512", REGARDS_DEVELOPMENT_KEY.to_owned()),
        ("REGARDS_ALLOW_DEVELOPMENT_KEY", "1".to_owned()),
        (
            "REGARDS_ADMIN_URL",
            format!("{}/api/v1/rs-admin", demo.base),
        ),
        ("NOTIFIER_ADDR", "127.0.0.1:0".to_owned()),
    ]);
    let notifier = Process::start("notifier", &notifier_env, "rs-notifier listening on ");

    let client = reply::client();
    let health_url = format!("{}/health", notifier.base);
    eventually("the notifier follows the broker", READY, async || {
        let health = send_json(&client, Method::GET, &health_url, None, &[], "").await;
        health.status == StatusCode::OK
            && health.json()["upToDate"] == true
            && health.json()["brokerLink"] == "connected"
    })
    .await;
    let health = send_json(&client, Method::GET, &health_url, None, &[], "").await;
    assert_eq!(health.json()["refreshPeriod"], 600, "the safety period");

    let issuer = TokenIssuer::development();
    let admin = issuer.mint("admin@regards.fr", Role::ProjectAdmin, "project1");
    let operator = issuer.mint(
        "operator@regards.fr",
        Role::Custom(OPERATOR.into()),
        "project1",
    );
    let admin_url = format!("{}/api/v1/rs-admin", demo.base);
    let admin_call = async |method: Method, path: &str, body: &str| {
        let url = format!("{admin_url}{path}");
        send_json(&client, method, &url, Some(&admin), &[], body).await
    };
    let rule_url = format!("{}/rule", notifier.base);
    let notifier_put_rule = async || {
        send_json(
            &client,
            Method::PUT,
            &rule_url,
            Some(&operator),
            &[],
            r#"{"name":"r1"}"#,
        )
        .await
        .status
    };
    let created = admin_call(
        Method::POST,
        "/roles",
        r#"{"name":"NOTIFIER_OPERATOR","parentRole":{"name":"REGISTERED_USER"}}"#,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let put_rule = admin_call(Method::GET, "/resources/microservices/rs-notifier", "")
        .await
        .resource_id("/rule", "PUT");
    assert_eq!(notifier_put_rule().await, StatusCode::FORBIDDEN);

    let sent = Instant::now();
    let granted = admin_call(
        Method::POST,
        &format!("/roles/{OPERATOR}/resources"),
        &format!(r#"{{"id":{put_rule}}}"#),
    )
    .await;
    assert_eq!(granted.status, StatusCode::CREATED);
    eventually(
        "the separate notifier follows the grant",
        WAIT,
        async || notifier_put_rule().await == StatusCode::OK,
    )
    .await;
    eprintln!(
        "the separate notifier answered 200 {:?} after the grant was sent",
        sent.elapsed()
    );

    let revoked = admin_call(
        Method::DELETE,
        &format!("/roles/{OPERATOR}/resources/{put_rule}"),
        "",
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    eventually(
        "the separate notifier follows the revocation",
        WAIT,
        async || notifier_put_rule().await == StatusCode::FORBIDDEN,
    )
    .await;
}
