use super::*;

fn code(result: Result<impl std::fmt::Debug, OAuthError>) -> OAuthErrorCode {
    result.unwrap_err().error
}

#[test]
fn parses_and_decodes() {
    let params =
        Params::parse(b"scope=openid+email&login_hint=alice%40example.com&x=%E2%82%AC&&flag")
            .unwrap();
    assert_eq!(params.get("scope"), Some("openid email"));
    assert_eq!(params.get("login_hint"), Some("alice@example.com"));
    assert_eq!(params.get("x"), Some("€"));
    assert_eq!(params.get("flag"), None);
    assert_eq!(
        params.names().collect::<Vec<_>>(),
        ["scope", "login_hint", "x"]
    );
    assert_eq!(params.len(), 3);
    assert!(Params::parse(b"").unwrap().is_empty());
}

#[test]
fn empty_values_are_absent_and_do_not_repeat() {
    let params = Params::parse(b"a=&a=1&b=").unwrap();
    assert_eq!(params.get("a"), Some("1"));
    assert_eq!(params.get("b"), None);
}

#[test]
fn refuses_repeated_parameters() {
    let error = Params::parse(b"scope=openid&scope=admin").unwrap_err();
    assert_eq!(error.error, OAuthErrorCode::InvalidRequest);
    assert!(error.to_string().contains("scope"));
    // Equal after decoding counts as the same name.
    assert_eq!(
        code(Params::parse(b"scope=a&sc%6Fpe=b")),
        OAuthErrorCode::InvalidRequest
    );
}

#[test]
fn refuses_bad_encoding_and_too_much() {
    for body in [
        &b"a=%FF"[..],
        b"a=%C3",
        b"a=%",
        b"a=%4",
        b"a=%zz",
        b"%=1",
        b"a=\xff",
    ] {
        assert_eq!(
            code(Params::parse(body)),
            OAuthErrorCode::InvalidRequest,
            "{body:?}"
        );
    }
    let many: Vec<String> = (0..65).map(|i| format!("p{i}=v")).collect();
    assert_eq!(
        code(Params::parse(many.join("&").as_bytes())),
        OAuthErrorCode::InvalidRequest
    );
    let enough: Vec<String> = (0..64).map(|i| format!("p{i}=v")).collect();
    assert_eq!(
        Params::parse(enough.join("&").as_bytes()).unwrap().len(),
        64
    );
    let big = vec![b'a'; MAX_FORM_LEN + 1];
    assert_eq!(code(Params::parse(&big)), OAuthErrorCode::InvalidRequest);
}

#[test]
fn take_insert_and_debug() {
    let mut params = Params::parse(b"client_secret=hunter2&scope=openid").unwrap();
    assert!(!format!("{params:?}").contains("hunter2"));
    assert_eq!(params.take("client_secret").as_deref(), Some("hunter2"));
    assert_eq!(params.take("client_secret"), None);
    assert_eq!(
        params.insert("scope", "openid email").as_deref(),
        Some("openid")
    );
    assert_eq!(params.get("scope"), Some("openid email"));
    assert_eq!(params.insert("scope", ""), Some("openid email".into()));
    assert!(params.is_empty());
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn creds(header: Option<&str>, body: &[u8]) -> (Result<ClientCredentials, OAuthError>, Params) {
    let mut params = Params::parse(body).unwrap();
    let result = client_credentials(header, &mut params);
    (result, params)
}

#[test]
fn reads_basic_credentials_form_decoded() {
    let header = basic("agent%3A1", "p%40ss+word");
    let (result, params) = creds(Some(&header), b"scope=openid&client_id=agent%3A1");
    assert_eq!(
        result.unwrap(),
        ClientCredentials::Secret {
            client_id: "agent:1".into(),
            secret: "p@ss word".into(),
            basic: true
        }
    );
    assert_eq!(params.names().collect::<Vec<_>>(), ["scope"]);
    let lower = basic("a", "b").replace("Basic", "basic");
    assert!(creds(Some(&lower), b"").0.is_ok());
}

#[test]
fn reads_post_secret_assertion_and_id_only() {
    let (result, params) = creds(None, b"client_id=a&client_secret=s&scope=openid");
    assert_eq!(
        result.unwrap(),
        ClientCredentials::Secret {
            client_id: "a".into(),
            secret: "s".into(),
            basic: false
        }
    );
    assert_eq!(params.names().collect::<Vec<_>>(), ["scope"]);
    let body = format!(
        "client_assertion=x.y.z&client_assertion_type={}",
        CLIENT_ASSERTION_TYPE.replace(':', "%3A")
    );
    let (result, params) = creds(None, body.as_bytes());
    assert_eq!(
        result.unwrap(),
        ClientCredentials::Assertion {
            client_id: None,
            assertion: "x.y.z".into()
        }
    );
    assert!(params.is_empty());
    let (result, _) = creds(None, format!("client_id=a&{body}").as_bytes());
    assert!(
        matches!(result.unwrap(), ClientCredentials::Assertion { client_id: Some(id), .. } if id == "a")
    );
    let (result, _) = creds(None, b"client_id=a");
    assert_eq!(
        result.unwrap(),
        ClientCredentials::IdOnly {
            client_id: "a".into()
        }
    );
}

#[test]
fn refuses_two_methods_at_once() {
    let header = basic("a", "s");
    let assertion = format!("client_assertion=x&client_assertion_type={CLIENT_ASSERTION_TYPE}");
    for (header, body) in [
        (Some(header.as_str()), "client_secret=s".to_owned()),
        (Some(header.as_str()), assertion.clone()),
        (None, format!("client_id=a&client_secret=s&{assertion}")),
    ] {
        assert_eq!(
            code(creds(header, body.as_bytes()).0),
            OAuthErrorCode::InvalidRequest,
            "{body}"
        );
    }
}

#[test]
fn refuses_a_body_client_id_other_than_basic() {
    let header = basic("a", "s");
    assert_eq!(
        code(creds(Some(&header), b"client_id=b").0),
        OAuthErrorCode::InvalidRequest
    );
}

#[test]
fn refuses_missing_or_malformed_credentials() {
    assert_eq!(
        code(creds(None, b"scope=openid").0),
        OAuthErrorCode::InvalidClient
    );
    for header in [
        "Bearer abc".to_owned(),
        "Basic".to_owned(),
        "Basic !!!".to_owned(),
        format!("Basic {}", STANDARD.encode("no-colon")),
        format!("Basic {}", STANDARD.encode(":secret")),
        format!("Basic {}", STANDARD.encode("a%ZZ:secret")),
        format!("Basic {}", STANDARD.encode(b"a:\xff")),
        format!("Basic {}", "A".repeat(MAX_BASIC_LEN)),
    ] {
        assert_eq!(
            code(creds(Some(&header), b"").0),
            OAuthErrorCode::InvalidClient,
            "{header}"
        );
    }
    assert_eq!(
        code(creds(None, b"client_secret=s").0),
        OAuthErrorCode::InvalidRequest
    );
}

#[test]
fn refuses_other_assertion_types() {
    for body in [
        "client_assertion=x",
        "client_assertion=x&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
    ] {
        assert_eq!(
            code(creds(None, body.as_bytes()).0),
            OAuthErrorCode::InvalidClient,
            "{body}"
        );
    }
    let body = format!("client_id=a&client_assertion_type={CLIENT_ASSERTION_TYPE}");
    assert_eq!(
        code(creds(None, body.as_bytes()).0),
        OAuthErrorCode::InvalidRequest
    );
}

#[test]
fn debug_hides_secrets() {
    let secret = ClientCredentials::Secret {
        client_id: "a".into(),
        secret: "hunter2".into(),
        basic: true,
    };
    let assertion = ClientCredentials::Assertion {
        client_id: None,
        assertion: "eyJsecret".into(),
    };
    assert!(!format!("{secret:?}").contains("hunter2"));
    assert!(!format!("{assertion:?}").contains("eyJsecret"));
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(body in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        if let Ok(mut params) = Params::parse(&body) {
            let _ = client_credentials(None, &mut params);
        }
    }

    #[test]
    fn basic_never_panics(header in "\\PC{0,200}") {
        let mut params = Params::default();
        let _ = client_credentials(Some(&header), &mut params);
    }

    #[test]
    fn text_round_trips(name in "[a-z_]{1,10}", value in "\\PC{1,40}") {
        let mut body = String::new();
        for byte in value.bytes() {
            body.push_str(&format!("%{byte:02X}"));
        }
        let params = Params::parse(format!("{name}={body}").as_bytes()).unwrap();
        proptest::prop_assert_eq!(params.get(&name), Some(value.as_str()));
    }
}
