//! Signing in to the console: a push to the admin's own device through Assent, like any
//! relying party's, for the console's built-in application. What the browser holds while it
//! waits is a ticket sealed with the data key (which user, which request, the code to show,
//! until when), so any node can carry on a sign-in that another node started.
//!
//! A name that is not an admin's gets a ticket too, of the same shape (a random request id that
//! names no request) with a code of the same length: the page waits and then says the sign-in
//! was not approved, exactly as for an admin who did not answer, so the form's answers reveal no
//! one's role. So does an admin's sign-in whose push could not be sent (no active device, push
//! suspended, refused by policy): the reason is logged, not shown.
//!
//! Only an approval a device made opens a session (a policy `allow` does not), and only until
//! shortly after the ticket's end, so a ticket kept for later opens nothing.

use super::CONSOLE_APP_NAME;
use super::session::NewConsoleSession;
use crate::approvals::{AuthorizationDetails, BindingMessage, CodeDisplay, Lifetime, NewApproval};
use crate::error::{CoreError, StoreError};
use crate::ids::{AppId, ApprovalId, Username};
use crate::model::{ApiKeyRecord, App, KeyRole, User};
use crate::service::{Assent, Principal};
use crate::{audit::Actor, audit::AuditEvent, secrets};
use assent_proto::ProblemCode;
use assent_proto::context::RequestContext;
use assent_proto::jose::{b64, b64_decode};
use assent_proto::states::{ApprovalKind, ApprovalState};
use serde::{Deserialize, Serialize};
use time::Duration;

/// What a sealed ticket is bound to, so no other sealed value opens as one.
const TICKET_CONTEXT: &str = "console-sign-in-ticket";

/// How long after its ticket's end an approved sign-in may still open its session: the page
/// reloads every two seconds, so an approval in the last moment is still taken.
const FINISH_GRACE: Duration = Duration::seconds(60);

/// A sign-in under way: the ticket for the browser's cookie and the code the page shows.
#[derive(Debug, Clone)]
pub struct SignInStarted {
    pub ticket: String,
    pub display_code: String,
}

/// Where a sign-in stands.
#[derive(Debug, Clone)]
pub enum SignInState {
    /// Waiting for the device; the code to show.
    Waiting {
        display_code: String,
        username: String,
    },
    /// Approved on a device: this session was opened for it.
    SignedIn(NewConsoleSession),
    /// Denied, expired, already used, or otherwise over without a session.
    NotApproved,
}

/// The sealed state of a sign-in. Its fields have the same lengths whether or not a push was
/// sent, so not even the cookie's size tells an admin's name from another.
#[derive(Serialize, Deserialize)]
struct Ticket {
    user: String,
    /// The sign-in request's id, or a random id that names nothing.
    approval: String,
    /// 1 when `approval` is a real request, 0 otherwise.
    sent: u8,
    code: String,
    /// Unix milliseconds.
    expires: i64,
}

impl Ticket {
    fn approval(&self) -> Option<&str> {
        (self.sent == 1).then_some(self.approval.as_str())
    }
}

fn refused() -> CoreError {
    CoreError::rejected(
        ProblemCode::Unauthorized,
        "this sign-in is over or was not approved; start again",
    )
}

impl Assent {
    /// Starts a sign-in for `username`: a push with number matching (and user verification
    /// unless the settings turn it off) when the name is an admin's, a ticket in any case.
    pub async fn start_console_sign_in(
        &self,
        username: &str,
        context: RequestContext,
    ) -> Result<SignInStarted, CoreError> {
        let expires = self.now() + self.settings.console.sign_in_ttl;
        let code = secrets::new_display_code(self.settings.code_length)?;
        let admin = match Username::parse(username) {
            Ok(name) => match self.store.user_by_name(&name).await? {
                Some(user) if self.is_console_admin(&user).await? => Some(user),
                _ => None,
            },
            Err(_) => None,
        };
        let mut ticket = Ticket {
            user: username.to_owned(),
            approval: ApprovalId::generate().to_string(),
            sent: 0,
            code: code.clone(),
            expires: crate::clock::to_millis(expires),
        };
        if let Some(user) = admin {
            match self.sign_in_push(&user, context, code.clone()).await {
                Ok(created) => {
                    ticket.approval = created.approval.id.to_string();
                    ticket.sent = 1;
                }
                Err(e) => tracing::warn!(
                    user = %user.username, error = %e,
                    "console sign-in: no push sent; the page will say it was not approved"
                ),
            }
        }
        Ok(SignInStarted {
            ticket: self.seal_ticket(&ticket)?,
            display_code: code,
        })
    }

    async fn sign_in_push(
        &self,
        user: &User,
        context: RequestContext,
        code: String,
    ) -> Result<crate::approvals::CreatedApproval, CoreError> {
        let app = self.console_app().await?;
        let ttl = self.settings.console.sign_in_ttl.whole_seconds();
        let request = NewApproval {
            user: user.username.clone(),
            kind: ApprovalKind::Login,
            binding_message: Some(BindingMessage::parse(format!(
                "Sign in to the {CONSOLE_APP_NAME}"
            ))?),
            authorization_details: AuthorizationDetails::parse(Vec::new())?,
            context,
            lifetime: Lifetime::parse(u32::try_from(ttl).ok(), &self.settings)?,
            user_verification: self.settings.console.user_verification,
            code_display: CodeDisplay::Shown,
            passkey_authentication: None,
        };
        // The code the page shows whatever the policy's code length: the same for a name
        // that is no admin's.
        self.create_approval_with_code(&app, request, Some(code))
            .await
    }

    /// Where the sign-in behind `ticket` stands now, opening its session once it was approved
    /// on a device: once per approval (a second try with the same ticket opens nothing),
    /// shortly after the ticket's end at the latest, and only while the user is still an admin.
    pub async fn advance_console_sign_in(&self, ticket: &str) -> Result<SignInState, CoreError> {
        let ticket = self.open_ticket(ticket)?;
        let now = crate::clock::to_millis(self.now());
        let waiting = SignInState::Waiting {
            display_code: ticket.code.clone(),
            username: ticket.user.clone(),
        };
        if now >= ticket.expires + FINISH_GRACE.whole_milliseconds() as i64 {
            return Ok(SignInState::NotApproved);
        }
        let Some(id) = ticket.approval() else {
            return Ok(if now >= ticket.expires {
                SignInState::NotApproved
            } else {
                waiting
            });
        };
        let app = self.console_app().await?;
        let approval = self.approval_for_app(&app, id).await?;
        match approval.state {
            // Approved on a device: a policy that let the request through without a prompt
            // opens no console session.
            ApprovalState::Approved if approval.device_id.is_some() => {}
            ApprovalState::Pending => return Ok(waiting),
            _ => return Ok(SignInState::NotApproved),
        }
        let Ok(user) = self.admin_named(&ticket.user).await else {
            return Ok(SignInState::NotApproved);
        };
        if approval.user_id != user.id || approval.kind != ApprovalKind::Login {
            return Ok(SignInState::NotApproved);
        }
        match self
            .open_console_session(&user, "push", Some(approval.id))
            .await
        {
            Ok(session) => Ok(SignInState::SignedIn(session)),
            Err(e) if e.code() == ProblemCode::Unauthorized => Ok(SignInState::NotApproved),
            Err(e) => Err(e),
        }
    }

    /// Signs in with a TOTP code or a recovery code instead of the push, for an admin whose
    /// device is out of reach. The codes are checked, rate limited and audited as a relying
    /// party's would be (for the console's application).
    pub async fn console_sign_in_with_code(
        &self,
        ticket: &str,
        code: &str,
    ) -> Result<NewConsoleSession, CoreError> {
        let opened = self.open_ticket(ticket)?;
        if crate::clock::to_millis(self.now()) >= opened.expires {
            return Err(refused());
        }
        let user = self.admin_named(&opened.user).await?;
        let by = Principal::App(self.console_app().await?);
        let code = code.trim();
        let checked = if code.len() <= 10 && code.bytes().all(|b| b.is_ascii_digit()) {
            self.verify_totp(&by, user.username.as_str(), code)
                .await
                .map(|()| "totp")
        } else {
            self.verify_recovery_code(&by, user.username.as_str(), code)
                .await
                .map(|_| "recovery_code")
        };
        // Whatever went wrong (a wrong code, no such factor, a rate limit) is the same refusal
        // to the page, as for a name that is no admin's; the log and the audit say which.
        let method = checked.map_err(|e| {
            tracing::info!(user = %user.username, error = %e, "console sign-in code refused");
            refused()
        })?;
        if let Some(id) = opened.approval()
            && let Ok(app) = self.console_app().await
        {
            // The push is no longer needed: withdraw it from the device.
            let _ = self.cancel_approval(&app, id).await;
        }
        self.open_console_session(&user, method, None).await
    }

    /// The admin named in a ticket, if they still are one; the same refusal otherwise.
    async fn admin_named(&self, username: &str) -> Result<User, CoreError> {
        let name = Username::parse(username).map_err(|_| refused())?;
        let user = self.store.user_by_name(&name).await?.ok_or_else(refused)?;
        if !self.is_console_admin(&user).await? {
            return Err(refused());
        }
        Ok(user)
    }

    /// The console's own application, created on first use under a fixed id with a key revoked
    /// at birth: it exists so that sign-in requests have an application like any other, never
    /// to be called from outside. It is known by its id, never by its name alone.
    pub async fn console_app(&self) -> Result<App, CoreError> {
        let id = console_app_id();
        if let Some(app) = self.records.app(self.store.as_ref(), &id).await? {
            return Ok(app);
        }
        let app = App {
            id: id.clone(),
            name: CONSOLE_APP_NAME.into(),
            created_at: self.now(),
        };
        let key = secrets::new_api_key()?;
        let record = ApiKeyRecord {
            id: key.id.clone(),
            secret_hash: key.secret_hash,
            role: KeyRole::App(app.id.clone()),
            created_at: app.created_at,
            revoked_at: Some(app.created_at),
        };
        let event = AuditEvent::AppCreated {
            app_id: app.id.to_string(),
            name: app.name.clone(),
            key_id: key.id,
        };
        match self
            .store
            .insert_app(&app, &record, self.audit(Actor::System, event))
            .await
        {
            Ok(()) => Ok(app),
            // Another node made it first, or an application of that name is older than the
            // console (its name cannot be given to the console then).
            Err(StoreError::Conflict(_)) => match self.store.app(&id).await? {
                Some(app) => Ok(app),
                None => Err(CoreError::rejected(
                    ProblemCode::Unavailable,
                    format!(
                        "an application named {CONSOLE_APP_NAME:?} already exists, so the console cannot create its own"
                    ),
                )),
            },
            Err(e) => Err(e.into()),
        }
    }

    fn seal_ticket(&self, ticket: &Ticket) -> Result<String, CoreError> {
        let json =
            serde_json::to_vec(ticket).map_err(|e| CoreError::Internal(format!("ticket: {e}")))?;
        let sealed = self
            .data_key
            .seal(&json, TICKET_CONTEXT)
            .map_err(|e| CoreError::Internal(format!("ticket: {e}")))?;
        Ok(b64(sealed))
    }

    fn open_ticket(&self, ticket: &str) -> Result<Ticket, CoreError> {
        let sealed = b64_decode(ticket).map_err(|_| refused())?;
        let json = self
            .data_key
            .open(&sealed, TICKET_CONTEXT)
            .map_err(|_| refused())?;
        serde_json::from_slice(&json).map_err(|_| refused())
    }
}

/// The fixed id of the console's own application.
pub(crate) fn console_app_id() -> AppId {
    AppId::from_stored("00000000-0000-7000-8000-000000000001".to_owned())
}
