//! The audit log for admins: a paged search, an export streamed as JSON Lines or CEF (resumable
//! by sequence number), and a signed checkpoint of the chain's head.

use crate::error::ApiError;
use crate::extract::{AdminAuth, ApiQuery};
use crate::http::AppState;
use assent_core::audit::export::{AuditQuery, MAX_PAGE, cef_line, hex, json_line};
use assent_core::clock::rfc3339;
use assent_core::ids::Username;
use assent_core::model::AuditRecord;
use assent_proto::ProblemCode;
use assent_proto::api::{AuditCheckpoint, AuditEventView, AuditPage};
use assent_proto::problem::Problem;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::OffsetDateTime;

/// What selects rows, for the search and the export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    /// Rows after this sequence number (0 by default): resume where a page or an export ended.
    #[param(minimum = 0, maximum = 9223372036854775807i64)]
    pub(crate) after: Option<u64>,
    /// Most rows in the page, 1 to 1000 (100 by default). The export ignores it.
    #[param(minimum = 1, maximum = 1000)]
    pub(crate) limit: Option<u32>,
    /// Rows at or after this instant, Unix seconds.
    #[param(minimum = 0, maximum = 253402300799i64)]
    pub(crate) since: Option<i64>,
    /// Rows before this instant, Unix seconds.
    #[param(minimum = 0, maximum = 253402300799i64)]
    pub(crate) until: Option<i64>,
    /// Rows of this kind (`approval_decided`, `admin_alert`, …).
    #[param(min_length = 1, max_length = 64)]
    pub(crate) kind: Option<String>,
    /// Rows about this user (by name): their subject, or the user named in the event.
    #[param(pattern = r"^[A-Za-z0-9._@+-]{1,64}$")]
    pub(crate) user: Option<String>,
    /// Rows about this device (by id).
    #[param(min_length = 1, max_length = 64)]
    pub(crate) device: Option<String>,
    /// Rows about this application (by id).
    #[param(min_length = 1, max_length = 64)]
    pub(crate) app: Option<String>,
    /// The export's format: `jsonl` (the default) or `cef`. The search ignores it.
    #[param(pattern = r"^(jsonl|cef)$")]
    pub(crate) format: Option<String>,
}

fn instant(name: &str, value: Option<i64>) -> Result<Option<OffsetDateTime>, ApiError> {
    value
        .map(|v| {
            OffsetDateTime::from_unix_timestamp(v)
                .ok()
                .filter(|_| v >= 0)
                .ok_or_else(|| {
                    ApiError::new(
                        ProblemCode::InvalidRequest,
                        format!("{name} is a time in Unix seconds, 0 to 253402300799"),
                    )
                })
        })
        .transpose()
}

fn short(name: &str, value: &Option<String>) -> Result<(), ApiError> {
    match value {
        Some(v) if v.is_empty() || v.len() > 64 => Err(ApiError::new(
            ProblemCode::InvalidRequest,
            format!("{name} is 1 to 64 characters"),
        )),
        _ => Ok(()),
    }
}

impl AuditParams {
    /// The query, every parameter checked (both calls check all of them, whichever they use).
    pub(crate) fn query(&self) -> Result<AuditQuery, ApiError> {
        if self.after.is_some_and(|a| i64::try_from(a).is_err()) {
            return Err(ApiError::new(
                ProblemCode::InvalidRequest,
                "after is a sequence number, 0 to 9223372036854775807",
            ));
        }
        if self.limit.is_some_and(|l| !(1..=MAX_PAGE).contains(&l)) {
            return Err(ApiError::new(
                ProblemCode::InvalidRequest,
                format!("limit is 1 to {MAX_PAGE}"),
            ));
        }
        if self
            .format
            .as_deref()
            .is_some_and(|f| f != "jsonl" && f != "cef")
        {
            return Err(ApiError::new(
                ProblemCode::InvalidRequest,
                "format is jsonl or cef",
            ));
        }
        for (name, value) in [
            ("kind", &self.kind),
            ("device", &self.device),
            ("app", &self.app),
        ] {
            short(name, value)?;
        }
        Ok(AuditQuery {
            after: self.after.unwrap_or(0),
            limit: self.limit,
            since: instant("since", self.since)?,
            until: instant("until", self.until)?,
            kind: self.kind.clone(),
            user: self.user.as_deref().map(Username::parse).transpose()?,
            device: self.device.clone(),
            app: self.app.clone(),
        })
    }
}

fn view(record: &AuditRecord) -> AuditEventView {
    AuditEventView {
        seq: record.seq,
        at: rfc3339(record.at),
        kind: record.kind.clone(),
        actor: record.actor.clone(),
        subject: record.subject.clone(),
        data: serde_json::from_str(&record.data).unwrap_or_default(),
        prev_hash: hex(&record.prev_hash),
        hash: hex(&record.hash),
    }
}

/// Search the audit log: rows by user, device, application, kind and time, in sequence order.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin", params(AuditParams),
    security(("api_key" = [])),
    responses((status = 200, body = AuditPage), (status = "4XX", body = Problem)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let query = params.query()?;
    let rows = state.assent.search_audit(&query).await?;
    let next_after = rows.last().map_or(query.after, |r| r.seq);
    Ok(Json(AuditPage {
        events: rows.iter().map(view).collect(),
        next_after,
    }))
}

/// Export the audit log: every row the parameters select, from `after` to the head as it was
/// when the export began, one per line, as JSON Lines or CEF.
#[utoipa::path(get, path = "/v1/admin/audit/export", tag = "admin", params(AuditParams),
    security(("api_key" = [])),
    responses((status = 200, content_type = "application/x-ndjson", description = "JSON Lines, or CEF lines (text/plain) with format=cef"),
        (status = "4XX", body = Problem)))]
pub(crate) async fn export(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    export_response(&state, params).await
}

/// The export's answer, for the API and the console alike.
pub(crate) async fn export_response(
    state: &AppState,
    params: AuditParams,
) -> Result<Response, ApiError> {
    let mut query = params.query()?;
    let cef = params.format.as_deref() == Some("cef");
    query.limit = Some(MAX_PAGE);
    // Checked (an unknown user is refused) before the answer starts.
    let first = state.assent.search_audit(&query).await?;
    let head = state
        .assent
        .store()
        .audit_head()
        .await
        .map_err(assent_core::CoreError::from)?
        .unwrap_or(0);
    let version = env!("CARGO_PKG_VERSION");
    let render = move |rows: &[AuditRecord]| -> Bytes {
        let mut out = String::new();
        for row in rows.iter().filter(|r| r.seq <= head) {
            out.push_str(&if cef {
                cef_line(row, version)
            } else {
                json_line(row)
            });
            out.push('\n');
        }
        Bytes::from(out)
    };
    let assent = state.assent.clone();
    let pages = futures_util::stream::unfold(
        (Some(first), query, false),
        move |(ready, mut query, done)| {
            let assent = assent.clone();
            async move {
                if done {
                    return None;
                }
                let rows = match ready {
                    Some(rows) => rows,
                    None => match assent.search_audit(&query).await {
                        Ok(rows) => rows,
                        Err(e) => {
                            // The answer has begun: abort it, so the client sees an error and
                            // not a short export that looks complete.
                            tracing::error!(error = %e, "audit export cut short");
                            let failed = std::io::Error::other("the audit export failed");
                            return Some((Err(failed), (None, query, true)));
                        }
                    },
                };
                let last = rows.last().map(|r| r.seq);
                let finished = last.is_none_or(|seq| seq >= head) || rows.len() < MAX_PAGE as usize;
                query.after = last.unwrap_or(query.after);
                Some((Ok(render(&rows)), (None, query, finished)))
            }
        },
    );
    let content_type = if cef {
        "text/plain; charset=utf-8"
    } else {
        "application/x-ndjson"
    };
    Ok(([(CONTENT_TYPE, content_type)], Body::from_stream(pages)).into_response())
}

/// A signed checkpoint of the chain's head, to keep outside Assent: `assent audit verify
/// --checkpoint` later proves the log still holds that row.
#[utoipa::path(get, path = "/v1/admin/audit/checkpoint", tag = "admin",
    security(("api_key" = [])),
    responses((status = 200, body = AuditCheckpoint), (status = "4XX", body = Problem)))]
pub(crate) async fn checkpoint(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<AuditCheckpoint>, ApiError> {
    let (jws, claims) = state.assent.audit_checkpoint().await?;
    Ok(Json(AuditCheckpoint {
        checkpoint: jws,
        seq: claims.seq,
        hash: claims.hash,
        at: OffsetDateTime::from_unix_timestamp(claims.at)
            .map(rfc3339)
            .unwrap_or_default(),
    }))
}
