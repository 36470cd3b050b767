//! One module per command group.

mod access;
mod admin;
mod audit;
mod broadcast;
pub mod device;
mod mcp;
mod policy;
pub(crate) mod receipt;
mod serve;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

/// Errors of commands are printed once, by `main`.
pub type CmdResult<T = ExitCode> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub async fn run(cli: Cli) -> CmdResult {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Admin(args) => admin::run(args).await,
        Command::Device { command } => device::run(command).await,
        Command::Audit { command } => audit::run(command).await,
        Command::Receipt { command } => receipt::run(command).await,
        Command::Policy { command } => policy::run(command),
        Command::Mcp(args) => mcp::run(args).await,
        Command::Openapi => {
            crate::output::json(&assent_server::openapi());
            Ok(ExitCode::SUCCESS)
        }
    }
}
