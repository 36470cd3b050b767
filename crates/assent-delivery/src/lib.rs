//! Delivery of wake-ups and, later, pushes. [`LocalNotifier`] wakes waiters inside one process;
//! a multi-node deployment wraps it with a PostgreSQL LISTEN/NOTIFY bridge.

mod local;

pub use local::LocalNotifier;
