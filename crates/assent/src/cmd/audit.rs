//! `assent audit verify`: checks the chain straight from the database (the SQLite file, or a
//! PostgreSQL database), and a signed checkpoint against it. `assent audit export`: the rows as
//! JSON Lines or CEF, from the database or through a server, to standard output or a syslog
//! receiver.

use super::CmdResult;
use crate::cli::AuditCommand;
use crate::output;
use assent_core::Store;
use assent_core::audit::check::verify_chain;
use assent_core::audit::checkpoint::{CHECKPOINT_TYP, Checkpoint, check_checkpoint};
use assent_core::audit::export::{
    AuditFilter, MAX_PAGE, cef_line, json_line, record_from_json_line, syslog_message,
};
use assent_core::ids::Username;
use assent_core::model::AuditRecord;
use assent_proto::api::AuditReport;
use assent_proto::jose::Parsed;
use assent_server::audit_report;
use assent_store_postgres::PostgresStore;
use assent_store_sqlite::SqliteStore;
use std::path::Path;
use std::process::ExitCode;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::io::AsyncWriteExt as _;

pub async fn run(command: AuditCommand) -> CmdResult {
    match command {
        AuditCommand::Verify {
            data,
            database,
            json,
            checkpoint,
            jwks,
        } => {
            let store = open(&data, database).await?;
            let report = audit_report(verify_chain(store.as_ref()).await?);
            let mut code = print_report(&report, json);
            if let (Some(file), Some(jwks)) = (checkpoint, jwks) {
                let claims = read_checkpoint(&file, &jwks).await?;
                match check_checkpoint(store.as_ref(), &claims).await {
                    Ok(()) => println!(
                        "checkpoint holds: row #{} {} is in the chain",
                        claims.seq, claims.hash
                    ),
                    Err(problem) => {
                        println!("checkpoint BROKEN: {problem}");
                        code = ExitCode::FAILURE;
                    }
                }
            }
            Ok(code)
        }
        AuditCommand::Export {
            format,
            after,
            since,
            until,
            kind,
            user,
            data,
            database,
            server,
            admin_key,
            syslog,
            hostname,
        } => {
            let cef = match format.as_str() {
                "jsonl" => false,
                "cef" => true,
                _ => return Err("--format is jsonl or cef".into()),
            };
            let time = |name: &str, v: Option<String>| -> CmdResult<Option<OffsetDateTime>> {
                v.map(|v| {
                    OffsetDateTime::parse(&v, &Rfc3339)
                        .map_err(|_| format!("--{name} is an RFC 3339 time").into())
                })
                .transpose()
            };
            let mut sink = Sink::open(syslog.as_deref(), hostname, cef).await?;
            let selection = Selection {
                after,
                since: time("since", since)?,
                until: time("until", until)?,
                kind,
                user,
            };
            let exported = match server {
                Some(base) => {
                    let key = admin_key.ok_or("--server needs the admin key (--admin-key)")?;
                    export_from_server(&base, &key, &selection, &mut sink).await
                }
                None => match open(&data, database).await {
                    Ok(store) => export_from_store(store.as_ref(), &selection, &mut sink).await,
                    Err(e) => Err(e),
                },
            };
            let finished = sink.finish().await;
            if let Err(e) = exported.and(finished) {
                if let Some(last) = sink.last {
                    eprintln!(
                        "stopped after {} rows; the last sent is #{last} (resume with --after {last})",
                        sink.count
                    );
                }
                return Err(e);
            }
            match sink.last {
                Some(last) => eprintln!(
                    "exported {} rows; the last is #{last} (resume with --after {last})",
                    sink.count
                ),
                None => eprintln!("exported no row"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The store of a data directory (read-only, beside a running server) or of a database.
async fn open(data: &Path, database: Option<String>) -> CmdResult<Box<dyn Store>> {
    if let Some(url) = database.filter(|url| !url.is_empty()) {
        if !assent_server::config::is_postgres_url(&url) {
            return Err("--database takes a postgres:// URL".into());
        }
        return Ok(Box::new(PostgresStore::connect(&url).await?));
    }
    let path = data.join(assent_server::data_dir::DATABASE_FILE);
    if !path.exists() {
        return Err(format!("no database at {}", path.display()).into());
    }
    Ok(Box::new(SqliteStore::open_read_only(&path)?))
}

/// A checkpoint's claims, once its signature verified against `jwks`.
async fn read_checkpoint(file: &Path, jwks: &str) -> CmdResult<Checkpoint> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let parsed = Parsed::parse(text.trim()).map_err(|e| format!("checkpoint: {e}"))?;
    if parsed.header.typ.as_deref() != Some(CHECKPOINT_TYP) {
        return Err(format!("a checkpoint has typ {CHECKPOINT_TYP}").into());
    }
    let keys = super::receipt::load_jwks(jwks).await?;
    let kid = parsed.header.kid.clone().unwrap_or_default();
    let key = keys
        .keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(kid.as_str()) || k.thumbprint() == kid)
        .ok_or("no key of the JWKS signed this checkpoint")?;
    Ok(parsed
        .verify(key)
        .map_err(|_| "the checkpoint's signature does not verify")?)
}

/// What an export selects.
struct Selection {
    after: u64,
    since: Option<OffsetDateTime>,
    until: Option<OffsetDateTime>,
    kind: Option<String>,
    user: Option<String>,
}

async fn export_from_store(store: &dyn Store, s: &Selection, sink: &mut Sink) -> CmdResult<()> {
    let user = match &s.user {
        Some(name) => Some(
            store
                .user_by_name(&Username::parse(name)?)
                .await?
                .ok_or_else(|| format!("no user named {name}"))?
                .id,
        ),
        None => None,
    };
    // Up to the head as it is now: rows written meanwhile wait for the next export.
    let head = store.audit_head().await?.unwrap_or(0);
    let mut filter = AuditFilter {
        after: s.after,
        since: s.since,
        until: s.until,
        kind: s.kind.clone(),
        user,
        ..AuditFilter::default()
    };
    loop {
        let rows = store.audit_search(&filter, MAX_PAGE).await?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            return Ok(());
        };
        for row in rows.iter().filter(|r| r.seq <= head) {
            sink.send(row).await?;
        }
        if last >= head {
            return Ok(());
        }
        filter.after = last;
    }
}

async fn export_from_server(
    base: &str,
    key: &str,
    s: &Selection,
    sink: &mut Sink,
) -> CmdResult<()> {
    let seconds = |t: &OffsetDateTime| t.unix_timestamp().to_string();
    let mut query = vec![("after", s.after.to_string())];
    query.extend(s.since.as_ref().map(|t| ("since", seconds(t))));
    query.extend(s.until.as_ref().map(|t| ("until", seconds(t))));
    query.extend(s.kind.clone().map(|k| ("kind", k)));
    query.extend(s.user.clone().map(|u| ("user", u)));
    // JSON Lines whatever the format asked: each row is rendered here, as from a database.
    let admin = assent_client::AdminClient::new(base, key)?;
    let mut export = admin.audit_export(&query).await?;
    while let Some(line) = export.next_line().await? {
        let record = record_from_json_line(&line)
            .ok_or("the server sent a line that is not an audit row")?;
        sink.send(&record).await?;
    }
    Ok(())
}

/// Where the rows go, each rendered as a line.
struct Sink {
    to: Destination,
    hostname: String,
    cef: bool,
    count: u64,
    last: Option<u64>,
}

enum Destination {
    Stdout(tokio::io::Stdout),
    /// Octet-counted framing (RFC 6587): `LENGTH SP MESSAGE`.
    Tcp(tokio::net::TcpStream),
    Udp(tokio::net::UdpSocket),
}

impl Sink {
    async fn open(syslog: Option<&str>, hostname: String, cef: bool) -> CmdResult<Sink> {
        let to = match syslog {
            None => Destination::Stdout(tokio::io::stdout()),
            Some(target) => {
                if let Some(addr) = target.strip_prefix("tcp://") {
                    Destination::Tcp(
                        tokio::net::TcpStream::connect(addr)
                            .await
                            .map_err(|e| format!("{target}: {e}"))?,
                    )
                } else if let Some(addr) = target.strip_prefix("udp://") {
                    let socket = tokio::net::UdpSocket::bind("0.0.0.0:0").await?;
                    socket
                        .connect(addr)
                        .await
                        .map_err(|e| format!("{target}: {e}"))?;
                    Destination::Udp(socket)
                } else {
                    return Err("--syslog is tcp://HOST:PORT or udp://HOST:PORT".into());
                }
            }
        };
        Ok(Sink {
            to,
            hostname,
            cef,
            count: 0,
            last: None,
        })
    }

    async fn send(&mut self, record: &AuditRecord) -> CmdResult<()> {
        let line = if self.cef {
            cef_line(record, env!("CARGO_PKG_VERSION"))
        } else {
            json_line(record)
        };
        match &mut self.to {
            Destination::Stdout(out) => {
                out.write_all(line.as_bytes()).await?;
                out.write_all(b"\n").await?;
            }
            Destination::Tcp(stream) => {
                let message = syslog_message(record, &self.hostname, &line);
                stream
                    .write_all(format!("{} {message}", message.len()).as_bytes())
                    .await?;
            }
            Destination::Udp(socket) => {
                socket
                    .send(syslog_message(record, &self.hostname, &line).as_bytes())
                    .await?;
            }
        }
        self.count += 1;
        self.last = Some(record.seq);
        Ok(())
    }

    async fn finish(&mut self) -> CmdResult<()> {
        match &mut self.to {
            Destination::Stdout(out) => out.flush().await?,
            Destination::Tcp(stream) => {
                stream.flush().await?;
                stream.shutdown().await?;
            }
            Destination::Udp(_) => {}
        }
        Ok(())
    }
}

/// Prints a report; the exit code is non-zero when the chain is damaged.
pub fn print_report(report: &AuditReport, json: bool) -> ExitCode {
    if json {
        output::json(report);
    } else if report.intact {
        println!(
            "audit chain intact: {} rows, head #{} {}",
            report.rows,
            report.head_seq.unwrap_or(0),
            report.head_hash.as_deref().unwrap_or("-")
        );
    } else {
        println!(
            "audit chain BROKEN at row {}: {}",
            report.first_bad_seq.unwrap_or(0),
            report.problem.as_deref().unwrap_or("unknown defect")
        );
    }
    if report.intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
