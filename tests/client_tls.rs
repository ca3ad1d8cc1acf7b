//! The client's HTTPS path (`client-rustls`) against the demo stack (`examples/regards_demo/`)
//! served over TLS on 127.0.0.1, with a certificate authority and a server certificate made at
//! test time: a transport trusting that authority logs in and PUTs a rule; the default
//! transport (system roots) refuses the server with a transport error that quotes no secret.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use regards_auth::Role;
use regards_auth::client::{
    AttachTokenLayer, ClientCredentials, ClientErrorKind, HttpTransport, PasswordGrant, TokenCache,
    UserCredentials,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tower::{Service, ServiceBuilder, ServiceExt};

#[allow(dead_code)]
#[path = "../examples/regards_demo/main.rs"]
mod regards_demo;

use regards_demo::DemoConfig;

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A test certificate authority and a `localhost` / `127.0.0.1` server certificate it signed.
struct TestPki {
    ca: CertificateDer<'static>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

fn test_pki() -> TestPki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    TestPki {
        ca: ca.der().clone(),
        server_chain: vec![server.der().clone(), ca.der().clone()],
        server_key: server_key.serialize_der(),
    }
}

/// Serves the demo over TLS (HTTP/1.1) on an ephemeral port; each handshake's outcome is sent on
/// the returned channel.
async fn serve_tls(pki: &TestPki) -> (SocketAddr, mpsc::UnboundedReceiver<Result<(), String>>) {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key.clone()));
    let config = ServerConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.server_chain.clone(), key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The demo's services reach its rs-admin in plain HTTP, as services inside a deployment do:
    // the same app also listens without TLS, on another port, for them.
    let inside = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = DemoConfig::development();
    config.addr = inside.local_addr().unwrap();
    let app: Router = regards_demo::app(config);
    let inside_app = app.clone();
    tokio::spawn(async move { axum::serve(inside, inside_app).await });
    let (handshakes, outcomes) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app, handshakes) = (acceptor.clone(), app.clone(), handshakes.clone());
            tokio::spawn(async move {
                match acceptor.accept(tcp).await {
                    Ok(tls) => {
                        let _ = handshakes.send(Ok(()));
                        let service = TowerToHyperService::new(app);
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(tls), service)
                            .await;
                    }
                    Err(error) => {
                        let _ = handshakes.send(Err(error.to_string()));
                    }
                }
            });
        }
    });
    (addr, outcomes)
}

fn trusting(ca: &CertificateDer<'static>) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[tokio::test]
async fn private_ca_transport_logs_in_and_puts_a_rule_over_https() {
    let pki = test_pki();
    let (addr, mut handshakes) = serve_tls(&pki).await;
    let host = format!("https://127.0.0.1:{}", addr.port());
    let transport = HttpTransport::with_tls_config(trusting(&pki.ca));
    assert!(transport.supports_https());

    let login = PasswordGrant::with_custom_transport(
        &host,
        "project1",
        ClientCredentials::new("client", "secret"),
        UserCredentials::new("admin@regards.fr", "admin"),
        transport.clone(),
    )
    .unwrap();
    let answer = login.fetch().await.unwrap();
    assert_eq!(
        (answer.role, answer.tenant.as_str()),
        (Role::ProjectAdmin, "project1")
    );

    let tokens = TokenCache::new(login);
    let mut notifier = ServiceBuilder::new()
        .layer(AttachTokenLayer::new(tokens))
        .service(transport);
    let rule = Request::put(format!("{host}/api/v1/rs-notifier/rule"))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .body(Full::new(Bytes::from_static(br#"{"name":"r1"}"#)))
        .unwrap();
    let response = notifier.ready().await.unwrap().call(rule).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let rule: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(rule["name"], "r1");

    // Every connection the server saw completed its TLS handshake.
    drop(notifier);
    let first = handshakes.recv().await.unwrap();
    assert_eq!(first, Ok(()));
    while let Ok(outcome) = handshakes.try_recv() {
        assert_eq!(outcome, Ok(()));
    }
}

#[tokio::test]
async fn system_roots_transport_refuses_the_private_server() {
    const PASSWORD: &str = "tls-test-password-Zq81";
    const CLIENT_SECRET: &str = "tls-test-client-secret-Kw40";
    let pki = test_pki();
    let (addr, mut handshakes) = serve_tls(&pki).await;
    let login = PasswordGrant::with_custom_transport(
        &format!("https://127.0.0.1:{}", addr.port()),
        "project1",
        ClientCredentials::new("client", CLIENT_SECRET),
        UserCredentials::new("admin@regards.fr", PASSWORD),
        HttpTransport::new(),
    )
    .unwrap();
    let error = login.fetch().await.unwrap_err();
    assert_eq!(error.kind(), ClientErrorKind::Transport, "{error:?}");
    let message = error.excerpt();
    println!("refused as expected: {error}");
    assert!(message.contains("certificate"), "{message}");
    let text = format!("{error} {error:?}");
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(!text.contains(CLIENT_SECRET), "{text}");

    // The server saw the handshake fail: nothing was served.
    let outcome = tokio::time::timeout(Duration::from_secs(5), handshakes.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(outcome.is_err(), "{outcome:?}");
}
