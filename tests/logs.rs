//! Tokens never reach the logs, whatever the outcome.
//!
//! A binary of its own with a single test: the subscriber is the process-wide default, so that
//! no other test's thread can race with `tracing`'s per-callsite interest cache.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use regards_auth::{Algorithm, BearerAuthLayer, RequireRoleLayer, Role};
use support::*;

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn tokens_never_reach_the_logs() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .init();

    let valid = valid_token();
    let forged = hand_token(
        r#"{"alg":"HS512"}"#,
        Payload::regards().json(),
        Algorithm::HS512,
        ATTACKER_SECRET.as_bytes(),
    );
    let expired = Payload::regards()
        .set("exp", (now() - 3600).to_string())
        .token();
    for token in [&valid, &forged, &expired] {
        for guard in [None, Some(RequireRoleLayer::at_least(Role::InstanceAdmin))] {
            send_now(BearerAuthLayer::new(verifier()), guard, bearer(token));
        }
    }

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        logs.matches("request refused").count(),
        5,
        "every refusal is logged once: {logs}"
    );
    for token in [&valid, &forged, &expired] {
        for segment in token.split('.') {
            assert!(
                !logs.contains(segment),
                "a token segment was logged: {logs}"
            );
        }
    }
    assert!(!logs.contains(LOGIN) && !logs.contains(HS512_SECRET));
}
