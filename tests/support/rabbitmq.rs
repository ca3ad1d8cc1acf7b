//! A private RabbitMQ for a test binary: Debian's `rabbitmq-server`, started once per binary on
//! 127.0.0.1 with its own node name, ports, Erlang port mapper and data directory (so that two
//! test binaries, or a broker left by someone else, never meet), the management plugin on.
//! A watchdog process stops it, and removes its directory, when the test binary exits.
//!
//! Without the package, tests skip with a loud reason; under CI (`CI=true`) they fail instead,
//! since `.ci/run` installs it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use regards_auth::managed::amqp::{AmqpConfig, AmqpConfigBuilder};

const SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const CTL: &str = "/usr/lib/rabbitmq/bin/rabbitmqctl";
/// The broker answers in about 11 s on two cores; leave room for a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// A running private broker.
#[derive(Debug)]
pub struct Broker {
    pub amqp_port: u16,
    pub management_port: u16,
    node: String,
    epmd_port: u16,
    dir: PathBuf,
    /// Tests that stop the broker take it exclusively; the others share it.
    use_lock: tokio::sync::RwLock<()>,
}

static BROKER: OnceLock<Option<Broker>> = OnceLock::new();

/// The binary's broker, started on first use; `None` (with a message) when the package is
/// missing outside CI.
pub fn broker() -> Option<&'static Broker> {
    BROKER
        .get_or_init(|| {
            if !Path::new(SERVER).exists() {
                if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                    panic!("rabbitmq-server is not installed, and CI must run the broker tests (.ci/run installs it)");
                }
                eprintln!(
                    "\n*** SKIPPED: RabbitMQ tests need Debian's rabbitmq-server \
                     (apt-get install rabbitmq-server); .ci/run installs it ***\n"
                );
                return None;
            }
            Some(Broker::start())
        })
        .as_ref()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

impl Broker {
    #[allow(
        clippy::zombie_processes,
        reason = "the broker outlives the test process; its watchdog stops it"
    )]
    fn start() -> Broker {
        let started = Instant::now();
        let amqp_port = free_port();
        let management_port = free_port();
        let epmd_port = free_port();
        let dist_port = free_port();
        let node = format!("regards-auth-test-{}@localhost", std::process::id());
        let dir =
            std::env::temp_dir().join(format!("regards-auth-rabbitmq-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("log")).expect("a directory for the broker");
        std::fs::write(dir.join("enabled_plugins"), "[rabbitmq_management].\n")
            .expect("the plugins file");
        std::fs::write(
            dir.join("rabbitmq.conf"),
            format!(
                "listeners.tcp.default = 127.0.0.1:{amqp_port}\n\
                 management.tcp.port = {management_port}\n\
                 management.tcp.ip = 127.0.0.1\n"
            ),
        )
        .expect("the configuration file");
        let broker = Broker {
            amqp_port,
            management_port,
            node,
            epmd_port,
            dir,
            use_lock: tokio::sync::RwLock::new(()),
        };
        let server = broker
            .command(SERVER)
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(broker.dir.join("stdout")).expect("a log file"))
            .stderr(std::fs::File::create(broker.dir.join("stderr")).expect("a log file"))
            .spawn()
            .expect("rabbitmq-server starts");
        broker.watch(server.id());
        // The child is reaped by the watchdog's kill; dropping the handle does not stop it.
        drop(server);
        while !broker.management_answers() {
            if started.elapsed() > START_TIMEOUT {
                let log = std::fs::read_to_string(broker.dir.join("stdout")).unwrap_or_default();
                panic!("RabbitMQ did not start within {START_TIMEOUT:?}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!(
            "RabbitMQ {} up on 127.0.0.1:{amqp_port} (management {management_port}) in {:.1} s",
            broker.node,
            started.elapsed().as_secs_f64()
        );
        broker
    }

    /// A broker command with this broker's environment.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("HOME", &self.dir)
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.amqp_port.to_string())
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", self.dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", self.dir.join("log"))
            .env(
                "RABBITMQ_FEATURE_FLAGS_FILE",
                self.dir.join("feature_flags"),
            )
            .env(
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                self.dir.join("enabled_plugins"),
            )
            .env("RABBITMQ_CONFIG_FILE", self.dir.join("rabbitmq"))
            .env("RABBITMQ_PID_FILE", self.dir.join("pid"));
        command
    }

    /// Stops the broker and its port mapper, and removes its directory, once this process is
    /// gone (however it ends).
    #[allow(
        clippy::zombie_processes,
        reason = "the watchdog outlives the test process on purpose"
    )]
    fn watch(&self, server: u32) {
        let script = format!(
            "while kill -0 {test} 2>/dev/null; do sleep 0.5; done; \
             kill {server} 2>/dev/null; \
             for i in $(seq 1 50); do kill -0 {server} 2>/dev/null || break; sleep 0.2; done; \
             kill -9 {server} 2>/dev/null; \
             ERL_EPMD_PORT={epmd} epmd -kill >/dev/null 2>&1; \
             rm -rf '{dir}'",
            test = std::process::id(),
            epmd = self.epmd_port,
            dir = self.dir.display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the broker's watchdog starts");
    }

    fn management_answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.management_port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = "GET /api/overview HTTP/1.0\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\n\r\n";
        let mut answer = [0u8; 12];
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && answer.ends_with(b"200")
    }

    /// `amqp://guest:guest@127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}", self.amqp_port)
    }

    /// A configuration for this broker (the management API on its port).
    pub fn config(&self) -> AmqpConfigBuilder {
        AmqpConfig::builder()
            .url(self.url())
            .management("http", "127.0.0.1", self.management_port)
    }

    /// Shares the broker with the other tests (it stays up meanwhile).
    pub async fn shared(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.use_lock.read().await
    }

    /// Takes the broker alone, to stop and start it.
    pub async fn exclusive(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.use_lock.write().await
    }

    /// Stops the RabbitMQ application (connections closed, ports shut); the node stays.
    pub fn stop_app(&self) {
        self.ctl("stop_app");
    }

    /// Starts it again.
    pub fn start_app(&self) {
        self.ctl("start_app");
    }

    fn ctl(&self, action: &str) {
        let status = self
            .command(CTL)
            .args(["-n", &self.node, action])
            .stdout(Stdio::null())
            .status()
            .expect("rabbitmqctl runs");
        assert!(status.success(), "rabbitmqctl {action} failed");
    }

    /// `GET` on the management API: the JSON answer, or `None` on 404.
    pub fn management_get(&self, path: &str) -> Option<serde_json::Value> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.management_port)).ok()?;
        let request =
            format!("GET /api{path} HTTP/1.0\r\nAuthorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\n\r\n");
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let (head, body) = answer.split_once("\r\n\r\n")?;
        if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
            return None;
        }
        serde_json::from_str(body).ok()
    }
}
