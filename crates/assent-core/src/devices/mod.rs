//! Devices: enrolling them, authenticating their requests, what a device may do about its own
//! user's devices, their life cycle after enrollment, and the account events that reach them as
//! alerts.

pub mod activity;
pub mod auth;
mod authenticator;

pub(crate) mod enrollment;

pub use enrollment::{EnrolledDevice, EnrollmentIssued};
pub mod events;
pub mod lifecycle;
