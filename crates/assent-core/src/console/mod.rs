//! The admin console's identity side: who may sign in (members of the admin group), the
//! sign-in itself (a push through Assent, with TOTP or a recovery code as the fallback), and
//! the sessions it opens. The pages are the server's; this is what they stand on.

mod session;
mod sign_in;

pub use session::{ConsoleAdmin, NewConsoleSession};
pub use sign_in::{SignInStarted, SignInState};

use crate::error::CoreError;
use crate::model::{App, User};
use crate::service::Assent;
use time::Duration;

/// The name of the application the console's own sign-in requests are made for. Policy rules
/// can name it (`request.app == 'Assent console'`) to ask more of admins.
pub const CONSOLE_APP_NAME: &str = "Assent console";

/// How the console signs admins in and how long their sessions last.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// Members of this group are admins: they may sign in to the console.
    pub admin_group: String,
    /// A session unused this long is over.
    pub idle_timeout: Duration,
    /// A session is over this long after its sign-in, however active.
    pub absolute_timeout: Duration,
    /// Whether the sign-in push asks for user verification (a passkey check on the device).
    pub user_verification: bool,
    /// How long a sign-in push waits for its answer.
    pub sign_in_ttl: Duration,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            admin_group: "admins".into(),
            idle_timeout: Duration::minutes(15),
            absolute_timeout: Duration::hours(8),
            user_verification: true,
            sign_in_ttl: Duration::minutes(2),
        }
    }
}

impl Assent {
    /// Whether `user` belongs to the admin group now.
    pub async fn is_console_admin(&self, user: &User) -> Result<bool, CoreError> {
        let group = &self.settings.console.admin_group;
        Ok(self
            .store
            .groups_of(&user.id)
            .await?
            .iter()
            .any(|g| g == group))
    }

    /// Whether `app` is the console's own application.
    pub fn is_console_app(&self, app: &App) -> bool {
        app.id == sign_in::console_app_id()
    }
}
