//! Device authentication: a fresh RFC 9449-shaped proof per request, signed by the device key.

use crate::error::CoreError;
use crate::model::{Device, ProofUse};
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::jose::Parsed;
use assent_proto::statement::{DEVICE_PROOF_TYP, DeviceProof};
use assent_proto::states::DeviceState;

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

/// A device proof that verified but whose id is not recorded as used yet. Only
/// [`Assent::authenticate_device_deferred`] makes one, and only a service call that records it
/// (with the write it authorizes, or on its own before answering) takes it, so a replay is
/// refused before anything is written or returned.
#[derive(Debug)]
#[must_use = "a proof must be recorded as used before its request has any effect"]
pub struct UnspentProof(ProofUse);

impl UnspentProof {
    pub(crate) fn into_use(self) -> ProofUse {
        self.0
    }
}

/// The refusal of a proof whose id was already used.
pub(crate) fn proof_replayed() -> CoreError {
    CoreError::rejected(
        ProblemCode::ProofReplayed,
        "this device proof was already used",
    )
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
        let (device, unspent) = self.verify_device_proof(proof, method, path).await?;
        self.spend_proof(unspent).await?;
        self.seen(&device).await?;
        Ok(AuthenticatedDevice(device))
    }

    /// [`Assent::authenticate_device`] without recording the proof's id: the caller hands the
    /// [`UnspentProof`] to the service call it authorizes, which records it in the same
    /// transaction as its own write (one commit instead of two on the hot fetch path).
    pub async fn authenticate_device_deferred(
        &self,
        proof: Option<&str>,
        method: &str,
        path: &str,
    ) -> Result<(AuthenticatedDevice, UnspentProof), CoreError> {
        let (device, unspent) = self.verify_device_proof(proof, method, path).await?;
        Ok((AuthenticatedDevice(device), unspent))
    }

    /// Records a proof's id on its own; refuses a replay.
    pub(crate) async fn spend_proof(&self, proof: UnspentProof) -> Result<(), CoreError> {
        let proof = proof.into_use();
        if self
            .store
            .consume_proof(&proof.jkt, &proof.jti, proof.forget_after)
            .await?
        {
            Ok(())
        } else {
            Err(proof_replayed())
        }
    }

    /// Every check of a device proof but the one-time use of its id.
    async fn verify_device_proof(
        &self,
        proof: Option<&str>,
        method: &str,
        path: &str,
    ) -> Result<(Device, UnspentProof), CoreError> {
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
        let unspent = UnspentProof(ProofUse {
            jkt,
            jti: claims.jti,
            forget_after,
        });
        Ok((device, unspent))
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
