//! `assent policy test`: check a policy file offline and see which rule a request meets.

use super::CmdResult;
use crate::cli::PolicyCommand;
use assent_core::risk::policy::{DEFAULT_POLICY, Policy};
use std::process::ExitCode;

pub fn run(command: PolicyCommand) -> CmdResult {
    let PolicyCommand::Test { file, request } = command;
    // Conditions that fail to evaluate are skipped with a warning: show them.
    assent_server::logging::init(&assent_server::config::LogConfig {
        level: "warn".into(),
        format: assent_server::config::LogFormat::Text,
    });
    let text = if file.as_os_str() == "default" {
        DEFAULT_POLICY.to_owned()
    } else {
        std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?
    };
    let policy = match Policy::parse(&text) {
        Ok(policy) => policy,
        Err(e) => {
            println!("{}: INVALID: {e}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("{}: valid, {} rules", file.display(), policy.rules().len());
    for (i, (name, when, line)) in policy.rules().iter().enumerate() {
        println!("  {}. {name} (line {line}): {when}", i + 1);
    }
    if let Some(request) = request {
        let mut facts: serde_json::Value =
            serde_json::from_str(&request).map_err(|e| format!("--request is not JSON: {e}"))?;
        // Missing parts read as empty, as a real request's would.
        for (name, default) in [
            (
                "request",
                serde_json::json!({"kind": "login", "amount": 0.0, "application": "", "user": "", "binding_message": "", "authorization_details": [], "passkey": false}),
            ),
            (
                "context",
                serde_json::json!({"ip": "", "user_agent": "", "device_id": "", "country": "", "city": ""}),
            ),
            ("risk", serde_json::json!({"score": 0, "reasons": []})),
            (
                "user",
                serde_json::json!({"devices": 1, "groups": [], "approvals": 0, "denials": 0, "frauds": 0}),
            ),
        ] {
            let slot = facts.get_mut(name);
            match slot {
                Some(serde_json::Value::Object(given)) => {
                    if let serde_json::Value::Object(defaults) = default {
                        for (k, v) in defaults {
                            given.entry(k).or_insert(v);
                        }
                    }
                }
                _ => facts[name] = default,
            }
        }
        let decision = policy.decide(&facts);
        println!("\nRule that fires: {}", decision.rule);
        println!(
            "  because: {}",
            if decision.condition.is_empty() {
                "no rule matched"
            } else {
                &decision.condition
            }
        );
        println!("  outcome: {}", serde_json::to_string(&decision.outcome)?);
    }
    Ok(ExitCode::SUCCESS)
}
