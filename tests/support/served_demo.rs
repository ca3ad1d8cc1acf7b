//! The demo stack served in-process on 127.0.0.1, as the binary serves it (the peer address
//! given to the services), once its services have registered and read their rights. The
//! including crate declares the module `regards_demo`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use regards_auth::TokenIssuer;
use tokio::net::TcpListener;

use crate::regards_demo::{self, Demo, DemoConfig, RightsEvents};

/// How long the demo's services may take to register and read their rights.
pub const READY: Duration = Duration::from_secs(20);

/// The demo, served.
pub struct ServedDemo {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The issuer of the demo's tokens.
    pub issuer: TokenIssuer,
    pub demo: Demo,
}

/// Serves `router` on `listener`, the peer address given to the services (`ConnectInfo`).
pub fn serve(listener: TcpListener, router: Router) {
    tokio::spawn(async move {
        let app = router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await
    });
}

/// The development demo, changed by `configure`, served on `listener` with `events` as
/// rs-admin's event bus; its services reach rs-admin at the listener's address.
pub async fn serve_demo(
    listener: TcpListener,
    configure: impl FnOnce(&mut DemoConfig),
    events: RightsEvents,
) -> ServedDemo {
    let mut config = DemoConfig::development();
    configure(&mut config);
    config.addr = listener.local_addr().unwrap();
    let base = format!("http://{}", config.addr);
    let issuer = config.issuer.clone();
    let demo = regards_demo::demo(config, events);
    serve(listener, demo.router.clone());
    assert!(
        demo.managed(READY).await,
        "the services registered and read their rights"
    );
    ServedDemo { base, issuer, demo }
}

/// [`serve_demo`] on a port the system picks, unchanged, with the in-process event bus.
pub async fn serve_development_demo() -> ServedDemo {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_demo(listener, |_| {}, RightsEvents::default()).await
}
