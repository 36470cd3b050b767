//! Applications and their API keys: create an application, rotate its key (the new key is
//! shown once; the old ones stop working at that moment, on every node), revoke a key.

use super::auth::{Admin, AdminForm};
use super::page::PageError;
use crate::http::AppState;
use assent_core::clock::rfc3339;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

/// `GET /admin/apps`
pub(crate) async fn apps(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Response, PageError> {
    let apps = state.assent.apps_with_keys().await?;
    let csrf = &admin.admin.csrf_token;
    let body = html! {
        h1 { "Applications" }
        form.inline method="post" action="/admin/apps" {
            input type="hidden" name="csrf" value=(csrf);
            label for="app-name" { "New application" }
            input #app-name name="name" required maxlength="100";
            button type="submit" { "Create" }
        }
        @for entry in &apps {
            section.app data-app=(entry.app.id) {
                h2 { (entry.app.name) }
                p.hint { "id " code { (entry.app.id) } " · created " time { (rfc3339(entry.app.created_at)) } }
                @if state.assent.is_console_app(&entry.app) {
                    p.hint { "The console's own application: it signs admins in and takes no API key." }
                } @else {
                    form.inline method="post" action=(format!("/admin/apps/{}/rotate", entry.app.id)) {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { "Rotate the key" }
                    }
                    div.scroll { table.keys {
                        thead { tr { th { "Key id" } th { "Created" } th { "State" } th { "" } } }
                        tbody {
                            @for key in &entry.keys {
                                tr data-key=(key.id) {
                                    td { code { (key.id) } }
                                    td { time { (rfc3339(key.created_at)) } }
                                    td.state { @match key.revoked_at {
                                        Some(at) => { "revoked " time { (rfc3339(at)) } }
                                        None => "active",
                                    } }
                                    td { @if key.revoked_at.is_none() {
                                        form method="post" action=(format!("/admin/keys/{}/revoke", key.id)) {
                                            input type="hidden" name="csrf" value=(csrf);
                                            button.danger type="submit" { "Revoke" }
                                        }
                                    } }
                                }
                            }
                        }
                    } }
                }
            }
        }
    };
    Ok(admin.page("Applications", "/admin/apps", &[], body))
}

/// The page that shows a new key, the one time it is shown.
fn key_shown(admin: &Admin, app: &str, key_id: &str, key: &str, note: Markup) -> Response {
    let body = html! {
        h1 { "New API key for " (app) }
        p { "Copy it now: Assent keeps only its hash and will not show it again." }
        p.secret { code #new-api-key { (key) } }
        p.hint { "Key id " code { (key_id) } }
        (note)
        p { a href="/admin/apps" { "Back to the applications" } }
    };
    admin.page("New API key", "/admin/apps", &[], body)
}

/// `POST /admin/apps`
pub(crate) async fn create(
    State(state): State<AppState>,
    form: AdminForm,
) -> Result<Response, PageError> {
    let created = state
        .assent
        .create_app(&form.admin.admin.principal(), form.field("name"))
        .await?;
    let key_id = assent_core::secrets::split_api_key(&created.api_key)
        .map(|(id, _)| id.to_owned())
        .unwrap_or_default();
    Ok(key_shown(
        &form.admin,
        &created.app.name,
        &key_id,
        &created.api_key,
        html! {},
    ))
}

/// `POST /admin/apps/{id}/rotate`
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> Result<Response, PageError> {
    let rotated = state
        .assent
        .rotate_app_key(&form.admin.admin.principal(), &id)
        .await?;
    let app = state.assent.app_with_keys(&id).await?.app;
    let note = html! {
        @if rotated.revoked.is_empty() {
            p { "The application had no active key." }
        } @else {
            p #revoked-keys { "Revoked at this moment: " @for (i, k) in rotated.revoked.iter().enumerate() { @if i > 0 { ", " } code { (k) } } }
        }
    };
    Ok(key_shown(
        &form.admin,
        &app.name,
        &rotated.key_id,
        &rotated.api_key,
        note,
    ))
}

/// `POST /admin/keys/{id}/revoke`
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> Result<Response, PageError> {
    state
        .assent
        .revoke_app_key(&form.admin.admin.principal(), &id)
        .await?;
    Ok(Redirect::to("/admin/apps").into_response())
}
