//! Known-answer tests: the vectors in `testdata/protocol-vectors.json` are what a third-party
//! authenticator checks its implementation against, and `docs/protocol.md` shows them verbatim.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_proto::canonical::to_canonical_string;
use assent_proto::enrollment_link::EnrollmentLink;
use assent_proto::exact_json::{Inexact, NumberProblem, check_text};
use assent_proto::jose::{Jwk, Parsed, SigningKey, b64, b64_decode};
use assent_proto::statement::{
    BROADCAST_ACK_TYP, BroadcastAckStatement, DECISION_TYP, DEVICE_PROOF_TYP, DecisionStatement,
    DeviceProof, broadcast_message_hash, details_hash,
};
use serde_json::{Value, json};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vectors() -> Value {
    let text = std::fs::read_to_string(root().join("testdata/protocol-vectors.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("missing {path}"))
}

#[test]
fn device_key_and_thumbprint() {
    let v = vectors();
    let key = SigningKey::from_pkcs8(&b64_decode(s(&v, "/device_key/pkcs8")).unwrap()).unwrap();
    let jwk: Jwk = serde_json::from_value(v["device_key"]["jwk"].clone()).unwrap();
    assert_eq!(key.jwk(), &jwk);
    assert_eq!(jwk.thumbprint(), s(&v, "/device_key/thumbprint"));
}

#[test]
fn canonical_details_and_hash() {
    let v = vectors();
    let d = &v["details"];
    let details: Vec<Value> = serde_json::from_value(d["authorization_details"].clone()).unwrap();
    let object = json!({
        "authorization_details": details,
        "binding_message": d["binding_message"],
        "kind": d["kind"],
    });
    assert_eq!(
        to_canonical_string(&object).unwrap(),
        s(&v, "/details/canonical")
    );
    let hash = details_hash(
        s(&v, "/details/kind"),
        d["binding_message"].as_str(),
        &details,
    )
    .unwrap();
    assert_eq!(hash, s(&v, "/details/details_hash"));
}

fn canonical_vectors() -> Value {
    let text = std::fs::read_to_string(root().join("testdata/canonical-vectors.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn canonical_vectors_accepted_hash_as_given() {
    let v = canonical_vectors();
    let accepted = v["accepted"].as_array().unwrap();
    assert!(accepted.len() >= 4);
    for vector in accepted {
        let name = s(vector, "/name");
        let raw = s(vector, "/authorization_details");
        // The raw text passes the exactness check as the server runs it on a request.
        check_text(raw, "/authorization_details").unwrap_or_else(|e| panic!("{name}: {e}"));
        let details: Vec<Value> = serde_json::from_str(raw).unwrap();
        let message = vector["binding_message"].as_str();
        let object = json!({
            "authorization_details": details,
            "binding_message": message,
            "kind": s(vector, "/kind"),
        });
        assert_eq!(
            to_canonical_string(&object).unwrap(),
            s(vector, "/canonical"),
            "{name}"
        );
        let hash = details_hash(s(vector, "/kind"), message, &details).unwrap();
        assert_eq!(hash, s(vector, "/details_hash"), "{name}");
    }
}

#[test]
fn canonical_vectors_refused_name_their_pointer() {
    let v = canonical_vectors();
    let refused = v["refused"].as_array().unwrap();
    assert!(refused.len() >= 10);
    for vector in refused {
        let name = s(vector, "/name");
        let err = check_text(
            s(vector, "/authorization_details"),
            "/authorization_details",
        )
        .expect_err(name);
        assert_eq!(err.pointer(), s(vector, "/pointer"), "{name}");
        let problem = match err {
            Inexact::Number { problem, .. } => match problem {
                NumberProblem::NotFinite => "not_finite",
                NumberProblem::BeyondSafeInteger => "beyond_safe_integer",
                NumberProblem::Rounded { .. } => "rounded",
            },
            Inexact::DuplicateName { .. } => "duplicate_name",
        };
        assert_eq!(problem, s(vector, "/problem"), "{name}");
    }
}

#[test]
fn decision_statement_verifies_and_decodes() {
    let v = vectors();
    let jwk: Jwk = serde_json::from_value(v["device_key"]["jwk"].clone()).unwrap();
    let parsed = Parsed::parse(s(&v, "/decision/jws")).unwrap();
    assert_eq!(parsed.header.typ.as_deref(), Some(DECISION_TYP));
    assert_eq!(parsed.header.kid.as_deref(), Some(s(&v, "/decision/kid")));
    let statement: DecisionStatement = parsed.verify(&jwk).unwrap();
    let expected: DecisionStatement =
        serde_json::from_value(v["decision"]["payload"].clone()).unwrap();
    assert_eq!(statement, expected);
    assert_eq!(statement.details_hash, s(&v, "/details/details_hash"));
}

#[test]
fn broadcast_acknowledgement_verifies_and_binds_the_message() {
    let v = vectors();
    let jwk: Jwk = serde_json::from_value(v["device_key"]["jwk"].clone()).unwrap();
    let parsed = Parsed::parse(s(&v, "/broadcast_ack/jws")).unwrap();
    assert_eq!(parsed.header.typ.as_deref(), Some(BROADCAST_ACK_TYP));
    assert_eq!(
        parsed.header.kid.as_deref(),
        Some(s(&v, "/broadcast_ack/kid"))
    );
    let statement: BroadcastAckStatement = parsed.verify(&jwk).unwrap();
    let expected: BroadcastAckStatement =
        serde_json::from_value(v["broadcast_ack"]["payload"].clone()).unwrap();
    assert_eq!(statement, expected);
    assert_eq!(
        statement.message_hash,
        broadcast_message_hash(s(&v, "/broadcast_ack/message"))
    );
    // Its own typ: a decision statement is not an acknowledgement, nor the reverse.
    let decision = Parsed::parse(s(&v, "/decision/jws")).unwrap();
    assert_ne!(decision.header.typ, parsed.header.typ);
}

#[test]
fn device_proof_verifies_with_its_embedded_key() {
    let v = vectors();
    let parsed = Parsed::parse(s(&v, "/device_proof/jws")).unwrap();
    assert_eq!(parsed.header.typ.as_deref(), Some(DEVICE_PROOF_TYP));
    let jwk = parsed.header.jwk.clone().unwrap();
    assert_eq!(jwk.thumbprint(), s(&v, "/device_key/thumbprint"));
    let proof: DeviceProof = parsed.verify(&jwk).unwrap();
    let expected: DeviceProof =
        serde_json::from_value(v["device_proof"]["payload"].clone()).unwrap();
    assert_eq!(proof, expected);
}

#[test]
fn enrollment_link_parses() {
    let v = vectors();
    let link = EnrollmentLink::parse(s(&v, "/enrollment_link/link")).unwrap();
    assert_eq!(link.server, s(&v, "/enrollment_link/server"));
    assert_eq!(link.code, s(&v, "/enrollment_link/code"));
    assert_eq!(link.fingerprint, s(&v, "/enrollment_link/fp"));
}

#[test]
fn protocol_document_shows_the_vectors() {
    let v = vectors();
    let doc = std::fs::read_to_string(root().join("docs/protocol.md")).unwrap();
    for path in [
        "/device_key/thumbprint",
        "/details/canonical",
        "/details/details_hash",
        "/decision/jws",
        "/broadcast_ack/payload/message_hash",
        "/broadcast_ack/jws",
        "/device_proof/jws",
        "/enrollment_link/link",
    ] {
        assert!(
            doc.contains(s(&v, path)),
            "docs/protocol.md does not show the vector {path}"
        );
    }
}

/// Regenerates the vectors: `cargo test -p assent-proto --test vectors -- --ignored --nocapture`.
/// Only for a deliberate protocol change; the signatures differ at each run (ECDSA is randomized).
#[test]
#[ignore = "generator, not a test"]
fn generate() {
    let key = SigningKey::generate().unwrap();
    let details = vec![
        json!({"type": "payment_initiation", "currency": "EUR", "amount": "250.00",
        "creditor": "Bob Martin", "iban": "FR7630006000011234567890189"}),
    ];
    let object = json!({"authorization_details": details, "binding_message": "Send 250.00 EUR to Bob", "kind": "transaction"});
    let hash = details_hash("transaction", Some("Send 250.00 EUR to Bob"), &details).unwrap();
    let statement = DecisionStatement {
        request_id: "01a203db-9403-761f-9a3d-a5eb62f00c46".into(),
        nonce: "nT3rvWq2m4vHq7mP3xYbAQ".into(),
        details_hash: hash.clone(),
        decision: assent_proto::statement::Decision::Approve,
        code: Some("740242".into()),
        iat: 1_795_000_000,
    };
    let kid = "01a203d9-7c2e-7a51-8d0f-3b7f0c1e5a22";
    let message = "We had a breach.\nChange your password and review your recent activity.";
    let ack = BroadcastAckStatement {
        broadcast_id: "01a203e4-51c8-7b3e-9f21-6c0d4e8a7b15".into(),
        user: "alice".into(),
        message_hash: broadcast_message_hash(message),
        iat: 1_795_000_000,
    };
    let proof = DeviceProof {
        jti: "q8Zx3TgYh2p0bW1f".into(),
        htm: "GET".into(),
        htu: "https://assent.example.com/v1/device/approvals".into(),
        iat: 1_795_000_000,
    };
    let out = json!({
        "comment": "Test vectors of the Assent device protocol. The key is a published test key: never use it.",
        "device_key": {"pkcs8": b64(key.pkcs8()), "jwk": key.jwk(), "thumbprint": key.jwk().thumbprint()},
        "details": {"kind": "transaction", "binding_message": "Send 250.00 EUR to Bob", "authorization_details": details,
            "canonical": to_canonical_string(&object).unwrap(), "details_hash": hash},
        "decision": {"kid": kid, "payload": statement, "jws": key.sign(DECISION_TYP, Some(kid), false, &statement).unwrap()},
        "broadcast_ack": {"kid": kid, "message": message, "payload": ack,
            "jws": key.sign(BROADCAST_ACK_TYP, Some(kid), false, &ack).unwrap()},
        "device_proof": {"payload": proof, "jws": key.sign(DEVICE_PROOF_TYP, None, true, &proof).unwrap()},
        "enrollment_link": {"link": "https://assent.example.com/app/enroll#code=Gq3V0x9Jc2Lr8sY1tW4zA6bD5eF7hK0m&fp=4ujoisk7lDeOKv6JMaonLfiF2oPZnukjYKDFbd7ojMU",
            "server": "https://assent.example.com", "code": "Gq3V0x9Jc2Lr8sY1tW4zA6bD5eF7hK0m", "fp": "4ujoisk7lDeOKv6JMaonLfiF2oPZnukjYKDFbd7ojMU"},
    });
    println!("VECTORS{}", serde_json::to_string_pretty(&out).unwrap());
}
