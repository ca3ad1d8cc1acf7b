//! What a token endpoint echoes never reaches an error: token endpoints on 127.0.0.1 that quote
//! the request back (the password in its query, the `Authorization: Basic` value, the password
//! JSON-escaped or percent-encoded) or answer a token with an error status, and a property test
//! over random secrets, encodings, positions and bodies.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Full;
use proptest::prelude::*;
use proptest::test_runner::Config;
use regards_auth::TokenIssuer;
use regards_auth::client::{
    BODY_EXCERPT_LEN, ClientCredentials, ClientError, ClientErrorKind, HttpTransport,
    PasswordGrant, TOKEN_PATH, UserCredentials,
};
use tower::service_fn;

const CLIENT_SECRET: &str = "Tr0ub4dor&3-zebra";
const PASSWORD: &str = "Correct Horse Battery Staple";

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn grant(addr: SocketAddr, password: &str) -> PasswordGrant {
    PasswordGrant::new(
        &format!("http://{addr}"),
        "project1",
        ClientCredentials::new("client", CLIENT_SECRET),
        UserCredentials::new("admin@regards.fr", password),
    )
    .unwrap()
}

fn basic_value(client_secret: &str) -> String {
    STANDARD.encode(format!("client:{client_secret}"))
}

/// A token endpoint whose every answer is `answer(request URI, request headers)`.
async fn echoing_endpoint(answer: fn(&Uri, &HeaderMap) -> Response) -> SocketAddr {
    serve(Router::new().route(
        TOKEN_PATH,
        post(move |uri: Uri, headers: HeaderMap| async move { answer(&uri, &headers) }),
    ))
    .await
}

/// The decoded value of the query parameter `name` of `uri`.
fn query_param(uri: &Uri, name: &str) -> String {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Fails if the error's `Display` or `Debug` holds any 6 consecutive characters of a secret.
fn assert_quotes_no_part_of(error: &ClientError, secrets: &[&str]) {
    let texts = [error.to_string(), format!("{error:?}")];
    for secret in secrets {
        let chars: Vec<char> = secret.chars().collect();
        for window in chars.windows(6) {
            let window: String = window.iter().collect();
            for text in &texts {
                assert!(
                    !text.contains(&window),
                    "{window:?} of a secret is quoted in {text:?}"
                );
            }
        }
    }
}

fn good_answer(token: &str) -> serde_json::Value {
    serde_json::json!({
        "access_token": token, "token_type": "bearer", "expires_in": 7199, "role": "PROJECT_ADMIN",
        "scope": "project1", "sub": "admin@regards.fr", "tenant": "project1",
        "email": "admin@regards.fr"
    })
}

#[tokio::test]
async fn password_straddling_the_excerpt_cut_is_not_quoted_in_part() {
    let addr = echoing_endpoint(|uri, _| {
        // The excerpt's bound falls six characters into the echoed password.
        let padding = "x".repeat(BODY_EXCERPT_LEN - 6);
        let password = query_param(uri, "password");
        (StatusCode::BAD_REQUEST, format!("{padding}{password}")).into_response()
    })
    .await;
    let error = grant(addr, PASSWORD).fetch().await.unwrap_err();
    assert!(
        error.kind() == ClientErrorKind::BadUserCredentials,
        "{error:?}"
    );
    assert_quotes_no_part_of(&error, &[PASSWORD]);
}

#[tokio::test]
async fn echoed_basic_authorization_is_redacted() {
    let addr = echoing_endpoint(|_, headers| {
        let authorization = headers["authorization"].to_str().unwrap().to_owned();
        let body = format!("bad client credentials in `Authorization: {authorization}`");
        (StatusCode::UNAUTHORIZED, body).into_response()
    })
    .await;
    let error = grant(addr, PASSWORD).fetch().await.unwrap_err();
    assert!(error.to_string().contains("Basic <redacted>"), "{error}");
    assert_quotes_no_part_of(&error, &[&basic_value(CLIENT_SECRET), CLIENT_SECRET]);
}

#[tokio::test]
async fn json_escaped_password_is_redacted() {
    const QUOTED: &str = r#"my "quoted" pass\wörd"#;
    let addr = echoing_endpoint(|uri, _| {
        let password = query_param(uri, "password");
        // As serde_json, Jackson and the like write it, and as `ensure_ascii` writers do.
        let escaped = serde_json::to_string(&password).unwrap();
        let ascii: String = escaped
            .chars()
            .map(|c| {
                if c.is_ascii() {
                    c.to_string()
                } else {
                    format!("\\u{:04x}", c as u32)
                }
            })
            .collect();
        let body = format!(r#"{{"error":"invalid_grant","password":{escaped},"again":{ascii}}}"#);
        (StatusCode::BAD_REQUEST, body).into_response()
    })
    .await;
    let error = grant(addr, QUOTED).fetch().await.unwrap_err();
    assert!(error.to_string().contains("invalid_grant"), "{error}");
    assert_quotes_no_part_of(&error, &[QUOTED, r#"my \"quoted\" pass\\w"#]);
}

#[tokio::test]
async fn percent_encoded_password_is_redacted() {
    let addr = echoing_endpoint(|uri, _| {
        // The query string re-encoded with %20 for spaces (not the form's `+`).
        let password = query_param(uri, "password").replace(' ', "%20");
        let body = format!("no user for scope=project1&password={password}");
        (StatusCode::BAD_REQUEST, body).into_response()
    })
    .await;
    let error = grant(addr, PASSWORD).fetch().await.unwrap_err();
    assert!(error.to_string().contains("password=<redacted>"), "{error}");
    assert_quotes_no_part_of(&error, &[PASSWORD, "Correct%20Horse%20Battery%20Staple"]);
}

#[tokio::test]
async fn answer_holding_an_access_token_is_not_quoted_whatever_the_status() {
    // An opaque (not JWT-shaped) token, answered with an error status.
    const OPAQUE: &str = "2YotnFZFEjr1zCsicMWpAA";
    let addr = echoing_endpoint(|_, _| {
        let body = axum::Json(good_answer(OPAQUE));
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    })
    .await;
    let error = grant(addr, PASSWORD).fetch().await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_quotes_no_part_of(&error, &[OPAQUE]);
}

#[tokio::test]
async fn body_holding_a_jwt_is_not_quoted_whatever_the_status() {
    let addr = echoing_endpoint(|_, _| {
        let token = TokenIssuer::development().mint(
            "admin@regards.fr",
            regards_auth::Role::Admin,
            "project1",
        );
        let body = format!("session {token} was revoked");
        (StatusCode::BAD_REQUEST, body).into_response()
    })
    .await;
    let error = grant(addr, PASSWORD).fetch().await.unwrap_err();
    assert!(
        error.kind() == ClientErrorKind::BadUserCredentials,
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains("eyJ"), "{error:?}");
}

#[tokio::test]
async fn transport_error_quoting_the_request_is_redacted() {
    // A transport that fails quoting the request, as a proxy or a logging layer might.
    let transport = service_fn(|request: http::Request<Full<Bytes>>| async move {
        let message = format!(
            "proxy refused POST {} with Authorization: {}",
            request.uri(),
            request.headers()["authorization"].to_str().unwrap()
        );
        Err::<http::Response<Full<Bytes>>, _>(std::io::Error::other(message))
    });
    let grant = PasswordGrant::with_custom_transport(
        "http://127.0.0.1:9",
        "project1",
        ClientCredentials::new("client", CLIENT_SECRET),
        UserCredentials::new("admin@regards.fr", PASSWORD),
        transport,
    )
    .unwrap();
    let error = grant.fetch().await.unwrap_err();
    assert_eq!(error.kind(), ClientErrorKind::Transport, "{error:?}");
    assert_quotes_no_part_of(
        &error,
        &[PASSWORD, "Correct+Horse", &basic_value(CLIENT_SECRET)],
    );
}

// The property: random secrets, written into random bodies in the forms an endpoint may echo
// them in, at random places; the endpoint answers that body with a random status.

/// How an endpoint may write a secret back.
#[derive(Debug, Clone, Copy)]
enum Form {
    Raw,
    /// `application/x-www-form-urlencoded` (`+` for spaces).
    Urlencoded,
    /// Every byte but the unreserved ones as `%HH` (`%20` for spaces), upper or lower case.
    Percent {
        lower: bool,
    },
    /// A JSON string's content, non-ASCII kept.
    Json,
    /// A JSON string's content, every non-ASCII character as `\uHHHH` (surrogate pairs beyond
    /// the BMP).
    JsonAscii,
    /// HTML text, `&`, `<`, `>`, `"` and `'` as entities.
    Html,
}

fn write(secret: &str, form: Form) -> String {
    match form {
        Form::Raw => secret.to_owned(),
        Form::Urlencoded => form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        Form::Percent { lower } => secret
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else if lower {
                    format!("%{b:02x}")
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect(),
        Form::Json => {
            let quoted = serde_json::to_string(secret).unwrap();
            quoted[1..quoted.len() - 1].to_owned()
        }
        Form::JsonAscii => write(secret, Form::Json)
            .encode_utf16()
            .map(|unit| match char::from_u32(u32::from(unit)) {
                Some(c) if c.is_ascii() => c.to_string(),
                _ => format!("\\u{unit:04X}"),
            })
            .collect(),
        Form::Html => secret
            .chars()
            .map(|c| match c {
                '&' => "&amp;".to_owned(),
                '<' => "&lt;".to_owned(),
                '>' => "&gt;".to_owned(),
                '"' => "&quot;".to_owned(),
                '\'' => "&#39;".to_owned(),
                c => c.to_string(),
            })
            .collect(),
    }
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        Just(Form::Raw),
        Just(Form::Urlencoded),
        any::<bool>().prop_map(|lower| Form::Percent { lower }),
        Just(Form::Json),
        Just(Form::JsonAscii),
        Just(Form::Html),
    ]
}

/// Characters of passwords and client secrets: letters, digits, what needs escaping in URLs,
/// JSON and HTML, and non-ASCII (one beyond the BMP).
fn secret() -> impl Strategy<Value = String> {
    // Upper case first: shrinking goes towards the first character, and a failing case should
    // not shrink into secrets that merely look like the filler (lower case).
    let alphabet: Vec<char> = ('A'..='Z')
        .chain('a'..='z')
        .chain('0'..='9')
        .chain(" \"\\/%+&=@:?#<>'\t".chars())
        .chain("éüß日本😀".chars())
        .collect();
    prop::collection::vec(prop::sample::select(alphabet), 8..24).prop_map(String::from_iter)
}

/// Characters of the rest of a body.
fn filler() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = ('a'..='z')
        .chain("  {}\":,=&?/.-_\n%\\".chars())
        .chain("éà".chars())
        .collect();
    prop::collection::vec(prop::sample::select(alphabet), 0..700).prop_map(String::from_iter)
}

/// Which secret goes into the body: the password, the client secret or the Basic value.
#[derive(Debug, Clone, Copy)]
enum Which {
    Password,
    ClientSecret,
    Basic,
}

fn piece() -> impl Strategy<Value = (Which, Form, usize)> {
    let which = prop_oneof![
        Just(Which::Password),
        Just(Which::ClientSecret),
        Just(Which::Basic)
    ];
    (which, form(), any::<usize>())
}

/// `filler` with each piece written at a char boundary chosen by its number.
fn body(filler: &str, pieces: &[(String, usize)]) -> String {
    let boundaries: Vec<usize> = filler
        .char_indices()
        .map(|(i, _)| i)
        .chain([filler.len()])
        .collect();
    let mut places: Vec<(usize, &str)> = pieces
        .iter()
        .map(|(text, n)| (boundaries[n % boundaries.len()], text.as_str()))
        .collect();
    places.sort_by_key(|(at, _)| *at);
    let mut body = String::new();
    let mut from = 0;
    for (at, text) in places {
        body.push_str(&filler[from..at]);
        body.push_str(text);
        from = at;
    }
    body.push_str(&filler[from..]);
    body
}

type Answer = Arc<Mutex<(StatusCode, String)>>;

#[test]
fn no_error_quotes_six_characters_of_a_secret() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer: Answer = Arc::new(Mutex::new((StatusCode::OK, String::new())));
    let addr = runtime.block_on(serve(
        Router::new()
            .route(
                TOKEN_PATH,
                post(|State(answer): State<Answer>| async move {
                    answer.lock().unwrap().clone().into_response()
                }),
            )
            .with_state(Arc::clone(&answer)),
    ));
    let transport = HttpTransport::new();
    let status = prop::sample::select(vec![200u16, 400, 401, 403, 404, 500, 503]);
    let pieces = prop::collection::vec(piece(), 1..5);
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    proptest!(config, |(password in secret(), client_secret in secret(), filler in filler(),
                        pieces in pieces, status in status)| {
        let basic = basic_value(&client_secret);
        let pieces: Vec<(String, usize)> = pieces
            .iter()
            .map(|(which, form, n)| {
                let secret = match which {
                    Which::Password => &password,
                    Which::ClientSecret => &client_secret,
                    Which::Basic => &basic,
                };
                (write(secret, *form), *n)
            })
            .collect();
        let body = body(&filler, &pieces);
        *answer.lock().unwrap() = (StatusCode::from_u16(status).unwrap(), body.clone());
        let grant = PasswordGrant::with_custom_transport(
            &format!("http://{addr}"),
            "project1",
            ClientCredentials::new("client", client_secret.as_str()),
            UserCredentials::new("admin@regards.fr", password.as_str()),
            transport.clone(),
        )
        .unwrap();
        let secrets = [password.as_str(), client_secret.as_str(), basic.as_str()];
        let error = runtime.block_on(grant.fetch()).unwrap_err();
        assert_quotes_no_part_of(&error, &secrets);

        // The same text as a transport's error message.
        let quoting = service_fn(move |_: http::Request<Full<Bytes>>| {
            let body = body.clone();
            async move {
                Err::<http::Response<Full<Bytes>>, _>(std::io::Error::other(body))
            }
        });
        let error = runtime
            .block_on(grant.with_transport(quoting).fetch())
            .unwrap_err();
        assert_quotes_no_part_of(&error, &secrets);
    });
}
