//! The Assent HTTP server: configuration, start-up from a data directory, and the relying-party,
//! device and admin APIs. Handlers are thin: extract, call one [`assent_core::Assent`] operation,
//! map the result.

mod admission;
mod body_watch;
pub mod config;
mod console;
pub use console::input as console_input;
pub mod data_dir;
mod error;
mod extract;
mod file_limit;
mod http;
pub mod logging;
mod middleware;
mod parse_errors;
pub mod policy_files;
mod prometheus;
mod run;
mod serve;
pub mod tls;
mod tracked;

pub use config::Config;
pub use error::ApiError;
pub use http::{audit_report, openapi};
pub use run::{RunningServer, Server, StartError};
