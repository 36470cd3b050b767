//! Debian's `login_duo` (duo_unix 1.11.3, the package `login-duo`), unmodified, under a
//! pseudo-terminal with `autopush`, against Assent over TLS: an SSH/PAM login approved on an
//! Assent device. It speaks the legacy Auth API v1, so its integration allows v1 and (since v1
//! cannot show a code) pushes without number matching.

use crate::support::{assent_bin, audit_data, python, repo_root, run};
use assent_server::config::TlsConfig;
use assent_testkit::TestServer;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `assent` CLI talking to the server over TLS, trusting the test CA.
fn cli(ca: &Path, admin_key: &str, args: &[&str]) -> (i32, String, String) {
    let mut command = assent_bin();
    command
        .args(args)
        .env("SSL_CERT_FILE", ca)
        .env("ASSENT_ADMIN_KEY", admin_key);
    run(command)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Writes a login_duo configuration readable only by its owner, as login_duo demands.
fn config(path: &Path, integration: &Value, host: &str, ca: &Path) {
    let text = format!(
        "[duo]\nikey = {}\nskey = {}\nhost = {host}\ncafile = {}\nautopush = yes\npushinfo = yes\nprompts = 1\n",
        integration["ikey"].as_str().unwrap(),
        integration["skey"].as_str().unwrap(),
        ca.display()
    );
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// Starts login_duo for `alice` running `echo LOGIN-OK`.
fn login(config: &Path) -> std::process::Child {
    Command::new(python())
        .arg(repo_root().join("tests/interop/login_duo_pty.py"))
        .arg(config)
        .args(["alice", "echo", "LOGIN-OK"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finished(child: std::process::Child) -> (i64, String) {
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result = json(stdout.lines().last().unwrap_or_default());
    (
        result["exit"].as_i64().unwrap(),
        result["output"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debian_login_duo_runs_its_command_when_the_device_approves_and_refuses_a_denial() {
    assert!(
        Path::new("/usr/sbin/login_duo").exists(),
        "Debian's login-duo is not installed: ./scripts/test.sh installs it"
    );
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(python())
        .arg(repo_root().join("tests/interop/make_tls_cert.py"))
        .arg(dir.path())
        .arg("tls")
        .status()
        .unwrap();
    assert!(status.success(), "trustme made no certificate");
    let ca = dir.path().join("tls-ca.pem");
    let files = TlsConfig {
        cert_file: dir.path().join("tls-chain.pem").display().to_string(),
        key_file: dir.path().join("tls-key.pem").display().to_string(),
    };
    let server = TestServer::spawn_with(|c| c.tls = files).await;
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let host = format!("localhost:{port}");
    let https = format!("https://{host}");
    let key = server.admin_key.clone();
    let admin = |args: &[&str]| {
        let mut all = vec!["admin", "--server", https.as_str()];
        all.extend_from_slice(args);
        cli(&ca, &key, &all)
    };

    let (code, out, err) = admin(&["app", "create", "Shell servers", "--json"]);
    assert_eq!(code, 0, "{err}");
    let app_id = json(&out)["app_id"].as_str().unwrap().to_owned();
    assert_eq!(admin(&["user", "create", "alice"]).0, 0);
    let (code, out, err) = admin(&["enroll", "alice", "--json"]);
    assert_eq!(code, 0, "{err}");
    let link = json(&out)["link"].as_str().unwrap().to_owned();
    let profile = dir.path().join("alice-phone");
    let profile_arg = profile.display().to_string();
    let device = |args: &[&str]| {
        let mut all = vec!["device"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--profile", profile_arg.as_str()]);
        cli(&ca, &key, &all)
    };
    let (code, out, err) = device(&["enroll", &link, "--name", "Alice's phone"]);
    assert_eq!(code, 0, "{out}{err}");

    // An integration that keeps the default (no legacy v1) refuses login_duo, which then
    // refuses the login: nothing reaches the device.
    let (code, out, err) = admin(&["duo", "create", &app_id, "--json"]);
    assert_eq!(code, 0, "{err}");
    let closed = dir.path().join("closed.conf");
    config(&closed, &json(&out), &host, &ca);
    let (exit, output) = finished(login(&closed));
    assert_eq!(exit, 1, "{output}");
    assert!(!output.contains("LOGIN-OK"), "{output}");
    let (_, pending, _) = device(&["pending", "--json"]);
    assert_eq!(json(&pending), serde_json::json!([]));

    let (code, out, err) = admin(&[
        "duo",
        "create",
        &app_id,
        "--allow-legacy-v1",
        "--allow-unmatched-push",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let integration = json(&out);
    assert_eq!(integration["allow_legacy_v1"], true);
    let open = dir.path().join("login_duo.conf");
    config(&open, &integration, &host, &ca);

    for (verb, exit_code, says) in [
        ("approve", 0, "Success. Logging you in"),
        ("deny", 1, "Login request denied"),
    ] {
        let child = login(&open);
        // The CLI authenticator finds the push, shows the command and the server, and answers.
        let started = Instant::now();
        let request = loop {
            let (_, out, _) = device(&["pending", "--json"]);
            if let Some(first) = json(&out).as_array().and_then(|a| a.first().cloned()) {
                break first;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no request reached the device"
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        let details = &request["authorization_details"][0];
        assert_eq!(details["type"], "duo_push", "{request}");
        assert_eq!(details["Command"], "echo LOGIN-OK", "{request}");
        assert!(details["Server IP"].is_string(), "{request}");
        assert!(
            request["context"]["user_agent"]
                .as_str()
                .unwrap_or_default()
                .starts_with("login_duo/"),
            "{request}"
        );
        let id = request["id"].as_str().unwrap();
        let (code, out, err) = device(&[verb, id]);
        assert_eq!(code, 0, "{out}{err}");
        let (exit, output) = finished(child);
        assert_eq!(exit, exit_code, "{verb}: {output}");
        assert!(output.contains("Autopushing login request"), "{output}");
        assert!(output.contains(says), "{verb}: {output}");
        assert_eq!(output.contains("LOGIN-OK"), verb == "approve", "{output}");
    }
    // The operator's lower-assurance choice is on the record of every such request.
    let created = audit_data(&server, "approval_created");
    assert_eq!(created.len(), 2);
    assert!(
        created
            .iter()
            .all(|row| row.contains("\"number_matching_waived\":true")),
        "{created:?}"
    );
    server.stop().await;
}
