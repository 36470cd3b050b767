//! The server under test: a child process started from this same binary (measured on its own
//! through `/proc/PID`), a server inside the bench process, or a running one at `--server`.

use crate::cli::Args;
use crate::error::BenchResult;
use crate::procstat::Proc;
use assent_core::SystemClock;
use assent_server::config::{LogConfig, LogFormat};
use assent_server::data_dir::ADMIN_KEY_FILE;
use assent_server::{Config, RunningServer, Server};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::AsyncBufReadExt as _;

/// What the child prints on its first line once it listens.
#[derive(Debug, Serialize, Deserialize)]
struct Ready {
    addr: String,
    admin_key: String,
}

/// The configuration of a server the bench starts: the defaults, on loopback port 0, logging
/// warnings only, with the reflex detector set as asked, on SQLite in `data_dir` or on the
/// PostgreSQL database `postgres` names; push endpoints on private addresses allowed when
/// `allow_private_push` (the bench's own endpoint listens on loopback).
pub fn bench_config(
    data_dir: &Path,
    postgres: Option<&str>,
    reflex_ms: u64,
    allow_private_push: bool,
) -> BenchResult<Config> {
    let mut config = Config {
        data_dir: data_dir.to_path_buf(),
        database: assent_server::config::DatabaseUrl(postgres.unwrap_or_default().to_owned()),
        listen: "127.0.0.1:0".parse()?,
        log: LogConfig {
            level: "warn".into(),
            format: LogFormat::Text,
        },
        ..Config::default()
    };
    config.risk.reflex_ms = reflex_ms;
    config.push.allow_private_endpoints = allow_private_push;
    // Every simulated device and relying party connects from loopback, one stream per user:
    // the caps that stop one address from holding the server would refuse the run itself.
    config.http.max_connections = 1_000_000;
    config.http.max_connections_per_address = 1_000_000;
    config.validate()?;
    Ok(config)
}

/// The admin key of a data directory: new on first start, else the copy the server keeps.
fn admin_key(server: &RunningServer, data_dir: &Path) -> BenchResult<String> {
    match &server.new_admin_key {
        Some(key) => Ok(key.clone()),
        None => match std::fs::read_to_string(data_dir.join(ADMIN_KEY_FILE)) {
            Ok(key) => Ok(key.trim().to_owned()),
            Err(_) => Err(
                "the database already has an admin key, which this run cannot read: \
                           give the bench a fresh database (or schema)"
                    .into(),
            ),
        },
    }
}

/// The hidden `serve` command: runs the server until SIGTERM, after printing where it listens.
pub async fn serve_child(data: &Path, reflex_ms: u64, allow_private_push: bool) -> BenchResult<()> {
    let postgres = std::env::var(CHILD_DATABASE_VAR).ok();
    let config = bench_config(data, postgres.as_deref(), reflex_ms, allow_private_push)?;
    assent_server::logging::init(&config.log);
    let server = Server::start(config, Arc::new(SystemClock)).await?;
    let ready = Ready {
        addr: server.addr.to_string(),
        admin_key: admin_key(&server, data)?,
    };
    println!("{}", serde_json::to_string(&ready)?);
    server.run_until_signal().await?;
    Ok(())
}

/// The environment variable that hands a PostgreSQL URL to the server child (not its command
/// line, which any local user may read in /proc).
const CHILD_DATABASE_VAR: &str = "ASSENT_DATABASE";

/// The database `--database` names.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchDatabase {
    /// SQLite in this data directory, or in a fresh temporary one.
    Sqlite(Option<PathBuf>),
    /// A PostgreSQL database by URL (the server's keys go to a fresh temporary directory).
    Postgres(String),
}

impl BenchDatabase {
    /// Parses `--database`: a SQLite data directory, a path to its `assent.db`, `sqlite:PATH`,
    /// or a `postgres://` URL.
    pub fn parse(database: Option<&str>) -> BenchResult<Self> {
        match database {
            Some(url) if assent_server::config::is_postgres_url(url) => {
                Ok(BenchDatabase::Postgres(url.to_owned()))
            }
            other => Ok(BenchDatabase::Sqlite(database_dir(other)?)),
        }
    }
}

/// The data directory a SQLite `--database` names.
fn database_dir(database: Option<&str>) -> BenchResult<Option<PathBuf>> {
    let Some(database) = database else {
        return Ok(None);
    };
    let path = database
        .strip_prefix("sqlite://")
        .or_else(|| database.strip_prefix("sqlite:"))
        .unwrap_or(database);
    if path.is_empty() || path.contains("://") {
        return Err(format!("--database {database}: not a SQLite path").into());
    }
    let path = PathBuf::from(path);
    // The server names its file `assent.db` inside its data directory.
    if path.file_name().is_some_and(|n| n == "assent.db") {
        return Ok(path.parent().map(Path::to_path_buf));
    }
    Ok(Some(path))
}

enum Handle {
    Child(tokio::process::Child),
    InProcess(RunningServer),
    Remote,
}

/// Where the load goes, and how to watch the server.
pub struct Target {
    /// Base URL requests go to.
    pub base: String,
    pub admin_key: String,
    /// The server process, when it can be observed.
    pub process: Option<Proc>,
    /// The server shares the bench's process (CPU and memory are then mixed).
    pub same_process: bool,
    /// `child`, `in-process` or `remote`.
    pub kind: &'static str,
    /// The data directory of a started server.
    pub data_dir: Option<PathBuf>,
    /// The started server keeps its state in PostgreSQL.
    pub postgres: bool,
    handle: Handle,
    _temporary: Option<tempfile::TempDir>,
}

impl Target {
    /// Starts or reaches the server the options name.
    pub async fn start(args: &Args) -> BenchResult<Self> {
        if let Some(url) = &args.server {
            if args.database.is_some() {
                return Err(
                    "--database applies to a server the bench starts, not to --server".into(),
                );
            }
            let admin_key = args
                .admin_key
                .clone()
                .ok_or("--server needs the server's admin key: --admin-key or ASSENT_ADMIN_KEY")?;
            return Ok(Target {
                base: url.trim_end_matches('/').to_owned(),
                admin_key,
                process: args.server_pid.map(Proc),
                same_process: false,
                kind: "remote",
                data_dir: None,
                postgres: false,
                handle: Handle::Remote,
                _temporary: None,
            });
        }
        let database = BenchDatabase::parse(args.database.as_deref())?;
        let postgres = match &database {
            BenchDatabase::Postgres(url) => Some(url.as_str()),
            BenchDatabase::Sqlite(_) => None,
        };
        let (data_dir, temporary) = match &database {
            BenchDatabase::Sqlite(Some(dir)) => (dir.clone(), None),
            BenchDatabase::Sqlite(None) | BenchDatabase::Postgres(_) => {
                let temp = tempfile::Builder::new().prefix("assent-bench-").tempdir()?;
                (temp.path().join("data"), Some(temp))
            }
        };
        std::fs::create_dir_all(&data_dir)?;
        if args.in_process {
            let config = bench_config(&data_dir, postgres, args.reflex_ms, args.web_push)?;
            assent_server::logging::init(&config.log);
            let server = Server::start(config, Arc::new(SystemClock)).await?;
            return Ok(Target {
                base: format!("http://{}", server.addr),
                admin_key: admin_key(&server, &data_dir)?,
                process: Some(Proc::current()),
                same_process: true,
                kind: "in-process",
                data_dir: Some(data_dir),
                postgres: postgres.is_some(),
                handle: Handle::InProcess(server),
                _temporary: temporary,
            });
        }
        let log = std::fs::File::create(data_dir.join("server.log"))?;
        let mut command = tokio::process::Command::new(std::env::current_exe()?);
        match postgres {
            Some(url) => command.env(CHILD_DATABASE_VAR, url),
            None => command.env_remove(CHILD_DATABASE_VAR),
        };
        command
            .arg("serve")
            .arg("--data")
            .arg(&data_dir)
            .arg("--reflex-ms")
            .arg(args.reflex_ms.to_string());
        if args.web_push {
            command.arg("--allow-private-push");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().ok_or("the server child has no process id")?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the server child has no stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let first = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
            .await
            .map_err(|_| "the server child did not start within 60 s")??;
        let Some(first) = first else {
            let log = std::fs::read_to_string(data_dir.join("server.log")).unwrap_or_default();
            return Err(format!("the server child exited: {log}").into());
        };
        let ready: Ready = serde_json::from_str(&first)?;
        Ok(Target {
            base: format!("http://{}", ready.addr),
            admin_key: ready.admin_key,
            process: Some(Proc(pid)),
            same_process: false,
            kind: "child",
            data_dir: Some(data_dir),
            postgres: postgres.is_some(),
            handle: Handle::Child(child),
            _temporary: temporary,
        })
    }

    /// The first error lines of a started child's log (the server explains its 500s there).
    pub fn log_errors(&self, most: usize) -> Vec<String> {
        let Some(dir) = &self.data_dir else {
            return Vec::new();
        };
        std::fs::read_to_string(dir.join("server.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("ERROR"))
            .take(most)
            .map(str::to_owned)
            .collect()
    }

    /// Stops a server the bench started (gracefully: SIGTERM to the child it spawned).
    pub async fn stop(self) -> BenchResult<()> {
        match self.handle {
            Handle::Child(mut child) => {
                if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok())
                    && let Some(pid) = rustix::process::Pid::from_raw(pid)
                {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
                }
                match tokio::time::timeout(std::time::Duration::from_secs(30), child.wait()).await {
                    Ok(status) => {
                        status?;
                    }
                    Err(_) => child.kill().await?,
                }
            }
            Handle::InProcess(server) => server.shutdown().await?,
            Handle::Remote => {}
        }
        Ok(())
    }
}
