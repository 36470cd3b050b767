//! Incidents: compose a broadcast to every user or a group, which each recipient must
//! acknowledge on a device (a signed statement), and follow who has and has not, with the
//! reminders sent.

use super::auth::{Admin, AdminForm};
use super::page::PageError;
use crate::http::AppState;
use assent_core::broadcasts::records::Audience;
use assent_core::broadcasts::{DEFAULT_REMINDER_INTERVAL, MAX_MESSAGE};
use assent_core::clock::rfc3339;
use assent_proto::ProblemCode;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

/// `GET /admin/incidents`
pub(crate) async fn incidents(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Response, PageError> {
    let sent = state.assent.broadcasts().await?;
    let groups = state.assent.list_groups().await?;
    let csrf = &admin.admin.csrf_token;
    let default_hours = DEFAULT_REMINDER_INTERVAL.whole_hours();
    let body = html! {
        h1 { "Incidents" }
        section {
            h2 { "Send a broadcast" }
            p.hint { "Every recipient gets it on every channel they have and must acknowledge it on a device; those who have not are reminded on a schedule." }
            form #compose method="post" action="/admin/incidents" {
                input type="hidden" name="csrf" value=(csrf);
                label for="message" { "Message" }
                textarea #message name="message" required maxlength=(MAX_MESSAGE)
                    placeholder="We had a security incident: change your password and review your recent activity." {}
                div.search {
                    label { "To " select name="group" {
                        option value="" { "every user" }
                        @for g in &groups { option value=(g.group.name) { "group " (g.group.name) } }
                    } }
                    label { "Remind every (hours) " input name="remind_hours" value=(default_hours) inputmode="numeric" maxlength="3"; }
                }
                button type="submit" { "Send to every device" }
            }
        }
        section {
            h2 { "Broadcasts" }
            div.scroll { table #broadcasts {
                thead { tr { th { "Sent" } th { "By" } th { "To" } th { "Acknowledged" } th { "Message" } } }
                tbody { @for b in &sent {
                    tr data-broadcast=(b.broadcast.id) {
                        td { a href=(format!("/admin/incidents/{}", b.broadcast.id)) { time { (rfc3339(b.broadcast.created_at)) } } }
                        td { (b.broadcast.created_by) }
                        td { @match &b.broadcast.audience { Audience::Everyone => "every user", Audience::Group(g) => { "group " (g) } } }
                        td.count { (b.acknowledged) " of " (b.recipients) }
                        td { (b.broadcast.message.chars().take(120).collect::<String>()) }
                    }
                } }
            } }
        }
    };
    Ok(admin.page("Incidents", "/admin/incidents", &[], body))
}

/// `POST /admin/incidents`: sends the broadcast, then shows who has acknowledged it.
pub(crate) async fn send(
    State(state): State<AppState>,
    form: AdminForm,
) -> Result<Response, PageError> {
    let audience = match form.field("group") {
        "" => Audience::Everyone,
        group => Audience::Group(group.to_owned()),
    };
    let hours = form.field("remind_hours");
    let interval = if hours.is_empty() {
        None
    } else {
        // A small type keeps a huge number from overflowing on its way to the bounds check.
        let hours: u16 = hours.parse().map_err(|_| {
            PageError::new(
                ProblemCode::InvalidRequest,
                "the reminder interval is a whole number of hours, at most 168",
            )
        })?;
        Some(time::Duration::hours(i64::from(hours)))
    };
    let sent = state
        .assent
        .create_broadcast(
            &form.admin.admin.principal().actor(),
            form.field("message"),
            audience,
            interval,
        )
        .await?;
    Ok(Redirect::to(&format!("/admin/incidents/{}", sent.broadcast.id)).into_response())
}

/// `GET /admin/incidents/{id}`: who has acknowledged, when and on which device; who has not.
pub(crate) async fn incident(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let detail = state.assent.broadcast(&id).await?;
    let b = &detail.summary.broadcast;
    let body = html! {
        // Followed as acknowledgements arrive, without a script.
        meta http-equiv="refresh" content="10";
        h1 { "Broadcast" }
        blockquote.card { (b.message) }
        p.hint { "Sent " time { (rfc3339(b.created_at)) } " by " (b.created_by)
            " · reminders every " (b.reminder_interval.whole_minutes()) " minutes" }
        p #ack-count { strong { (detail.summary.acknowledged) " of " (detail.summary.recipients) } " acknowledged" }
        div.scroll { table #recipients {
            thead { tr { th { "User" } th { "State" } th { "When" } th { "Device" } th { "Reminders sent" } } }
            tbody { @for r in &detail.recipients {
                tr data-user=(r.username) class=(if r.recipient.acknowledgement.is_some() { "acked" } else { "waiting" }) {
                    td { a href=(format!("/admin/users/{}", r.username)) { (r.username) } }
                    @match &r.recipient.acknowledgement {
                        Some(ack) => {
                            td.state { "acknowledged" }
                            td { time { (rfc3339(ack.at)) } }
                            td { (r.device_name.clone().unwrap_or_else(|| ack.device_id.to_string())) }
                        }
                        None => {
                            td.state { "not yet" }
                            td { "next reminder " time { (rfc3339(r.recipient.next_reminder_at)) } }
                            td {}
                        }
                    }
                    td { (r.recipient.reminders) }
                }
            } }
        } }
        p { a href="/admin/incidents" { "All broadcasts" } }
    };
    Ok(admin.page("Broadcast", "/admin/incidents", &[], body))
}
