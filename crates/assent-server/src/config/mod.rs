//! Configuration: built-in defaults, then a TOML file, then `ASSENT_` environment variables
//! (`__` separates nesting: `ASSENT_HTTP__BODY_LIMIT_BYTES`), then command-line flags. Unknown
//! keys are errors, so a typo never silently leaves a default in force. Every key, its default
//! and its variable are listed in `docs/assent.reference.toml`.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Environment variables with the `ASSENT_` prefix that belong to the command-line tools, not to
/// the server configuration (`ASSENT_LOG` is the conventional shorthand for `log.level`).
mod console;
mod push;
mod sections;

pub use console::ConsoleConfig;
pub use push::{ApnsConfig, EmailConfig, FcmConfig, PushConfig};
pub use sections::*;

const CLI_VARIABLES: &[&str] = &["admin_key", "server", "profile", "config", "log"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the database, the server key and the admin key file live.
    pub data_dir: PathBuf,
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Public base URL (scheme, host, port, optional path) as devices reach the server; empty
    /// means `http://localhost:<port>` on a loopback address, `http://<listen>` otherwise.
    pub public_url: String,
    /// The data key sealing stored secrets (TOTP seeds, webhook secrets): empty means
    /// `<data_dir>/data-key`, created on first start; a path means that file (32 bytes, kept
    /// elsewhere than the database), which must exist.
    pub data_key_file: String,
    /// Where the state lives: empty for SQLite in `data_dir`, or a `postgres://` URL shared by
    /// several nodes.
    pub database: DatabaseUrl,
    pub log: LogConfig,
    pub http: HttpConfig,
    pub approvals: ApprovalConfig,
    pub enrollment: EnrollmentConfig,
    pub devices: DeviceConfig,
    pub factors: FactorConfig,
    pub fatigue: FatigueConfig,
    pub webhooks: WebhookConfig,
    pub push: PushConfig,
    pub email: EmailConfig,
    pub policy: PolicyConfig,
    pub risk: RiskConfig,
    pub ciba: CibaConfig,
    pub access: AccessConfig,
    pub metrics: MetricsConfig,
    pub console: ConsoleConfig,
    pub tls: TlsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./assent-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8700)),
            public_url: String::new(),
            data_key_file: String::new(),
            database: DatabaseUrl::default(),
            log: LogConfig::default(),
            http: HttpConfig::default(),
            approvals: ApprovalConfig::default(),
            enrollment: EnrollmentConfig::default(),
            devices: DeviceConfig::default(),
            factors: FactorConfig::default(),
            fatigue: FatigueConfig::default(),
            webhooks: WebhookConfig::default(),
            push: PushConfig::default(),
            email: EmailConfig::default(),
            policy: PolicyConfig::default(),
            risk: RiskConfig::default(),
            ciba: CibaConfig::default(),
            access: AccessConfig::default(),
            metrics: MetricsConfig::default(),
            console: ConsoleConfig::default(),
            tls: TlsConfig::default(),
        }
    }
}

/// Values given on the command line, which override everything else.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
}

/// A configuration that could not be loaded, with what to fix.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Loads defaults, the file (if any), the environment and the overrides, then validates.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError(format!(
                    "the file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let env = Env::prefixed("ASSENT_").split("__").filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            !CLI_VARIABLES.contains(&key.as_str()) && !key.starts_with("test_")
        });
        let mut figment = figment.merge(env);
        if let Ok(level) = std::env::var("ASSENT_LOG") {
            figment = figment.merge(Serialized::default("log.level", level));
        }
        let config: Config = figment
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads a configuration file's text over the defaults, then validates, ignoring the
    /// environment: how `load` reads the file, for tools and the `config` fuzz target.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(text))
            .extract()
            .map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |m: String| Err(ConfigError(m));
        if !(4..=10).contains(&self.approvals.code_length) {
            return fail("approvals.code_length must be between 4 and 10".into());
        }
        if self.approvals.max_ttl_secs == 0 || self.approvals.max_ttl_secs > 600 {
            return fail("approvals.max_ttl_secs must be between 1 and 600".into());
        }
        if self.approvals.default_ttl_secs == 0
            || self.approvals.default_ttl_secs > self.approvals.max_ttl_secs
        {
            return fail(
                "approvals.default_ttl_secs must be between 1 and approvals.max_ttl_secs".into(),
            );
        }
        if !(self.risk.max_travel_kmh.is_finite() && self.risk.max_travel_kmh > 0.0) {
            return fail("risk.max_travel_kmh must be a positive number".into());
        }
        if self.fatigue.suspension_secs > 86_400 {
            return fail("fatigue.suspension_secs is at most 86400 (one day)".into());
        }
        if self.fatigue.prompt_budget == 0 {
            return fail("fatigue.prompt_budget must be at least 1".into());
        }
        if self.fatigue.budget_window_secs == 0 || self.fatigue.suspension_secs == 0 {
            return fail(
                "fatigue.budget_window_secs and fatigue.suspension_secs must be at least 1".into(),
            );
        }
        if let Some(problem) = self
            .push
            .problem()
            .or_else(|| self.email.problem())
            .or_else(|| self.ciba.problem())
            .or_else(|| self.access.problem())
            .or_else(|| self.metrics.problem())
            .or_else(|| self.console.problem())
            .or_else(|| {
                (self.console.sign_in_ttl_secs > self.approvals.max_ttl_secs).then(|| {
                    "console.sign_in_ttl_secs is at most approvals.max_ttl_secs: the sign-in push is a request like any other".into()
                })
            })
            .or_else(|| self.tls.problem())
        {
            return fail(problem);
        }
        if self.http.body_limit_bytes < 1024 {
            return fail("http.body_limit_bytes must be at least 1024".into());
        }
        if self.http.request_timeout_secs == 0 {
            return fail("http.request_timeout_secs must be at least 1".into());
        }
        if !self.database.0.is_empty() && !is_postgres_url(&self.database.0) {
            return fail("database must be empty (SQLite in data_dir) or a postgres:// URL".into());
        }
        if self.http.header_read_timeout_secs == 0 || self.http.header_read_timeout_secs > 300 {
            return fail("http.header_read_timeout_secs must be between 1 and 300".into());
        }
        if let Some(problem) = self.http.connection_problem() {
            return fail(problem);
        }
        if !(1..=10_000).contains(&self.http.http2_max_concurrent_streams) {
            return fail("http.http2_max_concurrent_streams must be between 1 and 10000".into());
        }
        if self.enrollment.ttl_secs == 0 || self.enrollment.ttl_secs > 7 * 24 * 3600 {
            return fail("enrollment.ttl_secs must be between 1 and 604800 (7 days)".into());
        }
        for method in &self.enrollment.trusted_registration {
            if !matches!(method.as_str(), "device_approval" | "recovery_code") {
                return fail(format!(
                    "enrollment.trusted_registration: {method:?} is not one of \"device_approval\", \"recovery_code\""
                ));
            }
        }
        if self.factors.max_attempts == 0 || self.factors.max_attempts > 100 {
            return fail("factors.max_attempts must be between 1 and 100".into());
        }
        if self.factors.attempt_window_secs == 0 || self.factors.attempt_window_secs > 86_400 {
            return fail("factors.attempt_window_secs must be between 1 and 86400".into());
        }
        if !(1..=50).contains(&self.factors.recovery_codes) {
            return fail("factors.recovery_codes must be between 1 and 50".into());
        }
        let issuer = &self.factors.totp_issuer;
        if issuer.is_empty() || issuer.len() > 64 || issuer.contains(':') {
            return fail("factors.totp_issuer is 1 to 64 characters without ':'".into());
        }
        if !self.public_url.is_empty() {
            let url = url::Url::parse(&self.public_url)
                .map_err(|e| ConfigError(format!("public_url is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https")
                || url.query().is_some()
                || url.fragment().is_some()
            {
                return fail("public_url must be an http(s) URL without query or fragment".into());
            }
        }
        Ok(())
    }

    /// The public base URL without a trailing slash. Unset, it is `http://localhost:<port>` for a
    /// loopback address (passkeys need a host name, not an IP address) and `http://<listen>`
    /// otherwise.
    pub fn public_url(&self) -> String {
        if !self.public_url.is_empty() {
            return self.public_url.trim_end_matches('/').to_owned();
        }
        let loopback: [std::net::IpAddr; 2] = [
            std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::Ipv6Addr::LOCALHOST.into(),
        ];
        let scheme = if self.tls.files().is_some() {
            "https"
        } else {
            "http"
        };
        if loopback.contains(&self.listen.ip()) {
            format!("{scheme}://localhost:{}", self.listen.port())
        } else {
            format!("{scheme}://{}", self.listen)
        }
    }

    /// Where the policy and the risk lists are read from.
    pub fn policy_sources(&self) -> crate::policy_files::PolicySources {
        let path = |p: &str| (!p.is_empty()).then(|| std::path::PathBuf::from(p));
        crate::policy_files::PolicySources {
            policy_file: path(&self.policy.file),
            deny_list_file: path(&self.risk.deny_list_file),
            tor_exit_file: path(&self.risk.tor_exit_file),
            geoip_file: path(&self.risk.geoip_file),
        }
    }

    /// The domain settings this configuration implies.
    pub fn settings(&self) -> assent_core::Settings {
        use assent_core::clock::seconds;
        assent_core::Settings {
            public_url: self.public_url(),
            default_ttl: seconds(self.approvals.default_ttl_secs),
            max_ttl: seconds(self.approvals.max_ttl_secs),
            number_matching: self.approvals.number_matching,
            code_length: self.approvals.code_length,
            enrollment_ttl: seconds(self.enrollment.ttl_secs),
            max_clock_skew: seconds(self.devices.max_clock_skew_secs),
            supersede_pending: self.fatigue.supersede_pending,
            prompt_budget: self.fatigue.prompt_budget,
            budget_window: seconds(self.fatigue.budget_window_secs),
            suspension: seconds(self.fatigue.suspension_secs),
            max_travel_kmh: self.risk.max_travel_kmh,
            reflex_threshold: time::Duration::milliseconds(
                i64::try_from(self.risk.reflex_ms).unwrap_or(i64::MAX),
            ),
            registration: assent_core::service::RegistrationRules {
                device_approval: self.registration_accepts("device_approval"),
                recovery_code: self.registration_accepts("recovery_code"),
            },
            totp_issuer: self.factors.totp_issuer.clone(),
            max_attempts: self.factors.max_attempts,
            attempt_window: seconds(self.factors.attempt_window_secs),
            recovery_codes: self.factors.recovery_codes,
            push: assent_core::PushSettings {
                channels: self.push_channels(),
                allow_private_endpoints: self.push.allow_private_endpoints,
                lease: seconds(self.push.lease_secs),
                admin_emails: self.email.admin_recipients.clone(),
            },
            ciba: self.ciba.settings(),
            access: self.access.settings(),
            console: self.console.settings(),
        }
    }

    /// The channels this server sends on: Web Push always, the others once configured.
    fn push_channels(&self) -> Vec<assent_core::outbox::pushes::PushChannel> {
        use assent_core::outbox::pushes::PushChannel;
        let mut channels = vec![PushChannel::WebPush];
        if !self.push.apns.key_file.is_empty() {
            channels.push(PushChannel::Apns);
        }
        if !self.push.fcm.service_account_file.is_empty() {
            channels.push(PushChannel::Fcm);
        }
        if !self.email.host.is_empty() {
            channels.push(PushChannel::Email);
        }
        channels
    }

    fn registration_accepts(&self, method: &str) -> bool {
        self.enrollment
            .trusted_registration
            .iter()
            .any(|m| m == method)
    }

    /// The data key file: the configured one, or the one in the data directory.
    pub fn data_key_path(&self) -> Option<PathBuf> {
        (!self.data_key_file.is_empty()).then(|| PathBuf::from(&self.data_key_file))
    }

    /// The store this configuration names.
    pub fn database(&self) -> Database<'_> {
        if self.database.0.is_empty() {
            Database::Sqlite(self.data_dir.join(crate::data_dir::DATABASE_FILE))
        } else {
            Database::Postgres(&self.database.0)
        }
    }
}

/// A database URL. Its `Debug` form hides everything after the scheme, so a configuration
/// printed while debugging never shows a password.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.split_once("://") {
            Some((scheme, _)) => write!(f, "\"{scheme}://…\""),
            None if self.0.is_empty() => f.write_str("\"\""),
            None => f.write_str("\"…\""),
        }
    }
}

/// Where a server keeps its state.
#[derive(Debug, Clone, PartialEq)]
pub enum Database<'a> {
    /// The embedded SQLite file (one node).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL (one or several nodes).
    Postgres(&'a str),
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_path() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/assent.reference.toml")
    }

    #[test]
    fn reference_config_lists_every_key_with_its_default() {
        let path = reference_path();
        let parsed: Config = Figment::from(Toml::file_exact(&path)).extract().unwrap();
        assert_eq!(
            parsed,
            Config::default(),
            "docs/assent.reference.toml must show the defaults"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let defaults = serde_json::to_value(Config::default()).unwrap();
        for (section, value) in defaults.as_object().unwrap() {
            let keys: Vec<String> = match value.as_object() {
                Some(table) => {
                    assert!(
                        text.contains(&format!("[{section}]")),
                        "[{section}] missing"
                    );
                    table.keys().map(|k| format!("{section}__{k}")).collect()
                }
                None => vec![section.clone()],
            };
            for key in keys {
                let env = format!("ASSENT_{}", key.to_uppercase());
                assert!(
                    text.contains(&env),
                    "{env} is not documented in the reference config"
                );
            }
        }
    }

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn file_and_environment_override_defaults_and_unknown_keys_fail() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "assent.toml",
                "listen = \"127.0.0.1:9000\"\n[approvals]\ncode_length = 8\n",
            )?;
            jail.set_env("ASSENT_HTTP__MAX_WAIT_SECS", "30");
            jail.set_env("ASSENT_ADMIN_KEY", "not a config key");
            jail.set_env("ASSENT_LOG", "debug");
            let config =
                Config::load(Some(Path::new("assent.toml")), &Overrides::default()).unwrap();
            assert_eq!(config.listen.port(), 9000);
            assert_eq!(config.approvals.code_length, 8);
            assert_eq!(config.http.max_wait_secs, 30);
            assert_eq!(config.log.level, "debug");

            let overrides = Overrides {
                listen: Some("127.0.0.1:9100".parse().unwrap()),
                ..Default::default()
            };
            assert_eq!(
                Config::load(Some(Path::new("assent.toml")), &overrides)
                    .unwrap()
                    .listen
                    .port(),
                9100
            );

            jail.create_file("bad.toml", "[approvals]\ncode_lenght = 8\n")?;
            let err = Config::load(Some(Path::new("bad.toml")), &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("code_lenght"), "{err}");

            jail.set_env("ASSENT_APPROVALS__NUMBER_MATCH", "false");
            assert!(Config::load(None, &Overrides::default()).is_err());
            Ok(())
        });
    }

    #[test]
    fn text_is_read_like_a_file() {
        let text = std::fs::read_to_string(reference_path()).unwrap();
        assert_eq!(Config::from_toml(&text).unwrap(), Config::default());
        let config = Config::from_toml("[approvals]\ncode_length = 8\n").unwrap();
        assert_eq!(config.approvals.code_length, 8);
        let err = Config::from_toml("[approvals]\ncode_lenght = 8\n").unwrap_err();
        assert!(err.to_string().contains("code_lenght"), "{err}");
        assert!(Config::from_toml("[approvals]\ncode_length = 11\n").is_err());
    }

    #[test]
    fn invalid_values_are_refused() {
        let mut config = Config::default();
        config.approvals.max_ttl_secs = 601;
        assert!(config.validate().is_err());
        let config = Config {
            public_url: "ftp://x".into(),
            ..Config::default()
        };
        assert!(config.validate().is_err());
    }
}
