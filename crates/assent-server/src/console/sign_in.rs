//! The sign-in pages: a name, then a wait for the push (the page shows the number to type on
//! the device and reloads itself), or a TOTP or recovery code instead; and the sign-out.

use super::auth::{
    AdminForm, FORM_COOKIE, PublicForm, SESSION_COOKIE, TICKET_COOKIE, cookie, set_cookie,
};
use super::page::{PageError, page, respond};
use crate::extract::PeerIp;
use crate::http::AppState;
use assent_core::console::{NewConsoleSession, SignInState};
use assent_proto::ProblemCode;
use assent_proto::context::RequestContext;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

/// How long the sign-in form's double-submit value lives.
const FORM_COOKIE_SECS: i64 = 900;

/// The form value of this browser, or a new one with the cookie that carries it.
fn form_value(headers: &HeaderMap) -> (String, Option<axum::http::HeaderValue>) {
    match cookie(headers, FORM_COOKIE) {
        Some(v) => (v.to_owned(), None),
        None => {
            let v = assent_proto::jose::random_token(24).unwrap_or_default();
            let c = set_cookie(FORM_COOKIE, &v, FORM_COOKIE_SECS);
            (v, Some(c))
        }
    }
}

fn with_cookies(
    mut response: Response,
    cookies: impl IntoIterator<Item = axum::http::HeaderValue>,
) -> Response {
    for c in cookies {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// `GET /admin/sign-in`
pub(crate) async fn sign_in_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && state.assent.console_session(token).await.is_ok()
    {
        return Redirect::to("/admin/").into_response();
    }
    let (form, new_cookie) = form_value(&headers);
    let body = html! {
        section.signin {
            h1 { "Sign in" }
            p { "Admins sign in with their own device: Assent sends a push to it." }
            form method="post" action="/admin/sign-in" {
                input type="hidden" name="form" value=(form);
                label for="username" { "Username" }
                input #username name="username" autocomplete="username" required autofocus maxlength="64";
                button type="submit" { "Send a push" }
            }
        }
    };
    with_cookies(
        respond(StatusCode::OK, page("Sign in", None, &[], body)),
        new_cookie,
    )
}

/// `POST /admin/sign-in`: starts the push.
pub(crate) async fn start(
    State(state): State<AppState>,
    PeerIp(ip): PeerIp,
    form: PublicForm,
) -> Result<Response, PageError> {
    if !state.sign_in_throttle.admit(ip) {
        return Err(PageError::new(
            ProblemCode::RateLimited,
            "too many sign-ins were started from this address: wait a few minutes",
        ));
    }
    let user_agent = form
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(256).collect());
    let context = RequestContext {
        ip: ip.map(|ip| ip.to_string()),
        user_agent,
        ..RequestContext::default()
    };
    let started = state
        .assent
        .start_console_sign_in(form.field("username"), context)
        .await?;
    // The cookie outlives the ticket by its grace minute, so an approval in the last second is
    // still taken by the next reload.
    let ttl = state.assent.settings().console.sign_in_ttl.whole_seconds() + 60;
    let response = Redirect::to("/admin/sign-in/wait").into_response();
    Ok(with_cookies(
        response,
        [set_cookie(TICKET_COOKIE, &started.ticket, ttl)],
    ))
}

/// `GET /admin/sign-in/wait`: where the sign-in stands; opens the session once approved.
pub(crate) async fn wait(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(ticket) = cookie(&headers, TICKET_COOKIE) else {
        return Ok(Redirect::to("/admin/sign-in").into_response());
    };
    let Ok(now) = state.assent.advance_console_sign_in(ticket).await else {
        return Ok(not_approved());
    };
    match now {
        SignInState::SignedIn(session) => Ok(signed_in(&state, session)),
        SignInState::NotApproved => Ok(not_approved()),
        SignInState::Waiting {
            display_code,
            username,
        } => Ok(waiting_page(&username, &display_code)),
    }
}

fn waiting_page(username: &str, code: &str) -> Response {
    let body: Markup = html! {
        meta http-equiv="refresh" content="2";
        section.signin {
            h1 { "Approve on your device" }
            p { "A push is on its way to " strong { (username) } "'s device. Enter this number there:" }
            p.code-to-type #sign-in-code { (code) }
            p.hint { "This page moves on by itself once you approve." }
            p { a #use-a-code href="/admin/sign-in/code" { "No device at hand? Use a code instead" } }
            p { a href="/admin/sign-in" { "Start again" } }
        }
    };
    respond(
        StatusCode::OK,
        page("Approve on your device", None, &[], body),
    )
}

fn not_approved() -> Response {
    let body = html! {
        section.signin {
            h1 { "Sign-in not approved" }
            p { "The push was denied, expired, or went to no admin's device." }
            p { a href="/admin/sign-in" { "Try again" } }
        }
    };
    with_cookies(
        respond(
            StatusCode::UNAUTHORIZED,
            page("Not approved", None, &[], body),
        ),
        [set_cookie(TICKET_COOKIE, "", 0)],
    )
}

/// The answer that carries a new session's cookie, and forgets the ticket.
fn signed_in(state: &AppState, session: NewConsoleSession) -> Response {
    let lifetime = state
        .assent
        .settings()
        .console
        .absolute_timeout
        .whole_seconds();
    with_cookies(
        Redirect::to("/admin/").into_response(),
        [
            set_cookie(SESSION_COOKIE, &session.token, lifetime),
            set_cookie(TICKET_COOKIE, "", 0),
        ],
    )
}

/// `GET /admin/sign-in/code`: the form of the fallback, on a page of its own (the waiting page
/// reloads itself, which would wipe a code being typed).
pub(crate) async fn code_page(headers: HeaderMap) -> Response {
    if cookie(&headers, TICKET_COOKIE).is_none() {
        return Redirect::to("/admin/sign-in").into_response();
    }
    let (form, new_cookie) = form_value(&headers);
    let body = html! {
        section.signin {
            h1 { "Sign in with a code" }
            p { "Type a code from your authenticator app (TOTP), or one of your recovery codes (it is then spent)." }
            form method="post" action="/admin/sign-in/code" {
                input type="hidden" name="form" value=(form);
                label for="code" { "Code" }
                input #code name="code" autocomplete="one-time-code" required autofocus maxlength="64";
                button type="submit" { "Sign in with the code" }
            }
            p { a href="/admin/sign-in/wait" { "Back to the push" } }
        }
    };
    with_cookies(
        respond(StatusCode::OK, page("Sign in with a code", None, &[], body)),
        new_cookie,
    )
}

/// `POST /admin/sign-in/code`: the TOTP or recovery-code fallback.
pub(crate) async fn with_code(
    State(state): State<AppState>,
    form: PublicForm,
) -> Result<Response, PageError> {
    let Some(ticket) = cookie(&form.headers, TICKET_COOKIE) else {
        return Ok(Redirect::to("/admin/sign-in").into_response());
    };
    let session = state
        .assent
        .console_sign_in_with_code(ticket, form.field("code"))
        .await?;
    Ok(signed_in(&state, session))
}

/// `POST /admin/sign-out`
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    form: AdminForm,
) -> Result<Response, PageError> {
    state.assent.end_console_session(&form.admin.token).await?;
    Ok(with_cookies(
        Redirect::to("/admin/sign-in").into_response(),
        [set_cookie(SESSION_COOKIE, "", 0)],
    ))
}
