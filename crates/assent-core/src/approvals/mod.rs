//! The approval state machine: a relying party's request is created (after risk, policy and the
//! fatigue defense), read by its relying party and its user's devices, watched until it ends,
//! and ended exactly once: by a device's signed answer, or by a cancel, a newer request, a
//! device revocation, the policy's allowance or expiry.

mod answer;
mod close;
pub(crate) mod create;
mod read;
mod request;
mod views;
mod watch;

pub use answer::Answered;
pub(crate) use close::already_decided;
pub use create::CreatedApproval;
pub use request::{
    AuthorizationDetails, BindingMessage, CodeDisplay, Lifetime, MAX_AUTHORIZATION_DETAILS,
    MAX_BINDING_MESSAGE, NewApproval,
};
pub use views::{ApprovalForApp, ApprovalForDevice};
pub use watch::ApprovalWatch;
