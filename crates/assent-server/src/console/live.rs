//! The live page: requests as they happen, with their risk, rule and outcome. The feed reads the
//! audit log (every node writes there), so a console on one node sees the requests of all.

use super::auth::Admin;
use super::describe::{self, REQUEST_KINDS, Row};
use super::page::PageError;
use crate::http::AppState;
use assent_core::Assent;
use assent_core::audit::export::AuditQuery;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// How often the feed looks for new rows.
const POLL: Duration = Duration::from_millis(700);
/// How often the feed checks that its session is still live.
const SESSION_RECHECK: Duration = Duration::from_secs(30);
/// How far back the page starts: the request rows among the last this many audit rows.
const LOOKBACK: u64 = 300;

/// The request rows among `after+1 ..= head`, oldest first, at most `pages` pages of 100.
pub(crate) async fn request_rows_after(
    assent: &Assent,
    after: u64,
    pages: usize,
) -> Result<(Vec<Row>, u64), assent_core::CoreError> {
    let query = AuditQuery {
        after,
        ..AuditQuery::default()
    };
    let (records, after) = describe::scan(assent, query, pages).await?;
    let mut found = Vec::new();
    for record in records
        .iter()
        .filter(|r| REQUEST_KINDS.contains(&r.kind.as_str()))
    {
        found.push(describe::row(assent, record).await);
    }
    Ok((found, after))
}

/// `GET /admin/`
pub(crate) async fn live_page(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Response, PageError> {
    let head = state.assent.audit_head_seq().await?;
    let (mut rows, _) = request_rows_after(&state.assent, head.saturating_sub(LOOKBACK), 3).await?;
    rows.reverse();
    let body = html! {
        h1 { "Live" }
        p.hint #live-status data-after=(head) { "Requests appear here as they are made, on any node." }
        (describe::table("live", &rows))
    };
    Ok(admin.page("Live", "/admin/", &["/admin/assets/live.js"], body))
}

#[derive(Deserialize)]
pub(crate) struct After {
    #[serde(default)]
    after: u64,
}

/// `GET /admin/live/events?after=SEQ`: the feed, as server-sent events named `row`.
pub(crate) async fn events(
    State(state): State<AppState>,
    admin: Admin,
    headers: axum::http::HeaderMap,
    Query(After { after }): Query<After>,
) -> impl IntoResponse {
    // A browser that reconnects says the last row it received: go on from there, not from the
    // page's first `after`.
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(after, |last| last.max(after));
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(16);
    tokio::spawn(async move {
        let mut after = after;
        let mut checked = tokio::time::Instant::now();
        loop {
            match request_rows_after(&state.assent, after, 5).await {
                Ok((rows, next)) => {
                    after = next;
                    for row in rows {
                        let data = serde_json::to_string(&row).unwrap_or_default();
                        let event = Event::default()
                            .event("row")
                            .id(row.seq.to_string())
                            .data(data);
                        if tx.send(Ok(event)).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "console feed ended on an error");
                    return;
                }
            }
            if checked.elapsed() >= SESSION_RECHECK {
                checked = tokio::time::Instant::now();
                if !state
                    .assent
                    .console_session_is_live(&admin.token)
                    .await
                    .unwrap_or(false)
                {
                    return;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = tx.closed() => return,
                _ = crate::http::shutting_down(state.shutdown.clone()) => return,
            }
        }
    });
    let mut response = Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::default())
        .into_response();
    super::page::secure_headers(&mut response, "text/event-stream");
    response
}
