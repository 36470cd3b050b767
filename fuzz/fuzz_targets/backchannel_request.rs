//! The CIBA backchannel request as it arrives: a form body and an optional Authorization header
//! go through `Params::parse`, `client_credentials` and `BackchannelRequest::from_params`. The
//! body is raw bytes, or built from the request's parameters, each left at a valid value unless
//! the input replaces or drops it (so an input of zero bytes is a valid request), percent-encoded, plus
//! extra parameters. Besides "no panic": credential parameters are gone once read; a request
//! built only from valid values parses; and what parses keeps every rule (openid in scope, a
//! bounded printable binding message, bounded codes and tokens, typed details).
#![no_main]

use arbitrary::Arbitrary;
use assent_proto::oauth::backchannel::{
    BackchannelRequest, MAX_BINDING_MESSAGE, MAX_NOTIFICATION_TOKEN, MAX_USER_CODE,
};
use assent_proto::oauth::form::{Params, client_credentials};
use libfuzzer_sys::fuzz_target;

/// Each known parameter with a valid value.
const VALID: [(&str, &str); 9] = [
    ("scope", "openid email"),
    ("login_hint", "alice"),
    ("binding_message", "Deploy v2 to production?\nRef 42"),
    ("user_code", "1234"),
    ("requested_expiry", "120"),
    ("acr_values", "urn:assent:acr:uv"),
    (
        "authorization_details",
        r#"[{"type":"deploy","env":"prod","replicas":3}]"#,
    ),
    (
        "client_notification_token",
        "8d67dc78-7faa-4d41-aabd-67707b374255",
    ),
    ("client_id", "agent-1"),
];

const OTHER_NAMES: [&str; 6] = [
    "id_token_hint",
    "login_hint_token",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "request",
];

#[derive(Arbitrary, Debug)]
enum Change {
    Drop,
    Value(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    changes: [Option<Change>; 9],
    extra: Vec<(u8, String)>,
    authorization: Option<String>,
    raw: Option<Vec<u8>>,
}

fn encode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

fuzz_target!(|input: Input| {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for ((name, valid), change) in VALID.iter().zip(&input.changes) {
        match change {
            None => pairs.push(((*name).into(), (*valid).into())),
            Some(Change::Drop) => {}
            Some(Change::Value(value)) => pairs.push(((*name).into(), value.clone())),
        }
    }
    for (which, value) in &input.extra {
        let name = OTHER_NAMES[usize::from(*which) % OTHER_NAMES.len()];
        pairs.push((name.into(), value.clone()));
    }
    let all_valid = input.raw.is_none()
        && input.extra.is_empty()
        && input.authorization.is_none()
        && input.changes.iter().all(Option::is_none);
    let body = match &input.raw {
        Some(raw) => raw.clone(),
        None => pairs
            .iter()
            .map(|(name, value)| format!("{name}={}", encode(value)))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes(),
    };
    let parsed = Params::parse(&body);
    assert!(!all_valid || parsed.is_ok());
    let Ok(mut params) = parsed else {
        return;
    };
    assert!(
        params
            .names()
            .all(|n| params.get(n).is_some_and(|v| !v.is_empty()))
    );
    let credentials = client_credentials(input.authorization.as_deref(), &mut params);
    assert!(!all_valid || credentials.is_ok());
    if credentials.is_ok() {
        for name in [
            "client_id",
            "client_secret",
            "client_assertion",
            "client_assertion_type",
        ] {
            assert!(params.get(name).is_none(), "{name} left in the parameters");
        }
    }
    let request = BackchannelRequest::from_params(&params);
    assert!(!all_valid || request.is_ok(), "{request:?}");
    if let Ok(request) = request {
        assert!(request.scope.iter().any(|s| s == "openid"));
        if let Some(message) = &request.binding_message {
            assert!(message.chars().count() <= MAX_BINDING_MESSAGE);
            assert!(!message.chars().any(|c| c.is_control() && c != '\n'));
        }
        assert!(
            request
                .user_code
                .as_ref()
                .is_none_or(|c| c.chars().count() <= MAX_USER_CODE)
        );
        assert!(
            request
                .client_notification_token
                .as_ref()
                .is_none_or(|t| t.len() <= MAX_NOTIFICATION_TOKEN)
        );
        assert!(request.requested_expiry.is_none_or(|s| s > 0));
        assert!(request.authorization_details.len() <= 16);
        for detail in &request.authorization_details {
            assert!(
                detail
                    .get("type")
                    .and_then(|t| t.as_str())
                    .is_some_and(|t| !t.is_empty())
            );
        }
    }
});
