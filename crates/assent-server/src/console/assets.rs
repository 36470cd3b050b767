//! The console's stylesheet and scripts, compiled into the binary.

use super::page::secure_headers;
use crate::http::AppState;
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const STYLE: &str = include_str!("../../../../web/console/console.css");
const LIVE: &str = include_str!("../../../../web/console/live.js");

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/assets/console.css",
            get(|| asset(STYLE, "text/css; charset=utf-8")),
        )
        .route(
            "/admin/assets/live.js",
            get(|| asset(LIVE, "text/javascript; charset=utf-8")),
        )
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    secure_headers(&mut response, content_type);
    // Scripts and styles hold no secret; revalidating keeps them current after an upgrade.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    response
}
