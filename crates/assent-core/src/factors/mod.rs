//! Fallback factors for when push cannot work (a lost, flat or offline phone): TOTP and
//! recovery codes, each checked under a per-user rate limit, and the summary of what a user can
//! use right now, which a login page reads to offer the right way in.

pub mod hashing;
pub mod otp;
mod recovery;
mod summary;
mod totp;

pub use summary::FactorSummary;
pub use totp::{TotpChoice, TotpEnrollment};

use crate::audit::AuditEvent;
use crate::clock::rfc3339;
use crate::devices::auth::AuthenticatedDevice;
use crate::error::CoreError;
use crate::ids::UserId;
use crate::model::{Admission, User};
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use time::OffsetDateTime;

/// A way a user proves who they are; the names are those of the API and the rate limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Factor {
    Push,
    Totp,
    RecoveryCode,
}

impl Factor {
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Push => "push",
            Factor::Totp => "totp",
            Factor::RecoveryCode => "recovery_code",
        }
    }
}

/// Why a factor was used: to check a relying party's sign-in, or to let a new device in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Verify,
    Enrollment,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Enrollment => "enrollment",
        }
    }
}

fn totp_context(user: &UserId) -> String {
    format!("totp-seed:{user}")
}

impl Assent {
    /// Until when checks of `factor` are refused for the user, if they are.
    async fn locked_until(
        &self,
        user: &UserId,
        factor: Factor,
    ) -> Result<Option<OffsetDateTime>, CoreError> {
        let window = self.settings.attempt_window;
        let (count, oldest) = self
            .store
            .attempts_since(user, factor.as_str(), self.now() - window)
            .await?;
        Ok((count >= self.settings.max_attempts)
            .then(|| oldest.map(|o| o + window))
            .flatten())
    }

    /// Counts one attempt at `factor`, or refuses it when the user spent the allowance (and
    /// audits the refusal).
    async fn admit_attempt(
        &self,
        user: &User,
        factor: Factor,
        by: &Principal,
    ) -> Result<(), CoreError> {
        let now = self.now();
        let window = self.settings.attempt_window;
        match self
            .store
            .admit_attempt(
                &user.id,
                factor.as_str(),
                now,
                now - window,
                self.settings.max_attempts,
            )
            .await?
        {
            Admission::Admitted => Ok(()),
            Admission::Refused { oldest } => {
                let until = oldest + window;
                let event = AuditEvent::FactorRateLimited {
                    user_id: user.id.to_string(),
                    factor: factor.as_str().to_owned(),
                    until: until.unix_timestamp(),
                };
                self.store
                    .append_audit(self.audit(by.actor(), event))
                    .await?;
                Err(CoreError::RateLimited {
                    detail: format!(
                        "too many {} attempts for {}; try again after {}",
                        factor.as_str(),
                        user.username,
                        rfc3339(until)
                    ),
                    retry_after: (until - now).whole_seconds(),
                })
            }
        }
    }

    /// Records a wrong or reused code and builds the refusal; the attempt that spends the
    /// allowance also alerts the user, whose factor is now locked for a while.
    async fn refuse_code(
        &self,
        user: &User,
        factor: Factor,
        by: &Principal,
        reused: bool,
    ) -> CoreError {
        let reason = if reused {
            "code_reused"
        } else {
            "invalid_code"
        };
        let event = AuditEvent::FactorRefused {
            user_id: user.id.to_string(),
            factor: factor.as_str().to_owned(),
            reason: reason.to_owned(),
        };
        if let Err(e) = self.store.append_audit(self.audit(by.actor(), event)).await {
            return e.into();
        }
        match self.locked_until(&user.id, factor).await {
            Ok(Some(until)) => {
                let name = if factor == Factor::Totp {
                    "authenticator app (TOTP)"
                } else {
                    "recovery code"
                };
                self.alert(
                    &user.id,
                    "factor_locked",
                    format!(
                        "Several wrong {name} codes were entered for your account; that factor is locked until {}. If this wasn't you, someone may know your password.",
                        rfc3339(until)
                    ),
                )
                .await;
            }
            Ok(None) => {}
            Err(e) => return e,
        }
        if reused {
            CoreError::rejected(
                ProblemCode::CodeReused,
                "this code was already used; wait for the next one",
            )
        } else {
            CoreError::rejected(ProblemCode::InvalidCode, "the code is not valid")
        }
    }

    /// The user a device belongs to.
    pub(crate) async fn device_user(
        &self,
        device: &AuthenticatedDevice,
    ) -> Result<User, CoreError> {
        self.store
            .user(&device.device().user_id)
            .await?
            .ok_or_else(|| {
                CoreError::rejected(ProblemCode::UnknownUser, "the device's user is gone")
            })
    }
}

fn not_enrolled(user: &User, factor: Factor) -> CoreError {
    let what = if factor == Factor::Totp {
        "TOTP"
    } else {
        "unused recovery codes"
    };
    CoreError::rejected(
        ProblemCode::FactorNotEnrolled,
        format!("{} has no {what}", user.username),
    )
}
