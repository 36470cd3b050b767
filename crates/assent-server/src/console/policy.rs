//! The policy page: the rules in force, in order, and a dry run ("why would this be asked?")
//! that scores and decides a request as a real one would be, without writing or prompting.

use super::auth::Admin;
use super::page::PageError;
use crate::http::AppState;
use assent_core::risk::dry_run::TryRequest;
use assent_core::risk::policy::OutcomeKind;
use assent_proto::states::ApprovalKind;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

/// The dry-run form as a browser sends it; empty fields are unused.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DryRunForm {
    #[serde(default)]
    app: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    ip: String,
}

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.chars().take(200).collect())
}

fn kind_of(s: &str) -> ApprovalKind {
    match s {
        "transaction" => ApprovalKind::Transaction,
        "access" => ApprovalKind::Access,
        "agent_action" => ApprovalKind::AgentAction,
        _ => ApprovalKind::Login,
    }
}

async fn result(state: &AppState, form: &DryRunForm) -> Markup {
    let request = TryRequest {
        app: form.app.trim().to_owned(),
        user: form.user.trim().to_owned(),
        kind: kind_of(&form.kind),
        amount: optional(&form.amount),
        ip: optional(&form.ip),
        user_agent: None,
    };
    match state.assent.dry_run(&request).await {
        Err(e) => html! { p.bad #dry-run-result { (PageError::from(e).detail) } },
        Ok(run) => {
            let outcome = &run.decision.outcome;
            let verdict = match outcome.kind {
                OutcomeKind::Allow => "allowed without a prompt".to_owned(),
                OutcomeKind::Deny => format!(
                    "refused: {}",
                    outcome
                        .message
                        .clone()
                        .unwrap_or_else(|| "refused by policy".into())
                ),
                OutcomeKind::Push => {
                    let mut parts = vec!["a push".to_owned()];
                    if outcome.number_matching {
                        parts.push("with number matching".into());
                    }
                    if outcome.user_verification {
                        parts.push("with user verification".into());
                    }
                    if outcome.approvals > 1 {
                        parts.push(format!("and {} approvals in all", outcome.approvals));
                    }
                    if outcome.relying_party_passkey {
                        parts.push("after a passkey at the application".into());
                    }
                    parts.join(" ")
                }
            };
            let facts = serde_json::to_string_pretty(&run.facts).unwrap_or_default();
            html! {
                div #dry-run-result {
                    p { "Rule " strong { (run.decision.rule) } " (" code { (run.decision.condition) } ") decides: " strong { (verdict) } "." }
                    p { "Risk " strong { (run.risk.score) } "/100"
                        @if run.risk.reasons.is_empty() { ", no signal." } @else { ":" } }
                    @if !run.risk.reasons.is_empty() {
                        ul { @for r in &run.risk.reasons { li { (r.signal) " +" (r.points) ": " (r.detail) } } }
                    }
                    p.hint { (run.active_devices) " active device(s)." }
                    details { summary { "The facts the conditions saw" } pre { (facts) } }
                }
            }
        }
    }
}

/// `GET /admin/policy` (with the dry-run fields, the dry run's result too)
pub(crate) async fn policy(
    State(state): State<AppState>,
    admin: Admin,
    Query(form): Query<DryRunForm>,
) -> Result<Response, PageError> {
    let rules = state.assent.policy().rules();
    let tried = !form.user.trim().is_empty();
    let outcome = if tried {
        Some(result(&state, &form).await)
    } else {
        None
    };
    let body = html! {
        h1 { "Policy" }
        section {
            h2 { "Why would this be asked?" }
            form.search method="get" action="/admin/policy" {
                label { "Application " input name="app" value=(form.app) required maxlength="100"; }
                label { "User " input name="user" value=(form.user) required maxlength="64"; }
                label { "Kind " select name="kind" {
                    @for k in ["login", "transaction", "access", "agent_action"] {
                        option value=(k) selected[form.kind == k] { (k) }
                    }
                } }
                label { "Amount " input name="amount" value=(form.amount) maxlength="32" placeholder="1500.00"; }
                label { "From IP " input name="ip" value=(form.ip) maxlength="45" placeholder="203.0.113.7"; }
                button type="submit" { "Try it" }
            }
            @if let Some(outcome) = outcome { (outcome) }
        }
        section {
            h2 { "The rules in force" }
            p.hint { "Tried in order; the first whose condition holds decides." }
            div.scroll { table #rules {
                thead { tr { th { "Line" } th { "Rule" } th { "When" } } }
                tbody { @for (name, when, line) in &rules {
                    tr { td { (line) } td { (name) } td { code { (when) } } }
                } }
            } }
        }
    };
    Ok(admin.page("Policy", "/admin/policy", &[], body))
}
