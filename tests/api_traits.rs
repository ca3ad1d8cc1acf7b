//! The public types have the traits users build on (Rust API guidelines C-COMMON-TRAITS,
//! C-SEND-SYNC, C-GOOD-ERR, C-DEBUG-NONEMPTY): every layer and middleware service is `Clone` and
//! `Debug`, and `Send` + `Sync` when what it wraps is; errors are `Error + Send + Sync +
//! 'static`. The bounds are checked when this file compiles; the `Debug` output is checked when
//! it runs.

use std::convert::Infallible;
use std::error::Error;
use std::fmt::Debug;

use http::{Request, Response};
use regards_auth::{
    AuthError, BearerAuth, BearerAuthLayer, BearerToken, Claims, ConfigError,
    REGARDS_DEVELOPMENT_KEY, RegardsRejection, RequireRole, RequireRoleLayer, ResponseFuture, Role,
    RoleHierarchy, TokenIssuer, Verifier, VerifierBuilder,
};
use tower::Layer;
use tower::util::ServiceFn;

/// An inner service that is `Clone`, `Debug`, `Send` and `Sync`, as a real one is.
#[derive(Clone, Debug)]
struct Inner;

fn middleware<T: Clone + Debug + Send + Sync + 'static>(value: &T) -> String {
    let debug = format!("{:?}", value.clone());
    assert!(!debug.is_empty());
    debug
}

fn shared<T: Send + Sync + 'static>() {}

fn error<E: Error + Send + Sync + 'static>() {}

fn verifier() -> Verifier {
    Verifier::builder()
        .hs512(REGARDS_DEVELOPMENT_KEY)
        .allow_development_key()
        .build()
        .unwrap()
}

#[test]
fn layers_and_services_are_clone_debug_send_and_sync() {
    let bearer = BearerAuthLayer::new(verifier());
    assert!(middleware(&bearer).starts_with("BearerAuthLayer"));
    let service: BearerAuth<Inner> = bearer.layer(Inner);
    assert!(middleware(&service).contains("Inner"));

    let guard = RequireRoleLayer::at_least(Role::Exploit);
    assert!(middleware(&guard).starts_with("RequireRoleLayer"));
    let service: RequireRole<Inner> = guard.layer(Inner);
    assert!(middleware(&service).contains("Inner"));
}

#[test]
fn response_future_is_send_and_sync_when_its_parts_are() {
    type Handler = fn(Request<String>) -> std::future::Ready<Result<Response<String>, Infallible>>;
    type Future = <BearerAuth<ServiceFn<Handler>> as tower::Service<Request<String>>>::Future;
    shared::<Future>();
    shared::<ResponseFuture<std::future::Ready<Result<Response<String>, Infallible>>, String>>();
}

#[test]
fn values_and_errors_are_send_and_sync() {
    shared::<Verifier>();
    shared::<VerifierBuilder>();
    shared::<Claims>();
    shared::<BearerToken>();
    shared::<Role>();
    shared::<RoleHierarchy>();
    shared::<TokenIssuer>();
    shared::<RegardsRejection>();
    error::<AuthError>();
    error::<ConfigError>();
}

#[cfg(feature = "client")]
mod client {
    use regards_auth::client::{
        AttachToken, AttachTokenLayer, ClientConfigError, ClientError, FixedToken, ForwardedToken,
        HttpTransport, PasswordGrant, SystemToken, TokenCache,
    };
    use regards_auth::{BearerToken, TokenIssuer};
    use tower::Layer;

    use super::{Inner, error, middleware, shared};

    #[test]
    fn attach_token_layer_and_service_are_clone_debug_send_and_sync() {
        let layer = AttachTokenLayer::new(FixedToken::new(BearerToken::new("a.b.c").unwrap()));
        assert!(middleware(&layer).starts_with("AttachTokenLayer"));
        let service: AttachToken<Inner, FixedToken> = layer.layer(Inner);
        assert!(middleware(&service).contains("Inner"));
        let forwarding = AttachTokenLayer::new(ForwardedToken).layer(Inner);
        middleware(&forwarding);
        let system = SystemToken::new(TokenIssuer::development(), "rs-notifier", "project1");
        let cached = AttachTokenLayer::new(TokenCache::new(system)).layer(Inner);
        assert!(!middleware(&cached).contains("eyJ"));
    }

    #[test]
    fn client_values_and_errors_are_send_and_sync() {
        shared::<TokenCache<PasswordGrant>>();
        shared::<PasswordGrant>();
        shared::<HttpTransport>();
        error::<ClientError>();
        error::<ClientConfigError>();
    }
}

#[cfg(feature = "managed")]
mod managed {
    use http::Method;
    use regards_auth::managed::{
        AdminError, Endpoint, Endpoints, ManagedAccess, ManagedAccessService, ManagedConfigError,
        ResourceAccess,
    };
    use regards_auth::{Role, TokenIssuer};
    use tower::Layer;

    use super::{Inner, error, middleware, shared};

    fn access() -> ManagedAccess {
        let endpoints = Endpoints::new([Endpoint::new(
            Method::GET,
            "/recipients",
            "RecipientController",
            ResourceAccess::new("List the recipients", Role::Exploit),
        )])
        .unwrap();
        ManagedAccess::builder("rs-notifier", endpoints)
            .admin_url("http://127.0.0.1:9")
            .system_tokens(TokenIssuer::development())
            .projects(["project1"])
            .build()
            .unwrap()
    }

    #[test]
    fn managed_access_layer_and_service_are_clone_debug_send_and_sync() {
        let layer = access().layer();
        assert!(middleware(&layer).starts_with("ManagedAccessLayer"));
        let service: ManagedAccessService<Inner> = layer.layer(Inner);
        assert!(middleware(&service).starts_with("ManagedAccessService"));
    }

    #[test]
    fn managed_values_and_errors_are_send_and_sync() {
        shared::<ManagedAccess>();
        shared::<Endpoints>();
        error::<ManagedConfigError>();
        error::<AdminError>();
    }
}
