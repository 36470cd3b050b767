//! The HTTP surface itself: the OpenAPI description, keys, health, request ids, unknown routes.

use assent_testkit::TestServer;

#[tokio::test]
async fn openapi_describes_every_route() {
    let server = TestServer::spawn().await;
    let api: serde_json::Value = reqwest::get(format!("{}/openapi.json", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(api["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = api["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/approvals", "post"),
        ("/v1/approvals/{id}", "get"),
        ("/v1/approvals/{id}", "delete"),
        ("/v1/approvals/{id}/events", "get"),
        ("/v1/enrollments", "post"),
        ("/v1/device/enroll", "post"),
        ("/v1/device/approvals", "get"),
        ("/v1/device/approvals/{id}", "get"),
        ("/v1/device/approvals/{id}/decision", "post"),
        ("/v1/device/stream", "get"),
        ("/v1/admin/apps", "post"),
        ("/v1/admin/users", "post"),
        ("/v1/admin/users", "get"),
        ("/v1/admin/enrollments", "post"),
        ("/v1/admin/devices", "get"),
        ("/v1/admin/devices/{id}/revoke", "post"),
        ("/v1/audit/verify", "get"),
        ("/.well-known/jwks.json", "get"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    assert!(api["components"]["schemas"]["CreateApproval"].is_object());
    assert!(api["components"]["schemas"]["Problem"].is_object());
    server.stop().await;
}

#[tokio::test]
async fn jwks_names_the_key_the_enrollment_links_pin() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let jwks = assent_client::fetch_jwks(&server.base).await.unwrap();
    assert_eq!(jwks.keys.len(), 1);
    let key = &jwks.keys[0];
    assert_eq!(key.kid.as_deref(), Some(key.thumbprint().as_str()));
    let link = server.admin.create_enrollment("alice").await.unwrap().link;
    assert!(link.ends_with(&format!("fp={}", key.thumbprint())));
    let text = reqwest::get(format!("{}/.well-known/jwks.json", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains("\"d\""),
        "the JWKS must not carry private members: {text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn request_ids_tie_problems_to_log_lines_and_unknown_routes_are_problems() {
    let server = TestServer::spawn().await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/v1/nowhere", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let header = r
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let problem: assent_proto::problem::Problem = r.json().await.unwrap();
    assert_eq!(problem.code, "not_found");
    assert_eq!(problem.request_id.as_deref(), Some(header.as_str()));

    let r = http
        .put(format!("{}/v1/approvals", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let problem: assent_proto::problem::Problem = r.json().await.unwrap();
    assert_eq!(problem.code, "method_not_allowed");

    assert_eq!(
        http.get(format!("{}/health/live", server.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(format!("{}/health/ready", server.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn a_second_server_on_the_same_data_directory_is_refused() {
    // Wake-ups stay inside the process that wrote a change: a second server on the same SQLite
    // file would take requests whose devices and waits it never wakes.
    let server = TestServer::spawn().await;
    let mut second = server.config.clone();
    second.listen = "127.0.0.1:0".parse().unwrap();
    let refused =
        assent_server::Server::start(second, std::sync::Arc::new(assent_core::SystemClock))
            .await
            .expect_err("the second server must not start")
            .to_string();
    assert!(
        refused.contains("in use by another Assent server"),
        "{refused}"
    );

    // Checking the audit chain reads beside the owner and is not refused.
    let mut verify = crate::support::assent_bin();
    verify
        .args(["audit", "verify", "--data"])
        .arg(server.data_dir());
    let (code, out, err) = crate::support::run(verify);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("intact"), "{out}");

    // Once the owner stopped, the data directory is free again.
    let (_dir, started) = server.restart().await;
    started.unwrap().shutdown().await.unwrap();
}

#[tokio::test]
async fn first_start_stores_the_admin_key_privately_and_restarts_make_no_new_one() {
    let server = TestServer::spawn().await;
    let data = server.data_dir();
    assert_eq!(
        assent_server::data_dir::read_admin_key(&data).unwrap(),
        server.admin_key
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for file in ["admin.key", "signing-key.p8"] {
            let mode = std::fs::metadata(data.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        let mode = std::fs::metadata(&data).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let mode: String = db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // The database holds the key's hash, not the key.
    let bytes = std::fs::read(server.db_path()).unwrap();
    let secret = server.admin_key.rsplit('.').next().unwrap();
    assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));

    let kid = server.assent.key_id().to_owned();
    let (_dir, restarted) = server.restart().await;
    let restarted = restarted.unwrap();
    assert!(restarted.new_admin_key.is_none());
    assert_eq!(
        restarted.assent.key_id(),
        kid,
        "the signing key is kept across restarts"
    );
    restarted.shutdown().await.unwrap();
}
