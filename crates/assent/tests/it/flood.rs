//! A flood of connections that never finish a request: 5,000 silent sockets and 1,000 that
//! trickle a header byte every few seconds, against the real binary started with a soft
//! open-file limit of 1,024. The server raises that limit, caps the connections it holds (per
//! address and in total, refusing the rest with a 503 problem document), keeps answering
//! readiness from its health reserve, and closes every held socket at the header deadline,
//! while a relying party's approval flows keep completing. The figures are printed (run with
//! `--nocapture`); none is asserted on.

use crate::support::{assent_bin, free_port};
use assent_client::{AdminClient, DeviceClient, RpClient};
use assent_proto::api::ApprovalState;
use assent_proto::statement::Decision;
use assent_testkit::login;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const SILENT: usize = 5_000;
const SLOW: usize = 1_000;
/// The server's deadline from accept to a complete request head, short for the test.
const HEADER_DEADLINE_SECS: u64 = 5;
/// How often a slow socket sends one more byte of a head that never ends.
const SLOW_BYTE_EVERY: Duration = Duration::from_secs(2);
/// Caps set for the test: each flooding address fills its own cap, and the two together leave
/// room under the total for the relying party's and the device's connections (which a flood
/// from enough addresses to fill the total would refuse too: the unit tests cover that cap).
const MAX_CONNECTIONS: usize = 1_000;
const MAX_PER_ADDRESS: usize = 400;
const HEALTH_RESERVE: usize = 16;
/// Not a timing assertion: a socket the server still holds after this is a socket it never
/// closes.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// What became of one flooding socket.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    /// The server answered 503 too_many_connections at once and closed.
    Refused { per_address: bool },
    /// The server held it, then closed it after this long.
    Closed(Duration),
    /// Still open when the test gave up waiting, from this local port. Either the server holds
    /// it, or the kernel dropped the end of its handshake when the accept queue was full and the
    /// server never saw it (the client alone believes it is connected).
    StillOpen { held_by_server: bool },
    /// The connection could not be made at all.
    NotConnected,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_slow_sockets_are_capped_and_closed_while_flows_complete() {
    raise_own_file_limit((SILENT + SLOW + 512) as u64);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log_path = dir.path().join("server.log");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server_addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut server = start_with_soft_limit_1024(&data, port, &log_path).await;
    let pid = server.id();

    // The server raised the soft limit it was started with.
    let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
    let server_soft = soft_file_limit_of(pid);
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    if hard.is_none_or(|h| h > 1024) {
        assert!(
            server_soft.is_some_and(|s| s > 1024),
            "soft limit still {server_soft:?}"
        );
        assert!(
            log.contains("raised the open-file limit"),
            "no log line for the raise: {log}"
        );
    }

    // A relying party and a device, connected before the flood.
    let admin_key = assent_server::data_dir::read_admin_key(&data).unwrap();
    let admin = AdminClient::new(&base, &admin_key).unwrap();
    let app = admin.create_app("Acme").await.unwrap();
    admin.create_user("alice").await.unwrap();
    let link = admin.create_enrollment("alice").await.unwrap().link;
    let device = DeviceClient::enroll(&link, "phone", "test").await.unwrap();
    let rp = RpClient::new(&base, &app.api_key).unwrap();
    let first = flow(&rp, &device).await;
    assert!(first.is_ok(), "a flow before the flood failed: {first:?}");

    let flooding = Arc::new(AtomicBool::new(true));
    let flows = tokio::spawn(keep_flowing(rp.clone(), device, flooding.clone()));
    let ready = tokio::spawn(keep_asking_ready(base.clone(), flooding.clone()));
    let peaks = tokio::spawn(sample_peaks(port, pid, flooding.clone()));

    let started = Instant::now();
    let silent_from: IpAddr = "127.0.0.2".parse().unwrap();
    let slow_from: IpAddr = "127.0.0.3".parse().unwrap();
    let connected = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(SILENT + SLOW);
    for i in 0..SILENT + SLOW {
        let connected = connected.clone();
        let slow = i >= SILENT;
        let from = if slow { slow_from } else { silent_from };
        tasks.push(tokio::spawn(async move {
            (
                slow,
                flood_socket(server_addr, from, slow, &connected).await,
            )
        }));
    }
    let mut silent_fates = Vec::new();
    let mut slow_fates = Vec::new();
    for task in tasks {
        let (slow, fate) = task.await.unwrap();
        if slow {
            slow_fates.push(fate);
        } else {
            silent_fates.push(fate);
        }
    }
    let flood_took = started.elapsed();
    flooding.store(false, Ordering::SeqCst);
    let (completed, flow_failures) = flows.await.unwrap();
    let (ready_ok, ready_failures) = ready.await.unwrap();
    let (peak_sockets, peak_fds) = peaks.await.unwrap();

    // Once the flood is gone, new connections are served again.
    let after = RpClient::new(&base, &app.api_key).unwrap();
    let status = after.create_approval(&login("alice")).await;
    assert!(
        status.is_ok(),
        "a new connection after the flood: {status:?}"
    );

    eprintln!(
        "flood: soft open-file limit at spawn 1024, in the server after start {server_soft:?} (hard {hard:?})"
    );
    eprintln!(
        "flood: caps max_connections={MAX_CONNECTIONS} per_address={MAX_PER_ADDRESS} health_reserve={HEALTH_RESERVE}, header deadline {HEADER_DEADLINE_SECS} s"
    );
    eprintln!(
        "flood: {} of {} sockets connected; peak {peak_sockets} established server-side sockets on the port, peak {peak_fds} descriptors in the server",
        connected.load(Ordering::SeqCst),
        SILENT + SLOW
    );
    report("silent", &silent_fates);
    report("slow-header", &slow_fates);
    eprintln!(
        "flood: {completed} approval flows completed during the flood ({flow_failures:?} failed); /health/ready answered 200 {ready_ok} times ({ready_failures:?} failed); the flood lasted {flood_took:.1?}"
    );
    let _ = server.kill();
    let _ = server.wait();

    for (kind, fates) in [("silent", &silent_fates), ("slow-header", &slow_fates)] {
        let never_closed = fates
            .iter()
            .filter(|f| {
                **f == Fate::StillOpen {
                    held_by_server: true,
                }
            })
            .count();
        assert_eq!(never_closed, 0, "{kind} sockets the server never closed");
        assert!(
            fates.iter().any(|f| matches!(f, Fate::Closed(_))),
            "no {kind} socket was held and closed at the deadline"
        );
    }
    let refused = |per_address: bool| {
        silent_fates
            .iter()
            .chain(&slow_fates)
            .filter(|f| **f == Fate::Refused { per_address })
            .count()
    };
    assert!(refused(true) > 0, "the per-address cap refused nothing");
    assert!(
        flow_failures.is_empty(),
        "flows failed during the flood: {flow_failures:?}"
    );
    assert!(completed > 0, "no flow completed during the flood");
    assert!(
        ready_failures.is_empty(),
        "readiness failed during the flood: {ready_failures:?}"
    );
    assert!(
        ready_ok > 0,
        "readiness was never answered during the flood"
    );
}

/// Starts `assent serve` through a shell that first lowers the soft open-file limit to 1,024
/// (the common default), with short deadlines and small caps; returns once it is ready.
async fn start_with_soft_limit_1024(
    data: &std::path::Path,
    port: u16,
    log: &std::path::Path,
) -> std::process::Child {
    let bin = assent_bin().get_program().to_owned();
    let log_file = std::fs::File::create(log).unwrap();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -Sn 1024 && exec "$0" "$@""#)
        .arg(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .env("ASSENT_LOG__LEVEL", "info")
        .env(
            "ASSENT_HTTP__HEADER_READ_TIMEOUT_SECS",
            HEADER_DEADLINE_SECS.to_string(),
        )
        .env("ASSENT_HTTP__MAX_CONNECTIONS", MAX_CONNECTIONS.to_string())
        .env(
            "ASSENT_HTTP__MAX_CONNECTIONS_PER_ADDRESS",
            MAX_PER_ADDRESS.to_string(),
        )
        .env(
            "ASSENT_HTTP__HEALTH_RESERVE_CONNECTIONS",
            HEALTH_RESERVE.to_string(),
        )
        .stdout(std::process::Stdio::null())
        .stderr(log_file)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/health/ready");
    let _ = rustls::crypto::ring::default_provider().install_default();
    for _ in 0..200 {
        if reqwest::get(&url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not become ready");
}

/// This test holds 6,000 sockets itself.
fn raise_own_file_limit(needed: u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    )
    .unwrap();
    let now = getrlimit(Resource::Nofile).current;
    assert!(
        now.is_none_or(|n| n >= needed),
        "this test needs {needed} open files; the hard limit is {:?}",
        limit.maximum
    );
}

/// The soft open-file limit of a process, from /proc.
fn soft_file_limit_of(pid: u32) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// One flooding socket from `from`: silent, or sending a header byte every few seconds of a
/// head that never ends. Waits for the server to answer or close.
async fn flood_socket(
    server: SocketAddr,
    from: IpAddr,
    slow: bool,
    connected: &AtomicUsize,
) -> Fate {
    let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
        return Fate::NotConnected;
    };
    if socket.bind(SocketAddr::new(from, 0)).is_err() {
        return Fate::NotConnected;
    }
    let start = Instant::now();
    let Ok(Ok(mut stream)) = tokio::time::timeout(HANG_GUARD, socket.connect(server)).await else {
        return Fate::NotConnected;
    };
    connected.fetch_add(1, Ordering::SeqCst);
    let local_port = stream.local_addr().map_or(0, |a| a.port());
    let head = b"GET /health/live HTTP/1.1\r\nHost: assent\r\nX-Slow: ";
    let (mut reader, mut writer) = stream.split();
    let mut received = Vec::new();
    let mut chunk = [0u8; 2048];
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + SLOW_BYTE_EVERY,
        SLOW_BYTE_EVERY,
    );
    let mut sent = 0usize;
    let deadline = tokio::time::sleep(HANG_GUARD);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            read = reader.read(&mut chunk) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            },
            _ = tick.tick(), if slow => {
                let byte = head.get(sent).copied().unwrap_or(b'a');
                sent += 1;
                if writer.write_all(&[byte]).await.is_err() {
                    break;
                }
            }
            () = &mut deadline => {
                // Still open here: does the server's side of the connection exist?
                let held_by_server = server_side_peer_ports(server.port()).contains(&local_port);
                return Fate::StillOpen { held_by_server };
            }
        }
    }
    let answer = String::from_utf8_lossy(&received);
    if answer.starts_with("HTTP/1.1 503") {
        assert!(
            answer.contains("retry-after: ")
                && answer.contains("\"code\":\"too_many_connections\""),
            "a refusal that is not the problem document: {answer}"
        );
        return Fate::Refused {
            per_address: answer.contains("from this address"),
        };
    }
    assert!(
        received.is_empty(),
        "the server answered an unfinished head: {answer}"
    );
    Fate::Closed(start.elapsed())
}

/// One approval flow: create, the device answers, the relying party reads the result.
async fn flow(rp: &RpClient, device: &DeviceClient) -> Result<(), String> {
    let created = rp
        .create_approval(&login("alice"))
        .await
        .map_err(|e| format!("create: {e}"))?;
    device
        .decide(
            &created.id,
            Decision::Approve,
            created.display_code.as_deref(),
        )
        .await
        .map_err(|e| format!("answer: {e}"))?;
    let status = rp
        .approval(&created.id, None)
        .await
        .map_err(|e| format!("result: {e}"))?;
    if status.state == ApprovalState::Approved && status.receipt.is_some() {
        Ok(())
    } else {
        Err(format!("result: {:?}", status.state))
    }
}

/// Flows one after the other while the flood lasts: (completed, failures).
async fn keep_flowing(
    rp: RpClient,
    device: DeviceClient,
    flooding: Arc<AtomicBool>,
) -> (usize, Vec<String>) {
    let mut completed = 0;
    let mut failures = Vec::new();
    while flooding.load(Ordering::SeqCst) {
        match flow(&rp, &device).await {
            Ok(()) => completed += 1,
            Err(e) => failures.push(e),
        }
    }
    (completed, failures)
}

/// `/health/ready` on a new connection every 250 ms while the flood lasts: (answered 200,
/// failures).
async fn keep_asking_ready(base: String, flooding: Arc<AtomicBool>) -> (usize, Vec<String>) {
    let mut ok = 0;
    let mut failures = Vec::new();
    while flooding.load(Ordering::SeqCst) {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        match client.get(format!("{base}/health/ready")).send().await {
            Ok(r) if r.status() == 200 => ok += 1,
            Ok(r) => failures.push(format!("status {}", r.status())),
            Err(e) => failures.push(e.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    (ok, failures)
}

/// The most established connections on the server's side of `port` (from the kernel's table)
/// and the most descriptors the server held, sampled while the flood lasts.
async fn sample_peaks(port: u16, pid: u32, flooding: Arc<AtomicBool>) -> (usize, usize) {
    let local = format!(":{port:04X}");
    let (mut sockets, mut fds) = (0, 0);
    while flooding.load(Ordering::SeqCst) {
        let established = ["/proc/net/tcp", "/proc/net/tcp6"]
            .iter()
            .filter_map(|t| std::fs::read_to_string(t).ok())
            .map(|text| {
                text.lines()
                    .skip(1)
                    .filter(|line| {
                        let fields: Vec<&str> = line.split_whitespace().collect();
                        fields.len() > 3 && fields[1].ends_with(&local) && fields[3] == "01"
                    })
                    .count()
            })
            .sum();
        sockets = sockets.max(established);
        if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            fds = fds.max(dir.count());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (sockets, fds)
}

/// The client ports of established connections on the server's side of `port`.
fn server_side_peer_ports(port: u16) -> std::collections::HashSet<u16> {
    let local = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|t| std::fs::read_to_string(t).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    if fields.len() > 3 && fields[1].ends_with(&local) && fields[3] == "01" {
                        let (_, peer) = fields[2].rsplit_once(':')?;
                        u16::from_str_radix(peer, 16).ok()
                    } else {
                        None
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Prints what became of one kind of socket.
fn report(kind: &str, fates: &[Fate]) {
    let count = |f: &dyn Fn(&Fate) -> bool| fates.iter().filter(|x| f(x)).count();
    let mut closed: Vec<Duration> = fates
        .iter()
        .filter_map(|f| match f {
            Fate::Closed(d) => Some(*d),
            _ => None,
        })
        .collect();
    closed.sort();
    let at = |q: f64| {
        closed
            .get(((closed.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    eprintln!(
        "flood: {kind}: {} sockets; {} refused at once (per address {}, total cap {}); {} held and closed by the server after min {:.2?} / median {:.2?} / max {:.2?}; {} held and never closed; {} never reached the server (handshake dropped by the full accept queue); {} not connected",
        fates.len(),
        count(&|f| matches!(f, Fate::Refused { .. })),
        count(&|f| *f == Fate::Refused { per_address: true }),
        count(&|f| *f == Fate::Refused { per_address: false }),
        closed.len(),
        at(0.0),
        at(0.5),
        at(1.0),
        count(&|f| *f
            == Fate::StillOpen {
                held_by_server: true
            }),
        count(&|f| *f
            == Fate::StillOpen {
                held_by_server: false
            }),
        count(&|f| *f == Fate::NotConnected),
    );
}
