//! Offline verification of a receipt: the server's signature (with its JWKS), then the device's
//! own signature over its statement (with the device key the receipt names), then that the two
//! tell the same story. Needs public keys only.

use crate::jose::{JwkSet, Parsed};
use crate::statement::{DECISION_TYP, Decision, DecisionStatement, RECEIPT_TYP, Receipt};

/// A receipt whose signatures and consistency checks passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub receipt: Receipt,
    /// The device's statement, when a device answered.
    pub statement: Option<DecisionStatement>,
    /// Key id of the server key that signed it.
    pub kid: String,
}

/// Why a receipt does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    #[error("the receipt is not a JWS: {0}")]
    Malformed(String),
    #[error("the receipt's typ is not {RECEIPT_TYP}")]
    WrongType,
    #[error("no key in the JWKS has the receipt's kid")]
    UnknownKey,
    #[error("the server's signature does not verify")]
    ServerSignature,
    #[error("the device's statement is not valid: {0}")]
    Statement(String),
    #[error("the device's signature does not verify")]
    DeviceSignature,
    #[error("the passkey check in the receipt does not verify: {0}")]
    UserVerification(String),
    #[error("the receipt and the device's statement disagree: {0}")]
    Inconsistent(&'static str),
}

/// Verifies `receipt` against the server keys in `jwks`.
pub fn verify_receipt(receipt: &str, jwks: &JwkSet) -> Result<VerifiedReceipt, ReceiptError> {
    let parsed =
        Parsed::parse(receipt.trim()).map_err(|e| ReceiptError::Malformed(e.to_string()))?;
    if parsed.header.typ.as_deref() != Some(RECEIPT_TYP) {
        return Err(ReceiptError::WrongType);
    }
    let kid = parsed.header.kid.clone().ok_or(ReceiptError::UnknownKey)?;
    let key = jwks
        .keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(kid.as_str()) || k.thumbprint() == kid)
        .ok_or(ReceiptError::UnknownKey)?;
    let body: Receipt = parsed
        .verify(key)
        .map_err(|_| ReceiptError::ServerSignature)?;

    let statement = match (&body.statement, &body.device) {
        (None, None) => None,
        (Some(jws), Some(device)) => {
            let parsed = Parsed::parse(jws).map_err(|e| ReceiptError::Statement(e.to_string()))?;
            if parsed.header.typ.as_deref() != Some(DECISION_TYP) {
                return Err(ReceiptError::Statement(format!(
                    "typ is not {DECISION_TYP}"
                )));
            }
            if parsed.header.kid.as_deref() != Some(device.id.as_str()) {
                return Err(ReceiptError::Inconsistent(
                    "the statement's kid is not the named device",
                ));
            }
            let statement: DecisionStatement = parsed
                .verify(&device.jwk)
                .map_err(|_| ReceiptError::DeviceSignature)?;
            if statement.request_id != body.approval_id {
                return Err(ReceiptError::Inconsistent(
                    "the statement is for another request",
                ));
            }
            if statement.details_hash != body.details_hash {
                return Err(ReceiptError::Inconsistent(
                    "the statement signed other details",
                ));
            }
            let consistent = match (statement.decision, body.state.as_str()) {
                (Decision::Approve, "approved") => true,
                (Decision::Approve, "denied") => body.reason.as_deref() == Some("wrong_code"),
                (Decision::Deny, "denied") | (Decision::Fraud, "fraud") => true,
                _ => false,
            };
            if !consistent {
                return Err(ReceiptError::Inconsistent(
                    "the state does not follow from the device's decision",
                ));
            }
            if let Some(uv) = &body.user_verification {
                // The passkey must have been used on the issuing server's own origin.
                let same_origin = origin_of(&body.iss) == Some(uv.origin.as_str())
                    && host_of(&uv.origin) == Some(uv.rp_id.as_str());
                if !same_origin {
                    return Err(ReceiptError::Inconsistent(
                        "the passkey check names another origin than the issuer",
                    ));
                }
                let point = uv
                    .public_key
                    .to_sec1()
                    .map_err(|_| ReceiptError::Inconsistent("the passkey key is not P-256"))?;
                let expected = crate::webauthn::Expected {
                    statement: jws,
                    origin: &uv.origin,
                    rp_id: &uv.rp_id,
                    credential_id: &uv.assertion.credential_id,
                    public_key: &point,
                };
                crate::webauthn::verify(&uv.assertion, &expected)
                    .map_err(|e| ReceiptError::UserVerification(e.to_string()))?;
            }
            Some(statement)
        }
        _ => {
            return Err(ReceiptError::Inconsistent(
                "a statement needs its device and a device its statement",
            ));
        }
    };
    check_co_approvals(&body, jwks)?;
    Ok(VerifiedReceipt {
        receipt: body,
        statement,
        kid,
    })
}

/// The co-approvals of a four-eyes receipt: each the receipt of a co-approver's own prompt,
/// verified like any receipt, approved on that person's device, by people other than the user
/// and each other, and only in an approved receipt.
fn check_co_approvals(body: &Receipt, jwks: &JwkSet) -> Result<(), ReceiptError> {
    if body.co_approvals.is_empty() {
        return Ok(());
    }
    if body.state != "approved" || body.statement.is_none() {
        return Err(ReceiptError::Inconsistent(
            "only the user's own approval carries co-approvals",
        ));
    }
    let mut seen: Vec<&str> = vec![body.user.as_str()];
    for co in &body.co_approvals {
        let inner = verify_receipt(&co.receipt, jwks)
            .map_err(|e| ReceiptError::Statement(format!("co-approval {}: {e}", co.approval_id)))?;
        let r = &inner.receipt;
        let approved = r.state == "approved"
            && r.kind == "access"
            && inner.statement.is_some()
            && r.co_approvals.is_empty();
        if !approved || r.approval_id != co.approval_id || r.user != co.user {
            return Err(ReceiptError::Inconsistent(
                "a co-approval is not a device's approval of the named prompt",
            ));
        }
        if r.iss != body.iss || r.application != body.application {
            return Err(ReceiptError::Inconsistent(
                "a co-approval comes from another server or application",
            ));
        }
        // What the co-approver signed must be about this request: its shown details hash to
        // the co-approval receipt's, and name this request and its details.
        let shown = crate::statement::details_hash(
            "access",
            co.binding_message.as_deref(),
            &co.authorization_details,
        )
        .map_err(|e| ReceiptError::Statement(e.to_string()))?;
        let about = co.authorization_details.first().map(|d| &d["co_approval"]);
        let names_this = about.is_some_and(|c| {
            c["approval_id"] == body.approval_id.as_str()
                && c["details_hash"] == body.details_hash.as_str()
        });
        if shown != r.details_hash || !names_this {
            return Err(ReceiptError::Inconsistent(
                "a co-approval was given for another request",
            ));
        }
        if seen.contains(&r.user.as_str()) {
            return Err(ReceiptError::Inconsistent(
                "a co-approval comes from the user or from a co-approver twice",
            ));
        }
        seen.push(co.user.as_str());
    }
    Ok(())
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<&str> {
    let start = url.find("://")? + 3;
    let end = url[start..].find('/').map_or(url.len(), |i| start + i);
    Some(&url[..end])
}

/// The host of an origin, without port.
fn host_of(origin: &str) -> Option<&str> {
    let host = &origin[origin.find("://")? + 3..];
    Some(match host.rfind(':') {
        Some(i) if !host.ends_with(']') => &host[..i],
        _ => host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SigningKey;
    use crate::statement::{ReceiptCoApproval, ReceiptDevice, details_hash};
    use serde_json::{Value, json};

    /// The server key and its JWKS.
    fn server() -> (SigningKey, JwkSet) {
        let key = SigningKey::generate().unwrap();
        let mut jwk = key.jwk().clone();
        jwk.kid = Some("server".into());
        (key, JwkSet { keys: vec![jwk] })
    }

    /// A receipt of `approval_id` over `hash`, approved on a fresh device of `user`.
    fn approved(approval_id: &str, user: &str, kind: &str, hash: &str) -> Receipt {
        let device = SigningKey::generate().unwrap();
        let statement = DecisionStatement {
            request_id: approval_id.into(),
            nonce: "n".into(),
            details_hash: hash.into(),
            decision: Decision::Approve,
            code: None,
            iat: 1,
        };
        let jws = device
            .sign(
                DECISION_TYP,
                Some(&format!("dev-{user}")),
                false,
                &statement,
            )
            .unwrap();
        Receipt {
            iss: "https://assent.example".into(),
            approval_id: approval_id.into(),
            application: "app".into(),
            user: user.into(),
            kind: kind.into(),
            state: "approved".into(),
            reason: None,
            details_hash: hash.into(),
            created_at: 0,
            decided_at: 1,
            device: Some(ReceiptDevice {
                id: format!("dev-{user}"),
                jwk: device.jwk().clone(),
            }),
            statement: Some(jws),
            user_verification: None,
            co_approvals: Vec::new(),
            iat: 1,
        }
    }

    fn signed(server: &SigningKey, receipt: &Receipt) -> String {
        server
            .sign(RECEIPT_TYP, Some("server"), false, receipt)
            .unwrap()
    }

    /// What a co-approver of `outer` is shown.
    fn shown(outer: &Receipt) -> Vec<Value> {
        vec![
            json!({"type": "access_request", "co_approval": {
                "approval_id": outer.approval_id, "details_hash": outer.details_hash}}),
            json!({"type": "payment", "amount": "20000.00"}),
        ]
    }

    /// `user`'s approval of `details` shown as a co-approval, as the receipt carries it.
    fn co(server: &SigningKey, prompt: &str, user: &str, details: Vec<Value>) -> ReceiptCoApproval {
        let hash = details_hash("access", Some("co-approve"), &details).unwrap();
        let receipt = approved(prompt, user, "access", &hash);
        co_of(server, &receipt, details)
    }

    fn co_of(server: &SigningKey, receipt: &Receipt, details: Vec<Value>) -> ReceiptCoApproval {
        ReceiptCoApproval {
            user: receipt.user.clone(),
            approval_id: receipt.approval_id.clone(),
            receipt: signed(server, receipt),
            binding_message: Some("co-approve".into()),
            authorization_details: details,
        }
    }

    #[test]
    fn co_approvals_verify_and_each_rule_has_its_refusal() {
        let (key, jwks) = server();
        let mut four_eyes = approved("req", "alice", "transaction", "outer-hash");
        let bob = co(&key, "p-bob", "bob", shown(&four_eyes));
        let carol = co(&key, "p-carol", "carol", shown(&four_eyes));
        four_eyes.co_approvals = vec![bob.clone(), carol];
        let verified = verify_receipt(&signed(&key, &four_eyes), &jwks).unwrap();
        assert_eq!(verified.receipt.co_approvals.len(), 2);

        let refused = |mutate: &dyn Fn(&mut Receipt)| {
            let mut r = four_eyes.clone();
            mutate(&mut r);
            verify_receipt(&signed(&key, &r), &jwks).unwrap_err()
        };
        // The user's own approval as a co-approval; the same co-approver twice.
        refused(&|r| r.co_approvals[1] = co(&key, "p-alice", "alice", shown(r)));
        refused(&|r| r.co_approvals[1] = bob.clone());
        // A co-approval that names another prompt or person than its receipt.
        refused(&|r| r.co_approvals[0].approval_id = "p-other".into());
        refused(&|r| r.co_approvals[0].user = "mallory".into());
        // Bob's approval of another request, or of other details of this one, or shown
        // details that are not the ones he signed.
        refused(&|r| {
            let mut other = r.clone();
            other.approval_id = "another-request".into();
            r.co_approvals[0] = co(&key, "p-bob", "bob", shown(&other));
        });
        refused(&|r| {
            let mut other = r.clone();
            other.details_hash = "other-details".into();
            r.co_approvals[0] = co(&key, "p-bob", "bob", shown(&other));
        });
        refused(&|r| r.co_approvals[0].authorization_details[1]["amount"] = json!("1.00"));
        refused(&|r| r.co_approvals[0].binding_message = None);
        // A denial, or a prompt of another kind, is no co-approval.
        let hash = details_hash("access", Some("co-approve"), &shown(&four_eyes)).unwrap();
        let mut denied = approved("p-bob", "bob", "access", &hash);
        denied.state = "denied".into();
        refused(&|r| r.co_approvals[0] = co_of(&key, &denied, shown(r)));
        let login = approved("p-bob", "bob", "login", &hash);
        refused(&|r| r.co_approvals[0] = co_of(&key, &login, shown(r)));
        // Another server's or another application's.
        let (other, _) = server();
        let bobs = approved("p-bob", "bob", "access", &hash);
        refused(&|r| r.co_approvals[0] = co_of(&other, &bobs, shown(r)));
        let mut elsewhere = bobs.clone();
        elsewhere.application = "other-app".into();
        refused(&|r| r.co_approvals[0] = co_of(&key, &elsewhere, shown(r)));
        // Only an approval carries co-approvals.
        refused(&|r| {
            r.state = "expired".into();
            r.device = None;
            r.statement = None;
        });
    }
}
