//! `assent demo --story`: the whole approval story on a throwaway server, step by step: a relying party
//! asks, the device sees the full context, types the code and signs, the relying party receives
//! the outcome with a receipt that verifies offline, and the audit chain checks.

use crate::cli::DemoArgs;
use crate::cmd::CmdResult;
use assent_client::{AdminClient, DeviceClient, RpClient};
use assent_core::SystemClock;
use assent_proto::api::{ApprovalKind, CreateApproval, Geo, RequestContext};
use assent_proto::receipt::verify_receipt;
use assent_proto::statement::Decision;
use assent_server::config::{LogConfig, LogFormat};
use assent_server::{Config, Server};
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(args: DemoArgs) -> CmdResult {
    let listen = args
        .listen
        .unwrap_or(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let dir = tempfile_dir()?;
    let config = Config {
        data_dir: dir.join("data"),
        listen,
        log: LogConfig {
            level: "warn".into(),
            format: LogFormat::Text,
        },
        ..Config::default()
    };
    assent_server::logging::init(&config.log);
    let server = Server::start(config, Arc::new(SystemClock)).await?;
    let base = format!("http://{}", server.addr);
    let admin_key = server
        .new_admin_key
        .clone()
        .ok_or("the demo server has no new admin key")?;
    println!("1. Assent runs at {base}, on SQLite in {}", dir.display());

    let admin = AdminClient::new(&base, &admin_key)?;
    let app = admin.create_app("Acme Bank").await?;
    admin.create_user("alice").await?;
    println!("2. Admin created the application \"Acme Bank\" and the user alice");

    let enrollment = admin.create_enrollment("alice").await?;
    let device = DeviceClient::enroll(&enrollment.link, "Alice's terminal", "cli").await?;
    let profile = dir.join("alice-device");
    device.save(&profile)?;
    println!(
        "3. Alice's device enrolled: it generated a P-256 key, pinned the server key {} and signed the one-time code",
        device.profile().server_jwk.thumbprint()
    );

    let rp = RpClient::new(&base, &app.api_key)?;
    let request = CreateApproval {
        user: "alice".into(),
        kind: ApprovalKind::Transaction,
        binding_message: Some("Send 250.00 EUR to Bob".into()),
        authorization_details: vec![serde_json::json!({
            "type": "payment_initiation", "amount": "250.00", "currency": "EUR", "creditor": "Bob Martin",
            "iban": "FR7630006000011234567890189"
        })],
        context: Some(RequestContext {
            ip: Some("203.0.113.7".into()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
            device_id: Some("browser-42".into()),
            geo: Some(Geo {
                city: Some("Paris".into()),
                country: Some("FR".into()),
                ..Geo::default()
            }),
        }),
        expires_in: Some(120),
        user_verification: false,
        passkey_authentication: None,
    };
    let created = rp.create_approval(&request).await?;
    let code = created.display_code.clone().unwrap_or_default();
    println!(
        "4. Acme asked for approval {}; its page shows the code {code}",
        created.id
    );

    let approval = device.approval(&created.id).await?;
    println!("5. The device fetched the request over its authenticated channel and shows:\n");
    println!("{}", crate::cmd::device::describe(&approval));
    let waiter = {
        let rp = rp.clone();
        let id = created.id.clone();
        tokio::spawn(async move { rp.approval(&id, Some(30)).await })
    };
    let outcome = device
        .decide(&created.id, Decision::Approve, Some(&code))
        .await?;
    println!(
        "6. Alice typed {code} and approved; the device signed the decision: {}",
        outcome.state.as_str()
    );

    let status = waiter.await??;
    let receipt = status.receipt.clone().ok_or("no receipt")?;
    println!(
        "7. Acme's long poll returned: {} at {}",
        status.state.as_str(),
        status.decided_at.unwrap_or_default()
    );
    let jwks = assent_client::fetch_jwks(&base).await?;
    let verified = verify_receipt(&receipt, &jwks)?;
    std::fs::write(dir.join("receipt.jws"), &receipt)?;
    std::fs::write(dir.join("jwks.json"), serde_json::to_vec_pretty(&jwks)?)?;
    println!(
        "8. The receipt verifies offline with the server's JWKS and the device's own key (signed decision {:?}); saved to {}",
        verified.statement.map(|s| s.decision),
        dir.join("receipt.jws").display()
    );
    let report = admin.verify_audit().await?;
    println!(
        "9. Audit chain intact: {} ({} rows)",
        report.intact, report.rows
    );

    if args.keep {
        println!("\nThe server keeps running at {base}. Try, in another terminal:");
        println!("  ASSENT_ADMIN_KEY={admin_key} assent admin --server {base} user list");
        println!("  assent device pending --profile {}", profile.display());
        println!(
            "  assent receipt verify {} --jwks {base}",
            dir.join("receipt.jws").display()
        );
        println!("Ctrl-C stops it.");
        server.run_until_signal().await?;
    } else {
        server.shutdown().await?;
    }
    Ok(if report.intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn tempfile_dir() -> CmdResult<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("assent-demo-{}", uuid_like()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn uuid_like() -> String {
    assent_proto::jose::random_token(6).unwrap_or_else(|_| "run".into())
}
