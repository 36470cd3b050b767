//! The Duo Auth API v2 as an adapter over Assent's approvals: integrations whose keys Duo's
//! clients sign with, and the calls those clients make (preauth, auth by push or passcode,
//! auth_status, enroll). A push becomes an ordinary approval: the same risk, policy, fatigue
//! budget, number matching, prompt, signed decision and receipt.

mod auth;
mod enroll;
mod error;
mod integrations;
mod preauth;
pub mod records;
mod txid;

pub use auth::{AuthAnswer, ClientFacts, PUSH_DETAILS_TYPE};
pub use error::DuoError;
pub use integrations::{CreatedIntegration, DuoCaller, NewDuoIntegration, SignedRequest};
pub use preauth::PreauthAnswer;
