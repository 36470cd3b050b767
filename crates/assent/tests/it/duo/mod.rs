//! The Duo Auth API v2 adapter against Duo's own Python client (duo_client) and against requests
//! signed here, with a user whose device is the command-line authenticator: what a Duo
//! integration sees, what it is refused in Duo's error shape, and what the device is shown.

mod client;
mod device_view;
mod refusals;
mod signing;

use crate::support::{assent_bin, python, repo_root, run};
use assent_testkit::TestServer;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the tools reach the server: its host name as the client signs it, its port, and the
/// CA that signed its certificate (`None` for plain HTTP).
pub(super) struct Target {
    pub host: String,
    pub port: u16,
    pub ca: Option<PathBuf>,
}

impl Target {
    /// The test server over plain HTTP.
    pub fn plain(server: &TestServer) -> Self {
        Target {
            host: "127.0.0.1".into(),
            port: port_of(server),
            ca: None,
        }
    }

    /// The base URL of the admin and device tools.
    pub fn base(&self) -> String {
        match self.ca {
            Some(_) => format!("https://{}:{}", self.host, self.port),
            None => format!("http://{}:{}", self.host, self.port),
        }
    }

    /// A command of the `assent` binary that trusts the server's CA (rustls' platform verifier
    /// reads `SSL_CERT_FILE` on Linux).
    fn command(&self) -> std::process::Command {
        let mut command = assent_bin();
        if let Some(ca) = &self.ca {
            command.env("SSL_CERT_FILE", ca);
        }
        command
    }
}

/// The port a test server listens on.
pub(super) fn port_of(server: &TestServer) -> u16 {
    server.base.rsplit(':').next().unwrap().parse().unwrap()
}

/// A Duo integration's keys, as `assent admin duo create --json` printed them.
#[derive(Clone)]
pub(super) struct Keys {
    pub ikey: String,
    pub skey: String,
}

/// How duo_client signs: its `sig_version` and `digestmod`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sig {
    pub version: u8,
    pub digest: &'static str,
}

pub(super) const SIGS: [Sig; 3] = [
    Sig {
        version: 5,
        digest: "sha512",
    },
    Sig {
        version: 2,
        digest: "sha512",
    },
    Sig {
        version: 2,
        digest: "sha1",
    },
];

/// Runs `assent admin ARGS` against the server; (exit code, stdout, stderr).
pub(super) async fn admin(
    server: &TestServer,
    target: &Target,
    args: &[&str],
) -> (i32, String, String) {
    let mut command = target.command();
    command
        .args(["admin", "--server", &target.base()])
        .args(args)
        .env("ASSENT_ADMIN_KEY", &server.admin_key);
    blocking(command).await
}

/// Runs `assent device ARGS --profile PROFILE`.
pub(super) async fn device(
    target: &Target,
    profile: &Path,
    args: &[&str],
) -> (i32, String, String) {
    let mut command = target.command();
    command
        .arg("device")
        .args(args)
        .arg("--profile")
        .arg(profile);
    blocking(command).await
}

/// Runs a command off the runtime's threads: the server under test shares them.
async fn blocking(command: std::process::Command) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || run(command))
        .await
        .unwrap()
}

/// Creates an integration for `app_id` with the admin tool.
pub(super) async fn integration(
    server: &TestServer,
    target: &Target,
    app_id: &str,
    extra: &[&str],
) -> Keys {
    let mut args = vec!["duo", "create", app_id, "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = admin(server, target, &args).await;
    assert_eq!(code, 0, "{out}{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["app_id"], app_id);
    assert_eq!(
        created["allow_unmatched_push"],
        extra.contains(&"--allow-unmatched-push")
    );
    Keys {
        ikey: created["ikey"].as_str().unwrap().to_owned(),
        skey: created["skey"].as_str().unwrap().to_owned(),
    }
}

/// An application, and a user with a device enrolled into a CLI profile, made with the tools.
pub(super) struct Setup {
    pub app_id: String,
    pub api_key: String,
    pub profile: PathBuf,
    pub device_id: String,
}

impl Setup {
    pub async fn new(server: &TestServer, target: &Target, user: &str) -> Setup {
        let (code, out, err) = admin(server, target, &["app", "create", "Acme", "--json"]).await;
        assert_eq!(code, 0, "{err}");
        let app: Value = serde_json::from_str(&out).unwrap();
        let (code, _, err) = admin(server, target, &["user", "create", user]).await;
        assert_eq!(code, 0, "{err}");
        let (code, out, err) = admin(server, target, &["enroll", user, "--json"]).await;
        assert_eq!(code, 0, "{err}");
        let link: Value = serde_json::from_str(&out).unwrap();
        let profile = server.scratch(&format!("{user}-phone"));
        let link = link["link"].as_str().unwrap();
        let (code, out, err) = device(target, &profile, &["enroll", link, "--name", "phone"]).await;
        assert_eq!(code, 0, "{out}{err}");
        let (code, out, err) = device(target, &profile, &["status"]).await;
        assert_eq!(code, 0, "{err}");
        let device_id = out.split_whitespace().next().unwrap().to_owned();
        Setup {
            app_id: app["app_id"].as_str().unwrap().to_owned(),
            api_key: app["api_key"].as_str().unwrap().to_owned(),
            profile,
            device_id,
        }
    }
}

/// The requests pending on the device of `profile`, once there is at least one (the test
/// fails after twenty seconds without).
pub(super) async fn pending(target: &Target, profile: &Path) -> Vec<Value> {
    for _ in 0..100 {
        let (code, out, err) = device(target, profile, &["pending", "--json"]).await;
        assert_eq!(code, 0, "{err}");
        let listed: Vec<Value> = serde_json::from_str(&out).unwrap();
        if !listed.is_empty() {
            return listed;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no request reached the device");
}

/// duo_client calling one method of `duo_client.Auth` with `args`, started as a child.
pub(super) fn start_duo(
    target: &Target,
    keys: &Keys,
    sig: Sig,
    method: &str,
    args: &Value,
) -> tokio::process::Child {
    let ca = target
        .ca
        .as_ref()
        .map_or_else(|| "HTTP".to_owned(), |ca| ca.display().to_string());
    tokio::process::Command::new(python())
        .arg(repo_root().join("tests/interop/duo_client_driver.py"))
        .args([
            method,
            &target.host,
            &target.port.to_string(),
            &ca,
            &keys.ikey,
            &keys.skey,
            &sig.version.to_string(),
            sig.digest,
            &args.to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// What a duo_client call started by [`start_duo`] printed: `{"ok": response}` or
/// `{"error": text, "status": n, "body": ...}`.
pub(super) async fn finish_duo(child: tokio::process::Child) -> Value {
    let output = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("duo_client answered within 90 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the driver failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// duo_client's answer to one call; the test fails when duo_client raised.
pub(super) async fn duo_ok(
    target: &Target,
    keys: &Keys,
    sig: Sig,
    method: &str,
    args: Value,
) -> Value {
    let out = finish_duo(start_duo(target, keys, sig, method, &args)).await;
    assert!(
        out.get("ok").is_some(),
        "{sig:?} {method} {args}: duo_client raised {out}"
    );
    out["ok"].clone()
}
