//! Assent's domain: the approval state machine, enrollment, devices, the audit chain, and the
//! ports (storage, notifier, clock) through which it reaches the outside world. Nothing here
//! speaks HTTP or SQL; the server and the stores adapt to it.

pub mod access;
pub mod approvals;
pub mod audit;
pub mod broadcasts;
pub mod ciba;
pub mod clock;
pub mod console;
pub mod devices;
pub mod duo;
pub mod error;
pub mod factors;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod groups;
pub mod ids;
pub mod measures;
pub mod model;
pub mod notifier;
pub mod outbox;
pub mod passkeys;
pub mod risk;
pub mod sealed;
pub mod secrets;
pub mod service;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use devices::auth::{AuthenticatedDevice, UnspentProof};
pub use error::{CoreError, StoreError};
pub use notifier::{Notifier, Subscription, Topic};
pub use service::{AccessSettings, Assent, CibaSettings, Principal, PushSettings, Settings};
pub use store::Store;
