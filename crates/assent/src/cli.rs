//! Command-line grammar.

pub mod broadcast;

use clap::{Args, Parser, Subcommand};

mod apps;
pub use apps::AppCommand;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "assent",
    version,
    about = "Assent: a self-hosted push approval server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (embedded SQLite in the data directory; created on first start).
    Serve(ServeArgs),
    /// Run a complete approval end to end on a throwaway server and explain each step.
    Demo(DemoArgs),
    /// Administer a running server over its API.
    Admin(AdminArgs),
    /// A command-line authenticator: enroll this terminal as a device and answer prompts.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Receipt tools.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Policy tools.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// A Model Context Protocol server (stdio) that lets an AI agent ask its owner through
    /// Assent, with the agent's credentials; `keygen` makes the agent's key.
    Mcp(McpArgs),
    /// Print the OpenAPI description of the API.
    Openapi,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct McpArgs {
    /// Assent's public URL (its issuer): https, or http to localhost.
    #[arg(long, env = "ASSENT_MCP_SERVER")]
    pub server: Option<String>,
    /// The agent's client id (from `assent admin agent create`).
    #[arg(long, env = "ASSENT_MCP_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The agent's private P-256 key: PKCS#8, PEM or DER, readable by its owner only.
    #[arg(long, env = "ASSENT_MCP_KEY")]
    pub key: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<McpCommand>,
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Write a new agent key (PKCS#8 PEM, mode 0600) and its public JWK Set for
    /// `assent admin agent create --jwks`.
    Keygen {
        /// Where the private key goes (never over an existing file).
        #[arg(long)]
        out: PathBuf,
        /// Where its public JWK Set goes.
        #[arg(long)]
        jwks: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML configuration file (see docs/assent.reference.toml).
    #[arg(long, env = "ASSENT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory [default: ./assent-data].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8700].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address for Assent [default: 127.0.0.1:8700; with --story, a free port].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Address for the demo relying party, Acme Bank.
    #[arg(long, default_value = "127.0.0.1:8800")]
    pub acme_listen: SocketAddr,
    /// Data directory [default: a new temporary directory].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Write the demo's URLs, users and enrollment links as JSON to this file once ready.
    #[arg(long)]
    pub info_file: Option<PathBuf>,
    /// Instead of serving the web demo, run one approval end to end in the terminal and exit.
    #[arg(long)]
    pub story: bool,
    /// With --story: keep the server running afterwards, for trying the CLI by hand.
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Server base URL.
    #[arg(
        long,
        env = "ASSENT_SERVER",
        default_value = "http://127.0.0.1:8700",
        global = true
    )]
    pub server: String,
    /// Read the admin key from this data directory (instead of ASSENT_ADMIN_KEY).
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Applications (relying parties).
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Create a one-time enrollment link (and QR code) for a user.
    Enroll {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Devices.
    Device {
        #[command(subcommand)]
        command: AdminDeviceCommand,
    },
    /// A user's fallback factors.
    Factors {
        #[command(subcommand)]
        command: FactorCommand,
    },
    /// OpenID CIBA clients of applications.
    Ciba {
        #[command(subcommand)]
        command: CibaCommand,
    },
    /// Agents: non-human identities that ask their owner through CIBA.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// Incident broadcasts: notices each recipient must acknowledge on a device.
    Broadcast(broadcast::BroadcastArgs),
    /// Groups of users (policy's user.groups, application scopes).
    Group {
        #[command(subcommand)]
        command: GroupCommand,
    },
    /// Access requests: read one, revoke its grant, break-glass codes and reviews.
    Access {
        #[command(subcommand)]
        command: AccessCommand,
    },
    /// Duo Auth API integrations of applications (for login_duo, pam_duo, duo_client, ...).
    Duo {
        #[command(subcommand)]
        command: DuoCommand,
    },
    /// Reload the server's policy and risk lists from their files.
    PolicyReload,
    /// Check the audit chain on the server.
    AuditVerify {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CibaCommand {
    /// Register a CIBA client for an application; prints its client id (and secret, once).
    Create {
        /// The application's id.
        app_id: String,
        /// How the client learns the outcome: poll, ping or push.
        #[arg(long, default_value = "poll")]
        mode: String,
        /// Where ping and push notifications go (https).
        #[arg(long)]
        notification_endpoint: Option<String>,
        /// The client's JWK Set file: it then authenticates with private_key_jwt, no secret.
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// Every request must carry the user's user_code (their current TOTP code).
        #[arg(long)]
        user_code: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DuoCommand {
    /// Create an integration for an application; prints its ikey, skey (once) and api_host.
    Create {
        /// The application's id.
        app_id: String,
        /// The host name (and :port) clients use; the server's public URL's by default.
        #[arg(long)]
        api_host: Option<String>,
        /// Let pushes go without number matching when the client cannot show a code (lower
        /// assurance; see docs/duo.md).
        #[arg(long)]
        allow_unmatched_push: bool,
        /// Also answer the legacy Auth API v1 of duo_unix before 2.0 (Debian 12's login_duo and
        /// pam_duo): dateless signatures, so lower assurance; see docs/duo.md.
        #[arg(long)]
        allow_legacy_v1: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Register an agent acting for OWNER; prints its client id.
    Create {
        /// Shown to the owner on every request.
        name: String,
        /// The username the agent acts for (the only user it may ask).
        #[arg(long)]
        owner: String,
        /// The agent's JWK Set file (its public keys; a P-256 key binds its grants).
        #[arg(long)]
        jwks: PathBuf,
        /// The authorization_details types it may ask for, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        types: Vec<String>,
        /// poll, ping or push.
        #[arg(long, default_value = "poll")]
        mode: String,
        #[arg(long)]
        notification_endpoint: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a group.
    Create { name: String },
    /// List the groups and their members.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a user to a group.
    Add { group: String, username: String },
    /// Remove a user from a group.
    Remove { group: String, username: String },
}

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Show an access request: its approvers' answers and its grant.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke an access request's grant before its end.
    Revoke { id: String },
    /// Set a new break-glass code (replacing any earlier one); printed once, spent by its first
    /// use. Hand it to the security team.
    BreakGlassCode,
    /// The break-glass grants no admin has reviewed yet.
    Unreviewed {
        #[arg(long)]
        json: bool,
    },
    /// Record the review of a break-glass grant.
    Review {
        id: String,
        /// What the review found.
        #[arg(long)]
        note: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// List users.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminDeviceCommand {
    /// List devices, of one user with --user.
    List {
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a device at once.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum FactorCommand {
    /// What a user can use right now: push devices, TOTP, recovery codes left.
    Show {
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a user's TOTP factor (a lost authenticator app), so a new one can be enrolled.
    TotpReset { user: String },
}

#[derive(Debug, Args)]
pub struct ProfileArg {
    /// Directory holding this device's key and identity.
    #[arg(long, env = "ASSENT_PROFILE")]
    pub profile: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Enroll from an enrollment link.
    Enroll {
        link: String,
        #[command(flatten)]
        profile: ProfileArg,
        /// Name shown in device lists.
        #[arg(long, default_value = "CLI")]
        name: String,
    },
    /// List pending requests with their full context.
    Pending {
        #[command(flatten)]
        profile: ProfileArg,
        #[arg(long)]
        json: bool,
    },
    /// Approve a request, with the code shown on the relying party's screen.
    Approve {
        id: String,
        #[arg(long)]
        code: Option<String>,
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// Deny a request; --fraud reports it as "this wasn't me".
    Deny {
        id: String,
        #[arg(long)]
        fraud: bool,
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// Security alerts of this device's user (new devices, revocations, paused pushes...).
    Alerts {
        #[command(flatten)]
        profile: ProfileArg,
        #[arg(long)]
        json: bool,
    },
    /// The account's recent activity: the requests that ended, with their context, and the
    /// devices enrolled and revoked.
    Activity {
        #[command(flatten)]
        profile: ProfileArg,
        #[arg(long)]
        json: bool,
    },
    /// Notices from the administrators: those to acknowledge, and the acknowledged ones.
    Broadcasts {
        #[command(flatten)]
        profile: ProfileArg,
        #[arg(long)]
        json: bool,
    },
    /// Show a notice from the administrators and acknowledge it, signed by this device.
    Ack {
        id: String,
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// Report an approval of the activity that was not yours: push is paused for the account
    /// and the admins are alerted.
    Report {
        /// The request's id (see `assent device activity`).
        id: String,
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// Wait for requests and answer them interactively.
    Watch {
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// The user's devices: state, last seen, push channel.
    Devices {
        #[command(flatten)]
        profile: ProfileArg,
        #[arg(long)]
        json: bool,
    },
    /// Approve a new device of the same user that waits for activation, with the code it shows
    /// (--deny refuses and removes it).
    Activate {
        /// The waiting device's id (see `assent device devices`).
        id: String,
        #[arg(long, required_unless_present = "deny")]
        code: Option<String>,
        #[arg(long)]
        deny: bool,
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// The user's recovery codes: how many are left, or with --regenerate a new set (printed
    /// once; earlier codes stop working).
    RecoveryCodes {
        #[arg(long)]
        regenerate: bool,
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// This device's state (`pending_activation` until another device approves it).
    Status {
        #[command(flatten)]
        profile: ProfileArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file, and with --request show which rule fires for a request and why.
    Test {
        /// The policy file (TOML); `default` for the built-in policy.
        file: PathBuf,
        /// The facts, as JSON: {"request": {...}, "context": {...}, "risk": {...}, "user": {...}}.
        #[arg(long)]
        request: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit chain in a data directory, or in a PostgreSQL database (offline; the
    /// servers may be running).
    Verify {
        #[arg(long, default_value = "./assent-data")]
        data: PathBuf,
        /// A postgres:// URL: check the chain in that database instead of the data directory's.
        #[arg(long, env = "ASSENT_DATABASE", hide_env_values = true)]
        database: Option<String>,
        #[arg(long)]
        json: bool,
        /// A signed checkpoint (`GET /v1/admin/audit/checkpoint`'s `checkpoint`, in a file):
        /// also check that its row is still in the chain with its hash. Needs --jwks.
        #[arg(long, requires = "jwks")]
        checkpoint: Option<PathBuf>,
        /// The JWKS that signed the checkpoint: a file, or the server's base URL or JWKS URL.
        #[arg(long)]
        jwks: Option<String>,
    },
    /// Export the audit log, one row per line, as JSON Lines or CEF: to standard output, or as
    /// RFC 5424 messages to a syslog receiver. From the data directory (or --database), or
    /// through a server's API (--server, with the admin key).
    Export {
        /// `jsonl` or `cef`.
        #[arg(long, default_value = "jsonl")]
        format: String,
        /// Rows after this sequence number: resume where an export ended.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Rows at or after this instant (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Rows before this instant (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Rows of this kind.
        #[arg(long)]
        kind: Option<String>,
        /// Rows about this user (by name).
        #[arg(long)]
        user: Option<String>,
        #[arg(long, default_value = "./assent-data")]
        data: PathBuf,
        /// A postgres:// URL: export from that database instead of the data directory's.
        #[arg(long, env = "ASSENT_DATABASE", hide_env_values = true)]
        database: Option<String>,
        /// A server's base URL: export through `GET /v1/admin/audit/export` instead.
        #[arg(long)]
        server: Option<String>,
        /// The admin key, with --server.
        #[arg(long, env = "ASSENT_ADMIN_KEY", hide_env_values = true)]
        admin_key: Option<String>,
        /// Send each row to a syslog receiver, as an RFC 5424 message whose text is the line:
        /// `tcp://HOST:PORT` (octet-counted framing, RFC 6587) or `udp://HOST:PORT`.
        #[arg(long)]
        syslog: Option<String>,
        /// The messages' HOSTNAME (`assent` by default).
        #[arg(long, default_value = "assent")]
        hostname: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Verify a receipt offline against the server's JWKS (a file, or a URL).
    Verify {
        /// File holding the receipt (compact JWS), or - for standard input.
        file: PathBuf,
        /// JWKS file, or the server's base URL or JWKS URL.
        #[arg(long)]
        jwks: String,
        #[arg(long)]
        json: bool,
    },
}
