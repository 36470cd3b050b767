//! The CIBA backchannel authentication request (CIBA Core 1.0 §7.1), parsed from its form
//! parameters into values that are valid by construction. Who the user is, whether the client
//! may ask, and what the details mean are the core's decisions.

use super::error::{OAuthError, OAuthErrorCode};
use super::form::Params;
use crate::exact_json::check_text;
use serde_json::Value;

/// Longest binding message, in characters: a sentence, not a document (Assent's own API has the
/// same rule).
pub const MAX_BINDING_MESSAGE: usize = 500;
/// Longest `client_notification_token`.
pub const MAX_NOTIFICATION_TOKEN: usize = 1024;
/// Longest `user_code`.
pub const MAX_USER_CODE: usize = 64;
/// Most `authorization_details` objects in one request.
pub const MAX_AUTHORIZATION_DETAILS: usize = 16;
/// Longest `login_hint`: a user name or e-mail address.
pub const MAX_LOGIN_HINT: usize = 256;
/// Longest `id_token_hint` or `login_hint_token`: a JWT.
pub const MAX_HINT_TOKEN: usize = crate::jose::MAX_JWS_LEN;

/// Who the client says the user is: exactly one of CIBA's three hints (§7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    LoginHint(String),
    IdTokenHint(String),
    LoginHintToken(String),
}

/// A backchannel authentication request, its parameters checked.
#[derive(Debug, Clone, PartialEq)]
pub struct BackchannelRequest {
    /// The scopes, in order, without repetition; `openid` is among them.
    pub scope: Vec<String>,
    pub hint: Hint,
    pub binding_message: Option<String>,
    pub user_code: Option<String>,
    /// Seconds the client would like the request to live; the server may choose less.
    pub requested_expiry: Option<u32>,
    pub acr_values: Vec<String>,
    /// RFC 9396 objects, each with a non-empty string `type`.
    pub authorization_details: Vec<Value>,
    /// The bearer token the server presents on ping and push callbacks.
    pub client_notification_token: Option<String>,
}

fn error(code: OAuthErrorCode, description: impl Into<String>) -> OAuthError {
    OAuthError::new(code, description)
}

impl BackchannelRequest {
    /// Reads the request's parameters; unknown parameters are ignored (RFC 6749 §3.1). A
    /// `request` parameter (a signed request object) is the caller's: it verifies it with
    /// [`super::request_object::verify_request_object`] and passes the object's parameters here.
    pub fn from_params(params: &Params) -> Result<Self, OAuthError> {
        let scope = scope(params.get("scope"))?;
        let hint = hint(params)?;
        let binding_message = params
            .get("binding_message")
            .map(binding_message)
            .transpose()?;
        let user_code = params.get("user_code").map(user_code).transpose()?;
        let requested_expiry = params
            .get("requested_expiry")
            .map(requested_expiry)
            .transpose()?;
        let acr_values = match params.get("acr_values") {
            Some(values) => tokens(values).ok_or_else(|| {
                error(
                    OAuthErrorCode::InvalidRequest,
                    "acr_values is not a list of space-separated values",
                )
            })?,
            None => Vec::new(),
        };
        let authorization_details = match params.get("authorization_details") {
            Some(text) => authorization_details(text)?,
            None => Vec::new(),
        };
        let client_notification_token = params
            .get("client_notification_token")
            .map(notification_token)
            .transpose()?;
        Ok(BackchannelRequest {
            scope,
            hint,
            binding_message,
            user_code,
            requested_expiry,
            acr_values,
            authorization_details,
            client_notification_token,
        })
    }
}

/// Space-separated tokens of RFC 6749 §3.3's characters (`%x21 / %x23-5B / %x5D-7E`), in
/// order, without repetition. `None` when a character is outside that set or no token is given.
fn tokens(text: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for token in text.split(' ').filter(|t| !t.is_empty()) {
        if !token
            .chars()
            .all(|c| matches!(c, '!' | '#'..='[' | ']'..='~'))
        {
            return None;
        }
        if !out.iter().any(|t| t == token) {
            out.push(token.to_owned());
        }
    }
    (!out.is_empty()).then_some(out)
}

/// CIBA is an OpenID Connect flow: `openid` must be asked for (§7.1).
fn scope(scope: Option<&str>) -> Result<Vec<String>, OAuthError> {
    let scope = scope.ok_or_else(|| error(OAuthErrorCode::InvalidRequest, "scope is required"))?;
    let scopes = tokens(scope).ok_or_else(|| {
        error(
            OAuthErrorCode::InvalidScope,
            "scope is not a list of scope tokens",
        )
    })?;
    if !scopes.iter().any(|s| s == "openid") {
        return Err(error(
            OAuthErrorCode::InvalidScope,
            "scope must include openid",
        ));
    }
    Ok(scopes)
}

/// Exactly one hint, so that the user is never chosen by precedence between two hints.
fn hint(params: &Params) -> Result<Hint, OAuthError> {
    let login_hint = params.get("login_hint");
    let id_token_hint = params.get("id_token_hint");
    let login_hint_token = params.get("login_hint_token");
    let given = [login_hint, id_token_hint, login_hint_token]
        .iter()
        .filter(|h| h.is_some())
        .count();
    if given != 1 {
        return Err(error(
            OAuthErrorCode::InvalidRequest,
            "give exactly one of login_hint, id_token_hint and login_hint_token",
        ));
    }
    let too_long = |name: &str| {
        error(
            OAuthErrorCode::InvalidRequest,
            format!("{name} is too long"),
        )
    };
    if let Some(hint) = login_hint {
        if hint.chars().count() > MAX_LOGIN_HINT || hint.chars().any(char::is_control) {
            return Err(error(
                OAuthErrorCode::InvalidRequest,
                format!("login_hint is at most {MAX_LOGIN_HINT} printable characters"),
            ));
        }
        return Ok(Hint::LoginHint(hint.to_owned()));
    }
    if let Some(hint) = id_token_hint {
        if hint.len() > MAX_HINT_TOKEN {
            return Err(too_long("id_token_hint"));
        }
        return Ok(Hint::IdTokenHint(hint.to_owned()));
    }
    match login_hint_token {
        Some(hint) if hint.len() > MAX_HINT_TOKEN => Err(too_long("login_hint_token")),
        Some(hint) => Ok(Hint::LoginHintToken(hint.to_owned())),
        None => Err(error(OAuthErrorCode::InvalidRequest, "a hint is required")),
    }
}

/// The sentence shown on the device: printable (line breaks allowed), at most
/// [`MAX_BINDING_MESSAGE`] characters, so that it cannot hide text from the person approving.
fn binding_message(message: &str) -> Result<String, OAuthError> {
    if message.chars().count() > MAX_BINDING_MESSAGE
        || message.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(error(
            OAuthErrorCode::InvalidBindingMessage,
            format!("binding_message is at most {MAX_BINDING_MESSAGE} printable characters"),
        ));
    }
    Ok(message.to_owned())
}

fn user_code(code: &str) -> Result<String, OAuthError> {
    if code.chars().count() > MAX_USER_CODE || code.chars().any(char::is_control) {
        return Err(error(
            OAuthErrorCode::InvalidUserCode,
            format!("user_code is at most {MAX_USER_CODE} printable characters"),
        ));
    }
    Ok(code.to_owned())
}

/// A positive integer of decimal digits (CIBA §7.1), at most 2^32 - 1.
fn requested_expiry(text: &str) -> Result<u32, OAuthError> {
    let refuse = || {
        error(
            OAuthErrorCode::InvalidRequest,
            "requested_expiry must be a positive integer of seconds",
        )
    };
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse());
    }
    match text.parse::<u32>() {
        Ok(seconds) if seconds > 0 => Ok(seconds),
        _ => Err(refuse()),
    }
}

/// RFC 9396 `authorization_details`: a JSON array of at most [`MAX_AUTHORIZATION_DETAILS`]
/// objects, each with a non-empty string `type`, and whose text survives the canonical form
/// unchanged (no number a double would round, no member name twice): the device shows and signs
/// the canonical form, which must be what the client sent (`crate::exact_json`).
fn authorization_details(text: &str) -> Result<Vec<Value>, OAuthError> {
    let refuse =
        |description: String| error(OAuthErrorCode::InvalidAuthorizationDetails, description);
    let value: Value = serde_json::from_str(text).map_err(|e| {
        refuse(format!(
            "authorization_details is not JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Array(details) = value else {
        return Err(refuse("authorization_details must be a JSON array".into()));
    };
    if details.len() > MAX_AUTHORIZATION_DETAILS {
        return Err(refuse(format!(
            "at most {MAX_AUTHORIZATION_DETAILS} authorization_details"
        )));
    }
    for detail in &details {
        let has_type = detail
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty());
        if !detail.is_object() || !has_type {
            return Err(refuse(
                "every authorization_details entry is an object with a non-empty string type (RFC 9396)".into(),
            ));
        }
    }
    check_text(text, "/authorization_details").map_err(|inexact| refuse(inexact.to_string()))?;
    Ok(details)
}

/// RFC 6750's `b64token` (`1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`): the
/// token goes back to the client in an `Authorization: Bearer` header, which it must fit.
fn notification_token(token: &str) -> Result<String, OAuthError> {
    let body = token.trim_end_matches('=');
    let valid = token.len() <= MAX_NOTIFICATION_TOKEN
        && !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        });
    if !valid {
        return Err(error(
            OAuthErrorCode::InvalidRequest,
            format!(
                "client_notification_token is at most {MAX_NOTIFICATION_TOKEN} characters of an RFC 6750 bearer token"
            ),
        ));
    }
    Ok(token.to_owned())
}

#[cfg(test)]
#[path = "backchannel_tests.rs"]
mod tests;
