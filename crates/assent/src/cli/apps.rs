//! `assent admin app`: applications and their API keys.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// The applications and their API keys (never a secret).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Give an application a new API key (printed once) and revoke its earlier keys at once.
    RotateKey {
        app_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke one application API key at once, on every node.
    RevokeKey { key_id: String },
    /// Create an application; prints its API key once.
    Create {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Configure the application's webhook; prints its signing secret once.
    Webhook {
        app_id: String,
        #[arg(long)]
        url: String,
        /// Event types: approval.final, alert, access_request.final, access_grant.revoked.
        #[arg(long, value_delimiter = ',', default_value = "approval.final,alert")]
        events: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Limit the application to the members of groups (no --groups: any user again).
    Scope {
        app_id: String,
        /// Group names, comma-separated.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Set the application's WebAuthn identity, for passkeys at its origin.
    Webauthn {
        app_id: String,
        /// The relying-party id: the origin's host name or a parent domain of it.
        #[arg(long)]
        rp_id: String,
        /// The name authenticators show.
        #[arg(long)]
        rp_name: String,
        /// The origin the application's pages are served from (https://host[:port]).
        #[arg(long)]
        origin: String,
    },
}
