//! Event-to-decision latency over a real RabbitMQ (issue 16), a measurement program rather than
//! a criterion bench: each sample is an administrator's action, seconds apart.
//!
//! The demo stack runs with its rs-admin publishing on a private broker (Debian's
//! `rabbitmq-server`, started and stopped here as the tests do), beside three separate
//! instances of rs-notifier (`examples/notifier.rs`, refresh period one hour) following it.
//! Each sample: an administrator grants `PUT /rule` to `NOTIFIER_OPERATOR` in project1
//! (`POST /roles/NOTIFIER_OPERATOR/resources` on rs-admin, which publishes REGARDS'
//! `ResourceAccessEvent`); the clock starts when the request is sent, and stops, per instance,
//! at its first 200 to the operator's `PUT /rule` (each instance asked again every
//! millisecond). The grant is then revoked, the revocation waited for at every instance, and
//! the next grant comes after a pause longer than the listener's pacing window (at most two
//! refreshes of a project start in any 500 ms), so that every grant is followed at once. Also timed: when instance 0's listener has read the event, and
//! when rs-admin answers the grant (it publishes first). Baseline, same run: one on-demand
//! `ManagedAccess::refresh` of project1 (what each instance does on the event).
//!
//! ```sh
//! cargo bench --features amqp --bench amqp_latency          # 200 grants, about 3 minutes
//! LATENCY_GRANTS=20 cargo bench --features amqp --bench amqp_latency
//! ```

#[path = "../tests/support/amqp_stack.rs"]
mod amqp_stack;
#[allow(dead_code)]
#[path = "../examples/notifier.rs"]
mod notifier;
#[path = "../tests/support/rabbitmq.rs"]
mod rabbitmq;
#[allow(dead_code)]
#[path = "../examples/regards_demo/main.rs"]
mod regards_demo;
#[path = "../tests/support/reply.rs"]
mod reply;

use std::time::{Duration, Instant};

use http::StatusCode;
use regards_auth::managed::amqp::VhostMode;

use amqp_stack::{Instance, Stack, every_instance_answers, three_instances};

/// The most one grant may take to reach every instance before the run is abandoned.
const GRANT_LIMIT: Duration = Duration::from_secs(10);
/// With two of them per sample, longer than the listener's pacing window (500 ms): every grant
/// is followed at once.
const PAUSE: Duration = Duration::from_millis(300);
/// How often an instance is asked again while it still refuses.
const POLL: Duration = Duration::from_millis(1);

fn main() {
    let grants: usize = std::env::var("LATENCY_GRANTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(200);
    let Some(broker) = rabbitmq::broker() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(measure(broker, grants));
}

async fn measure(broker: &rabbitmq::Broker, grants: usize) {
    let stack = Stack::start(broker, VhostMode::Multi, "latency").await;
    let instances = three_instances(&stack, broker, VhostMode::Multi, "latency").await;
    stack.create_operator_role().await;
    let put_rule = stack.put_rule_id().await;
    let operator = stack.operator();
    every_instance_answers(&instances, &operator, StatusCode::FORBIDDEN).await;
    // The role's creation was an event too: let the pacing window pass.
    tokio::time::sleep(PAUSE).await;

    let started = Instant::now();
    let mut per_instance: [Vec<Duration>; 3] = Default::default();
    let mut every_instance = Vec::new();
    let mut answered = Vec::new();
    let mut deliveries = Vec::new();
    for _ in 0..grants {
        let sent = Instant::now();
        let grant = async {
            stack.grant(put_rule).await;
            sent.elapsed()
        };
        let [a, b, c] = [0, 1, 2].map(|n| first_200(&instances[n], &operator, sent));
        let delivered = received(&instances[0], sent);
        let (answer, a, b, c, delivered) = tokio::join!(grant, a, b, c, delivered);
        let latencies = [a, b, c];
        deliveries.push(delivered);
        answered.push(answer);
        for (samples, latency) in per_instance.iter_mut().zip(&latencies) {
            samples.push(*latency);
        }
        every_instance.push(*latencies.iter().max().expect("three instances"));
        tokio::time::sleep(PAUSE).await;
        stack.revoke(put_rule).await;
        every_instance_answers(&instances, &operator, StatusCode::FORBIDDEN).await;
        tokio::time::sleep(PAUSE).await;
    }
    let elapsed = started.elapsed();

    let access = &instances[0].access;
    let mut refreshes = Vec::new();
    for _ in 0..grants {
        let start = Instant::now();
        access.refresh("project1").await.unwrap();
        refreshes.push(start.elapsed());
    }

    println!("event-to-decision latency, {grants} grants in {elapsed:.1?} (release build)");
    println!("{:<38} {:>9} {:>9}", "", "median", "p99");
    let row = |name: &str, samples: &[Duration]| {
        let (median, p99) = median_p99(samples);
        println!("{name:<38} {median:>9.1?} {p99:>9.1?}");
        median
    };
    for (n, samples) in per_instance.iter().enumerate() {
        row(&format!("grant sent -> 200 at instance {n}"), samples);
    }
    let all = row("grant sent -> 200 at all three", &every_instance);
    row("grant sent -> event read, instance 0", &deliveries);
    row("grant request answered by rs-admin", &answered);
    let refresh = row("baseline: one refresh of project1", &refreshes);
    println!(
        "ratio: 200 at all three / one refresh = {:.2} (medians)",
        all.as_secs_f64() / refresh.as_secs_f64()
    );
}

/// How long after `sent` `instance` first lets the operator's `PUT /rule` through.
async fn first_200(instance: &Instance, operator: &str, sent: Instant) -> Duration {
    loop {
        if instance.put_rule(operator).await == StatusCode::OK {
            return sent.elapsed();
        }
        assert!(
            sent.elapsed() < GRANT_LIMIT,
            "a grant took more than {GRANT_LIMIT:?} to reach an instance"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// How long after `sent` `instance`'s listener has read one more event.
async fn received(instance: &Instance, sent: Instant) -> Duration {
    let before = instance.listener.health().events;
    while instance.listener.health().events == before {
        assert!(
            sent.elapsed() < GRANT_LIMIT,
            "no event within {GRANT_LIMIT:?}"
        );
        tokio::time::sleep(POLL).await;
    }
    sent.elapsed()
}

/// The median and the 99th percentile (nearest rank).
fn median_p99(samples: &[Duration]) -> (Duration, Duration) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = |fraction: f64| {
        let index = (fraction * sorted.len() as f64).ceil() as usize;
        sorted[index.clamp(1, sorted.len()) - 1]
    };
    (rank(0.5), rank(0.99))
}
