//! `assent`: the server, its admin tool, a command-line authenticator, and offline verifiers,
//! in one binary.

mod cli;
mod cmd;
mod demo;
mod mcp;
mod output;

use clap::Parser as _;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
