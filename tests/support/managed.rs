//! One request through a `ManagedAccess`'s layer, as the managed-access tests send it: a
//! caller of `role` in project1, optionally from `peer`, to a handler that answers 200.

use std::convert::Infallible;
use std::net::IpAddr;

use axum::body::Body;
use http::{Method, Request, Response};
use regards_auth::managed::{ClientAddr, ManagedAccess};
use regards_auth::{Claims, Role};
use tower::{Layer, ServiceExt, service_fn};

/// The answer `access` gives `role` (in project1, from `peer` if given) on `method path`.
pub async fn through_layer(
    access: &ManagedAccess,
    role: Role,
    peer: Option<&str>,
    method: Method,
    path: &str,
) -> Response<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap();
    let claims = Claims::new(
        "jane@regards.fr",
        "jane@regards.fr",
        role,
        "project1",
        u64::MAX,
    );
    request.extensions_mut().insert(claims);
    if let Some(peer) = peer {
        let peer: IpAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ClientAddr(peer));
    }
    access
        .layer()
        .layer(service_fn(|_: Request<Body>| async {
            Ok::<_, Infallible>(Response::new(Body::empty()))
        }))
        .oneshot(request)
        .await
        .unwrap()
}
