//! Per-request context: an id (returned in `x-request-id`, carried by every log line and problem
//! document of the request), a deadline, one access-log line, and the problem document of an
//! error that no protocol surface rendered.

use crate::error::{ApiError, REQUEST_ID};
use assent_proto::ProblemCode;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::{Duration, Instant};
use tracing::Instrument as _;

/// Deadlines for producing a response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    pub normal: Duration,
    /// For long polls (`?wait=`), which may legitimately hold the request.
    pub long_poll: Duration,
    /// Longest pause between two parts of a request body; a client that stops sending is
    /// answered `408 body_timeout` then, not held until `normal` runs out.
    pub body_idle: Duration,
}

pub(crate) async fn request_context(
    State(deadlines): State<Deadlines>,
    request: Request,
    next: Next,
) -> Response {
    let (request, body) = {
        let (parts, body) = request.into_parts();
        let (body, mark) = crate::body_watch::watch(body, deadlines.body_idle);
        (Request::from_parts(parts, body), mark)
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let is_long_poll = request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("wait=")))
        || crate::http::is_duo_long_call(request.uri().path());
    let deadline = if is_long_poll {
        deadlines.long_poll
    } else {
        deadlines.normal
    };
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let started = Instant::now();
    let response = REQUEST_ID
        .scope(id.clone(), async move {
            let response = match tokio::time::timeout(deadline, next.run(request)).await {
                // Whatever the handler made of a body that stopped arriving, the client is at
                // fault; and a deadline that ran out while the body was still awaited is too.
                _ if body.timed_out() => ApiError::new(
                    ProblemCode::BodyTimeout,
                    "the request body stopped arriving before its announced end",
                )
                .into_response(),
                Ok(response) => response,
                Err(_) if body.awaited() => ApiError::new(
                    ProblemCode::BodyTimeout,
                    "the request body was still arriving when the request deadline ran out",
                )
                .into_response(),
                Err(_) => {
                    ApiError::new(ProblemCode::Timeout, "the request took too long").into_response()
                }
            };
            let route = response
                .extensions()
                .get::<crate::prometheus::RouteTemplate>()
                .map(|r| r.0.clone());
            // An error that no protocol surface rendered in its own format (the v1 API's, and
            // those outside any surface: unknown paths, wrong methods, timeouts) becomes a
            // problem document here, where the request id is known.
            (route, crate::http::render_problems(response))
        })
        .instrument(span.clone())
        .await;
    let (route, mut response) = response;
    crate::prometheus::record_http(
        &method,
        route.as_deref(),
        response.status().as_u16(),
        started.elapsed(),
    );
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "served"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
