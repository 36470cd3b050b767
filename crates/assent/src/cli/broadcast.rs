//! `assent admin broadcast ...`: incident broadcasts from the terminal.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct BroadcastArgs {
    #[command(subcommand)]
    pub command: BroadcastCommand,
}

#[derive(Debug, Subcommand)]
pub enum BroadcastCommand {
    /// Send a notice that every recipient must acknowledge on a device: with --group to the
    /// group's members as it is now, with --everyone to every user.
    Send {
        /// 1 to 2,000 characters; line feeds allowed.
        message: String,
        #[arg(
            long,
            conflicts_with = "everyone",
            required_unless_present = "everyone"
        )]
        group: Option<String>,
        /// Send it to every user.
        #[arg(long)]
        everyone: bool,
        /// Remind those who have not acknowledged every this many seconds (300 to 604800;
        /// default 14400, 4 hours).
        #[arg(long)]
        reminder_interval: Option<u32>,
    },
    /// The most recent broadcasts with how many acknowledged each.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One broadcast: who acknowledged it, when and on which device, and who has not.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}
