//! Access requests with several approvers: the relying party asks and follows, an admin or an
//! approver's device revokes a grant, and the relying party introspects one.

use super::render::new_approval_details;
use crate::error::ApiError;
use crate::extract::{AdminAuth, ApiJson, ApiJsonText, ApiPath, AppAuth, DeviceAuth};
use crate::http::AppState;
use assent_core::Assent;
use assent_core::access::records::AccessRequest;
use assent_core::access::{AccessCreated, AccessView, Introspection, NewAccessRequest};
use assent_core::approvals::Lifetime;
use assent_core::clock::rfc3339;
use assent_core::ids::Username;
use assent_proto::api::{
    AccessApproverStatus, AccessGrantInfo, AccessProgress, AccessRequestCreated, AccessRequestList,
    AccessRequestStatus, BreakGlassCode, BreakGlassInfo, CreateAccessRequest, GrantIntrospection,
    IntrospectGrant, InvokeBreakGlass, PromptedApproverInfo, ReviewBreakGlass,
};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// The longest token introspection reads: a grant names at most ten approvals with their
/// receipts, far below this.
const MAX_GRANT_TEXT: usize = 32_768;

/// Ask for a privilege on a user's behalf; every eligible approver gets a prompt.
#[utoipa::path(post, path = "/v1/access-requests", tag = "relying party",
    request_body = CreateAccessRequest, security(("api_key" = [])),
    responses((status = 201, body = AccessRequestCreated), (status = "4XX", body = Problem)))]
pub(crate) async fn create_access_request(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiJsonText(body, text): ApiJsonText<CreateAccessRequest>,
) -> Result<(StatusCode, Json<AccessRequestCreated>), ApiError> {
    let privilege = new_approval_details(body.authorization_details, &text)?;
    let parse_names = |names: Vec<String>| -> Result<Vec<Username>, ApiError> {
        Ok(names
            .iter()
            .map(|n| Username::parse(n))
            .collect::<Result<_, _>>()?)
    };
    let new = NewAccessRequest {
        requester: Username::parse(&body.requester)?,
        privilege,
        justification: body.justification,
        approver_users: parse_names(body.approvers.users)?,
        approver_groups: body.approvers.groups,
        approvals_required: body.approvals_required,
        denials_required: body.denials_required,
        grant_seconds: body.grant_seconds,
        lifetime: Lifetime::parse(body.expires_in, state.assent.settings())?,
        context: body.context.unwrap_or_default(),
        passkey_authentication: body.passkey_authentication,
    };
    let AccessCreated { request, approvers } =
        state.assent.create_access_request(&app, new).await?;
    let access_request = status(&state.assent, request).await?;
    let approvers = approvers
        .into_iter()
        .map(|a| PromptedApproverInfo {
            user: a.user.to_string(),
            approval_id: a.approval_id.map(|id| id.to_string()),
            display_code: a.display_code,
            unreachable: a.unreachable,
        })
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(AccessRequestCreated {
            access_request,
            approvers,
        }),
    ))
}

/// An access request as it stands: each approver's answer, and the grant once issued.
#[utoipa::path(get, path = "/v1/access-requests/{id}", tag = "relying party",
    params(("id" = String, Path, format = Uuid)), security(("api_key" = [])),
    responses((status = 200, body = AccessRequestStatus), (status = "4XX", body = Problem)))]
pub(crate) async fn get_access_request(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AccessRequestStatus>, ApiError> {
    let request = state.assent.access_request_for_app(&app, &id).await?;
    Ok(Json(status(&state.assent, request).await?))
}

/// Withdraw a pending access request (the requester changed their mind); open prompts are
/// withdrawn with it.
#[utoipa::path(delete, path = "/v1/access-requests/{id}", tag = "relying party",
    params(("id" = String, Path, format = Uuid)), security(("api_key" = [])),
    responses((status = 200, body = AccessRequestStatus), (status = "4XX", body = Problem)))]
pub(crate) async fn cancel_access_request(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AccessRequestStatus>, ApiError> {
    let request = state.assent.cancel_access_request(&app, &id).await?;
    Ok(Json(status(&state.assent, request).await?))
}

/// Whether a grant is in force: signed by this server for the calling application, within its
/// time, and not revoked.
#[utoipa::path(post, path = "/v1/access-grants/introspect", tag = "relying party",
    request_body = IntrospectGrant, security(("api_key" = [])),
    responses((status = 200, body = GrantIntrospection), (status = "4XX", body = Problem)))]
pub(crate) async fn introspect_grant(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiJson(body): ApiJson<IntrospectGrant>,
) -> Result<Json<GrantIntrospection>, ApiError> {
    if body.token.is_empty() || body.token.chars().count() > MAX_GRANT_TEXT {
        return Err(ApiError::new(
            assent_proto::ProblemCode::InvalidRequest,
            format!("token is the grant to introspect, 1 to {MAX_GRANT_TEXT} characters"),
        ));
    }
    let Introspection {
        active,
        claims,
        revoked_at,
    } = state.assent.introspect_grant(&app, &body.token).await?;
    Ok(Json(GrantIntrospection {
        active,
        sub: claims.as_ref().map(|c| c.sub.clone()),
        jti: claims.as_ref().map(|c| c.jti.clone()),
        access_request_id: claims.as_ref().map(|c| c.access_request_id.clone()),
        nbf: claims.as_ref().map(|c| c.nbf),
        exp: claims.as_ref().map(|c| c.exp),
        approvers: claims
            .map(|c| c.approvers.into_iter().map(|a| a.user).collect())
            .unwrap_or_default(),
        revoked_at: revoked_at.map(rfc3339),
    }))
}

/// Any access request, for an admin.
#[utoipa::path(get, path = "/v1/admin/access-requests/{id}", tag = "admin",
    params(("id" = String, Path, format = Uuid)), security(("api_key" = [])),
    responses((status = 200, body = AccessRequestStatus), (status = "4XX", body = Problem)))]
pub(crate) async fn admin_get_access_request(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AccessRequestStatus>, ApiError> {
    let request = state.assent.access_request_for_admin(&id).await?;
    Ok(Json(status(&state.assent, request).await?))
}

/// Revoke a grant before its end (audited; `access_grant.revoked` webhook; introspection says
/// inactive at once).
#[utoipa::path(post, path = "/v1/admin/access-requests/{id}/revoke", tag = "admin",
    params(("id" = String, Path, format = Uuid)), security(("api_key" = [])),
    responses((status = 200, body = AccessRequestStatus), (status = "4XX", body = Problem)))]
pub(crate) async fn admin_revoke_grant(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AccessRequestStatus>, ApiError> {
    let request = state.assent.revoke_grant_as_admin(&admin, &id).await?;
    Ok(Json(status(&state.assent, request).await?))
}

/// Revoke a grant from the device of one of the request's approvers.
#[utoipa::path(post, path = "/v1/device/access-requests/{id}/revoke", tag = "device",
    params(("id" = String, Path, format = Uuid)), security(("device_proof" = [])),
    responses((status = 200, body = AccessRequestStatus), (status = "4XX", body = Problem)))]
pub(crate) async fn device_revoke_grant(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AccessRequestStatus>, ApiError> {
    let request = state.assent.revoke_grant_as_approver(&device, &id).await?;
    let mut answer = status(&state.assent, request).await?;
    // A device answers and revokes; it never holds the grant itself.
    if let Some(grant) = answer.grant.as_mut() {
        grant.token = None;
    }
    Ok(Json(answer))
}

/// Break-glass: end a pending access request with a short grant, given the break-glass code the
/// security team holds and the requester's reason. Every admin is alerted; the grant stays
/// unreviewed until an admin records a review.
#[utoipa::path(post, path = "/v1/access-requests/{id}/break-glass", tag = "relying party",
    params(("id" = String, Path, format = Uuid)), request_body = InvokeBreakGlass,
    security(("api_key" = [])),
    responses((status = 200, body = AccessRequestStatus), (status = "4XX", body = Problem)))]
pub(crate) async fn invoke_break_glass(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<InvokeBreakGlass>,
) -> Result<Json<AccessRequestStatus>, ApiError> {
    let request = state
        .assent
        .break_glass(&app, &id, &body.reason, &body.code)
        .await?;
    Ok(Json(status(&state.assent, request).await?))
}

/// Set a new break-glass code (replacing any earlier one); it is shown once, here, and spent by
/// its first use.
#[utoipa::path(post, path = "/v1/admin/break-glass-code", tag = "admin",
    security(("api_key" = [])),
    responses((status = 201, body = BreakGlassCode), (status = "4XX", body = Problem)))]
pub(crate) async fn set_break_glass_code(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
) -> Result<(StatusCode, Json<BreakGlassCode>), ApiError> {
    let code = state.assent.set_break_glass_code(&admin).await?;
    Ok((StatusCode::CREATED, Json(BreakGlassCode { code })))
}

/// The break-glass grants no admin has reviewed yet, oldest first.
#[utoipa::path(get, path = "/v1/admin/break-glass", tag = "admin",
    security(("api_key" = [])),
    responses((status = 200, body = AccessRequestList), (status = "4XX", body = Problem)))]
pub(crate) async fn unreviewed_break_glass(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
) -> Result<Json<AccessRequestList>, ApiError> {
    let mut access_requests = Vec::new();
    for request in state.assent.unreviewed_break_glass().await? {
        access_requests.push(status(&state.assent, request).await?);
    }
    Ok(Json(AccessRequestList { access_requests }))
}

/// Record the review of a break-glass grant.
#[utoipa::path(post, path = "/v1/admin/access-requests/{id}/review", tag = "admin",
    params(("id" = String, Path, format = Uuid)), request_body = ReviewBreakGlass,
    security(("api_key" = [])),
    responses((status = 200, body = AccessRequestStatus), (status = "4XX", body = Problem)))]
pub(crate) async fn review_break_glass(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReviewBreakGlass>,
) -> Result<Json<AccessRequestStatus>, ApiError> {
    let request = state
        .assent
        .review_break_glass(&admin, &id, &body.note)
        .await?;
    Ok(Json(status(&state.assent, request).await?))
}

async fn status(assent: &Assent, request: AccessRequest) -> Result<AccessRequestStatus, ApiError> {
    let token = assent.grant_token(&request)?;
    let view = assent.access_view(request).await?;
    let mut status = render_status(&view);
    if let Some(grant) = status.grant.as_mut() {
        grant.token = token;
    }
    Ok(status)
}

fn render_status(view: &AccessView) -> AccessRequestStatus {
    let r = &view.request;
    AccessRequestStatus {
        id: r.id.to_string(),
        state: r.state.as_str().to_owned(),
        reason: r.reason.map(|x| x.as_str().to_owned()),
        requester: view.requester.to_string(),
        authorization_details: r.privilege.clone(),
        justification: r.justification.clone(),
        approvals_required: r.approvals_required,
        denials_required: r.denials_required,
        grant_seconds: r.grant_seconds,
        approvers: view
            .approvers
            .iter()
            .map(|a| AccessApproverStatus {
                user: a.user.to_string(),
                approval_id: a.approval_id.as_ref().map(ToString::to_string),
                state: a.state.map(|s| s.as_str().to_owned()),
                decided_at: a.decided_at.map(rfc3339),
                unreachable: a.unreachable.clone(),
            })
            .collect(),
        approved_by: view.approved_by().iter().map(ToString::to_string).collect(),
        denied_by: view.denied_by().iter().map(ToString::to_string).collect(),
        created_at: rfc3339(r.created_at),
        expires_at: rfc3339(r.expires_at),
        decided_at: r.decided_at.map(rfc3339),
        // A co-approval's ending issues no grant.
        grant: r
            .grant
            .as_ref()
            .filter(|_| r.holds.is_none())
            .map(|g| AccessGrantInfo {
                id: g.id.clone(),
                token: None,
                not_before: rfc3339(g.not_before),
                expires_at: rfc3339(g.expires_at),
                revoked_at: g.revoked_at.map(rfc3339),
                revoked_by: g.revoked_by.clone(),
            }),
        break_glass: r.break_glass.as_ref().map(|b| BreakGlassInfo {
            reason: b.reason.clone(),
            review: if b.reviewed_at.is_some() {
                "reviewed"
            } else {
                "unreviewed"
            }
            .to_owned(),
            reviewed_at: b.reviewed_at.map(rfc3339),
            reviewed_by: b.reviewed_by.clone(),
            review_note: b.review_note.clone(),
        }),
        policy_rule: r.policy_rule.clone(),
        co_approval_of: co_approval_of(r),
    }
}

/// What an approver's device shows of the request beside the prompt.
pub(crate) fn progress(view: &AccessView) -> AccessProgress {
    AccessProgress {
        id: view.request.id.to_string(),
        state: view.request.state.as_str().to_owned(),
        requester: view.requester.to_string(),
        approvals_required: view.request.approvals_required,
        denials_required: view.request.denials_required,
        approved_by: view.approved_by().iter().map(ToString::to_string).collect(),
        denied_by: view.denied_by().iter().map(ToString::to_string).collect(),
        co_approval_of: co_approval_of(&view.request),
    }
}

/// The request a co-approval holds, by id.
fn co_approval_of(request: &assent_core::access::records::AccessRequest) -> Option<String> {
    request.holds.as_ref().map(|h| h.approval_id.to_string())
}
