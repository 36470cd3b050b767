//! TOTP (RFC 6238) as a fallback factor: enrolling a user's authenticator app (the seed sealed
//! at rest, shown once), removing it, and checking codes, each step accepted once.

use super::otp::{self, TotpParams};
use super::{Factor, Purpose, not_enrolled, totp_context};
use crate::audit::AuditEvent;
use crate::error::CoreError;
use crate::model::TotpSecret;
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;

/// The TOTP parameters a relying party asks for; each `None` takes the default every
/// authenticator app honours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TotpChoice {
    pub algorithm: Option<String>,
    pub digits: Option<u8>,
    pub period: Option<u32>,
}

/// A TOTP factor just enrolled: the seed is in the URI and the QR code, shown this once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpEnrollment {
    /// `otpauth://totp/...` (Key Uri Format).
    pub otpauth_uri: String,
    /// The same URI as a QR code (SVG).
    pub qr_svg: String,
    pub algorithm: String,
    pub digits: u8,
    pub period: u32,
}

impl Assent {
    /// Enrolls TOTP for a user: a fresh seed, sealed at rest, shown once as an `otpauth://` URI
    /// and its QR code. A user has one TOTP factor; replacing it takes an admin's removal first.
    pub async fn enroll_totp(
        &self,
        by: &Principal,
        username: &str,
        choice: &TotpChoice,
    ) -> Result<TotpEnrollment, CoreError> {
        let user = self.user_for(by, username).await?;
        let params = TotpParams::parse(choice.algorithm.as_deref(), choice.digits, choice.period)
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
        Ok(TotpEnrollment {
            qr_svg: otp::qr_svg(&otpauth_uri)?,
            otpauth_uri,
            algorithm: secret.algorithm,
            digits: secret.digits,
            period: secret.period,
        })
    }

    /// Removes a user's TOTP factor (an admin's reset, before a new enrollment).
    pub async fn remove_totp(&self, by: &Principal, username: &str) -> Result<(), CoreError> {
        let user = self.user_for(by, username).await?;
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
        username: &str,
        code: &str,
    ) -> Result<(), CoreError> {
        let user = self.user_for(by, username).await?;
        let secret = self
            .store
            .totp(&user.id)
            .await?
            .ok_or_else(|| not_enrolled(&user, Factor::Totp))?;
        self.admit_attempt(&user, Factor::Totp, by).await?;
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
        let Some(step) = otp::matching_step(&totp, code, unix) else {
            return Err(self.refuse_code(&user, Factor::Totp, by, false).await);
        };
        let event = AuditEvent::FactorUsed {
            user_id: user.id.to_string(),
            factor: Factor::Totp.as_str().into(),
            purpose: Purpose::Verify.as_str().into(),
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
        Ok(())
    }
}
