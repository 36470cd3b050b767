//! Delivery: signed webhooks ([`webhooks`]), pushes to devices ([`push`]) and informational
//! e-mails ([`email`]).

pub mod email;
pub mod push;
pub mod webhooks;
