//! The audit log read out: `assent audit export --format cef --syslog tcp://…` received by a real
//! syslog daemon (Debian's rsyslog, started here on a free port) and parsed back, every row once
//! and in order; the JSON Lines export resumed exactly after a sequence number, through the API
//! and from the data directory; the search API by user and kind; and a signed checkpoint that
//! catches a log cut back together with its recorded head, which the chain alone cannot.

use crate::support::{assent_bin, free_port, run};
use assent_client::AdminClient;
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, login};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// rsyslogd listening on TCP `port`, writing `app-name|msgid|msg` lines to `out`.
struct Rsyslog(Child);

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rsyslog(dir: &Path, port: u16, out: &Path) -> Rsyslog {
    let config = dir.join("rsyslog.conf");
    std::fs::write(
        &config,
        format!(
            "global(workDirectory=\"{dir}\" maxMessageSize=\"64k\")\n\
             module(load=\"imtcp\")\n\
             template(name=\"raw\" type=\"string\" string=\"%app-name%|%msgid%|%msg%\\n\")\n\
             ruleset(name=\"assent\") {{ action(type=\"omfile\" file=\"{out}\" template=\"raw\") }}\n\
             input(type=\"imtcp\" port=\"{port}\" address=\"127.0.0.1\" ruleset=\"assent\")\n",
            dir = dir.display(),
            out = out.display(),
        ),
    )
    .unwrap();
    let child = Command::new("/usr/sbin/rsyslogd")
        .args(["-n", "-f"])
        .arg(&config)
        .arg("-i")
        .arg(dir.join("rsyslog.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("rsyslogd (Debian's rsyslog; scripts/test.sh installs it)");
    Rsyslog(child)
}

/// A server with some history: alice and bob approve and deny a few requests.
async fn busy_server() -> TestServer {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    for user in ["alice", "bob"] {
        let device = server.user_with_device(user).await;
        for decision in [Decision::Approve, Decision::Deny] {
            let created = app.client.create_approval(&login(user)).await.unwrap();
            device
                .decide(&created.id, decision, created.display_code.as_deref())
                .await
                .unwrap();
        }
    }
    server
}

fn export(server: &TestServer, args: &[&str]) -> (i32, String, String) {
    let mut cmd = assent_bin();
    cmd.args(["audit", "export", "--server", &server.base])
        .env("ASSENT_ADMIN_KEY", &server.admin_key)
        .args(args);
    run(cmd)
}

fn seq_of_json(line: &str) -> u64 {
    serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cef_reaches_rsyslog_once_and_in_order_and_json_lines_resume_after_a_sequence_number() {
    let server = busy_server().await;
    let head = server.assent.store().audit_head().await.unwrap().unwrap();
    assert!(head > 10, "{head} rows");

    // CEF in RFC 5424 messages, over TCP with octet counting, into rsyslog.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("assent.log");
    let port = free_port();
    let _daemon = rsyslog(dir.path(), port, &out);
    let target = format!("tcp://127.0.0.1:{port}");
    let mut sent = None;
    for _ in 0..50 {
        let (status, _, stderr) = export(&server, &["--format", "cef", "--syslog", &target]);
        if status == 0 {
            sent = Some(stderr);
            break;
        }
        // rsyslog may not listen yet.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = sent.expect("the export reached rsyslog");
    assert!(sent.contains(&format!("the last is #{head}")), "{sent}");
    let mut lines = Vec::new();
    for _ in 0..100 {
        lines = std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        if lines.len() as u64 >= head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut seqs = Vec::new();
    for line in &lines {
        // rsyslog parsed the RFC 5424 header: the app-name and the msgid (the event's kind).
        let mut parts = line.splitn(3, '|');
        let (app, kind, message) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        assert_eq!(app, "assent", "{line}");
        assert!(
            message.starts_with(&format!(
                "CEF:0|Assent|Assent|{}|{kind}|",
                env!("CARGO_PKG_VERSION")
            )),
            "{line}"
        );
        let id = message
            .split(' ')
            .find_map(|f| f.strip_prefix("externalId="))
            .unwrap_or_else(|| panic!("no externalId in {line}"));
        seqs.push(id.parse::<u64>().unwrap());
    }
    let every: Vec<u64> = (1..=head).collect();
    assert_eq!(seqs, every, "every row once, in order");

    // JSON Lines through the API, resumed after row 7: exactly the rows after it.
    let (status, all, _) = export(&server, &["--format", "jsonl"]);
    assert_eq!(status, 0);
    let all: Vec<&str> = all.lines().collect();
    assert_eq!(all.len() as u64, head);
    let (status, tail, stderr) = export(&server, &["--after", "7"]);
    assert_eq!(status, 0, "{stderr}");
    let tail: Vec<&str> = tail.lines().collect();
    assert_eq!(tail, all[7..], "resumed exactly after row 7");
    assert_eq!(seq_of_json(tail[0]), 8);
    // The same from the data directory, read-only beside the running server.
    let mut cmd = assent_bin();
    cmd.args(["audit", "export", "--after", "7", "--data"])
        .arg(&server.config.data_dir);
    let (status, from_disk, stderr) = run(cmd);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(from_disk.lines().collect::<Vec<_>>(), tail);
}

#[tokio::test]
async fn the_search_selects_by_user_and_kind_and_pages() {
    let server = busy_server().await;
    let admin = AdminClient::new(&server.base, &server.admin_key).unwrap();
    let q = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    };
    let page = admin
        .audit_page(&q(&[("user", "alice"), ("kind", "approval_decided")]))
        .await
        .unwrap();
    assert_eq!(page.events.len(), 2, "alice's approval and denial");
    let name = assent_core::ids::Username::parse("alice").unwrap();
    let alice = server
        .assent
        .store()
        .user_by_name(&name)
        .await
        .unwrap()
        .unwrap();
    for event in &page.events {
        assert_eq!(event.kind, "approval_decided");
        let id = event.subject.strip_prefix("approval:").unwrap();
        let approval = server
            .assent
            .store()
            .approval(&assent_core::ids::ApprovalId::from_stored(id.to_owned()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(approval.user_id, alice.id, "a decision on alice's request");
    }
    // Paged: two at a time, resumed with next_after, until the end.
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = admin
            .audit_page(&q(&[("limit", "2"), ("after", &after.to_string())]))
            .await
            .unwrap();
        if page.events.is_empty() {
            assert_eq!(page.next_after, after);
            break;
        }
        seen.extend(page.events.iter().map(|e| e.seq));
        after = page.next_after;
    }
    let head = server.assent.store().audit_head().await.unwrap().unwrap();
    assert_eq!(seen, (1..=head).collect::<Vec<_>>());
    // Refusals: an unknown user, a bad time, a limit out of range.
    for bad in [
        q(&[("user", "nobody")]),
        q(&[("since", "yesterday")]),
        q(&[("since", "-1")]),
        q(&[("limit", "0")]),
    ] {
        assert!(admin.audit_page(&bad).await.is_err(), "{bad:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_catches_a_log_cut_with_its_head_which_the_chain_alone_does_not() {
    let server = busy_server().await;
    let admin = AdminClient::new(&server.base, &server.admin_key).unwrap();
    let checkpoint = admin.audit_checkpoint().await.unwrap();
    let head = server.assent.store().audit_head().await.unwrap().unwrap();
    assert_eq!(checkpoint.seq, head);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("checkpoint.jws");
    std::fs::write(&file, &checkpoint.checkpoint).unwrap();
    let verify = || {
        let mut cmd = assent_bin();
        cmd.args(["audit", "verify", "--data"])
            .arg(&server.config.data_dir)
            .arg("--checkpoint")
            .arg(&file)
            .args(["--jwks", &server.base]);
        run(cmd)
    };
    let (status, out, err) = verify();
    assert_eq!(status, 0, "{out}{err}");
    assert!(
        out.contains(&format!("checkpoint holds: row #{head}")),
        "{out}"
    );

    // Cut the last three rows and move the recorded head back with them: the chain that is
    // left is intact, and only the checkpoint tells.
    let db = server
        .config
        .data_dir
        .join(assent_server::data_dir::DATABASE_FILE);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&format!(
        "DELETE FROM audit WHERE seq > {cut}; UPDATE audit_head SET seq = {cut} WHERE id = 1;",
        cut = head - 3
    ))
    .unwrap();
    drop(conn);
    let (status, out, _) = verify();
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("audit chain intact"), "{out}");
    assert!(out.contains("checkpoint BROKEN"), "{out}");

    // A checkpoint signed by another key is refused.
    let other = assent_proto::jose::SigningKey::generate().unwrap();
    let forged = other
        .sign(
            assent_core::audit::checkpoint::CHECKPOINT_TYP,
            Some(server.assent.key_id()),
            false,
            &serde_json::json!({"iss": "x", "seq": 1, "hash": "00", "at": 0, "iat": 0}),
        )
        .unwrap();
    std::fs::write(&file, forged).unwrap();
    let (status, _, err) = verify();
    assert_ne!(status, 0);
    assert!(err.contains("does not verify"), "{err}");
}
