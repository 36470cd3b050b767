//! The console's page frame and the headers every console answer carries: a strict content
//! security policy (this origin's own scripts and styles only, no inline code), no caching of
//! pages that show security state, never framed.

use assent_core::CoreError;
use assent_proto::ProblemCode;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// Only this origin's own scripts, styles and connections; forms post only here.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'self'";

/// The sections of the console, in the order of its navigation.
const SECTIONS: [(&str, &str); 9] = [
    ("/admin/", "Live"),
    ("/admin/charts", "Charts"),
    ("/admin/alerts", "Alerts"),
    ("/admin/users", "Users"),
    ("/admin/apps", "Applications"),
    ("/admin/policy", "Policy"),
    ("/admin/audit", "Audit"),
    ("/admin/access", "Access"),
    ("/admin/incidents", "Incidents"),
];

/// Who is signed in, for the frame: name and the CSRF token of the sign-out form.
pub(crate) struct Frame<'a> {
    pub username: &'a str,
    pub csrf: &'a str,
    /// The section this page belongs to (its path in [`SECTIONS`]).
    pub section: &'a str,
}

/// A whole page: the navigation when someone is signed in, the body, and the scripts it needs.
pub(crate) fn page(
    title: &str,
    frame: Option<&Frame<'_>>,
    scripts: &[&str],
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                title { (title) " · Assent console" }
                link rel="stylesheet" href="/admin/assets/console.css";
                @for script in scripts {
                    script type="module" src=(script) {}
                }
            }
            body {
                header.top {
                    a.brand href="/admin/" { "Assent console" }
                    @if let Some(frame) = frame {
                        nav {
                            @for (path, name) in SECTIONS {
                                @if path == frame.section {
                                    a href=(path) aria-current="page" { (name) }
                                } @else {
                                    a href=(path) { (name) }
                                }
                            }
                        }
                        form.signout method="post" action="/admin/sign-out" {
                            input type="hidden" name="csrf" value=(frame.csrf);
                            span.who { (frame.username) }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page as an answer, with the console's headers.
pub(crate) fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    secure_headers(&mut response, "text/html; charset=utf-8");
    response
}

/// The headers of every console answer.
pub(crate) fn secure_headers(response: &mut Response, content_type: &'static str) {
    // The console answers its own errors as pages, not problem documents.
    response
        .extensions_mut()
        .insert(crate::error::RenderedByProtocol);
    // `same-origin`, not `no-referrer`: without any referrer, browsers send `Origin: null` on
    // form posts, and the origin check could no longer tell the console's own forms.
    crate::http::protect(
        response,
        content_type,
        "no-store",
        CONTENT_SECURITY_POLICY,
        "same-origin",
    );
}

/// A console failure shown as a page: its status, its stable code and what to do.
#[derive(Debug)]
pub(crate) struct PageError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
}

impl PageError {
    pub(crate) fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        PageError {
            status: StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST),
            code: code.as_str(),
            detail: detail.into(),
        }
    }
}

impl From<CoreError> for PageError {
    fn from(e: CoreError) -> Self {
        let code = e.code();
        if code.status() >= 500 {
            tracing::error!(error = %e, "console page failed");
            return PageError::new(code, "the server could not do this now; its log says why");
        }
        PageError::new(code, e.to_string())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = html! {
            section.problem {
                h1 { "That did not work" }
                p { (self.detail) }
                p.code { "Error code: " code { (self.code) } }
                p { a href="/admin/" { "Back to the console" } }
            }
        };
        respond(self.status, page("Error", None, &[], body))
    }
}
