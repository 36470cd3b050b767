//! What the Auth API refuses, each in Duo's error shape with its HTTP status: signatures that do
//! not verify (tampered, replayed, another integration's key), stale dates, unknown keys,
//! missing credentials, bad parameters, and prompt bombing that spends the user's budget.

use super::signing::{Call, Signer};
use super::{Keys, Setup, Target, integration};
use assent_core::Clock as _;
use assent_testkit::TestServer;

const INVALID_PARAMETERS: &str = "Invalid request parameters";
const INVALID_SIGNATURE: &str = "Invalid signature in request credentials";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_dates_and_keys_are_checked() {
    let server = TestServer::spawn().await;
    let target = Target::plain(&server);
    let setup = Setup::new(&server, &target, "alice").await;
    let keys = integration(&server, &target, &setup.app_id, &[]).await;
    let other = integration(&server, &target, &setup.app_id, &[]).await;
    let signer = Signer::new(&target, &keys);
    let check = |s: &Signer| s.call(&server, "GET", "/auth/v2/check", &[]);
    let preauth = [("username", "alice")];

    // Rightly signed: answered.
    let good = signer.send(&check(&signer)).await;
    assert!(good.ok()["time"].is_i64(), "{good:?}");

    // Signed for another path, or a parameter changed after signing.
    let mut wrong = check(&signer);
    let other_path = Call {
        path: "/auth/v2/ping",
        ..wrong.clone()
    };
    wrong.authorization = Some(signer.authorization(&keys.skey, &other_path));
    signer.send(&wrong).await.fail(40103, INVALID_SIGNATURE);
    let mut changed = signer.call(&server, "POST", "/auth/v2/preauth", &preauth);
    changed.params[0].1 = "mallory".into();
    signer.send(&changed).await.fail(40103, INVALID_SIGNATURE);

    // The same signed request twice: the second is a replay.
    let once = signer.call(&server, "POST", "/auth/v2/preauth", &preauth);
    assert_eq!(signer.send(&once).await.ok()["result"], "auth");
    let detail = signer.send(&once).await.fail(40103, INVALID_SIGNATURE);
    assert!(detail.contains("used already"), "{detail}");

    // Signed with another integration's secret key under this one's integration key.
    let mut borrowed = check(&signer);
    borrowed.authorization = Some(signer.authorization(&other.skey, &borrowed));
    signer.send(&borrowed).await.fail(40103, INVALID_SIGNATURE);

    // Dated ten minutes ago, rightly signed.
    let mut stale = check(&signer);
    stale.date = Signer::date_at(server.clock.now() - time::Duration::minutes(10));
    stale.authorization = Some(signer.authorization(&keys.skey, &stale));
    let detail = signer
        .send(&stale)
        .await
        .fail(40105, "Request date is too far from the server's time");
    assert!(detail.contains("300 seconds"), "{detail}");

    // An integration key nobody has.
    let stranger = Signer::new(
        &target,
        &Keys {
            ikey: "DIXXXXXXXXXXXXXXXXXX".into(),
            skey: keys.skey.clone(),
        },
    );
    stranger
        .send(&check(&stranger))
        .await
        .fail(40102, "Invalid integration key in request credentials");

    // No credentials at all.
    let mut bare = check(&signer);
    bare.authorization = None;
    let detail = signer
        .send(&bare)
        .await
        .fail(40101, "Missing request credentials");
    assert!(detail.contains("Authorization"), "{detail}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_refused_with_the_parameter_named() {
    let server = TestServer::spawn().await;
    let target = Target::plain(&server);
    let setup = Setup::new(&server, &target, "alice").await;
    let keys = integration(&server, &target, &setup.app_id, &["--allow-unmatched-push"]).await;
    let signer = Signer::new(&target, &keys);
    let auth = "/auth/v2/auth";

    let unknown = [("factor", "push"), ("username", "nobody"), ("async", "1")];
    let detail = signer
        .request(&server, "POST", auth, &unknown)
        .await
        .fail(40002, INVALID_PARAMETERS);
    assert!(detail.contains("username"), "{detail}");

    let phone = [("factor", "phone"), ("username", "alice")];
    let detail = signer
        .request(&server, "POST", auth, &phone)
        .await
        .fail(40002, INVALID_PARAMETERS);
    assert!(detail.starts_with("factor:"), "{detail}");

    // 2,049 bytes of pushinfo: one byte over Assent's limit (Duo's own is 20,000).
    let pushinfo = format!("note={}", "a".repeat(2049 - "note=".len()));
    let long = [
        ("factor", "push"),
        ("username", "alice"),
        ("async", "1"),
        ("pushinfo", pushinfo.as_str()),
    ];
    let detail = signer
        .request(&server, "POST", auth, &long)
        .await
        .fail(40002, INVALID_PARAMETERS);
    assert!(detail.contains("pushinfo"), "{detail}");
    // At the limit it goes.
    let pushinfo = format!("note={}", "a".repeat(2048 - "note=".len()));
    let at_limit = [
        ("factor", "push"),
        ("username", "alice"),
        ("async", "1"),
        ("pushinfo", pushinfo.as_str()),
    ];
    let started = signer.request(&server, "POST", auth, &at_limit).await;
    assert!(started.ok()["txid"].is_string(), "{started:?}");

    // What the device shows is bounded, and free of control characters.
    let long_name = "n".repeat(257);
    for (name, value) in [
        ("display_username", long_name.as_str()),
        ("hostname", "bastion\n1"),
        ("ipaddr", long_name.as_str()),
    ] {
        let params = [
            ("username", "alice"),
            ("factor", "push"),
            ("async", "1"),
            (name, value),
        ];
        let detail = signer
            .request(&server, "POST", auth, &params)
            .await
            .fail(40002, INVALID_PARAMETERS);
        assert!(detail.starts_with(name), "{detail}");
    }

    let enroll = [("username", "bob"), ("bypass_codes", "1")];
    let detail = signer
        .request(&server, "POST", "/auth/v2/enroll", &enroll)
        .await
        .fail(40002, INVALID_PARAMETERS);
    assert!(detail.starts_with("bypass_codes"), "{detail}");

    let status = [("txid", "not-a-transaction")];
    signer
        .request(&server, "GET", "/auth/v2/auth_status", &status)
        .await
        .fail(40401, "Resource not found");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_bombing_spends_the_budget_then_push_is_locked_out() {
    let server = TestServer::spawn().await;
    let target = Target::plain(&server);
    let setup = Setup::new(&server, &target, "alice").await;
    let keys = integration(&server, &target, &setup.app_id, &["--allow-unmatched-push"]).await;
    let signer = Signer::new(&target, &keys);
    // Each attempt from another address, so no two requests carry the same signature.
    let push = |n: usize| {
        let ip = format!("198.51.100.{n}");
        let params = [
            ("factor", "push"),
            ("username", "alice"),
            ("async", "1"),
            ("ipaddr", ip.as_str()),
        ];
        let call = signer.call(&server, "POST", "/auth/v2/auth", &params);
        let signer = &signer;
        async move { signer.send(&call).await }
    };
    // The default budget is three prompts.
    for n in 0..3 {
        let started = push(n).await;
        assert!(started.ok()["txid"].is_string(), "prompt {n}: {started:?}");
    }
    // The fourth spends the budget: Duo's rate limit, with when to retry.
    let spent = push(3).await;
    let detail = spent.fail(42901, "Too many requests");
    assert!(detail.contains("prompt budget"), "{detail}");
    assert!(spent.retry_after.is_some_and(|s| s > 0), "{spent:?}");
    // Later pushes are answered as Duo's lockout, with the reason.
    let locked = push(4).await;
    let answer = locked.ok();
    assert_eq!(answer["result"], "deny", "{answer}");
    assert_eq!(answer["status"], "locked_out", "{answer}");
    let message = answer["status_msg"].as_str().unwrap();
    assert!(
        message.contains("suspended") && message.contains("prompt_budget"),
        "{message}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_push_txid_serves_only_its_user_its_integration_and_its_minute() {
    let server = TestServer::spawn().await;
    let target = Target::plain(&server);
    let setup = Setup::new(&server, &target, "alice").await;
    server.user_with_device("bob").await;
    let keys = integration(&server, &target, &setup.app_id, &[]).await;
    let other = integration(&server, &target, &setup.app_id, &[]).await;
    let signer = Signer::new(&target, &keys);
    let other_signer = Signer::new(&target, &other);
    let auth = "/auth/v2/auth";
    let pre = signer
        .request(
            &server,
            "POST",
            "/auth/v2/preauth",
            &[
                ("username", "alice"),
                ("client_supports_verified_push", "1"),
            ],
        )
        .await;
    let txid = pre.ok()["txid"].as_str().unwrap().to_owned();
    let push = |user: &'static str| {
        [
            ("username", user),
            ("factor", "push"),
            ("async", "1"),
            ("txid", txid.as_str()),
        ]
    };

    // Another user's push cannot use alice's code.
    let detail = signer
        .request(&server, "POST", auth, &push("bob"))
        .await
        .fail(40002, INVALID_PARAMETERS);
    assert!(detail.starts_with("txid"), "{detail}");
    // Another integration cannot open it.
    let detail = other_signer
        .request(&server, "POST", auth, &push("alice"))
        .await
        .fail(40002, INVALID_PARAMETERS);
    assert!(detail.starts_with("txid"), "{detail}");
    // After its 60 seconds it is refused.
    server.clock.advance(time::Duration::seconds(61));
    let detail = signer
        .request(&server, "POST", auth, &push("alice"))
        .await
        .fail(40002, INVALID_PARAMETERS);
    assert!(detail.starts_with("txid"), "{detail}");
    server.stop().await;
}
