//! Audit rows as the console shows them: who, through which application, what happened, with
//! the risk, the rule and the outcome where the event has them. The live feed sends these as
//! JSON; the pages render them as table rows.

use assent_core::Assent;
use assent_core::audit::export::AuditQuery;
use assent_core::clock::rfc3339;
use assent_core::ids::UserId;
use assent_core::model::AuditRecord;
use maud::{Markup, html};
use serde::Serialize;
use serde_json::Value;

/// The kinds the live feed and the charts follow: requests and what the defenses did.
pub(crate) const REQUEST_KINDS: [&str; 6] = [
    "approval_created",
    "approval_refused",
    "approval_decided",
    "admin_alert",
    "push_suspended",
    "user_event_reported",
];

/// One line of the feed.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub seq: u64,
    pub at: String,
    pub kind: String,
    pub user: String,
    pub app: String,
    pub risk: String,
    pub rule: String,
    pub outcome: String,
    pub detail: String,
}

fn text(data: &Value, key: &str) -> String {
    match data.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

async fn username(assent: &Assent, id: &str) -> String {
    match UserId::parse(id) {
        Some(id) => assent
            .username_for_id(&id)
            .await
            .map_or_else(|_| id.to_string(), |u| u.to_string()),
        None => String::new(),
    }
}

async fn app_name(assent: &Assent, id: &str) -> String {
    match assent.app_by_id(id).await {
        Ok(Some(app)) => app.name,
        _ => id.to_owned(),
    }
}

/// The row of an audit record, its names resolved.
pub(crate) async fn row(assent: &Assent, record: &AuditRecord) -> Row {
    let data: Value = serde_json::from_str(&record.data).unwrap_or(Value::Null);
    let mut row = Row {
        seq: record.seq,
        at: rfc3339(record.at),
        kind: record.kind.clone(),
        user: String::new(),
        app: String::new(),
        risk: text(&data, "risk_score"),
        rule: text(&data, "policy_rule"),
        outcome: String::new(),
        detail: String::new(),
    };
    if !text(&data, "user_id").is_empty() {
        row.user = username(assent, &text(&data, "user_id")).await;
    }
    if !text(&data, "app_id").is_empty() {
        row.app = app_name(assent, &text(&data, "app_id")).await;
    }
    match record.kind.as_str() {
        "approval_created" => {
            row.outcome = "prompted".into();
            row.detail = text(&data, "kind");
            let signals = data.get("risk_signals").and_then(Value::as_array);
            if let Some(signals) = signals.filter(|s| !s.is_empty()) {
                let names: Vec<String> = signals
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect();
                row.detail = format!("{} · {}", row.detail, names.join(", "));
            }
        }
        "approval_refused" => {
            row.outcome = "refused by policy".into();
            row.detail = text(&data, "kind");
        }
        "approval_decided" => {
            row.outcome = text(&data, "state");
            row.detail = text(&data, "reason");
            if let Ok(approval) = assent.approval_for_admin(&text(&data, "approval_id")).await {
                row.user = username(assent, approval.user_id.as_str()).await;
                row.app = app_name(assent, approval.app_id.as_str()).await;
                row.rule = approval.policy_rule.unwrap_or_default();
                row.risk = approval.risk.score.to_string();
            }
        }
        "admin_alert" => {
            row.outcome = text(&data, "detector");
            row.detail = text(&data, "evidence");
        }
        "push_suspended" => {
            row.outcome = "push suspended".into();
            let until = data
                .get("until")
                .and_then(Value::as_i64)
                .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
                .map(rfc3339)
                .unwrap_or_default();
            row.detail = format!(
                "{} · {} recent prompts · until {until}",
                text(&data, "reason"),
                text(&data, "recent_prompts")
            );
        }
        "user_event_reported" => {
            row.outcome = text(&data, "event_type");
            row.detail = text(&data, "message");
        }
        _ => {
            row.detail = record.subject.clone();
        }
    }
    row
}

/// The rows `query` selects from its `after` on, a page (100 rows) at a time, at most `pages`
/// pages; with the sequence number of the last row read, where a later scan goes on from.
pub(crate) async fn scan(
    assent: &Assent,
    mut query: AuditQuery,
    pages: usize,
) -> Result<(Vec<AuditRecord>, u64), assent_core::CoreError> {
    let mut found = Vec::new();
    for _ in 0..pages {
        let page = assent.search_audit(&query).await?;
        let Some(last) = page.last() else { break };
        query.after = last.seq;
        let full = page.len() == 100;
        found.extend(page);
        if !full {
            break;
        }
    }
    Ok((found, query.after))
}

/// The rows of several records, newest first.
pub(crate) async fn rows(assent: &Assent, records: &[AuditRecord]) -> Vec<Row> {
    let mut out = Vec::with_capacity(records.len());
    for record in records.iter().rev() {
        out.push(row(assent, record).await);
    }
    out
}

/// The table the feed and the pages share.
pub(crate) fn table(id: &str, rows: &[Row]) -> Markup {
    html! {
        div.scroll {
            table.feed #(id) {
                thead { tr {
                    th { "#" } th { "Time" } th { "Event" } th { "User" } th { "Application" }
                    th { "Risk" } th { "Rule" } th { "Outcome" } th { "Detail" }
                } }
                tbody {
                    @for r in rows { (table_row(r)) }
                }
            }
        }
    }
}

pub(crate) fn table_row(r: &Row) -> Markup {
    html! {
        tr data-seq=(r.seq) class=(format!("kind-{}", r.kind)) {
            td { (r.seq) } td { time { (r.at) } } td { (r.kind) } td { (r.user) } td { (r.app) }
            td { (r.risk) } td { (r.rule) } td.outcome { (r.outcome) } td { (r.detail) }
        }
    }
}
