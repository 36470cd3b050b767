//! Problem documents for the requests hyper refuses by itself. When an HTTP/1 request head
//! cannot be parsed (a garbage request line, an invalid header: 400; a URL over hyper's 65,534
//! bytes: 414; more than 100 headers or a head over its read buffer: 431), hyper answers before
//! any service sees the request, with an empty body, and offers no hook to change that answer.
//! It writes that answer as one buffer (writes here are never vectored) and then closes the
//! connection. This wrapper around the socket recognises such an answer and sends the problem
//! document of its status in its place. It is one kind of answer only, so it is recognised
//! narrowly: an HTTP/1.1 status line of 400, 414 or 431 at the start of a write, in a head with
//! neither `content-type` nor `x-request-id`, which every response of the router carries.
//! One case stays as hyper writes it: a client that pipelines a malformed request behind a good
//! one on the same connection, when hyper writes both answers in one buffer (the refusal is then
//! not at the start of the write); its refusal has the right status and an empty body.

use assent_proto::ProblemCode;
use assent_proto::problem::Problem;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection's socket, with hyper's own error answers replaced by problem documents.
pub(crate) struct ParseErrorProblems<T> {
    inner: T,
    /// A replacement being written, and how many bytes of hyper's answer it stands for.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<T> ParseErrorProblems<T> {
    pub(crate) fn new(inner: T) -> Self {
        ParseErrorProblems {
            inner,
            pending: None,
        }
    }
}

/// The code of the answer hyper writes for a request head it could not parse, if `written` is
/// one.
fn hyper_refusal(written: &[u8]) -> Option<ProblemCode> {
    let code = match written.get(..13)? {
        b"HTTP/1.1 400 " => ProblemCode::MalformedRequest,
        b"HTTP/1.1 414 " => ProblemCode::UriTooLong,
        b"HTTP/1.1 431 " => ProblemCode::HeadersTooLarge,
        _ => return None,
    };
    let end = written.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = written[..end].to_ascii_lowercase();
    let has = |name: &[u8]| head.windows(name.len()).any(|w| w == name);
    if has(b"\r\ncontent-type:") || has(b"\r\nx-request-id:") {
        return None;
    }
    Some(code)
}

/// The whole answer that replaces hyper's: status line, headers and the problem document.
fn problem_answer(code: ProblemCode) -> Vec<u8> {
    let detail = match code {
        ProblemCode::UriTooLong => "the request line is longer than the server reads",
        ProblemCode::HeadersTooLarge => {
            "the request has more headers, or longer ones, than the server reads"
        }
        _ => "the request is not valid HTTP/1.1",
    };
    let problem = Problem::new(code, Some(detail.to_owned()), None);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        code.status(),
        reason(code.status()),
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}

fn reason(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

impl<T: AsyncRead + Unpin> AsyncRead for ParseErrorProblems<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ParseErrorProblems<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none()
            && let Some(code) = hyper_refusal(buf)
        {
            tracing::info!(
                code = code.as_str(),
                "request refused before it could be parsed"
            );
            this.pending = Some((problem_answer(code), 0, buf.len()));
        }
        let Some((answer, written, replaces)) = &mut this.pending else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        while *written < answer.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &answer[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let replaced = *replaces;
        this.pending = None;
        Poll::Ready(Ok(replaced))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    /// Never vectored, so hyper flattens each answer into one buffer and its refusal arrives
    /// whole in one write.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_bare_refusals_are_replaced() {
        let hyper = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Fri, 04 Dec 2026 20:00:00 GMT\r\n\r\n";
        assert_eq!(hyper_refusal(hyper), Some(ProblemCode::HeadersTooLarge));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\nx-request-id: 1\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(hyper_refusal(ours), None);
        let success = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_refusal(success), None);
        let answer = String::from_utf8(problem_answer(ProblemCode::UriTooLong)).unwrap();
        assert!(answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        let body = answer.split_once("\r\n\r\n").unwrap().1;
        let problem: Problem = serde_json::from_str(body).unwrap();
        assert_eq!(problem.code, "uri_too_long");
        assert!(answer.contains(&format!("content-length: {}\r\n", body.len())));
    }
}
