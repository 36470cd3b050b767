//! Fallback factors through the real server: TOTP checked against an independent
//! implementation (pyotp), seeds sealed at rest, recovery codes single-use and hashed, the rate
//! limit, and the factors endpoint.

use crate::support::{audit_data, code_of, database_bytes, python, run};
use assent_client::ClientError;
use assent_core::Clock;
use assent_proto::ProblemCode;
use assent_proto::api::{DeviceState, EnrollTotp};
use assent_testkit::{TestServer, login};
use std::process::Command;
use time::Duration;

/// Codes an independent TOTP implementation derives from the `otpauth://` URI, at each time.
fn pyotp_codes(uri: &str, times: &[i64]) -> Vec<String> {
    let script = "import sys, pyotp\n\
        totp = pyotp.parse_uri(sys.argv[1])\n\
        print(' '.join(totp.at(int(t)) for t in sys.argv[2:]))";
    let mut command = Command::new(python());
    command.arg("-c").arg(script).arg(uri);
    command.args(times.iter().map(i64::to_string));
    let (status, out, err) = run(command);
    assert_eq!(status, 0, "pyotp failed: {err}");
    out.split_whitespace().map(str::to_owned).collect()
}

/// The `secret=` parameter of an otpauth URI, decoded from base32.
fn seed_of(uri: &str) -> (String, Vec<u8>) {
    let secret = uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .expect("the URI carries the secret")
        .to_owned();
    let script = "import sys, base64\n\
        s = sys.argv[1]\n\
        print(base64.b32decode(s + '=' * (-len(s) % 8)).hex())";
    let mut command = Command::new(python());
    command.arg("-c").arg(script).arg(&secret);
    let (status, out, err) = run(command);
    assert_eq!(status, 0, "{err}");
    let hex = out.trim();
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    (secret, bytes)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn totp_codes_from_an_independent_implementation_verify_once() {
    let server = TestServer::spawn().await;
    let app = server.app("acme").await;
    server.user("alice").await;
    let enrolled = app
        .client
        .enroll_totp("alice", &EnrollTotp::default())
        .await
        .unwrap();
    assert!(
        enrolled
            .otpauth_uri
            .starts_with("otpauth://totp/Assent:alice?"),
        "{}",
        enrolled.otpauth_uri
    );
    assert!(enrolled.qr_svg.contains("<svg"));
    assert_eq!(
        (
            enrolled.algorithm.as_str(),
            enrolled.digits,
            enrolled.period
        ),
        ("SHA1", 6, 30)
    );
    // A second enrollment does not silently replace the seed.
    assert_eq!(
        code_of(
            app.client
                .enroll_totp("alice", &EnrollTotp::default())
                .await
        ),
        ProblemCode::AlreadyExists
    );

    let now = server.clock.now().unix_timestamp();
    let codes = pyotp_codes(&enrolled.otpauth_uri, &[now - 30, now, now - 60]);
    let (previous, current, two_old) = (&codes[0], &codes[1], &codes[2]);
    // One step of drift is accepted.
    let verified = app.client.verify_totp("alice", previous).await.unwrap();
    assert!(verified.valid);
    assert!(
        app.client
            .verify_totp("alice", current)
            .await
            .unwrap()
            .valid
    );
    // The same code twice, or an older one after a newer one, is refused.
    assert_eq!(
        code_of(app.client.verify_totp("alice", current).await),
        ProblemCode::CodeReused
    );
    assert_eq!(
        code_of(app.client.verify_totp("alice", previous).await),
        ProblemCode::CodeReused
    );
    // Two steps old is outside the window.
    if two_old != current && two_old != previous {
        assert_eq!(
            code_of(app.client.verify_totp("alice", two_old).await),
            ProblemCode::InvalidCode
        );
    }
    assert_eq!(
        code_of(app.client.verify_totp("alice", "12345x").await),
        ProblemCode::InvalidCode
    );
    // The next period's code works.
    server.clock.advance(Duration::seconds(30));
    let next = pyotp_codes(&enrolled.otpauth_uri, &[now + 30]);
    assert!(
        app.client
            .verify_totp("alice", &next[0])
            .await
            .unwrap()
            .valid
    );

    // Other parameters, for apps that honour them.
    server.user("bob").await;
    let params = EnrollTotp {
        algorithm: Some("SHA256".into()),
        digits: Some(8),
        period: Some(60),
    };
    let bob = app.client.enroll_totp("bob", &params).await.unwrap();
    assert!(bob.otpauth_uri.contains("algorithm=SHA256"));
    let now = server.clock.now().unix_timestamp();
    let code = &pyotp_codes(&bob.otpauth_uri, &[now])[0];
    assert_eq!(code.len(), 8);
    assert!(app.client.verify_totp("bob", code).await.unwrap().valid);
    // Nobody without TOTP can be checked, and the check says so.
    server.user("carol").await;
    assert_eq!(
        code_of(app.client.verify_totp("carol", "123456").await),
        ProblemCode::FactorNotEnrolled
    );
    assert!(audit_data(&server, "factor_used").len() >= 4);

    // The seeds are sealed: neither their bytes nor their base32 form is in the database.
    let (secret, seed) = seed_of(&enrolled.otpauth_uri);
    let (bob_secret, bob_seed) = seed_of(&bob.otpauth_uri);
    assert_eq!(seed.len(), 20);
    let db = server.db_path();
    let dir = server.stop_and_keep().await;
    let bytes = database_bytes(&db);
    assert!(contains(&bytes, b"totp_secrets"), "the table exists");
    for needle in [
        seed.as_slice(),
        secret.as_bytes(),
        bob_seed.as_slice(),
        bob_secret.as_bytes(),
    ] {
        assert!(
            !contains(&bytes, needle),
            "a TOTP seed is readable in the database"
        );
    }
    drop(dir);
}

#[tokio::test]
async fn recovery_codes_work_once_are_replaced_whole_and_hashed() {
    let server = TestServer::spawn().await;
    let app = server.app("acme").await;
    // An application hands out the first set, before the user has a device.
    server.user("alice").await;
    let first = app.client.recovery_codes("alice").await.unwrap().codes;
    assert_eq!(first.len(), 10);
    let device = server.device("alice", "phone").await;
    // Later sets come from the user's device or an admin: an application that could replace
    // them could mint a code and let a device of its choosing in.
    assert_eq!(
        code_of(app.client.recovery_codes("alice").await),
        ProblemCode::Forbidden
    );
    assert_eq!(device.recovery_count().await.unwrap(), 10);

    let used = app
        .client
        .verify_recovery_code("alice", &first[0])
        .await
        .unwrap();
    assert!(used.valid);
    assert_eq!(used.remaining, Some(9));
    // Typed by hand: case and separators do not matter.
    let typed = first[1].to_uppercase().replace('-', " ");
    assert_eq!(
        app.client
            .verify_recovery_code("alice", &typed)
            .await
            .unwrap()
            .remaining,
        Some(8)
    );
    assert_eq!(
        code_of(app.client.verify_recovery_code("alice", &first[0]).await),
        ProblemCode::InvalidCode
    );
    assert_eq!(device.recovery_count().await.unwrap(), 8);
    assert_eq!(
        server
            .admin
            .factors("alice")
            .await
            .unwrap()
            .recovery_codes
            .remaining,
        8
    );
    let alerts = device.alerts().await.unwrap();
    assert!(alerts.iter().any(|a| a.kind == "recovery_code_used"));

    // Regenerating (here from the user's own device) replaces the whole set.
    let second = device.regenerate_recovery_codes().await.unwrap();
    assert_eq!(second.len(), 10);
    assert_eq!(
        code_of(app.client.verify_recovery_code("alice", &first[2]).await),
        ProblemCode::InvalidCode
    );
    assert!(
        app.client
            .verify_recovery_code("alice", &second[0])
            .await
            .unwrap()
            .valid
    );

    // Brute force: the allowance (5 attempts per 15 minutes) is spent by wrong guesses, then
    // even the right code is refused until the window passes.
    for guess in 0..5 {
        let wrong = format!("0000-0000-000{guess}");
        assert_eq!(
            code_of(app.client.verify_recovery_code("alice", &wrong).await),
            ProblemCode::InvalidCode
        );
    }
    let refused = app
        .client
        .verify_recovery_code("alice", &second[2])
        .await
        .unwrap_err();
    let ClientError::Problem(problem) = &refused else {
        panic!("a problem document: {refused:?}");
    };
    assert_eq!(problem.problem_code(), Some(ProblemCode::RateLimited));
    assert_eq!(problem.status, 429);
    assert!(problem.extensions["retry_after"].as_i64().unwrap() > 0);
    let factors = app.client.factors("alice").await.unwrap();
    assert!(factors.recovery_codes.locked_until.is_some());
    assert!(!factors.available.contains(&"recovery_code".to_owned()));
    let alerts = device.alerts().await.unwrap();
    assert!(alerts.iter().any(|a| a.kind == "factor_locked"));
    server.clock.advance(Duration::minutes(16));
    assert!(
        app.client
            .verify_recovery_code("alice", &second[2])
            .await
            .unwrap()
            .valid
    );

    // Only Argon2id hashes are stored; no code, formatted or not, is in the database.
    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let hashes: Vec<String> = db
        .prepare("SELECT hash FROM recovery_codes")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(hashes.len(), 10);
    assert!(hashes.iter().all(|h| h.starts_with("$argon2id$v=19$")));
    drop(db);
    let path = server.db_path();
    let dir = server.stop_and_keep().await;
    let bytes = database_bytes(&path);
    for code in first.iter().chain(&second) {
        assert!(!contains(&bytes, code.as_bytes()));
        assert!(!contains(&bytes, code.replace('-', "").as_bytes()));
    }
    drop(dir);
}

#[tokio::test]
async fn totp_guessing_hits_the_rate_limit() {
    let server = TestServer::spawn().await;
    let app = server.app("acme").await;
    server.user("alice").await;
    let enrolled = app
        .client
        .enroll_totp("alice", &EnrollTotp::default())
        .await
        .unwrap();
    let now = server.clock.now().unix_timestamp();
    let right = &pyotp_codes(&enrolled.otpauth_uri, &[now])[0];
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        assert_eq!(
            code_of(app.client.verify_totp("alice", wrong).await),
            ProblemCode::InvalidCode
        );
    }
    assert_eq!(
        code_of(app.client.verify_totp("alice", right).await),
        ProblemCode::RateLimited
    );
    let refusals = audit_data(&server, "factor_refused");
    assert_eq!(refusals.len(), 5, "each wrong code is in the audit log");
    // The refusal by the rate limit is audited too, typed, with when checks resume.
    assert_eq!(
        code_of(app.client.verify_totp("alice", wrong).await),
        ProblemCode::RateLimited
    );
    let limited = audit_data(&server, "factor_rate_limited");
    assert_eq!(limited.len(), 2, "one row per refused check");
    let row: serde_json::Value = serde_json::from_str(&limited[0]).unwrap();
    assert_eq!(row["factor"], "totp");
    assert!(row["until"].as_i64().unwrap() > now, "{row}");
    assert_eq!(
        audit_data(&server, "factor_refused").len(),
        5,
        "a refusal by the limit looks at no code"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_factors_endpoint_reflects_each_state() {
    let server = TestServer::spawn().await;
    let app = server.app("acme").await;
    server.user("alice").await;
    let factors = app.client.factors("alice").await.unwrap();
    assert!(factors.available.is_empty());
    assert!(!factors.push.available && factors.push.devices.is_empty());
    assert!(!factors.totp.enrolled);
    assert_eq!(factors.recovery_codes.remaining, 0);

    let phone = server.device("alice", "phone").await;
    let factors = app.client.factors("alice").await.unwrap();
    assert_eq!(factors.available, ["push"]);
    assert_eq!(factors.push.devices.len(), 1);
    assert_eq!(factors.push.devices[0].state, DeviceState::Active);
    assert!(factors.push.devices[0].last_seen_at.is_some());

    app.client
        .enroll_totp("alice", &EnrollTotp::default())
        .await
        .unwrap();
    server.admin.recovery_codes("alice").await.unwrap();
    let factors = app.client.factors("alice").await.unwrap();
    assert_eq!(factors.available, ["push", "totp", "recovery_code"]);
    assert_eq!(factors.recovery_codes.remaining, 10);

    // Prompt bombing suspends push; the refusal and the endpoint name the fallbacks.
    let mut suspended = None;
    for _ in 0..10 {
        if let Err(e) = app.client.create_approval(&login("alice")).await {
            suspended = Some(e);
            break;
        }
    }
    let ClientError::Problem(problem) = suspended.expect("push gets suspended") else {
        panic!("a problem document");
    };
    assert_eq!(problem.problem_code(), Some(ProblemCode::PushSuspended));
    assert_eq!(
        problem.extensions["fallback_factors"],
        serde_json::json!(["totp", "recovery_code"])
    );
    let factors = app.client.factors("alice").await.unwrap();
    assert!(factors.push.suspended && !factors.push.available);
    assert!(factors.push.suspended_until.is_some());
    assert_eq!(factors.available, ["totp", "recovery_code"]);

    // TOTP locked by wrong codes leaves only recovery codes.
    for _ in 0..5 {
        let _ = app.client.verify_totp("alice", "000000").await;
    }
    let factors = app.client.factors("alice").await.unwrap();
    assert!(factors.totp.enrolled && factors.totp.locked_until.is_some());
    assert_eq!(factors.available, ["recovery_code"]);

    drop(phone);

    // A device waiting for activation is listed but does not make push available.
    let first = server.user_with_device("bob").await;
    let second = server.device("bob", "tablet").await;
    server
        .admin
        .revoke_device(&first.profile().device_id)
        .await
        .unwrap();
    let held = app.client.create_enrollment("bob").await.unwrap();
    let newcomer = assent_client::DeviceClient::enroll(&held.link, "laptop", "test")
        .await
        .unwrap();
    let factors = app.client.factors("bob").await.unwrap();
    let states: Vec<_> = factors.push.devices.iter().map(|d| d.state).collect();
    assert_eq!(
        states,
        [DeviceState::Active, DeviceState::PendingActivation],
        "revoked devices are not listed"
    );
    assert_eq!(factors.push.devices[1].id, newcomer.profile().device_id);
    assert_eq!(factors.available, ["push"]);
    server
        .admin
        .revoke_device(&second.profile().device_id)
        .await
        .unwrap();
    let factors = app.client.factors("bob").await.unwrap();
    assert!(
        !factors.push.available && factors.available.is_empty(),
        "a pending device alone cannot answer"
    );
    server.stop().await;
}
