//! The HTTP surface itself: the OpenAPI description, keys, health, request ids, unknown routes.

use assent_testkit::TestServer;
use std::process::{Child, Stdio};

/// Every operation the router serves under the API (`api_router` in `assent-server`'s
/// `http/mod.rs`), as (method, path). Outside it the router serves only `/openapi.json`, `/metrics` and the
/// web authenticator's assets under `/app`, which the description leaves out.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/.well-known/jwks.json"),
    ("get", "/.well-known/openid-configuration"),
    ("post", "/oauth2/bc-authorize"),
    ("post", "/oauth2/token"),
    ("post", "/oauth2/revoke"),
    ("post", "/oauth2/introspect"),
    ("post", "/v1/admin/apps/{id}/ciba-clients"),
    ("post", "/v1/admin/agents"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("post", "/v1/approvals"),
    ("get", "/v1/approvals/{id}"),
    ("delete", "/v1/approvals/{id}"),
    ("get", "/v1/approvals/{id}/events"),
    ("post", "/v1/enrollments"),
    ("post", "/v1/events"),
    ("put", "/v1/users/{username}/email"),
    ("get", "/v1/users/{username}/factors"),
    ("post", "/v1/users/{username}/totp"),
    ("post", "/v1/users/{username}/recovery-codes"),
    ("post", "/v1/verify/totp"),
    ("post", "/v1/verify/recovery-code"),
    ("get", "/v1/push/vapid-public-key"),
    ("post", "/v1/device/enroll"),
    ("get", "/v1/device/approvals"),
    ("get", "/v1/device/approvals/{id}"),
    ("post", "/v1/device/approvals/{id}/decision"),
    ("get", "/v1/device/stream"),
    ("get", "/v1/device/me"),
    ("get", "/v1/device/devices"),
    ("post", "/v1/device/devices/{id}/rename"),
    ("post", "/v1/device/devices/{id}/revoke"),
    ("post", "/v1/device/devices/{id}/activation"),
    ("get", "/v1/device/recovery-codes"),
    ("post", "/v1/device/recovery-codes"),
    ("post", "/v1/device/passkey"),
    ("get", "/v1/device/alerts"),
    ("post", "/v1/device/push-subscription"),
    ("post", "/v1/device/push-token"),
    ("post", "/v1/admin/apps"),
    ("get", "/v1/admin/apps"),
    ("post", "/v1/admin/apps/{id}/keys"),
    ("post", "/v1/admin/keys/{id}/revoke"),
    ("get", "/v1/admin/apps/{id}/webhook"),
    ("post", "/v1/admin/apps/{id}/webhook"),
    ("get", "/v1/admin/policy"),
    ("post", "/v1/admin/policy/reload"),
    ("get", "/v1/admin/users"),
    ("post", "/v1/admin/users"),
    ("put", "/v1/admin/users/{username}/email"),
    ("get", "/v1/admin/users/{username}/factors"),
    ("post", "/v1/admin/users/{username}/recovery-codes"),
    ("delete", "/v1/admin/users/{username}/totp"),
    ("post", "/v1/admin/enrollments"),
    ("get", "/v1/admin/devices"),
    ("post", "/v1/admin/devices/{id}/revoke"),
    ("get", "/v1/audit/verify"),
    ("get", "/v1/admin/audit"),
    ("get", "/v1/admin/audit/export"),
    ("get", "/v1/admin/audit/checkpoint"),
    ("get", "/v1/device/activity"),
    ("post", "/v1/device/activity/{id}/report"),
    ("post", "/v1/admin/broadcasts"),
    ("get", "/v1/admin/broadcasts"),
    ("get", "/v1/admin/broadcasts/{id}"),
    ("get", "/v1/device/broadcasts"),
    ("post", "/v1/device/broadcasts/{id}/ack"),
    ("post", "/v1/admin/apps/{id}/duo-integrations"),
    ("post", "/v1/admin/groups"),
    ("get", "/v1/admin/groups"),
    ("put", "/v1/admin/groups/{name}/members/{username}"),
    ("delete", "/v1/admin/groups/{name}/members/{username}"),
    ("put", "/v1/admin/apps/{id}/scope"),
    ("post", "/v1/access-requests"),
    ("get", "/v1/access-requests/{id}"),
    ("delete", "/v1/access-requests/{id}"),
    ("post", "/v1/access-grants/introspect"),
    ("get", "/v1/admin/access-requests/{id}"),
    ("post", "/v1/admin/access-requests/{id}/revoke"),
    ("post", "/v1/device/access-requests/{id}/revoke"),
    ("post", "/v1/access-requests/{id}/break-glass"),
    ("post", "/v1/admin/break-glass-code"),
    ("get", "/v1/admin/break-glass"),
    ("post", "/v1/admin/access-requests/{id}/review"),
    ("put", "/v1/admin/apps/{id}/webauthn"),
    ("post", "/v1/passkeys/registrations"),
    ("post", "/v1/passkeys/registrations/{ceremony_id}"),
    ("post", "/v1/passkeys/authentications"),
    ("post", "/v1/passkeys/authentications/{ceremony_id}"),
];

/// Duo's Auth API (v2, and the legacy v1 of duo_unix before 2.0): served, and described by
/// docs/duo.md rather than the OpenAPI description, since it is Duo's API.
const DUO_ROUTES: &[(&str, &str)] = &[
    ("get", "/auth/v2/ping"),
    ("get", "/auth/v2/check"),
    ("get", "/auth/v2/logo"),
    ("post", "/auth/v2/enroll"),
    ("post", "/auth/v2/enroll_status"),
    ("post", "/auth/v2/preauth"),
    ("post", "/auth/v2/auth"),
    ("get", "/auth/v2/auth_status"),
    ("post", "/rest/v1/preauth.bson"),
    ("post", "/rest/v1/auth.bson"),
    ("get", "/rest/v1/status.bson"),
];

/// Whether the server routes `method path` to a handler: neither the fallback for unknown
/// paths nor the one for unknown methods answered.
async fn routed(http: &reqwest::Client, base: &str, method: &str, path: &str) -> bool {
    let concrete = path.replace("{id}", "x").replace("{username}", "nobody");
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let response = http
        .request(method, format!("{base}{concrete}"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    // Streams answer 401 at once without credentials; nothing here waits on an open stream.
    let body = response.text().await.unwrap_or_default();
    status != 405 && !body.contains("no such endpoint")
}

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
    let mut described: Vec<(String, String)> = api["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "delete", "patch"].contains(&k.as_str()))
                .map(|method| (method.clone(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    described.sort();
    let mut routes: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    routes.sort();
    assert_eq!(
        described, routes,
        "the description's operations are exactly the routes"
    );
    // Each listed route is served, and the probe tells an unrouted path from a routed one.
    let http = reqwest::Client::new();
    for (method, path) in ROUTES {
        assert!(
            routed(&http, &server.base, method, path).await,
            "{method} {path} is not routed"
        );
    }
    for (method, path) in DUO_ROUTES {
        assert!(
            routed(&http, &server.base, method, path).await,
            "{method} {path} is not routed"
        );
        assert!(api["paths"][path].is_null(), "{path} is Duo's API");
    }
    assert!(!routed(&http, &server.base, "get", "/v1/nowhere").await);
    assert!(!routed(&http, &server.base, "patch", "/v1/approvals").await);
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

/// Starts `assent serve` on `port` logging JSON lines at `info` to `log`; returns once ready.
async fn serve_logging_to(data: &std::path::Path, port: u16, log: &std::path::Path) -> Child {
    crate::support::start_serve_logging(
        data,
        port,
        &[
            ("ASSENT_LOG__LEVEL", "info"),
            ("ASSENT_LOG__FORMAT", "json"),
        ],
        Stdio::from(std::fs::File::create(log).unwrap()),
    )
    .await
}

#[tokio::test]
async fn request_ids_tie_problems_to_log_lines_and_unknown_routes_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let port = crate::support::free_port();
    let mut server = serve_logging_to(&dir.path().join("data"), port, &log).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let r = http.get(format!("{base}/v1/nowhere")).send().await.unwrap();
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
        .put(format!("{base}/v1/approvals"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let problem: assent_proto::problem::Problem = r.json().await.unwrap();
    assert_eq!(problem.code, "method_not_allowed");

    for health in ["live", "ready"] {
        let r = http
            .get(format!("{base}/health/{health}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    // The server's own log has the request's line, under the id the problem carried.
    let _ = server.kill();
    server.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| l.contains(&header))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"] == header.as_str()
                && l["status"] == 404
                && l["span"]["path"] == "/v1/nowhere"),
        "no log line for request {header}: {text}"
    );
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
