//! A simulated device: the same protocol steps as `assent_client::DeviceClient` (enrollment
//! with server-key pinning, a fresh device proof per request, the live stream, a signed
//! decision over what was shown), built on the same `assent_proto` functions, but sharing one
//! connection pool among thousands of devices instead of one client each.

use crate::error::CallError;
use crate::http::call;
use assent_client::sse::SseParser;
use assent_proto::api::{
    DecisionAccepted, DeviceApproval, DeviceEnrolled, EnrollDevice, PushSubscriptionBody,
    StreamEvent, SubmitDecision,
};
use assent_proto::enrollment_link::EnrollmentLink;
use assent_proto::jose::{JwkSet, Parsed, SigningKey, random_token};
use assent_proto::statement::{
    DECISION_TYP, DEVICE_PROOF_TYP, Decision, DecisionStatement, DeviceProof, ENROLLMENT_TYP,
    EnrollmentProof, Registration, details_hash,
};
use futures_util::StreamExt as _;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A request the live stream announced, with when it arrived.
#[derive(Debug, Clone)]
pub struct Announced {
    pub id: String,
    pub at: Instant,
}

/// An enrolled simulated device.
pub struct SimDevice {
    pub username: String,
    pub device_id: String,
    /// The server's public URL from the enrollment link: proofs name it in `htu`.
    public_url: String,
    key: SigningKey,
}

impl std::fmt::Debug for SimDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimDevice")
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

/// Seconds since the Unix epoch, for `iat` claims.
fn unix_now() -> i64 {
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn protocol(step: &str, e: impl std::fmt::Display) -> CallError {
    CallError::new(step, "protocol", e.to_string())
}

impl SimDevice {
    /// Enrolls from `link`: pins the server key named by the link's fingerprint, registers a
    /// fresh key with a proof of possession, and checks the signed registration. `base` is
    /// where requests go (it may differ from the public URL in the link).
    pub async fn enroll(
        http: &reqwest::Client,
        base: &str,
        link: &str,
        jwks: &JwkSet,
    ) -> Result<Self, CallError> {
        let step = "enroll";
        let link = EnrollmentLink::parse(link).map_err(|e| protocol(step, e))?;
        let server_jwk = jwks
            .keys
            .iter()
            .find(|k| k.thumbprint() == link.fingerprint)
            .ok_or_else(|| protocol(step, "no server key has the link's fingerprint"))?;
        let key = SigningKey::generate().map_err(|e| protocol(step, e))?;
        let claims = EnrollmentProof {
            code: link.code.clone(),
            name: "bench phone".into(),
            platform: "bench".into(),
            iat: unix_now(),
        };
        let proof = key
            .sign(ENROLLMENT_TYP, None, true, &claims)
            .map_err(|e| protocol(step, e))?;
        let enrolled: DeviceEnrolled = call(
            step,
            http.post(format!("{base}/v1/device/enroll"))
                .json(&EnrollDevice { proof })
                .timeout(Duration::from_secs(60)),
        )
        .await?;
        let registration = Parsed::parse(&enrolled.registration)
            .and_then(|p| p.verify::<Registration>(server_jwk))
            .map_err(|_| protocol(step, "registration not signed by the pinned key"))?;
        if registration.jkt != key.jwk().thumbprint()
            || registration.device_id != enrolled.device_id
        {
            return Err(protocol(step, "the server registered another key"));
        }
        Ok(SimDevice {
            username: enrolled.user,
            device_id: enrolled.device_id,
            public_url: link.server,
            key,
        })
    }

    /// A fresh device proof for one request.
    fn proof(&self, step: &str, method: &str, path: &str) -> Result<String, CallError> {
        let claims = DeviceProof {
            jti: random_token(16).map_err(|e| protocol(step, e))?,
            htm: method.to_owned(),
            htu: format!("{}{path}", self.public_url),
            iat: unix_now(),
        };
        self.key
            .sign(DEVICE_PROOF_TYP, None, true, &claims)
            .map_err(|e| protocol(step, e))
    }

    /// Opens the live stream; announced requests arrive on the returned channel, stamped
    /// with their arrival time by the reading task, until the stream ends.
    pub async fn stream(
        &self,
        http: &reqwest::Client,
        base: &str,
    ) -> Result<mpsc::UnboundedReceiver<Announced>, CallError> {
        let step = "stream";
        let path = "/v1/device/stream";
        let response = http
            .get(format!("{base}{path}"))
            .header("DPoP", self.proof(step, "GET", path)?)
            .header("Accept", "text/event-stream")
            .send()
            .await
            .map_err(|e| CallError::transport(step, &e))?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap_or_default();
            return Err(CallError::answer(step, status, &body));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut body = response.bytes_stream();
            let mut parser = SseParser::new();
            while let Some(Ok(chunk)) = body.next().await {
                let at = Instant::now();
                for event in parser.push(&chunk) {
                    if event.event != "approval" {
                        continue;
                    }
                    if let Ok(e) = serde_json::from_str::<StreamEvent>(&event.data)
                        && tx.send(Announced { id: e.id, at }).is_err()
                    {
                        return;
                    }
                }
            }
        });
        Ok(rx)
    }

    /// Fetches one request with its full context (this records its delivery on the server).
    pub async fn fetch(
        &self,
        http: &reqwest::Client,
        base: &str,
        id: &str,
    ) -> Result<DeviceApproval, CallError> {
        let step = "fetch";
        let path = format!("/v1/device/approvals/{id}");
        call(
            step,
            http.get(format!("{base}{path}"))
                .header("DPoP", self.proof(step, "GET", &path)?)
                .timeout(Duration::from_secs(60)),
        )
        .await
    }

    /// Registers the device's Web Push subscription (`204 No Content`).
    pub async fn subscribe_push(
        &self,
        http: &reqwest::Client,
        base: &str,
        subscription: &PushSubscriptionBody,
    ) -> Result<(), CallError> {
        let step = "push-subscription";
        let path = "/v1/device/push-subscription";
        let response = http
            .post(format!("{base}{path}"))
            .header("DPoP", self.proof(step, "POST", path)?)
            .json(subscription)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| CallError::transport(step, &e))?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap_or_default();
            return Err(CallError::answer(step, status, &body));
        }
        Ok(())
    }

    /// Signs an approval of what the server showed, with the code from the relying party's
    /// screen. Refuses when the details hash does not match the details, as a device must.
    pub fn sign_approval(
        &self,
        approval: &DeviceApproval,
        code: Option<&str>,
    ) -> Result<String, CallError> {
        let step = "sign";
        let hash = details_hash(
            approval.kind.as_str(),
            approval.binding_message.as_deref(),
            &approval.authorization_details,
        )
        .map_err(|e| protocol(step, e))?;
        if hash != approval.details_hash {
            return Err(protocol(step, "details hash does not match the details"));
        }
        let statement = DecisionStatement {
            request_id: approval.id.clone(),
            nonce: approval.nonce.clone(),
            details_hash: hash,
            decision: Decision::Approve,
            code: code.map(str::to_owned),
            iat: unix_now(),
        };
        self.key
            .sign(DECISION_TYP, Some(&self.device_id), false, &statement)
            .map_err(|e| protocol(step, e))
    }

    /// Sends a signed statement as the answer to request `id`.
    pub async fn submit(
        &self,
        http: &reqwest::Client,
        base: &str,
        id: &str,
        statement: String,
    ) -> Result<DecisionAccepted, CallError> {
        call(
            "decide",
            http.post(format!("{base}/v1/device/approvals/{id}/decision"))
                .json(&SubmitDecision {
                    statement,
                    user_verification: None,
                })
                .timeout(Duration::from_secs(60)),
        )
        .await
    }
}
