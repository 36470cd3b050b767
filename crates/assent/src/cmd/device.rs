//! `assent device ...`: a command-line authenticator.

use super::CmdResult;
use crate::cli::DeviceCommand;
use crate::output;
use assent_client::{DeviceClient, DeviceEvent, DeviceProfile};
use assent_proto::api::DeviceApproval;
use assent_proto::statement::Decision;
use std::process::ExitCode;
use tokio::io::AsyncBufReadExt as _;

pub async fn run(command: DeviceCommand) -> CmdResult {
    match command {
        DeviceCommand::Enroll {
            link,
            profile,
            name,
        } => {
            if DeviceProfile::exists(&profile.profile) {
                return Err(format!(
                    "{} already holds a device; use another --profile",
                    profile.profile.display()
                )
                .into());
            }
            let device = DeviceClient::enroll(&link, &name, "cli").await?;
            device.save(&profile.profile)?;
            let p = device.profile();
            println!(
                "Enrolled device {} ({}) for {} at {}",
                p.device_id, p.name, p.user, p.server
            );
            println!("Server key pinned: {}", p.server_jwk.thumbprint());
            if let Some(code) = device.activation_code() {
                println!();
                println!("This device waits for approval from another of your devices.");
                println!("On that device, approve it with this code:  {code}");
                println!(
                    "(CLI: assent device activate {} --code {code} --profile <that device's profile>)",
                    p.device_id
                );
                println!(
                    "Until then it can answer nothing; `assent device status` shows its state."
                );
            }
        }
        DeviceCommand::Devices { profile, json } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            let devices = device.devices().await?;
            if json {
                output::json(&devices);
            } else {
                for d in devices {
                    let this = if d.id == device.profile().device_id {
                        " (this device)"
                    } else {
                        ""
                    };
                    println!(
                        "{}\t{}{this}\t{}\t{}\tenrolled {}\tlast seen {}\t{}",
                        d.id,
                        d.name,
                        d.platform,
                        d.state.as_str(),
                        d.created_at,
                        d.last_seen_at.as_deref().unwrap_or("never"),
                        if d.push_channel != "stream" && !d.push_working {
                            format!("{} (not working)", d.push_channel)
                        } else {
                            d.push_channel.clone()
                        }
                    );
                }
            }
        }
        DeviceCommand::Activate {
            id,
            code,
            deny,
            profile,
        } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            let decision = if deny {
                Decision::Deny
            } else {
                Decision::Approve
            };
            match device
                .decide_activation(&id, decision, code.as_deref())
                .await?
            {
                Some(activated) => println!("{} ({}) is now active", activated.id, activated.name),
                None => println!("{id} was refused and removed"),
            }
        }
        DeviceCommand::RecoveryCodes {
            regenerate,
            profile,
        } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            if regenerate {
                let codes = device.regenerate_recovery_codes().await?;
                println!("New recovery codes (each works once; earlier codes no longer work).");
                println!("Store them somewhere safe; they are not shown again:");
                for code in codes {
                    println!("  {code}");
                }
            } else {
                println!("{} recovery codes left", device.recovery_count().await?);
            }
        }
        DeviceCommand::Status { profile } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            let me = device.me().await?;
            println!(
                "{} ({}) of {}: {}",
                me.device_id,
                me.name,
                me.user,
                me.state.as_str()
            );
        }
        DeviceCommand::Pending { profile, json } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            let pending = device.pending().await?;
            if json {
                output::json(&pending);
            } else if pending.is_empty() {
                println!("No pending requests.");
            } else {
                for approval in &pending {
                    println!("{}", describe(approval));
                }
            }
        }
        DeviceCommand::Approve { id, code, profile } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            let outcome = device
                .decide(&id, Decision::Approve, code.as_deref())
                .await?;
            println!("{}: {}", outcome.id, outcome.state.as_str());
        }
        DeviceCommand::Deny { id, fraud, profile } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            let decision = if fraud {
                Decision::Fraud
            } else {
                Decision::Deny
            };
            let outcome = device.decide(&id, decision, None).await?;
            println!("{}: {}", outcome.id, outcome.state.as_str());
        }
        DeviceCommand::Alerts { profile, json } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            let alerts = device.alerts().await?;
            if json {
                output::json(&alerts);
            } else if alerts.is_empty() {
                println!("No alerts.");
            } else {
                for alert in alerts {
                    println!("{}  {}", alert.created_at, alert.message);
                }
            }
        }
        DeviceCommand::Activity { profile, json } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            let activity = device.activity().await?;
            if json {
                output::json(&activity);
            } else {
                print!("{}", describe_activity(&activity));
            }
        }
        DeviceCommand::Broadcasts { profile, json } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            super::broadcast::list(&device, json).await?;
        }
        DeviceCommand::Ack { id, profile } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            super::broadcast::acknowledge(&device, &id).await?;
        }
        DeviceCommand::Report { id, profile } => {
            let device = DeviceClient::from_profile(&profile.profile)?;
            let reported = device.report_activity(&id).await?;
            println!(
                "Reported. Push requests to your account are paused until {}; your administrators were alerted. If someone knows your password, change it.",
                reported.push_suspended_until
            );
        }
        DeviceCommand::Watch { profile } => {
            return watch(&DeviceClient::from_profile(&profile.profile)?).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// "City, Country" of a request's context, when it says.
fn place(context: &assent_proto::api::RequestContext) -> Option<String> {
    context.geo.as_ref().map(|g| {
        [g.city.clone(), g.country.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// The activity as lines: each request that ended, with where it came from and which device
/// answered, then the devices.
pub fn describe_activity(activity: &assent_proto::api::DeviceActivity) -> String {
    let mut out = String::new();
    if activity.requests.is_empty() {
        out += "No request has ended yet.\n";
    }
    for r in &activity.requests {
        let place = place(&r.context);
        out += &format!(
            "{}  {:<9} {} at {}{}  from {}{}{}  [{}]\n",
            r.decided_at.as_deref().unwrap_or(&r.created_at),
            r.state.as_str(),
            r.kind.as_str(),
            r.application.name,
            r.binding_message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default(),
            r.context.ip.as_deref().unwrap_or("unknown address"),
            place
                .filter(|p| !p.is_empty())
                .map(|p| format!(" ({p})"))
                .unwrap_or_default(),
            r.answered_by
                .as_deref()
                .map(|d| format!(", answered on {d}"))
                .unwrap_or_default(),
            r.id
        );
    }
    for d in &activity.devices {
        out += &format!(
            "{}  device {} ({}) enrolled",
            d.created_at, d.name, d.platform
        );
        if let Some(at) = &d.revoked_at {
            out += &format!(", revoked {at}");
        }
        out += "\n";
    }
    out += "Not yours? `assent device report ID` for an approval; revoke a device from the web authenticator's device list.\n";
    out
}

/// Shows every detail of a request, as the user must see it before answering.
pub fn describe(a: &DeviceApproval) -> String {
    // An agent's request says who acts and for whom, and then what it unlocks: never just
    // "allow the agent".
    let mut out = if a.kind == assent_proto::api::ApprovalKind::AgentAction {
        format!(
            "── Agent {}, acting for you, asks to: ── {}\n",
            a.application.name, a.id
        )
    } else {
        format!(
            "── {} request from {} ── {}\n",
            a.kind.as_str(),
            a.application.name,
            a.id
        )
    };
    if let Some(message) = &a.binding_message {
        out += &format!("  Message   {message}\n");
    }
    for detail in &a.authorization_details {
        let mut fields: Vec<String> = Vec::new();
        if let Some(map) = detail.as_object() {
            for (k, v) in map {
                let v = v
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string());
                fields.push(format!("{k}={v}"));
            }
        }
        out += &format!("  Details   {}\n", fields.join("  "));
    }
    // An approver's prompt of an access request: the quorum so far (shown, not signed).
    if let Some(access) = &a.access_request {
        let named = |users: &[String]| {
            if users.is_empty() {
                "no one".to_owned()
            } else {
                users.join(", ")
            }
        };
        out += &format!(
            "  Approvals {} of {} needed; approved by {}; denied by {} ({} can never approve)\n",
            access.approved_by.len(),
            access.approvals_required,
            named(&access.approved_by),
            named(&access.denied_by),
            access.requester
        );
        if access.co_approval_of.is_some() {
            out += &format!(
                "  Co-approve {} approved this request and the policy asks for a second person\n",
                access.requester
            );
        }
    }
    let c = &a.context;
    let place = place(c);
    out += &format!(
        "  From      {}{}{}\n",
        c.ip.as_deref().unwrap_or("unknown address"),
        place
            .filter(|p| !p.is_empty())
            .map(|p| format!(" ({p})"))
            .unwrap_or_default(),
        c.user_agent
            .as_deref()
            .map(|u| format!(" — {u}"))
            .unwrap_or_default()
    );
    out += &format!("  Asked     {}   expires {}\n", a.created_at, a.expires_at);
    out
}

async fn watch(device: &DeviceClient) -> CmdResult {
    println!(
        "Watching for requests for {} (Ctrl-C to stop)…",
        device.profile().user
    );
    let mut events = device.stream().await?;
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    // Requests already pending when the watch starts are announced by the stream too.
    while let Some(event) = events.recv().await {
        let id = match event {
            DeviceEvent::Approval(id) => id,
            DeviceEvent::Resolved(id) => {
                println!("(request {id} ended)");
                continue;
            }
            DeviceEvent::Alert(message) => {
                println!("(alert) {message}");
                continue;
            }
            DeviceEvent::Broadcast(id) => {
                println!(
                    "(notice) a notice waits for your acknowledgement: assent device ack {id}"
                );
                continue;
            }
            DeviceEvent::Revoked => {
                println!("This device has been revoked.");
                return Ok(ExitCode::FAILURE);
            }
        };
        let approval = match device.approval(&id).await {
            Ok(a) if a.state == assent_proto::api::ApprovalState::Pending => a,
            Ok(_) => continue,
            Err(e) => {
                eprintln!("cannot fetch {id}: {e}");
                continue;
            }
        };
        println!("\n{}", describe(&approval));
        let prompt = if approval.code_required {
            "Type the code shown on the sign-in screen to approve, d to deny, f if this wasn't you: "
        } else {
            "a to approve, d to deny, f if this wasn't you: "
        };
        println!("{prompt}");
        let Ok(Some(line)) = stdin.next_line().await else {
            return Ok(ExitCode::SUCCESS);
        };
        let answer = line.trim();
        let (decision, code) = match answer {
            "d" | "D" => (Decision::Deny, None),
            "f" | "F" => (Decision::Fraud, None),
            "a" | "A" if !approval.code_required => (Decision::Approve, None),
            typed => (Decision::Approve, Some(typed)),
        };
        match device.sign_decision(&approval, decision, code) {
            Ok(statement) => match device.submit(&approval.id, statement).await {
                Ok(outcome) => match outcome.awaiting_approvals {
                    Some(n) => println!(
                        "→ approved by you; it waits for {n} co-approver approval{}",
                        if n == 1 { "" } else { "s" }
                    ),
                    None => println!("→ {}", outcome.state.as_str()),
                },
                Err(e) => println!("→ {e}"),
            },
            Err(e) => println!("→ not answered: {e}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn an_access_prompt_shows_the_quorum_so_far() {
        let prompt: assent_proto::api::DeviceApproval = serde_json::from_value(serde_json::json!({
            "id": "01a2", "state": "pending", "application": {"id": "a", "name": "Acme Bank"},
            "kind": "access", "binding_message": "alice asks for access: INC-4711",
            "authorization_details": [{"type": "role_elevation", "role": "admin"}],
            "context": {}, "nonce": "n", "details_hash": "h", "code_required": true,
            "user_verification_required": true, "created_at": "t0", "expires_at": "t1",
            "access_request": {"id": "r", "state": "pending", "requester": "alice",
                "approvals_required": 2, "denials_required": 1,
                "approved_by": ["carol"], "denied_by": []}
        }))
        .unwrap();
        let shown = describe(&prompt);
        assert!(shown.contains("role=admin"), "{shown}");
        assert!(
            shown.contains(
                "Approvals 1 of 2 needed; approved by carol; denied by no one (alice can never approve)"
            ),
            "{shown}"
        );
        assert!(!shown.contains("Co-approve"), "{shown}");
        let mut co = prompt.clone();
        if let Some(access) = co.access_request.as_mut() {
            access.co_approval_of = Some("01a3".into());
        }
        assert!(
            describe(&co).contains("Co-approve alice approved this request"),
            "{}",
            describe(&co)
        );
    }
}
