//! Assent's domain: the approval state machine, enrollment, devices, the audit chain, and the
//! ports (storage, notifier, clock) through which it reaches the outside world. Nothing here
//! speaks HTTP or SQL; the server and the stores adapt to it.

pub mod audit;
pub mod clock;
pub mod error;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod geoip;
pub mod ids;
pub mod model;
pub mod notifier;
pub mod otp;
pub mod policy;
pub mod risk;
pub mod sealed;
pub mod secrets;
pub mod service;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{CoreError, StoreError};
pub use notifier::{Notifier, Subscription, Topic};
pub use service::{Assent, Principal, Settings};
pub use store::Store;
