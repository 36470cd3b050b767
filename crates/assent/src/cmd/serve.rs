//! `assent serve`.

use super::CmdResult;
use crate::cli::ServeArgs;
use assent_core::SystemClock;
use assent_server::config::Overrides;
use assent_server::{Config, Server};
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(args: ServeArgs) -> CmdResult {
    let overrides = Overrides {
        data_dir: args.data,
        listen: args.listen,
    };
    let config = Config::load(args.config.as_deref(), &overrides)?;
    assent_server::logging::init(&config.log);
    let data_dir = config.data_dir.clone();
    let server = Server::start(config, Arc::new(SystemClock)).await?;
    if let Some(key) = &server.new_admin_key {
        // Printed to the terminal once, never logged. The CLI reads the copy in the data
        // directory with --data.
        println!(
            "Created the admin API key (shown once; a copy for the local CLI is in {}/admin.key):",
            data_dir.display()
        );
        println!("  {key}");
        println!("Try: assent admin --data {} user list", data_dir.display());
    }
    println!("Assent listens on http://{}", server.addr);
    server.run_until_signal().await?;
    Ok(ExitCode::SUCCESS)
}
