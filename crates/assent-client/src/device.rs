//! The device side of the protocol: enrollment with server-key pinning, per-request proofs,
//! fetching requests, signing decisions, and the live stream.

use crate::error::ClientError;
use crate::http::{decode, fetch_jwks, http_client};
use crate::profile::DeviceProfile;
use crate::sse::SseParser;
use assent_proto::api::{
    ActivateDevice, AlertList, AlertView, DecisionAccepted, DeviceApproval, DeviceApprovalList,
    DeviceEnrolled, DeviceList, DeviceSelf, DeviceView, EnrollDevice, PushSubscriptionBody,
    PushTokenBody, RecoveryCodeCount, RecoveryCodes, RegisterPasskey, RenameDevice, SubmitDecision,
};
use assent_proto::enrollment_link::EnrollmentLink;
use assent_proto::jose::{Parsed, SigningKey, random_token};
use assent_proto::statement::{
    DECISION_TYP, DEVICE_PROOF_TYP, Decision, DecisionStatement, DeviceProof, ENROLLMENT_TYP,
    EnrollmentProof, Registration, details_hash,
};
use assent_proto::webauthn::Assertion;
use futures_util::StreamExt as _;
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

mod broadcasts;

/// Seconds since the Unix epoch, for `iat` claims.
fn unix_now() -> i64 {
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Something the live stream reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    /// A new pending request, by id.
    Approval(String),
    /// A request ended (answered elsewhere, cancelled, expired).
    Resolved(String),
    /// This device was revoked; the stream ends.
    Revoked,
    /// A security alert for the user (its message).
    Alert(String),
    /// A broadcast waits for the user's acknowledgement, by id.
    Broadcast(String),
}

/// An enrolled device talking to its server.
pub struct DeviceClient {
    http: reqwest::Client,
    profile: DeviceProfile,
    key: SigningKey,
    /// Set right after an enrollment that must be approved from another device: the code to
    /// show on this device's screen.
    activation_code: Option<String>,
}

impl std::fmt::Debug for DeviceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceClient")
            .field("device_id", &self.profile.device_id)
            .finish_non_exhaustive()
    }
}

impl DeviceClient {
    /// Enrolls a new device from an enrollment link: checks that the server's published key has
    /// the link's fingerprint, registers a fresh key with a proof of possession over the code,
    /// and checks the server's signed registration with the pinned key.
    pub async fn enroll(link: &str, name: &str, platform: &str) -> Result<Self, ClientError> {
        let link = EnrollmentLink::parse(link).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let jwks = fetch_jwks(&link.server).await?;
        let server_jwk = jwks
            .keys
            .into_iter()
            .find(|k| k.thumbprint() == link.fingerprint)
            .ok_or_else(|| {
                ClientError::Protocol(
                    "the server's key does not match the link's fingerprint: this is not the server that issued the link"
                        .into(),
                )
            })?;
        let key = SigningKey::generate().map_err(|e| ClientError::Protocol(e.to_string()))?;
        let claims = EnrollmentProof {
            code: link.code.clone(),
            name: name.to_owned(),
            platform: platform.to_owned(),
            iat: unix_now(),
        };
        let proof = key
            .sign(ENROLLMENT_TYP, None, true, &claims)
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let http = http_client(Some(Duration::from_secs(120)))?;
        let response = http
            .post(format!("{}/v1/device/enroll", link.server))
            .json(&EnrollDevice { proof })
            .send()
            .await?;
        let enrolled: DeviceEnrolled = decode(response).await?;
        let registration = Parsed::parse(&enrolled.registration)
            .and_then(|p| p.verify::<Registration>(&server_jwk))
            .map_err(|_| {
                ClientError::Protocol(
                    "the server's registration is not signed by the pinned key".into(),
                )
            })?;
        if registration.jkt != key.jwk().thumbprint()
            || registration.device_id != enrolled.device_id
        {
            return Err(ClientError::Protocol(
                "the server registered another key".into(),
            ));
        }
        let profile = DeviceProfile {
            server: link.server,
            device_id: enrolled.device_id,
            user: enrolled.user,
            name: name.to_owned(),
            server_jwk,
        };
        Ok(DeviceClient {
            http,
            profile,
            key,
            activation_code: enrolled.activation_code,
        })
    }

    /// After enrolling: the code to show while another device must approve this one (`None`
    /// when the device is active at once).
    pub fn activation_code(&self) -> Option<&str> {
        self.activation_code.as_deref()
    }

    /// A client from a saved profile.
    pub fn from_profile(dir: &Path) -> Result<Self, ClientError> {
        let (profile, key) = DeviceProfile::load(dir)?;
        Ok(DeviceClient {
            http: http_client(None)?,
            profile,
            key,
            activation_code: None,
        })
    }

    /// Saves this device into a profile directory.
    pub fn save(&self, dir: &Path) -> Result<(), ClientError> {
        self.profile.save(dir, &self.key)
    }

    pub fn profile(&self) -> &DeviceProfile {
        &self.profile
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// A fresh device proof for one request.
    pub fn proof(&self, method: &str, path: &str) -> Result<String, ClientError> {
        let claims = DeviceProof {
            jti: random_token(16).map_err(|e| ClientError::Protocol(e.to_string()))?,
            htm: method.to_owned(),
            htu: format!("{}{path}", self.profile.server),
            iat: unix_now(),
        };
        self.key
            .sign(DEVICE_PROOF_TYP, None, true, &claims)
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let proof = self.proof("GET", path)?;
        let response = self
            .http
            .get(format!("{}{path}", self.profile.server))
            .header("DPoP", proof)
            .timeout(Duration::from_secs(60))
            .send()
            .await?;
        decode(response).await
    }

    /// The user's pending requests, with their full context.
    pub async fn pending(&self) -> Result<Vec<DeviceApproval>, ClientError> {
        Ok(self
            .get::<DeviceApprovalList>("/v1/device/approvals")
            .await?
            .approvals)
    }

    /// One request with its full context.
    pub async fn approval(&self, id: &str) -> Result<DeviceApproval, ClientError> {
        self.get(&format!("/v1/device/approvals/{id}")).await
    }

    /// Signs a decision statement about `approval`. Refuses when the server's `details_hash`
    /// is not the digest of what it showed: the device signs what the user saw, nothing else.
    pub fn sign_decision(
        &self,
        approval: &DeviceApproval,
        decision: Decision,
        code: Option<&str>,
    ) -> Result<String, ClientError> {
        let hash = details_hash(
            approval.kind.as_str(),
            approval.binding_message.as_deref(),
            &approval.authorization_details,
        )
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
        // An approval signs only what was shown; a refusal is always safe to sign (so a request
        // whose details do not match their hash can still be denied or reported).
        let hash = match decision {
            Decision::Approve if hash != approval.details_hash => {
                return Err(ClientError::Protocol(
                    "the server's details hash does not match the details shown; refusing to approve"
                        .into(),
                ));
            }
            Decision::Approve => hash,
            Decision::Deny | Decision::Fraud => approval.details_hash.clone(),
        };
        let statement = DecisionStatement {
            request_id: approval.id.clone(),
            nonce: approval.nonce.clone(),
            details_hash: hash,
            decision,
            code: code.map(str::to_owned),
            iat: unix_now(),
        };
        self.key
            .sign(
                DECISION_TYP,
                Some(&self.profile.device_id),
                false,
                &statement,
            )
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Sends a signed statement as the answer to request `id`.
    pub async fn submit(
        &self,
        id: &str,
        statement: String,
    ) -> Result<DecisionAccepted, ClientError> {
        self.submit_with(id, statement, None).await
    }

    /// Sends a signed statement with the passkey assertion that user verification needs.
    pub async fn submit_with(
        &self,
        id: &str,
        statement: String,
        user_verification: Option<Assertion>,
    ) -> Result<DecisionAccepted, ClientError> {
        let response = self
            .http
            .post(format!(
                "{}/v1/device/approvals/{id}/decision",
                self.profile.server
            ))
            .json(&SubmitDecision {
                statement,
                user_verification,
            })
            .timeout(Duration::from_secs(60))
            .send()
            .await?;
        decode(response).await
    }

    /// POSTs `body` with a device proof; for endpoints that answer 204 or JSON.
    async fn post<B: serde::Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Option<serde_json::Value>, ClientError> {
        let proof = self.proof("POST", path)?;
        let response = self
            .http
            .post(format!("{}{path}", self.profile.server))
            .header("DPoP", proof)
            .json(body)
            .timeout(Duration::from_secs(60))
            .send()
            .await?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        decode(response).await.map(Some)
    }

    /// This device's identity and state (the one call a device waiting for activation may make).
    pub async fn me(&self) -> Result<DeviceSelf, ClientError> {
        self.get("/v1/device/me").await
    }

    /// Approves (with the code the new device shows) or denies a device of the same user that
    /// waits for activation. `Some` with the activated device, `None` when it was removed.
    pub async fn decide_activation(
        &self,
        device_id: &str,
        decision: Decision,
        code: Option<&str>,
    ) -> Result<Option<DeviceView>, ClientError> {
        let body = ActivateDevice {
            decision,
            code: code.map(str::to_owned),
        };
        let path = format!("/v1/device/devices/{device_id}/activation");
        match self.post(&path, &body).await? {
            None => Ok(None),
            Some(view) => serde_json::from_value(view)
                .map(Some)
                .map_err(|e| ClientError::Protocol(format!("unexpected answer: {e}"))),
        }
    }

    /// How many unused recovery codes the user has.
    pub async fn recovery_count(&self) -> Result<u32, ClientError> {
        Ok(self
            .get::<RecoveryCodeCount>("/v1/device/recovery-codes")
            .await?
            .remaining)
    }

    /// A new set of recovery codes for the user, shown once.
    pub async fn regenerate_recovery_codes(&self) -> Result<Vec<String>, ClientError> {
        let answer = self
            .post("/v1/device/recovery-codes", &serde_json::json!({}))
            .await?
            .ok_or_else(|| ClientError::Protocol("no recovery codes in the answer".into()))?;
        serde_json::from_value::<RecoveryCodes>(answer)
            .map(|r| r.codes)
            .map_err(|e| ClientError::Protocol(format!("unexpected answer: {e}")))
    }

    /// The devices of this device's user.
    pub async fn devices(&self) -> Result<Vec<DeviceView>, ClientError> {
        Ok(self.get::<DeviceList>("/v1/device/devices").await?.devices)
    }

    /// Renames one of the user's devices.
    pub async fn rename(&self, device_id: &str, name: &str) -> Result<(), ClientError> {
        let body = RenameDevice {
            name: name.to_owned(),
        };
        self.post(&format!("/v1/device/devices/{device_id}/rename"), &body)
            .await
            .map(|_| ())
    }

    /// Revokes one of the user's devices (a lost one).
    pub async fn revoke(&self, device_id: &str) -> Result<(), ClientError> {
        self.post(
            &format!("/v1/device/devices/{device_id}/revoke"),
            &serde_json::json!({}),
        )
        .await
        .map(|_| ())
    }

    /// Revokes the grant of an access request this user is an approver of.
    pub async fn revoke_grant(
        &self,
        access_request_id: &str,
    ) -> Result<assent_proto::api::AccessRequestStatus, ClientError> {
        let body = self
            .post(
                &format!("/v1/device/access-requests/{access_request_id}/revoke"),
                &serde_json::json!({}),
            )
            .await?
            .unwrap_or_default();
        serde_json::from_value(body).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// The account's recent activity: the requests that ended, and the devices.
    pub async fn activity(&self) -> Result<assent_proto::api::DeviceActivity, ClientError> {
        self.get("/v1/device/activity").await
    }

    /// Reports an approval of the activity as not the user's.
    pub async fn report_activity(
        &self,
        approval_id: &str,
    ) -> Result<assent_proto::api::ActivityReported, ClientError> {
        let body = self
            .post(
                &format!("/v1/device/activity/{approval_id}/report"),
                &serde_json::json!({}),
            )
            .await?
            .unwrap_or_default();
        serde_json::from_value(body).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// The user's recent alerts.
    pub async fn alerts(&self) -> Result<Vec<AlertView>, ClientError> {
        Ok(self.get::<AlertList>("/v1/device/alerts").await?.alerts)
    }

    /// Registers a passkey (credential id and P-256 SubjectPublicKeyInfo, base64url).
    pub async fn register_passkey(
        &self,
        credential_id: &str,
        spki: &str,
    ) -> Result<(), ClientError> {
        let body = RegisterPasskey {
            credential_id: credential_id.to_owned(),
            public_key: spki.to_owned(),
        };
        self.post("/v1/device/passkey", &body).await.map(|_| ())
    }

    /// Stores a Web Push subscription.
    pub async fn subscribe_push(
        &self,
        subscription: &PushSubscriptionBody,
    ) -> Result<(), ClientError> {
        self.post("/v1/device/push-subscription", subscription)
            .await
            .map(|_| ())
    }

    /// Stores a native app's push token: `channel` is `apns` (an APNs device token) or `fcm`
    /// (an FCM registration token). It replaces any earlier push target of this device.
    pub async fn register_push_token(&self, channel: &str, token: &str) -> Result<(), ClientError> {
        let body = PushTokenBody {
            channel: channel.to_owned(),
            token: token.to_owned(),
        };
        self.post("/v1/device/push-token", &body).await.map(|_| ())
    }

    /// Fetches request `id`, signs `decision` over what it shows, and sends it.
    pub async fn decide(
        &self,
        id: &str,
        decision: Decision,
        code: Option<&str>,
    ) -> Result<DecisionAccepted, ClientError> {
        let approval = self.approval(id).await?;
        let statement = self.sign_decision(&approval, decision, code)?;
        self.submit(id, statement).await
    }

    /// Opens the live stream; events arrive on the returned channel until it closes.
    pub async fn stream(&self) -> Result<mpsc::Receiver<DeviceEvent>, ClientError> {
        let path = "/v1/device/stream";
        let proof = self.proof("GET", path)?;
        let response = self
            .http
            .get(format!("{}{path}", self.profile.server))
            .header("DPoP", proof)
            .header("Accept", "text/event-stream")
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(decode::<serde_json::Value>(response)
                .await
                .err()
                .unwrap_or_else(|| ClientError::Protocol("the stream was refused".into())));
        }
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            let mut body = response.bytes_stream();
            let mut parser = SseParser::new();
            while let Some(Ok(chunk)) = body.next().await {
                for event in parser.push(&chunk) {
                    let id = || {
                        serde_json::from_str::<serde_json::Value>(&event.data)
                            .ok()
                            .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                    };
                    let parsed = match event.event.as_str() {
                        "approval" => id().map(DeviceEvent::Approval),
                        "resolved" => id().map(DeviceEvent::Resolved),
                        "revoked" => Some(DeviceEvent::Revoked),
                        "broadcast" => id().map(DeviceEvent::Broadcast),
                        "alert" => serde_json::from_str::<serde_json::Value>(&event.data)
                            .ok()
                            .and_then(|v| {
                                v.get("message")
                                    .and_then(|m| m.as_str())
                                    .map(|m| DeviceEvent::Alert(m.to_owned()))
                            }),
                        _ => None,
                    };
                    if let Some(parsed) = parsed
                        && tx.send(parsed).await.is_err()
                    {
                        return;
                    }
                }
            }
        });
        Ok(rx)
    }
}
