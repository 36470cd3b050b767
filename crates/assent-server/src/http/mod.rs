//! Routes, shared state and the OpenAPI description, which is generated from the handlers'
//! annotations so it cannot drift from the code.

mod ciba;
mod duo;
mod errors_doc;
mod meta;
mod v1;
mod web;

pub(crate) use v1::audit::{AuditParams, export_response};
pub(crate) use v1::problem::render_problems;
pub use v1::render::audit_report;
pub(crate) use v1::render::webhook_data;
use v1::{access, admin, device, factors, groups, passkeys, rp};
pub(crate) use web::protect;

use crate::error::ApiError;
use crate::middleware::{Deadlines, request_context};
use assent_core::Assent;
use assent_proto::ProblemCode;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    pub assent: Arc<Assent>,
    /// Longest long poll a relying party may ask for.
    pub max_wait: Duration,
    /// The VAPID public key browsers subscribe to Web Push with (base64url point).
    pub vapid_public_key: String,
    /// Where the policy and risk lists are reloaded from.
    pub policy_sources: crate::policy_files::PolicySources,
    /// Turns `true` when the server begins shutting down; streams and long polls end then.
    pub shutdown: watch::Receiver<bool>,
    /// The console's sign-in starts per address.
    pub sign_in_throttle: Arc<crate::console::SignInThrottle>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Assent",
        description = "Push approval server: relying-party, device and admin APIs. Errors are RFC 9457 problem details (application/problem+json) whose `type` is urn:assent:problem:<code>.",
        license(name = "Apache-2.0")
    ),
    modifiers(&Security),
    components(schemas(assent_proto::problem::Problem, assent_proto::ProblemCode, ciba::OAuthErrorBody)),
    tags(
        (name = "relying party", description = "Ask for approvals and read their outcome (Bearer application API key)"),
        (name = "factors", description = "Fallbacks for when push cannot work: TOTP, recovery codes, and what a user can use now (Bearer application API key)"),
        (name = "device", description = "Enroll, fetch requests and answer them (DPoP-shaped device proofs, signed statements)"),
        (name = "admin", description = "Applications, users, enrollments, devices, audit (Bearer admin API key)"),
        (name = "openid", description = "OpenID Connect CIBA: discovery, backchannel authentication, tokens, revocation, introspection (OAuth error bodies, not problem documents)"),
        (name = "meta", description = "Health, keys, this description")
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "device_proof",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "DPoP",
                "Compact JWS (typ dpop+jwt, ES256) with the device's public key in `jwk` and claims jti, htm, htu, iat",
            ))),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(rp::create_approval))
        .routes(routes!(rp::get_approval, rp::cancel_approval))
        .routes(routes!(rp::approval_events))
        .routes(routes!(rp::create_enrollment))
        .routes(routes!(rp::report_event))
        .routes(routes!(admin::set_webhook, admin::webhook_status))
        .routes(routes!(admin::policy_rules))
        .routes(routes!(admin::reload_policy))
        .routes(routes!(device::enroll))
        .routes(routes!(device::list_pending))
        .routes(routes!(device::get_approval))
        .routes(routes!(device::decide))
        .routes(routes!(device::stream))
        .routes(routes!(device::me))
        .routes(routes!(device::devices))
        .routes(routes!(device::rename_device))
        .routes(routes!(device::revoke_device))
        .routes(routes!(device::activate_device))
        .routes(routes!(
            device::recovery_count,
            device::regenerate_recovery_codes
        ))
        .routes(routes!(factors::enroll_totp))
        .routes(routes!(factors::verify_totp))
        .routes(routes!(factors::verify_recovery_code))
        .routes(routes!(factors::recovery_codes))
        .routes(routes!(factors::factors))
        .routes(routes!(factors::admin_factors))
        .routes(routes!(factors::admin_recovery_codes))
        .routes(routes!(factors::remove_totp))
        .routes(routes!(device::register_passkey))
        .routes(routes!(device::alerts))
        .routes(routes!(device::push_subscription))
        .routes(routes!(device::push_token))
        .routes(routes!(admin::set_user_email))
        .routes(routes!(rp::set_user_email))
        .routes(routes!(meta::vapid_public_key))
        .routes(routes!(admin::create_app, v1::keys::list_apps))
        .routes(routes!(v1::keys::rotate_key))
        .routes(routes!(v1::keys::revoke_key))
        .routes(routes!(admin::create_user, admin::list_users))
        .routes(routes!(admin::create_enrollment))
        .routes(routes!(admin::list_devices))
        .routes(routes!(admin::revoke_device))
        .routes(routes!(admin::verify_audit))
        .routes(routes!(v1::audit::search))
        .routes(routes!(v1::audit::export))
        .routes(routes!(v1::audit::checkpoint))
        .routes(routes!(v1::activity::activity))
        .routes(routes!(v1::activity::report))
        .routes(routes!(
            v1::broadcasts::create_broadcast,
            v1::broadcasts::list_broadcasts
        ))
        .routes(routes!(v1::broadcasts::get_broadcast))
        .routes(routes!(v1::broadcasts::device_broadcasts))
        .routes(routes!(v1::broadcasts::acknowledge))
        .routes(routes!(meta::live))
        .routes(routes!(meta::ready))
        .routes(routes!(meta::jwks))
        .routes(routes!(ciba::endpoints::discovery))
        .routes(routes!(ciba::endpoints::backchannel))
        .routes(routes!(ciba::endpoints::token))
        .routes(routes!(ciba::endpoints::revoke))
        .routes(routes!(ciba::endpoints::introspect))
        .routes(routes!(ciba::admin::create_ciba_client))
        .routes(routes!(ciba::admin::create_agent))
        .routes(routes!(duo::admin::create_duo_integration))
        .routes(routes!(groups::create_group, groups::list_groups))
        .routes(routes!(groups::add_member, groups::remove_member))
        .routes(routes!(groups::set_app_scope))
        .routes(routes!(access::create_access_request))
        .routes(routes!(
            access::get_access_request,
            access::cancel_access_request
        ))
        .routes(routes!(access::introspect_grant))
        .routes(routes!(access::admin_get_access_request))
        .routes(routes!(access::admin_revoke_grant))
        .routes(routes!(access::device_revoke_grant))
        .routes(routes!(access::invoke_break_glass))
        .routes(routes!(access::set_break_glass_code))
        .routes(routes!(access::unreviewed_break_glass))
        .routes(routes!(access::review_break_glass))
        .routes(routes!(passkeys::set_webauthn))
        .routes(routes!(passkeys::start_registration))
        .routes(routes!(passkeys::finish_registration))
        .routes(routes!(passkeys::start_authentication))
        .routes(routes!(passkeys::finish_authentication))
}

/// The OpenAPI 3.1 description of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = api_router().split_for_parts().1;
    errors_doc::document_errors(&mut api);
    api
}

/// The whole application; with `metrics`, `GET /metrics` too, and with `console`, the admin
/// console under `/admin/`.
pub(crate) fn router(
    state: AppState,
    deadlines: Deadlines,
    body_limit: usize,
    metrics: bool,
    console: bool,
) -> Router {
    let (router, mut api) = api_router().split_for_parts();
    errors_doc::document_errors(&mut api);
    let api = Arc::new(api);
    let mut router = router
        .route(
            "/openapi.json",
            axum::routing::get(move || meta::openapi_json(api.clone())),
        )
        .merge(web::router())
        .merge(duo::router())
        .merge(crate::console::router(console));
    if metrics {
        router = router.route(
            "/metrics",
            axum::routing::get(crate::prometheus::exposition),
        );
    }
    router
        .route_layer(axum::middleware::from_fn(crate::prometheus::mark_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            deadlines,
            request_context,
        ))
        .with_state(state)
}

/// Whether a path is a Duo call that may hold its request (a synchronous push, a long poll).
pub(crate) fn is_duo_long_call(path: &str) -> bool {
    duo::is_long_call(path)
}

/// Resolves once the server begins shutting down.
pub(crate) async fn shutting_down(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|down| *down).await;
}

async fn not_found() -> ApiError {
    ApiError::new(ProblemCode::NotFound, "no such endpoint; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ProblemCode::MethodNotAllowed,
        "this endpoint does not take this method; see /openapi.json",
    )
}
