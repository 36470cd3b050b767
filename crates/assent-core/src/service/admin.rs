//! Administration: applications, users, device listing and revocation.

use super::{Assent, Principal};
use crate::audit::{Actor, AuditEvent};
use crate::error::{CoreError, StoreError};
use crate::ids::{AppId, DeviceId, UserId, Username};
use crate::model::{ApiKeyRecord, App, Device, KeyRole, User};
use crate::secrets;
use assent_proto::ProblemCode;
use assent_proto::states::DeviceState;

/// An application just created, with its API key: shown this once, stored hashed.
#[derive(Debug, Clone)]
pub struct NewApp {
    pub app: App,
    pub api_key: String,
}

impl Assent {
    /// Creates a relying party and its API key; the key's secret is returned once.
    pub async fn create_app(&self, by: &Principal, name: &str) -> Result<NewApp, CoreError> {
        // Control characters are refused before trimming, so a trailing line break is refused
        // too, as the OpenAPI description says.
        let has_control = name.chars().any(char::is_control);
        let name = name.trim();
        if name == crate::console::CONSOLE_APP_NAME {
            return Err(CoreError::rejected(
                ProblemCode::AlreadyExists,
                format!("{name:?} is the console's own application"),
            ));
        }
        if name.is_empty() || name.chars().count() > 100 || has_control {
            return Err(CoreError::rejected(
                ProblemCode::InvalidRequest,
                "an application name is 1 to 100 printable characters",
            ));
        }
        let app = App {
            id: AppId::generate(),
            name: name.to_owned(),
            created_at: self.now(),
        };
        let key = secrets::new_api_key()?;
        let record = ApiKeyRecord {
            id: key.id.clone(),
            secret_hash: key.secret_hash,
            role: KeyRole::App(app.id.clone()),
            created_at: app.created_at,
            revoked_at: None,
        };
        let event = AuditEvent::AppCreated {
            app_id: app.id.to_string(),
            name: app.name.clone(),
            key_id: key.id,
        };
        self.store
            .insert_app(&app, &record, self.audit(by.actor(), event))
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => CoreError::rejected(
                    ProblemCode::AlreadyExists,
                    format!("an application named {name:?} exists"),
                ),
                other => other.into(),
            })?;
        Ok(NewApp {
            app,
            api_key: key.token,
        })
    }

    /// Creates a user.
    pub async fn create_user(&self, by: &Principal, username: &str) -> Result<User, CoreError> {
        let username = Username::parse(username)?;
        let user = User {
            id: UserId::generate(),
            username,
            created_at: self.now(),
        };
        let event = AuditEvent::UserCreated {
            user_id: user.id.to_string(),
            username: user.username.to_string(),
        };
        self.store
            .insert_user(&user, self.audit(by.actor(), event))
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => CoreError::rejected(
                    ProblemCode::AlreadyExists,
                    format!("the user {} exists", user.username),
                ),
                other => other.into(),
            })?;
        Ok(user)
    }

    pub async fn list_users(&self) -> Result<Vec<User>, CoreError> {
        Ok(self.store.list_users().await?)
    }

    /// Finds a user by name, or says which name is unknown.
    pub async fn user_named(&self, username: &str) -> Result<User, CoreError> {
        self.user_called(&Username::parse(username)?).await
    }

    /// The user with this name, or `unknown_user`.
    pub async fn user_called(&self, name: &Username) -> Result<User, CoreError> {
        self.records
            .user_by_name(self.store.as_ref(), name)
            .await?
            .ok_or_else(|| {
                CoreError::rejected(ProblemCode::UnknownUser, format!("no user named {name}"))
            })
    }

    /// The name of the user with this id: of a record that refers to a user, so the user
    /// exists (its absence is an internal error).
    pub async fn username_for_id(&self, id: &crate::ids::UserId) -> Result<Username, CoreError> {
        self.records
            .user(self.store.as_ref(), id)
            .await?
            .map(|u| u.username)
            .ok_or_else(|| CoreError::Internal(format!("user {id} is referred to but gone")))
    }

    /// Lists devices, of one user when a name is given.
    pub async fn list_devices(
        &self,
        username: Option<&str>,
    ) -> Result<Vec<(Device, Username)>, CoreError> {
        let devices = match username {
            Some(name) => {
                let user = self.user_named(name).await?;
                let devices = self.store.list_devices(Some(&user.id)).await?;
                return Ok(devices
                    .into_iter()
                    .map(|d| (d, user.username.clone()))
                    .collect());
            }
            None => self.store.list_devices(None).await?,
        };
        let users = self.store.list_users().await?;
        Ok(devices
            .into_iter()
            .filter_map(|d| {
                let name = users.iter().find(|u| u.id == d.user_id)?.username.clone();
                Some((d, name))
            })
            .collect())
    }

    /// Revokes a device at once: from this moment it can authenticate and answer nothing.
    pub async fn revoke_device(&self, actor: Actor, device_id: &str) -> Result<Device, CoreError> {
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such device");
        let id = DeviceId::parse(device_id).ok_or_else(not_found)?;
        let device = self.store.device(&id).await?.ok_or_else(not_found)?;
        if device.state == DeviceState::Revoked {
            return Ok(device);
        }
        let event = AuditEvent::DeviceRevoked {
            device_id: device.id.to_string(),
            user_id: device.user_id.to_string(),
        };
        let now = self.now();
        self.store
            .revoke_device(&id, now, self.audit(actor.clone(), event))
            .await?;
        // Its stream ends now, whether or not the alert below is recorded.
        self.notifier
            .notify(&crate::notifier::Topic::Account(device.user_id.clone()));
        let withdrawn = self.withdraw_pending(&device.user_id, &actor).await?;
        let withdrawn = match withdrawn {
            0 => String::new(),
            1 => " One pending request was withdrawn.".to_owned(),
            n => format!(" {n} pending requests were withdrawn."),
        };
        self.alert(
            &device.user_id,
            "device_revoked",
            format!(
                "Device revoked: {}. It can no longer answer requests.{withdrawn}",
                device.name
            ),
        )
        .await;
        Ok(Device {
            state: DeviceState::Revoked,
            revoked_at: Some(now),
            ..device
        })
    }

    /// Renames a device on an admin's word.
    pub async fn rename_device_as_admin(
        &self,
        by: &Principal,
        device_id: &str,
        name: &str,
    ) -> Result<Device, CoreError> {
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such device");
        let id = DeviceId::parse(device_id).ok_or_else(not_found)?;
        let device = self.store.device(&id).await?.ok_or_else(not_found)?;
        let name = crate::devices::enrollment::checked_label(name, 64, "name")?;
        let event = AuditEvent::DeviceRenamed {
            device_id: device.id.to_string(),
            name: name.clone(),
        };
        self.store
            .rename_device(&device.id, &name, self.audit(by.actor(), event))
            .await?;
        Ok(Device { name, ..device })
    }

    /// The channel a device's pushes go out on, if it registered one that still works.
    pub async fn device_push_channel(&self, id: &DeviceId) -> Result<Option<String>, CoreError> {
        Ok(self
            .store
            .push_target(id)
            .await?
            .filter(|t| t.disabled_at.is_none())
            .map(|t| t.address.channel().as_str().to_owned()))
    }
}
