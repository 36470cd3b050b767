//! Access requests (for people and agents) and the break-glass grants no admin has reviewed,
//! with the review and the revocation of a grant.

use super::auth::{Admin, AdminForm};
use super::describe;
use super::page::PageError;
use crate::http::AppState;
use assent_core::audit::export::AuditQuery;
use assent_core::clock::rfc3339;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

/// How far back the list of recent access requests looks, in audit rows.
const LOOKBACK: u64 = 5_000;

/// `GET /admin/access`
pub(crate) async fn access(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Response, PageError> {
    let unreviewed = state.assent.unreviewed_break_glass().await?;
    let head = state.assent.audit_head_seq().await?;
    let mut recent = Vec::new();
    for kind in [
        "access_request_created",
        "access_request_ended",
        "access_grant_revoked",
    ] {
        let rows = state
            .assent
            .search_audit(&AuditQuery {
                after: head.saturating_sub(LOOKBACK),
                limit: Some(200),
                kind: Some(kind.into()),
                ..AuditQuery::default()
            })
            .await?;
        recent.extend(rows);
    }
    recent.sort_by_key(|r| r.seq);
    let rows = describe::rows(&state.assent, &recent).await;
    let csrf = &admin.admin.csrf_token;
    let mut names = Vec::new();
    for request in &unreviewed {
        names.push(
            state
                .assent
                .username_for_id(&request.requester)
                .await?
                .to_string(),
        );
    }
    let body = html! {
        h1 { "Access" }
        section {
            h2 { "Break-glass grants to review" }
            @if unreviewed.is_empty() { p.hint #no-break-glass { "None: every break-glass grant has been reviewed." } }
            @for (request, who) in unreviewed.iter().zip(&names) {
                div.card data-access=(request.id) {
                    p { strong { (who) } " · " (request.justification) }
                    p.hint { "Granted " (request.decided_at.map(rfc3339).unwrap_or_default())
                        " · reason " (request.break_glass.as_ref().map(|b| b.reason.as_str()).unwrap_or("")) }
                    form.inline method="post" action=(format!("/admin/access/{}/review", request.id)) {
                        input type="hidden" name="csrf" value=(csrf);
                        input name="note" maxlength="500" placeholder="What was done and why it was right" aria-label="Review note";
                        button type="submit" { "Mark reviewed" }
                    }
                    form.inline method="post" action=(format!("/admin/access/{}/revoke", request.id)) {
                        input type="hidden" name="csrf" value=(csrf);
                        button.danger type="submit" { "Revoke the grant" }
                    }
                }
            }
        }
        section {
            h2 { "Recent access requests" }
            (describe::table("access-rows", &rows))
        }
    };
    Ok(admin.page("Access", "/admin/access", &[], body))
}

/// `POST /admin/access/{id}/review`
pub(crate) async fn review(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> Result<Response, PageError> {
    state
        .assent
        .review_break_glass(&form.admin.admin.principal(), &id, form.field("note"))
        .await?;
    Ok(Redirect::to("/admin/access").into_response())
}

/// `POST /admin/access/{id}/revoke`
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> Result<Response, PageError> {
    state
        .assent
        .revoke_grant_as_admin(&form.admin.admin.principal(), &id)
        .await?;
    Ok(Redirect::to("/admin/access").into_response())
}
