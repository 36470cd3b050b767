//! How Assent reaches people: the `[push]` section (Web Push with the server's VAPID key,
//! APNs, FCM, and the dispatcher's pacing) and the `[email]` section (SMTP, for security
//! alerts only: e-mail is never an approval channel).

use assent_delivery::email::{SmtpSettings, SmtpTls};
use assent_delivery::push::apns::ApnsSettings;
use assent_delivery::push::fcm::FcmSettings;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// Whether this node sends pushes. Any number of nodes may: each push is claimed by one.
    pub deliver: bool,
    /// RFC 8292 `sub` of the VAPID JWT: how a push service reaches the operator
    /// (`mailto:` or `https:`).
    pub vapid_subject: String,
    /// Whether push endpoints may be on loopback, private or link-local addresses, and over
    /// plain http (test endpoints, a UnifiedPush server on the local network).
    pub allow_private_endpoints: bool,
    /// Time allowed for one send, in seconds.
    pub timeout_secs: u64,
    /// How long a claimed push is held by its sender, in seconds; after that (the sender died)
    /// another node, or this one after a restart, sends it again. Longer than `timeout_secs`.
    pub lease_secs: u64,
    /// How often the outbox is looked at without a wake-up (retries come due), in milliseconds.
    pub poll_ms: u64,
    /// Wait before the first retry, in milliseconds; each later one waits twice as long (up to
    /// five minutes), never less than a push service's `Retry-After`.
    pub initial_backoff_ms: u64,
    /// Sends of one push before it is given up, if its request has not expired first.
    pub max_attempts: u32,
    /// Sends in flight at once.
    pub concurrency: usize,
    pub apns: ApnsConfig,
    pub fcm: FcmConfig,
}

/// `[push.apns]`: token-based APNs for native iOS apps; off while `key_file` is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApnsConfig {
    /// The `.p8` signing key from the Apple developer account (PKCS#8 PEM).
    pub key_file: String,
    /// Its key id (the JWT `kid`).
    pub key_id: String,
    /// The developer team id (the JWT `iss`).
    pub team_id: String,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// `https://api.push.apple.com` (production), `https://api.sandbox.push.apple.com`
    /// (development builds), or a test endpoint.
    pub base_url: String,
    /// An extra PEM root to trust (a test endpoint); empty for none.
    pub ca_file: String,
}

impl Default for ApnsConfig {
    fn default() -> Self {
        ApnsConfig {
            key_file: String::new(),
            key_id: String::new(),
            team_id: String::new(),
            topic: String::new(),
            base_url: assent_delivery::push::apns::PRODUCTION_URL.into(),
            ca_file: String::new(),
        }
    }
}

/// `[push.fcm]`: FCM HTTP v1 for native Android apps; off while `service_account_file` is
/// empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FcmConfig {
    /// The Firebase project's service-account JSON (its `token_uri` is where access tokens
    /// come from).
    pub service_account_file: String,
    /// `https://fcm.googleapis.com`, or a test endpoint.
    pub base_url: String,
    /// An extra PEM root to trust (a test endpoint); empty for none.
    pub ca_file: String,
}

impl Default for FcmConfig {
    fn default() -> Self {
        FcmConfig {
            service_account_file: String::new(),
            base_url: assent_delivery::push::fcm::PRODUCTION_URL.into(),
            ca_file: String::new(),
        }
    }
}

/// `[email]`: SMTP for security alerts to users and admin alerts to admins; off while `host`
/// is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    pub host: String,
    pub port: u16,
    /// `starttls` (required, never falling back to plain), `implicit` (TLS from the first
    /// byte, usually port 465) or `none` (plain SMTP: a relay on this machine only).
    pub tls: String,
    pub username: String,
    /// The password; prefer `password_file`, which keeps it out of the configuration.
    pub password: String,
    /// A file holding the password (a trailing newline is ignored).
    pub password_file: String,
    /// The sender, for example `Assent <assent@example.com>`.
    pub from: String,
    /// Where admin alerts (detections, push suspensions) are sent.
    pub admin_recipients: Vec<String>,
    /// An extra PEM root to trust (a relay with a private CA); empty for none.
    pub ca_file: String,
    /// Time allowed for one message, in seconds.
    pub timeout_secs: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            host: String::new(),
            port: 587,
            tls: "starttls".into(),
            username: String::new(),
            password: String::new(),
            password_file: String::new(),
            from: String::new(),
            admin_recipients: Vec::new(),
            ca_file: String::new(),
            timeout_secs: 30,
        }
    }
}

fn path(s: &str) -> Option<PathBuf> {
    (!s.is_empty()).then(|| PathBuf::from(s))
}

impl ApnsConfig {
    /// The sender's settings, when APNs is configured.
    pub fn settings(&self, timeout: Duration) -> Option<ApnsSettings> {
        Some(ApnsSettings {
            base_url: self.base_url.clone(),
            team_id: self.team_id.clone(),
            key_id: self.key_id.clone(),
            key_file: path(&self.key_file)?,
            topic: self.topic.clone(),
            ca_file: path(&self.ca_file),
            timeout,
        })
    }

    fn problem(&self) -> Option<String> {
        let missing = self.key_id.is_empty() || self.team_id.is_empty() || self.topic.is_empty();
        (!self.key_file.is_empty() && missing)
            .then(|| "push.apns needs key_id, team_id and topic with its key_file".into())
    }
}

impl FcmConfig {
    /// The sender's settings, when FCM is configured.
    pub fn settings(&self, timeout: Duration) -> Option<FcmSettings> {
        Some(FcmSettings {
            service_account_file: path(&self.service_account_file)?,
            base_url: self.base_url.clone(),
            ca_file: path(&self.ca_file),
            timeout,
        })
    }
}

impl EmailConfig {
    /// The mailer's settings, when e-mail is configured; the password is read from its file
    /// here (the error names the file, never its content).
    pub fn settings(&self) -> Result<Option<SmtpSettings>, String> {
        if self.host.is_empty() {
            return Ok(None);
        }
        let tls = match self.tls.as_str() {
            "starttls" => SmtpTls::StartTls,
            "implicit" => SmtpTls::Implicit,
            "none" => SmtpTls::None,
            other => {
                return Err(format!(
                    "email.tls is starttls, implicit or none, not {other:?}"
                ));
            }
        };
        let password = if !self.password_file.is_empty() {
            let text = std::fs::read_to_string(&self.password_file)
                .map_err(|e| format!("email.password_file {}: {e}", self.password_file))?;
            Some(text.trim_end_matches(['\r', '\n']).to_owned())
        } else {
            (!self.password.is_empty()).then(|| self.password.clone())
        };
        Ok(Some(SmtpSettings {
            host: self.host.clone(),
            port: self.port,
            tls,
            username: (!self.username.is_empty()).then(|| self.username.clone()),
            password,
            from: self.from.clone(),
            ca_file: path(&self.ca_file),
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
        }))
    }

    /// What is wrong with the section, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.host.is_empty() {
            return None;
        }
        if self.from.is_empty() {
            return Some("email.from is needed with email.host".into());
        }
        if !self.password.is_empty() && !self.password_file.is_empty() {
            return Some("email.password and email.password_file: give one, not both".into());
        }
        None
    }
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            deliver: true,
            vapid_subject: "mailto:admin@localhost".into(),
            allow_private_endpoints: false,
            timeout_secs: 10,
            lease_secs: 60,
            poll_ms: 1000,
            initial_backoff_ms: 2000,
            max_attempts: 10,
            concurrency: 64,
            apns: ApnsConfig::default(),
            fcm: FcmConfig::default(),
        }
    }
}

impl PushConfig {
    /// What is wrong with the section, if anything.
    pub fn problem(&self) -> Option<String> {
        if !(self.vapid_subject.starts_with("mailto:")
            || self.vapid_subject.starts_with("https://"))
        {
            return Some("push.vapid_subject must be a mailto: or https: URL".into());
        }
        if self.timeout_secs == 0 || self.lease_secs <= self.timeout_secs {
            return Some(
                "push.timeout_secs must be at least 1 and push.lease_secs longer than it".into(),
            );
        }
        if self.max_attempts == 0 || self.concurrency == 0 {
            return Some("push.max_attempts and push.concurrency must be at least 1".into());
        }
        self.apns.problem()
    }

    /// The dispatcher's pacing.
    pub fn dispatch(&self) -> assent_delivery::push::dispatch::DispatchSettings {
        use std::time::Duration;
        assent_delivery::push::dispatch::DispatchSettings {
            batch: 64,
            concurrency: self.concurrency,
            poll: Duration::from_millis(self.poll_ms.max(10)),
            initial_backoff: Duration::from_millis(self.initial_backoff_ms.max(1)),
            max_backoff: Duration::from_secs(300),
            max_attempts: self.max_attempts,
        }
    }
}
