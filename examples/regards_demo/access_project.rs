//! rs-access-project: the project's web interface settings. REGARDS' web client reads the
//! themes before anyone logs in; the demo has none.

use axum::Json;
use axum::extract::RawQuery;
use axum::http::{Method, StatusCode};
use regards_auth::Role;
use serde_json::{Value, json};

use super::gateway::{BuiltMicroservice, Microservice, Refusal};

/// Spring's default page size, and the largest it serves.
const DEFAULT_PAGE_SIZE: u64 = 20;
const MAX_PAGE_SIZE: u64 = 2000;

/// rs-access-project's endpoints, with REGARDS' default role for each.
pub fn microservice() -> BuiltMicroservice {
    Microservice::new("rs-access-project")
        .endpoint(
            Method::GET,
            "/themes",
            Role::Public,
            "Endpoint to retrieve HMI themes",
            "ThemeController",
            themes,
        )
        .with_state(())
}

/// `GET /themes?page=&size=`: an empty page (REGARDS' `PagedModel`), the client then uses its
/// built-in theme.
async fn themes(RawQuery(query): RawQuery) -> Result<Json<Value>, Refusal> {
    let mut number = 0;
    let mut size = DEFAULT_PAGE_SIZE;
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let slot = match &*name {
            "page" => &mut number,
            "size" => &mut size,
            _ => continue,
        };
        *slot = value
            .parse()
            .map_err(|_| Refusal(StatusCode::BAD_REQUEST, "page and size are whole numbers"))?;
    }
    if size == 0 {
        size = DEFAULT_PAGE_SIZE;
    }
    let size = size.min(MAX_PAGE_SIZE);
    let href = format!("/api/v1/rs-access-project/themes?page={number}&size={size}");
    Ok(Json(json!({
        "content": [],
        "links": [{ "rel": "self", "href": href }],
        "metadata": { "size": size, "totalElements": 0, "totalPages": 0, "number": number },
    })))
}
