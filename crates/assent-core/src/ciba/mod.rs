//! OpenID Connect CIBA (Client-Initiated Backchannel Authentication Core 1.0) as a workflow over
//! Assent's approvals: registered clients (agents among them) start a backchannel request, which
//! becomes an ordinary approval (same risk, policy, fatigue budget, prompt, signed decision and
//! receipt), and collect its outcome as an ID token and an access token scoped to exactly what
//! was approved.

mod clients;
mod error;
mod grants;
mod mint;
mod notify;
pub mod records;
mod start;
mod token;

pub use clients::{AuthenticatedClient, NewAgent, NewCibaClient, RegisteredClient};
pub use error::CibaError;
pub use mint::{IssuedTokens, TokenBinding};
pub use notify::ClientNotification;
pub use start::{ACR_DEVICE, ACR_POLICY, ACR_USER_VERIFICATION, StartBackchannel, Started};
