//! Delivery: signed webhooks ([`webhooks`]), pushes to devices ([`push`]) and informational
//! e-mails ([`email`]).

pub mod ciba_notify;
pub mod email;
pub mod push;
pub mod webhooks;
