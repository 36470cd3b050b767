//! The legacy Auth API v1 (`/rest/v1/*.bson`) that duo_unix before 2.0 speaks, Debian 12's
//! `login_duo` and `pam_duo` among them: form-encoded calls signed without a date, answered in
//! BSON. Each call is translated to its v2 counterpart (`user` is `username`, `factor=auto` with
//! `auto=push1` is `factor=prompt` with `prompt=push1`) and answered by the same core; only the
//! integrations an admin opened to v1 are served.

use super::signed::{self, Received};
use crate::http::AppState;
use assent_core::duo::{AuthAnswer, DuoCaller, DuoError};
use assent_core::{CoreError, StoreError};
use assent_proto::duo::api::{AuthResult, DuoErrorCode};
use assent_proto::duo::bson::to_bson;
use assent_proto::duo::request::DuoParams;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v1/preauth.bson", post(preauth))
        .route("/rest/v1/auth.bson", post(auth))
        .route("/rest/v1/status.bson", get(status))
}

fn bson_response(status: StatusCode, document: Value) -> Response {
    let Value::Object(map) = document else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match to_bson(&map) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/bson"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
                .extensions_mut()
                .insert(crate::error::RenderedByProtocol);
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "a v1 answer could not be written as BSON");
            fail(DuoErrorCode::Internal, None, None)
        }
    }
}

fn ok(response: Value) -> Response {
    bson_response(StatusCode::OK, json!({"stat": "OK", "response": response}))
}

/// duo_unix reads `code` and `message` (v1 has no `message_detail`, so the detail is joined
/// to the message).
fn fail(code: DuoErrorCode, detail: Option<String>, retry_after: Option<i64>) -> Response {
    let message = match detail {
        Some(detail) => format!("{}: {detail}", code.message()),
        None => code.message().to_owned(),
    };
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = bson_response(
        status,
        json!({"stat": "FAIL", "code": code.code(), "message": message}),
    );
    if let Some(seconds) = retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn refused(e: DuoError) -> Response {
    match e {
        DuoError::Refused {
            code,
            detail,
            retry_after,
        } => fail(code, detail, retry_after),
        DuoError::Core(core) => {
            if let CoreError::Store(StoreError::Unavailable(_)) = core {
                tracing::warn!(error = %core, "Duo v1 endpoint: the database is unavailable");
            } else {
                tracing::error!(error = %core, "Duo v1 endpoint failed");
            }
            let id = crate::error::current_request_id().unwrap_or_default();
            fail(
                DuoErrorCode::Internal,
                Some(format!("request id {id}")),
                None,
            )
        }
    }
}

/// The v1 parameters under their v2 names.
fn translated(params: &DuoParams) -> DuoParams {
    let mut factor_auto = false;
    let mut pairs = Vec::with_capacity(params.pairs().len());
    for (name, value) in params.pairs() {
        match name.as_str() {
            "user" => pairs.push(("username".to_owned(), value.clone())),
            "factor" if value == "auto" => factor_auto = true,
            "auto" => pairs.push(("prompt".to_owned(), value.clone())),
            _ => pairs.push((name.clone(), value.clone())),
        }
    }
    if factor_auto {
        pairs.push(("factor".to_owned(), "prompt".to_owned()));
    }
    DuoParams::from_pairs(pairs)
}

async fn caller(state: &AppState, request: Request) -> Result<(DuoCaller, Received), Response> {
    let received = signed::read(request).await.map_err(refused)?;
    let caller = state
        .assent
        .authenticate_duo(&received.signed())
        .await
        .map_err(refused)?;
    Ok((caller, received))
}

/// A finished or pending result: `status` is the sentence duo_unix prints, `result` only once
/// the request ended (v1 has no `waiting`).
fn result_document(result: &AuthResult) -> Value {
    let mut document = Map::new();
    document.insert("status".into(), Value::String(result.status_msg.clone()));
    if result.result != "waiting" {
        document.insert("result".into(), Value::String(result.result.into()));
    }
    Value::Object(document)
}

async fn preauth(State(state): State<AppState>, request: Request) -> Response {
    let (caller, received) = match caller(&state, request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let params = translated(&received.params);
    match state.assent.duo_preauth(&caller, &params).await {
        Ok(answer) => {
            let preauth = answer.preauth;
            let mut document = Map::new();
            document.insert("result".into(), Value::String(preauth.result.into()));
            document.insert("status".into(), Value::String(preauth.status_msg));
            if let Some(prompt) = preauth.prompt {
                let factors: Map<String, Value> = prompt
                    .factors
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                document.insert("factors".into(), Value::Object(factors));
                document.insert("prompt".into(), Value::String(prompt.text));
            }
            ok(Value::Object(document))
        }
        Err(e) => refused(e),
    }
}

async fn auth(State(state): State<AppState>, request: Request) -> Response {
    let (caller, received) = match caller(&state, request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let params = translated(&received.params);
    match state
        .assent
        .duo_auth(
            &caller,
            &params,
            super::facts(&received),
            super::sync_wait(&state),
        )
        .await
    {
        Ok(AuthAnswer::Done(done)) => ok(json!({"result": done.result, "status": done.status_msg})),
        Ok(AuthAnswer::Started(started)) => ok(json!({"txid": started.txid})),
        Err(e) => refused(e),
    }
}

async fn status(State(state): State<AppState>, request: Request) -> Response {
    let (caller, received) = match caller(&state, request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match state
        .assent
        .duo_auth_status(&caller, &received.params, super::status_wait(&state))
        .await
    {
        Ok(result) => ok(result_document(&result)),
        Err(e) => refused(e),
    }
}
