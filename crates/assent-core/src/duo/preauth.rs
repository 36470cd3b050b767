//! `preauth`: whether a user may authenticate and with what, in Duo's terms: `auth` with the
//! user's devices, `enroll` when there is no device to ask. With
//! `client_supports_verified_push=1` the answer also carries the code the client shows, in a
//! sealed `txid` that the following `auth` brings back.

use super::error::{DuoError, refuse};
use super::integrations::DuoCaller;
use super::txid::Txid;
use crate::error::CoreError;
use crate::ids::{UserId, Username};
use crate::model::{App, Device, User};
use crate::secrets;
use crate::service::Assent;
use assent_proto::duo::api::{self, DuoErrorCode};
use assent_proto::duo::request::DuoParams;
use assent_proto::states::DeviceState;
use std::collections::BTreeMap;

/// How long a Verified Push code from `preauth` may be used by `auth`, as Duo's.
pub(crate) const VERIFIED_PUSH_SECS: i64 = 60;

/// `preauth`'s answer with Verified Push: Duo puts the code next to `result`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PreauthAnswer {
    #[serde(flatten)]
    pub preauth: api::Preauth,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
}

impl Assent {
    /// The user a call names by `username` or `user_id` (one of them); `None` when no such
    /// user exists, or when the user is outside the application's scope.
    pub(crate) async fn duo_user(
        &self,
        app: &App,
        params: &DuoParams,
    ) -> Result<Option<User>, DuoError> {
        let found = self.duo_named_user(params).await?;
        match found {
            Some(user) if self.in_scope(app, &user).await? => Ok(Some(user)),
            _ => Ok(None),
        }
    }

    async fn duo_named_user(&self, params: &DuoParams) -> Result<Option<User>, DuoError> {
        match (params.get("username")?, params.get("user_id")?) {
            (Some(name), None) => match Username::parse(name) {
                Ok(name) => Ok(self
                    .records
                    .user_by_name(self.store.as_ref(), &name)
                    .await?),
                Err(_) => Ok(None),
            },
            (None, Some(id)) => match UserId::parse(id) {
                Some(id) => Ok(self.records.user(self.store.as_ref(), &id).await?),
                None => Ok(None),
            },
            (Some(_), Some(_)) => Err(refuse(
                DuoErrorCode::InvalidParameters,
                "username: send username or user_id, not both",
            )),
            (None, None) => Err(refuse(
                DuoErrorCode::InvalidParameters,
                "username: username or user_id is required",
            )),
        }
    }

    pub(crate) async fn active_devices(&self, user: &User) -> Result<Vec<Device>, DuoError> {
        let mut devices = self.store.list_devices(Some(&user.id)).await?;
        devices.retain(|d| d.state == DeviceState::Active);
        Ok(devices)
    }

    /// Answers `preauth`.
    pub async fn duo_preauth(
        &self,
        caller: &DuoCaller,
        params: &DuoParams,
    ) -> Result<PreauthAnswer, DuoError> {
        let verified_push = params.flag("client_supports_verified_push")?;
        let enroll = |status_msg: &str| PreauthAnswer {
            preauth: api::Preauth {
                result: "enroll",
                status_msg: status_msg.to_owned(),
                devices: None,
                prompt: None,
            },
            txid: None,
            verification_code: None,
            expiration: None,
        };
        let Some(user) = self.duo_user(&caller.app, params).await? else {
            return Ok(enroll("Enroll a device with Assent to proceed"));
        };
        let devices = self.active_devices(&user).await?;
        if devices.is_empty() {
            return Ok(enroll("Enroll a device with Assent to proceed"));
        }
        let has_totp = self.store.totp(&user.id).await?.is_some();
        let listed: Vec<api::Device> = devices
            .iter()
            .map(|d| api::Device {
                device: d.id.to_string(),
                kind: "phone",
                name: d.name.clone(),
                display_name: format!("{} ({})", d.name, d.platform),
                capabilities: if has_totp {
                    vec!["auto", "push", "mobile_otp"]
                } else {
                    vec!["auto", "push"]
                },
            })
            .collect();
        let prompt = text_prompt(&user, &listed);
        let mut answer = PreauthAnswer {
            preauth: api::Preauth {
                result: "auth",
                status_msg: "Account is active".into(),
                devices: Some(listed),
                prompt: Some(prompt),
            },
            txid: None,
            verification_code: None,
            expiration: None,
        };
        if verified_push {
            let code = secrets::new_display_code(self.settings.code_length)?;
            let expiration = self.now().unix_timestamp() + VERIFIED_PUSH_SECS;
            let txid = Txid::Preauth {
                u: user.id.to_string(),
                c: code.clone(),
                e: expiration,
            }
            .seal(&self.data_key, &caller.integration.ikey)
            .map_err(|e| CoreError::Internal(format!("sealing a Duo txid: {e}")))?;
            answer.txid = Some(txid);
            answer.verification_code = Some(code);
            answer.expiration = Some(expiration);
        }
        Ok(answer)
    }
}

/// The menu duo_unix prints (`text_prompt`): a passcode, or a push to one of the devices. A
/// push reaches every active device of the user, whichever is chosen: any of them can answer.
fn text_prompt(user: &User, devices: &[api::Device]) -> api::Prompt {
    let mut text = format!(
        "Assent login for {}\n\nEnter a passcode or select one of the following options:\n\n",
        user.username
    );
    let mut factors = BTreeMap::new();
    for (index, device) in devices.iter().enumerate() {
        let n = index + 1;
        text += &format!(" {n}. Push to {}\n", device.display_name);
        factors.insert(n.to_string(), format!("push{n}"));
    }
    text += &format!("\nPasscode or option (1-{}): ", devices.len());
    factors.insert("default".into(), "push1".into());
    api::Prompt { text, factors }
}
