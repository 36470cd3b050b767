//! Prometheus metrics, on a server of their own process (so the counts are this test's alone):
//! Debian's `promtool check metrics` accepts the exposition; a real Prometheus server started
//! here scrapes Assent and answers a query for requests by outcome with the right counts; the
//! exposition holds none of the secrets the test used; and `metrics.listen` moves them to a
//! listener of their own.

use crate::support::{free_port, start_serve};
use assent_client::{AdminClient, DeviceClient, RpClient};
use assent_proto::statement::Decision;
use assent_testkit::login;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The value of every sample of `name` whose labels include all of `labels`, summed.
fn sample(exposition: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse::<f64>().ok())
            .flatten()
        })
        .sum()
}

async fn scrape(url: &str) -> String {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
    );
    response.text().await.unwrap()
}

/// `promtool check metrics` on `exposition`: its exit status and what it said.
fn promtool(exposition: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; scripts/test.sh installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

/// A Prometheus server scraping `target` every second, and its query URL; killed on drop.
struct Prometheus {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: assent\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus (Debian's prometheus package; scripts/test.sh installs it)");
        Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The instant query's result as `label value → sample value`, once it answers.
    async fn query(&self, query: &str, by: &str) -> Option<BTreeMap<String, f64>> {
        let url = url::Url::parse_with_params(
            &format!("{}/api/v1/query", self.base),
            &[("query", query)],
        )
        .ok()?;
        let response = reqwest::get(url).await.ok()?;
        let body: Value = response.json().await.ok()?;
        let result = body["data"]["result"].as_array()?;
        Some(
            result
                .iter()
                .filter_map(|r| {
                    let label = r["metric"][by].as_str()?.to_owned();
                    let value = r["value"][1].as_str()?.parse().ok()?;
                    Some((label, value))
                })
                .collect(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_accepts_the_metrics_and_a_real_prometheus_counts_requests_by_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_serve(&data, port, &[("ASSENT_FATIGUE__PROMPT_BUDGET", "1000")]).await;
    let admin_key = assent_server::data_dir::read_admin_key(&data).unwrap();
    let admin = AdminClient::new(&base, &admin_key).unwrap();
    let app = admin.create_app("Acme").await.unwrap();
    let rp = RpClient::new(&base, &app.api_key).unwrap();
    admin.create_user("alice").await.unwrap();
    let link = admin.create_enrollment("alice").await.unwrap().link;
    let device = DeviceClient::enroll(&link, "phone", "test").await.unwrap();

    // Three approved, two denied, one cancelled, one left pending, one refused.
    let mut codes = Vec::new();
    for decision in [
        Decision::Approve,
        Decision::Approve,
        Decision::Approve,
        Decision::Deny,
        Decision::Deny,
    ] {
        let created = rp.create_approval(&login("alice")).await.unwrap();
        codes.extend(created.display_code.clone());
        device
            .decide(&created.id, decision, created.display_code.as_deref())
            .await
            .unwrap();
    }
    let cancelled = rp.create_approval(&login("alice")).await.unwrap();
    rp.cancel(&cancelled.id).await.unwrap();
    let pending = rp.create_approval(&login("alice")).await.unwrap();
    codes.extend(pending.display_code.clone());
    assert!(rp.create_approval(&login("nobody")).await.is_err());

    let exposition = scrape(&format!("{base}/metrics")).await;
    let decided = |state: &str| {
        sample(
            &exposition,
            "assent_requests_decided_total",
            &[("kind", "login"), ("state", state)],
        )
    };
    assert_eq!(
        (decided("approved"), decided("denied"), decided("cancelled")),
        (3.0, 2.0, 1.0),
        "{exposition}"
    );
    assert_eq!(
        sample(
            &exposition,
            "assent_requests_created_total",
            &[("kind", "login"), ("policy", "push")]
        ),
        7.0
    );
    assert_eq!(
        sample(
            &exposition,
            "assent_requests_refused_total",
            &[("code", "unknown_user")]
        ),
        1.0
    );
    assert_eq!(sample(&exposition, "assent_requests_pending", &[]), 1.0);
    assert_eq!(
        sample(
            &exposition,
            "assent_request_decision_seconds_count",
            &[("kind", "login")]
        ),
        5.0,
        "only the devices' answers are timed"
    );
    assert!(
        sample(
            &exposition,
            "assent_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/v1/approvals"),
                ("status", "201")
            ]
        ) >= 7.0
    );
    assert!(
        sample(
            &exposition,
            "assent_http_requests_total",
            &[
                ("route", "/v1/device/approvals/{id}/decision"),
                ("status", "200")
            ]
        ) >= 5.0,
        "routes are templates, never ids"
    );
    assert!(
        sample(
            &exposition,
            "assent_store_commit_seconds_count",
            &[("backend", "sqlite")]
        ) > 0.0
    );
    assert!(!exposition.contains(&cancelled.id) && !exposition.contains("alice"));
    // None of the secrets this test used.
    for secret in [app.api_key.as_str(), admin_key.as_str(), link.as_str()]
        .into_iter()
        .chain(codes.iter().map(String::as_str))
    {
        assert!(
            !exposition.contains(&format!("\"{secret}\"")) && !exposition.contains(secret),
            "a secret in the metrics"
        );
    }

    let (valid, said) = promtool(&exposition);
    assert!(valid, "promtool check metrics: {said}");

    // A real Prometheus scrapes it and answers by outcome.
    let prometheus = Prometheus::start(&format!("127.0.0.1:{port}"));
    let query = "sum by (state) (assent_requests_decided_total)";
    let mut seen = None;
    for _ in 0..120 {
        if let Some(result) = prometheus.query(query, "state").await
            && !result.is_empty()
        {
            seen = Some(result);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let seen = seen.expect("Prometheus never answered with a scrape of Assent");
    let expected: BTreeMap<String, f64> = [("approved", 3.0), ("cancelled", 1.0), ("denied", 2.0)]
        .into_iter()
        .map(|(s, n)| (s.to_owned(), n))
        .collect();
    assert_eq!(seen, expected);
    let up = prometheus.query("up{job=\"assent\"}", "job").await.unwrap();
    assert_eq!(up.get("assent"), Some(&1.0));

    let _ = server.kill();
    let _ = server.wait();
}

#[tokio::test]
async fn metrics_listen_moves_them_to_a_listener_of_their_own() {
    let port = free_port();
    let server = assent_testkit::TestServer::spawn_with(|c| {
        c.metrics.listen = format!("127.0.0.1:{port}");
    })
    .await;
    let main = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert_eq!(main.status(), 404, "not on the main listener");
    let mut own = None;
    for _ in 0..50 {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await {
            own = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let own = own.expect("the metrics listener answers");
    assert_eq!(own.status(), 200);
    assert!(
        own.text()
            .await
            .unwrap()
            .contains("assent_requests_pending")
    );
}

#[tokio::test]
async fn metrics_can_be_switched_off() {
    let server = assent_testkit::TestServer::spawn_with(|c| c.metrics.enabled = false).await;
    let main = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert_eq!(main.status(), 404);
}
