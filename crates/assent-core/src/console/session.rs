//! Console sessions: a random token in the browser's cookie, its SHA-256 in the store, an idle
//! and an absolute timeout checked by the store on every use, and a CSRF token derived from the
//! session token with the data key (so a page's forms carry a value that only this server and
//! this session produce, and nothing more is stored).

use crate::audit::{Actor, AuditEvent};
use crate::error::{CoreError, StoreError};
use crate::ids::{ApprovalId, Username};
use crate::model::{ConsoleSession, User};
use crate::secrets;
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::jose::{b64, random_token};
use time::OffsetDateTime;

/// What the CSRF token is derived under.
const CSRF_CONTEXT: &str = "console-csrf";

/// A session just opened: the token goes into the cookie, once.
#[derive(Debug, Clone)]
pub struct NewConsoleSession {
    pub token: String,
    pub username: Username,
    pub expires_at: OffsetDateTime,
}

/// The admin behind a live session.
#[derive(Debug, Clone)]
pub struct ConsoleAdmin {
    pub user: User,
    /// The value every form of this session must send back.
    pub csrf_token: String,
    pub signed_in_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl ConsoleAdmin {
    /// Who the admin's actions are done by, and audited as.
    pub fn principal(&self) -> Principal {
        Principal::Console {
            username: self.user.username.clone(),
        }
    }
}

fn signed_out() -> CoreError {
    CoreError::rejected(
        ProblemCode::Unauthorized,
        "no console session, or it is over: sign in again",
    )
}

impl ConsoleSession {
    /// Whether the session is live at `now`: not signed out, before its absolute end, used
    /// within `idle`. The stores' touch applies the same rule in its statement.
    pub fn is_live(&self, now: OffsetDateTime, idle: time::Duration) -> bool {
        self.ended_at.is_none() && self.expires_at > now && self.last_seen_at > now - idle
    }
}

fn token_hash(token: &str) -> Vec<u8> {
    secrets::sha256(token.as_bytes())
}

impl Assent {
    /// Opens a session for an admin who just proved themselves by `method`; an approval opens
    /// one session at most.
    pub(super) async fn open_console_session(
        &self,
        user: &User,
        method: &str,
        approval: Option<ApprovalId>,
    ) -> Result<NewConsoleSession, CoreError> {
        let token = random_token(32)?;
        let now = self.now();
        let settings = &self.settings.console;
        let session = ConsoleSession {
            id_hash: token_hash(&token),
            user_id: user.id.clone(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + settings.absolute_timeout,
            approval_id: approval.clone(),
            ended_at: None,
        };
        let event = AuditEvent::ConsoleSignedIn {
            user_id: user.id.to_string(),
            method: method.to_owned(),
            approval_id: approval.map(|a| a.to_string()),
        };
        let actor = Actor::Console(user.username.clone());
        match self
            .store
            .insert_console_session(&session, self.audit(actor, event))
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(CoreError::rejected(
                    ProblemCode::Unauthorized,
                    "this approval opened a session already: start again",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(NewConsoleSession {
            token,
            username: user.username.clone(),
            expires_at: session.expires_at,
        })
    }

    /// The admin behind a session token, if the session is live and its user is still an
    /// admin; marks the session used.
    pub async fn console_session(&self, token: &str) -> Result<ConsoleAdmin, CoreError> {
        let session = self
            .store
            .touch_console_session(
                &token_hash(token),
                self.now(),
                self.settings.console.idle_timeout,
            )
            .await?
            .ok_or_else(signed_out)?;
        let user = self
            .records
            .user(self.store.as_ref(), &session.user_id)
            .await?
            .ok_or_else(signed_out)?;
        if !self.is_console_admin(&user).await? {
            // No longer an admin: the session is over for good, not only while that lasts.
            self.close_console_session(token, &user, "not_admin")
                .await?;
            return Err(signed_out());
        }
        Ok(ConsoleAdmin {
            user,
            csrf_token: self.console_csrf_token(token),
            signed_in_at: session.created_at,
            expires_at: session.expires_at,
        })
    }

    /// Whether a session is live now (signed in, within both timeouts, its user still an
    /// admin), without counting this as a use: a page left open that only listens (the live
    /// feed) must not keep its session from going idle.
    pub async fn console_session_is_live(&self, token: &str) -> Result<bool, CoreError> {
        let now = self.now();
        let Some(session) = self.store.console_session(&token_hash(token)).await? else {
            return Ok(false);
        };
        if !session.is_live(now, self.settings.console.idle_timeout) {
            return Ok(false);
        }
        let Some(user) = self
            .records
            .user(self.store.as_ref(), &session.user_id)
            .await?
        else {
            return Ok(false);
        };
        self.is_console_admin(&user).await
    }

    /// Signs a session out, audited; signing out an unknown or ended session does nothing.
    pub async fn end_console_session(&self, token: &str) -> Result<(), CoreError> {
        let Ok(admin) = self.console_session(token).await else {
            return Ok(());
        };
        self.close_console_session(token, &admin.user, "signed_out")
            .await
    }

    async fn close_console_session(
        &self,
        token: &str,
        user: &User,
        reason: &str,
    ) -> Result<(), CoreError> {
        let event = AuditEvent::ConsoleSignedOut {
            user_id: user.id.to_string(),
            reason: reason.to_owned(),
        };
        self.store
            .end_console_session(
                &token_hash(token),
                self.now(),
                self.audit(Actor::Console(user.username.clone()), event),
            )
            .await?;
        Ok(())
    }

    /// The CSRF token of a session: a keyed digest of its token.
    pub fn console_csrf_token(&self, token: &str) -> String {
        b64(self.data_key.digest(token.as_bytes(), CSRF_CONTEXT))
    }

    /// Whether a form's CSRF value is this session's, compared in constant time.
    pub fn console_csrf_matches(&self, token: &str, presented: &str) -> bool {
        secrets::constant_time_eq(&self.console_csrf_token(token), presented)
    }
}
