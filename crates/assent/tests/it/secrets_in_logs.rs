//! No secret in a log line or a metric: a server of its own process logs at every level
//! (`trace`, every crate) while the test uses API keys, the admin key, an enrollment link, a
//! display code typed on a device, a TOTP seed and a typed TOTP code, recovery codes (one
//! spent), a webhook secret, passkey-free approvals and denials, and the admin console's
//! cookies and CSRF token through a sign-in and a sign-out; then neither its whole log nor its
//! metrics hold any of them.

use crate::console_browser::{Browser, hidden, shown_code};
use crate::support::{free_port, start_serve_logging};
use assent_client::{AdminClient, DeviceClient, RpClient};
use assent_proto::api::EnrollTotp;
use assent_proto::statement::Decision;
use assent_testkit::login;
use std::process::Stdio;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_log_and_the_metrics_hold_none_of_the_secrets_used() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_serve_logging(
        &data,
        port,
        &[
            ("ASSENT_LOG__LEVEL", "trace"),
            // Ten-digit codes, so that no timestamp or counter in the log can match one by
            // chance (six-digit microseconds could match a six-digit code).
            ("ASSENT_APPROVALS__CODE_LENGTH", "10"),
            ("ASSENT_FATIGUE__PROMPT_BUDGET", "100"),
            ("ASSENT_CONSOLE__USER_VERIFICATION", "false"),
        ],
        Stdio::from(log),
    )
    .await;
    let admin_key = assent_server::data_dir::read_admin_key(&data).unwrap();
    let admin = AdminClient::new(&base, &admin_key).unwrap();
    let app = admin.create_app("Acme").await.unwrap();
    let rp = RpClient::new(&base, &app.api_key).unwrap();
    let mut secrets: Vec<String> = vec![admin_key.clone(), app.api_key.clone()];

    admin.create_user("alice").await.unwrap();
    let enrollment = admin.create_enrollment("alice").await.unwrap();
    secrets.push(enrollment.link.clone());
    // The one-time code in the link's fragment (its `fp` is the server key's public thumbprint).
    let code = enrollment
        .link
        .split(['#', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .unwrap()
        .to_owned();
    secrets.push(code);
    let device = DeviceClient::enroll(&enrollment.link, "phone", "test")
        .await
        .unwrap();

    for decision in [Decision::Approve, Decision::Deny, Decision::Approve] {
        let created = rp.create_approval(&login("alice")).await.unwrap();
        let code = created.display_code.clone().unwrap();
        secrets.push(code.clone());
        device
            .decide(&created.id, decision, Some(&code))
            .await
            .unwrap();
    }

    let eight_digits = EnrollTotp {
        digits: Some(8),
        ..EnrollTotp::default()
    };
    let totp = rp.enroll_totp("alice", &eight_digits).await.unwrap();
    let seed = totp
        .otpauth_uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .unwrap()
        .to_owned();
    secrets.push(seed);
    // A typed code (wrong, so it is refused and the refusal logged).
    let typed = "40291377";
    let _ = rp.verify_totp("alice", typed).await;
    secrets.push(typed.to_owned());

    let codes = admin.recovery_codes("alice").await.unwrap().codes;
    rp.verify_recovery_code("alice", &codes[0]).await.unwrap();
    secrets.extend(codes);

    let hook = admin
        .set_webhook(
            &app.app_id,
            "https://hooks.example.com/assent",
            &["approval.final"],
        )
        .await
        .unwrap();
    secrets.push(hook.secret.clone());

    // The admin console: alice signs in by push and out again. Its cookies (the sign-in form's
    // value, the sign-in ticket, the session token), the session's CSRF token and the number
    // shown for the sign-in are secrets too.
    admin.create_group("admins").await.unwrap();
    admin.add_group_member("admins", "alice").await.unwrap();
    let mut browser = Browser::new(&base);
    let form = browser.start_sign_in("alice").await;
    let ticket = browser.cookies["__Host-assent-sign-in"].clone();
    let shown = shown_code(&browser.text("/admin/sign-in/wait").await);
    let pending = device.pending().await.unwrap();
    device
        .decide(&pending[0].id, Decision::Approve, Some(&shown))
        .await
        .unwrap();
    browser.get("/admin/sign-in/wait").await;
    let session = browser.cookies["__Host-assent-console"].clone();
    let csrf = hidden(&browser.text("/admin/").await, "csrf");
    browser.post("/admin/sign-out", &[("csrf", &csrf)]).await;
    secrets.extend([form, ticket, shown, session, csrf]);

    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    // Every level is on: whatever any crate logs at `debug` or `trace` is in it, and so is
    // the access log of every request.
    assert!(log.contains("\"level\":\"DEBUG\""), "{log}");
    assert!(log.matches("\"served\"").count() >= 15, "{log}");
    for secret in &secrets {
        assert!(secret.len() >= 8, "a secret worth looking for");
        // The line's position only: printing it would print the secret.
        let found = log.lines().position(|l| l.contains(secret.as_str()));
        assert_eq!(found, None, "a secret in the log, on that line");
        assert!(
            !metrics.contains(secret.as_str()),
            "a secret in the metrics"
        );
    }
}
