//! The admin console over real HTTP: the push sign-in (a member of the admin group only, the
//! number shown on the page typed on the device), the recovery-code fallback, cookies that
//! scripts and other sites cannot use, every form refused without the session's CSRF token or
//! from another origin, the idle and absolute timeouts, sign-out, losing the admin role, and
//! every action audited under the admin's name.

use crate::console_browser::{Browser, hidden, location, shown_code};
use crate::support::{audit_data, code_of};
use assent_proto::ProblemCode;
use assent_proto::statement::Decision;
use assent_testkit::TestServer;
use reqwest::StatusCode;
use reqwest::header::CONTENT_SECURITY_POLICY;
use time::Duration;

async fn server_with_admins() -> TestServer {
    let server = TestServer::spawn_with(|c| {
        // The command-line authenticator has no passkey.
        c.console.user_verification = false;
        c.console.idle_timeout_secs = 15 * 60;
        c.console.absolute_timeout_secs = 3600;
    })
    .await;
    server.admin.create_group("admins").await.unwrap();
    server
}

/// A server with alice, an admin with a device, signed in to the console in a browser.
async fn alice_signed_in() -> (TestServer, assent_client::DeviceClient, Browser) {
    let server = server_with_admins().await;
    let alice = server.user_with_device("alice").await;
    server
        .admin
        .add_group_member("admins", "alice")
        .await
        .unwrap();
    let mut browser = Browser::new(&server.base);
    sign_in(&mut browser, "alice", &alice).await;
    (server, alice, browser)
}

/// Signs `username` in by push, approving on `device`; the browser then holds the session.
/// Returns the number the page showed.
async fn sign_in(
    browser: &mut Browser,
    username: &str,
    device: &assent_client::DeviceClient,
) -> String {
    browser.start_sign_in(username).await;
    let waiting = browser.text("/admin/sign-in/wait").await;
    let code = shown_code(&waiting);
    let pending = device.pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].binding_message.as_deref(),
        Some("Sign in to the Assent console")
    );
    device
        .decide(&pending[0].id, Decision::Approve, Some(&code))
        .await
        .unwrap();
    let done = browser.get("/admin/sign-in/wait").await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/admin/");
    assert!(browser.cookies.contains_key("__Host-assent-console"));
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_signs_in_by_push_and_every_form_needs_the_session_token() {
    let server = server_with_admins().await;
    let alice = server.user_with_device("alice").await;
    let bob = server.user_with_device("bob").await;
    server
        .admin
        .add_group_member("admins", "alice")
        .await
        .unwrap();
    let mut browser = Browser::new(&server.base);

    let first = browser.get("/admin/").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&first), "/admin/sign-in");
    let page = browser.get("/admin/sign-in").await;
    let csp = page.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(page.headers()["cache-control"], "no-store");
    let form = hidden(&page.text().await.unwrap(), "form");

    // The sign-in form itself: without the form value, or from another site, refused.
    let forged = browser
        .post("/admin/sign-in", &[("username", "alice")])
        .await;
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "{:?}",
        forged.text().await
    );
    let elsewhere = browser
        .post_from(
            "/admin/sign-in",
            &[("form", &form), ("username", "alice")],
            "https://evil.example",
        )
        .await;
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);
    assert!(
        alice.pending().await.unwrap().is_empty(),
        "no push from a refused form"
    );

    // Bob is no admin: the page waits just the same, and no push reaches him.
    let started = browser
        .post("/admin/sign-in", &[("form", &form), ("username", "bob")])
        .await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let waiting = browser.text("/admin/sign-in/wait").await;
    let decoy = shown_code(&waiting);
    assert!(decoy.bytes().all(|b| b.is_ascii_digit()), "{decoy}");
    assert!(bob.pending().await.unwrap().is_empty());
    let decoy_ticket = browser.cookies["__Host-assent-sign-in"].clone();

    // A denied push opens nothing.
    let started = browser
        .post("/admin/sign-in", &[("form", &form), ("username", "alice")])
        .await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let ticket = browser.cookies["__Host-assent-sign-in"].clone();
    let pending = alice.pending().await.unwrap();
    alice
        .decide(&pending[0].id, Decision::Deny, None)
        .await
        .unwrap();
    let denied = browser.get("/admin/sign-in/wait").await;
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);

    let code = sign_in(&mut browser, "alice", &alice).await;
    assert_eq!(
        decoy.len(),
        code.len(),
        "a non-admin's page shows a code of the same length"
    );
    let live = browser.text("/admin/").await;
    assert!(live.contains("alice"));
    assert!(
        live.contains("approval_decided"),
        "the feed shows the requests"
    );
    let csrf = hidden(&live, "csrf");

    // The approval behind a session opens no second one.
    let mut replay = Browser::new(&server.base);
    replay
        .cookies
        .insert("__Host-assent-sign-in".into(), ticket);
    assert_eq!(
        replay.get("/admin/sign-in/wait").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A form without the token, with another session's token, or from another origin: refused,
    // and nothing changes.
    let app = server.app("Acme").await;
    let keys = server.admin.list_apps().await.unwrap();
    let acme = keys.apps.iter().find(|a| a.name == "Acme").unwrap();
    let key_id = acme.keys[0].id.clone();
    let path = format!("/admin/keys/{key_id}/revoke");
    let without = browser.post(&path, &[]).await;
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    assert!(without.text().await.unwrap().contains("CSRF"));
    let wrong = browser.post(&path, &[("csrf", "AAAA")]).await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let foreign = browser
        .post_from(&path, &[("csrf", &csrf)], "https://evil.example")
        .await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        code_of(app.client.approval("nothing", None).await),
        ProblemCode::NotFound
    );
    assert!(audit_data(&server, "api_key_revoked").is_empty());

    // With it, the key is revoked at once, and the audit names the admin.
    let done = browser.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        code_of(app.client.approval("nothing", None).await),
        ProblemCode::Unauthorized
    );
    let actors = audit_actors(&server, "api_key_revoked");
    assert_eq!(actors, ["console:alice"]);
    assert_eq!(
        audit_actors(&server, "console_signed_in"),
        ["console:alice"]
    );

    // Signing out ends the session on the server, not only in this browser.
    let kept = browser.cookies.clone();
    let out = browser.post("/admin/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(!browser.cookies.contains_key("__Host-assent-console"));
    browser.cookies = kept;
    let after = browser.get("/admin/").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(audit_data(&server, "console_signed_out").len(), 1);

    // Bob's page only ever ends as not approved, like an admin's unanswered push.
    server.clock.advance(Duration::minutes(3));
    let mut decoy_browser = Browser::new(&server.base);
    decoy_browser
        .cookies
        .insert("__Host-assent-sign-in".into(), decoy_ticket);
    let over = decoy_browser.get("/admin/sign-in/wait").await;
    assert_eq!(over.status(), StatusCode::UNAUTHORIZED);
    assert!(over.text().await.unwrap().contains("not approved"));
}

/// The actors of every audit row of one kind.
fn audit_actors(server: &TestServer, kind: &str) -> Vec<String> {
    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let mut statement = db
        .prepare("SELECT actor FROM audit WHERE kind = ?1 ORDER BY seq")
        .unwrap();
    statement
        .query_map([kind], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_too_long_at_their_absolute_end_or_with_the_admin_role() {
    let server = server_with_admins().await;
    let alice = server.user_with_device("alice").await;
    server
        .admin
        .add_group_member("admins", "alice")
        .await
        .unwrap();

    // Three sessions, signed in before the clock moves (device proofs carry the real time).
    let mut idle = Browser::new(&server.base);
    sign_in(&mut idle, "alice", &alice).await;
    let mut busy = Browser::new(&server.base);
    sign_in(&mut busy, "alice", &alice).await;
    let mut demoted = Browser::new(&server.base);
    sign_in(&mut demoted, "alice", &alice).await;

    // Out of the admin group, out of the console at once, for good.
    assert_eq!(demoted.get("/admin/alerts").await.status(), StatusCode::OK);
    server
        .admin
        .remove_group_member("admins", "alice")
        .await
        .unwrap();
    assert_eq!(
        demoted.get("/admin/alerts").await.status(),
        StatusCode::SEE_OTHER
    );
    server
        .admin
        .add_group_member("admins", "alice")
        .await
        .unwrap();
    assert_eq!(
        demoted.get("/admin/alerts").await.status(),
        StatusCode::SEE_OTHER
    );
    let ended = audit_data(&server, "console_signed_out");
    assert!(ended[0].contains("\"reason\":\"not_admin\""), "{ended:?}");

    // Used every 10 minutes, a session lives on; unused for 16 minutes, it is over.
    server.clock.advance(Duration::minutes(10));
    assert_eq!(busy.get("/admin/users").await.status(), StatusCode::OK);
    server.clock.advance(Duration::minutes(6));
    assert_eq!(idle.get("/admin/").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(busy.get("/admin/users").await.status(), StatusCode::OK);
    // However busy, it ends an hour after the sign-in.
    for _ in 0..4 {
        server.clock.advance(Duration::minutes(10));
        assert_eq!(busy.get("/admin/users").await.status(), StatusCode::OK);
    }
    server.clock.advance(Duration::minutes(5));
    assert_eq!(
        busy.get("/admin/users").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_code_signs_an_admin_in_once_without_the_device() {
    let server = server_with_admins().await;
    let alice = server.user_with_device("alice").await;
    server
        .admin
        .add_group_member("admins", "alice")
        .await
        .unwrap();
    let codes = server.admin.recovery_codes("alice").await.unwrap().codes;
    let mut browser = Browser::new(&server.base);
    let form = browser.start_sign_in("alice").await;
    // The waiting page reloads itself, so the code is typed on a page of its own.
    let waiting = browser.text("/admin/sign-in/wait").await;
    assert!(waiting.contains("http-equiv=\"refresh\""));
    assert!(!waiting.contains("name=\"code\""));
    let code_page = browser.text("/admin/sign-in/code").await;
    assert!(!code_page.contains("http-equiv=\"refresh\""));
    assert_eq!(hidden(&code_page, "form"), form);
    let wrong = browser
        .post(
            "/admin/sign-in/code",
            &[("form", &form), ("code", "nope-nope-nope")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(!browser.cookies.contains_key("__Host-assent-console"));
    let signed = browser
        .post(
            "/admin/sign-in/code",
            &[("form", &form), ("code", &codes[0])],
        )
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert!(browser.cookies.contains_key("__Host-assent-console"));
    assert!(browser.text("/admin/").await.contains("alice"));
    assert!(
        alice.pending().await.unwrap().is_empty(),
        "the push is withdrawn once a code signed the admin in"
    );
    let used = audit_data(&server, "console_signed_in");
    assert!(used[0].contains("\"method\":\"recovery_code\""), "{used:?}");

    // The code is spent.
    let mut again = Browser::new(&server.base);
    let form = again.start_sign_in("alice").await;
    let spent = again
        .post(
            "/admin/sign-in/code",
            &[("form", &form), ("code", &codes[0])],
        )
        .await;
    assert_eq!(spent.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_or_revoking_a_key_refuses_the_old_one_at_once() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    assert_eq!(
        code_of(app.client.approval("x", None).await),
        ProblemCode::NotFound
    );
    let rotated = server.admin.rotate_app_key(&app.id).await.unwrap();
    assert_eq!(rotated.app_id, app.id);
    assert_eq!(rotated.revoked_key_ids.len(), 1);
    assert_eq!(
        code_of(app.client.approval("x", None).await),
        ProblemCode::Unauthorized
    );
    let new = assent_client::RpClient::new(&server.base, &rotated.api_key).unwrap();
    assert_eq!(
        code_of(new.approval("x", None).await),
        ProblemCode::NotFound
    );
    let again = server
        .admin
        .revoke_api_key(&rotated.revoked_key_ids[0])
        .await;
    assert_eq!(code_of(again), ProblemCode::AlreadyDecided);
    let key = server.admin.revoke_api_key(&rotated.key_id).await.unwrap();
    assert!(key.revoked_at.is_some());
    assert_eq!(
        code_of(new.approval("x", None).await),
        ProblemCode::Unauthorized
    );
    // Admin keys are not revoked this way, nor unknown ones; the console's own app has no key.
    let admin_key_id = server.admin_key.split('.').nth(1).unwrap();
    assert_eq!(
        code_of(server.admin.revoke_api_key(admin_key_id).await),
        ProblemCode::NotFound
    );
    assert_eq!(
        code_of(server.admin.revoke_api_key("nope").await),
        ProblemCode::NotFound
    );
    assert_eq!(
        code_of(server.admin.rotate_app_key("nope").await),
        ProblemCode::NotFound
    );
    assert_eq!(
        code_of(server.admin.create_app("Assent console").await),
        ProblemCode::AlreadyExists
    );
    let rotated_audit = audit_data(&server, "api_key_rotated");
    assert!(
        rotated_audit[0].contains(&rotated.revoked_key_ids[0]),
        "{rotated_audit:?}"
    );
    assert_eq!(audit_data(&server, "api_key_revoked").len(), 1);
}

/// A server whose policy lets console sign-ins through without a prompt: that opens no session
/// (only a device's approval does), and the sign-in ticket of an admin and of a name that is no
/// admin's have the same size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_approval_on_a_device_opens_a_session_and_tickets_tell_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        r#"
[[rule]]
name = "console from the office needs nothing"
when = "request.application == 'Assent console' && context.ip == '127.0.0.1'"
outcome = "allow"

[[rule]]
name = "everything else: push with number matching"
when = "true"
outcome = "push"
number_matching = true
"#,
    )
    .unwrap();
    let server = TestServer::spawn_with(|c| {
        c.console.user_verification = false;
        c.policy.file = policy.to_string_lossy().into_owned();
    })
    .await;
    server.admin.create_group("admins").await.unwrap();
    let alice = server.user_with_device("alice").await;
    server.user_with_device("carol").await;
    server
        .admin
        .add_group_member("admins", "alice")
        .await
        .unwrap();

    // The policy approves alice's console request without a prompt: no session for that.
    let mut browser = Browser::new(&server.base);
    browser.start_sign_in("alice").await;
    let admin_ticket = browser.cookies["__Host-assent-sign-in"].clone();
    assert!(
        alice.pending().await.unwrap().is_empty(),
        "no prompt was sent"
    );
    let refused = browser.get("/admin/sign-in/wait").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(!browser.cookies.contains_key("__Host-assent-console"));

    // A name of the same length that is no admin's: a ticket of the same size.
    let mut other = Browser::new(&server.base);
    other.start_sign_in("carol").await;
    let decoy_ticket = other.cookies["__Host-assent-sign-in"].clone();
    assert_eq!(
        admin_ticket.len(),
        decoy_ticket.len(),
        "the cookie's size tells nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_sign_in_left_too_long_opens_nothing_and_starts_are_throttled() {
    let server = server_with_admins().await;
    let alice = server.user_with_device("alice").await;
    server
        .admin
        .add_group_member("admins", "alice")
        .await
        .unwrap();
    let mut browser = Browser::new(&server.base);
    let form = browser.start_sign_in("alice").await;
    let code = shown_code(&browser.text("/admin/sign-in/wait").await);
    let pending = alice.pending().await.unwrap();
    alice
        .decide(&pending[0].id, Decision::Approve, Some(&code))
        .await
        .unwrap();
    // Kept past the ticket's end and its grace: the approval opens no session any more.
    server.clock.advance(Duration::minutes(4));
    let late = browser.get("/admin/sign-in/wait").await;
    assert_eq!(late.status(), StatusCode::UNAUTHORIZED);
    assert!(!browser.cookies.contains_key("__Host-assent-console"));

    // Ten starts from one address in ten minutes; the eleventh is refused before any push.
    for _ in 0..9 {
        let started = browser
            .post("/admin/sign-in", &[("form", &form), ("username", "nobody")])
            .await;
        assert_eq!(started.status(), StatusCode::SEE_OTHER);
    }
    let throttled = browser
        .post("/admin/sign-in", &[("form", &form), ("username", "alice")])
        .await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_suspends_and_lifts_push_for_a_user() {
    let (server, _alice, mut browser) = alice_signed_in().await;
    server.user_with_device("bob").await;
    let app = server.app("Acme").await;
    let page = browser.text("/admin/users/bob").await;
    let csrf = hidden(&page, "csrf");
    assert!(page.contains("Suspend push"));
    let too_long = browser
        .post(
            "/admin/users/bob/suspend",
            &[("csrf", &csrf), ("minutes", "99999")],
        )
        .await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let paused = browser
        .post(
            "/admin/users/bob/suspend",
            &[("csrf", &csrf), ("minutes", "30")],
        )
        .await;
    assert_eq!(paused.status(), StatusCode::SEE_OTHER);
    let refused = app
        .client
        .create_approval(&assent_testkit::login("bob"))
        .await;
    assert_eq!(code_of(refused), ProblemCode::PushSuspended);
    assert_eq!(audit_actors(&server, "push_suspended"), ["console:alice"]);
    assert!(audit_data(&server, "push_suspended")[0].contains("\"reason\":\"admin\""));
    let page = browser.text("/admin/users/bob").await;
    assert!(page.contains("Push suspended until"));
    let lifted = browser
        .post("/admin/users/bob/lift-suspension", &[("csrf", &csrf)])
        .await;
    assert_eq!(lifted.status(), StatusCode::SEE_OTHER);
    app.client
        .create_approval(&assent_testkit::login("bob"))
        .await
        .unwrap();
    assert_eq!(
        audit_actors(&server, "push_suspension_lifted"),
        ["console:alice"]
    );
    // Nothing to lift any more.
    let again = browser
        .post("/admin/users/bob/lift-suspension", &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    // The audit export of what the page's search selects, as a download; not without a session.
    let export = browser
        .get("/admin/audit/export?user=bob&kind=push_suspension_lifted&format=jsonl")
        .await;
    assert_eq!(export.status(), StatusCode::OK);
    assert!(
        export.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let lines = export.text().await.unwrap();
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(
        lines.contains("\"kind\":\"push_suspension_lifted\""),
        "{lines}"
    );
    let stranger = Browser::new(&server.base)
        .get("/admin/audit/export?format=jsonl")
        .await;
    assert_eq!(stranger.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_resets_a_users_fallback_factors() {
    let (server, _alice, mut browser) = alice_signed_in().await;
    server.user_with_device("bob").await;
    let app = server.app("Acme").await;
    app.client
        .enroll_totp("bob", &assent_proto::api::EnrollTotp::default())
        .await
        .unwrap();
    let old_codes = server.admin.recovery_codes("bob").await.unwrap().codes;
    let page = browser.text("/admin/users/bob").await;
    let csrf = hidden(&page, "csrf");
    assert!(page.contains("TOTP: enrolled"));

    let removed = browser
        .post("/admin/users/bob/remove-totp", &[("csrf", &csrf)])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert!(
        browser
            .text("/admin/users/bob")
            .await
            .contains("TOTP: not enrolled")
    );
    assert_eq!(audit_actors(&server, "totp_removed"), ["console:alice"]);

    let replaced = browser
        .post("/admin/users/bob/recovery-codes", &[("csrf", &csrf)])
        .await;
    assert_eq!(replaced.status(), StatusCode::OK);
    let page = replaced.text().await.unwrap();
    let start = page.find("id=\"recovery-codes\"").unwrap();
    let first_new = page[start..]
        .split("<code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        code_of(app.client.verify_recovery_code("bob", &old_codes[0]).await),
        ProblemCode::InvalidCode
    );
    app.client
        .verify_recovery_code("bob", &first_new)
        .await
        .unwrap();
}
