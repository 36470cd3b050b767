//! Prometheus metrics: the recorder the whole process reports to (installed once), the
//! `GET /metrics` exposition, on the main listener or on one of its own, and the HTTP layer's
//! own measurements. The names and labels are `assent_core::measures`'.

use crate::http::AppState;
use assent_core::measures;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// The Prometheus text format's content type.
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use; `None` when another recorder was installed
/// first (a program embedding the server with its own).
pub(crate) fn handle() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".into()),
                    measures::LATENCY_BUCKETS,
                )
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            for (name, help) in HELP {
                metrics::describe_counter!(*name, *help);
            }
            Some(handle)
        })
        .as_ref()
}

/// What each metric counts, as `# HELP` lines.
const HELP: &[(&str, &str)] = &[
    (
        measures::REQUESTS_CREATED,
        "Approval requests stored, by kind and by what the policy decided (push or allow).",
    ),
    (
        measures::REQUESTS_REFUSED,
        "Approval requests refused before anything was stored, by kind and problem code.",
    ),
    (
        measures::REQUESTS_DECIDED,
        "Approval requests that reached their final state, by kind, state and reason.",
    ),
    (
        measures::DECISION_SECONDS,
        "Seconds from a request's creation to a device's answer, by kind and state.",
    ),
    (
        measures::REQUESTS_PENDING,
        "Approval requests pending now (read from the store at each scrape).",
    ),
    (
        measures::PUSHES,
        "Pushes that reached an outcome, by channel and result.",
    ),
    (measures::SUSPENSIONS, "Push suspensions, by reason."),
    (
        measures::DETECTOR_ALERTS,
        "Admin alerts raised, by detector.",
    ),
    (
        measures::HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status.",
    ),
    (
        measures::HTTP_SECONDS,
        "Seconds to answer an HTTP request, by method and route template.",
    ),
    (
        measures::STORE_COMMIT_SECONDS,
        "Seconds to commit a write in the store, by backend.",
    ),
];

/// `GET /metrics`: the exposition, with the gauges read from the store now.
pub(crate) async fn exposition(State(state): State<AppState>) -> Response {
    let Some(handle) = handle() else {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "another metrics recorder is installed",
        )
            .into_response();
    };
    match state.assent.pending_count().await {
        Ok(n) => metrics::gauge!(measures::REQUESTS_PENDING).set(n as f64),
        Err(e) => tracing::warn!(error = %e, "pending requests not counted for the metrics"),
    }
    handle.run_upkeep();
    ([(CONTENT_TYPE, EXPOSITION)], handle.render()).into_response()
}

/// The metrics' own listener's application: `/metrics` and nothing else.
pub(crate) fn own_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(exposition))
        .with_state(state)
}

/// The matched route's template, left on the response for the access log and the metrics
/// (routing happens inside the layer that measures, so it cannot see it otherwise).
#[derive(Debug, Clone)]
pub(crate) struct RouteTemplate(pub String);

/// Marks a routed request's response with its route template.
pub(crate) async fn mark_route(
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let route = matched.map(|m| m.as_str().to_owned());
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteTemplate(route));
    }
    response
}

/// Counts and times one answered HTTP request. The route is its template
/// (`/v1/approvals/{id}`), or `unmatched` for paths no route serves, so that ids and probes
/// never become labels.
pub(crate) fn record_http(
    method: &axum::http::Method,
    route: Option<&str>,
    status: u16,
    took: Duration,
) {
    let method: &'static str = match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let route = route.unwrap_or("unmatched").to_owned();
    metrics::counter!(
        measures::HTTP_REQUESTS,
        "method" => method,
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(measures::HTTP_SECONDS, "method" => method, "route" => route)
        .record(took.as_secs_f64());
}
