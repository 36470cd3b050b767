use super::*;
use serde_json::json;

fn params(pairs: &[(&str, &str)]) -> Params {
    let mut params = Params::default();
    for (name, value) in pairs {
        params.insert(*name, *value);
    }
    params
}

fn base() -> Vec<(&'static str, &'static str)> {
    vec![("scope", "openid"), ("login_hint", "alice")]
}

fn with(extra: &[(&'static str, &str)]) -> Result<BackchannelRequest, OAuthError> {
    let mut p = params(&base());
    for (name, value) in extra {
        p.insert(*name, *value);
    }
    BackchannelRequest::from_params(&p)
}

fn code_with(extra: &[(&'static str, &str)]) -> OAuthErrorCode {
    with(extra).unwrap_err().error
}

#[test]
fn parses_a_full_request() {
    let details =
        r#"[{"type":"payment_initiation","amount":{"value":"250.00","currency":"EUR"},"n":1.5}]"#;
    let request = with(&[
        ("scope", "openid  email openid"),
        ("binding_message", "Pay 250 € to Bob\nref 42"),
        ("user_code", "1234"),
        ("requested_expiry", "120"),
        ("acr_values", "urn:assent:acr:uv urn:assent:acr:device"),
        ("authorization_details", details),
        ("client_notification_token", "abc-._~+/def=="),
        ("unknown_parameter", "ignored"),
    ])
    .unwrap();
    assert_eq!(request.scope, ["openid", "email"]);
    assert_eq!(request.hint, Hint::LoginHint("alice".into()));
    assert_eq!(
        request.binding_message.as_deref(),
        Some("Pay 250 € to Bob\nref 42")
    );
    assert_eq!(request.user_code.as_deref(), Some("1234"));
    assert_eq!(request.requested_expiry, Some(120));
    assert_eq!(
        request.acr_values,
        ["urn:assent:acr:uv", "urn:assent:acr:device"]
    );
    assert_eq!(
        request.authorization_details,
        [
            json!({"type": "payment_initiation", "amount": {"value": "250.00", "currency": "EUR"}, "n": 1.5})
        ]
    );
    assert_eq!(
        request.client_notification_token.as_deref(),
        Some("abc-._~+/def==")
    );
}

#[test]
fn a_minimal_request_has_no_options() {
    let request = with(&[]).unwrap();
    assert_eq!(request.binding_message, None);
    assert_eq!(request.requested_expiry, None);
    assert!(request.acr_values.is_empty());
    assert!(request.authorization_details.is_empty());
}

#[test]
fn scope_is_required_and_must_hold_openid() {
    let request = BackchannelRequest::from_params(&params(&[("login_hint", "alice")]));
    assert_eq!(request.unwrap_err().error, OAuthErrorCode::InvalidRequest);
    assert_eq!(
        code_with(&[("scope", "email profile")]),
        OAuthErrorCode::InvalidScope
    );
    assert_eq!(
        code_with(&[("scope", "OpenID")]),
        OAuthErrorCode::InvalidScope
    );
    assert_eq!(code_with(&[("scope", " ")]), OAuthErrorCode::InvalidScope);
    assert_eq!(
        code_with(&[("scope", "openid \"quoted\"")]),
        OAuthErrorCode::InvalidScope
    );
    assert_eq!(
        code_with(&[("scope", "openid caf\u{e9}")]),
        OAuthErrorCode::InvalidScope
    );
}

#[test]
fn exactly_one_hint() {
    let none = BackchannelRequest::from_params(&params(&[("scope", "openid")]));
    assert_eq!(none.unwrap_err().error, OAuthErrorCode::InvalidRequest);
    assert_eq!(
        code_with(&[("id_token_hint", "x.y.z")]),
        OAuthErrorCode::InvalidRequest
    );
    for (name, hint) in [
        ("id_token_hint", Hint::IdTokenHint("x.y.z".into())),
        ("login_hint_token", Hint::LoginHintToken("x.y.z".into())),
    ] {
        let request =
            BackchannelRequest::from_params(&params(&[("scope", "openid"), (name, "x.y.z")]));
        assert_eq!(request.unwrap().hint, hint);
    }
    let three = params(&[
        ("scope", "openid"),
        ("login_hint", "a"),
        ("id_token_hint", "b"),
        ("login_hint_token", "c"),
    ]);
    assert_eq!(
        BackchannelRequest::from_params(&three).unwrap_err().error,
        OAuthErrorCode::InvalidRequest
    );
}

#[test]
fn hints_are_bounded() {
    assert_eq!(
        code_with(&[("login_hint", &"a".repeat(MAX_LOGIN_HINT + 1))]),
        OAuthErrorCode::InvalidRequest
    );
    assert_eq!(
        code_with(&[("login_hint", "al\u{0}ice")]),
        OAuthErrorCode::InvalidRequest
    );
    assert!(with(&[("login_hint", &"é".repeat(MAX_LOGIN_HINT))]).is_ok());
    let long = "a".repeat(MAX_HINT_TOKEN + 1);
    for name in ["id_token_hint", "login_hint_token"] {
        let request =
            BackchannelRequest::from_params(&params(&[("scope", "openid"), (name, &long)]));
        assert_eq!(request.unwrap_err().error, OAuthErrorCode::InvalidRequest);
    }
}

#[test]
fn binding_message_is_short_and_printable() {
    let exact = "é".repeat(MAX_BINDING_MESSAGE);
    assert!(with(&[("binding_message", &exact)]).is_ok());
    let long = "é".repeat(MAX_BINDING_MESSAGE + 1);
    for bad in [long.as_str(), "a\rb", "a\tb", "a\u{1b}[2Jb", "a\u{85}b"] {
        assert_eq!(
            code_with(&[("binding_message", bad)]),
            OAuthErrorCode::InvalidBindingMessage,
            "{bad:?}"
        );
    }
}

#[test]
fn requested_expiry_is_a_positive_integer() {
    for bad in ["0", "-1", "+5", "1.5", "1e3", "abc", "4294967296", " 5"] {
        assert_eq!(
            code_with(&[("requested_expiry", bad)]),
            OAuthErrorCode::InvalidRequest,
            "{bad}"
        );
    }
    assert_eq!(
        with(&[("requested_expiry", "0060")])
            .unwrap()
            .requested_expiry,
        Some(60)
    );
    assert_eq!(
        with(&[("requested_expiry", "4294967295")])
            .unwrap()
            .requested_expiry,
        Some(u32::MAX)
    );
}

#[test]
fn authorization_details_are_typed_objects_with_exact_numbers() {
    let sixteen = format!("[{}]", vec![r#"{"type":"t"}"#; 16].join(","));
    assert_eq!(
        with(&[("authorization_details", &sixteen)])
            .unwrap()
            .authorization_details
            .len(),
        16
    );
    let seventeen = format!("[{}]", vec![r#"{"type":"t"}"#; 17].join(","));
    for bad in [
        seventeen.as_str(),
        "not json",
        r#"{"type":"t"}"#,
        r#"[{"type":""}]"#,
        r#"[{"type":1}]"#,
        r#"[{"kind":"t"}]"#,
        r#"["t"]"#,
        r#"[{"type":"t","amount":9007199254740993}]"#,
        r#"[{"type":"t","amount":0.10000000000000001}]"#,
        r#"[{"type":"t","amount":1e400}]"#,
        r#"[{"type":"t","type":"u"}]"#,
    ] {
        assert_eq!(
            code_with(&[("authorization_details", bad)]),
            OAuthErrorCode::InvalidAuthorizationDetails,
            "{bad}"
        );
    }
    let error = with(&[(
        "authorization_details",
        r#"[{"type":"t","amount":9007199254740993}]"#,
    )])
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("/authorization_details/0/amount"),
        "{error}"
    );
}

#[test]
fn notification_token_is_a_bounded_b64token() {
    let max = "a".repeat(MAX_NOTIFICATION_TOKEN);
    assert!(with(&[("client_notification_token", &max)]).is_ok());
    let long = "a".repeat(MAX_NOTIFICATION_TOKEN + 1);
    for bad in [long.as_str(), "a b", "a,b", "==", "a=b", "tok\u{e9}n"] {
        assert_eq!(
            code_with(&[("client_notification_token", bad)]),
            OAuthErrorCode::InvalidRequest,
            "{bad}"
        );
    }
}

#[test]
fn user_code_is_bounded() {
    assert!(with(&[("user_code", &"9".repeat(MAX_USER_CODE))]).is_ok());
    assert_eq!(
        code_with(&[("user_code", &"9".repeat(MAX_USER_CODE + 1))]),
        OAuthErrorCode::InvalidUserCode
    );
    assert_eq!(
        code_with(&[("user_code", "12\n34")]),
        OAuthErrorCode::InvalidUserCode
    );
}

#[test]
fn acr_values_are_tokens() {
    assert_eq!(
        code_with(&[("acr_values", "a\u{1}b")]),
        OAuthErrorCode::InvalidRequest
    );
    assert_eq!(
        code_with(&[("acr_values", "  ")]),
        OAuthErrorCode::InvalidRequest
    );
}

proptest::proptest! {
    #[test]
    fn never_panics(
        values in proptest::collection::vec("\\PC{0,60}", 9),
    ) {
        let names = ["scope", "login_hint", "id_token_hint", "binding_message", "user_code",
            "requested_expiry", "acr_values", "authorization_details", "client_notification_token"];
        let mut p = Params::default();
        for (name, value) in names.iter().zip(&values) {
            p.insert(*name, value.clone());
        }
        let _ = BackchannelRequest::from_params(&p);
    }
}
