//! The mailer: informational security e-mails (a device enrolled or revoked, an alert) over
//! SMTP, each send classified like a push ([`Sent`]). Never approvals: an e-mail cannot be
//! answered with a device's signature, so it only tells.
//!
//! The SMTP dialogue is driven one command at a time (with lettre's connection) rather than
//! through lettre's transport, because only then is it known which command a refusal answered:
//! a permanent refusal of the recipient means the address is gone, while a permanent refusal of
//! the sender, of the credentials or of the message says nothing about the address.

use crate::push::{Sent, SetupError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lettre::Message;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MessageBuilder};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, Certificate, CertificateStore, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use ring::rand::SecureRandom as _;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP: allowed (a relay on the same host), but the caller warns about it.
    None,
    /// STARTTLS, required: a relay that does not offer it gets nothing (usually port 587).
    #[serde(rename = "starttls")]
    StartTls,
    /// TLS from the first byte (usually port 465).
    Implicit,
}

/// The relay and the sender. The password is taken as a string here; where it came from (the
/// configuration or a file) is the server's business.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `Assent <assent@example.com>`.
    pub from: String,
    /// An extra PEM root to trust besides the webpki roots (a relay with a private CA, a test).
    pub ca_file: Option<PathBuf>,
    /// Time allowed for one send, from the connection to the acceptance of the message.
    pub timeout: Duration,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("ca_file", &self.ca_file)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Sends e-mails through one relay. Each send opens its own connection: these e-mails are rare,
/// and a fresh connection never finds a relay that closed an idle one.
pub struct Mailer {
    host: String,
    port: u16,
    channel: Channel,
    credentials: Option<Credentials>,
    from: Mailbox,
    /// The sender's domain, the right side of every `Message-ID` (not this machine's name,
    /// which says nothing useful to the reader and may be a container's).
    message_id_domain: String,
    hello: ClientId,
    timeout: Duration,
    random: ring::rand::SystemRandom,
}

/// [`SmtpTls`] with its TLS parameters built.
#[derive(Clone)]
enum Channel {
    Plain,
    StartTls(TlsParameters),
    Implicit(TlsParameters),
}

impl Mailer {
    /// Checks the settings once, at start: the sender is an address, the CA file holds a
    /// certificate, and credentials never cross the network in the clear.
    pub fn new(settings: SmtpSettings) -> Result<Self, SetupError> {
        let from: Mailbox = settings.from.parse().map_err(|e| {
            SetupError(format!(
                "smtp from {:?} is not a mailbox: {e}",
                settings.from
            ))
        })?;
        let message_id_domain = from.email.domain().to_owned();
        let credentials = match (settings.username, settings.password) {
            (None, None) => None,
            (Some(username), Some(password)) => Some(Credentials::new(username, password)),
            (Some(_), None) => {
                return Err(SetupError("smtp username is set without a password".into()));
            }
            (None, Some(_)) => {
                return Err(SetupError("smtp password is set without a username".into()));
            }
        };
        // AUTH PLAIN and LOGIN send the password as base64: over plain SMTP anyone on the path
        // reads it. Only a relay on this machine is exempt.
        if credentials.is_some() && settings.tls == SmtpTls::None && !is_loopback(&settings.host) {
            return Err(SetupError(format!(
                "smtp credentials are refused without TLS to {} (not a loopback host): set tls to \"starttls\" or \"implicit\"",
                settings.host
            )));
        }
        let channel = match settings.tls {
            SmtpTls::None => {
                if let Some(path) = &settings.ca_file {
                    return Err(SetupError(format!(
                        "smtp ca_file {} has no use without TLS",
                        path.display()
                    )));
                }
                Channel::Plain
            }
            SmtpTls::StartTls => {
                Channel::StartTls(tls_parameters(&settings.host, &settings.ca_file)?)
            }
            SmtpTls::Implicit => {
                Channel::Implicit(tls_parameters(&settings.host, &settings.ca_file)?)
            }
        };
        Ok(Self {
            host: settings.host,
            port: settings.port,
            channel,
            credentials,
            from,
            message_id_domain,
            hello: ClientId::default(),
            timeout: settings.timeout,
            random: ring::rand::SystemRandom::new(),
        })
    }

    /// Sends one plain-text UTF-8 e-mail to `to`.
    pub async fn send(&self, to: &str, subject: &str, text: &str) -> Sent {
        // The address stays out of the errors: they are logged.
        let Ok(to) = to.parse::<Mailbox>() else {
            return Sent::Failed {
                error: "the recipient is not an e-mail address".into(),
            };
        };
        let message = match self.message(to, subject, text) {
            Ok(message) => message,
            Err(error) => return Sent::Failed { error },
        };
        match tokio::time::timeout(self.timeout, self.deliver(&message)).await {
            Ok(sent) => sent,
            Err(_) => Sent::Retry {
                after: None,
                error: format!("smtp: no answer within {:?}", self.timeout),
            },
        }
    }

    fn message(&self, to: Mailbox, subject: &str, text: &str) -> Result<Message, String> {
        let mut id = [0u8; 18];
        self.random
            .fill(&mut id)
            .map_err(|_| "no randomness for a Message-ID".to_owned())?;
        MessageBuilder::new()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!(
                "<{}@{}>",
                URL_SAFE_NO_PAD.encode(id),
                self.message_id_domain
            )))
            // The wall clock at sending: a fact of the wire, not a decision of the domain.
            .date_now()
            .header(AutoSubmitted)
            .header(ContentType::TEXT_PLAIN)
            .body(text.to_owned())
            .map_err(|e| format!("the message cannot be built: {e}"))
    }

    /// One SMTP session: connect (TLS from the first byte, or STARTTLS), authenticate, then
    /// MAIL, RCPT and DATA, each answer classified by the command it answers.
    async fn deliver(&self, message: &Message) -> Sent {
        let implicit = match &self.channel {
            Channel::Implicit(parameters) => Some(parameters.clone()),
            Channel::Plain | Channel::StartTls(_) => None,
        };
        let connected = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &self.hello,
            implicit,
            None,
        )
        .await;
        let mut conn = match connected {
            Ok(conn) => conn,
            Err(e) => return classify(Step::Connect, &e),
        };
        match self.dialogue(&mut conn, message).await {
            Ok(()) => {
                // The message is accepted; a lost QUIT changes nothing.
                let _ = conn.quit().await;
                Sent::Accepted
            }
            Err((step, e)) => {
                // After a refusal the connection is sound and is closed with a QUIT; after a
                // broken connection or a failed TLS handshake it is only dropped (lettre leaves
                // no stream behind a failed upgrade).
                if e.is_permanent() || e.is_transient() {
                    conn.abort().await;
                }
                classify(step, &e)
            }
        }
    }

    async fn dialogue(
        &self,
        conn: &mut AsyncSmtpConnection,
        message: &Message,
    ) -> Result<(), (Step, SmtpError)> {
        if let Channel::StartTls(parameters) = &self.channel {
            // `starttls` refuses a relay that does not offer it: no silent fallback to plain.
            conn.starttls(parameters.clone(), &self.hello)
                .await
                .map_err(|e| (Step::Connect, e))?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(|e| (Step::Auth, e))?;
        }
        let raw = message.formatted();
        let mut options = Vec::new();
        if !raw.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let envelope = message.envelope();
        conn.command(Mail::new(envelope.from().cloned(), options))
            .await
            .map_err(|e| (Step::Mail, e))?;
        for to in envelope.to() {
            conn.command(Rcpt::new(to.clone(), Vec::new()))
                .await
                .map_err(|e| (Step::Rcpt, e))?;
        }
        conn.command(Data).await.map_err(|e| (Step::Data, e))?;
        // lettre ends the data with CRLF "." CRLF, whose first CRLF already ends the last line:
        // a message that ends with its own CRLF would arrive with an extra empty line.
        let data = raw.strip_suffix(b"\r\n").unwrap_or(&raw);
        conn.message(data).await.map_err(|e| (Step::Data, e))?;
        Ok(())
    }
}

/// The command a failure answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Connect,
    Auth,
    Mail,
    Rcpt,
    Data,
}

/// A 4xx reply, a broken connection or a TLS failure may pass: try again. A 5xx reply to RCPT
/// means this mailbox does not exist (or no longer): the address is gone. Any other 5xx (the
/// sender refused, the credentials refused, the message refused) and a relay that lacks what
/// the settings require (STARTTLS, an AUTH mechanism) will not pass by retrying, and say
/// nothing against the address: the message is given up.
fn classify(step: Step, e: &SmtpError) -> Sent {
    let error = format!("smtp {step:?}: {e}");
    if e.is_permanent() {
        if step == Step::Rcpt {
            Sent::Gone { error }
        } else {
            Sent::Failed { error }
        }
    } else if e.is_client() {
        Sent::Failed { error }
    } else {
        Sent::Retry { after: None, error }
    }
}

/// TLS with the webpki roots, plus the PEM roots of `ca_file`.
fn tls_parameters(host: &str, ca_file: &Option<PathBuf>) -> Result<TlsParameters, SetupError> {
    let mut builder =
        TlsParameters::builder(host.to_owned()).certificate_store(CertificateStore::WebpkiRoots);
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            SetupError(format!(
                "smtp ca_file {} cannot be read: {e}",
                path.display()
            ))
        })?;
        let roots = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| SetupError(format!("smtp ca_file {} is not PEM", path.display())))?;
        if roots.is_empty() {
            return Err(SetupError(format!(
                "smtp ca_file {} holds no certificate",
                path.display()
            )));
        }
        for root in roots {
            let root = Certificate::from_der(root.to_vec())
                .map_err(|e| SetupError(format!("smtp ca_file {}: {e}", path.display())))?;
            builder = builder.add_root_certificate(root);
        }
    }
    builder
        .build_rustls()
        .map_err(|e| SetupError(format!("smtp TLS for {host}: {e}")))
}

/// `localhost` or a loopback address: the only hosts credentials may reach without TLS. No
/// resolution: a name that resolves to 127.0.0.1 today may not tomorrow.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no vacation replies, no bounces to the robot.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.8.9.1",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "mail.example.com",
            "10.0.0.1",
            "localhost.example.com",
            "::2",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn tls_modes_by_their_config_names() {
        for (name, tls) in [
            ("none", SmtpTls::None),
            ("starttls", SmtpTls::StartTls),
            ("implicit", SmtpTls::Implicit),
        ] {
            assert_eq!(
                serde_json::from_str::<SmtpTls>(&format!("\"{name}\"")).unwrap(),
                tls
            );
        }
        assert!(serde_json::from_str::<SmtpTls>("\"StartTls\"").is_err());
    }

    #[test]
    fn the_password_stays_out_of_debug() {
        let settings = SmtpSettings {
            host: "mail.example.com".into(),
            port: 587,
            tls: SmtpTls::StartTls,
            username: Some("assent".into()),
            password: Some("hunter2-secret".into()),
            from: "Assent <assent@example.com>".into(),
            ca_file: None,
            timeout: Duration::from_secs(10),
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
