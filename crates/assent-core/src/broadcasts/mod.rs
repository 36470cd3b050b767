//! Incident broadcasts: an admin's message to every user or to a group's members ("we had a
//! breach: change your password"), which each recipient must acknowledge on a device with a
//! signed statement. Recipients are fixed when it is sent; it reaches them through their alerts
//! (device streams, pushes, e-mail), and those who have not acknowledged are reminded on a
//! schedule. This file holds the admin's side; [`device`] the recipient's, [`remind`] the
//! reminders.

pub mod audit;
pub mod device;
pub mod records;
pub mod remind;

use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::groups::valid_group_name;
use crate::ids::{BroadcastId, UserId, Username};
use crate::notifier::Topic;
use crate::service::Assent;
use assent_proto::ProblemCode;
use records::{Audience, Broadcast, BroadcastSummary, Recipient};
use time::Duration;

/// Longest message, in characters.
pub const MAX_MESSAGE: usize = 2000;
/// How long a recipient may leave a broadcast unacknowledged before a reminder, unless the
/// admin says otherwise.
pub const DEFAULT_REMINDER_INTERVAL: Duration = Duration::hours(4);
/// Shortest reminder interval: more often would be noise that teaches people to ignore it.
pub const MIN_REMINDER_INTERVAL: Duration = Duration::minutes(5);
/// Longest reminder interval.
pub const MAX_REMINDER_INTERVAL: Duration = Duration::days(7);
/// Most broadcasts an admin's list shows.
const LIST_PAGE: u32 = 100;

/// A broadcast with each recipient's state, as an admin reads it.
#[derive(Debug, Clone)]
pub struct BroadcastDetail {
    pub summary: BroadcastSummary,
    /// By username.
    pub recipients: Vec<RecipientView>,
}

/// One recipient with their name and, when they acknowledged, the device's name.
#[derive(Debug, Clone)]
pub struct RecipientView {
    pub username: Username,
    pub recipient: Recipient,
    pub device_name: Option<String>,
}

/// Checks a message: 1 to [`MAX_MESSAGE`] characters, not all blank, no control characters
/// but line feeds, nothing invisible that reorders or hides text (a message is shown as it was written; a stray escape or carriage return
/// could hide part of it on a terminal). It is kept exactly as sent, since devices sign its
/// hash.
pub fn checked_message(message: &str) -> Result<&str, CoreError> {
    let bad_char = message
        .chars()
        .any(|c| (c.is_control() && c != '\n') || hides_text(c));
    let count = message.chars().count();
    if bad_char || count == 0 || count > MAX_MESSAGE || message.trim().is_empty() {
        return Err(CoreError::rejected(
            ProblemCode::InvalidRequest,
            format!(
                "a message is 1 to {MAX_MESSAGE} characters, not all blank, with no control characters but line feeds and no invisible characters that reorder or hide text"
            ),
        ));
    }
    Ok(message)
}

/// The invisible characters that reorder or hide text (bidirectional controls, zero-width
/// characters, the byte-order mark): with them, what a device shows could differ from the text
/// whose hash the user signs.
fn hides_text(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Checks a reminder interval: absent means [`DEFAULT_REMINDER_INTERVAL`].
pub fn checked_interval(interval: Option<Duration>) -> Result<Duration, CoreError> {
    let interval = interval.unwrap_or(DEFAULT_REMINDER_INTERVAL);
    if interval < MIN_REMINDER_INTERVAL || interval > MAX_REMINDER_INTERVAL {
        return Err(CoreError::rejected(
            ProblemCode::InvalidRequest,
            format!(
                "the reminder interval is {} to {} seconds",
                MIN_REMINDER_INTERVAL.whole_seconds(),
                MAX_REMINDER_INTERVAL.whole_seconds()
            ),
        ));
    }
    Ok(interval)
}

pub(crate) fn no_broadcast() -> CoreError {
    CoreError::rejected(ProblemCode::NotFound, "no such broadcast")
}

/// The text of a broadcast's alert (`reminder`: of a reminder).
pub(crate) fn alert_text(broadcast: &Broadcast, reminder: bool) -> String {
    let lead = if reminder {
        "Reminder, not acknowledged yet"
    } else {
        "Notice from your administrators"
    };
    format!(
        "{lead}: {}\nAcknowledge it on one of your devices (broadcast {}).",
        broadcast.message, broadcast.id
    )
}

impl Assent {
    /// Sends a broadcast to `audience` (resolved to users now: later members of the group do
    /// not receive it), reminding those who have not acknowledged every `reminder_interval`
    /// (absent: [`DEFAULT_REMINDER_INTERVAL`]). Written with its recipients and the audit event
    /// naming `by`; then each recipient is alerted on every channel they have, in the
    /// background: the answer does not wait for thousands of alerts, pushes and e-mails (a
    /// request deadline would otherwise cut them short and invite a duplicate broadcast).
    pub async fn create_broadcast(
        self: &std::sync::Arc<Self>,
        by: &Actor,
        message: &str,
        audience: Audience,
        reminder_interval: Option<Duration>,
    ) -> Result<BroadcastSummary, CoreError> {
        let message = checked_message(message)?;
        let reminder_interval = checked_interval(reminder_interval)?;
        let recipients: Vec<UserId> = match &audience {
            Audience::Everyone => self
                .store
                .list_users()
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect(),
            Audience::Group(name) => {
                let no_group = || {
                    CoreError::rejected(ProblemCode::NotFound, format!("no group named {name:?}"))
                };
                if !valid_group_name(name) {
                    return Err(no_group());
                }
                self.store.group(name).await?.ok_or_else(no_group)?;
                self.store.group_members(name).await?
            }
        };
        let count = u32::try_from(recipients.len())
            .map_err(|_| CoreError::Internal("too many recipients".into()))?;
        let now = self.now();
        let broadcast = Broadcast {
            id: BroadcastId::generate(),
            message: message.to_owned(),
            audience,
            created_by: by.label(),
            created_at: now,
            reminder_interval,
        };
        let event = AuditEvent::BroadcastCreated(audit::Created {
            broadcast_id: broadcast.id.to_string(),
            message: broadcast.message.clone(),
            group: match &broadcast.audience {
                Audience::Everyone => None,
                Audience::Group(name) => Some(name.clone()),
            },
            recipients: count,
            reminder_interval_secs: reminder_interval.whole_seconds(),
        });
        self.store
            .insert_broadcast(
                &broadcast,
                &recipients,
                now + reminder_interval,
                self.audit(by.clone(), event),
            )
            .await?;
        // Open streams first, at once for everyone (a wake-up is cheap): they list the new
        // broadcast. Then each recipient's alert, which pushes and e-mails, in a task of its
        // own; should the node stop before it ends, those not reached yet still find the
        // broadcast on their devices and are reminded on schedule.
        for user in &recipients {
            self.notifier.notify(&Topic::Account(user.clone()));
        }
        let text = alert_text(&broadcast, false);
        let this = std::sync::Arc::clone(self);
        tokio::spawn(async move {
            for user in &recipients {
                this.alert(user, "broadcast", text.clone()).await;
            }
        });
        Ok(BroadcastSummary {
            broadcast,
            recipients: count,
            acknowledged: 0,
        })
    }

    /// The most recent broadcasts, newest first, with how many acknowledged each.
    pub async fn broadcasts(&self) -> Result<Vec<BroadcastSummary>, CoreError> {
        Ok(self.store.list_broadcasts(LIST_PAGE).await?)
    }

    /// One broadcast with each recipient's state: acknowledged or not, when, on which device,
    /// and how many reminders they were sent.
    pub async fn broadcast(&self, id: &str) -> Result<BroadcastDetail, CoreError> {
        let id = BroadcastId::parse(id).ok_or_else(no_broadcast)?;
        let broadcast = self.store.broadcast(&id).await?.ok_or_else(no_broadcast)?;
        let mut recipients = Vec::new();
        for recipient in self.store.broadcast_recipients(&id).await? {
            let username = self.username_for_id(&recipient.user_id).await?;
            let device_name = match &recipient.acknowledgement {
                Some(ack) => self.store.device(&ack.device_id).await?.map(|d| d.name),
                None => None,
            };
            recipients.push(RecipientView {
                username,
                recipient,
                device_name,
            });
        }
        recipients.sort_by(|a, b| a.username.as_str().cmp(b.username.as_str()));
        let acknowledged = recipients
            .iter()
            .filter(|r| r.recipient.acknowledgement.is_some())
            .count();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(BroadcastDetail {
            summary: BroadcastSummary {
                broadcast,
                recipients: count(recipients.len()),
                acknowledged: count(acknowledged),
            },
            recipients,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_bounded_and_printable() {
        assert!(checked_message("Change your password.\nThen review your activity.").is_ok());
        assert!(checked_message(&"x".repeat(MAX_MESSAGE)).is_ok());
        assert!(
            checked_message(&"é".repeat(MAX_MESSAGE)).is_ok(),
            "characters, not bytes"
        );
        for bad in [
            String::new(),
            " \n\t".into(),
            "x".repeat(MAX_MESSAGE + 1),
            "tab\there".into(),
            "carriage\rreturn".into(),
            "escape\u{1b}[2J".into(),
            "c1\u{85}".into(),
            "pay \u{202E}001$\u{202C} now".into(),
            "zero\u{200B}width".into(),
            "isolate\u{2066}x\u{2069}".into(),
            "\u{FEFF}bom".into(),
        ] {
            assert!(checked_message(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn intervals_are_bounded() {
        assert_eq!(checked_interval(None).unwrap(), DEFAULT_REMINDER_INTERVAL);
        assert!(checked_interval(Some(MIN_REMINDER_INTERVAL)).is_ok());
        assert!(checked_interval(Some(MAX_REMINDER_INTERVAL)).is_ok());
        assert!(checked_interval(Some(Duration::seconds(299))).is_err());
        assert!(checked_interval(Some(MAX_REMINDER_INTERVAL + Duration::SECOND)).is_err());
    }
}
