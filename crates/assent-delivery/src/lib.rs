//! Delivery: signed webhooks ([`webhooks`]).

pub mod webhooks;
