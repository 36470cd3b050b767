//! What a user can use right now: the summary a login page reads to offer the right way in,
//! and the fallbacks named when push is suspended.

use super::Factor;
use crate::error::CoreError;
use crate::ids::UserId;
use crate::model::{Device, User};
use crate::service::Assent;
use assent_proto::states::DeviceState;
use time::OffsetDateTime;

/// The factors of one user as they stand now.
#[derive(Debug, Clone)]
pub struct FactorSummary {
    pub user: User,
    /// Usable now, best first; empty when the user must enroll (or wait out a lock).
    pub available: Vec<Factor>,
    /// The user's devices that are not revoked.
    pub devices: Vec<Device>,
    /// An active device and push not suspended.
    pub push_available: bool,
    pub suspended_until: Option<OffsetDateTime>,
    pub totp_enrolled: bool,
    pub totp_locked_until: Option<OffsetDateTime>,
    pub recovery_codes_left: u32,
    pub recovery_locked_until: Option<OffsetDateTime>,
}

impl Assent {
    /// What the user can use right now, as `by` may see it (an application only for users in
    /// its scope).
    pub async fn user_factors(
        &self,
        by: &crate::service::Principal,
        username: &str,
    ) -> Result<FactorSummary, CoreError> {
        let user = self.user_for(by, username).await?;
        let now = self.now();
        let devices: Vec<Device> = self
            .store
            .list_devices(Some(&user.id))
            .await?
            .into_iter()
            .filter(|d| d.state != DeviceState::Revoked)
            .collect();
        let suspended_until = self
            .store
            .suspension(&user.id)
            .await?
            .map(|s| s.until)
            .filter(|until| *until > now);
        let push_available =
            devices.iter().any(|d| d.state == DeviceState::Active) && suspended_until.is_none();
        let totp_enrolled = self.store.totp(&user.id).await?.is_some();
        let totp_locked_until = self.locked_until(&user.id, Factor::Totp).await?;
        let remaining = self.store.recovery_codes(&user.id).await?.len();
        let recovery_locked_until = self.locked_until(&user.id, Factor::RecoveryCode).await?;
        let mut available = Vec::new();
        if push_available {
            available.push(Factor::Push);
        }
        if totp_enrolled && totp_locked_until.is_none() {
            available.push(Factor::Totp);
        }
        if remaining > 0 && recovery_locked_until.is_none() {
            available.push(Factor::RecoveryCode);
        }
        Ok(FactorSummary {
            user,
            available,
            devices,
            push_available,
            suspended_until,
            totp_enrolled,
            totp_locked_until,
            recovery_codes_left: u32::try_from(remaining).unwrap_or(u32::MAX),
            recovery_locked_until,
        })
    }

    /// The factors other than push that the user can use now (for a `push_suspended` answer).
    pub(crate) async fn fallback_factors(&self, user: &UserId) -> Result<Vec<Factor>, CoreError> {
        let mut factors = Vec::new();
        if self.store.totp(user).await?.is_some()
            && self.locked_until(user, Factor::Totp).await?.is_none()
        {
            factors.push(Factor::Totp);
        }
        if !self.store.recovery_codes(user).await?.is_empty()
            && self
                .locked_until(user, Factor::RecoveryCode)
                .await?
                .is_none()
        {
            factors.push(Factor::RecoveryCode);
        }
        Ok(factors)
    }
}
