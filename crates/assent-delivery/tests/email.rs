//! The mailer against a real SMTP server (aiosmtpd, `tests/interop/smtp_server.py`) over real
//! sockets: what arrives (read back by Python's own e-mail parser), STARTTLS and implicit TLS
//! against a throwaway CA, AUTH only over TLS, and how each failure is classified.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_delivery::email::{Mailer, SmtpSettings, SmtpTls};
use assent_delivery::push::Sent;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PASSWORD: &str = "S3cret-pa55word";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interpreter with aiosmtpd and trustme; a missing one fails the test, since an interop
/// check that silently does not run checks nothing.
fn python() -> PathBuf {
    if let Ok(path) = std::env::var("ASSENT_TEST_PYTHON") {
        return PathBuf::from(path);
    }
    let venv = repo_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python test peers: run ./scripts/test.sh (it creates .venv with aiosmtpd), or set ASSENT_TEST_PYTHON"
    );
    venv
}

/// A running `smtp_server.py`, killed on drop.
struct Relay {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Relay {
    /// `tls` is `""`, `"--starttls"` or `"--implicit"`; then any other options.
    fn start(tls: &str, options: &[&str]) -> Relay {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(python());
        command
            .arg(repo_root().join("tests/interop/smtp_server.py"))
            .arg(dir.path().join("received.jsonl"));
        if !tls.is_empty() {
            command.arg(tls).arg(dir.path().join("ca.pem"));
        }
        let mut child = command
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the SMTP server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = match line.trim().parse() {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                panic!("the SMTP server did not print its port: {line:?}");
            }
        };
        Relay { child, port, dir }
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Every message received so far, in order.
    fn received(&self) -> Vec<Value> {
        read_lines(&self.dir.path().join("received.jsonl"))
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_lines(path: &Path) -> Vec<Value> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{e}"),
    }
}

fn settings(host: &str, port: u16, tls: SmtpTls) -> SmtpSettings {
    SmtpSettings {
        host: host.into(),
        port,
        tls,
        username: None,
        password: None,
        from: "Assent <assent@example.com>".into(),
        ca_file: None,
        timeout: Duration::from_secs(10),
    }
}

fn with_auth(mut settings: SmtpSettings) -> SmtpSettings {
    settings.username = Some("assent".into());
    settings.password = Some(PASSWORD.into());
    settings
}

#[tokio::test]
async fn plain_smtp_delivers_a_utf8_message_with_its_headers() {
    let relay = Relay::start("", &[]);
    let mailer = Mailer::new(settings("127.0.0.1", relay.port, SmtpTls::None)).unwrap();
    let subject = "Nouvel appareil enregistré — vérifiez « Pixel 9 » ✓";
    let text = "Bonjour Zoë,\n\nUn appareil « Pixel 9 » a été ajouté à votre compte.\nSi ce n'était pas vous, révoquez-le : 設定 → デバイス.\n";

    let sent = mailer
        .send("Zoë Ångström <zoe@example.org>", subject, text)
        .await;
    assert_eq!(sent, Sent::Accepted);
    assert_eq!(
        mailer.send("zoe@example.org", "second", "again").await,
        Sent::Accepted
    );

    let received = relay.received();
    assert_eq!(received.len(), 2, "{received:#?}");
    let first = &received[0];
    assert_eq!(first["mail_from"], "assent@example.com");
    assert_eq!(first["rcpt_tos"], serde_json::json!(["zoe@example.org"]));
    let headers = &first["headers"];
    assert_eq!(headers["From"], "Assent <assent@example.com>");
    assert_eq!(headers["To"], "Zoë Ångström <zoe@example.org>");
    assert_eq!(headers["Subject"], subject);
    assert_eq!(headers["Auto-Submitted"], "auto-generated");
    assert!(headers["Date"].as_str().is_some_and(|d| !d.is_empty()));
    let id = headers["Message-ID"].as_str().unwrap();
    assert!(id.starts_with('<') && id.ends_with("@example.com>"), "{id}");
    assert_ne!(id, received[1]["headers"]["Message-ID"].as_str().unwrap());
    assert_eq!(first["content_type"], "text/plain");
    assert_eq!(first["charset"], "utf-8");
    let body = first["body"].as_str().unwrap().replace("\r\n", "\n");
    assert_eq!(body, text, "{}", first["data"]);
    assert_eq!(first["tls"], false);
    assert_eq!(first["auth_login"], Value::Null);
}

#[tokio::test]
async fn starttls_with_auth_against_a_private_ca() {
    let relay = Relay::start("--starttls", &["--auth", &format!("assent:{PASSWORD}")]);
    let mut config = with_auth(settings("localhost", relay.port, SmtpTls::StartTls));
    config.ca_file = Some(relay.ca());
    let mailer = Mailer::new(config).unwrap();

    let sent = mailer
        .send(
            "ops@example.org",
            "Alerte : connexion refusée",
            "Détails dans la console.",
        )
        .await;
    assert_eq!(sent, Sent::Accepted);

    let received = relay.received();
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(received[0]["tls"], true);
    assert_eq!(received[0]["auth_login"], "assent");
    assert_eq!(
        received[0]["headers"]["Subject"],
        "Alerte : connexion refusée"
    );
    let raw = received[0]["data"].as_str().unwrap();
    assert!(!raw.contains(PASSWORD), "the password is in the message");
}

#[tokio::test]
async fn a_wrong_password_fails_without_the_password_in_the_error() {
    let relay = Relay::start("--starttls", &["--auth", "assent:another-password"]);
    let mut config = with_auth(settings("localhost", relay.port, SmtpTls::StartTls));
    config.ca_file = Some(relay.ca());
    let mailer = Mailer::new(config).unwrap();

    let sent = mailer.send("ops@example.org", "s", "t").await;
    let Sent::Failed { error } = &sent else {
        panic!("{sent:?}");
    };
    assert!(!error.contains(PASSWORD), "{error}");
    assert!(relay.received().is_empty());
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let relay = Relay::start("--starttls", &[]);
    // No ca_file: the throwaway CA is in no root store.
    let mailer = Mailer::new(settings("localhost", relay.port, SmtpTls::StartTls)).unwrap();
    let sent = mailer.send("ops@example.org", "s", "t").await;
    assert!(matches!(sent, Sent::Retry { .. }), "{sent:?}");
    assert!(relay.received().is_empty());
}

#[tokio::test]
async fn starttls_required_is_never_downgraded_to_plain() {
    // A relay that does not offer STARTTLS.
    let relay = Relay::start("", &[]);
    let mailer = Mailer::new(settings("127.0.0.1", relay.port, SmtpTls::StartTls)).unwrap();
    let sent = mailer.send("ops@example.org", "s", "t").await;
    assert!(matches!(sent, Sent::Failed { .. }), "{sent:?}");
    assert!(relay.received().is_empty());
}

#[tokio::test]
async fn implicit_tls_with_auth() {
    let relay = Relay::start("--implicit", &["--auth", &format!("assent:{PASSWORD}")]);
    let mut config = with_auth(settings("127.0.0.1", relay.port, SmtpTls::Implicit));
    config.ca_file = Some(relay.ca());
    let mailer = Mailer::new(config).unwrap();

    assert_eq!(
        mailer.send("ops@example.org", "s", "t").await,
        Sent::Accepted
    );
    let received = relay.received();
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(received[0]["tls"], true);
    assert_eq!(received[0]["auth_login"], "assent");
}

#[tokio::test]
async fn a_refused_recipient_is_gone_and_a_bad_address_failed() {
    let relay = Relay::start("", &["--reject", "gone@example.org"]);
    let mailer = Mailer::new(settings("127.0.0.1", relay.port, SmtpTls::None)).unwrap();

    let sent = mailer.send("gone@example.org", "s", "t").await;
    let Sent::Gone { error } = &sent else {
        panic!("{sent:?}");
    };
    assert!(error.contains("550"), "{error}");

    let sent = mailer.send("not an address", "s", "t").await;
    assert!(matches!(sent, Sent::Failed { .. }), "{sent:?}");

    assert_eq!(
        mailer.send("here@example.org", "s", "t").await,
        Sent::Accepted
    );
    let received = relay.received();
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(
        received[0]["rcpt_tos"],
        serde_json::json!(["here@example.org"])
    );
}

#[tokio::test]
async fn no_server_is_a_retry() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mailer = Mailer::new(settings("127.0.0.1", port, SmtpTls::None)).unwrap();
    let sent = mailer.send("ops@example.org", "s", "t").await;
    assert!(matches!(sent, Sent::Retry { after: None, .. }), "{sent:?}");
}

#[tokio::test]
async fn a_silent_server_is_a_retry_after_the_timeout() {
    // Accepts the connection and never greets.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    });
    let mut config = settings("127.0.0.1", port, SmtpTls::None);
    config.timeout = Duration::from_millis(300);
    let mailer = Mailer::new(config).unwrap();

    let started = std::time::Instant::now();
    let sent = mailer.send("ops@example.org", "s", "t").await;
    assert!(matches!(sent, Sent::Retry { after: None, .. }), "{sent:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    held.abort();
}

#[test]
fn credentials_without_tls_only_to_a_loopback_host() {
    let refused = Mailer::new(with_auth(settings("mail.example.com", 25, SmtpTls::None)));
    let Err(error) = refused else {
        panic!("credentials in the clear to mail.example.com were accepted");
    };
    let error = error.to_string();
    assert!(error.contains("mail.example.com"), "{error}");
    assert!(!error.contains(PASSWORD), "{error}");

    assert!(Mailer::new(with_auth(settings("127.0.0.1", 25, SmtpTls::None))).is_ok());
    assert!(Mailer::new(with_auth(settings("localhost", 25, SmtpTls::None))).is_ok());
    assert!(
        Mailer::new(with_auth(settings(
            "mail.example.com",
            587,
            SmtpTls::StartTls
        )))
        .is_ok()
    );
}

#[test]
fn settings_are_checked_at_setup() {
    let mut bad_from = settings("127.0.0.1", 25, SmtpTls::None);
    bad_from.from = "Assent".into();
    assert!(Mailer::new(bad_from).is_err());

    let mut half_credentials = settings("127.0.0.1", 25, SmtpTls::None);
    half_credentials.password = Some(PASSWORD.into());
    assert!(Mailer::new(half_credentials).is_err());

    let mut missing_ca = settings("localhost", 587, SmtpTls::StartTls);
    missing_ca.ca_file = Some("/nonexistent/ca.pem".into());
    assert!(Mailer::new(missing_ca).is_err());

    let not_pem = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(not_pem.path(), "not a certificate").unwrap();
    let mut bad_ca = settings("localhost", 587, SmtpTls::StartTls);
    bad_ca.ca_file = Some(not_pem.path().into());
    assert!(Mailer::new(bad_ca).is_err());
}
