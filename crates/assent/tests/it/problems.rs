//! Every answer is a problem document: requests refused before a handler runs (by hyper, which
//! parses the request head, or by the router and its extractors) and requests whose body never
//! arrives whole. Raw TCP, so the malformed requests reach the server exactly as written.

use assent_testkit::TestServer;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One answer as read off the socket: status, lower-cased headers, body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Checks the answer is a problem document of `status` and `code` that shows nothing of the
    /// server's insides, and returns it.
    fn problem(&self, status: u16, code: &str) -> serde_json::Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.body
        );
        let problem: serde_json::Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body));
        assert_eq!(problem["code"], code, "{problem}");
        assert_eq!(problem["status"], status, "{problem}");
        assert_eq!(
            problem["type"],
            format!("urn:assent:problem:{code}"),
            "{problem}"
        );
        for leak in [
            "panicked",
            "backtrace",
            "src/",
            ".rs:",
            "hyper",
            "axum",
            "serde",
            "RUST_",
        ] {
            assert!(
                !self.body.contains(leak),
                "the answer shows {leak:?}: {}",
                self.body
            );
        }
        problem
    }
}

/// Sends `request` as is on a new connection and reads one answer.
async fn exchange(base: &str, request: &[u8]) -> Answer {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    // A refused head may be answered before the whole request is written; what matters is the
    // answer.
    let _ = stream.write_all(request).await;
    read_answer(&mut stream).await
}

/// Reads one answer, as far as its announced length (the connection may stay open) or the end
/// of the connection.
async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&chunk[..n]),
            }
            if complete(&raw) {
                break;
            }
        }
    })
    .await
    .expect("the server answers");
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete answer: {text:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {status_line:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

#[tokio::test]
async fn requests_hyper_refuses_before_routing_get_problem_documents() {
    let server = TestServer::spawn().await;

    let garbage = exchange(&server.base, b"THIS IS NOT HTTP\r\n\r\n").await;
    garbage.problem(400, "malformed_request");

    let bad_header = exchange(
        &server.base,
        b"GET /health/live HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n",
    )
    .await;
    bad_header.problem(400, "malformed_request");

    let long_url = format!(
        "GET /v1/approvals/{} HTTP/1.1\r\nhost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    exchange(&server.base, long_url.as_bytes())
        .await
        .problem(414, "uri_too_long");

    let mut many_headers = String::from("GET /health/live HTTP/1.1\r\nhost: x\r\n");
    for i in 0..150 {
        many_headers.push_str(&format!("x-filler-{i}: {i}\r\n"));
    }
    many_headers.push_str("\r\n");
    exchange(&server.base, many_headers.as_bytes())
        .await
        .problem(431, "headers_too_large");

    // The server still serves well-formed requests on new connections.
    let live = exchange(
        &server.base,
        b"GET /health/live HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(live.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn router_and_extractor_refusals_are_problem_documents() {
    let server = TestServer::spawn().await;
    let app = server.app("shop").await;
    let admin = format!("authorization: Bearer {}\r\n", server.admin_key);
    let rp = format!("authorization: Bearer {}\r\n", app.api_key);
    let get = |path: &str, auth: &str| {
        format!("GET {path} HTTP/1.1\r\nhost: x\r\n{auth}connection: close\r\n\r\n")
    };

    // An escape that is not UTF-8 in a path parameter.
    let answer = exchange(&server.base, get("/v1/approvals/%FF%FE", &rp).as_bytes()).await;
    let problem = answer.problem(400, "malformed_request");
    assert!(answer.header("x-request-id").is_some());
    assert_eq!(
        problem["request_id"].as_str(),
        answer.header("x-request-id")
    );

    // Query strings: unknown parameters and values of the wrong type.
    exchange(
        &server.base,
        get("/v1/admin/devices?colour=red", &admin).as_bytes(),
    )
    .await
    .problem(422, "invalid_request");
    exchange(
        &server.base,
        get("/v1/approvals/x?wait=soon", &rp).as_bytes(),
    )
    .await
    .problem(422, "invalid_request");

    // Unknown routes and methods.
    exchange(&server.base, get("/v1/nowhere", "").as_bytes())
        .await
        .problem(404, "not_found");
    let put =
        "PUT /v1/approvals HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    exchange(&server.base, put.as_bytes())
        .await
        .problem(405, "method_not_allowed");

    // Bodies: the wrong media type, not JSON, the wrong shape, too large.
    let post = |content_type: &str, body: &str| {
        format!(
            "POST /v1/admin/users HTTP/1.1\r\nhost: x\r\n{admin}content-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    exchange(&server.base, post("text/plain", "{}").as_bytes())
        .await
        .problem(415, "unsupported_media_type");
    exchange(
        &server.base,
        post("application/json", "{not json").as_bytes(),
    )
    .await
    .problem(400, "malformed_json");
    exchange(
        &server.base,
        post("application/json", r#"{"username": 7}"#).as_bytes(),
    )
    .await
    .problem(422, "invalid_request");
    let large = format!(r#"{{"username": "{}"}}"#, "a".repeat(70 * 1024));
    exchange(&server.base, post("application/json", &large).as_bytes())
        .await
        .problem(413, "body_too_large");
    server.stop().await;
}

#[tokio::test]
async fn a_body_shorter_than_announced_is_the_clients_fault_and_answered_early() {
    // The body must arrive within the header read time (2 s here), well before the request
    // deadline (30 s), which would otherwise answer `503 timeout`.
    let server = TestServer::spawn_with(|config| {
        config.http.header_read_timeout_secs = 2;
        config.http.request_timeout_secs = 30;
    })
    .await;
    let request = format!(
        "POST /v1/admin/users HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"username\"",
        server.admin_key
    );
    let address = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    // The client neither sends the rest nor closes the connection.
    let answer = read_answer(&mut stream).await;
    let problem = answer.problem(408, "body_timeout");
    // The pause ended it, not the request deadline.
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("stopped arriving"),
        "{problem}"
    );
    server.stop().await;
}

/// Whether `raw` holds a whole answer, by its content-length.
fn complete(raw: &[u8]) -> bool {
    let text = String::from_utf8_lossy(raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok());
    length.is_some_and(|l| body.len() >= l)
}
