//! The Duo Auth API v2 under `/auth/v2/`, for the software that already speaks it (duo_unix's
//! `login_duo` and `pam_duo`, duo_client, identity providers): each handler reads and
//! authenticates the signed call, calls one core function and answers in Duo's envelope. It is
//! Duo's API, described by docs/duo.md, so it is not in `/openapi.json`.

pub(crate) mod admin;
mod legacy;
mod reply;
mod signed;

use crate::http::AppState;
use assent_core::duo::{AuthAnswer, ClientFacts, DuoCaller};
use assent_proto::duo::api::{self, DuoErrorCode};
use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use reply::{answer, fail, ok, refused};
use signed::Received;
use time::Duration;

/// The longest `auth_status` (and v1's `status.bson`) holds a call while the request is pending.
const AUTH_STATUS_WAIT: Duration = Duration::seconds(30);

/// How long a synchronous push may hold its call: the server's longest long poll.
fn sync_wait(state: &AppState) -> Duration {
    Duration::try_from(state.max_wait).unwrap_or(Duration::seconds(60))
}

/// How long `auth_status` may hold its call: [`AUTH_STATUS_WAIT`], or less when the server's
/// longest long poll is shorter.
fn status_wait(state: &AppState) -> Duration {
    sync_wait(state).min(AUTH_STATUS_WAIT)
}

/// What the call tells of the client that made it.
fn facts(received: &Received) -> ClientFacts {
    ClientFacts {
        user_agent: received.user_agent.clone(),
    }
}

/// The routes, each with the one method Duo's clients use for it.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/v2/ping", get(ping))
        .route("/auth/v2/check", get(check))
        .route("/auth/v2/logo", get(logo))
        .route("/auth/v2/enroll", post(enroll))
        .route("/auth/v2/enroll_status", post(enroll_status))
        .route("/auth/v2/preauth", post(preauth))
        .route("/auth/v2/auth", post(auth))
        .route("/auth/v2/auth_status", get(auth_status))
        .merge(legacy::router())
}

/// Whether a path is one of the Auth API's that may hold a call (a synchronous push, a long
/// poll), for the request deadline.
pub(crate) fn is_long_call(path: &str) -> bool {
    matches!(
        path,
        "/auth/v2/auth" | "/auth/v2/auth_status" | "/rest/v1/auth.bson" | "/rest/v1/status.bson"
    )
}

/// Reads and authenticates a call.
async fn caller(state: &AppState, request: Request) -> Result<(DuoCaller, Received), Response> {
    let received = signed::read(request).await.map_err(refused)?;
    let caller = state
        .assent
        .authenticate_duo(&received.signed())
        .await
        .map_err(refused)?;
    Ok((caller, received))
}

fn time_now(state: &AppState) -> api::Time {
    api::Time {
        time: state.assent.now().unix_timestamp(),
    }
}

/// Liveness, unsigned: the server's time (duo_unix corrects its clock with it).
async fn ping(State(state): State<AppState>) -> Response {
    ok(time_now(&state))
}

/// Whether the keys and the signature work.
async fn check(State(state): State<AppState>, request: Request) -> Response {
    match caller(&state, request).await {
        Ok(_) => ok(time_now(&state)),
        Err(response) => response,
    }
}

/// Assent's applications have no logo: Duo's answer for an integration without one.
async fn logo(State(state): State<AppState>, request: Request) -> Response {
    match caller(&state, request).await {
        Ok(_) => fail(
            DuoErrorCode::NotFound,
            Some("this integration has no logo".into()),
            None,
        ),
        Err(response) => response,
    }
}

async fn enroll(State(state): State<AppState>, request: Request) -> Response {
    match caller(&state, request).await {
        Ok((caller, received)) => answer(state.assent.duo_enroll(&caller, &received.params).await),
        Err(response) => response,
    }
}

async fn enroll_status(State(state): State<AppState>, request: Request) -> Response {
    match caller(&state, request).await {
        Ok((_, received)) => answer(state.assent.duo_enroll_status(&received.params).await),
        Err(response) => response,
    }
}

async fn preauth(State(state): State<AppState>, request: Request) -> Response {
    match caller(&state, request).await {
        Ok((caller, received)) => answer(state.assent.duo_preauth(&caller, &received.params).await),
        Err(response) => response,
    }
}

async fn auth(State(state): State<AppState>, request: Request) -> Response {
    let (caller, received) = match caller(&state, request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let result = state
        .assent
        .duo_auth(
            &caller,
            &received.params,
            facts(&received),
            sync_wait(&state),
        )
        .await;
    match result {
        Ok(AuthAnswer::Done(done)) => ok(done),
        Ok(AuthAnswer::Started(started)) => ok(started),
        Err(e) => refused(e),
    }
}

async fn auth_status(State(state): State<AppState>, request: Request) -> Response {
    let (caller, received) = match caller(&state, request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    answer(
        state
            .assent
            .duo_auth_status(&caller, &received.params, status_wait(&state))
            .await,
    )
}
