//! A typed client for Assent, used by relying parties, by the `assent` command-line tools and by
//! the integration tests: one definition of the protocol from the caller's side.

pub mod agent;
mod device;
mod error;
mod http;
mod profile;
pub mod sse;

pub use agent::{AgentClient, AgentError, AgentRequest};
pub use device::{DeviceClient, DeviceEvent};
pub use error::ClientError;
pub use http::{AdminClient, AuditExport, RpClient, fetch_jwks};
pub use profile::DeviceProfile;
