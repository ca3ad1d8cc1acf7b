//! REGARDS' public development key is warned about once per process and algorithm, however many
//! verifiers and issuers are built with it, and the warning does not quote the key.
//!
//! A binary of its own: the warning's "already said" state and the subscriber are process-wide.

use std::io::Write;
use std::sync::{Arc, Mutex};

use regards_auth::{REGARDS_DEVELOPMENT_KEY, TokenIssuer, Verifier};

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
fn development_key_warning_is_logged_once_per_algorithm() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    for _ in 0..3 {
        Verifier::builder()
            .hs512(REGARDS_DEVELOPMENT_KEY)
            .hs256(REGARDS_DEVELOPMENT_KEY)
            .allow_development_key()
            .build()
            .unwrap();
        TokenIssuer::development();
    }

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("public development key"))
        .collect();
    assert_eq!(warnings.len(), 2, "{logs}");
    assert!(warnings.iter().any(|line| line.contains("algorithm=HS512")));
    assert!(warnings.iter().any(|line| line.contains("algorithm=HS256")));
    assert!(!logs.contains(REGARDS_DEVELOPMENT_KEY), "{logs}");
}
