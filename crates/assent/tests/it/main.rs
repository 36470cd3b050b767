//! Integration tests: the real server on an ephemeral port, real HTTP, a real SQLite file, real
//! keys. One test binary (every file under tests/ would be a separate slow link).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod activity;
mod audit_export;
mod audit_tamper;
mod authenticator_api;
mod broadcasts;
mod ciba;
mod cli;
mod concurrency;
mod connections;
mod crash;
mod cross_node;
mod detectors;
mod display_codes;
mod duo;
mod exact_details;
mod factors;
mod fatigue;
mod flood;
mod flow;
mod geoip;
mod groups;
mod hashing_memory;
mod http_surface;
mod lifecycle;
mod login_duo;
mod mcp;
mod metrics;
mod native_push;
mod negative;
mod node_death;
mod nodes;
mod pg_outage;
mod problems;
mod push;
mod risk_policy;
mod rp_passkeys;
mod schemathesis;
mod secrets_in_logs;
mod state_machine;
mod streams;
mod support;
mod tls;
mod webhooks;
