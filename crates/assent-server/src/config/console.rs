//! The admin console's section: who may sign in and how long sessions last.

use serde::{Deserialize, Serialize};

/// The admin console at `/admin/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Serve the console at all.
    pub enabled: bool,
    /// Members of this group are admins and may sign in.
    pub admin_group: String,
    /// A session unused this long is over.
    pub idle_timeout_secs: u64,
    /// A session is over this long after its sign-in, however active.
    pub absolute_timeout_secs: u64,
    /// Whether the sign-in push asks for user verification (a passkey check on the device).
    /// Turn it off only where admins' devices cannot do it (the command-line authenticator).
    pub user_verification: bool,
    /// How long the sign-in push waits for its answer.
    pub sign_in_ttl_secs: u64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            enabled: true,
            admin_group: "admins".into(),
            idle_timeout_secs: 15 * 60,
            absolute_timeout_secs: 8 * 3600,
            user_verification: true,
            sign_in_ttl_secs: 120,
        }
    }
}

impl ConsoleConfig {
    /// The domain's view of the section.
    pub fn settings(&self) -> assent_core::console::ConsoleSettings {
        use assent_core::clock::seconds;
        assent_core::console::ConsoleSettings {
            admin_group: self.admin_group.clone(),
            idle_timeout: seconds(self.idle_timeout_secs),
            absolute_timeout: seconds(self.absolute_timeout_secs),
            user_verification: self.user_verification,
            sign_in_ttl: seconds(self.sign_in_ttl_secs),
        }
    }

    /// What is wrong with the section, if anything.
    pub fn problem(&self) -> Option<String> {
        if !assent_core::groups::valid_group_name(&self.admin_group) {
            return Some("console.admin_group is a group name".into());
        }
        if self.idle_timeout_secs == 0 || self.idle_timeout_secs > self.absolute_timeout_secs {
            return Some(
                "console.idle_timeout_secs is at least 1 and at most console.absolute_timeout_secs"
                    .into(),
            );
        }
        if self.absolute_timeout_secs > 7 * 24 * 3600 {
            return Some("console.absolute_timeout_secs is at most 604800 (a week)".into());
        }
        if !(10..=600).contains(&self.sign_in_ttl_secs) {
            return Some("console.sign_in_ttl_secs is between 10 and 600".into());
        }
        None
    }
}
