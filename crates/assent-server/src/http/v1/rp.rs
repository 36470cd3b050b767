//! The relying-party API: ask for an approval, learn its outcome.

use super::{render, sse};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiJsonText, ApiPath, AppAuth};
use crate::http::AppState;
use assent_core::Principal;
use assent_proto::ProblemCode;
use assent_proto::api::{
    ApprovalCreated, ApprovalStatus, CreateApproval, CreateEnrollment, EnrollmentCreated,
    ReportEvent, UserEmail,
};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use time::Duration;

/// Ask a user for an approval.
#[utoipa::path(post, path = "/v1/approvals", tag = "relying party", request_body = CreateApproval,
    security(("api_key" = [])),
    responses((status = 201, body = ApprovalCreated), (status = "4XX", body = Problem)))]
pub(crate) async fn create_approval(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiJsonText(request, text): ApiJsonText<CreateApproval>,
) -> Result<(StatusCode, Json<ApprovalCreated>), ApiError> {
    let request = render::new_approval(request, &text, state.assent.settings())?;
    let created = state.assent.create_approval(&app, request).await?;
    Ok((StatusCode::CREATED, Json(render::approval_created(created))))
}

/// A request's state; with `?wait=SECONDS`, waits until it is final or the time is up.
#[utoipa::path(get, path = "/v1/approvals/{id}", tag = "relying party",
    params(("id" = String, Path), ("wait" = Option<u64>, Query, description = "seconds to wait for a final state")),
    security(("api_key" = [])),
    responses((status = 200, body = ApprovalStatus), (status = "4XX", body = Problem)))]
pub(crate) async fn get_approval(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(id): ApiPath<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ApprovalStatus>, ApiError> {
    let wait = parse_wait(query.as_deref(), state.max_wait)?;
    let approval = tokio::select! {
        result = state.assent.wait_for_app(&app, &id, wait) => result?,
        // Boxed like every read on this path: the handler's future lives as long as the wait,
        // and would otherwise reserve room for a whole read (and expiry) all that time.
        _ = crate::http::shutting_down(state.shutdown.clone()) => Box::pin(state.assent.approval_for_app(&app, &id)).await?,
    };
    Ok(Json(render::status_of(&state.assent, approval).await?))
}

fn parse_wait(query: Option<&str>, max: std::time::Duration) -> Result<Duration, ApiError> {
    let Some(query) = query else {
        return Ok(Duration::ZERO);
    };
    let mut wait = Duration::ZERO;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("wait", value)) => {
                let seconds: u64 = value.parse().map_err(|_| {
                    ApiError::new(
                        ProblemCode::InvalidRequest,
                        "wait is a whole number of seconds",
                    )
                })?;
                let capped = seconds.min(max.as_secs());
                wait = Duration::seconds(i64::try_from(capped).unwrap_or(0));
            }
            _ => {
                return Err(ApiError::new(
                    ProblemCode::InvalidRequest,
                    format!("unknown query parameter in {pair:?}"),
                ));
            }
        }
    }
    Ok(wait)
}

/// Cancel a pending request.
#[utoipa::path(delete, path = "/v1/approvals/{id}", tag = "relying party", params(("id" = String, Path)),
    security(("api_key" = [])),
    responses((status = 200, body = ApprovalStatus), (status = "4XX", body = Problem)))]
pub(crate) async fn cancel_approval(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ApprovalStatus>, ApiError> {
    let approval = state.assent.cancel_approval(&app, &id).await?;
    Ok(Json(render::status_of(&state.assent, approval).await?))
}

/// Server-sent events: a `state` event with the request's status now and at every change, until
/// it is final.
#[utoipa::path(get, path = "/v1/approvals/{id}/events", tag = "relying party", params(("id" = String, Path)),
    security(("api_key" = [])),
    responses((status = 200, content_type = "text/event-stream", description = "`state` events carrying an ApprovalStatus"),
        (status = "4XX", body = Problem)))]
pub(crate) async fn approval_events(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let approval = state.assent.approval_for_app(&app, &id).await?;
    Ok(sse::approval_stream(state, app, approval))
}

/// Set or remove the e-mail address where one of your users' security alerts go.
#[utoipa::path(put, path = "/v1/users/{username}/email", tag = "relying party", request_body = UserEmail,
    params(("username" = String, Path, pattern = r"^[A-Za-z0-9._@+-]{1,64}$", description = "1 to 64 letters, digits and . _ - @ +")), security(("api_key" = [])),
    responses((status = 204, description = "stored"), (status = "4XX", body = Problem)))]
pub(crate) async fn set_user_email(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(username): ApiPath<String>,
    ApiJson(request): ApiJson<UserEmail>,
) -> Result<StatusCode, ApiError> {
    state
        .assent
        .set_user_email(&Principal::App(app), &username, request.email.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create an enrollment link for one of your users.
#[utoipa::path(post, path = "/v1/enrollments", tag = "relying party", request_body = CreateEnrollment,
    security(("api_key" = [])),
    responses((status = 201, body = EnrollmentCreated), (status = "4XX", body = Problem)))]
pub(crate) async fn create_enrollment(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiJson(request): ApiJson<CreateEnrollment>,
) -> Result<(StatusCode, Json<EnrollmentCreated>), ApiError> {
    let created = state
        .assent
        .create_enrollment(
            &Principal::App(app),
            &request.user,
            request.recovery_code.as_deref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(render::enrollment_created(created)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_is_parsed_and_capped() {
        let max = std::time::Duration::from_secs(60);
        assert_eq!(parse_wait(None, max).unwrap(), Duration::ZERO);
        assert_eq!(
            parse_wait(Some("wait=5"), max).unwrap(),
            Duration::seconds(5)
        );
        assert_eq!(
            parse_wait(Some("wait=3600"), max).unwrap(),
            Duration::seconds(60)
        );
        assert_eq!(
            parse_wait(Some("wait=x"), max).unwrap_err().code(),
            ProblemCode::InvalidRequest
        );
        assert_eq!(
            parse_wait(Some("other=1"), max).unwrap_err().code(),
            ProblemCode::InvalidRequest
        );
    }
}

/// Report an account event (password changed, e-mail changed, MFA reset, or your own with a
/// message): the user's devices show it as an alert, and `alert` webhooks receive it.
#[utoipa::path(post, path = "/v1/events", tag = "relying party", request_body = ReportEvent,
    security(("api_key" = [])),
    responses((status = 204, description = "recorded and alerted"), (status = "4XX", body = Problem)))]
pub(crate) async fn report_event(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiJson(request): ApiJson<ReportEvent>,
) -> Result<StatusCode, ApiError> {
    let message = request.message.as_deref();
    state
        .assent
        .report_event(&app, &request.user, &request.type_, message)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
