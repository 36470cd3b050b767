//! The OpenID CIBA endpoints: discovery, backchannel authentication, the token endpoint's CIBA
//! grant, revocation and introspection. Each handler reads the form, authenticates the client,
//! calls one core function and renders its answer or its OAuth error.

use super::docs::{BackchannelForm, IntrospectionForm, RevocationForm, TokenForm};
use super::reply::{OAuthReply, no_store};
use crate::http::AppState;
use assent_core::Assent;
use assent_core::ciba::{AuthenticatedClient, StartBackchannel};
use assent_proto::oauth::backchannel::BackchannelRequest;
use assent_proto::oauth::dpop::{DpopCheck, verify_dpop_proof};
use assent_proto::oauth::error::{Endpoint, OAuthErrorCode};
use assent_proto::oauth::form::{Params, client_credentials};
use assent_proto::oauth::metadata::ProviderMetadata;
use assent_proto::oauth::request_object::verify_request_object;
use assent_proto::oauth::tokens::BackchannelResponse;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The largest form body accepted: a signed request object with its authorization details.
const MAX_FORM: usize = 64 * 1024;
/// The grant type of CIBA's token request.
pub(crate) const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";
/// How old a DPoP proof may be, and the clock skew tolerated on it and on request objects.
const DPOP_MAX_AGE: i64 = 300;
const LEEWAY: i64 = 60;

pub(crate) const BACKCHANNEL_PATH: &str = "/oauth2/bc-authorize";
pub(crate) const TOKEN_PATH: &str = "/oauth2/token";
pub(crate) const REVOCATION_PATH: &str = "/oauth2/revoke";
pub(crate) const INTROSPECTION_PATH: &str = "/oauth2/introspect";

/// A form request from an authenticated client: its parameters (the credentials taken out)
/// and the DPoP header if any.
struct ClientForm {
    client: AuthenticatedClient,
    params: Params,
    dpop: Option<String>,
}

/// A required parameter, or `invalid_request` naming it.
fn required<'a>(params: &'a Params, name: &str, endpoint: Endpoint) -> Result<&'a str, OAuthReply> {
    params.get(name).ok_or_else(|| {
        OAuthReply::new(
            endpoint,
            OAuthErrorCode::InvalidRequest,
            format!("{name} is required"),
        )
    })
}

/// The endpoint's answer: the body with `Cache-Control: no-store`, or the OAuth error.
fn answer<T: serde::Serialize>(result: Result<T, OAuthReply>) -> Response {
    match result {
        Ok(body) => no_store(StatusCode::OK, &body),
        Err(reply) => reply.into_response(),
    }
}

/// Reads the form at `path` and authenticates its client.
async fn client_form(
    assent: &Assent,
    req: Request,
    endpoint: Endpoint,
    path: &str,
) -> Result<ClientForm, OAuthReply> {
    let refuse =
        |description: &str| OAuthReply::new(endpoint, OAuthErrorCode::InvalidRequest, description);
    let (parts, body) = req.into_parts();
    let form_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(refuse("the body must be application/x-www-form-urlencoded"));
    }
    let header_text = |name: header::HeaderName| -> Result<Option<String>, OAuthReply> {
        match parts.headers.get_all(&name).iter().count() {
            0 => Ok(None),
            1 => parts.headers[&name]
                .to_str()
                .map(|v| Some(v.to_owned()))
                .map_err(|_| refuse("a header is not visible ASCII")),
            _ => Err(refuse("a header appears more than once")),
        }
    };
    let authorization = header_text(header::AUTHORIZATION)?;
    let dpop = header_text(header::HeaderName::from_static("dpop"))?;
    let bytes = axum::body::to_bytes(body, MAX_FORM)
        .await
        .map_err(|_| refuse("the body is too large or was cut off"))?;
    let mut params = Params::parse(&bytes).map_err(|e| OAuthReply::oauth(endpoint, e))?;
    let basic = authorization
        .as_deref()
        .is_some_and(|a| a.len() > 6 && a[..6].eq_ignore_ascii_case("basic "));
    let credentials =
        client_credentials(authorization.as_deref(), &mut params).map_err(|e| OAuthReply {
            basic,
            ..OAuthReply::oauth(endpoint, e)
        })?;
    let url = format!("{}{path}", assent.issuer());
    let client = assent
        .authenticate_client(credentials, &url)
        .await
        .map_err(|e| OAuthReply {
            basic,
            ..OAuthReply::from_ciba(endpoint, e)
        })?;
    Ok(ClientForm {
        client,
        params,
        dpop,
    })
}

/// OpenID Provider metadata (OpenID Connect Discovery 1.0, with CIBA's members).
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "openid",
    responses((status = 200, description = "the provider metadata", content_type = "application/json")))]
pub(crate) async fn discovery(State(state): State<AppState>) -> Response {
    let types = match state.assent.authorization_details_types().await {
        Ok(types) => types,
        Err(e) => return OAuthReply::from_ciba(Endpoint::Token, e.into()).into_response(),
    };
    let metadata = ProviderMetadata::new(state.assent.issuer(), types);
    axum::Json(metadata).into_response()
}

/// Backchannel authentication request (CIBA Core 1.0, section 7): asks the user on their device.
#[utoipa::path(post, path = "/oauth2/bc-authorize", tag = "openid",
    request_body(content = BackchannelForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = BackchannelResponse),
        (status = "4XX", description = "an OAuth error body: invalid_request, invalid_scope, unknown_user_id, unauthorized_client, invalid_binding_message, invalid_client, access_denied, missing_user_code, invalid_user_code, expired_login_hint_token, invalid_authorization_details")))]
pub(crate) async fn backchannel(State(state): State<AppState>, req: Request) -> Response {
    let endpoint = Endpoint::Backchannel;
    let result = async {
        let form = client_form(&state.assent, req, endpoint, BACKCHANNEL_PATH).await?;
        let client = form.client;
        let params = request_params(&state.assent, &client, form.params).await?;
        let request =
            BackchannelRequest::from_params(&params).map_err(|e| OAuthReply::oauth(endpoint, e))?;
        let token_lifetime = match params.get("access_token_lifetime") {
            None => None,
            Some(text) => Some(text.parse::<u32>().ok().filter(|s| *s > 0).ok_or_else(|| {
                OAuthReply::new(
                    endpoint,
                    OAuthErrorCode::InvalidRequest,
                    "access_token_lifetime is a positive number of seconds",
                )
            })?),
        };
        let started = state
            .assent
            .start_backchannel(
                &client,
                StartBackchannel {
                    request,
                    token_lifetime,
                },
            )
            .await
            .map_err(|e| OAuthReply::from_ciba(endpoint, e))?;
        Ok::<_, OAuthReply>(BackchannelResponse {
            auth_req_id: started.auth_req_id,
            expires_in: started.expires_in,
            interval: started.interval,
            display_code: started.display_code,
        })
    }
    .await;
    answer(result)
}

/// The authentication request's parameters: the form's, or those of its signed request object
/// (CIBA 7.1.1), in which case no other authentication parameter may stand beside it.
async fn request_params(
    assent: &Assent,
    client: &AuthenticatedClient,
    mut params: Params,
) -> Result<Params, OAuthReply> {
    let endpoint = Endpoint::Backchannel;
    let invalid = |d: &str| OAuthReply::new(endpoint, OAuthErrorCode::InvalidRequest, d);
    let Some(object) = params.take("request") else {
        return Ok(params);
    };
    if !params.is_empty() {
        return Err(invalid(
            "with a signed request object, every parameter is inside it",
        ));
    }
    let keys = client
        .keys()
        .ok_or_else(|| invalid("signed request objects need a key registered for the client"))?;
    let now = assent.now().unix_timestamp();
    let verified = verify_request_object(
        &object,
        keys,
        &client.client().client_id,
        assent.issuer(),
        now,
        LEEWAY,
    )
    .map_err(|e| OAuthReply::oauth(endpoint, e))?;
    let forget_after = time::OffsetDateTime::from_unix_timestamp(verified.expires_at + LEEWAY)
        .unwrap_or_else(|_| assent.now());
    let fresh = assent
        .store()
        .consume_proof(
            &format!("request:{}", client.client().client_id),
            &verified.jti,
            forget_after,
        )
        .await
        .map_err(|e| OAuthReply::from_ciba(endpoint, e.into()))?;
    if !fresh {
        return Err(invalid("this request object was already used"));
    }
    Ok(verified.params)
}

/// Token request with the CIBA grant (CIBA Core 1.0, section 10): the outcome of a request.
#[utoipa::path(post, path = "/oauth2/token", tag = "openid",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = assent_proto::oauth::tokens::TokenResponse),
        (status = "4XX", description = "an OAuth error body: authorization_pending, slow_down, expired_token, access_denied, invalid_grant, invalid_client, unsupported_grant_type, unauthorized_client, invalid_dpop_proof")))]
pub(crate) async fn token(State(state): State<AppState>, req: Request) -> Response {
    let endpoint = Endpoint::Token;
    let result = async {
        let form = client_form(&state.assent, req, endpoint, TOKEN_PATH).await?;
        if form.params.get("grant_type") != Some(CIBA_GRANT) {
            return Err(OAuthReply::new(
                endpoint,
                OAuthErrorCode::UnsupportedGrantType,
                format!("the only grant type is {CIBA_GRANT}"),
            ));
        }
        let auth_req_id = required(&form.params, "auth_req_id", endpoint)?;
        let dpop = match &form.dpop {
            None => None,
            Some(proof) => {
                let url = format!("{}{TOKEN_PATH}", state.assent.issuer());
                let check = DpopCheck {
                    method: "POST",
                    url: &url,
                    now: state.assent.now().unix_timestamp(),
                    max_age: DPOP_MAX_AGE,
                    leeway: LEEWAY,
                    access_token: None,
                };
                Some(verify_dpop_proof(proof, &check).map_err(|e| OAuthReply::oauth(endpoint, e))?)
            }
        };
        state
            .assent
            .ciba_token(&form.client, auth_req_id, dpop)
            .await
            .map_err(|e| OAuthReply::from_ciba(endpoint, e))
    }
    .await;
    answer(result.map(|issued| issued.response))
}

/// Token revocation (RFC 7009): the client's own access token stops being good at once.
#[utoipa::path(post, path = "/oauth2/revoke", tag = "openid",
    request_body(content = RevocationForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "revoked, or not a token of this client (the same answer)"),
        (status = "4XX", description = "an OAuth error body: invalid_client, invalid_request")))]
pub(crate) async fn revoke(State(state): State<AppState>, req: Request) -> Response {
    let endpoint = Endpoint::Revocation;
    let result = async {
        let form = client_form(&state.assent, req, endpoint, REVOCATION_PATH).await?;
        let token = required(&form.params, "token", endpoint)?;
        state
            .assent
            .revoke_access_token(&form.client, token)
            .await
            .map_err(|e| OAuthReply::from_ciba(endpoint, e))
    }
    .await;
    answer(result.map(|()| serde_json::json!({})))
}

/// Token introspection (RFC 7662): whether an access token is good now, and what it grants.
#[utoipa::path(post, path = "/oauth2/introspect", tag = "openid",
    request_body(content = IntrospectionForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = assent_proto::oauth::tokens::IntrospectionResponse),
        (status = "4XX", description = "an OAuth error body: invalid_client, invalid_request")))]
pub(crate) async fn introspect(State(state): State<AppState>, req: Request) -> Response {
    let endpoint = Endpoint::Introspection;
    let result = async {
        let form = client_form(&state.assent, req, endpoint, INTROSPECTION_PATH).await?;
        let token = required(&form.params, "token", endpoint)?;
        state
            .assent
            .introspect_access_token(&form.client, token)
            .await
            .map_err(|e| OAuthReply::from_ciba(endpoint, e))
    }
    .await;
    answer(result)
}
