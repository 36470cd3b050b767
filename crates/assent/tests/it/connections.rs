//! How connections are served: HTTP/2 multiplexing of long polls over one connection, and the
//! header deadline that cuts off a client trickling its request.

use assent_testkit::{TestServer, login};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Established TCP connections from a client to `port` (the server's), from the kernel's table:
/// other tests of this process open sockets of their own at the same time, so counting every
/// socket the process holds would count theirs too.
fn connections_to(port: u16) -> usize {
    let port = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .map(|line| {
                    line.split_whitespace()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .filter(|fields| fields.len() > 3 && fields[2].ends_with(&port) && fields[3] == "01")
        .count()
}

#[tokio::test]
async fn many_long_polls_share_one_http2_connection() {
    let server = TestServer::spawn().await;
    let app = server.app("bank").await;
    let device = server.user_with_device("alice").await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();

    // Cleartext HTTP/2 with prior knowledge: one connection, many streams.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let url = format!("{}/v1/approvals/{}?wait=30", server.base, created.id);
    let port: u16 = server.base.rsplit(':').next().unwrap().parse().unwrap();
    let before = connections_to(port);
    let waits: Vec<_> = (0..120)
        .map(|_| {
            let request = h2.get(&url).bearer_auth(&app.api_key);
            tokio::spawn(async move { request.send().await })
        })
        .collect();
    // Every wait is in the server once the device answers; give them time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = connections_to(port);
    assert!(
        during <= before + 1,
        "120 waits opened {} connections; HTTP/2 should carry them on one",
        during - before
    );
    assert!(waits.iter().all(|w| !w.is_finished()), "a wait ended early");

    device
        .decide(
            &created.id,
            assent_proto::statement::Decision::Approve,
            created.display_code.as_deref(),
        )
        .await
        .unwrap();
    for wait in waits {
        let response = wait.await.unwrap().unwrap();
        assert_eq!(response.version(), reqwest::Version::HTTP_2);
        assert_eq!(response.status(), 200);
        let status: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status["state"], "approved");
        assert!(status["receipt"].is_string(), "{status}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_server_announces_its_http2_stream_limit() {
    let server = TestServer::spawn_with(|c| {
        c.http.http2_max_concurrent_streams = 4;
        c.http.request_timeout_secs = 1;
    })
    .await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // The client preface and an empty SETTINGS frame (RFC 9113, section 3.4).
    conn.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    // The server's first frame is its SETTINGS: 9-byte header, then 6-byte parameters.
    let mut header = [0u8; 9];
    conn.read_exact(&mut header).await.unwrap();
    assert_eq!(header[3], 0x4, "first frame is not SETTINGS");
    let length =
        usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
    let mut payload = vec![0u8; length];
    conn.read_exact(&mut payload).await.unwrap();
    let settings: Vec<(u16, u32)> = payload
        .chunks_exact(6)
        .map(|p| {
            (
                u16::from_be_bytes([p[0], p[1]]),
                u32::from_be_bytes([p[2], p[3], p[4], p[5]]),
            )
        })
        .collect();
    // SETTINGS_MAX_CONCURRENT_STREAMS is parameter 0x3.
    assert!(settings.contains(&(0x3, 4)), "{settings:?}");
    // This client never acknowledges the server's settings nor closes: shutdown still ends,
    // after the drain timeout (the request timeout, 1 s here).
    tokio::time::timeout(Duration::from_secs(20), server.stop())
        .await
        .expect("a half-open HTTP/2 connection held the server's shutdown");
    drop(conn);
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_disconnected() {
    let server = TestServer::spawn_with(|c| c.http.header_read_timeout_secs = 1).await;
    let addr = server.base.trim_start_matches("http://").to_owned();

    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /health/live HTTP/1.1\r\nHost: assent\r\n")
        .await
        .unwrap();
    // The headers never end: the server must hang up after its deadline, well before ours.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut buf)).await;
    let read = read.expect("the server kept a connection whose headers never ended");
    assert!(read.is_ok() || buf.is_empty());
    let answer = String::from_utf8_lossy(&buf);
    assert!(
        buf.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "unexpected answer: {answer}"
    );

    // A client that sends its headers in pieces, but within the deadline, is served.
    let mut fine = tokio::net::TcpStream::connect(&addr).await.unwrap();
    fine.write_all(b"GET /health/live HTTP/1.1\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    fine.write_all(b"Host: assent\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    fine.read_to_end(&mut buf).await.unwrap();
    assert!(
        String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf)
    );
    server.stop().await;
}
