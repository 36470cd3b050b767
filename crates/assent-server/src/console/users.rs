//! Users and devices: search, one user's devices (channel, last seen, state), factors, groups
//! and history, and what an admin does about them (revoke or rename a device, lift a push
//! suspension).

use super::auth::{Admin, AdminForm};
use super::describe;
use super::page::PageError;
use crate::http::AppState;
use assent_core::audit::export::AuditQuery;
use assent_core::clock::rfc3339;
use assent_core::ids::Username;
use assent_proto::states::DeviceState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    q: String,
}

/// `GET /admin/users?q=`
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(Search { q }): Query<Search>,
) -> Result<Response, PageError> {
    let needle = q.trim().to_lowercase();
    let devices = state.assent.list_devices(None).await?;
    let users: Vec<_> = state
        .assent
        .list_users()
        .await?
        .into_iter()
        .filter(|u| needle.is_empty() || u.username.as_str().contains(&needle))
        .take(500)
        .collect();
    let mut active: std::collections::HashMap<&assent_core::ids::UserId, usize> =
        std::collections::HashMap::new();
    for (d, _) in &devices {
        if d.state == DeviceState::Active {
            *active.entry(&d.user_id).or_default() += 1;
        }
    }
    let body = html! {
        h1 { "Users" }
        form.search method="get" action="/admin/users" {
            label for="q" { "Find a user" }
            input #q name="q" value=(q) type="search" maxlength="64";
            button type="submit" { "Search" }
        }
        div.scroll { table #users {
            thead { tr { th { "User" } th { "Active devices" } th { "Created" } } }
            tbody {
                @for u in &users {
                    tr {
                        td { a href=(format!("/admin/users/{}", u.username)) { (u.username) } }
                        td { (active.get(&u.id).copied().unwrap_or(0)) }
                        td { time { (rfc3339(u.created_at)) } }
                    }
                }
            }
        } }
    };
    Ok(admin.page("Users", "/admin/users", &[], body))
}

/// `GET /admin/users/{username}`
pub(crate) async fn user(
    State(state): State<AppState>,
    admin: Admin,
    Path(username): Path<String>,
) -> Result<Response, PageError> {
    let principal = admin.admin.principal();
    let factors = state.assent.user_factors(&principal, &username).await?;
    let user = factors.user.clone();
    let groups = state.assent.groups_of(&user.id).await?;
    // Every device, revoked ones too (the factor summary lists only the usable ones).
    let devices: Vec<_> = state
        .assent
        .list_devices(Some(user.username.as_str()))
        .await?
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    let mut channels = Vec::new();
    for d in &devices {
        channels.push(state.assent.device_push_channel(&d.id).await?);
    }
    let head = state.assent.audit_head_seq().await?;
    let history = state
        .assent
        .search_audit(&AuditQuery {
            after: head.saturating_sub(2_000),
            limit: Some(1_000),
            user: Some(Username::parse(&username)?),
            ..AuditQuery::default()
        })
        .await?;
    let history: Vec<_> = history.into_iter().rev().take(50).rev().collect();
    let rows = describe::rows(&state.assent, &history).await;
    let csrf = &admin.admin.csrf_token;
    let body = html! {
        h1 { "User " (user.username) }
        p { "Groups: " @if groups.is_empty() { "none" } @else { (groups.join(", ")) } }
        section {
            h2 { "Devices" }
            div.scroll { table #devices {
                thead { tr { th { "Name" } th { "Platform" } th { "Channel" } th { "Last seen" } th { "State" } th { "Actions" } } }
                tbody {
                    @for (d, channel) in devices.iter().zip(&channels) {
                        tr data-device=(d.id) {
                            td { (d.name) }
                            td { (d.platform) }
                            td { (channel.as_deref().unwrap_or("stream only")) }
                            td { (d.last_seen_at.map(rfc3339).unwrap_or_else(|| "never".into())) }
                            td.state { (d.state.as_str()) }
                            td.actions {
                                @if d.state != DeviceState::Revoked {
                                    form method="post" action=(format!("/admin/devices/{}/revoke", d.id)) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button.danger type="submit" { "Revoke" }
                                    }
                                    form.inline method="post" action=(format!("/admin/devices/{}/rename", d.id)) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input name="name" value=(d.name) maxlength="64" aria-label="New name";
                                        button type="submit" { "Rename" }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
        section {
            h2 { "Factors" }
            ul {
                li { "Push: " (if factors.push_available { "available" } else { "unavailable" }) }
                @if let Some(until) = factors.suspended_until {
                    li.alert { "Push suspended until " time { (rfc3339(until)) }
                        form.inline method="post" action=(format!("/admin/users/{}/lift-suspension", user.username)) {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Lift the suspension" }
                        }
                    }
                } @else {
                    li { form.inline method="post" action=(format!("/admin/users/{}/suspend", user.username)) {
                        input type="hidden" name="csrf" value=(csrf);
                        label { "Pause push for " input name="minutes" value="60" inputmode="numeric" maxlength="4" size="4"; " minutes" }
                        button.danger type="submit" { "Suspend push" }
                    } }
                }
                li { "TOTP: " (if factors.totp_enrolled { "enrolled" } else { "not enrolled" })
                    @if factors.totp_enrolled {
                        form.inline method="post" action=(format!("/admin/users/{}/remove-totp", user.username)) {
                            input type="hidden" name="csrf" value=(csrf);
                            button.danger type="submit" { "Remove TOTP" }
                        }
                    }
                }
                li { "Recovery codes left: " (factors.recovery_codes_left)
                    form.inline method="post" action=(format!("/admin/users/{}/recovery-codes", user.username)) {
                        input type="hidden" name="csrf" value=(csrf);
                        button.danger type="submit" { "Replace the recovery codes" }
                    }
                }
            }
        }
        section {
            h2 { "History" }
            (describe::table("history", &rows))
        }
    };
    Ok(admin.page(
        &format!("User {}", user.username),
        "/admin/users",
        &[],
        body,
    ))
}

fn back_to(form: &AdminForm, fallback: &str) -> Response {
    let back = form.field("back");
    let target = if back.starts_with("/admin/") && !back.starts_with("//") {
        back
    } else {
        fallback
    };
    Redirect::to(target).into_response()
}

/// `POST /admin/devices/{id}/revoke`
pub(crate) async fn revoke_device(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> Result<Response, PageError> {
    let device = state
        .assent
        .revoke_device(form.admin.admin.principal().actor(), &id)
        .await?;
    let owner = state.assent.username_for_id(&device.user_id).await?;
    Ok(back_to(&form, &format!("/admin/users/{owner}")))
}

/// `POST /admin/devices/{id}/rename`
pub(crate) async fn rename_device(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> Result<Response, PageError> {
    let device = state
        .assent
        .rename_device_as_admin(&form.admin.admin.principal(), &id, form.field("name"))
        .await?;
    let owner = state.assent.username_for_id(&device.user_id).await?;
    Ok(back_to(&form, &format!("/admin/users/{owner}")))
}

/// `POST /admin/users/{username}/remove-totp`: a lost or exposed authenticator app; the user
/// can enroll a new one.
pub(crate) async fn remove_totp(
    State(state): State<AppState>,
    Path(username): Path<String>,
    form: AdminForm,
) -> Result<Response, PageError> {
    state
        .assent
        .remove_totp(&form.admin.admin.principal(), &username)
        .await?;
    Ok(back_to(&form, &format!("/admin/users/{username}")))
}

/// `POST /admin/users/{username}/recovery-codes`: a new set, shown to the admin once to hand
/// over; every earlier code stops working.
pub(crate) async fn recovery_codes(
    State(state): State<AppState>,
    Path(username): Path<String>,
    form: AdminForm,
) -> Result<Response, PageError> {
    let codes = state
        .assent
        .recovery_codes_for(&form.admin.admin.principal(), &username)
        .await?;
    let body = html! {
        h1 { "New recovery codes for " (username) }
        p { "Every earlier code of this user stopped working. Hand these over in person or through a channel you trust; they are shown only this once." }
        ol.secret #recovery-codes { @for c in &codes { li { code { (c) } } } }
        p { a href=(format!("/admin/users/{username}")) { "Back to " (username) } }
    };
    let admin = &form.admin;
    Ok(admin.page("New recovery codes", "/admin/users", &[], body))
}

/// `POST /admin/users/{username}/suspend`: pauses push for the user (1 minute to 24 hours).
pub(crate) async fn suspend(
    State(state): State<AppState>,
    Path(username): Path<String>,
    form: AdminForm,
) -> Result<Response, PageError> {
    let minutes: u16 = form.field("minutes").parse().map_err(|_| {
        PageError::new(
            assent_proto::ProblemCode::InvalidRequest,
            "the suspension is a whole number of minutes, 1 to 1440",
        )
    })?;
    state
        .assent
        .suspend_push_as_admin(
            &form.admin.admin.principal(),
            &username,
            time::Duration::minutes(i64::from(minutes)),
        )
        .await?;
    Ok(back_to(&form, &format!("/admin/users/{username}")))
}

/// `POST /admin/users/{username}/lift-suspension`
pub(crate) async fn lift_suspension(
    State(state): State<AppState>,
    Path(username): Path<String>,
    form: AdminForm,
) -> Result<Response, PageError> {
    state
        .assent
        .lift_push_suspension(&form.admin.admin.principal(), &username)
        .await?;
    Ok(back_to(&form, &format!("/admin/users/{username}")))
}
