//! What devices and the server sign. Every signed object has its own `typ`, so a signature made
//! for one purpose (a device proof) can never be replayed as another (a decision).

use crate::canonical::{CanonicalError, to_canonical_string};
use crate::jose::{Jwk, sha256_b64};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// `typ` of a device's signed decision.
pub const DECISION_TYP: &str = "assent-decision+jws";
/// `typ` of a device's enrollment proof of possession.
pub const ENROLLMENT_TYP: &str = "assent-enroll+jws";
/// `typ` of a per-request device proof, shaped like an RFC 9449 DPoP proof.
pub const DEVICE_PROOF_TYP: &str = "dpop+jwt";
/// `typ` of the server's confirmation of a device registration.
pub const REGISTRATION_TYP: &str = "assent-registration+jws";
/// `typ` of the server's receipt for a final approval.
pub const RECEIPT_TYP: &str = "assent-receipt+jws";
/// `typ` of a device's acknowledgement of an incident broadcast.
pub const BROADCAST_ACK_TYP: &str = "assent-broadcast-ack+jws";

/// What a device decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Deny,
    /// "Deny and report: this wasn't me."
    Fraud,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
            Decision::Fraud => "fraud",
        }
    }
}

/// The statement a device signs to answer an approval request. Each field closes one attack:
/// `request_id` and `nonce` stop a signature being moved to another request, `details_hash`
/// stops the details being changed after the user saw them, `code` proves the user read the
/// relying party's screen, `iat` bounds how old an answer may be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionStatement {
    pub request_id: String,
    pub nonce: String,
    pub details_hash: String,
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub iat: i64,
}

/// The statement a device signs to acknowledge an incident broadcast (`typ`
/// [`BROADCAST_ACK_TYP`], `kid` the device id). `broadcast_id` and `user` stop an
/// acknowledgement being moved to another broadcast or account, `message_hash`
/// ([`broadcast_message_hash`]) proves which text the user was shown, `iat` bounds its age. Its
/// own `typ` keeps it from ever being taken for a decision, and a decision for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastAckStatement {
    pub broadcast_id: String,
    /// The username of the account the device belongs to.
    pub user: String,
    pub message_hash: String,
    pub iat: i64,
}

/// The digest of a broadcast's message that an acknowledgement carries: SHA-256 of the
/// message's UTF-8 bytes exactly as the server sent them, base64url without padding.
pub fn broadcast_message_hash(message: &str) -> String {
    sha256_b64(message.as_bytes())
}

/// The payload of a device proof: which request it authorizes and when it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceProof {
    /// Unique per proof; the server accepts each once.
    pub jti: String,
    /// HTTP method of the request.
    pub htm: String,
    /// URL of the request without query or fragment.
    pub htu: String,
    pub iat: i64,
}

/// The payload of an enrollment proof of possession: the device signs the one-time code with the
/// key it is registering, so the code alone (seen over a shoulder) cannot bind another key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentProof {
    pub code: String,
    pub name: String,
    pub platform: String,
    pub iat: i64,
}

/// The server's signed confirmation of a registration; the device checks it with the key whose
/// fingerprint the enrollment link carried, which proves it enrolled with the intended server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub device_id: String,
    pub user: String,
    /// RFC 7638 thumbprint of the device key that was registered.
    pub jkt: String,
    pub iat: i64,
}

/// The device named in a receipt, with the key that verifies its statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptDevice {
    pub id: String,
    pub jwk: Jwk,
}

/// The payload of a receipt: the server's signed account of how an approval ended. When a device
/// answered, `statement` is that device's own JWS, so a verifier need not trust the server's
/// word about what the device said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub iss: String,
    pub approval_id: String,
    pub application: String,
    pub user: String,
    pub kind: String,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub details_hash: String,
    pub created_at: i64,
    pub decided_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<ReceiptDevice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// The passkey check that accompanied an approval needing user verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_verification: Option<ReceiptUserVerification>,
    /// For a request whose policy asked for a quorum (four eyes): the co-approvals that reached
    /// it after the user's own, in the order written, each the server-signed receipt of the
    /// co-approver's own prompt (which embeds that device's statement).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub co_approvals: Vec<ReceiptCoApproval>,
    pub iat: i64,
}

/// One co-approval in a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptCoApproval {
    /// The co-approver's user id.
    pub user: String,
    /// Their prompt (an `access` request).
    pub approval_id: String,
    /// The receipt of their prompt.
    pub receipt: String,
    /// What their prompt showed and they signed (its details hash is in their receipt): the
    /// binding message, and the authorization details, whose first object names this request
    /// (`co_approval.approval_id`) and its details hash (`co_approval.details_hash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_message: Option<String>,
    pub authorization_details: Vec<Value>,
}

/// Evidence of user verification in a receipt: enough to re-check the passkey assertion offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptUserVerification {
    pub origin: String,
    pub rp_id: String,
    /// The passkey's public key.
    pub public_key: Jwk,
    pub assertion: crate::webauthn::Assertion,
}

/// The digest a device signs over what it was shown: SHA-256 of the RFC 8785 canonical JSON of
/// `{"authorization_details": [...], "binding_message": ..., "kind": ...}`, base64url encoded.
pub fn details_hash(
    kind: &str,
    binding_message: Option<&str>,
    authorization_details: &[Value],
) -> Result<String, CanonicalError> {
    let details = json!({
        "authorization_details": authorization_details,
        "binding_message": binding_message,
        "kind": kind,
    });
    Ok(sha256_b64(to_canonical_string(&details)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_hash_ignores_member_order_and_covers_every_field() {
        let a: Vec<Value> =
            serde_json::from_str(r#"[{"type":"payment","amount":"10.00","currency":"EUR"}]"#)
                .unwrap();
        let b: Vec<Value> =
            serde_json::from_str(r#"[{"currency":"EUR","amount":"10.00","type":"payment"}]"#)
                .unwrap();
        let c: Vec<Value> =
            serde_json::from_str(r#"[{"currency":"EUR","amount":"10.01","type":"payment"}]"#)
                .unwrap();
        let h = |d: &[Value], m: Option<&str>, k: &str| details_hash(k, m, d).unwrap();
        assert_eq!(
            h(&a, Some("pay"), "transaction"),
            h(&b, Some("pay"), "transaction")
        );
        assert_ne!(
            h(&a, Some("pay"), "transaction"),
            h(&c, Some("pay"), "transaction")
        );
        assert_ne!(
            h(&a, Some("pay"), "transaction"),
            h(&a, Some("pay!"), "transaction")
        );
        assert_ne!(
            h(&a, Some("pay"), "transaction"),
            h(&a, Some("pay"), "login")
        );
        assert_ne!(h(&a, None, "transaction"), h(&a, Some(""), "transaction"));
    }
}
