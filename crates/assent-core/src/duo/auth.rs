//! `auth` and `auth_status`: a push becomes an ordinary approval (risk, policy, fatigue budget,
//! number matching, prompt, signed decision, receipt); a passcode is the user's TOTP or one of
//! their recovery codes; phone calls and text messages are refused, since Assent makes neither.

use super::error::{DuoError, refuse};
use super::integrations::DuoCaller;
use super::preauth::VERIFIED_PUSH_SECS;
use super::txid::Txid;
use crate::approvals::{AuthorizationDetails, BindingMessage, CodeDisplay, Lifetime, NewApproval};
use crate::error::CoreError;
use crate::model::{Approval, EndReason, User};
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::context::RequestContext;
use assent_proto::duo::api::{self, DuoErrorCode};
use assent_proto::duo::request::{DuoParams, parse_pushinfo};
use assent_proto::states::{ApprovalKind, ApprovalState};
use serde_json::{Map, Value};
use time::Duration;

/// The `type` of the authorization details a Duo push carries (`pushinfo`, `display_username`).
pub const PUSH_DETAILS_TYPE: &str = "duo_push";

/// What the client told about where the login comes from, read by the HTTP edge.
#[derive(Debug, Clone, Default)]
pub struct ClientFacts {
    /// The Duo client's `User-Agent` (`login_duo/1.11.3`, `Duo API Python/5.7.0`).
    pub user_agent: Option<String>,
}

/// What `auth` answers.
#[derive(Debug, Clone)]
pub enum AuthAnswer {
    /// Synchronous: the outcome.
    Done(api::AuthResult),
    /// `async=1`: the transaction to poll.
    Started(api::AuthStarted),
}

/// What a call chose as its factor.
enum Factor<'a> {
    Push,
    Passcode(&'a str),
}

fn result(result: &'static str, status: &'static str, msg: impl Into<String>) -> api::AuthResult {
    api::AuthResult {
        result,
        status,
        status_msg: msg.into(),
        approval_id: None,
        receipt: None,
        verified_push_code: None,
    }
}

fn invalid(detail: impl Into<String>) -> DuoError {
    refuse(DuoErrorCode::InvalidParameters, detail)
}

/// Longest `display_username` and `hostname`, in characters: what a device shows on one line.
const MAX_NAME_CHARS: usize = 256;
/// Longest `ipaddr`: an IPv6 address with a zone is under 64 characters.
const MAX_IPADDR_CHARS: usize = 64;

/// An optional text parameter shown on the device: at most `max` characters, none of them a
/// control character.
fn shown_text<'a>(
    params: &'a DuoParams,
    name: &str,
    max: usize,
) -> Result<Option<&'a str>, DuoError> {
    let Some(text) = params.get(name)? else {
        return Ok(None);
    };
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{name}: at most {max} characters, no control characters"
        )));
    }
    Ok(Some(text))
}

/// The factor a call names: `factor` itself, or for `factor=prompt` (duo_unix) the `prompt`
/// the user picked from preauth's menu (`push1`, ...) or typed (a passcode).
fn factor<'a>(params: &'a DuoParams) -> Result<Factor<'a>, DuoError> {
    let unsupported = |name: &str| {
        invalid(format!(
            "factor: Assent does not place phone calls or send text messages ({name}); use push or passcode"
        ))
    };
    match params.required("factor")? {
        "auto" | "push" => Ok(Factor::Push),
        "passcode" => Ok(Factor::Passcode(params.required("passcode")?)),
        "phone" | "sms" => Err(unsupported("phone, sms")),
        "prompt" => {
            let choice = params.required("prompt")?;
            let named = |prefix: &str| {
                choice
                    .strip_prefix(prefix)
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            };
            if choice == "auto" || named("push") {
                Ok(Factor::Push)
            } else if named("phone") || named("sms") || named("voice") {
                Err(unsupported(choice))
            } else {
                Ok(Factor::Passcode(choice))
            }
        }
        other => Err(invalid(format!(
            "factor: {other:?} is not one of auto, push, passcode, prompt"
        ))),
    }
}

/// How an ended request reads in Duo's terms, with its id and receipt.
fn outcome(approval: &Approval) -> api::AuthResult {
    let mut answer = status_of(approval);
    answer.approval_id = Some(approval.id.to_string());
    answer.receipt = approval.receipt.clone();
    answer
}

fn status_of(approval: &Approval) -> api::AuthResult {
    match (approval.state, approval.reason) {
        (ApprovalState::Approved, Some(EndReason::AllowedByPolicy)) => {
            result("allow", "bypass", "Allowed by policy without a prompt.")
        }
        (ApprovalState::Approved, _) => result("allow", "allow", "Success. Logging you in..."),
        (ApprovalState::Fraud, _) => {
            result("deny", "fraud", "Login request reported as fraudulent.")
        }
        (ApprovalState::Denied, Some(EndReason::WrongCode)) => result(
            "deny",
            "deny",
            "Login request denied: the code typed on the device was not the one shown.",
        ),
        (ApprovalState::Denied, _) => result("deny", "deny", "Login request denied."),
        (ApprovalState::Expired, _) => result("deny", "timeout", "Login request timed out."),
        (ApprovalState::Cancelled, reason) => result(
            "deny",
            "deny",
            format!(
                "Login request withdrawn ({}).",
                reason.map_or("cancelled", |r| r.as_str())
            ),
        ),
        (ApprovalState::Pending, _) => result(
            "waiting",
            "pushed",
            "Pushed a login request to your device.",
        ),
    }
}

/// The pending status, with the code to type when there is one (duo_unix shows `status_msg`).
fn pushed(code: Option<&str>) -> api::AuthResult {
    match code {
        Some(code) => result(
            "waiting",
            "pushed",
            format!("Pushed a login request to your device. Type the code {code} on it."),
        ),
        None => result(
            "waiting",
            "pushed",
            "Pushed a login request to your device.",
        ),
    }
}

impl Assent {
    /// Answers `auth`. `max_wait` bounds a synchronous push: its request lives no longer.
    pub async fn duo_auth(
        &self,
        caller: &DuoCaller,
        params: &DuoParams,
        facts: ClientFacts,
        max_wait: Duration,
    ) -> Result<AuthAnswer, DuoError> {
        let user = self
            .duo_user(&caller.app, params)
            .await?
            .ok_or_else(|| invalid("username: no such user"))?;
        let is_async = params.flag("async")?;
        match factor(params)? {
            Factor::Passcode(code) => Ok(AuthAnswer::Done(
                self.duo_passcode(caller, &user, code).await?,
            )),
            Factor::Push => {
                self.duo_push(caller, &user, params, facts, is_async, max_wait)
                    .await
            }
        }
    }

    async fn duo_passcode(
        &self,
        caller: &DuoCaller,
        user: &User,
        code: &str,
    ) -> Result<api::AuthResult, DuoError> {
        let by = Principal::App(caller.app.clone());
        let name = user.username.as_str();
        // A TOTP code is digits; a recovery code has letters.
        let checked = if code.bytes().all(|b| b.is_ascii_digit()) {
            self.verify_totp(&by, name, code).await
        } else {
            self.verify_recovery_code(&by, name, code).await.map(|_| ())
        };
        match checked {
            Ok(()) => Ok(result("allow", "allow", "Success. Logging you in...")),
            Err(CoreError::RateLimited { detail, .. }) => Ok(result(
                "deny",
                "locked_out",
                format!("Locked out: {detail}"),
            )),
            Err(CoreError::Rejected {
                code: ProblemCode::FactorNotEnrolled,
                ..
            }) => Ok(result(
                "deny",
                "deny",
                "This user has no passcode of that kind enrolled.",
            )),
            Err(CoreError::Rejected { .. }) => Ok(result(
                "deny",
                "deny",
                "Incorrect passcode. Please try again.",
            )),
            Err(other) => Err(other.into()),
        }
    }

    async fn duo_push(
        &self,
        caller: &DuoCaller,
        user: &User,
        params: &DuoParams,
        facts: ClientFacts,
        is_async: bool,
        max_wait: Duration,
    ) -> Result<AuthAnswer, DuoError> {
        let devices = self.active_devices(user).await?;
        if devices.is_empty() {
            return Err(invalid(
                "username: this user has no active device; enroll one first",
            ));
        }
        // `device` picks a device in Duo; in Assent a push reaches every active device of the
        // user, and any of them can answer. A device that is not the user's is still refused.
        match params.get("device")? {
            None | Some("auto") => {}
            Some(id) if devices.iter().any(|d| d.id.as_str() == id) => {}
            Some(_) => return Err(invalid("device: not an active device of this user")),
        }
        // Whether push was suspended before this call: a suspension this call starts (it spent
        // the budget) is Duo's rate limit, one that was there already Duo's lockout. The core
        // decides as for any request: a policy that allows or denies does so while suspended.
        let now = self.now();
        let suspended_before = self
            .store
            .suspension(&user.id)
            .await?
            .is_some_and(|s| s.until > now);
        let chosen_code = self.verified_push_code(caller, user, params)?;
        let code_display = match (&chosen_code, caller.integration.allow_unmatched_push) {
            (Some(_), _) => CodeDisplay::Shown,
            (None, true) => CodeDisplay::Waived,
            (None, false) => CodeDisplay::Unavailable,
        };
        let mut details = Map::new();
        details.insert("type".into(), Value::String(PUSH_DETAILS_TYPE.into()));
        if let Some(name) = shown_text(params, "display_username", MAX_NAME_CHARS)? {
            details.insert("display_username".into(), Value::String(name.into()));
        }
        if let Some(pushinfo) = params.get("pushinfo")? {
            for (key, value) in parse_pushinfo(pushinfo)? {
                if details.contains_key(&key) {
                    return Err(invalid(format!("pushinfo: the key {key:?} is reserved")));
                }
                details.insert(key, Value::String(value));
            }
        }
        let (kind, authorization_details) = if details.len() > 1 {
            (ApprovalKind::Transaction, vec![Value::Object(details)])
        } else {
            (ApprovalKind::Login, Vec::new())
        };
        let binding_message = params
            .get("type")?
            .map(|t| BindingMessage::parse(t.to_owned()))
            .transpose()
            .map_err(|e| invalid(format!("type: {e}")))?;
        let authorization_details = AuthorizationDetails::parse(authorization_details)
            .map_err(|e| invalid(format!("pushinfo: {e}")))?;
        // A synchronous push lives as long as its call may wait.
        let lifetime = if is_async {
            Lifetime::parse(None, &self.settings)?
        } else {
            let secs = self
                .settings
                .default_ttl
                .min(max_wait)
                .whole_seconds()
                .max(1);
            Lifetime::parse(Some(u32::try_from(secs).unwrap_or(60)), &self.settings)?
        };
        let context = RequestContext {
            ip: shown_text(params, "ipaddr", MAX_IPADDR_CHARS)?.map(str::to_owned),
            user_agent: facts.user_agent,
            device_id: shown_text(params, "hostname", MAX_NAME_CHARS)?.map(str::to_owned),
            geo: None,
        };
        let new = NewApproval {
            user: user.username.clone(),
            kind,
            binding_message,
            authorization_details,
            context,
            lifetime,
            user_verification: false,
            code_display,
            passkey_authentication: None,
        };
        let created = match self
            .create_approval_with_code(&caller.app, new, chosen_code)
            .await
        {
            Ok(created) => created,
            Err(e) => return self.push_refused(e, suspended_before).map(AuthAnswer::Done),
        };
        let approval = created.approval;
        let code = created.display_code;
        if is_async {
            let txid = Txid::Auth {
                a: approval.id.to_string(),
                c: code.clone(),
            }
            .seal(&self.data_key, &caller.integration.ikey)
            .map_err(|e| CoreError::Internal(format!("sealing a Duo txid: {e}")))?;
            return Ok(AuthAnswer::Started(api::AuthStarted {
                txid,
                verified_push_code: code,
            }));
        }
        let id = approval.id.to_string();
        let until = (approval.expires_at - self.now()).max(Duration::ZERO) + Duration::seconds(1);
        let ended = self.wait_for_app(&caller.app, &id, until).await?;
        let ended = if ended.state.is_final() {
            ended
        } else {
            // The call cannot wait longer: the request ends with it, so that a late answer
            // approves nothing.
            match self.cancel_approval(&caller.app, &id).await {
                Ok(cancelled) => cancelled,
                Err(_) => self.approval_for_app(&caller.app, &id).await?,
            }
        };
        let mut answer = outcome(&ended);
        answer.verified_push_code = code;
        Ok(AuthAnswer::Done(answer))
    }

    /// The code a Verified Push preauth showed, when `auth` brings its `txid` back (or
    /// `client_supports_verified_push=1` on `auth` itself, when a fresh code is made here).
    fn verified_push_code(
        &self,
        caller: &DuoCaller,
        user: &User,
        params: &DuoParams,
    ) -> Result<Option<String>, DuoError> {
        let Some(text) = params.get("txid")? else {
            return Ok(params
                .flag("client_supports_verified_push")?
                .then(|| crate::secrets::new_display_code(self.settings.code_length))
                .transpose()?);
        };
        let stale = || invalid("txid: not a Verified Push transaction of this user, or expired");
        match Txid::open(&self.data_key, &caller.integration.ikey, text) {
            Some(Txid::Preauth { u, c, e })
                if u == user.id.as_str()
                    && e >= self.now().unix_timestamp()
                    && e <= self.now().unix_timestamp() + VERIFIED_PUSH_SECS =>
            {
                Ok(Some(c))
            }
            _ => Err(stale()),
        }
    }

    /// A push the core refused, in Duo's terms.
    fn push_refused(
        &self,
        e: CoreError,
        suspended_before: bool,
    ) -> Result<api::AuthResult, DuoError> {
        match e {
            // Suspended already: Duo's lockout, with the reason and the way out.
            CoreError::Suspended { until, reason, .. } if suspended_before => Ok(result(
                "deny",
                "locked_out",
                format!(
                    "Push is suspended for this user until {} ({reason}); use a passcode.",
                    crate::clock::rfc3339(until)
                ),
            )),
            // The budget ran out with this very request: Duo's rate limit, retried after the
            // suspension (a client that retries sooner is told it is locked out).
            CoreError::Suspended {
                retry_after,
                reason,
                ..
            } => Err(DuoError::Refused {
                code: DuoErrorCode::TooManyRequests,
                detail: Some(format!(
                    "the prompt budget for this user is spent ({reason}); push is suspended, use a passcode"
                )),
                retry_after: Some(retry_after.max(1)),
            }),
            CoreError::RateLimited {
                detail,
                retry_after,
            } => Err(DuoError::Refused {
                code: DuoErrorCode::TooManyRequests,
                detail: Some(detail),
                retry_after: Some(retry_after.max(1)),
            }),
            CoreError::Rejected { code, detail } => match code {
                ProblemCode::DeniedByPolicy => Ok(result(
                    "deny",
                    "deny",
                    format!("Refused by policy: {detail}"),
                )),
                ProblemCode::NumberMatchingUnavailable => Err(refuse(
                    DuoErrorCode::Forbidden,
                    format!(
                        "{detail}: call preauth with client_supports_verified_push=1, show its verification_code and pass its txid to auth (or an admin allows unmatched pushes for this integration, a lower assurance)"
                    ),
                )),
                _ => Err(invalid(detail)),
            },
            other => Err(other.into()),
        }
    }

    /// Answers `auth_status`: holds the call until the request ends or `wait` passes. A request
    /// with a code to type is answered after a second the first time, so that duo_unix (which
    /// shows `status_msg`) can show the code while the user still needs it.
    pub async fn duo_auth_status(
        &self,
        caller: &DuoCaller,
        params: &DuoParams,
        wait: Duration,
    ) -> Result<api::AuthResult, DuoError> {
        let text = params.required("txid")?;
        let Some(Txid::Auth { a, c }) = Txid::open(&self.data_key, &caller.integration.ikey, text)
        else {
            return Err(refuse(DuoErrorCode::NotFound, "txid: no such transaction"));
        };
        let current = self.approval_for_app(&caller.app, &a).await?;
        let young = self.now() - current.created_at < Duration::seconds(5);
        // Never at once while pending: two polls within the same second would carry the same
        // date and so the same signature, and the second would be refused as a replay.
        let wait = if c.is_some() && young {
            Duration::seconds(1)
        } else {
            wait.max(Duration::seconds(1))
        };
        let ended = self.wait_for_app(&caller.app, &a, wait).await?;
        if !ended.state.is_final() {
            return Ok(pushed(c.as_deref()));
        }
        Ok(outcome(&ended))
    }
}
