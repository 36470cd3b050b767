//! `assent demo`: Assent and a demo relying party, Acme Bank, on a throwaway database, with two
//! demo users and their enrollment links; or, with `--story`, one approval end to end in the
//! terminal.

mod acme;
mod story;

use crate::cli::DemoArgs;
use crate::cmd::CmdResult;
use assent_client::AdminClient;
use assent_core::SystemClock;
use assent_server::config::{LogConfig, LogFormat};
use assent_server::{Config, Server};
use std::process::ExitCode;
use std::sync::Arc;

/// The demo's people: username and password. carol and dave are Acme's admins (group
/// `acme-admins`): two of them must approve an admin elevation.
pub const DEMO_USERS: &[(&str, &str)] = &[
    ("alice", "wonderland"),
    ("bob", "builder"),
    ("carol", "checker"),
    ("dave", "verifier"),
];

/// The demo users who approve admin elevations.
const DEMO_ADMINS: &[&str] = &["carol", "dave"];

/// The demo user who may sign in to Assent's own admin console (group `admins`).
const CONSOLE_ADMIN: &str = "carol";

pub async fn run(args: DemoArgs) -> CmdResult {
    if args.story {
        return story::run(args).await;
    }
    let data_dir = match &args.data {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!(
            "assent-demo-{}",
            assent_proto::jose::random_token(6)?
        )),
    };
    let listen = args
        .listen
        .unwrap_or(std::net::SocketAddr::from(([127, 0, 0, 1], 8700)));
    // Bind first, so the public URL can name the real port when port 0 was asked for.
    let probe = std::net::TcpListener::bind(listen)?;
    let listen = probe.local_addr()?;
    drop(probe);
    let config = Config {
        data_dir: data_dir.clone(),
        listen,
        // localhost, not 127.0.0.1: WebAuthn needs a domain name as relying-party id.
        public_url: format!("http://localhost:{}", listen.port()),
        log: LogConfig {
            level: "warn".into(),
            format: LogFormat::Text,
        },
        ..Config::default()
    };
    assent_server::logging::init(&config.log);
    let public_url = config.public_url();
    let console_group = config.console.admin_group.clone();
    let server = Server::start(config, Arc::new(SystemClock)).await?;
    let admin_key = match server.new_admin_key.clone() {
        Some(key) => key,
        None => assent_server::data_dir::read_admin_key(&data_dir)?,
    };
    let admin = AdminClient::new(&format!("http://{}", server.addr), &admin_key)?;
    // An API key is shown only once, so a reused data directory gets a fresh application.
    let app = match admin.create_app("Acme Bank").await {
        Ok(app) => app,
        Err(_) => {
            let suffix = assent_proto::jose::random_token(3)?;
            admin.create_app(&format!("Acme Bank ({suffix})")).await?
        }
    };
    let mut users = serde_json::Map::new();
    for (name, password) in DEMO_USERS {
        if admin.create_user(name).await.is_err() {
            // A reused data directory already has the user.
        }
        let link = admin.create_enrollment(name).await?.link;
        users.insert(
            (*name).into(),
            serde_json::json!({"password": password, "enrollment_link": link}),
        );
    }
    if admin.create_group(acme::ADMIN_GROUP).await.is_err() {
        // A reused data directory already has the group.
    }
    for name in DEMO_ADMINS {
        admin.add_group_member(acme::ADMIN_GROUP, name).await?;
    }
    if admin.create_group(&console_group).await.is_err() {
        // A reused data directory already has the group.
    }
    admin
        .add_group_member(&console_group, CONSOLE_ADMIN)
        .await?;
    let acme = acme::start(args.acme_listen, &public_url, &app.api_key).await?;
    let acme_url = format!("http://localhost:{}", acme.port());

    println!("Assent demo");
    println!("  Acme Bank (the relying party): {acme_url}");
    println!("  Assent web authenticator:      {public_url}/app/");
    println!(
        "  Assent admin console:          {public_url}/admin/ (as {CONSOLE_ADMIN}, approving on her authenticator)"
    );
    println!("  Data directory:                {}", data_dir.display());
    println!();
    for (name, password) in DEMO_USERS {
        let link = users[*name]["enrollment_link"].as_str().unwrap_or_default();
        println!(
            "  {name} (password {password}): open this link in a browser to enroll it as {name}'s authenticator:"
        );
        println!("    {link}");
    }
    println!();
    println!(
        "Then sign in at {acme_url} in another browser window, and answer on the authenticator."
    );
    println!(
        "carol and dave are Acme's admins: \"Request admin access\" at Acme needs both of them to approve."
    );
    println!("Ctrl-C stops the demo.");
    if let Some(path) = &args.info_file {
        let info = serde_json::json!({
            "assent_url": public_url,
            "acme_url": acme_url,
            "console_url": format!("{public_url}/admin/"),
            "admin_key": admin_key,
            "data_dir": data_dir,
            "database": data_dir.join(assent_server::data_dir::DATABASE_FILE),
            "users": users,
        });
        // It holds the admin key: owner-only, like the data directory's own copy.
        let _ = std::fs::remove_file(path);
        assent_server::data_dir::write_private(path, &serde_json::to_vec_pretty(&info)?)?;
    }
    server.run_until_signal().await?;
    acme.abort();
    Ok(ExitCode::SUCCESS)
}
