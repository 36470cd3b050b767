//! The device life cycle beyond enrollment: which proof lets a user add a device when they
//! already have one (trusted registration), the activation of a device held for approval, and
//! what revoking a device withdraws.

use crate::audit::{Actor, AuditEvent};
use crate::devices::auth::AuthenticatedDevice;
use crate::error::CoreError;
use crate::factors::Purpose;
use crate::ids::{DeviceId, UserId};
use crate::model::{Device, EndReason, LAST_SEEN_RESOLUTION, User};
use crate::secrets;
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::statement::Decision;
use assent_proto::states::{Activation, DeviceState};

pub(crate) fn activation_context(device: &DeviceId) -> String {
    format!("activation-code:{device}")
}

impl Assent {
    /// How a device enrolled with a new enrollment for `user` becomes active, or why the caller
    /// may not create one. Admins are trusted; an application may enroll a user's first device
    /// freely, and further devices only by a proof the registration rules accept.
    pub(crate) async fn activation_for(
        &self,
        by: &Principal,
        user: &User,
        recovery_code: Option<&str>,
    ) -> Result<Activation, CoreError> {
        let Principal::App(_) = by else {
            if recovery_code.is_some() {
                return Err(CoreError::rejected(
                    ProblemCode::InvalidRequest,
                    "an admin's enrollment needs no recovery code",
                ));
            }
            return Ok(Activation::Immediate);
        };
        let devices = self.store.list_devices(Some(&user.id)).await?;
        let has_active = devices.iter().any(|d| d.state == DeviceState::Active);
        let rules = self.settings.registration;
        match recovery_code {
            Some(code) if rules.recovery_code => {
                self.consume_recovery_code(user, code, by, Purpose::Enrollment)
                    .await?;
                Ok(Activation::Immediate)
            }
            Some(_) => Err(CoreError::rejected(
                ProblemCode::Forbidden,
                "the registration policy does not accept recovery codes for adding a device",
            )),
            None if !has_active => Ok(Activation::Immediate),
            None if rules.device_approval => Ok(Activation::DeviceApproval),
            None => Err(CoreError::rejected(
                ProblemCode::Forbidden,
                format!(
                    "{} already has an active device; adding another takes {}",
                    user.username,
                    if rules.recovery_code {
                        "a recovery code or an admin"
                    } else {
                        "an admin"
                    }
                ),
            )),
        }
    }

    /// An active device's verdict on a device of the same user that waits for activation.
    /// Approving needs the code shown on the new device, so a device enrolled by someone else
    /// cannot be waved through by reflex; a wrong code removes it like a denial.
    pub async fn decide_activation(
        &self,
        device: &AuthenticatedDevice,
        id: &str,
        decision: Decision,
        code: Option<&str>,
    ) -> Result<Option<Device>, CoreError> {
        let target = self.sibling(device, id).await?;
        if target.state != DeviceState::PendingActivation {
            return Err(CoreError::rejected(
                ProblemCode::AlreadyDecided,
                format!(
                    "the device is {}, not waiting for activation",
                    target.state.as_str()
                ),
            ));
        }
        let by = device.device().id.clone();
        if self.now() - target.created_at > self.settings.enrollment_ttl {
            self.refuse_activation(&target, Actor::Device(by.clone()), "expired")
                .await?;
            return Err(CoreError::rejected(
                ProblemCode::Expired,
                "the new device waited too long and was removed; enroll it again",
            ));
        }
        match decision {
            Decision::Approve => {}
            Decision::Deny | Decision::Fraud => {
                let reason = if decision == Decision::Deny {
                    "denied"
                } else {
                    "fraud"
                };
                if !self
                    .refuse_activation(&target, Actor::Device(by.clone()), reason)
                    .await?
                {
                    return Err(no_longer_waiting());
                }
                return Ok(None);
            }
        }
        let code = code.ok_or_else(|| {
            CoreError::rejected(
                ProblemCode::CodeRequired,
                "approving a new device needs the code it shows",
            )
        })?;
        let expected = target
            .activation_code_sealed
            .as_deref()
            .map(|sealed| self.data_key.open(sealed, &activation_context(&target.id)))
            .transpose()
            .map_err(|e| CoreError::Internal(format!("activation code: {e}")))?
            .unwrap_or_default();
        if expected.is_empty()
            || !secrets::constant_time_eq(code.trim(), &String::from_utf8_lossy(&expected))
        {
            self.refuse_activation(&target, Actor::Device(by.clone()), "wrong_code")
                .await?;
            return Err(CoreError::rejected(
                ProblemCode::WrongCode,
                "the code does not match the one on the new device; it was removed",
            ));
        }
        let event = AuditEvent::DeviceActivated {
            device_id: target.id.to_string(),
            user_id: target.user_id.to_string(),
            approved_by: by.to_string(),
        };
        if !self
            .store
            .activate_device(&target.id, self.audit(Actor::Device(by), event))
            .await?
        {
            return Err(no_longer_waiting());
        }
        self.alert_about(
            &target.user_id,
            "device_activated",
            format!(
                "{} was approved from {} and can now answer requests.",
                target.name,
                device.device().name
            ),
            Some(&target.id),
        )
        .await;
        self.notifier
            .notify(&crate::notifier::Topic::Account(target.user_id.clone()));
        Ok(Some(Device {
            state: DeviceState::Active,
            activation_code_sealed: None,
            ..target
        }))
    }

    /// Removes a waiting device; `false` when another answer got there first.
    async fn refuse_activation(
        &self,
        target: &Device,
        by: Actor,
        reason: &str,
    ) -> Result<bool, CoreError> {
        let event = AuditEvent::DeviceActivationRefused {
            device_id: target.id.to_string(),
            user_id: target.user_id.to_string(),
            refused_by: by.label(),
            reason: reason.to_owned(),
        };
        let removed = self
            .store
            .remove_pending_device(&target.id, self.audit(by, event))
            .await?;
        if removed {
            // Its stream, if it has one, ends now, whether or not the alert below is recorded.
            self.notifier
                .notify(&crate::notifier::Topic::Account(target.user_id.clone()));
            let message = if reason == "expired" {
                format!("{} was not approved in time and was removed.", target.name)
            } else {
                format!("{} was refused and removed ({reason}).", target.name)
            };
            self.alert(&target.user_id, "device_activation_refused", message)
                .await;
        }
        Ok(removed)
    }

    /// Removes devices that waited for activation longer than an enrollment link lives, so a
    /// device nobody approved does not linger; returns how many.
    pub async fn expire_pending_devices(&self) -> Result<usize, CoreError> {
        let before = self.now() - self.settings.enrollment_ttl;
        let mut removed = 0;
        for device in self
            .store
            .pending_devices_created_before(before, 500)
            .await?
        {
            if self
                .refuse_activation(&device, Actor::System, "expired")
                .await?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// After a revocation: every request still waiting for the user is withdrawn (cancelled,
    /// reason `device_revoked`). A revoked device may have been in someone else's hands, and a
    /// prompt that is pending at that moment may be theirs; the relying party asks again if it
    /// still needs an answer.
    pub(crate) async fn withdraw_pending(
        &self,
        user: &UserId,
        actor: &Actor,
    ) -> Result<u32, CoreError> {
        let mut withdrawn = 0;
        for approval in self.store.pending_for_user(user, self.now()).await? {
            let reason = EndReason::DeviceRevoked;
            if self
                .close(&approval, reason, actor.clone())
                .await?
                .is_some()
            {
                withdrawn += 1;
            }
        }
        Ok(withdrawn)
    }

    /// Notes that a device proved itself, at most once per [`LAST_SEEN_RESOLUTION`] per device
    /// (the store applies the same rule; checking here first saves the write job).
    pub(crate) async fn seen(&self, device: &Device) -> Result<(), CoreError> {
        let now = self.now();
        if device
            .last_seen_at
            .is_none_or(|t| now - t >= LAST_SEEN_RESOLUTION)
        {
            self.store.touch_device(&device.id, now).await?;
        }
        Ok(())
    }
}

fn no_longer_waiting() -> CoreError {
    CoreError::rejected(
        ProblemCode::AlreadyDecided,
        "the device is no longer waiting for activation",
    )
}
