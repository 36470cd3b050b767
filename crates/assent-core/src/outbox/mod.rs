//! Everything that tails the audit log and sends it on: webhook deliveries to relying parties.

pub mod webhooks;
