//! Enrollment: one-time codes handed to a user, and the device registration that consumes one.

use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::ids::{DeviceId, EnrollmentId, Username};
use crate::model::{Device, Enrollment};
use crate::secrets;
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::enrollment_link::EnrollmentLink;
use assent_proto::jose::Parsed;
use assent_proto::statement::{ENROLLMENT_TYP, EnrollmentProof, REGISTRATION_TYP, Registration};
use assent_proto::states::{Activation, DeviceState};
use time::OffsetDateTime;

/// A one-time enrollment link just issued; its code is inside the link, shown this once and
/// stored hashed.
#[derive(Debug, Clone)]
pub struct EnrollmentIssued {
    pub link: String,
    /// The link as a QR code (SVG).
    pub qr_svg: String,
    pub expires_at: OffsetDateTime,
    pub activation: Activation,
}

/// A device just enrolled, with the server-signed registration it keeps.
#[derive(Debug, Clone)]
pub struct EnrolledDevice {
    pub device: Device,
    pub username: Username,
    /// The registration JWS, signed with the server key the link's fingerprint names.
    pub registration: String,
    /// While the device waits for activation: the code to show on its screen.
    pub activation_code: Option<String>,
}

impl Assent {
    /// Creates a one-time enrollment for a user and returns its link; the code is stored hashed.
    /// Users are shared by all applications, so an application adding a device to a user who
    /// already has one must bring a proof the registration rules accept (see
    /// [`Assent::activation_for`]); otherwise one application's key could plant a device that
    /// approves another's requests.
    pub async fn create_enrollment(
        &self,
        by: &Principal,
        username: &str,
        recovery_code: Option<&str>,
    ) -> Result<EnrollmentIssued, CoreError> {
        self.create_enrollment_lasting(by, username, recovery_code, self.settings.enrollment_ttl)
            .await
    }

    /// [`Assent::create_enrollment`] with a link that lasts `ttl` (at most the configured
    /// `enrollment.ttl_secs`).
    pub async fn create_enrollment_lasting(
        &self,
        by: &Principal,
        username: &str,
        recovery_code: Option<&str>,
        ttl: time::Duration,
    ) -> Result<EnrollmentIssued, CoreError> {
        let ttl = ttl.clamp(time::Duration::SECOND, self.settings.enrollment_ttl);
        let user = self.user_for(by, username).await?;
        let activation = self.activation_for(by, &user, recovery_code).await?;
        if let Principal::App(app) = by {
            tracing::info!(app = %app.id, user = %user.id, activation = activation.as_str(), "application creates an enrollment");
        }
        let code = secrets::new_enrollment_code()?;
        let now = self.now();
        let enrollment = Enrollment {
            id: EnrollmentId::generate(),
            user_id: user.id.clone(),
            code_hash: secrets::sha256(code.as_bytes()),
            created_at: now,
            expires_at: now + ttl,
            used_at: None,
            activation,
        };
        let event = AuditEvent::enrollment_created(&enrollment.id, &user.id, enrollment.expires_at);
        self.store
            .insert_enrollment(&enrollment, self.audit(by.actor(), event))
            .await?;
        let link = EnrollmentLink {
            server: self.settings.public_url.clone(),
            code,
            fingerprint: self.kid.clone(),
        };
        let link = link.to_link();
        Ok(EnrollmentIssued {
            qr_svg: crate::factors::otp::qr_svg(&link)?,
            link,
            expires_at: enrollment.expires_at,
            activation,
        })
    }

    /// Registers a device from its enrollment proof: a JWS over the code, signed by the key being
    /// registered, with that key in the header.
    pub async fn enroll_device(&self, proof: &str) -> Result<EnrolledDevice, CoreError> {
        let invalid =
            |detail: &str| CoreError::rejected(ProblemCode::InvalidSignature, detail.to_owned());
        let parsed = Parsed::parse(proof)
            .map_err(|e| CoreError::rejected(ProblemCode::InvalidStatement, e.to_string()))?;
        if parsed.header.typ.as_deref() != Some(ENROLLMENT_TYP) {
            return Err(CoreError::rejected(
                ProblemCode::InvalidStatement,
                format!("an enrollment proof has typ {ENROLLMENT_TYP}"),
            ));
        }
        let jwk = parsed.header.jwk.clone().ok_or_else(|| {
            CoreError::rejected(ProblemCode::InvalidStatement, "the proof carries no jwk")
        })?;
        let claims: EnrollmentProof = parsed.verify(&jwk).map_err(|e| invalid(&e.to_string()))?;
        let now = self.now();
        self.check_iat(claims.iat, now)?;
        let name = checked_label(&claims.name, 64, "name")?;
        let platform = checked_label(&claims.platform, 32, "platform")?;

        let enrollment = self
            .store
            .enrollment_by_code_hash(&secrets::sha256(claims.code.as_bytes()))
            .await?
            .ok_or_else(|| {
                CoreError::rejected(
                    ProblemCode::EnrollmentCodeInvalid,
                    "no enrollment has this code",
                )
            })?;
        if enrollment.used_at.is_some() {
            return Err(used());
        }
        if now >= enrollment.expires_at {
            return Err(CoreError::rejected(
                ProblemCode::EnrollmentCodeExpired,
                "the enrollment code has expired; ask for a new link",
            ));
        }
        let jkt = jwk.thumbprint();
        if self.store.device_by_jkt(&jkt).await?.is_some() {
            return Err(CoreError::rejected(
                ProblemCode::AlreadyExists,
                "this key is already registered",
            ));
        }
        let user = self
            .records
            .user(self.store.as_ref(), &enrollment.user_id)
            .await?
            .ok_or_else(|| {
                CoreError::rejected(
                    ProblemCode::EnrollmentCodeInvalid,
                    "the enrollment's user is gone",
                )
            })?;
        let id = DeviceId::generate();
        let (state, activation_code, activation_code_sealed) = match enrollment.activation {
            Activation::Immediate => (DeviceState::Active, None, None),
            Activation::DeviceApproval => {
                let code = secrets::new_display_code(self.settings.code_length)?;
                let sealed = self
                    .data_key
                    .seal(code.as_bytes(), &super::lifecycle::activation_context(&id))
                    .map_err(|_| CoreError::Crypto)?;
                (DeviceState::PendingActivation, Some(code), Some(sealed))
            }
        };
        let device = Device {
            id,
            user_id: user.id.clone(),
            name,
            platform,
            jwk: jwk.public_with_kid(&jkt),
            jkt: jkt.clone(),
            state,
            created_at: now,
            revoked_at: None,
            last_seen_at: Some(now),
            activation_code_sealed,
            push_channel: None,
            push_working: false,
        };
        let event = AuditEvent::DeviceEnrolled {
            device_id: device.id.to_string(),
            user_id: user.id.to_string(),
            enrollment_id: enrollment.id.to_string(),
            name: device.name.clone(),
            platform: device.platform.clone(),
            jkt: jkt.clone(),
        };
        let audit = self.audit(Actor::Device(device.id.clone()), event);
        if !self
            .store
            .complete_enrollment(&enrollment.id, &device, audit)
            .await?
        {
            return Err(used());
        }
        if state == DeviceState::PendingActivation {
            let message = format!(
                "A new device, {} ({}), asks to join your account. If it is yours, approve it here with the code it shows. If not, deny it.",
                device.name, device.platform
            );
            self.alert_about(
                &user.id,
                "device_activation_requested",
                message,
                Some(&device.id),
            )
            .await;
        } else {
            let message = format!(
                "New device enrolled: {} ({}). If this wasn't you, choose \"This wasn't me\" to revoke it at once.",
                device.name, device.platform
            );
            self.alert_about(&user.id, "device_enrolled", message, Some(&device.id))
                .await;
        }
        let registration = Registration {
            device_id: device.id.to_string(),
            user: user.username.to_string(),
            jkt,
            iat: now.unix_timestamp(),
        };
        let registration =
            self.key
                .sign(REGISTRATION_TYP, Some(&self.kid), false, &registration)?;
        Ok(EnrolledDevice {
            device,
            username: user.username,
            registration,
            activation_code,
        })
    }

    /// Refuses a signed time further from ours than the allowed clock skew.
    pub(crate) fn check_iat(&self, iat: i64, now: OffsetDateTime) -> Result<(), CoreError> {
        let skew = self.settings.max_clock_skew.whole_seconds();
        if (now.unix_timestamp() - iat).abs() > skew {
            return Err(CoreError::rejected(
                ProblemCode::StaleStatement,
                format!("the signed time is more than {skew} s from the server's clock"),
            ));
        }
        Ok(())
    }
}

fn used() -> CoreError {
    CoreError::rejected(
        ProblemCode::EnrollmentCodeUsed,
        "this enrollment code was already used",
    )
}

pub(crate) fn checked_label(value: &str, max: usize, what: &str) -> Result<String, CoreError> {
    // Control characters are refused before trimming, as the OpenAPI description says.
    let has_control = value.chars().any(char::is_control);
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || has_control {
        return Err(CoreError::rejected(
            ProblemCode::InvalidRequest,
            format!("the device {what} is 1 to {max} printable characters"),
        ));
    }
    Ok(value.to_owned())
}
