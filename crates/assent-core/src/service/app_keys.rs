//! Applications' API keys after their creation: listed, rotated (a new key, the earlier ones
//! revoked in the same transaction) and revoked. Keys are read from the store on every call,
//! so a revocation holds on every node from its commit.

use super::{Assent, Principal};
use crate::audit::AuditEvent;
use crate::error::{CoreError, StoreError};
use crate::ids::AppId;
use crate::model::{ApiKeyRecord, App, KeyRole};
use crate::secrets;
use assent_proto::ProblemCode;

/// An application and its keys, newest first, revoked ones included.
#[derive(Debug, Clone)]
pub struct AppKeys {
    pub app: App,
    pub keys: Vec<ApiKeyRecord>,
}

/// A key just made by a rotation: its secret is shown this once and stored hashed.
#[derive(Debug, Clone)]
pub struct RotatedKey {
    pub key_id: String,
    pub api_key: String,
    /// The keys the rotation revoked.
    pub revoked: Vec<String>,
}

fn no_such_app() -> CoreError {
    CoreError::rejected(ProblemCode::NotFound, "no such application")
}

impl Assent {
    /// Every application with its keys.
    pub async fn apps_with_keys(&self) -> Result<Vec<AppKeys>, CoreError> {
        let mut out = Vec::new();
        for app in self.store.list_apps().await? {
            let keys = self.store.app_keys(&app.id).await?;
            out.push(AppKeys { app, keys });
        }
        Ok(out)
    }

    /// An application by id, from memory when it was read before; `None` if there is none.
    pub async fn app_by_id(&self, id: &str) -> Result<Option<App>, CoreError> {
        let Some(id) = AppId::parse(id) else {
            return Ok(None);
        };
        Ok(self.records.app(self.store.as_ref(), &id).await?)
    }

    /// One application with its keys.
    pub async fn app_with_keys(&self, id: &str) -> Result<AppKeys, CoreError> {
        let id = AppId::parse(id).ok_or_else(no_such_app)?;
        let app = self.store.app(&id).await?.ok_or_else(no_such_app)?;
        let keys = self.store.app_keys(&id).await?;
        Ok(AppKeys { app, keys })
    }

    /// Gives an application a new key and revokes its earlier ones at the same moment: from
    /// the commit on, only the new key is accepted, on every node.
    pub async fn rotate_app_key(&self, by: &Principal, app: &str) -> Result<RotatedKey, CoreError> {
        // A rotation or revocation that runs at the same moment makes the store refuse this
        // one (nothing written); reading the keys again settles it.
        for _ in 0..4 {
            match self.try_rotate_app_key(by, app).await {
                Err(CoreError::Store(StoreError::Conflict(_))) => continue,
                other => return other,
            }
        }
        Err(CoreError::rejected(
            ProblemCode::Unavailable,
            "the application's keys kept changing during the rotation: try again",
        ))
    }

    async fn try_rotate_app_key(&self, by: &Principal, app: &str) -> Result<RotatedKey, CoreError> {
        let AppKeys { app, keys } = self.app_with_keys(app).await?;
        if self.is_console_app(&app) {
            return Err(console_app_has_no_key());
        }
        let replaced: Vec<String> = keys
            .into_iter()
            .filter(|k| k.revoked_at.is_none())
            .map(|k| k.id)
            .collect();
        let key = secrets::new_api_key()?;
        let record = ApiKeyRecord {
            id: key.id.clone(),
            secret_hash: key.secret_hash,
            role: KeyRole::App(app.id.clone()),
            created_at: self.now(),
            revoked_at: None,
        };
        let event = AuditEvent::ApiKeyRotated {
            app_id: app.id.to_string(),
            key_id: key.id.clone(),
            revoked_key_ids: replaced.clone(),
        };
        self.store
            .rotate_api_key(&record, &replaced, self.audit(by.actor(), event))
            .await?;
        Ok(RotatedKey {
            key_id: key.id,
            api_key: key.token,
            revoked: replaced,
        })
    }

    /// Revokes one application key at once. Admin keys are not revoked here: the server makes
    /// a new one only when none is left, so an operator replaces one by hand (docs/operations.md).
    pub async fn revoke_app_key(
        &self,
        by: &Principal,
        key_id: &str,
    ) -> Result<ApiKeyRecord, CoreError> {
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such application key");
        let key = self.store.api_key(key_id).await?.ok_or_else(not_found)?;
        let KeyRole::App(app_id) = &key.role else {
            return Err(not_found());
        };
        if key.revoked_at.is_some() {
            return Err(already_revoked());
        }
        let at = self.now();
        let event = AuditEvent::ApiKeyRevoked {
            app_id: app_id.to_string(),
            key_id: key.id.clone(),
        };
        if !self
            .store
            .revoke_api_key(&key.id, at, self.audit(by.actor(), event))
            .await?
        {
            return Err(already_revoked());
        }
        Ok(ApiKeyRecord {
            revoked_at: Some(at),
            ..key
        })
    }
}

fn already_revoked() -> CoreError {
    CoreError::rejected(ProblemCode::AlreadyDecided, "this key is revoked already")
}

fn console_app_has_no_key() -> CoreError {
    CoreError::rejected(
        ProblemCode::InvalidRequest,
        "the console's own application signs admins in from inside Assent and takes no API key",
    )
}
