//! One run: start or reach the server, enroll the population, run the levels (or pending mode),
//! stop the server, and assemble the report.

use crate::calibrate::Calibration;
use crate::cli::Args;
use crate::error::BenchResult;
use crate::flows::{Plan, Slot, Watch, run_level};
use crate::http::{client, sources_for, spread_clients};
use crate::machine::Machine;
use crate::pending::{PendingPlan, run_pending};
use crate::push_endpoint::PushEndpoint;
use crate::report::{Report, ServerInfo, SetupInfo};
use crate::server::Target;
use crate::setup::{Population, populate};
use assent_core::{Clock as _, SystemClock};
use std::sync::Arc;
use std::time::Duration;

/// The reflex detector's default threshold (`risk.reflex_ms`).
const DEFAULT_REFLEX_MS: u64 = 1500;

/// Runs the benchmark the options describe and returns its report (not yet written).
pub async fn run(args: Args) -> BenchResult<Report> {
    // Refuse a database the bench cannot use before anything starts.
    crate::server::BenchDatabase::parse(args.database.as_deref())?;
    let machine = Machine::detect();
    // Before anything else runs, so the figures are the machine's alone.
    let calibration = Calibration::measure()?;
    if !args.quiet {
        println!(
            "this machine: one P-256 signature {:.0} us, one check {:.0} us; per flow the protocol's \
             signatures take {:.3} ms of server CPU and {:.3} ms of device CPU",
            calibration.p256_sign_us,
            calibration.p256_verify_us,
            calibration.server_p256_ms_per_flow,
            calibration.device_p256_ms_per_flow
        );
    }
    let started_at = assent_core::clock::rfc3339(SystemClock.now());
    let users = args.pending.unwrap_or(args.users).max(1);
    // Each user's device stream (or pending wait) holds a connection here and one in the server.
    let wanted = u64::try_from(users * 2 + 16_384)
        .unwrap_or(u64::MAX)
        .min(1 << 20);
    let open_files = crate::limits::raise_open_files(wanted);
    if open_files < wanted && !args.quiet {
        eprintln!(
            "warning: only {open_files} open files allowed (wanted {wanted}); raise `ulimit -n`"
        );
    }
    let target = Target::start(&args).await?;
    let outcome = measure(&args, &target, users).await;
    let server = server_info(&args, &target);
    let stopped = target.stop().await;
    let (setup, levels, pending) = outcome?;
    stopped?;
    Ok(Report {
        tool: concat!("assent-bench ", env!("CARGO_PKG_VERSION")).into(),
        started_at,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        machine,
        calibration,
        server,
        setup,
        levels,
        pending,
    })
}

type Measured = (
    SetupInfo,
    Vec<crate::report::Level>,
    Option<crate::report::Pending>,
);

async fn measure(args: &Args, target: &Target, users: usize) -> BenchResult<Measured> {
    let http = client(None)?;
    let push = match args.web_push {
        true => Some(PushEndpoint::start().await?),
        false => None,
    };
    let pop = Arc::new(populate(target, &http, users, push.as_ref(), args.ciba, args.quiet).await?);
    let setup = SetupInfo {
        users,
        seconds: crate::stats::round3(pop.seconds),
    };
    if let Some(count) = args.pending {
        let pending = run_pending(
            &pop,
            PendingPlan {
                count,
                concurrency: args.pending_concurrency,
                protocol: args.pending_protocol,
                streams_per_connection: args.streams_per_connection.max(1),
                server: target.process,
                same_process: target.same_process,
                quiet: args.quiet,
                hold: Duration::from_secs_f64(args.hold.max(0.0)),
            },
        )
        .await?;
        return Ok((setup, Vec::new(), Some(pending)));
    }
    let mut slots = open_streams(&pop).await?;
    let mut levels = Vec::new();
    for &concurrency in &args.conc {
        let level = run_level(
            &pop,
            &http,
            &mut slots,
            Watch {
                server: target.process,
                same_process: target.same_process,
                database_apart: target.postgres,
                push: push.as_ref(),
            },
            Plan {
                concurrency,
                warmup: Duration::from_secs_f64(args.warmup.max(0.0)),
                duration: Duration::from_secs_f64(args.duration.max(0.1)),
                quiet: args.quiet,
            },
        )
        .await?;
        if !args.quiet {
            println!("{}", crate::report::level_line(&level));
            if let Some(p) = &level.web_push {
                println!("{}", crate::report::push_line(p));
            }
        }
        levels.push(level);
    }
    Ok((setup, levels, None))
}

/// Opens every device's live stream, spread over enough source addresses.
async fn open_streams(pop: &Population) -> BenchResult<Vec<Slot>> {
    let clients = spread_clients(sources_for(pop.devices.len()))?;
    let mut slots = Vec::with_capacity(pop.devices.len());
    for (i, device) in pop.devices.iter().enumerate() {
        let client = &clients[i % clients.len()];
        slots.push((i, device.stream(client, &pop.rp.base).await?));
    }
    Ok(slots)
}

fn server_info(args: &Args, target: &Target) -> ServerInfo {
    let mut changed = Vec::new();
    if target.kind != "remote" {
        changed.push(
            "log.level = warn (access logs off: the bench measures serving, not logging)".into(),
        );
        changed.push(
            "http.max_connections = http.max_connections_per_address = 1000000 (defaults 10000 \
             and 1000): every connection comes from loopback, one device stream per user"
                .into(),
        );
        if args.web_push {
            changed.push(
                "push.allow_private_endpoints = true: every device's Web Push subscription is \
                 at the bench's own endpoint on 127.0.0.1"
                    .into(),
            );
        }
        if args.reflex_ms != DEFAULT_REFLEX_MS {
            changed.push(format!(
                "risk.reflex_ms = {} (default {DEFAULT_REFLEX_MS}): simulated devices answer within \
                 milliseconds, so every flow would raise a reflex_approval admin alert that a \
                 person's approval does not",
                args.reflex_ms
            ));
        }
    }
    let database = match (&target.data_dir, target.postgres) {
        (Some(_), true) => {
            "PostgreSQL (each commit waits for its WAL flush: synchronous_commit = on)".into()
        }
        (Some(dir), false) => format!("SQLite (WAL, synchronous = FULL) in {}", dir.display()),
        (None, _) => "the remote server's".into(),
    };
    ServerInfo {
        mode: target.kind.into(),
        url: target.base.clone(),
        database,
        changed_settings: changed,
        log_errors: target.log_errors(10),
    }
}
