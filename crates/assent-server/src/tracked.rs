//! Whether a connection has a request in progress. A request counts from its complete head until
//! its response body is dropped (sent in full, or abandoned by the client), so a long poll or an
//! event stream keeps its connection busy for as long as it lasts, and the idle deadline only
//! runs while nothing is asked.

use crate::admission::{RETRY_AFTER_SECS, problem_body};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use http_body::Frame;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::watch;

/// A connection's requests: in progress now, and started since it opened.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Requests {
    pub in_flight: usize,
    pub started: u64,
}

/// The counts of one connection, watched by its task.
#[derive(Clone)]
pub(crate) struct Activity(Arc<watch::Sender<Requests>>);

impl Activity {
    pub(crate) fn new() -> Self {
        Activity(Arc::new(watch::Sender::new(Requests::default())))
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<Requests> {
        self.0.subscribe()
    }

    /// A request began; it ends when the returned guard is dropped.
    pub(crate) fn start(&self) -> InFlight {
        self.0.send_modify(|r| {
            r.in_flight += 1;
            r.started += 1;
        });
        InFlight(self.0.clone())
    }
}

/// One request in progress.
pub(crate) struct InFlight(Arc<watch::Sender<Requests>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .send_modify(|r| r.in_flight = r.in_flight.saturating_sub(1));
    }
}

/// A response body that holds its request's [`InFlight`] guard until it is dropped.
pub(crate) struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl Tracked {
    pub(crate) fn new(body: Body, in_flight: InFlight) -> Self {
        Tracked {
            body,
            _in_flight: in_flight,
        }
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The answer on a connection from the health reserve to anything but `/health/*`.
pub(crate) fn reserve_refusal() -> Response {
    let body = problem_body("the server has too many open connections; try again later");
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}
