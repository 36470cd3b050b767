//! Access requests: a requester asks, through an application, for a privilege described as
//! authorization details, with a justification; eligible approvers (users and the members of
//! groups, never the requester) each get a push prompt showing the whole request; M approvals
//! grant it and K denials reject it. Each answer is an ordinary device-signed decision with its
//! receipt. The grant is an ES256 JWT naming the approvers and their receipts, revocable early.
//!
//! The count is taken after each answer is written, and the request ends by a conditional
//! write: the last of several simultaneous answers always sees the others (each counts after
//! its own commit), and only one ending is ever written, so a quorum issues one grant.

pub mod break_glass;
pub mod co_approval;
pub mod create;
pub mod grant;
pub(crate) mod policy;
pub mod records;
pub mod tally;
pub mod views;

pub use create::{AccessCreated, NewAccessRequest, PromptedApprover};
pub use grant::{GRANT_TYP, GrantApprover, GrantClaims, Introspection};
pub use views::{AccessView, ApproverView};

use crate::error::CoreError;
use assent_proto::ProblemCode;

/// Most approvers one request may name, after the groups are expanded.
pub const MAX_APPROVERS: usize = 50;
/// Most approvals a request may need: the grant carries the receipt of each.
pub const MAX_APPROVALS_REQUIRED: u32 = 10;
/// Longest justification, in characters.
pub const MAX_JUSTIFICATION: usize = 400;
/// Shortest and longest grant, in seconds.
pub const MIN_GRANT_SECONDS: u32 = 60;
pub const MAX_GRANT_SECONDS: u32 = 7 * 24 * 3600;
/// The grant's length when the request does not say.
pub const DEFAULT_GRANT_SECONDS: u32 = 3600;

fn not_found() -> CoreError {
    CoreError::rejected(ProblemCode::NotFound, "no such access request")
}

/// The refusal of a change to a request that has ended.
fn already_ended(request: &records::AccessRequest) -> CoreError {
    CoreError::rejected(
        ProblemCode::AlreadyDecided,
        format!("the access request is already {}", request.state.as_str()),
    )
}
