//! `assent receipt verify`: offline check of a receipt with public keys only.

use super::CmdResult;
use crate::cli::ReceiptCommand;
use crate::output;
use assent_proto::jose::JwkSet;
use assent_proto::receipt::verify_receipt;
use std::io::Read as _;
use std::process::ExitCode;

pub async fn run(command: ReceiptCommand) -> CmdResult {
    let ReceiptCommand::Verify { file, jwks, json } = command;
    let receipt = if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?
    };
    let jwks = load_jwks(&jwks).await?;
    match verify_receipt(&receipt, &jwks) {
        Ok(verified) => {
            if json {
                output::json(
                    &serde_json::json!({"valid": true, "kid": verified.kid, "receipt": verified.receipt, "statement": verified.statement}),
                );
            } else {
                let r = &verified.receipt;
                println!("receipt VALID (server key {})", verified.kid);
                println!("  approval  {}", r.approval_id);
                println!(
                    "  state     {}{}",
                    r.state,
                    r.reason
                        .as_deref()
                        .map(|x| format!(" ({x})"))
                        .unwrap_or_default()
                );
                if let (Some(device), Some(statement)) = (&r.device, &verified.statement) {
                    println!(
                        "  device    {} signed {:?} at {}",
                        device.id, statement.decision, statement.iat
                    );
                }
                println!("  details   sha256 {}", r.details_hash);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                output::json(&serde_json::json!({"valid": false, "error": e.to_string()}));
            } else {
                println!("receipt INVALID: {e}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// A JWK Set from a file, or from a server's base URL or JWKS URL.
pub async fn load_jwks(source: &str) -> Result<JwkSet, Box<dyn std::error::Error + Send + Sync>> {
    Ok(
        if source.starts_with("http://") || source.starts_with("https://") {
            assent_client::fetch_jwks(source).await?
        } else {
            let text = std::fs::read_to_string(source).map_err(|e| format!("{source}: {e}"))?;
            serde_json::from_str(&text).map_err(|e| format!("{source} is not a JWK Set: {e}"))?
        },
    )
}
