//! CIBA §7.1.1 signed authentication requests: the request's parameters as claims of a JWT the
//! client signs, so that they carry the client's signature end to end and cannot be replayed.

use super::claims;
use super::error::{OAuthError, OAuthErrorCode};
use super::form::Params;
use super::keys::{ClientKeySet, split};
use crate::exact_json::check_text;
use serde_json::Value;

/// Longest window from `nbf` to `exp` (CIBA §7.1.1: "MUST NOT be more than 60 minutes").
pub const MAX_REQUEST_OBJECT_LIFETIME: i64 = 3600;

/// The JWT claims of a request object that are not request parameters.
const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "iat", "nbf", "jti"];
/// `typ` values a request object may carry (RFC 9101 §10.8, or none): another kind of JWT the
/// client signed (an assertion, a DPoP proof) cannot be passed off as a request.
const ACCEPTED_TYPS: [&str; 3] = [
    "jwt",
    "oauth-authz-req+jwt",
    "application/oauth-authz-req+jwt",
];

/// A request object that passed every check but single use: the caller stores `jti` until
/// `expires_at` and refuses it a second time.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedRequestObject {
    /// The authentication request's parameters, as a form body would have carried them.
    pub params: Params,
    pub jti: String,
    pub expires_at: i64,
}

/// Verifies a signed authentication request. Failures are `invalid_request` (CIBA §13: the
/// request is invalid), with `invalid_authorization_details` for details whose text would not
/// survive the canonical form. The checks: the signature by one of the client's keys (ES256 or
/// PS256); `iss` is the client, so one client cannot present another's request; `aud` names
/// this server, so a request made for another provider is refused; `exp`, `iat`, `nbf` and
/// `jti` are all required (CIBA §7.1.1), `exp` in the future, `nbf` not in the future and at
/// most an hour from `nbf` to `exp`, which bounds how long a captured request is worth
/// replaying while its `jti` is remembered.
///
/// The remaining claims become parameters: strings as they are, numbers as their decimal text
/// (`requested_expiry`), booleans as `true`/`false`, arrays and objects as JSON text
/// (`authorization_details`). A `client_id` claim must be the client's; a nested `request` is
/// refused. The whole payload must be exact JSON (`crate::exact_json`), which keeps the details
/// the client signed identical to what the device will show.
pub fn verify_request_object(
    jwt: &str,
    keys: &ClientKeySet,
    client_id: &str,
    issuer: &str,
    now: i64,
    leeway: i64,
) -> Result<VerifiedRequestObject, OAuthError> {
    let refuse = |defect: String| {
        OAuthError::new(
            OAuthErrorCode::InvalidRequest,
            format!("request object: {defect}"),
        )
    };
    let verified = keys
        .verify_jwt(jwt, None)
        .map_err(|e| refuse(e.to_string()))?;
    if let Some(typ) = verified.header.get("typ") {
        let accepted = typ
            .as_str()
            .is_some_and(|t| ACCEPTED_TYPS.iter().any(|a| a.eq_ignore_ascii_case(t)));
        if !accepted {
            return Err(refuse("typ must be oauth-authz-req+jwt or JWT".into()));
        }
    }
    let payload = split(jwt)
        .ok()
        .and_then(|parts| parts.payload())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&payload);
    check_text(&text, "").map_err(|inexact| {
        let code = if inexact.pointer().starts_with("/authorization_details") {
            OAuthErrorCode::InvalidAuthorizationDetails
        } else {
            OAuthErrorCode::InvalidRequest
        };
        OAuthError::new(code, format!("request object: {inexact}"))
    })?;
    let claims = verified.claims;
    if claims::string(&claims, "iss").map_err(refuse)? != Some(client_id) {
        return Err(refuse("iss must be the client_id".into()));
    }
    claims::audience_matches(&claims, &[issuer]).map_err(refuse)?;
    let exp = claims::required_time(&claims, "exp").map_err(refuse)?;
    let iat = claims::required_time(&claims, "iat").map_err(refuse)?;
    let nbf = claims::required_time(&claims, "nbf").map_err(refuse)?;
    let jti = claims::jti(&claims).map_err(refuse)?;
    if exp <= now.saturating_sub(leeway) {
        return Err(refuse("it has expired".into()));
    }
    let horizon = now.saturating_add(leeway);
    if nbf > horizon {
        return Err(refuse("nbf is in the future".into()));
    }
    if iat > horizon {
        return Err(refuse("iat is in the future".into()));
    }
    if exp.saturating_sub(nbf) > MAX_REQUEST_OBJECT_LIFETIME {
        return Err(refuse(format!(
            "exp is more than {MAX_REQUEST_OBJECT_LIFETIME} seconds after nbf"
        )));
    }
    let mut params = Params::default();
    for (name, value) in &claims {
        if JWT_CLAIMS.contains(&name.as_str()) {
            continue;
        }
        if name == "request" || name == "request_uri" {
            return Err(refuse(format!(
                "{name} cannot be nested in a request object"
            )));
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            Value::Array(_) | Value::Object(_) => value.to_string(),
        };
        if name == "client_id" && text != client_id {
            return Err(refuse("client_id must be the client's".into()));
        }
        params.insert(name.clone(), text);
    }
    Ok(VerifiedRequestObject {
        params,
        jti,
        expires_at: exp,
    })
}

#[cfg(test)]
#[path = "request_object_tests.rs"]
mod tests;
