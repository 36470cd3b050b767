//! The admin console at `/admin/`: server-rendered pages (maud), a little dependency-free
//! JavaScript only where a page must act by itself (the live feed), every asset served from
//! here under a strict content security policy. Admins sign in with a push to their own device
//! through Assent; every action goes through the same domain calls as the admin API and is
//! audited under the admin's name (`console:<username>`).

mod access;
mod alerts;
mod apps;
mod assets;
mod audit;
mod auth;
mod charts;
mod describe;
mod incidents;
pub mod input;
mod live;
mod page;
mod policy;
mod sign_in;
mod throttle;

pub(crate) use throttle::SignInThrottle;
mod users;

use crate::http::AppState;
use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

/// The console's routes; none when it is turned off.
pub(crate) fn router(enabled: bool) -> Router<AppState> {
    if !enabled {
        return Router::new();
    }
    Router::new()
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route("/admin/", get(live::live_page))
        .route("/admin/live/events", get(live::events))
        .route(
            "/admin/sign-in",
            get(sign_in::sign_in_page).post(sign_in::start),
        )
        .route("/admin/sign-in/wait", get(sign_in::wait))
        .route(
            "/admin/sign-in/code",
            get(sign_in::code_page).post(sign_in::with_code),
        )
        .route("/admin/sign-out", post(sign_in::sign_out))
        .route("/admin/alerts", get(alerts::alerts))
        .route("/admin/users", get(users::list))
        .route("/admin/users/{username}", get(users::user))
        .route(
            "/admin/users/{username}/lift-suspension",
            post(users::lift_suspension),
        )
        .route("/admin/users/{username}/suspend", post(users::suspend))
        .route(
            "/admin/users/{username}/remove-totp",
            post(users::remove_totp),
        )
        .route(
            "/admin/users/{username}/recovery-codes",
            post(users::recovery_codes),
        )
        .route("/admin/devices/{id}/revoke", post(users::revoke_device))
        .route("/admin/devices/{id}/rename", post(users::rename_device))
        .route("/admin/apps", get(apps::apps).post(apps::create))
        .route("/admin/apps/{id}/rotate", post(apps::rotate))
        .route("/admin/keys/{id}/revoke", post(apps::revoke))
        .route("/admin/audit", get(audit::audit))
        .route("/admin/audit/verify", post(audit::verify))
        .route("/admin/audit/export", get(audit::export))
        .route("/admin/charts", get(charts::charts))
        .route("/admin/policy", get(policy::policy))
        .route("/admin/access", get(access::access))
        .route("/admin/access/{id}/review", post(access::review))
        .route("/admin/access/{id}/revoke", post(access::revoke))
        .route(
            "/admin/incidents",
            get(incidents::incidents).post(incidents::send),
        )
        .route("/admin/incidents/{id}", get(incidents::incident))
        .merge(assets::router())
}
