//! Errors: the harness itself fails with a boxed error printed once by `main` (the same
//! convention as the `assent` binary); a failed step of a flow is a [`CallError`], counted by
//! kind rather than ending the run.

use assent_proto::problem::Problem;

/// Why the harness could not run.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;
/// The result of a harness step.
pub type BenchResult<T> = Result<T, BenchError>;

/// A failed request of a flow, reduced to a stable kind for the error counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// `<step>: <problem code | http status | transport | protocol>`, for example
    /// `create: push_suspended` or `wait: timeout`.
    pub kind: String,
    /// What happened, for the first occurrences printed at the end.
    pub detail: String,
}

impl CallError {
    pub fn new(step: &str, kind: impl std::fmt::Display, detail: impl Into<String>) -> Self {
        CallError {
            kind: format!("{step}: {kind}"),
            detail: detail.into(),
        }
    }

    /// A transport failure (connection refused, reset, timed out).
    pub fn transport(step: &str, e: &reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            "timeout"
        } else if e.is_connect() {
            "connect"
        } else {
            "transport"
        };
        CallError::new(step, kind, e.to_string())
    }

    /// An error answer: its problem code when it is a problem document, else its status.
    pub fn answer(step: &str, status: u16, body: &[u8]) -> Self {
        let detail: String = String::from_utf8_lossy(body).chars().take(300).collect();
        match serde_json::from_slice::<Problem>(body)
            .ok()
            .and_then(|p| p.problem_code())
        {
            Some(code) => CallError::new(step, code.as_str(), detail),
            None => CallError::new(step, format!("http {status}"), detail),
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.kind, self.detail)
    }
}

impl std::error::Error for CallError {}
