//! Offline receipt verification, past the signatures: each input builds a receipt from arbitrary
//! fields, signed with a fixed server key, carrying a device statement signed with a fixed
//! device key and a passkey assertion, then may change its header, its keys or its bytes.
//! A receipt verifies exactly when everything holds (typ, kid, signatures, the statement's typ,
//! kid, request, details and decision, the passkey's origin and assertion), and whatever
//! verifies is exactly what the server signed.
#![no_main]

use arbitrary::Arbitrary;
use assent_fuzz::{AssertionSpec, Expectation, Key, Text};
use assent_proto::jose::{JwkSet, MAX_JWS_LEN, SigningKey};
use assent_proto::receipt::verify_receipt;
use assent_proto::statement::{
    DECISION_TYP, Decision, DecisionStatement, RECEIPT_TYP, Receipt, ReceiptDevice,
    ReceiptUserVerification,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum DecisionSpec {
    Approve,
    Deny,
    Fraud,
}

impl DecisionSpec {
    fn decision(self) -> Decision {
        match self {
            DecisionSpec::Approve => Decision::Approve,
            DecisionSpec::Deny => Decision::Deny,
            DecisionSpec::Fraud => Decision::Fraud,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum State {
    Approved,
    Denied,
    Fraud,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Reason {
    WrongCode,
    Other(String),
}

/// The passkey check: the issuer is `scheme://host[:port][/path]`, the origin and relying-party
/// id derived from it unless replaced.
#[derive(Arbitrary, Debug)]
struct Uv {
    https: bool,
    host: String,
    port: Option<u16>,
    path: Option<String>,
    origin: Text,
    rp_id: Text,
    public_key: Key,
    assertion: AssertionSpec,
}

#[derive(Arbitrary, Debug)]
struct Answer {
    device_id: String,
    /// The key whose JWK the receipt names for the device.
    named_key: Key,
    /// The key that signs the statement.
    signer: Key,
    typ: Text,
    kid: Text,
    request_id: Text,
    details_hash: Text,
    nonce: String,
    decision: DecisionSpec,
    code: Option<String>,
    iat: i64,
    uv: Option<Uv>,
    /// Leaves out the device (`Some(true)`) or the statement (`Some(false)`).
    drop: Option<bool>,
    /// The statement as raw text instead of a JWS.
    raw_statement: Option<String>,
}

#[derive(Arbitrary, Debug)]
enum Kid {
    Kid,
    Thumbprint,
    Other(String),
    Absent,
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    /// Surrounding whitespace, which verification trims.
    Whitespace,
    Flip {
        at: u16,
        xor: u8,
    },
    Truncate(u16),
    Insert {
        at: u16,
        byte: u8,
    },
    /// Replaces one of the three parts.
    Part {
        index: u8,
        text: String,
    },
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    approval_id: String,
    application: String,
    user: String,
    kind: String,
    state: State,
    reason: Option<Reason>,
    details_hash: String,
    created_at: i64,
    decided_at: i64,
    iat: i64,
    answer: Option<Answer>,
    typ: Text,
    kid: Kid,
    signer: Key,
    /// Keys published before the server's own, by thumbprint.
    decoys: Vec<Key>,
    /// Publishes the server key without its `kid`, to be found by thumbprint.
    publish_without_kid: bool,
    mutation: Option<Mutation>,
}

const SERVER_KID: &str = "server-1";

fn host_only(host: &str) -> String {
    let clean: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .take(64)
        .collect();
    if clean.is_empty() {
        "localhost".into()
    } else {
        clean
    }
}

fn sign<T: serde::Serialize>(key: &SigningKey, typ: &str, kid: Option<&str>, body: &T) -> String {
    key.sign(typ, kid, false, body).expect("signing works")
}

fuzz_target!(|input: Input| {
    let mut iss = "https://assent.example".to_owned();
    let mut ok = true;
    let mut device = None;
    let mut statement_jws = None;
    let mut user_verification = None;
    let mut signed_statement = None;
    let state = match &input.state {
        State::Approved => "approved".to_owned(),
        State::Denied => "denied".to_owned(),
        State::Fraud => "fraud".to_owned(),
        State::Other(s) => s.clone(),
    };
    let reason = input.reason.as_ref().map(|r| match r {
        Reason::WrongCode => "wrong_code".to_owned(),
        Reason::Other(s) => s.clone(),
    });
    // Whether the outcome of verification is known from the spec alone.
    let mut known = true;

    if let Some(answer) = &input.answer {
        let (request_id, request_ok) = answer.request_id.resolve(&input.approval_id);
        let (details_hash, details_ok) = answer.details_hash.resolve(&input.details_hash);
        let statement = DecisionStatement {
            request_id,
            nonce: answer.nonce.clone(),
            details_hash,
            decision: answer.decision.decision(),
            code: answer.code.clone(),
            iat: answer.iat,
        };
        let (typ, typ_ok) = answer.typ.resolve(DECISION_TYP);
        let (kid, kid_ok) = answer.kid.resolve(&answer.device_id);
        let jws = match &answer.raw_statement {
            Some(raw) => {
                known = false;
                raw.clone()
            }
            None => sign(answer.signer.jws(), &typ, Some(&kid), &statement),
        };
        let consistent = match (statement.decision, state.as_str()) {
            (Decision::Approve, "approved") => true,
            (Decision::Approve, "denied") => reason.as_deref() == Some("wrong_code"),
            (Decision::Deny, "denied") | (Decision::Fraud, "fraud") => true,
            _ => false,
        };
        ok &= typ_ok
            && kid_ok
            && jws.len() <= MAX_JWS_LEN
            && answer.signer == answer.named_key
            && request_ok
            && details_ok
            && consistent;
        if let Some(uv) = &answer.uv {
            let host = host_only(&uv.host);
            let scheme = if uv.https { "https" } else { "http" };
            let port = uv.port.map(|p| format!(":{p}")).unwrap_or_default();
            let path = uv
                .path
                .as_ref()
                .map(|p| format!("/{p}"))
                .unwrap_or_default();
            iss = format!("{scheme}://{host}{port}{path}");
            let (origin, origin_ok) = uv.origin.resolve(&format!("{scheme}://{host}{port}"));
            let (rp_id, rp_ok) = uv.rp_id.resolve(&host);
            let credential_id = format!("cred-{}", answer.device_id);
            // The receipt's verifier takes the credential id from the assertion itself.
            let mut spec = uv.assertion.clone();
            spec.credential_id = Text::Expected;
            let (assertion, assertion_ok) = spec.build(&Expectation {
                statement: &jws,
                origin: &origin,
                rp_id: &rp_id,
                credential_id: &credential_id,
                signer: uv.public_key,
            });
            match assertion_ok {
                Some(a) => ok &= a,
                None => known = false,
            }
            // The origin must be the issuer's, and the relying-party id its host.
            ok &= origin_ok && rp_ok;
            user_verification = Some(ReceiptUserVerification {
                origin,
                rp_id,
                public_key: uv.public_key.jwk().clone(),
                assertion,
            });
        }
        match answer.drop {
            Some(true) => ok = false,
            Some(false) => ok = false,
            None => {}
        }
        if answer.drop != Some(true) {
            device = Some(ReceiptDevice {
                id: answer.device_id.clone(),
                jwk: answer.named_key.jwk().clone(),
            });
        }
        if answer.drop != Some(false) {
            statement_jws = Some(jws);
        }
        signed_statement = Some(statement);
    }

    let receipt = Receipt {
        iss,
        approval_id: input.approval_id.clone(),
        application: input.application.clone(),
        user: input.user.clone(),
        kind: input.kind.clone(),
        state,
        reason,
        details_hash: input.details_hash.clone(),
        created_at: input.created_at,
        decided_at: input.decided_at,
        device,
        statement: statement_jws,
        user_verification,
        co_approvals: Vec::new(),
        iat: input.iat,
    };
    let server = Key::Server;
    let published = if input.publish_without_kid {
        server.jwk().clone()
    } else {
        server.jwk().public_with_kid(SERVER_KID)
    };
    let thumbprint = server.jwk().thumbprint();
    let kid = match &input.kid {
        Kid::Kid => Some(SERVER_KID.to_owned()),
        Kid::Thumbprint => Some(thumbprint.clone()),
        Kid::Other(s) => Some(s.clone()),
        Kid::Absent => None,
    };
    let kid_ok = match &input.kid {
        Kid::Kid => !input.publish_without_kid,
        Kid::Thumbprint => true,
        // Another text may still be a decoy's thumbprint, or the server's own.
        Kid::Other(s) => {
            known &= !input.decoys.iter().any(|d| d.jwk().thumbprint() == *s);
            *s == thumbprint || (!input.publish_without_kid && s == SERVER_KID)
        }
        Kid::Absent => false,
    };
    let (typ, typ_ok) = input.typ.resolve(RECEIPT_TYP);
    ok &= kid_ok && typ_ok && input.signer == server;
    // The server may have signed with a decoy's key and named it: then that decoy verifies.
    known &= input.signer == server || !input.decoys.contains(&input.signer);

    let mut jwks = JwkSet { keys: Vec::new() };
    jwks.keys
        .extend(input.decoys.iter().map(|d| d.jwk().clone()));
    jwks.keys.push(published);
    let mut text = sign(input.signer.jws(), &typ, kid.as_deref(), &receipt);

    match &input.mutation {
        None => {}
        Some(Mutation::Whitespace) => text = format!(" \n{text}\t\r\n"),
        Some(mutation) => {
            known = false;
            let mut bytes = text.into_bytes();
            match mutation {
                Mutation::Flip { at, xor } => {
                    let at = usize::from(*at) % bytes.len();
                    bytes[at] ^= xor;
                }
                Mutation::Truncate(len) => bytes.truncate(usize::from(*len)),
                Mutation::Insert { at, byte } => {
                    bytes.insert(usize::from(*at).min(bytes.len()), *byte)
                }
                Mutation::Part { index, text } => {
                    let original = String::from_utf8(bytes).expect("a JWS is ASCII");
                    let mut parts: Vec<&str> = original.split('.').collect();
                    let at = usize::from(*index) % parts.len();
                    parts[at] = text.as_str();
                    bytes = parts.join(".").into_bytes();
                }
                Mutation::Raw(raw) => bytes = raw.clone().into_bytes(),
                Mutation::Whitespace => unreachable!(),
            }
            let Ok(mutated) = String::from_utf8(bytes) else {
                return;
            };
            text = mutated;
        }
    }

    ok &= text.trim().len() <= MAX_JWS_LEN;
    let result = verify_receipt(&text, &jwks);
    if known {
        assert_eq!(result.is_ok(), ok, "{result:?}");
    }
    if let Ok(verified) = result {
        // Nothing verifies that the server (or the device) did not sign as it stands.
        assert_eq!(verified.receipt, receipt);
        assert_eq!(verified.statement.is_some(), receipt.statement.is_some());
        if let Some(statement) = verified.statement {
            assert_eq!(Some(statement), signed_statement);
        }
    }
});
