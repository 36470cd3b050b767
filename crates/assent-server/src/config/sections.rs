//! The configuration's sections after the top level: each with its keys, their defaults and
//! what they mean. `docs/assent.reference.toml` lists them all with their variables.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FactorConfig {
    /// The issuer authenticator apps show next to TOTP codes.
    pub totp_issuer: String,
    /// TOTP and recovery-code checks allowed per user and factor within the window.
    pub max_attempts: u32,
    pub attempt_window_secs: u64,
    /// Recovery codes per set.
    pub recovery_codes: u32,
}

impl Default for FactorConfig {
    fn default() -> Self {
        FactorConfig {
            totp_issuer: "Assent".into(),
            max_attempts: 5,
            attempt_window_secs: 900,
            recovery_codes: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// The policy file (TOML rules with CEL conditions); empty: the built-in default policy.
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// A file of denied addresses and networks (one per line, CIDR allowed); empty: none.
    pub deny_list_file: String,
    /// A file of Tor exit node addresses (one per line); empty: none.
    pub tor_exit_file: String,
    /// A MaxMind-format database (GeoLite2/GeoIP2 City) to locate addresses; empty: none.
    pub geoip_file: String,
    /// Faster than this (km/h) between the last approved location and a request is impossible.
    pub max_travel_kmh: f64,
    /// An approval this many milliseconds after the device received the request cannot have been
    /// read: it raises a reflex_approval admin alert.
    pub reflex_ms: u64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            deny_list_file: String::new(),
            tor_exit_file: String::new(),
            geoip_file: String::new(),
            max_travel_kmh: 900.0,
            reflex_ms: 1500,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// Attempts per event before it is given up on.
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds; each retry waits twice as long (up to an hour).
    pub initial_backoff_ms: u64,
    /// Time allowed for one delivery.
    pub timeout_secs: u64,
    /// How often new events are looked for, in milliseconds.
    pub poll_ms: u64,
    /// Whether this node delivers webhooks. With several nodes on one PostgreSQL database, any
    /// number may: an application's deliveries are claimed by one node at a time.
    pub deliver: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            max_attempts: 8,
            initial_backoff_ms: 1000,
            timeout_secs: 10,
            poll_ms: 1000,
            deliver: true,
        }
    }
}

impl WebhookConfig {
    /// The delivery settings this configuration implies.
    pub fn settings(&self) -> assent_delivery::webhooks::WebhookSettings {
        use std::time::Duration;
        assent_delivery::webhooks::WebhookSettings {
            max_attempts: self.max_attempts.max(1),
            initial_backoff: Duration::from_millis(self.initial_backoff_ms),
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
            poll: Duration::from_millis(self.poll_ms.max(10)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FatigueConfig {
    /// A new request from an application cancels its pending request for the same user.
    pub supersede_pending: bool,
    /// Prompts allowed per user within the window, counted since the last approval.
    pub prompt_budget: u32,
    /// The window of the prompt budget.
    pub budget_window_secs: u64,
    /// How long push stays suspended (doubling on repeat within a day, up to a day).
    pub suspension_secs: u64,
}

impl Default for FatigueConfig {
    fn default() -> Self {
        FatigueConfig {
            supersede_pending: true,
            prompt_budget: 3,
            budget_window_secs: 600,
            suspension_secs: 900,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter: `info`, `debug`, `assent_server=debug,info`.
    pub level: String,
    /// `json` (one object per line) or `text`.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Largest request body accepted.
    pub body_limit_bytes: usize,
    /// Time allowed to produce a response (long polls get `max_wait_secs` on top).
    pub request_timeout_secs: u64,
    /// Longest long poll (`?wait=`) a relying party may ask for.
    pub max_wait_secs: u64,
    /// Time a connection has, from its accept, to deliver a complete request head (and an
    /// HTTP/1 client to send a later request's headers once it started them); also the
    /// longest pause allowed in a request body (then `408 body_timeout`).
    pub header_read_timeout_secs: u64,
    /// Time a connection may stay open with no request in progress.
    pub idle_timeout_secs: u64,
    /// Interval of HTTP/2 keep-alive pings (and time allowed for the answer); 0: no pings.
    pub http2_keep_alive_secs: u64,
    /// Requests one HTTP/2 connection may have in progress at once (long polls included).
    pub http2_max_concurrent_streams: u32,
    /// Open connections served, in total (lowered at start to what the open-file limit allows).
    pub max_connections: usize,
    /// Open connections from one client address (an IPv6 client's /64).
    pub max_connections_per_address: usize,
    /// Connections accepted past `max_connections` for `/health/*` only.
    pub health_reserve_connections: usize,
}

impl HttpConfig {
    /// What is wrong with the connection settings, if anything.
    pub(crate) fn connection_problem(&self) -> Option<String> {
        if !(1..=3600).contains(&self.idle_timeout_secs) {
            return Some("http.idle_timeout_secs must be between 1 and 3600".into());
        }
        if self.http2_keep_alive_secs > 3600 {
            return Some("http.http2_keep_alive_secs must be between 0 (off) and 3600".into());
        }
        if !(1..=1_000_000).contains(&self.max_connections) {
            return Some("http.max_connections must be between 1 and 1000000".into());
        }
        if !(1..=self.max_connections).contains(&self.max_connections_per_address) {
            return Some(
                "http.max_connections_per_address must be between 1 and http.max_connections"
                    .into(),
            );
        }
        if self.health_reserve_connections > 1000 {
            return Some("http.health_reserve_connections must be between 0 and 1000".into());
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalConfig {
    /// Lifetime of a request whose relying party does not give `expires_in`.
    pub default_ttl_secs: u64,
    /// Longest lifetime a relying party may ask for (at most 600, per NIST SP 800-63B-4).
    pub max_ttl_secs: u64,
    /// Whether approving needs the code shown on the relying party's screen.
    pub number_matching: bool,
    /// Digits of that code (4 to 10).
    pub code_length: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnrollmentConfig {
    /// How long an enrollment link stays valid.
    pub ttl_secs: u64,
    /// How an application may add a device for a user who already has an active one:
    /// `device_approval` (held as pending_activation until an active device approves it) and
    /// `recovery_code` (active at once). Admin-issued enrollments are always accepted.
    pub trusted_registration: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceConfig {
    /// How far a device's clock may be from the server's.
    pub max_clock_skew_secs: u64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Json,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit_bytes: 64 * 1024,
            request_timeout_secs: 15,
            max_wait_secs: 60,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            http2_keep_alive_secs: 30,
            http2_max_concurrent_streams: 1000,
            max_connections: 10_000,
            max_connections_per_address: 1_000,
            health_reserve_connections: 32,
        }
    }
}

impl Default for ApprovalConfig {
    fn default() -> Self {
        ApprovalConfig {
            default_ttl_secs: 120,
            max_ttl_secs: 600,
            number_matching: true,
            code_length: 6,
        }
    }
}

impl Default for EnrollmentConfig {
    fn default() -> Self {
        EnrollmentConfig {
            ttl_secs: 900,
            trusted_registration: vec!["device_approval".into(), "recovery_code".into()],
        }
    }
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            max_clock_skew_secs: 120,
        }
    }
}

/// OpenID CIBA and agent grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CibaConfig {
    /// Seconds a client waits between token requests (a `slow_down` adds 5).
    pub interval_secs: u32,
    /// How long an access token lives when the client does not ask for less.
    pub token_lifetime_secs: u64,
    /// The longest an access token may live, whatever the client asks.
    pub max_token_lifetime_secs: u64,
    /// The `aud` of access tokens (your resource servers' identifier); empty: the issuer.
    pub audience: String,
}

impl Default for CibaConfig {
    fn default() -> Self {
        CibaConfig {
            interval_secs: 5,
            token_lifetime_secs: 300,
            max_token_lifetime_secs: 3600,
            audience: String::new(),
        }
    }
}

impl CibaConfig {
    /// What is wrong with the section, if anything.
    pub fn problem(&self) -> Option<String> {
        if !(1..=60).contains(&self.interval_secs) {
            return Some("ciba.interval_secs must be between 1 and 60".into());
        }
        if self.max_token_lifetime_secs == 0 || self.max_token_lifetime_secs > 86_400 {
            return Some("ciba.max_token_lifetime_secs must be between 1 and 86400".into());
        }
        if self.token_lifetime_secs == 0 || self.token_lifetime_secs > self.max_token_lifetime_secs
        {
            return Some(
                "ciba.token_lifetime_secs must be between 1 and ciba.max_token_lifetime_secs"
                    .into(),
            );
        }
        None
    }

    /// The domain settings this section implies.
    pub fn settings(&self) -> assent_core::CibaSettings {
        use assent_core::clock::seconds;
        assent_core::CibaSettings {
            interval: self.interval_secs,
            token_lifetime: seconds(self.token_lifetime_secs),
            max_token_lifetime: seconds(self.max_token_lifetime_secs),
            audience: (!self.audience.is_empty()).then(|| self.audience.clone()),
        }
    }
}

/// Prometheus metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `GET /metrics` at all.
    pub enabled: bool,
    /// Where: empty for the main listener, or an address of its own (`127.0.0.1:9700`), which
    /// then alone serves them.
    pub listen: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            listen: String::new(),
        }
    }
}

impl MetricsConfig {
    /// The metrics' own listener, when they have one.
    pub fn own_listener(&self) -> Option<std::net::SocketAddr> {
        (self.enabled && !self.listen.is_empty())
            .then(|| self.listen.parse().ok())
            .flatten()
    }

    /// What is wrong with the section, if anything.
    pub fn problem(&self) -> Option<String> {
        (!self.listen.is_empty() && self.listen.parse::<std::net::SocketAddr>().is_err()).then(
            || "metrics.listen is an address and port (127.0.0.1:9700), or empty for the main listener".into(),
        )
    }
}

/// Access requests: break-glass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// The longest a break-glass grant lasts, whatever the request asked for.
    pub break_glass_grant_secs: u64,
    /// The group whose members are alerted on their devices when break-glass is invoked.
    pub admin_group: String,
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig {
            break_glass_grant_secs: 900,
            admin_group: "admins".into(),
        }
    }
}

impl AccessConfig {
    /// What is wrong with the section, if anything.
    pub fn problem(&self) -> Option<String> {
        if !(60..=3600).contains(&self.break_glass_grant_secs) {
            return Some("access.break_glass_grant_secs must be between 60 and 3600".into());
        }
        if !assent_core::groups::valid_group_name(&self.admin_group) {
            return Some(
                "access.admin_group is a group name: 1 to 64 lower-case letters, digits and . _ -"
                    .into(),
            );
        }
        None
    }

    /// The domain settings this section implies.
    pub fn settings(&self) -> assent_core::AccessSettings {
        assent_core::AccessSettings {
            break_glass_grant: assent_core::clock::seconds(self.break_glass_grant_secs),
            admin_group: self.admin_group.clone(),
        }
    }
}

/// TLS on the listener: both files, or neither (plain HTTP).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// The certificate chain, PEM, the server's own certificate first.
    pub cert_file: String,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key_file: String,
}

impl TlsConfig {
    /// What is wrong with the section, if anything (whether the files load is checked at start).
    pub fn problem(&self) -> Option<String> {
        (self.cert_file.is_empty() != self.key_file.is_empty())
            .then(|| "tls.cert_file and tls.key_file are given together, or neither".into())
    }

    /// The files, when TLS is on.
    pub fn files(&self) -> Option<crate::tls::TlsFiles> {
        (!self.cert_file.is_empty()).then(|| crate::tls::TlsFiles {
            cert: self.cert_file.clone().into(),
            key: self.key_file.clone().into(),
        })
    }
}
