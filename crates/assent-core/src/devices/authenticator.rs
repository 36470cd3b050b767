//! What a device may do about its user's devices and notices: list and rename them, revoke a
//! lost one, register its passkey, read alerts (its push target is in `outbox::push_queue`).

use crate::audit::{Actor, AuditEvent};
use crate::devices::auth::AuthenticatedDevice;
use crate::error::CoreError;
use crate::ids::{AlertId, DeviceId, UserId};
use crate::model::{Alert, Device, Passkey};
use crate::notifier::Topic;
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::jose::b64_decode;
use assent_proto::webauthn::p256_point_from_spki;

/// Most alerts returned at once.
const ALERT_PAGE: u32 = 50;

impl Assent {
    /// The devices of the calling device's user.
    pub async fn user_devices(
        &self,
        device: &AuthenticatedDevice,
    ) -> Result<Vec<Device>, CoreError> {
        Ok(self
            .store
            .list_devices(Some(&device.device().user_id))
            .await?)
    }

    /// One of the user's devices; another user's device is not found.
    pub(crate) async fn sibling(
        &self,
        device: &AuthenticatedDevice,
        id: &str,
    ) -> Result<Device, CoreError> {
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such device");
        let id = DeviceId::parse(id).ok_or_else(not_found)?;
        let other = self.store.device(&id).await?.ok_or_else(not_found)?;
        if other.user_id != device.device().user_id {
            return Err(not_found());
        }
        Ok(other)
    }

    /// Renames one of the user's devices.
    pub async fn rename_device(
        &self,
        device: &AuthenticatedDevice,
        id: &str,
        name: &str,
    ) -> Result<Device, CoreError> {
        let target = self.sibling(device, id).await?;
        let name = super::enrollment::checked_label(name, 64, "name")?;
        let event = AuditEvent::DeviceRenamed {
            device_id: target.id.to_string(),
            name: name.clone(),
        };
        let audit = self.audit(Actor::Device(device.device().id.clone()), event);
        self.store.rename_device(&target.id, &name, audit).await?;
        Ok(Device { name, ..target })
    }

    /// Revokes one of the user's devices (a lost phone, from the one in hand).
    pub async fn revoke_sibling(
        &self,
        device: &AuthenticatedDevice,
        id: &str,
    ) -> Result<Device, CoreError> {
        let target = self.sibling(device, id).await?;
        self.revoke_device(
            Actor::Device(device.device().id.clone()),
            target.id.as_str(),
        )
        .await
    }

    /// Registers the device's passkey, its user-verification factor. The request is
    /// authenticated by the device key, which is what vouches for the passkey.
    pub async fn register_passkey(
        &self,
        device: &AuthenticatedDevice,
        credential_id: &str,
        public_key: &str,
    ) -> Result<(), CoreError> {
        let invalid = |d: &str| CoreError::rejected(ProblemCode::InvalidRequest, d.to_owned());
        let credential =
            b64_decode(credential_id).map_err(|_| invalid("credential_id is not base64url"))?;
        if credential.is_empty() || credential.len() > 1023 {
            return Err(invalid("credential_id is 1 to 1023 bytes"));
        }
        let spki = b64_decode(public_key).map_err(|_| invalid("public_key is not base64url"))?;
        let point = p256_point_from_spki(&spki).ok_or_else(|| {
            invalid("public_key must be a P-256 SubjectPublicKeyInfo (ES256 passkey)")
        })?;
        let device_id = device.device().id.clone();
        let passkey = Passkey {
            device_id: device_id.clone(),
            credential_id: credential_id.to_owned(),
            public_key: point,
            created_at: self.now(),
            sign_count: 0,
        };
        let event = AuditEvent::PasskeyRegistered {
            device_id: device_id.to_string(),
            credential_id: credential_id.to_owned(),
        };
        self.store
            .set_passkey(&passkey, self.audit(Actor::Device(device_id), event))
            .await?;
        // A passkey gates sensitive approvals: setting or replacing one is announced.
        let message = format!(
            "A passkey was set up on {} to confirm sensitive requests. If this wasn't you, revoke that device.",
            device.device().name
        );
        self.alert(&device.device().user_id, "passkey_registered", message)
            .await;
        Ok(())
    }

    /// Whether the device registered a passkey.
    pub async fn has_passkey(&self, device: &AuthenticatedDevice) -> Result<bool, CoreError> {
        Ok(self.store.passkey(&device.device().id).await?.is_some())
    }

    /// The user's recent alerts, newest first.
    pub async fn alerts(&self, device: &AuthenticatedDevice) -> Result<Vec<Alert>, CoreError> {
        Ok(self
            .store
            .alerts_for_user(&device.device().user_id, ALERT_PAGE)
            .await?)
    }

    /// Records an alert for every device of a user and wakes their streams. The change it tells
    /// of is already committed with its audit row, so a failure here is logged, never turned
    /// into a failure of that change.
    pub(crate) async fn alert(&self, user: &UserId, kind: &str, message: String) {
        self.alert_about(user, kind, message, None).await;
    }

    /// An alert about one device (a new device: "this wasn't me" revokes it).
    pub(crate) async fn alert_about(
        &self,
        user: &UserId,
        kind: &str,
        message: String,
        device: Option<&DeviceId>,
    ) {
        if let Err(e) = self.try_alert(user, kind, message, device).await {
            tracing::error!(user = %user, kind, error = %e, "alert not recorded");
        }
    }

    async fn try_alert(
        &self,
        user: &UserId,
        kind: &str,
        message: String,
        device: Option<&DeviceId>,
    ) -> Result<(), CoreError> {
        let alert = Alert {
            id: AlertId::generate(),
            user_id: user.clone(),
            kind: kind.to_owned(),
            message,
            created_at: self.now(),
            device_id: device.cloned(),
        };
        self.store.insert_alert(&alert).await?;
        self.notifier.notify(&Topic::Account(user.clone()));
        self.queue_alert_pushes(&alert).await;
        Ok(())
    }
}
