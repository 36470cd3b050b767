//! Command-line options.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Load benchmark of Assent: complete approval flows over real HTTP on loopback.
#[derive(Debug, Clone, Parser)]
#[command(name = "assent-bench", version)]
pub struct Args {
    /// Target a running server at this URL instead of starting one (needs --admin-key).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,

    /// The target server's admin API key.
    #[arg(long, env = "ASSENT_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,

    /// With --server: the server's process id, so its CPU and memory are measured.
    #[arg(long, value_name = "PID", requires = "server")]
    pub server_pid: Option<u32>,

    /// The database of the started server: a SQLite data directory, a path to its `assent.db`,
    /// `sqlite:PATH`, or a `postgres://` URL (a database, or a schema through
    /// `options=-c search_path=...`, that no earlier run used). Default: SQLite in a fresh
    /// temporary directory.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,

    /// Run the server inside the bench process (its CPU and memory then include the load
    /// generator's); by default it runs as a child process measured on its own.
    #[arg(long, conflicts_with = "server")]
    pub in_process: bool,

    /// Users, each with one enrolled simulated device (flow mode); split among the workers,
    /// each user has at most one request at a time.
    #[arg(long, default_value_t = 2048)]
    pub users: usize,

    /// Concurrent relying-party workers, one level after another: `1,8,32,64`.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,64")]
    pub conc: Vec<usize>,

    /// Seconds measured per concurrency level.
    #[arg(long, default_value_t = 15.0)]
    pub duration: f64,

    /// Seconds of load before each level's measurement starts.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,

    /// Instead of flows: create this many approvals, hold a relying-party long poll open on
    /// each, measure the server's memory, then answer every one and check each wait completes.
    #[arg(long, value_name = "N")]
    pub pending: Option<usize>,

    /// How the pending waits reach the server: `http2` multiplexes them as streams over few
    /// connections (as a relying party's pool would); `http1` opens one connection per wait.
    #[arg(long, value_enum, default_value_t = WaitProtocol::Http2)]
    pub pending_protocol: WaitProtocol,

    /// With `http2`: waits carried by one connection (at most the server's
    /// `http.http2_max_concurrent_streams`, 1000 by default).
    #[arg(long, default_value_t = 900)]
    pub streams_per_connection: usize,

    /// Requests in flight while creating pending approvals and while answering them.
    #[arg(long, default_value_t = 64)]
    pub pending_concurrency: usize,

    /// Seconds every pending wait is held open before the server's memory is read.
    #[arg(long, default_value_t = 5.0)]
    pub hold: f64,

    /// The started server's `risk.reflex_ms`. Simulated devices answer within milliseconds,
    /// which the reflex detector (default 1500) would report on every flow; 0 turns it off.
    #[arg(long, default_value_t = 0)]
    pub reflex_ms: u64,

    /// Give every simulated device a Web Push subscription at an endpoint inside the bench (on
    /// 127.0.0.1, accepting every push with 201), so each request is also pushed; each level then
    /// reports the pushes received, create-to-push latency and the server's CPU per push. The
    /// started server gets `push.allow_private_endpoints = true`; a server given with --server
    /// must run on this machine with that setting.
    #[arg(long, conflicts_with = "pending")]
    pub web_push: bool,

    /// Run each flow over OpenID CIBA (poll mode, client_secret_basic): a backchannel request
    /// instead of `POST /v1/approvals`, and one token request, once the device's answer was
    /// accepted, instead of the long poll.
    #[arg(long, conflicts_with = "pending")]
    pub ciba: bool,

    /// Where the JSON and SVG results go.
    #[arg(long, default_value = "bench/results")]
    pub results: PathBuf,

    /// File name (without extension) of the results; default from the mode and the time.
    #[arg(long)]
    pub name: Option<String>,

    /// No progress bars (for logs and tests).
    #[arg(long)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Option<Internal>,
}

/// Commands the bench runs on itself.
#[derive(Debug, Clone, Subcommand)]
pub enum Internal {
    /// Runs the server as the bench's child process (started by the bench, not by hand).
    #[command(hide = true)]
    Serve {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 0)]
        reflex_ms: u64,
        /// `push.allow_private_endpoints = true` (the bench's own push endpoint is on loopback).
        #[arg(long)]
        allow_private_push: bool,
    },
}

/// The HTTP version pending waits use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WaitProtocol {
    Http1,
    Http2,
}
