//! Groups of users and application scopes: admin API.

use crate::error::ApiError;
use crate::extract::{AdminAuth, ApiJson, ApiPath};
use crate::http::AppState;
use assent_core::clock::rfc3339;
use assent_core::groups::GroupView;
use assent_proto::api::{AppScope, AppScopeInfo, CreateGroup, GroupInfo, GroupList};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

fn info(view: GroupView) -> GroupInfo {
    GroupInfo {
        name: view.group.name,
        created_at: rfc3339(view.group.created_at),
        members: view.members.iter().map(|m| m.as_str().to_owned()).collect(),
    }
}

/// Create a group of users; policy conditions see its members' `user.groups`.
#[utoipa::path(post, path = "/v1/admin/groups", tag = "admin", request_body = CreateGroup,
    security(("api_key" = [])),
    responses((status = 201, body = GroupInfo), (status = "4XX", body = Problem)))]
pub(crate) async fn create_group(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(request): ApiJson<CreateGroup>,
) -> Result<(StatusCode, Json<GroupInfo>), ApiError> {
    let group = state.assent.create_group(&admin, &request.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(info(GroupView {
            group,
            members: Vec::new(),
        })),
    ))
}

/// Every group with its members.
#[utoipa::path(get, path = "/v1/admin/groups", tag = "admin", security(("api_key" = [])),
    responses((status = 200, body = GroupList), (status = "4XX", body = Problem)))]
pub(crate) async fn list_groups(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
) -> Result<Json<GroupList>, ApiError> {
    let groups = state.assent.list_groups().await?;
    Ok(Json(GroupList {
        groups: groups.into_iter().map(info).collect(),
    }))
}

/// Add a user to a group (nothing changes if they are a member already).
#[utoipa::path(put, path = "/v1/admin/groups/{name}/members/{username}", tag = "admin",
    params(("name" = String, Path, pattern = r"^[a-z0-9._-]{1,64}$", description = "the group"),
        ("username" = String, Path, pattern = r"^[A-Za-z0-9._@+-]{1,64}$", description = "1 to 64 letters, digits and . _ - @ +")),
    security(("api_key" = [])),
    responses((status = 204, description = "the user is a member"), (status = "4XX", body = Problem)))]
pub(crate) async fn add_member(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath((name, username)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .assent
        .add_group_member(&admin, &name, &username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a user from a group (nothing changes if they are not a member).
#[utoipa::path(delete, path = "/v1/admin/groups/{name}/members/{username}", tag = "admin",
    params(("name" = String, Path, pattern = r"^[a-z0-9._-]{1,64}$", description = "the group"),
        ("username" = String, Path, pattern = r"^[A-Za-z0-9._@+-]{1,64}$", description = "1 to 64 letters, digits and . _ - @ +")),
    security(("api_key" = [])),
    responses((status = 204, description = "the user is not a member"), (status = "4XX", body = Problem)))]
pub(crate) async fn remove_member(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath((name, username)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .assent
        .remove_group_member(&admin, &name, &username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Limit an application to the members of groups (an empty list: any user). Outside its scope,
/// a user is to the application as one who does not exist.
#[utoipa::path(put, path = "/v1/admin/apps/{id}/scope", tag = "admin", request_body = AppScope,
    params(("id" = String, Path, format = Uuid, description = "the application's id")), security(("api_key" = [])),
    responses((status = 200, body = AppScopeInfo), (status = "4XX", body = Problem)))]
pub(crate) async fn set_app_scope(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(request): ApiJson<AppScope>,
) -> Result<Json<AppScopeInfo>, ApiError> {
    let groups = state
        .assent
        .set_app_scope(&admin, &app_id, request.groups)
        .await?;
    Ok(Json(AppScopeInfo { app_id, groups }))
}
