//! What Assent owes to others and sends off the request path: webhook deliveries to relying
//! parties (tailing the audit log) and pushes to devices and people (a durable queue).

pub mod handoff;
pub mod push_queue;
pub mod push_targets;
pub mod pushes;
pub mod webhooks;
