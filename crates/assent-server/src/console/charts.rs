//! Charts over time, drawn on the server as SVG (no script, no chart library): prompts,
//! approvals, denials, fraud reports, expiries and suspensions per hour, and the approval
//! latency. They are counted from the audit log, so they cover every node.

use super::auth::Admin;
use super::page::PageError;
use crate::http::AppState;
use assent_core::audit::export::{AuditQuery, MAX_PAGE};
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use time::{Duration, OffsetDateTime};

/// The most audit rows one chart page reads.
const MAX_ROWS: usize = 100_000;

#[derive(Deserialize)]
pub(crate) struct Range {
    /// Hours shown: 24 (the default) or 168.
    #[serde(default)]
    hours: Option<u32>,
}

/// Counts per bucket of each series, and the approval latencies per bucket.
struct Counts {
    start: OffsetDateTime,
    bucket: Duration,
    buckets: usize,
    series: HashMap<&'static str, Vec<u64>>,
    latency_ms: Vec<Vec<i64>>,
    truncated: bool,
}

const SERIES: [(&str, &str); 6] = [
    ("prompts", "Prompts"),
    ("approvals", "Approvals"),
    ("denials", "Denials"),
    ("fraud", "Fraud reports"),
    ("expiries", "Expiries"),
    ("suspensions", "Suspensions"),
];

impl Counts {
    fn new(start: OffsetDateTime, bucket: Duration, buckets: usize) -> Self {
        Counts {
            start,
            bucket,
            buckets,
            series: SERIES.iter().map(|(k, _)| (*k, vec![0; buckets])).collect(),
            latency_ms: vec![Vec::new(); buckets],
            truncated: false,
        }
    }

    fn slot(&self, at: OffsetDateTime) -> Option<usize> {
        let offset = (at - self.start).whole_milliseconds();
        let size = self.bucket.whole_milliseconds();
        (offset >= 0)
            .then(|| usize::try_from(offset / size).ok())
            .flatten()
            .filter(|i| *i < self.buckets)
    }

    fn add(&mut self, series: &'static str, at: OffsetDateTime) {
        if let Some(i) = self.slot(at)
            && let Some(values) = self.series.get_mut(series)
        {
            values[i] += 1;
        }
    }
}

async fn count(state: &AppState, hours: u32) -> Result<Counts, PageError> {
    let now = state.assent.now();
    let buckets: usize = if hours > 24 { 28 } else { 24 };
    let bucket = Duration::hours(i64::from(hours)) / u32::try_from(buckets).unwrap_or(24);
    let start = now - bucket * u32::try_from(buckets).unwrap_or(24);
    let mut counts = Counts::new(start, bucket, buckets);
    let mut created: HashMap<String, OffsetDateTime> = HashMap::new();
    // The window's rows are among the newest ones: start that many rows back rather than
    // scanning the log from its first row for the time.
    let head = state.assent.audit_head_seq().await?;
    let mut query = AuditQuery {
        after: head.saturating_sub(MAX_ROWS as u64),
        since: Some(start),
        limit: Some(MAX_PAGE),
        ..AuditQuery::default()
    };
    let mut read = 0;
    loop {
        let rows = state.assent.search_audit(&query).await?;
        let Some(last) = rows.last() else { break };
        query.after = last.seq;
        read += rows.len();
        for row in &rows {
            let data: Value = serde_json::from_str(&row.data).unwrap_or(Value::Null);
            let field = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or("");
            match row.kind.as_str() {
                "approval_created" => {
                    counts.add("prompts", row.at);
                    created.insert(field("approval_id").to_owned(), row.at);
                }
                "approval_decided" => match field("state") {
                    "approved" => {
                        counts.add("approvals", row.at);
                        if let (Some(i), Some(asked)) =
                            (counts.slot(row.at), created.get(field("approval_id")))
                        {
                            counts.latency_ms[i]
                                .push((row.at - *asked).whole_milliseconds() as i64);
                        }
                    }
                    "denied" if field("reason") == "reported_as_fraud" => {
                        counts.add("denials", row.at);
                        counts.add("fraud", row.at);
                    }
                    "denied" => counts.add("denials", row.at),
                    "expired" => counts.add("expiries", row.at),
                    _ => {}
                },
                "push_suspended" => counts.add("suspensions", row.at),
                "admin_alert" if field("detector") == "reported_from_activity" => {
                    counts.add("fraud", row.at);
                }
                _ => {}
            }
        }
        if rows.len() < MAX_PAGE as usize {
            break;
        }
        if read >= MAX_ROWS {
            counts.truncated = true;
            break;
        }
    }
    Ok(counts)
}

/// A bar chart of one series.
fn bars(title: &str, values: &[u64], labels: &[String], bad: bool) -> Markup {
    let (width, height, top, bottom) = (480.0_f64, 140.0_f64, 14.0_f64, 18.0_f64);
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = width / values.len().max(1) as f64;
    let total: u64 = values.iter().sum();
    html! {
        figure.card {
            figcaption { strong { (title) } " · " (total) " in all" }
            svg.chart viewBox=(format!("0 0 {width} {height}")) role="img" aria-label=(format!("{title}: {total}")) {
                @for (i, v) in values.iter().enumerate() {
                    @let h = (*v as f64 / max) * (height - top - bottom);
                    rect class=(if bad { "bar bad" } else { "bar" })
                        x=(format!("{:.1}", i as f64 * step + 1.0)) y=(format!("{:.1}", height - bottom - h))
                        width=(format!("{:.1}", (step - 2.0).max(1.0))) height=(format!("{h:.1}")) {
                        title { (labels[i]) ": " (v) }
                    }
                }
                text x="0" y="10" { "max " (max as u64) }
                text x="0" y=(height - 4.0) { (labels.first().cloned().unwrap_or_default()) }
                text x=(width - 60.0) y=(height - 4.0) { (labels.last().cloned().unwrap_or_default()) }
            }
        }
    }
}

fn percentile(values: &[i64], p: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// `GET /admin/charts?hours=24|168`
pub(crate) async fn charts(
    State(state): State<AppState>,
    admin: Admin,
    Query(range): Query<Range>,
) -> Result<Response, PageError> {
    let hours = match range.hours {
        Some(168) => 168,
        _ => 24,
    };
    let counts = count(&state, hours).await?;
    let labels: Vec<String> = (0..counts.buckets)
        .map(|i| {
            let at = counts.start + counts.bucket * u32::try_from(i).unwrap_or(0);
            format!(
                "{:02}-{:02} {:02}:00",
                u8::from(at.month()),
                at.day(),
                at.hour()
            )
        })
        .collect();
    let p50: Vec<u64> = counts
        .latency_ms
        .iter()
        .map(|l| percentile(l, 0.5).map_or(0, |v| u64::try_from(v).unwrap_or(0)))
        .collect();
    let all: Vec<i64> = counts.latency_ms.iter().flatten().copied().collect();
    let body = html! {
        h1 { "Charts" }
        p.hint {
            "The last " (hours) " hours, counted from the audit log. "
            @if hours == 24 { a href="/admin/charts?hours=168" { "Show 7 days" } }
            @else { a href="/admin/charts" { "Show 24 hours" } }
            @if counts.truncated { " (only the newest " (MAX_ROWS) " rows of the log were read)" }
        }
        div.grid {
            @for (key, title) in SERIES {
                (bars(title, &counts.series[key], &labels, matches!(key, "denials" | "fraud" | "suspensions")))
            }
            (bars("Approval latency, median ms", &p50, &labels, false))
        }
        p #latency { "Approval latency over the period: "
            @match (percentile(&all, 0.5), percentile(&all, 0.99)) {
                (Some(p50), Some(p99)) => { "p50 " (p50) " ms, p99 " (p99) " ms over " (all.len()) " approvals." }
                _ => "no approvals yet.",
            }
        }
    };
    Ok(admin.page("Charts", "/admin/charts", &[], body))
}
