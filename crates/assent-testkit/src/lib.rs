//! The test harness: a real Assent server, in-process, on an ephemeral port, over a real SQLite
//! file in a temporary directory, with a manual clock the test moves instead of sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_client::{AdminClient, DeviceClient, RpClient};
use assent_core::{Assent, ManualClock};
use assent_server::config::{LogConfig, LogFormat};
use assent_server::{Config, RunningServer, Server};
use std::path::PathBuf;
use std::sync::Arc;

pub mod postgres;

/// A running test server.
pub struct TestServer {
    pub base: String,
    pub admin: AdminClient,
    pub admin_key: String,
    pub clock: Arc<ManualClock>,
    pub assent: Arc<Assent>,
    pub config: Config,
    dir: tempfile::TempDir,
    server: Option<RunningServer>,
}

/// A relying party with its client and id.
#[derive(Clone)]
pub struct TestApp {
    pub id: String,
    pub api_key: String,
    pub client: RpClient,
}

impl TestServer {
    /// Starts a server with the default configuration.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server after `adjust` has changed the configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: dir.path().join("data"),
            listen: "127.0.0.1:0".parse().unwrap(),
            log: LogConfig {
                level: "warn".into(),
                format: LogFormat::Text,
            },
            ..Config::default()
        };
        adjust(&mut config);
        assent_server::logging::init(&config.log);
        let clock = Arc::new(ManualClock::starting_now());
        let server = Server::start(config.clone(), clock.clone()).await.unwrap();
        let base = format!("http://{}", server.addr);
        // A node joining a database that has an admin key finds it in the admin.key file the
        // test copied into its data directory.
        let admin_key = server.new_admin_key.clone().unwrap_or_else(|| {
            let path = config
                .data_dir
                .join(assent_server::data_dir::ADMIN_KEY_FILE);
            std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("no new admin key and no {}: {e}", path.display()))
                .trim()
                .to_owned()
        });
        let admin = AdminClient::new(&base, &admin_key).unwrap();
        let assent = server.assent.clone();
        TestServer {
            base,
            admin,
            admin_key,
            clock,
            assent,
            config,
            dir,
            server: Some(server),
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A scratch directory for device profiles and files.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The SQLite file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir().join(assent_server::data_dir::DATABASE_FILE)
    }

    /// Creates an application.
    pub async fn app(&self, name: &str) -> TestApp {
        let created = self.admin.create_app(name).await.unwrap();
        TestApp {
            id: created.app_id,
            client: RpClient::new(&self.base, &created.api_key).unwrap(),
            api_key: created.api_key,
        }
    }

    /// Creates a user.
    pub async fn user(&self, username: &str) {
        self.admin.create_user(username).await.unwrap();
    }

    /// Enrolls a new device for an existing user.
    pub async fn device(&self, username: &str, name: &str) -> DeviceClient {
        let enrollment = self.admin.create_enrollment(username).await.unwrap();
        DeviceClient::enroll(&enrollment.link, name, "test")
            .await
            .unwrap()
    }

    /// Creates a user with one enrolled device.
    pub async fn user_with_device(&self, username: &str) -> DeviceClient {
        self.user(username).await;
        self.device(username, "phone").await
    }

    /// Stops the server gracefully (its files are deleted).
    pub async fn stop(self) {
        drop(self.stop_and_keep().await);
    }

    /// Stops the server gracefully and hands over its directory, so a test can examine or
    /// tamper with the files; they are deleted when the returned value is dropped.
    pub async fn stop_and_keep(mut self) -> tempfile::TempDir {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
        self.dir
    }

    /// Stops the server gracefully and starts a new one on the same data directory (on another
    /// port, with the system clock), as restarting the process would. The directory lives as
    /// long as the returned value; the start's error is handed back for tests of refusals.
    pub async fn restart(
        self,
    ) -> (
        tempfile::TempDir,
        Result<RunningServer, assent_server::StartError>,
    ) {
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().unwrap();
        let dir = self.stop_and_keep().await;
        let started = Server::start(config, Arc::new(assent_core::SystemClock)).await;
        (dir, started)
    }
}

/// A login approval request for `user`.
pub fn login(user: &str) -> assent_proto::api::CreateApproval {
    assent_proto::api::CreateApproval {
        user: user.into(),
        binding_message: Some("Sign in to Acme".into()),
        context: Some(assent_proto::api::RequestContext {
            ip: Some("203.0.113.7".into()),
            user_agent: Some("Mozilla/5.0".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A transfer approval request for `user`.
pub fn transfer(user: &str, amount: &str) -> assent_proto::api::CreateApproval {
    assent_proto::api::CreateApproval {
        user: user.into(),
        kind: assent_proto::api::ApprovalKind::Transaction,
        binding_message: Some(format!("Send {amount} EUR to Bob")),
        authorization_details: vec![serde_json::json!({
            "type": "payment_initiation", "amount": amount, "currency": "EUR", "creditor": "Bob Martin"
        })],
        ..Default::default()
    }
}

/// Creates an approval and answers it from `device` with the displayed code; returns its id.
pub async fn approved(
    rp: &assent_client::RpClient,
    device: &DeviceClient,
    request: &assent_proto::api::CreateApproval,
) -> String {
    let created = rp.create_approval(request).await.unwrap();
    let decision = assent_proto::statement::Decision::Approve;
    device
        .decide(&created.id, decision, created.display_code.as_deref())
        .await
        .unwrap();
    created.id
}
