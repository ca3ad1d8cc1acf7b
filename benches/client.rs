//! What a token costs on the client side: one password-grant fetch against the demo token
//! endpoint on loopback (what a refresh costs), against the cached path, the outgoing layer
//! with a cached token, and a locally minted system token.
//!
//! `cargo bench --features client --bench client`

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use regards_auth::TokenIssuer;
use regards_auth::client::{
    AttachTokenLayer, ClientCredentials, PasswordGrant, SystemToken, TokenCache, TokenSource,
    UserCredentials,
};
use tower::{Layer, ServiceExt, service_fn};

#[allow(dead_code)]
#[path = "../examples/regards_demo/main.rs"]
mod regards_demo;

fn client(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = regards_demo::DemoConfig::development();
        config.addr = addr;
        let app = regards_demo::app(config);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let grant = PasswordGrant::new(
        &format!("http://{addr}"),
        "project1",
        ClientCredentials::new("client", "secret"),
        UserCredentials::new("admin@regards.fr", "admin"),
    )
    .unwrap();
    let cache = TokenCache::new(grant.clone());
    rt.block_on(cache.get()).unwrap();

    let mut group = c.benchmark_group("client");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("password_grant_fetch_loopback", |b| {
        b.to_async(&rt)
            .iter(|| async { grant.fetch().await.unwrap() })
    });
    group.bench_function("token_cache_hit", |b| {
        b.to_async(&rt)
            .iter(|| async { cache.get().await.unwrap() })
    });
    let system = SystemToken::new(TokenIssuer::development(), "rs-notifier", "project1");
    let no_request = http::Extensions::new();
    group.bench_function("system_token_mint", |b| {
        b.to_async(&rt)
            .iter(|| async { system.token(&no_request).await.unwrap() })
    });
    let layered = AttachTokenLayer::new(cache.clone()).layer(service_fn(|request: Request<()>| {
        let _ = request;
        async { Ok::<_, std::convert::Infallible>(Response::new(())) }
    }));
    group.bench_function("attach_token_layer_cached", |b| {
        b.to_async(&rt).iter(|| {
            let service = layered.clone();
            async move { service.oneshot(Request::new(())).await.unwrap() }
        })
    });
    group.finish();
}

criterion_group!(benches, client);
criterion_main!(benches);
