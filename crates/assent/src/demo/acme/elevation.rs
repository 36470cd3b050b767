//! Acme's admin elevation: a signed-in user asks for the console administrator role; the two
//! demo admins (group `acme-admins`) each see the request with their own code here, answer on
//! their authenticator, and see each other's progress; two approvals grant it. Through Assent's
//! access-request API only.

use super::{Acme, Shared, esc, page, with_cookie};
use assent_proto::api::{
    AccessApprovers, AccessRequestStatus, CreateAccessRequest, PromptedApproverInfo,
};
use axum::Json;
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;

/// The group whose members approve elevations, and how many must.
pub const ADMIN_GROUP: &str = "acme-admins";
const APPROVALS_REQUIRED: u32 = 2;

/// What Acme keeps of an elevation it asked for: who asked, and each approver's code, which it
/// shows only to that approver.
#[derive(Debug, Clone)]
pub(super) struct Elevation {
    requester: String,
    approvers: Vec<PromptedApproverInfo>,
}

impl Acme {
    fn elevation(&self, id: &str) -> Option<Elevation> {
        let elevations = self.elevations.lock().unwrap_or_else(|e| e.into_inner());
        elevations.get(id).cloned()
    }

    /// The elevations `user` may see: their own, and those they are an approver of.
    fn elevations_of(&self, user: &str) -> Vec<(String, Elevation)> {
        let elevations = self.elevations.lock().unwrap_or_else(|e| e.into_inner());
        let mut mine: Vec<_> = elevations
            .iter()
            .filter(|(_, e)| e.requester == user || e.approvers.iter().any(|a| a.user == user))
            .map(|(id, e)| (id.clone(), e.clone()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        mine
    }
}

pub(super) async fn form(State(acme): State<Shared>, headers: HeaderMap) -> Response {
    let (sid, session, new) = acme.session(&headers);
    if session.user.is_none() {
        return with_cookie(Redirect::to("/").into_response(), &sid, new);
    }
    let body = r#"<h1>Request admin access</h1>
<form method="post" action="/elevate" class="card">
<p>Role: <strong>Acme console administrator</strong> on <strong>acme-bank-console</strong>, for one hour.</p>
<label for="justification">Why do you need it?</label><input id="justification" name="justification" required maxlength="300" value="INC-4711: payments are stuck, I must restart the settlement job">
<button type="submit" class="primary">Ask the admins</button></form>
<p class="hint">Two of Acme's admins must approve on their Assent authenticators. You never count as one of them.</p>"#;
    page("Request admin access", body)
}

#[derive(Deserialize)]
pub(super) struct ElevateForm {
    justification: String,
}

pub(super) async fn create(
    State(acme): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<ElevateForm>,
) -> Response {
    let (sid, session, _) = acme.session(&headers);
    let Some(user) = session.user else {
        return Redirect::to("/").into_response();
    };
    let request = CreateAccessRequest {
        requester: user.clone(),
        authorization_details: vec![serde_json::json!({
            "type": "role_elevation",
            "role": "Acme console administrator",
            "resource": "acme-bank-console",
        })],
        justification: form.justification.trim().to_owned(),
        approvers: AccessApprovers {
            users: Vec::new(),
            groups: vec![ADMIN_GROUP.into()],
        },
        approvals_required: APPROVALS_REQUIRED,
        denials_required: Some(1),
        grant_seconds: Some(3600),
        expires_in: Some(600),
        context: Some(super::context(&headers, peer, &sid)),
        passkey_authentication: None,
    };
    match acme.rp.create_access_request(&request).await {
        Ok(created) => {
            let id = created.access_request.id.clone();
            let elevation = Elevation {
                requester: user,
                approvers: created.approvers,
            };
            acme.elevations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.clone(), elevation);
            Redirect::to(&format!("/elevation/{id}")).into_response()
        }
        Err(e) => page(
            "Request admin access",
            &format!(
                r#"<p class="problem" role="alert">{}</p>"#,
                esc(&e.to_string())
            ),
        ),
    }
}

/// The signed-in user's elevations: asked for, or theirs to approve.
pub(super) async fn list(State(acme): State<Shared>, headers: HeaderMap) -> Response {
    let (sid, session, new) = acme.session(&headers);
    let Some(user) = session.user else {
        return with_cookie(Redirect::to("/").into_response(), &sid, new);
    };
    let mut items = String::new();
    for (id, elevation) in acme.elevations_of(&user) {
        let role = if elevation.requester == user {
            "you asked".to_owned()
        } else {
            format!("asked by {}", esc(&elevation.requester))
        };
        items.push_str(&format!(
            r#"<li><a href="/elevation/{id}" data-elevation="{id}">Admin access, {role}</a></li>"#,
            id = esc(&id)
        ));
    }
    let body = if items.is_empty() {
        "<h1>Admin access</h1><p>No admin access request concerns you.</p>".to_owned()
    } else {
        format!(r#"<h1>Admin access</h1><ul class="card">{items}</ul>"#)
    };
    page("Admin access", &body)
}

fn approver_state(state: Option<&str>) -> &'static str {
    match state {
        Some("approved") => "approved",
        Some("denied") | Some("fraud") => "denied",
        Some("pending") => "waiting",
        Some(_) => "did not answer",
        None => "could not be asked",
    }
}

fn render(user: &str, elevation: &Elevation, status: &AccessRequestStatus) -> String {
    let detail = status
        .authorization_details
        .first()
        .and_then(|d| d["role"].as_str())
        .unwrap_or("admin");
    let mut people = String::new();
    for a in &status.approvers {
        let state = approver_state(a.state.as_deref());
        people.push_str(&format!(
            r#"<li data-approver="{u}" data-state="{state}">{u}: {state}</li>"#,
            u = esc(&a.user)
        ));
    }
    let mine = elevation
        .approvers
        .iter()
        .find(|a| a.user == user)
        .filter(|_| status.state == "pending");
    let my_turn = mine.filter(|a| {
        status
            .approvers
            .iter()
            .any(|s| s.user == a.user && s.state.as_deref() == Some("pending"))
    });
    let code = match my_turn
        .and_then(|a| Some((a.display_code.as_deref()?, a.approval_id.as_deref()?)))
    {
        Some((code, approval)) => format!(
            r#"<p>You are an approver. Check the request, then type this code on your Assent authenticator:</p><p class="code" id="code" data-approval="{}">{}</p>"#,
            esc(approval),
            esc(code)
        ),
        None => String::new(),
    };
    let outcome = match (status.state.as_str(), &status.grant) {
        ("granted", Some(grant)) => format!(
            r#"<p class="ok" id="granted">Admin access granted to {} until {}, approved by {}.</p>"#,
            esc(&status.requester),
            esc(&grant.expires_at),
            esc(&status.approved_by.join(" and "))
        ),
        ("pending", _) => format!(
            r#"<p role="status">Waiting: {} of {} approvals.</p>"#,
            status.approved_by.len(),
            status.approvals_required
        ),
        (state, _) => format!(r#"<p class="problem">This request is {}.</p>"#, esc(state)),
    };
    format!(
        r#"<h1>Admin access for {requester}</h1>
<div class="card" id="elevation" data-id="{id}" data-state="{state}" data-approved="{approved}">
<p><strong>{role}</strong> on <strong>acme-bank-console</strong> for one hour.</p>
<p>Why: {why}</p>
<h2>Approvers ({need} needed)</h2><ul id="approvers">{people}</ul>{outcome}</div>{code}"#,
        requester = esc(&status.requester),
        id = esc(&status.id),
        state = esc(&status.state),
        approved = status.approved_by.len(),
        role = esc(detail),
        why = esc(&status.justification),
        need = status.approvals_required,
    )
}

/// The request as the viewer may see it: the requester and its approvers only.
async fn viewed(
    acme: &Acme,
    headers: &HeaderMap,
    id: &str,
) -> Result<(String, Elevation, AccessRequestStatus), Response> {
    let (_, session, _) = acme.session(headers);
    let hidden = || {
        (
            StatusCode::NOT_FOUND,
            page("Not found", "<h1>No such request</h1>"),
        )
            .into_response()
    };
    let (Some(user), Some(elevation)) = (session.user, acme.elevation(id)) else {
        return Err(hidden());
    };
    if elevation.requester != user && !elevation.approvers.iter().any(|a| a.user == user) {
        return Err(hidden());
    }
    match acme.rp.access_request(id).await {
        Ok(status) => Ok((user, elevation, status)),
        Err(e) => Err((
            StatusCode::BAD_GATEWAY,
            page(
                "Admin access",
                &format!(r#"<p class="problem">{}</p>"#, esc(&e.to_string())),
            ),
        )
            .into_response()),
    }
}

pub(super) async fn show(
    State(acme): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match viewed(&acme, &headers, &id).await {
        Ok((user, elevation, status)) => page("Admin access", &render(&user, &elevation, &status)),
        Err(response) => response,
    }
}

/// The state and the number of approvals, which the page polls to refresh itself.
pub(super) async fn progress(
    State(acme): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match viewed(&acme, &headers, &id).await {
        Ok((_, _, status)) => Json(serde_json::json!({
            "state": status.state,
            "approved": status.approved_by.len(),
            "denied": status.denied_by.len(),
        }))
        .into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "no such request"})),
        )
            .into_response(),
    }
}
