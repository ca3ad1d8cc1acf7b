//! REGARDS' web client is served from another origin than the gateway. This drives the
//! cross-origin flow in a real browser (headless Chromium): a page on one port of 127.0.0.1
//! logs in to the demo stack on another port, updates a rule with its token, then calls with a
//! forged, an expired and no token, and reports what it could read of each answer.
//!
//! Chromium is a Debian package (`apt-get install chromium`, done by `.ci/run`). Without it this
//! test fails, saying so, unless `REGARDS_SKIP_BROWSER=1` is set; `REGARDS_CHROMIUM` names
//! another Chromium binary.

#[path = "../examples/regards_demo/main.rs"]
mod regards_demo;

use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use http::{Method, Request};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use regards_auth::{AuthError, Claims, Role, TokenIssuer};
use serde_json::Value;

use regards_demo::{DemoConfig, app};

/// The page: REGARDS' client reduced to the calls checked here.
const PAGE: &str = include_str!("fixtures/browser/client.html");
const RULE_PATH: &str = "/api/v1/rs-notifier/rule";
/// Chromium is killed (with everything it started) past this.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(30);
/// How much virtual time the page gets before its DOM is dumped. Virtual time does not pass
/// while a request is in flight, and races ahead when the page is idle: the calls all finish
/// within it, and the dump does not wait for the real 10 s.
const VIRTUAL_TIME_BUDGET_MS: u32 = 10_000;
/// Headless, as root (no sandbox), without a GPU, and without the background traffic a fresh
/// profile starts (first-run, component updates, sync, QUIC probes): the only network here is
/// loopback.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

const INVALID_TOKEN: &str = r#"Bearer realm="regards", error="invalid_token""#;
const NO_TOKEN: &str = r#"Bearer realm="regards""#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_page_tells_an_invalid_token_from_a_missing_one() {
    let Some(chromium) = chromium() else {
        return;
    };
    let config = DemoConfig::development();
    let expired = expired_token(&config.issuer);
    assert_eq!(
        config.verifier.verify(&expired).unwrap_err(),
        AuthError::Expired
    );
    let api = serve(app(config)).await;
    let page_origin = serve(Router::new().route("/", get(|| async { Html(PAGE) }))).await;
    assert_ne!(api, page_origin, "the page must be of another origin");
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("api", &api)
        .append_pair("expired", &expired)
        .finish();
    let url = format!("{page_origin}/?{query}");

    let started = Instant::now();
    let dom = tokio::task::spawn_blocking(move || dump_dom(&chromium, &url))
        .await
        .unwrap()
        .unwrap_or_else(|failure| panic!("{failure}"));
    eprintln!("Chromium ran the page in {:?}", started.elapsed());
    let results = page_results(&dom);
    let result = |name: &str| -> &Value {
        results
            .iter()
            .find(|result| result["name"] == name)
            .unwrap_or_else(|| panic!("the page did not record `{name}`: {results:?}"))
    };

    assert_eq!(result("token")["status"], 200, "{}", result("token"));
    assert_eq!(
        result("with_token")["status"],
        200,
        "{}",
        result("with_token")
    );
    for refused in ["forged_token", "expired_token"] {
        assert_eq!(result(refused)["status"], 401, "{}", result(refused));
        assert_eq!(
            result(refused)["wwwAuthenticate"],
            INVALID_TOKEN,
            "{}",
            result(refused)
        );
    }
    let no_token = result("no_token");
    assert_eq!(no_token["status"], 401, "{no_token}");
    assert_eq!(no_token["wwwAuthenticate"], NO_TOKEN, "{no_token}");

    // The browser hides what is not exposed: the demo sends `Vary` with that very answer, and
    // the page reads null.
    let vary = header_of_put_rule_without_token(&api, "vary").await;
    assert!(
        vary.is_some(),
        "the demo no longer sends Vary: pick another header"
    );
    assert_eq!(no_token["vary"], Value::Null, "{no_token}");
}

/// The Chromium to run, or `None` (the test skipped) when there is none and
/// `REGARDS_SKIP_BROWSER=1` says that is fine.
fn chromium() -> Option<PathBuf> {
    let found = match std::env::var_os("REGARDS_CHROMIUM") {
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("chromium"))
                .find(|path| path.is_file())
        }),
    };
    match found {
        Some(path) => Some(path),
        None if std::env::var_os("REGARDS_SKIP_BROWSER").is_some_and(|skip| skip == "1") => {
            eprintln!("skipped: Chromium is not installed and REGARDS_SKIP_BROWSER=1");
            None
        }
        None => panic!(
            "this test needs Chromium: `apt-get install chromium` (Debian), or set \
             REGARDS_CHROMIUM to a Chromium binary; REGARDS_SKIP_BROWSER=1 skips it"
        ),
    }
}

/// A token of the demo's issuer that expired an hour ago (well past the verifier's leeway).
fn expired_token(issuer: &TokenIssuer) -> String {
    let claims = issuer.user_claims("admin@regards.fr", Role::ProjectAdmin, "project1");
    let expired = Claims::new(
        claims.sub(),
        claims.email(),
        claims.role().clone(),
        claims.tenant(),
        claims.exp() - (issuer.validity().as_secs() + 3600),
    );
    issuer.issue(&expired)
}

/// Serves `router` on an ephemeral port of 127.0.0.1 (with the peer address, as the demo's
/// binary) and returns its origin.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    origin
}

/// `name` in the demo's answer to a cross-origin `PUT /rule` without a token, as a client
/// that is not a browser sees it.
async fn header_of_put_rule_without_token(api: &str, name: &str) -> Option<String> {
    let request = Request::builder()
        .method(Method::PUT)
        .uri(format!("{api}{RULE_PATH}"))
        .header("origin", "http://127.0.0.1")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"name":"r1"}"#)))
        .unwrap();
    let response = Client::builder(TokioExecutor::new())
        .build_http()
        .request(request)
        .await
        .expect("the demo answers");
    assert_eq!(response.status(), 401);
    let value = response.headers().get(name)?;
    Some(value.to_str().unwrap().to_owned())
}

/// Chromium started in its own process group, with its own empty profile: dropping it kills
/// the whole group (browser, renderers, GPU and network processes) and removes the profile.
struct Browser {
    child: Child,
    profile: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = -(self.child.id() as libc::pid_t);
        // SAFETY: kill(2) on our own child's process group; no memory is involved.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Loads `url` in headless Chromium and returns the DOM it dumps, or why it could not.
fn dump_dom(chromium: &Path, url: &str) -> Result<String, String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let profile =
        std::env::temp_dir().join(format!("regards-browser-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&profile).map_err(|error| format!("{}: {error}", profile.display()))?;
    let child = Command::new(chromium)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}"))
        .arg("--dump-dom")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", chromium.display()))?;
    let mut browser = Browser { child, profile };
    // Both pipes are drained as Chromium writes, so that it never blocks on a full one.
    let stdout = drain(browser.child.stdout.take().unwrap());
    let stderr = drain(browser.child.stderr.take().unwrap());
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    let status = loop {
        if let Some(status) = browser
            .child
            .try_wait()
            .map_err(|error| error.to_string())?
        {
            break status;
        }
        if Instant::now() >= deadline {
            drop(browser);
            return Err(format!(
                "Chromium did not finish within {CHROMIUM_TIMEOUT:?} (killed); its stderr:\n{}",
                stderr.join().unwrap()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(browser);
    let dom = stdout.join().unwrap();
    if !status.success() {
        return Err(format!(
            "Chromium exited with {status}; its stderr:\n{}",
            stderr.join().unwrap()
        ));
    }
    Ok(dom)
}

/// Reads `pipe` to its end on a thread of its own.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// The results the page wrote into `<pre id="results">`, as JSON.
fn page_results(dom: &str) -> Vec<Value> {
    let start = r#"<pre id="results">"#;
    let text = dom
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(text, _)| text)
        .unwrap_or_else(|| panic!("no results in the page's DOM:\n{dom}"));
    // The DOM is serialized as HTML: these are the only escapes in a text node.
    let json = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    serde_json::from_str(&json)
        .unwrap_or_else(|error| panic!("the page did not finish ({error}); its DOM:\n{dom}"))
}
