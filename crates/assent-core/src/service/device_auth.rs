//! Device authentication: a fresh RFC 9449-shaped proof per request, signed by the device key.

use super::Assent;
use crate::error::CoreError;
use crate::model::Device;
use assent_proto::ProblemCode;
use assent_proto::api::DeviceState;
use assent_proto::jose::Parsed;
use assent_proto::statement::{DEVICE_PROOF_TYP, DeviceProof};

/// The one endpoint a device waiting for activation may call: its own state.
pub const SELF_PATH: &str = "/v1/device/me";

/// A device whose proof for this request verified; only [`Assent::authenticate_device`] makes one.
#[derive(Debug, Clone)]
pub struct AuthenticatedDevice(Device);

impl AuthenticatedDevice {
    pub fn device(&self) -> &Device {
        &self.0
    }
}

impl Assent {
    /// Verifies a device proof for `method` on `path` (a path under the public URL). Each check
    /// closes one attack: the signature proves the key, `htm`/`htu` stop a proof being used on
    /// another endpoint, `iat` bounds its life, `jti` stops a captured proof being replayed, and
    /// the device state stops a revoked device at once.
    pub async fn authenticate_device(
        &self,
        proof: Option<&str>,
        method: &str,
        path: &str,
    ) -> Result<AuthenticatedDevice, CoreError> {
        let refuse = |detail: String| CoreError::rejected(ProblemCode::InvalidDeviceProof, detail);
        let proof = proof.ok_or_else(|| refuse("send a device proof in the DPoP header".into()))?;
        let parsed = Parsed::parse(proof).map_err(|e| refuse(e.to_string()))?;
        if parsed.header.typ.as_deref() != Some(DEVICE_PROOF_TYP) {
            return Err(refuse(format!("a device proof has typ {DEVICE_PROOF_TYP}")));
        }
        let jwk = parsed
            .header
            .jwk
            .as_ref()
            .ok_or_else(|| refuse("the proof carries no jwk".into()))?;
        let claims: DeviceProof = parsed.verify(jwk).map_err(|e| refuse(e.to_string()))?;
        let expected_url = format!("{}{}", self.settings.public_url, path);
        if !claims.htm.eq_ignore_ascii_case(method) || claims.htu != expected_url {
            return Err(refuse(format!(
                "the proof is for another request; htu must be {expected_url}"
            )));
        }
        let now = self.now();
        self.check_iat(claims.iat, now)
            .map_err(|e| refuse(e.to_string()))?;
        if claims.jti.is_empty() || claims.jti.len() > 128 {
            return Err(refuse("jti must be 1 to 128 characters".into()));
        }
        let jkt = jwk.thumbprint();
        let device = self
            .store
            .device_by_jkt(&jkt)
            .await?
            .ok_or_else(|| refuse("no device is enrolled with this key".into()))?;
        // A device held for approval may only ask whether it has been approved.
        if !(device.state == DeviceState::PendingActivation && path == SELF_PATH) {
            ensure_can_answer(&device)?;
        }
        let forget_after = time::OffsetDateTime::from_unix_timestamp(claims.iat)
            .map_err(|_| refuse("iat is out of range".into()))?
            + self.settings.max_clock_skew;
        if !self
            .store
            .consume_proof(&jkt, &claims.jti, forget_after)
            .await?
        {
            return Err(CoreError::rejected(
                ProblemCode::ProofReplayed,
                "this device proof was already used",
            ));
        }
        self.seen(&device).await?;
        Ok(AuthenticatedDevice(device))
    }
}

/// Refuses a device that is revoked or still waits for activation: only an active device may
/// see or answer requests.
pub(crate) fn ensure_can_answer(device: &Device) -> Result<(), CoreError> {
    match device.state {
        DeviceState::Active => Ok(()),
        DeviceState::Revoked => Err(CoreError::rejected(
            ProblemCode::DeviceRevoked,
            "this device has been revoked",
        )),
        DeviceState::PendingActivation => Err(CoreError::rejected(
            ProblemCode::DevicePendingActivation,
            "this device waits for approval from another of your devices; approve it there with the code shown on it",
        )),
    }
}

impl Assent {
    /// Forgets device proof ids too old to be accepted anyway.
    pub async fn purge_proofs(&self) -> Result<u64, CoreError> {
        Ok(self.store.purge_proofs(self.now()).await?)
    }
}
