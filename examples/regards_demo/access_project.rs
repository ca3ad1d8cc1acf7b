//! rs-access-project: the project's web interface settings. REGARDS' web client reads the
//! themes before anyone logs in; the demo has none.

use axum::Json;
use axum::extract::RawQuery;
use axum::http::Method;
use regards_auth::Role;
use serde_json::{Value, json};

use super::gateway::{BuiltMicroservice, Microservice, Refusal, page_request};

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
    let (number, size) = page_request(query.as_deref().unwrap_or_default())?;
    let href = format!("/api/v1/rs-access-project/themes?page={number}&size={size}");
    Ok(Json(json!({
        "content": [],
        "links": [{ "rel": "self", "href": href }],
        "metadata": { "size": size, "totalElements": 0, "totalPages": 0, "number": number },
    })))
}
