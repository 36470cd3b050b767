//! `assent audit verify`: checks the chain straight from the database (the SQLite file, or a
//! PostgreSQL database).

use super::CmdResult;
use crate::cli::AuditCommand;
use crate::output;
use assent_core::audit::check::verify_chain;
use assent_proto::api::AuditReport;
use assent_server::audit_report;
use assent_store_postgres::PostgresStore;
use assent_store_sqlite::SqliteStore;
use std::process::ExitCode;

pub async fn run(command: AuditCommand) -> CmdResult {
    let AuditCommand::Verify {
        data,
        database,
        json,
    } = command;
    if let Some(url) = database.filter(|url| !url.is_empty()) {
        if !assent_server::config::is_postgres_url(&url) {
            return Err("--database takes a postgres:// URL".into());
        }
        let store = PostgresStore::connect(&url).await?;
        let report = audit_report(verify_chain(&store).await?);
        store.close().await;
        return Ok(print_report(&report, json));
    }
    let path = data.join(assent_server::data_dir::DATABASE_FILE);
    if !path.exists() {
        return Err(format!("no database at {}", path.display()).into());
    }
    // Read-only: the check runs beside a server that owns the database.
    let store = SqliteStore::open_read_only(&path)?;
    let report = audit_report(verify_chain(&store).await?);
    Ok(print_report(&report, json))
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
