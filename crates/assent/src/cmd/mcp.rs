//! `assent mcp`: a Model Context Protocol server over stdio that lets an AI agent ask its owner
//! through Assent, with the agent's own credentials (its CIBA client id and private key), and
//! `assent mcp keygen`, which makes that key.

use crate::cli::{McpArgs, McpCommand};
use crate::cmd::CmdResult;
use crate::mcp::{keyfile, server};
use assent_client::AgentClient;
use rmcp::ServiceExt as _;
use std::process::ExitCode;

/// Whether the agent may talk to `server`: https, or plain http to this machine only. Over
/// plain http to another host, the grants (bearer of the owner's approval) and the assertions
/// would cross the network in the clear.
pub fn check_server_url(server: &str) -> Result<(), String> {
    let url = url::Url::parse(server).map_err(|e| format!("--server {server}: {e}"))?;
    let local = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if local => Ok(()),
        "http" => Err(format!(
            "--server {server}: use https (plain http is accepted for localhost only)"
        )),
        other => Err(format!("--server {server}: {other} is not http or https")),
    }?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "--server {server}: give Assent's public URL (its issuer), with no query"
        ));
    }
    Ok(())
}

pub async fn run(args: McpArgs) -> CmdResult {
    if let Some(McpCommand::Keygen { out, jwks }) = args.command {
        let thumbprint = keyfile::keygen(&out, &jwks)?;
        eprintln!(
            "Wrote the agent's private key to {} (keep it; readable by you only) and its public \
             JWK Set to {} (key id {thumbprint}).\nRegister the agent with: assent admin agent \
             create NAME --owner USER --jwks {} --types TYPE[,...]",
            out.display(),
            jwks.display(),
            jwks.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let missing = |what: &str, env: &str| format!("--{what} (or {env}) is required");
    let server = args
        .server
        .ok_or_else(|| missing("server", "ASSENT_MCP_SERVER"))?;
    let client_id = args
        .client_id
        .ok_or_else(|| missing("client-id", "ASSENT_MCP_CLIENT_ID"))?;
    let key_path = args.key.ok_or_else(|| missing("key", "ASSENT_MCP_KEY"))?;
    check_server_url(&server)?;
    let key = keyfile::load(&key_path)?;
    let agent = AgentClient::new(&server, &client_id, key)?;
    // Standard output is the MCP channel: nothing else may be written there.
    let service = server::AssentMcp::new(agent)
        .serve(rmcp::transport::stdio())
        .await?;
    service.waiting().await?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::check_server_url;

    #[test]
    fn https_anywhere_and_http_to_this_machine_only() {
        for good in [
            "https://assent.example.com",
            "https://assent.example.com/",
            "http://127.0.0.1:8700",
            "http://localhost:8700",
            "http://[::1]:8700",
        ] {
            assert_eq!(check_server_url(good), Ok(()), "{good}");
        }
        for bad in [
            "http://assent.example.com",
            "http://10.0.0.5:8700",
            "ftp://127.0.0.1",
            "https://assent.example.com/?x=1",
            "not a url",
        ] {
            assert!(check_server_url(bad).is_err(), "{bad}");
        }
    }
}
