//! TLS on the listener: certificates from a throwaway CA (Python's trustme), HTTP/2 and
//! HTTP/1.1 chosen by ALPN, nothing for a client that does not trust the CA or speaks plain HTTP,
//! a start refused with files that do not load, and a new certificate taken on SIGHUP (a bad
//! one refused, the running one kept).

use crate::support::{assent_bin, free_port, python, repo_root};
use assent_server::config::TlsConfig;
use assent_testkit::TestServer;
use std::path::Path;
use std::time::Duration;

/// Makes `NAME-ca.pem`, `NAME-chain.pem` and `NAME-key.pem` in `dir`.
fn certificate(dir: &Path, name: &str) {
    let status = std::process::Command::new(python())
        .arg(repo_root().join("tests/interop/make_tls_cert.py"))
        .arg(dir)
        .arg(name)
        .status()
        .unwrap();
    assert!(status.success(), "trustme made no certificate");
}

/// A client that trusts only the CA in `ca_file`, with no pooled connection to reuse.
fn client(ca_file: &Path, http1_only: bool) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca_file).unwrap()).unwrap();
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([ca])
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10));
    if http1_only {
        builder = builder.http1_only();
    }
    builder.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_http2_and_http1_by_alpn_and_nothing_for_others() {
    let dir = tempfile::tempdir().unwrap();
    certificate(dir.path(), "a");
    let files = TlsConfig {
        cert_file: dir.path().join("a-chain.pem").display().to_string(),
        key_file: dir.path().join("a-key.pem").display().to_string(),
    };
    let server = TestServer::spawn_with(|c| c.tls = files).await;
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let https = format!("https://127.0.0.1:{port}/health/ready");

    let h2 = client(&dir.path().join("a-ca.pem"), false)
        .get(&https)
        .send()
        .await
        .unwrap();
    assert_eq!(h2.status(), 200);
    assert_eq!(h2.version(), reqwest::Version::HTTP_2, "ALPN chose h2");
    let h1 = client(&dir.path().join("a-ca.pem"), true)
        .get(&https)
        .send()
        .await
        .unwrap();
    assert_eq!(h1.status(), 200);
    assert_eq!(
        h1.version(),
        reqwest::Version::HTTP_11,
        "ALPN chose http/1.1"
    );
    // The public URL names https when TLS is on.
    assert!(server.assent.settings().public_url.starts_with("https://"));

    // A client that does not trust the CA gets no answer; nor does plain HTTP.
    certificate(dir.path(), "other");
    let stranger = client(&dir.path().join("other-ca.pem"), false)
        .get(&https)
        .send()
        .await;
    assert!(stranger.is_err(), "a certificate the client does not trust");
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/health/ready"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_with_files_that_do_not_load_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    certificate(dir.path(), "a");
    std::fs::write(
        dir.path().join("bad-key.pem"),
        "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    for (cert, key, named) in [
        ("a-chain.pem", "bad-key.pem", "tls.key_file"),
        ("missing.pem", "a-key.pem", "tls.cert_file"),
        ("a-key.pem", "a-key.pem", "tls.cert_file"),
    ] {
        let out = assent_bin()
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{}", free_port()),
                "--data",
            ])
            .arg(dir.path().join("data"))
            .env("ASSENT_TLS__CERT_FILE", dir.path().join(cert))
            .env("ASSENT_TLS__KEY_FILE", dir.path().join(key))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{cert} + {key} started");
        assert!(stderr.contains(named), "{cert} + {key}: {stderr}");
        assert!(
            !stderr.contains("not a key"),
            "no key material in the error: {stderr}"
        );
    }
    // One file without the other is a configuration error.
    let out = assent_bin()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--data",
        ])
        .arg(dir.path().join("data"))
        .env("ASSENT_TLS__CERT_FILE", dir.path().join("a-chain.pem"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tls.cert_file and tls.key_file"));
}

/// Waits until `client` gets `/health/ready` from `url`; `false` after ten seconds.
async fn ready(client: &reqwest::Client, url: &str) -> bool {
    for _ in 0..200 {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_takes_a_new_certificate_and_keeps_the_running_one_when_the_new_does_not_load() {
    let dir = tempfile::tempdir().unwrap();
    certificate(dir.path(), "first");
    certificate(dir.path(), "second");
    let (chain, key) = (dir.path().join("chain.pem"), dir.path().join("key.pem"));
    std::fs::copy(dir.path().join("first-chain.pem"), &chain).unwrap();
    std::fs::copy(dir.path().join("first-key.pem"), &key).unwrap();
    let port = free_port();
    let mut child = assent_bin()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path().join("data"))
        .env("ASSENT_LOG__LEVEL", "warn")
        .env("ASSENT_TLS__CERT_FILE", &chain)
        .env("ASSENT_TLS__KEY_FILE", &key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("https://127.0.0.1:{port}/health/ready");
    let first = client(&dir.path().join("first-ca.pem"), false);
    let second = client(&dir.path().join("second-ca.pem"), false);
    assert!(
        ready(&first, &url).await,
        "the server never answered over TLS"
    );
    let hangup = || {
        let status = std::process::Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };

    // A key that does not load: refused, the running certificate stays.
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    hangup();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        ready(&first, &url).await,
        "the running certificate was dropped"
    );

    // A new pair: taken by the next connections.
    std::fs::copy(dir.path().join("second-chain.pem"), &chain).unwrap();
    std::fs::copy(dir.path().join("second-key.pem"), &key).unwrap();
    hangup();
    assert!(
        ready(&second, &url).await,
        "the new certificate was not taken"
    );
    assert!(
        first.get(&url).send().await.is_err(),
        "the old certificate is still served"
    );

    let _ = child.kill();
    let _ = child.wait();
}
