//! The web authenticator's assets, compiled into the binary so Assent serves its whole UI itself
//! (no CDN: it works offline and on air-gapped networks), with headers that keep every script,
//! style and connection on this origin.

use super::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// A script's route and text, from its path under `web/app/`.
macro_rules! script {
    ($path:literal) => {
        (
            concat!("/app/", $path),
            include_str!(concat!("../../../../web/app/", $path)),
        )
    };
}

const INDEX: &str = include_str!("../../../../web/app/index.html");
/// The authenticator's ES modules: the entry `app.js` and every module it imports, directly or
/// not (`tests/web/assets.test.mjs` checks that none is missing here or in `sw.js`'s shell).
const SCRIPTS: [(&str, &str); 19] = [
    script!("app.js"),
    script!("js/api.js"),
    script!("js/crypto.js"),
    script!("js/keystore.js"),
    script!("js/live.js"),
    script!("js/passkey.js"),
    script!("js/push.js"),
    script!("js/router.js"),
    script!("js/state.js"),
    script!("js/ui.js"),
    script!("js/views/activity.js"),
    script!("js/views/broadcasts.js"),
    script!("js/views/devices.js"),
    script!("js/views/enroll.js"),
    script!("js/views/home.js"),
    script!("js/views/pending.js"),
    script!("js/views/prompt.js"),
    script!("js/views/recovery.js"),
    script!("js/views/revoked.js"),
];
const STYLE: &str = include_str!("../../../../web/app/app.css");
const SERVICE_WORKER: &str = include_str!("../../../../web/app/sw.js");
const MANIFEST: &str = include_str!("../../../../web/app/manifest.webmanifest");
const ICON: &str = include_str!("../../../../web/app/icon.svg");

/// Only this origin's own scripts, styles, workers and connections; never framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; manifest-src 'self'; worker-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

pub(crate) fn router() -> Router<AppState> {
    let mut router = Router::new()
        .route("/app", get(|| asset(INDEX, "text/html; charset=utf-8")))
        .route("/app/", get(|| asset(INDEX, "text/html; charset=utf-8")))
        .route(
            "/app/enroll",
            get(|| asset(INDEX, "text/html; charset=utf-8")),
        )
        .route(
            "/app/app.css",
            get(|| asset(STYLE, "text/css; charset=utf-8")),
        )
        .route("/app/sw.js", get(|| asset(SERVICE_WORKER, JAVASCRIPT)))
        .route(
            "/app/manifest.webmanifest",
            get(|| asset(MANIFEST, "application/manifest+json")),
        )
        .route("/app/icon.svg", get(|| asset(ICON, "image/svg+xml")));
    for (path, body) in SCRIPTS {
        router = router.route(path, get(move || asset(body, JAVASCRIPT)));
    }
    router
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    // Always revalidate: a stale script could sign with outdated rules.
    protect(
        &mut response,
        content_type,
        "no-cache",
        CONTENT_SECURITY_POLICY,
        "no-referrer",
    );
    response
}

/// The headers of every page and asset Assent serves to a browser: its type, how it may be
/// kept, the content security policy, the referrer policy, and never sniffed nor framed.
pub(crate) fn protect(
    response: &mut Response,
    content_type: &'static str,
    cache: &'static str,
    csp: &'static str,
    referrer: &'static str,
) {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static(referrer));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
}
