//! The audit page: search by user, device, application, kind and time; the chain check with its
//! result; and the export of what the search selects.

use super::auth::{Admin, AdminForm};
use super::describe;
use super::page::PageError;
use crate::http::{AppState, AuditParams};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

/// Without `after`, the search covers this many of the newest rows.
const RECENT: u64 = 1_000;

/// The search form as a browser sends it: every field present, empty when unused.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    device: String,
    #[serde(default)]
    app: String,
    #[serde(default)]
    kind: String,
    /// Only the last this many hours.
    #[serde(default)]
    hours: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    format: String,
}

fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl AuditForm {
    fn params(&self, now: time::OffsetDateTime) -> Result<AuditParams, PageError> {
        let number = |what: &str, s: &str| -> Result<Option<u64>, PageError> {
            some(s)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| {
                        PageError::new(
                            assent_proto::ProblemCode::InvalidRequest,
                            format!("{what} is a whole number"),
                        )
                    })
                })
                .transpose()
        };
        let hours = number("hours", &self.hours)?;
        Ok(AuditParams {
            after: number("after", &self.after)?,
            limit: Some(200),
            since: hours
                .map(|h| now.unix_timestamp() - i64::try_from(h.min(100_000)).unwrap_or(0) * 3600),
            until: None,
            kind: some(&self.kind),
            user: some(&self.user),
            device: some(&self.device),
            app: some(&self.app),
            format: some(&self.format),
        })
    }

    /// The same search as a query string (from row `after` on, when given), for the links.
    fn query_string(&self, after: Option<u64>, format: Option<&str>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("user", &self.user),
            ("device", &self.device),
            ("app", &self.app),
            ("kind", &self.kind),
            ("hours", &self.hours),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        match after {
            Some(after) => {
                q.append_pair("after", &after.to_string());
            }
            None if !self.after.trim().is_empty() => {
                q.append_pair("after", self.after.trim());
            }
            None => {}
        }
        if let Some(format) = format {
            q.append_pair("format", format);
        }
        q.finish()
    }
}

fn search_form(form: &AuditForm) -> Markup {
    html! {
        form.search method="get" action="/admin/audit" {
            label { "User " input name="user" value=(form.user) maxlength="64"; }
            label { "Device id " input name="device" value=(form.device) maxlength="64"; }
            label { "Application id " input name="app" value=(form.app) maxlength="64"; }
            label { "Kind " input name="kind" value=(form.kind) maxlength="64" placeholder="approval_decided"; }
            label { "Last hours " input name="hours" value=(form.hours) inputmode="numeric" maxlength="6"; }
            label { "After # " input name="after" value=(form.after) inputmode="numeric" maxlength="19"; }
            button type="submit" { "Search" }
        }
    }
}

/// `GET /admin/audit`
pub(crate) async fn audit(
    State(state): State<AppState>,
    admin: Admin,
    Query(form): Query<AuditForm>,
) -> Result<Response, PageError> {
    let mut params = form.params(state.assent.now())?;
    if params.after.is_none() {
        // Without a starting row, the recent end of the log.
        params.after = Some(state.assent.audit_head_seq().await?.saturating_sub(RECENT));
    }
    let query = params
        .query()
        .map_err(|e| PageError::new(e.code(), "a search field is not valid: see its hint"))?;
    let records = state.assent.search_audit(&query).await?;
    let rows = describe::rows(&state.assent, &records).await;
    let next = records.last().map(|r| r.seq);
    let body = html! {
        h1 { "Audit" }
        section.chain {
            h2 { "The chain" }
            p { "Every row is hashed with the one before it: a changed, removed or inserted row breaks the chain from there." }
            form method="post" action="/admin/audit/verify" {
                input type="hidden" name="csrf" value=(admin.admin.csrf_token);
                button type="submit" { "Verify the whole chain" }
            }
        }
        section {
            h2 { "Search" }
            (search_form(&form))
            p.hint { (records.len()) " rows (at most 200 from row " (query.after + 1) " on; without “After #”, among the newest " (RECENT) "), newest first. "
                @if let Some(next) = next { @if records.len() == 200 {
                    a href=(format!("/admin/audit?{}", form.query_string(Some(next), None))) { "Next rows" }
                } }
            }
            p { "Export what this search selects: "
                a #export-jsonl href=(format!("/admin/audit/export?{}", form.query_string(None, Some("jsonl")))) { "JSON Lines" } " · "
                a #export-cef href=(format!("/admin/audit/export?{}", form.query_string(None, Some("cef")))) { "CEF" }
            }
            (describe::table("audit-rows", &rows))
        }
    };
    Ok(admin.page("Audit", "/admin/audit", &[], body))
}

/// `POST /admin/audit/verify`: checks the whole chain and shows the result.
pub(crate) async fn verify(
    State(state): State<AppState>,
    form: AdminForm,
) -> Result<Response, PageError> {
    let report = state.assent.verify_audit().await?;
    let body = html! {
        h1 { "Audit chain" }
        @if report.intact {
            p.ok #chain-result { "Intact: " (report.rows) " rows checked." }
        } @else {
            p.bad #chain-result { "BROKEN at row " (report.first_bad_seq.map(|s| s.to_string()).unwrap_or_default()) ": " (report.problem.clone().unwrap_or_default()) }
        }
        @if let (Some(seq), Some(hash)) = (report.head_seq, &report.head_hash) {
            p { "Head: row " (seq) ", hash " code { (hash) } }
            p.hint { "Keep the head (or a signed checkpoint, GET /v1/admin/audit/checkpoint) somewhere else: a log cut short after it no longer reaches it." }
        }
        p { a href="/admin/audit" { "Back to the audit log" } }
    };
    let admin = &form.admin;
    Ok(admin.page("Audit chain", "/admin/audit", &[], body))
}

/// `GET /admin/audit/export?…&format=jsonl|cef`: the search's rows, streamed.
pub(crate) async fn export(
    State(state): State<AppState>,
    _admin: Admin,
    Query(form): Query<AuditForm>,
) -> Result<Response, PageError> {
    let mut params = form.params(state.assent.now())?;
    params.limit = None;
    if params.after.is_none() {
        // What the search page shows: the newest rows.
        params.after = Some(state.assent.audit_head_seq().await?.saturating_sub(RECENT));
    }
    let cef = params.format.as_deref() == Some("cef");
    let mut response = crate::http::export_response(&state, params)
        .await
        .map(IntoResponse::into_response)
        .map_err(|e| {
            PageError::new(
                e.code(),
                "the export could not start: check the search fields",
            )
        })?;
    let (content_type, name) = if cef {
        ("text/plain; charset=utf-8", "assent-audit.cef")
    } else {
        ("application/x-ndjson", "assent-audit.jsonl")
    };
    super::page::secure_headers(&mut response, content_type);
    if let Ok(value) =
        axum::http::HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
    {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
