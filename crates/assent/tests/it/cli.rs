//! The command-line tools against a real server: the admin commands, the device authenticator,
//! and its interactive prompt.

use crate::support::{assent_bin, run};
use assent_proto::api::ApprovalState;
use assent_testkit::{TestServer, login};
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

fn admin(server: &TestServer, args: &[&str]) -> (i32, String, String) {
    let mut cmd = assent_bin();
    cmd.args(["admin", "--server", &server.base])
        .args(args)
        .env("ASSENT_ADMIN_KEY", &server.admin_key);
    run(cmd)
}

fn device(profile: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = assent_bin();
    cmd.arg("device").args(args).arg("--profile").arg(profile);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_and_device_commands_run_the_whole_flow() {
    let server = TestServer::spawn().await;
    let (code, out, err) = admin(&server, &["app", "create", "Acme", "--json"]);
    assert_eq!(code, 0, "{err}");
    let app: serde_json::Value = serde_json::from_str(&out).unwrap();
    let api_key = app["api_key"].as_str().unwrap().to_owned();
    assert!(app["app_id"].as_str().is_some());

    assert_eq!(admin(&server, &["user", "create", "alice"]).0, 0);
    let (code, out, _) = admin(&server, &["user", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains("alice"));

    let (code, out, err) = admin(&server, &["enroll", "alice", "--json"]);
    assert_eq!(code, 0, "{err}");
    let enrollment: serde_json::Value = serde_json::from_str(&out).unwrap();
    let link = enrollment["link"].as_str().unwrap().to_owned();
    assert!(enrollment["expires_at"].as_str().is_some());

    // Without --json, the link and a terminal QR code.
    let (code, out, _) = admin(&server, &["enroll", "alice"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("/app/enroll#code=") && out.contains('█'),
        "{out}"
    );

    let profile = server.scratch("alice-phone");
    let (code, out, err) = run(device(
        &profile,
        &["enroll", &link, "--name", "Alice's phone"],
    ));
    assert_eq!(code, 0, "{out}{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(profile.join("device-key.p8"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Enrolling into the same profile again is refused.
    assert_ne!(run(device(&profile, &["enroll", &link])).0, 0);

    let rp = assent_client::RpClient::new(&server.base, &api_key).unwrap();
    let created = rp.create_approval(&login("alice")).await.unwrap();
    let code_shown = created.display_code.clone().unwrap();

    let (code, out, err) = run(device(&profile, &["pending", "--json"]));
    assert_eq!(code, 0, "{err}");
    let pending: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(pending[0]["id"], created.id.as_str());
    let (code, out, _) = run(device(&profile, &["pending"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("Sign in to Acme") && out.contains("203.0.113.7"),
        "{out}"
    );

    let (code, out, err) = run(device(
        &profile,
        &["approve", &created.id, "--code", &code_shown],
    ));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("approved"));
    assert_eq!(
        rp.approval(&created.id, None).await.unwrap().state,
        ApprovalState::Approved
    );

    let second = rp.create_approval(&login("alice")).await.unwrap();
    let (code, out, _) = run(device(&profile, &["deny", &second.id, "--fraud"]));
    assert_eq!(code, 0);
    assert!(out.contains("fraud"));

    let (code, out, _) = admin(&server, &["device", "list", "--json"]);
    assert_eq!(code, 0);
    let devices: serde_json::Value = serde_json::from_str(&out).unwrap();
    let device_id = devices["devices"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(admin(&server, &["device", "revoke", &device_id]).0, 0);
    let (code, _, err) = run(device(&profile, &["pending"]));
    assert_ne!(code, 0);
    assert!(err.contains("revoked"), "{err}");
    let (code, out, _) = admin(&server, &["audit-verify"]);
    assert_eq!(code, 0, "{out}");

    // Without a key the admin tool says how to give one.
    let mut cmd = assent_bin();
    cmd.args(["admin", "--server", &server.base, "user", "list"])
        .env_remove("ASSENT_ADMIN_KEY");
    let (code, _, err) = run(cmd);
    assert_ne!(code, 0);
    assert!(err.contains("ASSENT_ADMIN_KEY"), "{err}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prompts_with_the_full_context_and_takes_the_typed_code() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    server.user("alice").await;
    let link = server.admin.create_enrollment("alice").await.unwrap().link;
    let profile = server.scratch("watcher");
    assert_eq!(run(device(&profile, &["enroll", &link])).0, 0);

    let mut watch = device(&profile, &["watch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = watch.stdin.take().unwrap();
    let stdout = watch.stdout.take().unwrap();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    async fn until(
        lines: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
        needle: &str,
    ) -> Vec<String> {
        let mut seen = Vec::new();
        let found = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            while let Some(line) = lines.recv().await {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(
            matches!(found, Ok(true)),
            "never saw {needle:?} in {seen:#?}"
        );
        seen
    }
    until(&mut lines, "Watching").await;
    let created = app
        .client
        .create_approval(&assent_testkit::transfer("alice", "99.00"))
        .await
        .unwrap();
    let shown = until(&mut lines, "Type the code").await.join("\n");
    assert!(
        shown.contains("Send 99.00 EUR to Bob") && shown.contains("amount=99.00"),
        "{shown}"
    );
    writeln!(stdin, "{}", created.display_code.unwrap()).unwrap();
    until(&mut lines, "→ approved").await;
    assert_eq!(
        app.client.approval(&created.id, None).await.unwrap().state,
        ApprovalState::Approved
    );
    watch.kill().unwrap();
    watch.wait().unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_approves_a_new_terminal_and_admins_see_factors() {
    let server = TestServer::spawn().await;
    let app = server.app("acme").await;
    server.user("alice").await;
    let link = server.admin.create_enrollment("alice").await.unwrap().link;
    let first = server.scratch("first");
    assert_eq!(
        run(device(&first, &["enroll", &link, "--name", "desk"])).0,
        0
    );

    // A relying party's enrollment for a user with a device: the new terminal is held, and
    // prints the code to type on the first one.
    let held = app.client.create_enrollment("alice").await.unwrap().link;
    let second = server.scratch("second");
    let (code, out, err) = run(device(&second, &["enroll", &held, "--name", "laptop"]));
    assert_eq!(code, 0, "{err}");
    let activation = out
        .lines()
        .find_map(|l| l.split("with this code:").nth(1))
        .expect("the activation code is printed")
        .trim()
        .to_owned();
    let (_, status, _) = run(device(&second, &["status"]));
    assert!(status.ends_with("pending_activation\n"), "{status}");
    let (code, _, err) = run(device(&second, &["pending"]));
    assert_ne!(code, 0);
    assert!(err.contains("waits for approval"), "{err}");

    let (_, listed, _) = run(device(&first, &["devices"]));
    let waiting = listed
        .lines()
        .find(|l| l.contains("pending_activation"))
        .expect("the held terminal is listed");
    let id = waiting.split('\t').next().unwrap().to_owned();
    let (code, out, err) = run(device(&first, &["activate", &id, "--code", &activation]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("is now active"), "{out}");
    let (_, status, _) = run(device(&second, &["status"]));
    assert!(status.ends_with("active\n"), "{status}");

    // Recovery codes from the terminal; the admin sees the count and the devices.
    let (code, out, _) = run(device(&second, &["recovery-codes", "--regenerate"]));
    assert_eq!(code, 0);
    assert_eq!(out.lines().filter(|l| l.starts_with("  ")).count(), 10);
    let (code, out, err) = admin(&server, &["factors", "show", "alice"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("can use push, recovery_code"), "{out}");
    assert!(out.contains("recovery codes: 10 left"), "{out}");
    assert_eq!(out.matches("\tactive\t").count(), 2, "{out}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_list_rotate_and_revoke_application_keys() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let (code, out, err) = admin(&server, &["app", "rotate-key", &app.id, "--json"]);
    assert_eq!(code, 0, "{err}");
    let rotated: serde_json::Value = serde_json::from_str(&out).unwrap();
    let new_key = rotated["api_key"].as_str().unwrap().to_owned();
    let key_id = rotated["key_id"].as_str().unwrap().to_owned();
    assert_eq!(rotated["revoked_key_ids"].as_array().unwrap().len(), 1);
    let old = assent_client::RpClient::new(&server.base, &app.api_key).unwrap();
    assert!(old.create_approval(&login("nobody")).await.is_err());

    let (code, out, err) = admin(&server, &["app", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("key {key_id}")) && out.contains("active"),
        "{out}"
    );
    assert!(out.contains("revoked"), "{out}");
    assert!(!out.contains(&new_key), "a key's secret is never listed");

    let (code, out, err) = admin(&server, &["app", "revoke-key", &key_id]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("Key {key_id} revoked at ")),
        "{out}"
    );
    let (code, _, err) = admin(&server, &["app", "revoke-key", &key_id]);
    assert_ne!(code, 0);
    assert!(
        err.contains("already_decided") || err.contains("revoked already"),
        "{err}"
    );
}
