//! Delivery: signed webhooks ([`webhooks`]) and pushes to devices ([`push`]).

pub mod push;
pub mod webhooks;
