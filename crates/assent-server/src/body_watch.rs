//! A request body that must keep arriving. A client that announces more body than it sends (a
//! `Content-Length` larger than what follows) would otherwise hold its handler until the request
//! deadline and be answered as if the server were at fault. The body here fails once nothing has
//! arrived for `idle` and marks the request, so the middleware answers `408 body_timeout`.

use axum::body::{Body, Bytes};
use hyper::body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// What became of a watched body, for the middleware to judge a failed request by.
#[derive(Debug, Clone, Default)]
pub(crate) struct BodyProgress(Arc<Flags>);

#[derive(Debug, Default)]
struct Flags {
    /// The client paused longer than allowed.
    timed_out: AtomicBool,
    /// The handler is reading the body and has not reached its end.
    unfinished: AtomicBool,
}

impl BodyProgress {
    /// The client stopped sending a body it announced: the request failed for its silence.
    pub(crate) fn timed_out(&self) -> bool {
        self.0.timed_out.load(Ordering::Relaxed)
    }

    /// A handler was still waiting for the body (a client trickling it slowly).
    pub(crate) fn awaited(&self) -> bool {
        self.0.unfinished.load(Ordering::Relaxed)
    }
}

/// The error a watched body ends with when the client stops sending.
#[derive(Debug, thiserror::Error)]
#[error("no part of the request body arrived for {0:?}")]
struct Silent(Duration);

/// Wraps `body` so that a pause longer than `idle` between two of its frames ends it with an
/// error and marks the returned progress.
pub(crate) fn watch(body: Body, idle: Duration) -> (Body, BodyProgress) {
    let mark = BodyProgress::default();
    let watched = Watched {
        inner: body,
        idle,
        timer: None,
        mark: mark.clone(),
    };
    (Body::new(watched), mark)
}

struct Watched {
    inner: Body,
    idle: Duration,
    /// Started at the first read, so a request whose body is never read costs no timer.
    timer: Option<Pin<Box<Sleep>>>,
    mark: BodyProgress,
}

impl hyper::body::Body for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        this.mark.0.unfinished.store(true, Ordering::Relaxed);
        // The idle time counts from when the handler starts reading, then from each frame.
        let idle = this.idle;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if !matches!(frame, Some(Ok(_))) {
                    this.mark.0.unfinished.store(false, Ordering::Relaxed);
                }
                timer.as_mut().reset(Instant::now() + idle);
                Poll::Ready(frame)
            }
            Poll::Pending => match timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.mark.0.timed_out.store(true, Ordering::Relaxed);
                    this.mark.0.unfinished.store(false, Ordering::Relaxed);
                    Poll::Ready(Some(Err(axum::Error::new(Silent(this.idle)))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
