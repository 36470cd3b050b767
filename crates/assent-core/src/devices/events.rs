//! Account events a relying party reports (password changed, e-mail changed, MFA reset, its own
//! kinds): each becomes an alert on the user's devices, an audit row and an `alert` webhook.

use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::model::App;
use crate::service::Assent;
use assent_proto::ProblemCode;

/// Event types a relying party may report; `custom` needs a message.
pub const REPORTED_TYPES: &[&str] = &["password_changed", "email_changed", "mfa_reset", "custom"];

/// Longest message, in characters.
const MAX_MESSAGE: usize = 300;

impl Assent {
    /// Records an account event for one user and alerts the user's devices.
    pub async fn report_event(
        &self,
        app: &App,
        username: &str,
        event_type: &str,
        message: Option<&str>,
    ) -> Result<(), CoreError> {
        let invalid = |d: String| CoreError::rejected(ProblemCode::InvalidRequest, d);
        if !REPORTED_TYPES.contains(&event_type) {
            return Err(invalid(format!(
                "type is one of {}",
                REPORTED_TYPES.join(", ")
            )));
        }
        // Control characters are refused before trimming, as the OpenAPI description says.
        let has_control = message.is_some_and(|m| m.chars().any(char::is_control));
        let message = message.map(str::trim).filter(|m| !m.is_empty());
        if has_control || message.is_some_and(|m| m.chars().count() > MAX_MESSAGE) {
            return Err(invalid(format!(
                "message is at most {MAX_MESSAGE} printable characters"
            )));
        }
        let text = match (event_type, message) {
            ("custom", None) => return Err(invalid("a custom event needs a message".into())),
            (_, Some(m)) => format!("{}: {m}", app.name),
            ("password_changed", None) => format!("{}: your password was changed.", app.name),
            ("email_changed", None) => format!("{}: your e-mail address was changed.", app.name),
            (_, None) => format!("{}: your multi-factor settings were reset.", app.name),
        };
        let user = self.user_named(username).await?;
        self.ensure_in_scope(app, &user).await?;
        let event = AuditEvent::UserEventReported {
            user_id: user.id.to_string(),
            app_id: app.id.to_string(),
            event_type: event_type.to_owned(),
            message: text.clone(),
        };
        self.store
            .append_audit(self.audit(Actor::App(app.id.clone()), event))
            .await?;
        self.alert(&user.id, event_type, text).await;
        Ok(())
    }
}
