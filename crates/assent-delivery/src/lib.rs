//! Delivery: in-process wake-ups ([`LocalNotifier`]; a multi-node deployment wraps it with a
//! PostgreSQL LISTEN/NOTIFY bridge) and signed webhooks ([`webhooks`]).

mod local;
pub mod webhooks;

pub use local::LocalNotifier;
