//! Fallback factors for when push cannot work (a lost, flat or offline phone): TOTP and
//! recovery codes, each checked under a per-user rate limit, and the summary of what a user can
//! use right now, which a login page reads to offer the right way in.

pub mod otp;

use crate::audit::{Actor, AuditEvent};
use crate::clock::rfc3339;
use crate::error::CoreError;
use crate::ids::UserId;
use crate::model::{Admission, RecoveryCode, TotpSecret, User};
use crate::service::{Assent, AuthenticatedDevice, Principal};
use assent_proto::ProblemCode;
use assent_proto::api::{
    CodeVerified, DeviceState, EnrollTotp, FactorDevice, PushFactor, RecoveryCodes, RecoveryFactor,
    TotpEnrolled, TotpFactor, UserFactors, VerifyCode,
};
use otp::TotpParams;
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

/// Why a recovery code was spent.
pub(crate) mod purposes {
    pub const VERIFY: &str = "verify";
    pub const ENROLLMENT: &str = "enrollment";
}

fn totp_context(user: &UserId) -> String {
    format!("totp-seed:{user}")
}

impl Assent {
    /// Enrolls TOTP for a user: a fresh seed, sealed at rest, shown once as an `otpauth://` URI
    /// and its QR code. A user has one TOTP factor; replacing it takes an admin's removal first.
    pub async fn enroll_totp(
        &self,
        by: &Principal,
        username: &str,
        body: &EnrollTotp,
    ) -> Result<TotpEnrolled, CoreError> {
        let user = self.user_named(username).await?;
        let params = TotpParams::parse(body.algorithm.as_deref(), body.digits, body.period)
            .map_err(|d| CoreError::rejected(ProblemCode::InvalidRequest, d))?;
        let seed = params.new_seed()?;
        let totp = params.totp(&seed, &self.settings.totp_issuer, user.username.as_str())?;
        let otpauth_uri = totp
            .to_url()
            .map_err(|e| CoreError::Internal(format!("otpauth URI: {e}")))?;
        let secret = TotpSecret {
            user_id: user.id.clone(),
            seed_sealed: self
                .data_key
                .seal(&seed, &totp_context(&user.id))
                .map_err(|_| CoreError::Crypto)?,
            algorithm: params.algorithm_name().to_owned(),
            digits: params.digits,
            period: params.period,
            last_step: None,
            created_at: self.now(),
        };
        let event = AuditEvent::TotpEnrolled {
            user_id: user.id.to_string(),
            algorithm: secret.algorithm.clone(),
            digits: secret.digits,
            period: secret.period,
        };
        if !self
            .store
            .insert_totp(&secret, self.audit(by.actor(), event))
            .await?
        {
            return Err(CoreError::rejected(
                ProblemCode::AlreadyExists,
                format!(
                    "{} already has TOTP; an admin removes it (DELETE /v1/admin/users/{}/totp) before a new one is enrolled",
                    user.username, user.username
                ),
            ));
        }
        self.alert(
            &user.id,
            "totp_enrolled",
            "An authenticator app (TOTP) was set up as a fallback for your account. If this wasn't you, tell your administrator.".into(),
        )
        .await;
        Ok(TotpEnrolled {
            qr_svg: otp::qr_svg(&otpauth_uri)?,
            otpauth_uri,
            algorithm: secret.algorithm,
            digits: secret.digits,
            period: secret.period,
        })
    }

    /// Removes a user's TOTP factor (an admin's reset, before a new enrollment).
    pub async fn remove_totp(&self, by: &Principal, username: &str) -> Result<(), CoreError> {
        let user = self.user_named(username).await?;
        let event = AuditEvent::TotpRemoved {
            user_id: user.id.to_string(),
        };
        if !self
            .store
            .delete_totp(&user.id, self.audit(by.actor(), event))
            .await?
        {
            return Err(not_enrolled(&user, Factor::Totp));
        }
        self.store
            .clear_attempts(&user.id, Factor::Totp.as_str())
            .await?;
        Ok(())
    }

    /// Checks a TOTP code: one step of drift either way, each code accepted once, attempts
    /// limited per user.
    pub async fn verify_totp(
        &self,
        by: &Principal,
        body: &VerifyCode,
    ) -> Result<CodeVerified, CoreError> {
        let user = self.user_named(&body.user).await?;
        let secret = self
            .store
            .totp(&user.id)
            .await?
            .ok_or_else(|| not_enrolled(&user, Factor::Totp))?;
        self.admit_attempt(&user, Factor::Totp).await?;
        let seed = self
            .data_key
            .open(&secret.seed_sealed, &totp_context(&user.id))
            .map_err(|e| CoreError::Internal(format!("TOTP seed of {}: {e}", user.id)))?;
        let params = TotpParams {
            algorithm: otp::algorithm_named(&secret.algorithm)
                .ok_or_else(|| CoreError::Internal("stored TOTP algorithm".into()))?,
            digits: secret.digits,
            period: secret.period,
        };
        let totp = params.totp(&seed, &self.settings.totp_issuer, user.username.as_str())?;
        let unix = u64::try_from(self.now().unix_timestamp()).unwrap_or(0);
        let Some(step) = otp::matching_step(&totp, &body.code, unix) else {
            return Err(self.refuse_code(&user, Factor::Totp, by, false).await);
        };
        let event = AuditEvent::FactorUsed {
            user_id: user.id.to_string(),
            factor: Factor::Totp.as_str().into(),
            purpose: purposes::VERIFY.into(),
            counter: step,
        };
        if !self
            .store
            .use_totp_step(&user.id, step, self.audit(by.actor(), event))
            .await?
        {
            return Err(self.refuse_code(&user, Factor::Totp, by, true).await);
        }
        self.store
            .clear_attempts(&user.id, Factor::Totp.as_str())
            .await?;
        Ok(CodeVerified {
            valid: true,
            remaining: None,
        })
    }

    /// A new set of recovery codes for a user, replacing every earlier code; shown once.
    pub async fn regenerate_recovery_codes(
        &self,
        actor: Actor,
        user: &User,
    ) -> Result<RecoveryCodes, CoreError> {
        let codes = (0..self.settings.recovery_codes)
            .map(|_| otp::new_recovery_code())
            .collect::<Result<Vec<_>, _>>()?;
        let normalized: Vec<String> = codes
            .iter()
            .filter_map(|c| otp::normalize_recovery_code(c))
            .collect();
        let hashes = self
            .hash_work(move || {
                normalized
                    .iter()
                    .map(|c| otp::hash_recovery_code(c))
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
        Ok(RecoveryCodes { codes })
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
    ) -> Result<RecoveryCodes, CoreError> {
        let user = self.user_named(username).await?;
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
    ) -> Result<RecoveryCodes, CoreError> {
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

    /// Checks and consumes a recovery code for a relying party.
    pub async fn verify_recovery_code(
        &self,
        by: &Principal,
        body: &VerifyCode,
    ) -> Result<CodeVerified, CoreError> {
        let user = self.user_named(&body.user).await?;
        let remaining = self
            .consume_recovery_code(&user, &body.code, by, purposes::VERIFY)
            .await?;
        Ok(CodeVerified {
            valid: true,
            remaining: Some(remaining),
        })
    }

    /// Consumes one of the user's recovery codes; returns how many are left.
    pub(crate) async fn consume_recovery_code(
        &self,
        user: &User,
        code: &str,
        by: &Principal,
        purpose: &str,
    ) -> Result<u32, CoreError> {
        let codes = self.store.recovery_codes(&user.id).await?;
        if codes.is_empty() {
            return Err(not_enrolled(user, Factor::RecoveryCode));
        }
        self.admit_attempt(user, Factor::RecoveryCode).await?;
        let Some(normalized) = otp::normalize_recovery_code(code) else {
            return Err(self
                .refuse_code(user, Factor::RecoveryCode, by, false)
                .await);
        };
        let left = codes.len();
        let found = self
            .hash_work(move || {
                codes
                    .into_iter()
                    .find(|c| otp::recovery_code_matches(&normalized, &c.hash))
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
            purpose: purpose.into(),
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

    /// What the user can use right now.
    pub async fn user_factors(&self, username: &str) -> Result<UserFactors, CoreError> {
        let user = self.user_named(username).await?;
        let now = self.now();
        let devices: Vec<FactorDevice> = self
            .store
            .list_devices(Some(&user.id))
            .await?
            .into_iter()
            .filter(|d| d.state != DeviceState::Revoked)
            .map(|d| FactorDevice {
                id: d.id.to_string(),
                name: d.name,
                platform: d.platform,
                state: d.state,
                last_seen_at: d.last_seen_at.map(rfc3339),
            })
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
        let totp_lock = self.locked_until(&user.id, Factor::Totp).await?;
        let remaining = self.store.recovery_codes(&user.id).await?.len();
        let recovery_lock = self.locked_until(&user.id, Factor::RecoveryCode).await?;
        let mut available = Vec::new();
        if push_available {
            available.push(Factor::Push.as_str().to_owned());
        }
        if totp_enrolled && totp_lock.is_none() {
            available.push(Factor::Totp.as_str().to_owned());
        }
        if remaining > 0 && recovery_lock.is_none() {
            available.push(Factor::RecoveryCode.as_str().to_owned());
        }
        Ok(UserFactors {
            user: user.username.to_string(),
            available,
            push: PushFactor {
                available: push_available,
                devices,
                suspended: suspended_until.is_some(),
                suspended_until: suspended_until.map(rfc3339),
            },
            totp: TotpFactor {
                enrolled: totp_enrolled,
                locked_until: totp_lock.map(rfc3339),
            },
            recovery_codes: RecoveryFactor {
                remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
                locked_until: recovery_lock.map(rfc3339),
            },
        })
    }

    /// The factors other than push that the user can use now (for a `push_suspended` answer).
    pub(crate) async fn fallback_factors(&self, user: &UserId) -> Result<Vec<String>, CoreError> {
        let mut factors = Vec::new();
        if self.store.totp(user).await?.is_some()
            && self.locked_until(user, Factor::Totp).await?.is_none()
        {
            factors.push(Factor::Totp.as_str().to_owned());
        }
        if !self.store.recovery_codes(user).await?.is_empty()
            && self
                .locked_until(user, Factor::RecoveryCode)
                .await?
                .is_none()
        {
            factors.push(Factor::RecoveryCode.as_str().to_owned());
        }
        Ok(factors)
    }

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

    /// Counts one attempt at `factor`, or refuses it when the user spent the allowance.
    async fn admit_attempt(&self, user: &User, factor: Factor) -> Result<(), CoreError> {
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
                tracing::warn!(user = %user.id, factor = factor.as_str(), "factor check refused by the rate limit");
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

    /// Runs CPU-heavy hashing off the async threads, at most two at a time.
    async fn hash_work<R: Send + 'static>(
        &self,
        work: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, CoreError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| CoreError::Internal("hashing pool closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| CoreError::Internal(format!("hashing task: {e}")))
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
