//! Alerts: what the fatigue and fraud detectors found, with their evidence, and the
//! suspensions they caused, newest first, with what an admin can do about each user.

use super::auth::Admin;
use super::describe::{self, Row};
use super::page::PageError;
use crate::http::AppState;
use assent_core::audit::export::AuditQuery;
use axum::extract::State;
use axum::response::Response;
use maud::html;

/// The alert kinds.
const ALERT_KINDS: [&str; 3] = ["admin_alert", "push_suspended", "user_event_reported"];
/// How far back the page looks, in audit rows.
const LOOKBACK: u64 = 20_000;
/// The most alerts shown.
const SHOWN: usize = 200;

/// `GET /admin/alerts`
pub(crate) async fn alerts(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Response, PageError> {
    let head = state.assent.audit_head_seq().await?;
    let mut found = Vec::new();
    for kind in ALERT_KINDS {
        let query = AuditQuery {
            after: head.saturating_sub(LOOKBACK),
            kind: Some(kind.to_owned()),
            ..AuditQuery::default()
        };
        // Every row of the kind since the look-back start: at most LOOKBACK rows.
        let pages = usize::try_from(LOOKBACK / 100).unwrap_or(usize::MAX);
        found.extend(describe::scan(&state.assent, query, pages).await?.0);
    }
    found.sort_by_key(|r| std::cmp::Reverse(r.seq));
    found.truncate(SHOWN);
    // Names are resolved for the rows shown only.
    let mut rows: Vec<Row> = Vec::with_capacity(found.len());
    for record in &found {
        rows.push(describe::row(&state.assent, record).await);
    }
    let found = rows;
    let body = html! {
        h1 { "Alerts" }
        p.hint { "Prompt bombing, impossible travel, reflex approvals and fraud reports, with their evidence. Open a user to revoke a device or lift a suspension." }
        div.scroll { table #alerts {
            thead { tr { th { "#" } th { "Time" } th { "Alert" } th { "User" } th { "Evidence" } } }
            tbody {
                @for r in &found {
                    tr class=(format!("kind-{}", r.kind)) {
                        td { (r.seq) }
                        td { time { (r.at) } }
                        td { (if r.outcome.is_empty() { r.kind.as_str() } else { r.outcome.as_str() }) }
                        td { @if !r.user.is_empty() { a href=(format!("/admin/users/{}", r.user)) { (r.user) } } }
                        td.evidence { (r.detail) }
                    }
                }
            }
        } }
    };
    Ok(admin.page("Alerts", "/admin/alerts", &[], body))
}
