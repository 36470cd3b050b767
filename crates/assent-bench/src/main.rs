//! `assent-bench`: see the library's documentation and docs/performance.md.

use assent_bench::cli::{Args, Internal};
use clap::Parser as _;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match dispatch(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(args: Args) -> assent_bench::BenchResult<()> {
    if let Some(Internal::Serve {
        data,
        reflex_ms,
        allow_private_push,
    }) = &args.command
    {
        return assent_bench::server::serve_child(data, *reflex_ms, *allow_private_push).await;
    }
    let name = args.name.clone().unwrap_or_else(|| default_name(&args));
    let results = args.results.clone();
    let report = assent_bench::run(args).await?;
    let (json, svg) = report.write(&results, &name)?;
    if let Some(p) = &report.pending {
        println!(
            "pending: {} created, {} completed, server RSS idle {:?} MiB, holding {:?} MiB, {:?} bytes per pending request, errors {}",
            p.created,
            p.completed,
            p.server_rss_idle_mib,
            p.server_rss_holding_mib,
            p.server_bytes_per_pending,
            p.errors.total()
        );
    }
    println!("results: {} {}", json.display(), svg.display());
    Ok(())
}

/// `flows-<time>`, `ciba-flows-<time>` or `pending-<N>-<time>`.
fn default_name(args: &assent_bench::Args) -> String {
    use assent_core::Clock as _;
    let now = assent_core::SystemClock.now();
    let stamp = format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    match args.pending {
        Some(n) => format!("pending-{n}-{stamp}"),
        None if args.ciba => format!("ciba-flows-{stamp}"),
        None => format!("flows-{stamp}"),
    }
}
