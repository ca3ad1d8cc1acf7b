//! The demo REGARDS stack (`examples/regards_demo/`) over real HTTP on 127.0.0.1: the router
//! served in-process and driven by a hyper client, then the example binary itself, driven by
//! the seed's curl command lines.

#[path = "../examples/regards_demo/main.rs"]
mod regards_demo;
#[path = "support/reply.rs"]
mod reply;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::Method;
use regards_auth::{Algorithm, AuthError, REGARDS_DEVELOPMENT_KEY, Role, TokenIssuer, Verifier};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use regards_demo::authentication::TokenParams;
use regards_demo::{DemoConfig, DemoUser, app};
use reply::{Reply, send};

const TOKEN_PATH: &str = "/api/v1/rs-authentication/oauth/token";
const RULE_PATH: &str = "/api/v1/rs-notifier/rule";
const SEARCH_PATH: &str = "/api/v1/rs-catalog/engines/legacy/entities/search";
/// `client:secret`, as in the seed.
const SEED_BASIC: &str = "Basic Y2xpZW50OnNlY3JldA==";
const JSON: (&str, &str) = ("content-type", "application/json");

// ---- in-process: the router on an ephemeral port, a real HTTP client ----------------------

async fn serve(mut config: DemoConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    // The demo's services reach its rs-admin at the address it listens on.
    config.addr = listener.local_addr().unwrap();
    let base = format!("http://{}", config.addr);
    tokio::spawn(async move { axum::serve(listener, app(config)).await });
    base
}

/// The seed's token request: parameters in the query, client credentials, a JSON content type
/// and no body.
async fn seed_token_request(base: &str, query: &str) -> Reply {
    let url = format!("{base}{TOKEN_PATH}?{query}");
    let headers = [
        ("authorization", SEED_BASIC),
        ("content-type", "application/json;charset=UTF-8"),
        ("accept", "application/json"),
    ];
    send(Method::POST, &url, &headers, "").await
}

fn password_grant(username: &str, password: &str, scope: &str) -> String {
    format!("grant_type=password&scope={scope}&username={username}&password={password}")
}

async fn login(base: &str, username: &str, password: &str, scope: &str) -> String {
    let reply = seed_token_request(base, &password_grant(username, password, scope)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn put_rule(base: &str, token: &str, rule: &str) -> Reply {
    let auth = bearer(token);
    send(
        Method::PUT,
        &format!("{base}{RULE_PATH}"),
        &[("authorization", &auth), JSON],
        rule.to_owned(),
    )
    .await
}

async fn get(base: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(Method::GET, &format!("{base}{path}"), headers, "").await
}

async fn get_as(base: &str, path: &str, token: &str) -> Reply {
    get(base, path, &[("authorization", &bearer(token))]).await
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn token_endpoint_answers_the_seed_request_like_rs_authentication() {
    let config = DemoConfig::development();
    let verifier = config.verifier.clone();
    let base = serve(config).await;

    let reply = seed_token_request(
        &base,
        &password_grant("admin@regards.fr", "admin", "project1"),
    )
    .await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control"), "no-store");
    assert_eq!(reply.header("pragma"), "no-cache");
    assert_eq!(reply.header("content-type"), "application/json");
    let answer = reply.json();
    let fields: BTreeSet<&str> = answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let regards_fields = [
        "access_token",
        "token_type",
        "expires_in",
        "role",
        "scope",
        "sub",
        "tenant",
        "email",
    ];
    assert_eq!(fields, regards_fields.into_iter().collect());
    assert_eq!(answer["token_type"], "bearer");
    assert_eq!(answer["expires_in"], 7200);
    assert_eq!(answer["role"], "PROJECT_ADMIN");
    assert_eq!(
        (&answer["scope"], &answer["tenant"]),
        (&json!("project1"), &json!("project1"))
    );
    assert_eq!(
        (&answer["sub"], &answer["email"]),
        (&json!("admin@regards.fr"), &json!("admin@regards.fr"))
    );

    let token = answer["access_token"].as_str().unwrap();
    let header = URL_SAFE_NO_PAD
        .decode(token.split('.').next().unwrap())
        .unwrap();
    assert_eq!(header, br#"{"alg":"HS512"}"#);
    let claims = verifier.verify(token).unwrap();
    assert_eq!(
        (claims.role(), claims.tenant()),
        (&Role::ProjectAdmin, "project1")
    );
}

#[tokio::test]
async fn expires_in_and_exp_follow_the_issuer_validity() {
    let mut config = DemoConfig::development();
    config.issuer = TokenIssuer::development().with_validity(Duration::from_secs(90));
    let verifier = config.verifier.clone();
    let base = serve(config).await;

    let before = now();
    let answer = seed_token_request(
        &base,
        &password_grant("user@regards.fr", "user", "project1"),
    )
    .await
    .json();

    assert_eq!(answer["expires_in"], 90);
    let claims = verifier
        .verify(answer["access_token"].as_str().unwrap())
        .unwrap();
    assert!(
        (before + 90..=now() + 90).contains(&claims.exp()),
        "exp {}",
        claims.exp()
    );
}

#[tokio::test]
async fn role_depends_on_the_requested_tenant() {
    let base = serve(DemoConfig::development()).await;
    let answer = seed_token_request(
        &base,
        &password_grant("admin@regards.fr", "admin", "project2"),
    )
    .await
    .json();
    assert_eq!(
        (&answer["role"], &answer["tenant"]),
        (&json!("REGISTERED_USER"), &json!("project2"))
    );
}

#[tokio::test]
async fn token_request_without_client_credentials_is_401() {
    let base = serve(DemoConfig::development()).await;
    let url = format!(
        "{base}{TOKEN_PATH}?{}",
        password_grant("admin@regards.fr", "admin", "project1")
    );
    let reply = send(Method::POST, &url, &[], "").await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("www-authenticate"), r#"Basic realm="regards""#);
    assert_eq!(
        reply.messages(),
        ["Full authentication is required to access this resource"]
    );
}

#[tokio::test]
async fn token_request_with_malformed_client_credentials_is_401() {
    let base = serve(DemoConfig::development()).await;
    let url = format!(
        "{base}{TOKEN_PATH}?{}",
        password_grant("admin@regards.fr", "admin", "project1")
    );
    let no_colon = format!("Basic {}", STANDARD.encode("clientsecret"));
    for authorization in [
        "Basic",
        "Basic !!not-base64!!",
        no_colon.as_str(),
        "Bearer Y2xpZW50OnNlY3JldA==",
    ] {
        let reply = send(Method::POST, &url, &[("authorization", authorization)], "").await;
        assert_eq!(reply.status, 401, "{authorization}");
        assert_eq!(
            reply.messages(),
            ["Bad client credentials"],
            "{authorization}"
        );
    }
}

#[tokio::test]
async fn token_request_with_wrong_client_secret_is_401() {
    let base = serve(DemoConfig::development()).await;
    let url = format!(
        "{base}{TOKEN_PATH}?{}",
        password_grant("admin@regards.fr", "admin", "project1")
    );
    let wrong = format!("Basic {}", STANDARD.encode("client:guess"));
    let reply = send(Method::POST, &url, &[("authorization", &wrong)], "").await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.messages(), ["Bad client credentials"]);
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_400() {
    let base = serve(DemoConfig::development()).await;
    let unknown = seed_token_request(
        &base,
        &password_grant("nobody@regards.fr", "admin", "project1"),
    )
    .await;
    let wrong = seed_token_request(
        &base,
        &password_grant("admin@regards.fr", "guess", "project1"),
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.messages(), ["Bad credentials"]);
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));
    assert_eq!(
        wrong.headers.get("content-type"),
        unknown.headers.get("content-type")
    );
}

#[tokio::test]
async fn user_without_role_on_the_tenant_is_400() {
    let base = serve(DemoConfig::development()).await;
    let reply = seed_token_request(
        &base,
        &password_grant("user@regards.fr", "user", "project2"),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.messages(),
        ["The user has no role on the requested project"]
    );
}

#[tokio::test]
async fn unsupported_or_missing_grant_type_is_400() {
    let base = serve(DemoConfig::development()).await;
    let other = seed_token_request(&base, "grant_type=client_credentials&scope=project1").await;
    assert_eq!(other.status, 400);
    assert_eq!(
        other.messages(),
        ["Unsupported grant type: use grant_type=password"]
    );
    let missing = seed_token_request(
        &base,
        "scope=project1&username=user@regards.fr&password=user",
    )
    .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.messages(), ["grant_type is required"]);
}

#[tokio::test]
async fn missing_scope_is_400() {
    let base = serve(DemoConfig::development()).await;
    let reply = seed_token_request(
        &base,
        "grant_type=password&username=user@regards.fr&password=user",
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.messages(),
        ["scope is required: name the project in the query string or a scope header"]
    );
}

#[tokio::test]
async fn scope_only_in_the_body_is_400() {
    let base = serve(DemoConfig::development()).await;
    let url = format!("{base}{TOKEN_PATH}");
    let body = r#"{"grant_type":"password","scope":"project1","username":"user@regards.fr","password":"user"}"#;
    let reply = send(
        Method::POST,
        &url,
        &[("authorization", SEED_BASIC), JSON],
        body,
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(reply.messages()[0].starts_with("scope is required"));
}

#[tokio::test]
async fn scope_header_names_the_tenant() {
    let base = serve(DemoConfig::development()).await;
    let url =
        format!("{base}{TOKEN_PATH}?grant_type=password&username=user@regards.fr&password=user");
    let reply = send(
        Method::POST,
        &url,
        &[("authorization", SEED_BASIC), ("scope", "project1")],
        "",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["tenant"], "project1");
}

#[tokio::test]
async fn parameters_from_a_form_body_are_read() {
    let base = serve(DemoConfig::development()).await;
    let url = format!("{base}{TOKEN_PATH}?scope=project1");
    let form = ("content-type", "application/x-www-form-urlencoded");
    let body = "grant_type=password&username=admin%40regards.fr&password=admin";
    let reply = send(
        Method::POST,
        &url,
        &[("authorization", SEED_BASIC), form],
        body,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["sub"], "admin@regards.fr");
}

#[tokio::test]
async fn parameters_from_a_json_body_are_read() {
    let base = serve(DemoConfig::development()).await;
    let url = format!("{base}{TOKEN_PATH}?scope=project1");
    let body = r#"{"grant_type":"password","username":"user@regards.fr","password":"user"}"#;
    let reply = send(
        Method::POST,
        &url,
        &[("authorization", SEED_BASIC), JSON],
        body,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["role"], "REGISTERED_USER");
}

#[tokio::test]
async fn body_parameters_win_over_the_query() {
    let base = serve(DemoConfig::development()).await;
    let url = format!(
        "{base}{TOKEN_PATH}?{}",
        password_grant("user@regards.fr", "wrong", "project1")
    );
    let json_body = r#"{"username":"admin@regards.fr","password":"admin"}"#;
    let reply = send(
        Method::POST,
        &url,
        &[("authorization", SEED_BASIC), JSON],
        json_body,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["sub"], "admin@regards.fr");

    let form = ("content-type", "application/x-www-form-urlencoded");
    let form_body = "username=admin%40regards.fr&password=admin";
    let reply = send(
        Method::POST,
        &url,
        &[("authorization", SEED_BASIC), form],
        form_body,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["sub"], "admin@regards.fr");
}

#[tokio::test]
async fn malformed_json_body_is_400() {
    let base = serve(DemoConfig::development()).await;
    let url = format!("{base}{TOKEN_PATH}?scope=project1");
    for body in ["{not json", r#"{"username":42}"#, r#"["password"]"#] {
        let reply = send(
            Method::POST,
            &url,
            &[("authorization", SEED_BASIC), JSON],
            body,
        )
        .await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(
            reply.messages(),
            ["The JSON body must be an object of string parameters"]
        );
    }
}

#[tokio::test]
async fn repeated_parameter_is_400() {
    let base = serve(DemoConfig::development()).await;
    let query = format!(
        "{}&username=admin@regards.fr",
        password_grant("user@regards.fr", "user", "project1")
    );
    let reply = seed_token_request(&base, &query).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.messages(),
        ["A token request parameter is given more than once"]
    );
}

#[tokio::test]
async fn body_of_another_media_type_is_415() {
    let base = serve(DemoConfig::development()).await;
    let url = format!("{base}{TOKEN_PATH}?scope=project1");
    let reply = send(
        Method::POST,
        &url,
        &[
            ("authorization", SEED_BASIC),
            ("content-type", "text/plain"),
        ],
        "x",
    )
    .await;
    assert_eq!(reply.status, 415);
    assert_eq!(reply.messages().len(), 1);
}

#[tokio::test]
async fn issued_token_opens_put_rule() {
    let base = serve(DemoConfig::development()).await;
    let token = login(&base, "admin@regards.fr", "admin", "project1").await;

    let reply = put_rule(&base, &token, r#"{"name":"r1"}"#).await;

    assert_eq!(reply.status, 200);
    let rule = reply.json();
    assert_eq!(rule["name"], "r1");
    assert!(rule["id"].is_u64(), "{rule}");
}

#[tokio::test]
async fn post_rule_answers_201_with_the_stored_rule() {
    let base = serve(DemoConfig::development()).await;
    let token = login(&base, "admin@regards.fr", "admin", "project1").await;
    let auth = bearer(&token);
    let url = format!("{base}{RULE_PATH}");
    let reply = send(
        Method::POST,
        &url,
        &[("authorization", &auth), JSON],
        r#"{"name":"r2"}"#,
    )
    .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.json()["name"], "r2");
}

#[tokio::test]
async fn rule_that_is_not_a_json_object_is_400() {
    let base = serve(DemoConfig::development()).await;
    let token = login(&base, "admin@regards.fr", "admin", "project1").await;
    let reply = put_rule(&base, &token, r#"["r1"]"#).await;
    assert!(reply.status.is_client_error(), "{}", reply.status);
    assert_eq!(
        reply.messages(),
        ["A rule is a JSON object (Content-Type: application/json)"]
    );
}

#[tokio::test]
async fn admin_on_project2_gets_403_on_rules() {
    let base = serve(DemoConfig::development()).await;
    let token = login(&base, "admin@regards.fr", "admin", "project2").await;

    let reply = put_rule(&base, &token, r#"{"name":"r1"}"#).await;

    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.header("www-authenticate"),
        r#"Bearer realm="regards", error="insufficient_scope""#
    );
    assert_eq!(reply.messages(), ["Access is denied"]);
}

#[tokio::test]
async fn stored_rules_stay_in_their_tenant() {
    let config = DemoConfig::development();
    let project2_admin = config
        .issuer
        .mint("jane@regards.fr", Role::ProjectAdmin, "project2");
    let base = serve(config).await;
    let project1_admin = login(&base, "admin@regards.fr", "admin", "project1").await;

    let r1 = put_rule(&base, &project1_admin, r#"{"name":"r1"}"#)
        .await
        .json();
    put_rule(&base, &project2_admin, r#"{"name":"r2"}"#).await;

    assert_eq!(
        get_as(&base, RULE_PATH, &project1_admin).await.json(),
        json!([r1])
    );
    let project2_rules = get_as(&base, RULE_PATH, &project2_admin).await.json();
    assert_eq!(project2_rules.as_array().unwrap().len(), 1);
    assert_eq!(project2_rules[0]["name"], "r2");

    let r1_url = format!("{base}{RULE_PATH}/{}", r1["id"]);
    let other_tenant = send(
        Method::DELETE,
        &r1_url,
        &[("authorization", &bearer(&project2_admin))],
        "",
    )
    .await;
    assert_eq!(other_tenant.status, 404);
    let own_tenant = send(
        Method::DELETE,
        &r1_url,
        &[("authorization", &bearer(&project1_admin))],
        "",
    )
    .await;
    assert_eq!(own_tenant.status, 204);
    assert_eq!(
        get_as(&base, RULE_PATH, &project1_admin).await.json(),
        json!([])
    );
}

#[tokio::test]
async fn rules_past_the_project_bound_are_refused_409_until_some_are_deleted() {
    use regards_demo::notifier::MAX_RULES_PER_PROJECT;
    let config = DemoConfig::development();
    let project2_admin = config
        .issuer
        .mint("jane@regards.fr", Role::ProjectAdmin, "project2");
    let base = serve(config).await;
    let admin = login(&base, "admin@regards.fr", "admin", "project1").await;
    let mut first = None;
    for n in 0..MAX_RULES_PER_PROJECT {
        let reply = put_rule(&base, &admin, &format!(r#"{{"name":"r{n}"}}"#)).await;
        assert_eq!(reply.status, 200, "rule {n}");
        first.get_or_insert(reply.json()["id"].clone());
    }
    let refused = put_rule(&base, &admin, r#"{"name":"one too many"}"#).await;
    assert_eq!(refused.status, 409);
    assert_eq!(
        refused.messages(),
        ["This project stores 1000 rules or 1 MiB of rules already: delete some first"]
    );
    // Another project is not affected; a deletion makes room again.
    assert_eq!(
        put_rule(&base, &project2_admin, r#"{"name":"r"}"#)
            .await
            .status,
        200
    );
    let first_url = format!("{base}{RULE_PATH}/{}", first.unwrap());
    let auth = bearer(&admin);
    let deleted = send(Method::DELETE, &first_url, &[("authorization", &auth)], "").await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        put_rule(&base, &admin, r#"{"name":"room"}"#).await.status,
        200
    );
    let rules = get_as(&base, RULE_PATH, &admin).await.json();
    assert_eq!(rules.as_array().unwrap().len(), MAX_RULES_PER_PROJECT);
}

#[tokio::test]
async fn rules_past_a_mebibyte_per_project_are_refused_409() {
    let base = serve(DemoConfig::development()).await;
    let admin = login(&base, "admin@regards.fr", "admin", "project1").await;
    // 60 KiB each (under the gateway's 64 KiB body limit): the 18th would pass 1 MiB.
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(60 * 1024));
    for n in 0..17 {
        assert_eq!(put_rule(&base, &admin, &big).await.status, 200, "rule {n}");
    }
    let refused = put_rule(&base, &admin, &big).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.messages().len(), 1);
    assert_eq!(
        put_rule(&base, &admin, r#"{"name":"small"}"#).await.status,
        200
    );
}

#[tokio::test]
async fn recipients_need_exploit() {
    let base = serve(DemoConfig::development()).await;
    let user = login(&base, "user@regards.fr", "user", "project1").await;
    let admin = login(&base, "admin@regards.fr", "admin", "project1").await;
    let path = "/api/v1/rs-notifier/recipients";
    assert_eq!(get_as(&base, path, &user).await.status, 403);
    assert_eq!(get_as(&base, path, &admin).await.status, 200);
}

#[tokio::test]
async fn my_user_answers_the_callers_claims() {
    let base = serve(DemoConfig::development()).await;
    let token = login(&base, "user@regards.fr", "user", "project1").await;
    let reply = get_as(&base, "/api/v1/rs-admin/users/myuser", &token).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"sub": "user@regards.fr", "email": "user@regards.fr", "role": "REGISTERED_USER",
               "tenant": "project1", "accessGroups": []})
    );
}

#[tokio::test]
async fn accounts_need_instance_admin() {
    let base = serve(DemoConfig::development()).await;
    let root = login(&base, "root@regards.fr", "root", "instance").await;
    let admin = login(&base, "admin@regards.fr", "admin", "project1").await;
    let path = "/api/v1/rs-admin-instance/accounts";
    let reply = get_as(&base, path, &root).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .json()
            .as_array()
            .unwrap()
            .contains(&json!("admin@regards.fr"))
    );
    assert_eq!(get_as(&base, path, &admin).await.status, 403);
}

#[tokio::test]
async fn anonymous_with_scope_reads_the_public_search() {
    let base = serve(DemoConfig::development()).await;
    let by_query = get(&base, &format!("{SEARCH_PATH}?scope=project1"), &[]).await;
    assert_eq!(by_query.status, 200);
    assert_eq!(
        by_query.json(),
        json!({"tenant": "project1", "caller": "public", "content": []})
    );
    let by_header = get(&base, SEARCH_PATH, &[("scope", "project2")]).await;
    assert_eq!(by_header.json()["tenant"], "project2");
}

#[tokio::test]
async fn anonymous_is_401_on_the_other_routes() {
    let base = serve(DemoConfig::development()).await;
    let paths = [
        RULE_PATH,
        "/api/v1/rs-notifier/recipients",
        "/api/v1/rs-admin/users/myuser",
        "/api/v1/rs-admin-instance/accounts",
    ];
    for path in paths {
        let reply = get(&base, &format!("{path}?scope=project1"), &[]).await;
        assert_eq!(reply.status, 401, "{path}");
        assert_eq!(
            reply.header("www-authenticate"),
            r#"Bearer realm="regards""#
        );
        assert_eq!(reply.messages(), [AuthError::MissingCredentials.message()]);
    }
    let put = send(
        Method::PUT,
        &format!("{base}{RULE_PATH}?scope=project1"),
        &[JSON],
        r#"{"name":"r1"}"#,
    )
    .await;
    assert_eq!(put.status, 401);
}

#[tokio::test]
async fn anonymous_without_scope_is_401_on_the_public_search() {
    let base = serve(DemoConfig::development()).await;
    let reply = get(&base, SEARCH_PATH, &[]).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("www-authenticate"),
        r#"Bearer realm="regards""#
    );
}

#[tokio::test]
async fn invalid_token_never_falls_back_to_public() {
    let base = serve(DemoConfig::development()).await;
    let reply = get(
        &base,
        &format!("{SEARCH_PATH}?scope=project1"),
        &[("authorization", "Bearer a.b.c")],
    )
    .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("www-authenticate"),
        r#"Bearer realm="regards", error="invalid_token""#
    );
}

#[tokio::test]
async fn token_for_another_project_than_scope_is_403() {
    let base = serve(DemoConfig::development()).await;
    let token = login(&base, "admin@regards.fr", "admin", "project1").await;
    let reply = get(
        &base,
        &format!("{RULE_PATH}?scope=project2"),
        &[("authorization", &bearer(&token))],
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.messages(), [AuthError::TenantMismatch.message()]);
}

#[tokio::test]
async fn cors_preflight_is_200_without_token() {
    let base = serve(DemoConfig::development()).await;
    let preflight = [
        ("origin", "http://localhost:3333"),
        ("access-control-request-method", "PUT"),
        (
            "access-control-request-headers",
            "authorization,content-type,scope",
        ),
    ];
    let reply = send(
        Method::OPTIONS,
        &format!("{base}{RULE_PATH}"),
        &preflight,
        "",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), "*");
    assert!(reply.header("access-control-allow-methods").contains("PUT"));
    let allowed_headers = reply.header("access-control-allow-headers");
    for header in ["authorization", "content-type", "scope"] {
        assert!(allowed_headers.contains(header), "{allowed_headers}");
    }
}

#[tokio::test]
async fn refusals_carry_cors_headers() {
    let base = serve(DemoConfig::development()).await;
    let reply = get(&base, RULE_PATH, &[("origin", "http://localhost:3333")]).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("access-control-allow-origin"), "*");
}

/// The origin of a page serving REGARDS' web client from elsewhere.
const BROWSER_ORIGIN: &str = "http://localhost:3333";

/// A comma-separated header's items, lowercased (`Access-Control-*` lists).
fn header_items(reply: &Reply, name: &str) -> Vec<String> {
    reply
        .header(name)
        .split(',')
        .map(|item| item.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn browser_preflight_for_a_json_put_with_a_token_is_allowed() {
    let base = serve(DemoConfig::development()).await;
    // What a browser sends before `fetch(url, {method: "PUT", headers: {Authorization, "Content-Type": "application/json"}})`.
    let preflight = [
        ("origin", BROWSER_ORIGIN),
        ("access-control-request-method", "PUT"),
        (
            "access-control-request-headers",
            "authorization,content-type",
        ),
    ];
    let reply = send(
        Method::OPTIONS,
        &format!("{base}{RULE_PATH}"),
        &preflight,
        "",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), "*");
    assert!(header_items(&reply, "access-control-allow-methods").contains(&"put".to_owned()));
    let allowed_headers = header_items(&reply, "access-control-allow-headers");
    for header in ["authorization", "content-type"] {
        assert!(
            allowed_headers.contains(&header.to_owned()),
            "{allowed_headers:?}"
        );
    }
    assert_eq!(reply.header("access-control-max-age"), "3600");
}

#[tokio::test]
async fn browser_can_read_www_authenticate_on_a_401() {
    let base = serve(DemoConfig::development()).await;
    let reply = get(
        &base,
        RULE_PATH,
        &[
            ("origin", BROWSER_ORIGIN),
            ("authorization", "Bearer a.b.c"),
        ],
    )
    .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("access-control-allow-origin"), "*");
    assert!(
        header_items(&reply, "access-control-expose-headers")
            .contains(&"www-authenticate".to_owned())
    );
    assert_eq!(
        reply.header("www-authenticate"),
        r#"Bearer realm="regards", error="invalid_token""#
    );
}

#[tokio::test]
async fn browser_can_read_the_exposed_headers_on_a_200() {
    let base = serve(DemoConfig::development()).await;
    let token = login(&base, "admin@regards.fr", "admin", "project1").await;
    let auth = bearer(&token);
    let reply = send(
        Method::PUT,
        &format!("{base}{RULE_PATH}"),
        &[("origin", BROWSER_ORIGIN), ("authorization", &auth), JSON],
        r#"{"name":"r1"}"#,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), "*");
    let exposed = header_items(&reply, "access-control-expose-headers");
    for header in ["www-authenticate", "content-disposition"] {
        assert!(exposed.contains(&header.to_owned()), "{exposed:?}");
    }
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let base = serve(DemoConfig::development()).await;
    let token = login(&base, "admin@regards.fr", "admin", "project1").await;
    let big_rule = format!(r#"{{"name":"{}"}}"#, "x".repeat(100 * 1024));
    assert_eq!(put_rule(&base, &token, &big_rule).await.status, 413);

    let url = format!("{base}{TOKEN_PATH}?scope=project1");
    let big_form = format!("grant_type=password&pad={}", "x".repeat(100 * 1024));
    let form = ("content-type", "application/x-www-form-urlencoded");
    let reply = send(
        Method::POST,
        &url,
        &[("authorization", SEED_BASIC), form],
        big_form,
    )
    .await;
    assert_eq!(reply.status, 413);
}

#[tokio::test]
async fn request_slower_than_the_timeout_is_408() {
    let mut config = DemoConfig::development();
    config.request_timeout = Duration::from_millis(200);
    let token = config
        .issuer
        .mint("admin@regards.fr", Role::ProjectAdmin, "project1");
    let base = serve(config).await;

    // A client that announces a body and never sends it.
    let mut stream = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "PUT {RULE_PATH} HTTP/1.1\r\nhost: demo\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 12];
    let read = tokio::time::timeout(PROCESS_DEADLINE, stream.read_exact(&mut answer)).await;

    assert!(read.is_ok(), "no answer before the deadline");
    assert_eq!(answer, b"HTTP/1.1 408");
}

#[tokio::test]
async fn configured_users_replace_the_built_in_ones() {
    let mut config = DemoConfig::development();
    config.users = vec![DemoUser::new(
        "jane@regards.fr",
        "pw",
        [("project9", Role::Exploit)],
    )];
    let base = serve(config).await;
    let jane =
        seed_token_request(&base, &password_grant("jane@regards.fr", "pw", "project9")).await;
    assert_eq!(jane.json()["role"], "EXPLOIT");
    let admin = seed_token_request(
        &base,
        &password_grant("admin@regards.fr", "admin", "project1"),
    )
    .await;
    assert_eq!(admin.status, 400);
}

#[tokio::test]
async fn empty_json_parameters_are_ignored_as_empty_form_parameters_are() {
    let base = serve(DemoConfig::development()).await;
    let url = format!(
        "{base}{TOKEN_PATH}?{}",
        password_grant("user@regards.fr", "user", "project1")
    );
    let json_body = r#"{"grant_type":"","scope":"","username":"","password":""}"#;
    let form = ("content-type", "application/x-www-form-urlencoded");
    let form_body = "grant_type=&scope=&username=&password=";
    for (content_type, body) in [(JSON, json_body), (form, form_body)] {
        let reply = send(
            Method::POST,
            &url,
            &[("authorization", SEED_BASIC), content_type],
            body,
        )
        .await;
        assert_eq!(reply.status, 200, "{body}: {:?}", reply.body);
        let answer = reply.json();
        assert_eq!(
            (&answer["tenant"], &answer["sub"]),
            (&json!("project1"), &json!("user@regards.fr")),
            "{body}"
        );
    }
}

// ---- secrets stay out of Debug --------------------------------------------------------------

const CLIENT_SECRET: &str = "client-secret-4e1f77";
const PASSWORD: &str = "jane-password-9c2d05";

#[test]
fn demo_config_debug_shows_neither_the_client_secret_nor_passwords() {
    let mut config = DemoConfig::development();
    config.client_secret = CLIENT_SECRET.into();
    config.users = vec![DemoUser::new(
        "jane@regards.fr",
        PASSWORD,
        [("project1", Role::Exploit)],
    )];
    for debug in [format!("{config:?}"), format!("{config:#?}")] {
        assert!(!debug.contains(CLIENT_SECRET), "{debug}");
        assert!(!debug.contains(PASSWORD), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(debug.contains("jane@regards.fr"), "{debug}");
    }
}

#[test]
fn demo_user_debug_shows_the_login_and_roles_but_not_the_password() {
    let user = DemoUser::new("jane@regards.fr", PASSWORD, [("project1", Role::Exploit)]);
    let debug = format!("{user:?}");
    assert_eq!(
        debug,
        r#"DemoUser { login: "jane@regards.fr", password: "<redacted>", roles: {"project1": Exploit} }"#
    );
}

#[test]
fn token_params_debug_shows_no_password() {
    let form = format!("grant_type=password&scope=project1&username=jane&password={PASSWORD}");
    let params = TokenParams::from_form(form.as_bytes()).unwrap();
    let debug = format!("{params:?}");
    assert!(!debug.contains(PASSWORD), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(debug.contains("project1"), "{debug}");
}

// ---- the example binary: the seed's curl lines, signals, environment -----------------------

/// The seed's token request, verbatim from the issue.
const SEED_TOKEN_COMMAND: &str = r#"HOST=http://127.0.0.1:8080
curl -X POST "$HOST/api/v1/rs-authentication/oauth/token?grant_type=password&scope=project1&username=admin@regards.fr&password=admin" \
  -H 'Authorization: Basic Y2xpZW50OnNlY3JldA==' \
  -H 'Content-Type: application/json;charset=UTF-8' -H 'Accept: application/json'"#;

/// The seed's rule import, verbatim from the issue (`<access_token>` is pasted in).
const SEED_RULE_COMMAND: &str = r#"curl -v -XPUT $HOST/api/v1/rs-notifier/rule -H 'Authorization:Bearer <access_token>' \
  -H 'Content-Type: application/json' -H 'Accept: application/json' --data '{"name":"r1"}'"#;

/// How long the example may take to start or stop.
const PROCESS_DEADLINE: Duration = Duration::from_secs(60);

/// Builds the example (a no-op when `cargo test` already did) and returns its path.
fn example_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        // This test runs from <target>/<profile>/deps/; the example lands in
        // <target>/<profile>/examples/.
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap();
        let target_dir = profile_dir.parent().unwrap();
        let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args([
                "build",
                "--example",
                "regards_demo",
                "--all-features",
                "--profile",
                profile,
            ])
            .arg("--manifest-path")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir)
            .output()
            .expect("run cargo");
        assert!(
            output.status.success(),
            "cargo build --example regards_demo failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        profile_dir
            .join("examples")
            .join(format!("regards_demo{}", std::env::consts::EXE_SUFFIX))
    })
}

/// The example with a clean configuration (no key or demo variable inherited), on a free port,
/// plus `env`.
fn demo_command(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(example_binary());
    for algorithm in Algorithm::ALL {
        command.env_remove(algorithm.env_var());
    }
    for var in [
        "REGARDS_CLIENT_ID",
        "REGARDS_CLIENT_SECRET",
        "REGARDS_TOKEN_VALIDITY",
        "REGARDS_DEMO_USERS",
    ] {
        command.env_remove(var);
    }
    command
        .env("REGARDS_DEMO_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A running example, killed when dropped.
struct RunningDemo {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl RunningDemo {
    fn start(env: &[(&str, &str)]) -> RunningDemo {
        let mut child = demo_command(env).spawn().expect("start the example");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (address_tx, address_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(base) = line.strip_prefix("REGARDS demo listening on ") {
                    let _ = address_tx.send(base.to_owned());
                }
            }
        });
        match address_rx.recv_timeout(PROCESS_DEADLINE) {
            Ok(base) => RunningDemo { child, base, log },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the example did not start:\n{}", log.lock().unwrap());
            }
        }
    }

    /// Waits until the example's log contains `text`; false if it never does.
    fn logs(&self, text: &str) -> bool {
        let deadline = Instant::now() + PROCESS_DEADLINE;
        while Instant::now() < deadline {
            if self.log.lock().unwrap().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn wait_for_exit(&mut self) -> Option<ExitStatus> {
        wait_with_deadline(&mut self.child)
    }
}

impl Drop for RunningDemo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_with_deadline(child: &mut Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + PROCESS_DEADLINE;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Runs the example with a configuration it must refuse; returns what it said.
fn refused_start(env: &[(&str, &str)]) -> String {
    let mut child = demo_command(env)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the example");
    let status = wait_with_deadline(&mut child);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.is_some_and(|status| !status.success()),
        "the example started with {env:?}:\n{stderr}"
    );
    stderr
}

/// Runs a shell script with curl, as a reader of the README would.
fn shell(script: &str) -> (String, String) {
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        // The requests go to 127.0.0.1, never through a proxy the environment may name.
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .stdin(Stdio::null())
        .output()
        .expect("run sh");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{script}\nfailed: {stderr}");
    (stdout, stderr)
}

fn curl_is_installed() -> bool {
    Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[test]
fn seed_curl_commands_work_against_the_running_example() {
    if !curl_is_installed() {
        eprintln!("skipped: curl is not installed (.ci/run installs it)");
        return;
    }
    let demo = RunningDemo::start(&[]);
    let host_line = format!("HOST={}", demo.base);

    let token_command = SEED_TOKEN_COMMAND.replacen("HOST=http://127.0.0.1:8080", &host_line, 1);
    let (answer, _) = shell(&token_command);
    let answer: Value = serde_json::from_str(&answer).expect("the token answer is JSON");
    assert_eq!(answer["role"], "PROJECT_ADMIN");
    let token = answer["access_token"].as_str().expect("an access token");

    let rule_command = format!(
        "{host_line}\n{}",
        SEED_RULE_COMMAND.replace("<access_token>", token)
    );
    let (rule, verbose) = shell(&rule_command);
    assert!(verbose.contains("< HTTP/1.1 200 OK"), "{verbose}");
    let rule: Value = serde_json::from_str(&rule).expect("the stored rule is JSON");
    assert_eq!(rule["name"], "r1");
    assert!(rule["id"].is_u64());
}

#[cfg(unix)]
#[test]
fn example_stops_gracefully_on_sigterm() {
    let mut demo = RunningDemo::start(&[]);
    shell(&format!("kill -TERM {}", demo.child.id()));
    let status = demo.wait_for_exit().expect("the example stops on SIGTERM");
    assert!(status.success(), "{status}");
    assert!(demo.logs("shutting down"), "{}", demo.log());
}

#[tokio::test]
async fn example_warns_once_that_the_development_key_is_public() {
    let demo = RunningDemo::start(&[]);
    // Keys are checked before the services start: once the last one has said how it decides,
    // every warning about the key is in the log.
    let last_service = r#"until rs-admin's rights are read microservice="rs-admin-instance""#;
    assert!(demo.logs(last_service), "{}", demo.log());
    let log = demo.log();
    assert_eq!(log.matches("public development key").count(), 1, "{log}");
    assert!(log.contains("JWT_SIGNING_KEY_HS512"), "{log}");
    let answer = seed_token_request(
        &demo.base,
        &password_grant("admin@regards.fr", "admin", "project1"),
    )
    .await
    .json();
    let development = DemoConfig::development().verifier;
    assert!(
        development
            .verify(answer["access_token"].as_str().unwrap())
            .is_ok()
    );
}

/// Started on a port the system picks (`REGARDS_DEMO_ADDR=127.0.0.1:0`), the demo's services reach
/// its rs-admin on the port it was given, not on port 0: each registers and reads its rights.
#[tokio::test]
async fn example_on_a_port_the_system_picks_registers_its_services_there() {
    let demo = RunningDemo::start(&[]);
    for microservice in [
        "rs-notifier",
        "rs-admin",
        "rs-catalog",
        "rs-admin-instance",
        "rs-access-project",
    ] {
        let read = format!(r#"rights read from rs-admin microservice="{microservice}""#);
        assert!(demo.logs(&read), "{microservice}:\n{}", demo.log());
    }
    assert!(!demo.log().contains("cannot register"), "{}", demo.log());
}

/// A key made at test time, so no secret lives in the repository.
fn operator_key() -> String {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("operator-key-{seed:040}-{:024}", std::process::id())
}

#[tokio::test]
async fn example_signs_with_the_operator_key_and_client() {
    let key = operator_key();
    let demo = RunningDemo::start(&[
        ("JWT_SIGNING_KEY_HS512", &key),
        ("REGARDS_CLIENT_ID", "ops"),
        ("REGARDS_CLIENT_SECRET", "ops-secret"),
        ("REGARDS_TOKEN_VALIDITY", "600"),
    ]);
    let url = format!(
        "{}{TOKEN_PATH}?{}",
        demo.base,
        password_grant("admin@regards.fr", "admin", "project1")
    );
    let ops = format!("Basic {}", STANDARD.encode("ops:ops-secret"));

    let seed_client = send(Method::POST, &url, &[("authorization", SEED_BASIC)], "").await;
    assert_eq!(seed_client.status, 401);
    let answer = send(Method::POST, &url, &[("authorization", &ops)], "")
        .await
        .json();

    assert_eq!(answer["expires_in"], 600);
    let token = answer["access_token"].as_str().unwrap();
    let operator = Verifier::builder().hs512(&key).build().unwrap();
    assert_eq!(operator.verify(token).unwrap().role(), &Role::ProjectAdmin);
    let development = DemoConfig::development().verifier;
    assert_eq!(
        development.verify(token).unwrap_err(),
        AuthError::InvalidSignature
    );
}

#[tokio::test]
async fn example_accepts_the_development_key_set_explicitly() {
    let demo = RunningDemo::start(&[("JWT_SIGNING_KEY_HS512", REGARDS_DEVELOPMENT_KEY)]);
    assert!(demo.logs("public development key"), "{}", demo.log());
    let token = login(&demo.base, "user@regards.fr", "user", "project1").await;
    assert!(DemoConfig::development().verifier.verify(&token).is_ok());
}

#[tokio::test]
async fn example_reads_users_from_a_file() {
    let path = std::env::temp_dir().join(format!("regards-demo-users-{}.json", std::process::id()));
    let users =
        r#"[{"login": "jane@regards.fr", "password": "jane", "roles": {"project7": "ADMIN"}}]"#;
    std::fs::write(&path, users).unwrap();
    let demo = RunningDemo::start(&[("REGARDS_DEMO_USERS", path.to_str().unwrap())]);
    let answer = seed_token_request(
        &demo.base,
        &password_grant("jane@regards.fr", "jane", "project7"),
    )
    .await
    .json();
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        (&answer["role"], &answer["tenant"]),
        (&json!("ADMIN"), &json!("project7"))
    );
}

#[test]
fn example_refuses_bad_settings_saying_what_to_fix() {
    let short_key = "x".repeat(20);
    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[("REGARDS_TOKEN_VALIDITY", "soon")],
            "REGARDS_TOKEN_VALIDITY",
        ),
        (&[("REGARDS_DEMO_ADDR", "localhost")], "REGARDS_DEMO_ADDR"),
        (&[("REGARDS_CLIENT_SECRET", "")], "REGARDS_CLIENT_SECRET"),
        (
            &[("REGARDS_DEMO_USERS", "/nonexistent/users.json")],
            "REGARDS_DEMO_USERS",
        ),
        (
            &[("JWT_SIGNING_KEY_HS512", &short_key)],
            "JWT_SIGNING_KEY_HS512",
        ),
        // Another algorithm's key alone can verify, but the demo mints HS512 tokens.
        (
            &[("JWT_SIGNING_KEY_HS256", &operator_key())],
            "set JWT_SIGNING_KEY_HS512",
        ),
    ];
    for (env, what_to_fix) in cases {
        let said = refused_start(env);
        assert!(said.contains(what_to_fix), "{env:?}: {said}");
    }
}

/// A users file written for one test, removed when dropped.
struct UsersFile(PathBuf);

impl UsersFile {
    fn new(name: &str, content: &str) -> UsersFile {
        let path = std::env::temp_dir().join(format!(
            "regards-demo-{name}-{}-{}.json",
            std::process::id(),
            now()
        ));
        std::fs::write(&path, content).unwrap();
        UsersFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for UsersFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn users_file_listing_a_project_twice_for_a_user_is_refused_at_start() {
    let file = UsersFile::new(
        "duplicate-project",
        r#"[{"login": "jane@regards.fr", "password": "jane",
             "roles": {"project1": "REGISTERED_USER", "project1": "INSTANCE_ADMIN"}}]"#,
    );
    let said = refused_start(&[("REGARDS_DEMO_USERS", file.path())]);
    assert!(said.contains("REGARDS_DEMO_USERS"), "{said}");
    assert!(said.contains("project1"), "{said}");
    assert!(said.contains("more than once"), "{said}");
}

#[test]
fn users_file_giving_a_user_field_twice_is_refused_at_start() {
    let file = UsersFile::new(
        "duplicate-field",
        r#"[{"login": "jane@regards.fr", "password": "jane", "password": "other",
             "roles": {"project1": "EXPLOIT"}}]"#,
    );
    let said = refused_start(&[("REGARDS_DEMO_USERS", file.path())]);
    assert!(said.contains("REGARDS_DEMO_USERS"), "{said}");
    assert!(said.contains("password"), "{said}");
}
