//! Client errors. A problem document from the server is kept whole so callers can branch on its
//! code.

use assent_proto::ProblemCode;
use assent_proto::problem::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{}: {}", .0.title, .0.detail.as_deref().unwrap_or(""))]
    Problem(Box<Problem>),
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("unexpected answer from the server (status {status}): {body}")]
    Unexpected { status: u16, body: String },
    #[error("{0}")]
    Protocol(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl ClientError {
    /// The problem code, when the server answered with a problem document.
    pub fn problem_code(&self) -> Option<ProblemCode> {
        match self {
            ClientError::Problem(p) => p.problem_code(),
            _ => None,
        }
    }
}
