//! Who is at the console: the session cookie, and the checks every form post passes before its
//! handler runs (same origin, and the session's CSRF token in the form).
//!
//! Cookies are `__Host-` prefixed (so only this origin, over a secure connection, with path `/`
//! can set them), `Secure`, `HttpOnly` (no script reads them) and `SameSite=Strict` (no other
//! site's page sends them).

use super::page::PageError;
use crate::http::AppState;
use assent_core::console::ConsoleAdmin;
use assent_proto::ProblemCode;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

/// The session cookie: the token whose hash the store keeps.
pub(crate) const SESSION_COOKIE: &str = "__Host-assent-console";
/// The sign-in ticket, while the push waits.
pub(crate) const TICKET_COOKIE: &str = "__Host-assent-sign-in";
/// The sign-in form's double-submit value, before there is a session to bind a token to.
pub(crate) const FORM_COOKIE: &str = "__Host-assent-form";

/// The largest form the console accepts.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A cookie's value from the request.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    super::input::cookie(values, name)
}

/// A `Set-Cookie` value for one of the console's cookies; `max_age` in seconds, 0 to delete.
pub(crate) fn set_cookie(name: &str, value: &str, max_age: i64) -> HeaderValue {
    let text = format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
        max_age.max(0)
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The admin behind the request's session cookie, with the cookie's token.
pub(crate) struct Admin {
    pub admin: ConsoleAdmin,
    pub token: String,
}

impl Admin {
    pub(crate) fn username(&self) -> &str {
        self.admin.user.username.as_str()
    }

    /// A page of the console, for this admin, in its section of the navigation.
    pub(crate) fn page(
        &self,
        title: &str,
        section: &str,
        scripts: &[&str],
        body: maud::Markup,
    ) -> Response {
        let frame = super::page::Frame {
            username: self.username(),
            csrf: &self.admin.csrf_token,
            section,
        };
        super::page::respond(
            axum::http::StatusCode::OK,
            super::page::page(title, Some(&frame), scripts, body),
        )
    }
}

/// Where a request without a live session goes.
pub(crate) fn to_sign_in() -> Response {
    Redirect::to("/admin/sign-in").into_response()
}

async fn admin_of(headers: &HeaderMap, state: &AppState) -> Result<Admin, Response> {
    let token = cookie(headers, SESSION_COOKIE).ok_or_else(to_sign_in)?;
    match state.assent.console_session(token).await {
        Ok(admin) => Ok(Admin {
            admin,
            token: token.to_owned(),
        }),
        Err(e) if e.code() == ProblemCode::Unauthorized => Err(to_sign_in()),
        Err(e) => Err(PageError::from(e).into_response()),
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        admin_of(&parts.headers, state).await
    }
}

/// Refuses a post that a browser says came from another site. Browsers send `Origin` with every
/// form post: it must be the server's public origin or the very host the request was sent to.
/// A request without one (not from a browser) still needs the CSRF token.
fn same_origin(headers: &HeaderMap, state: &AppState) -> Result<(), PageError> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let ours = state.assent.settings().origin();
    let origin_ok = match origin {
        None => true,
        Some(o) => {
            o == ours
                || host.is_some_and(|h| {
                    o.strip_prefix("https://")
                        .or_else(|| o.strip_prefix("http://"))
                        == Some(h)
                })
        }
    };
    let foreign_site = site.is_some_and(|s| s == "cross-site" || s == "same-site");
    if !origin_ok || foreign_site {
        return Err(csrf_refused());
    }
    Ok(())
}

pub(crate) fn csrf_refused() -> PageError {
    PageError::new(
        ProblemCode::Forbidden,
        "this form did not come from a page of this console, or the page is out of date (CSRF check failed): reload the page and try again",
    )
}

async fn form_fields(request: Request) -> Result<HashMap<String, String>, Response> {
    let bytes = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            PageError::new(ProblemCode::BodyTooLarge, "the form is too large").into_response()
        })?;
    super::input::form(&bytes).map_err(|_| {
        PageError::new(ProblemCode::InvalidRequest, "a form field appears twice").into_response()
    })
}

/// A form posted by a signed-in admin whose CSRF token matched.
pub(crate) struct AdminForm {
    pub admin: Admin,
    pub fields: HashMap<String, String>,
}

impl AdminForm {
    /// A field's value, trimmed; empty when absent.
    pub(crate) fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |v| v.trim())
    }
}

impl FromRequest<AppState> for AdminForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        same_origin(request.headers(), state).map_err(IntoResponse::into_response)?;
        let admin = admin_of(request.headers(), state).await?;
        let fields = form_fields(request).await?;
        let presented = fields.get("csrf").map_or("", String::as_str);
        if !state.assent.console_csrf_matches(&admin.token, presented) {
            tracing::warn!(
                admin = admin.username(),
                "console form refused: CSRF token missing or wrong"
            );
            return Err(csrf_refused().into_response());
        }
        Ok(AdminForm { admin, fields })
    }
}

/// A form posted before there is a session (the sign-in forms): same origin, and the value of
/// the form cookie repeated in the form.
pub(crate) struct PublicForm {
    pub headers: HeaderMap,
    pub fields: HashMap<String, String>,
}

impl PublicForm {
    pub(crate) fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |v| v.trim())
    }
}

impl FromRequest<AppState> for PublicForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        same_origin(request.headers(), state).map_err(IntoResponse::into_response)?;
        let headers = request.headers().clone();
        let fields = form_fields(request).await?;
        let expected = cookie(&headers, FORM_COOKIE).unwrap_or("");
        let presented = fields.get("form").map_or("", String::as_str);
        if expected.is_empty() || !assent_core::secrets::constant_time_eq(expected, presented) {
            return Err(csrf_refused().into_response());
        }
        Ok(PublicForm { headers, fields })
    }
}
