//! Passkeys at a relying party's origin: the admin sets the application's WebAuthn identity;
//! the relying party starts and finishes ceremonies.

use super::{AdminClient, RpClient, segment};
use crate::error::ClientError;
use assent_proto::api::{
    FinishPasskeyCeremony, PasskeyCeremony, PasskeyRegistered, PasskeyVerified, RpWebauthnInfo,
    SetRpWebauthn, StartPasskeyCeremony,
};
use serde_json::Value;

impl AdminClient {
    /// Sets an application's relying-party id, name and origin.
    pub async fn set_app_webauthn(
        &self,
        app_id: &str,
        body: &SetRpWebauthn,
    ) -> Result<RpWebauthnInfo, ClientError> {
        self.0
            .put(
                &format!("/v1/admin/apps/{}/webauthn", segment(app_id)),
                body,
            )
            .await
    }
}

impl RpClient {
    /// Starts registering a passkey for `user`; hand `options` to the browser.
    pub async fn start_passkey_registration(
        &self,
        user: &str,
    ) -> Result<PasskeyCeremony, ClientError> {
        let body = StartPasskeyCeremony {
            user: user.to_owned(),
        };
        self.0.post("/v1/passkeys/registrations", &body).await
    }

    /// Finishes a registration with the browser's credential.
    pub async fn finish_passkey_registration(
        &self,
        ceremony_id: &str,
        credential: Value,
    ) -> Result<PasskeyRegistered, ClientError> {
        let body = FinishPasskeyCeremony { credential };
        self.0
            .post(
                &format!("/v1/passkeys/registrations/{}", segment(ceremony_id)),
                &body,
            )
            .await
    }

    /// Starts authenticating `user` with a passkey; hand `options` to the browser.
    pub async fn start_passkey_authentication(
        &self,
        user: &str,
    ) -> Result<PasskeyCeremony, ClientError> {
        let body = StartPasskeyCeremony {
            user: user.to_owned(),
        };
        self.0.post("/v1/passkeys/authentications", &body).await
    }

    /// Finishes an authentication with the browser's assertion.
    pub async fn finish_passkey_authentication(
        &self,
        ceremony_id: &str,
        credential: Value,
    ) -> Result<PasskeyVerified, ClientError> {
        let body = FinishPasskeyCeremony { credential };
        self.0
            .post(
                &format!("/v1/passkeys/authentications/{}", segment(ceremony_id)),
                &body,
            )
            .await
    }
}
