//! Recovery codes as a fallback factor: a set generated and shown once (Argon2id hashes at
//! rest), replaced whole, each code spent once, for checks by a relying party and for letting a
//! new device in.

use super::otp;
use super::{Factor, Purpose, not_enrolled};
use crate::audit::{Actor, AuditEvent};
use crate::devices::auth::AuthenticatedDevice;
use crate::error::CoreError;
use crate::model::{RecoveryCode, User};
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::states::DeviceState;

impl Assent {
    /// A new set of recovery codes for a user, replacing every earlier code; shown once.
    pub async fn regenerate_recovery_codes(
        &self,
        actor: Actor,
        user: &User,
    ) -> Result<Vec<String>, CoreError> {
        let codes = (0..self.settings.recovery_codes)
            .map(|_| otp::new_recovery_code())
            .collect::<Result<Vec<_>, _>>()?;
        let normalized: Vec<String> = codes
            .iter()
            .filter_map(|c| otp::normalize_recovery_code(c))
            .collect();
        let hashes = self
            .hashing
            .run(move |memory| {
                normalized
                    .iter()
                    .map(|c| otp::hash_recovery_code(c, memory))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await??;
        let now = self.now();
        let records: Vec<RecoveryCode> = hashes
            .into_iter()
            .zip(0u32..)
            .map(|(hash, slot)| RecoveryCode {
                user_id: user.id.clone(),
                slot,
                hash,
                created_at: now,
            })
            .collect();
        let event = AuditEvent::RecoveryCodesGenerated {
            user_id: user.id.to_string(),
            count: self.settings.recovery_codes,
        };
        self.store
            .replace_recovery_codes(&user.id, &records, self.audit(actor, event))
            .await?;
        self.store
            .clear_attempts(&user.id, Factor::RecoveryCode.as_str())
            .await?;
        self.alert(
            &user.id,
            "recovery_codes_generated",
            "New recovery codes were generated for your account; earlier codes no longer work."
                .into(),
        )
        .await;
        Ok(codes)
    }

    /// [`Assent::regenerate_recovery_codes`] for a relying party or an admin. A recovery code
    /// lets a new device in at once, so an application may only hand out a user's first set,
    /// before the user has a device: replacing the codes of an enrolled user would let any
    /// application mint a code and add a device of its choosing. Later sets come from the
    /// user's own device or an admin.
    pub async fn recovery_codes_for(
        &self,
        by: &Principal,
        username: &str,
    ) -> Result<Vec<String>, CoreError> {
        let user = self.user_for(by, username).await?;
        if let Principal::App(_) = by {
            let has_device = self
                .store
                .list_devices(Some(&user.id))
                .await?
                .iter()
                .any(|d| d.state == DeviceState::Active);
            if has_device || !self.store.recovery_codes(&user.id).await?.is_empty() {
                return Err(CoreError::rejected(
                    ProblemCode::Forbidden,
                    format!(
                        "{} already has a device or recovery codes; new codes are generated on the user's device or by an admin",
                        user.username
                    ),
                ));
            }
        }
        self.regenerate_recovery_codes(by.actor(), &user).await
    }

    /// [`Assent::regenerate_recovery_codes`] from one of the user's own active devices.
    pub async fn device_recovery_codes(
        &self,
        device: &AuthenticatedDevice,
    ) -> Result<Vec<String>, CoreError> {
        let user = self.device_user(device).await?;
        self.regenerate_recovery_codes(Actor::Device(device.device().id.clone()), &user)
            .await
    }

    /// How many unused recovery codes the calling device's user has.
    pub async fn device_recovery_count(
        &self,
        device: &AuthenticatedDevice,
    ) -> Result<u32, CoreError> {
        let codes = self.store.recovery_codes(&device.device().user_id).await?;
        Ok(u32::try_from(codes.len()).unwrap_or(u32::MAX))
    }

    /// Checks and consumes a recovery code for a relying party; returns how many are left.
    pub async fn verify_recovery_code(
        &self,
        by: &Principal,
        username: &str,
        code: &str,
    ) -> Result<u32, CoreError> {
        let user = self.user_for(by, username).await?;
        self.consume_recovery_code(&user, code, by, Purpose::Verify)
            .await
    }

    /// Consumes one of the user's recovery codes; returns how many are left.
    pub(crate) async fn consume_recovery_code(
        &self,
        user: &User,
        code: &str,
        by: &Principal,
        purpose: Purpose,
    ) -> Result<u32, CoreError> {
        let codes = self.store.recovery_codes(&user.id).await?;
        if codes.is_empty() {
            return Err(not_enrolled(user, Factor::RecoveryCode));
        }
        self.admit_attempt(user, Factor::RecoveryCode, by).await?;
        let Some(normalized) = otp::normalize_recovery_code(code) else {
            return Err(self
                .refuse_code(user, Factor::RecoveryCode, by, false)
                .await);
        };
        let left = codes.len();
        let found = self
            .hashing
            .run(move |memory| {
                codes
                    .into_iter()
                    .find(|c| otp::recovery_code_matches(&normalized, &c.hash, memory))
            })
            .await?;
        let Some(found) = found else {
            return Err(self
                .refuse_code(user, Factor::RecoveryCode, by, false)
                .await);
        };
        let event = AuditEvent::FactorUsed {
            user_id: user.id.to_string(),
            factor: Factor::RecoveryCode.as_str().into(),
            purpose: purpose.as_str().into(),
            counter: u64::from(found.slot),
        };
        if !self
            .store
            .use_recovery_code(
                &user.id,
                found.slot,
                &found.hash,
                self.now(),
                self.audit(by.actor(), event),
            )
            .await?
        {
            // Another request spent the same code a moment ago.
            return Err(self.refuse_code(user, Factor::RecoveryCode, by, true).await);
        }
        self.store
            .clear_attempts(&user.id, Factor::RecoveryCode.as_str())
            .await?;
        let remaining = u32::try_from(left.saturating_sub(1)).unwrap_or(u32::MAX);
        self.alert(
            &user.id,
            "recovery_code_used",
            format!(
                "A recovery code was used for your account; {remaining} left. If this wasn't you, tell your administrator."
            ),
        )
        .await;
        Ok(remaining)
    }
}
