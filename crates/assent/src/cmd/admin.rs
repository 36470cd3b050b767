//! `assent admin ...`: the admin API from the terminal.

use super::CmdResult;
use crate::cli::{
    AdminArgs, AdminCommand, AdminDeviceCommand, AgentCommand, AppCommand, CibaCommand, DuoCommand,
    FactorCommand, GroupCommand, UserCommand,
};
use crate::output;
use assent_client::AdminClient;
use std::process::ExitCode;

fn admin_key(args: &AdminArgs) -> CmdResult<String> {
    if let Ok(key) = std::env::var("ASSENT_ADMIN_KEY")
        && !key.trim().is_empty()
    {
        return Ok(key.trim().to_owned());
    }
    match &args.data {
        Some(dir) => Ok(assent_server::data_dir::read_admin_key(dir)?),
        None => Err("no admin key: set ASSENT_ADMIN_KEY, or pass --data DIR to read the key the server stored there".into()),
    }
}

pub async fn run(args: AdminArgs) -> CmdResult {
    let client = AdminClient::new(&args.server, &admin_key(&args)?)?;
    match args.command {
        AdminCommand::App {
            command: AppCommand::Create { name, json },
        } => {
            let app = client.create_app(&name).await?;
            if json {
                output::json(&serde_json::json!({"app_id": app.app_id, "api_key": app.api_key}));
            } else {
                println!("Application {} ({})", app.name, app.app_id);
                println!("API key (shown once, stored hashed): {}", app.api_key);
            }
        }
        AdminCommand::App {
            command: AppCommand::List { json },
        } => {
            let list = client.list_apps().await?;
            if json {
                output::json(&list);
            }
            for app in list.apps.iter().filter(|_| !json) {
                println!("{} ({}), created {}", app.name, app.id, app.created_at);
                for key in &app.keys {
                    match &key.revoked_at {
                        Some(at) => {
                            println!("  key {}  created {}  revoked {at}", key.id, key.created_at)
                        }
                        None => println!("  key {}  created {}  active", key.id, key.created_at),
                    }
                }
            }
        }
        AdminCommand::App {
            command: AppCommand::RotateKey { app_id, json },
        } => {
            let rotated = client.rotate_app_key(&app_id).await?;
            if json {
                output::json(&rotated);
            } else {
                println!(
                    "New API key of {app_id} (shown once, stored hashed): {}",
                    rotated.api_key
                );
                for id in &rotated.revoked_key_ids {
                    println!("Revoked: key {id}");
                }
            }
        }
        AdminCommand::App {
            command: AppCommand::RevokeKey { key_id },
        } => {
            let key = client.revoke_api_key(&key_id).await?;
            println!(
                "Key {} revoked at {}",
                key.id,
                key.revoked_at.unwrap_or_default()
            );
        }
        AdminCommand::App {
            command:
                AppCommand::Webhook {
                    app_id,
                    url,
                    events,
                    json,
                },
        } => {
            let events: Vec<&str> = events.iter().map(String::as_str).collect();
            let created = client.set_webhook(&app_id, &url, &events).await?;
            if json {
                output::json(&created);
            } else {
                println!(
                    "Webhook for {app_id}: {} ({})",
                    created.url,
                    created.events.join(", ")
                );
                println!(
                    "Signing secret (shown once; verify webhook-signature with it): {}",
                    created.secret
                );
            }
        }
        AdminCommand::App {
            command:
                AppCommand::Scope {
                    app_id,
                    groups,
                    json,
                },
        } => {
            let scope = client.set_app_scope(&app_id, groups).await?;
            if json {
                output::json(&scope);
            } else if scope.groups.is_empty() {
                println!("Application {app_id} may ask any user");
            } else {
                println!(
                    "Application {app_id} may ask the members of: {}",
                    scope.groups.join(", ")
                );
            }
        }
        AdminCommand::App {
            command:
                AppCommand::Webauthn {
                    app_id,
                    rp_id,
                    rp_name,
                    origin,
                },
        } => {
            let body = assent_proto::api::SetRpWebauthn {
                rp_id,
                rp_name,
                origin,
            };
            let set = client.set_app_webauthn(&app_id, &body).await?;
            println!(
                "Application {app_id}: passkeys for relying-party id {} at {}",
                set.rp_id, set.origin
            );
        }
        AdminCommand::Access { command } => super::access::run(&client, command).await?,
        AdminCommand::Broadcast(args) => super::broadcast::run_admin(&client, args.command).await?,
        AdminCommand::Group { command } => match command {
            GroupCommand::Create { name } => {
                let group = client.create_group(&name).await?;
                println!("Group {}", group.name);
            }
            GroupCommand::List { json } => {
                let list = client.list_groups().await?;
                if json {
                    output::json(&list);
                } else {
                    for group in &list.groups {
                        println!("{}: {}", group.name, group.members.join(", "));
                    }
                }
            }
            GroupCommand::Add { group, username } => {
                client.add_group_member(&group, &username).await?;
                println!("{username} is a member of {group}");
            }
            GroupCommand::Remove { group, username } => {
                client.remove_group_member(&group, &username).await?;
                println!("{username} is not a member of {group}");
            }
        },
        AdminCommand::Ciba {
            command:
                CibaCommand::Create {
                    app_id,
                    mode,
                    notification_endpoint,
                    jwks,
                    user_code,
                    json,
                },
        } => {
            let jwks = jwks.map(|path| read_jwks(&path)).transpose()?;
            let body = assent_proto::api::CreateCibaClient {
                mode,
                notification_endpoint,
                jwks,
                requires_user_code: user_code,
            };
            let created = client.create_ciba_client(&app_id, &body).await?;
            print_client(&created, json);
        }
        AdminCommand::Duo {
            command:
                DuoCommand::Create {
                    app_id,
                    api_host,
                    allow_unmatched_push,
                    allow_legacy_v1,
                    json,
                },
        } => {
            let body = assent_proto::api::CreateDuoIntegration {
                api_host,
                allow_unmatched_push,
                allow_legacy_v1,
            };
            let created = client.create_duo_integration(&app_id, &body).await?;
            if json {
                output::json(&serde_json::json!({
                    "ikey": created.ikey,
                    "skey": created.skey,
                    "api_host": created.api_host,
                    "app_id": created.app_id,
                    "allow_unmatched_push": created.allow_unmatched_push,
                    "allow_legacy_v1": created.allow_legacy_v1,
                }));
            } else {
                println!("Duo integration for application {}", created.app_id);
                println!("Integration key (ikey): {}", created.ikey);
                println!(
                    "Secret key (skey, shown once, kept sealed): {}",
                    created.skey
                );
                println!("API host (api_host): {}", created.api_host);
                if created.allow_legacy_v1 {
                    println!(
                        "The legacy Auth API v1 is answered too (dateless signatures: lower assurance)."
                    );
                }
                if created.allow_unmatched_push {
                    println!(
                        "Pushes may go without number matching when the client cannot show a code (lower assurance)."
                    );
                }
            }
        }
        AdminCommand::Agent {
            command:
                AgentCommand::Create {
                    name,
                    owner,
                    jwks,
                    types,
                    mode,
                    notification_endpoint,
                    json,
                },
        } => {
            let body = assent_proto::api::CreateAgent {
                name,
                owner,
                jwks: read_jwks(&jwks)?,
                authorization_details_types: types,
                mode: Some(mode),
                notification_endpoint,
            };
            let created = client.create_agent(&body).await?;
            print_client(&created, json);
        }
        AdminCommand::User {
            command: UserCommand::Create { username, json },
        } => {
            let user = client.create_user(&username).await?;
            if json {
                output::json(&user);
            } else {
                println!("User {} ({})", user.username, user.id);
            }
        }
        AdminCommand::User {
            command: UserCommand::List { json },
        } => {
            let users = client.list_users().await?;
            if json {
                output::json(&users);
            } else {
                for user in users.users {
                    println!("{}\t{}\t{}", user.username, user.id, user.created_at);
                }
            }
        }
        AdminCommand::Enroll { username, json } => {
            let enrollment = client.create_enrollment(&username).await?;
            if json {
                output::json(&enrollment);
            } else {
                println!(
                    "Enrollment link for {username} (one use, expires {}):",
                    enrollment.expires_at
                );
                println!("{}", enrollment.link);
                if let Some(qr) = output::terminal_qr(&enrollment.link) {
                    println!("{qr}");
                }
                println!("Enroll a terminal: assent device enroll '<link>' --profile DIR");
            }
        }
        AdminCommand::Device {
            command: AdminDeviceCommand::List { user, json },
        } => {
            let devices = client.list_devices(user.as_deref()).await?;
            if json {
                output::json(&devices);
            } else {
                for d in devices.devices {
                    println!(
                        "{}\t{}\t{}\t{}\t{:?}\t{}",
                        d.id, d.user, d.name, d.platform, d.state, d.created_at
                    );
                }
            }
        }
        AdminCommand::Device {
            command: AdminDeviceCommand::Revoke { id },
        } => {
            let device = client.revoke_device(&id).await?;
            println!("Revoked {} ({}) of {}", device.id, device.name, device.user);
        }
        AdminCommand::Factors {
            command: FactorCommand::Show { user, json },
        } => {
            let factors = client.factors(&user).await?;
            if json {
                output::json(&factors);
            } else {
                println!("{}: can use {}", factors.user, or_none(&factors.available));
                let push = if factors.push.suspended {
                    format!(
                        "suspended until {}",
                        factors.push.suspended_until.unwrap_or_default()
                    )
                } else if factors.push.available {
                    "available".to_owned()
                } else {
                    "no active device".to_owned()
                };
                println!("  push: {push}");
                for d in &factors.push.devices {
                    println!(
                        "    {}\t{}\t{}\tlast seen {}",
                        d.id,
                        d.name,
                        d.state.as_str(),
                        d.last_seen_at.as_deref().unwrap_or("never")
                    );
                }
                let lock = |l: &Option<String>| {
                    l.as_ref()
                        .map(|t| format!(", locked until {t}"))
                        .unwrap_or_default()
                };
                println!(
                    "  totp: {}{}",
                    if factors.totp.enrolled {
                        "enrolled"
                    } else {
                        "not enrolled"
                    },
                    lock(&factors.totp.locked_until)
                );
                println!(
                    "  recovery codes: {} left{}",
                    factors.recovery_codes.remaining,
                    lock(&factors.recovery_codes.locked_until)
                );
            }
        }
        AdminCommand::Factors {
            command: FactorCommand::TotpReset { user },
        } => {
            client.remove_totp(&user).await?;
            println!("Removed the TOTP factor of {user}; a new one can be enrolled.");
        }
        AdminCommand::PolicyReload => {
            let policy = client.reload_policy().await?;
            let rules = policy["rules"].as_array().map_or(0, Vec::len);
            println!("Policy reloaded: {rules} rules");
        }
        AdminCommand::AuditVerify { json } => {
            let report = client.verify_audit().await?;
            return Ok(super::audit::print_report(&report, json));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "nothing (enroll a device or a fallback factor)".to_owned()
    } else {
        items.join(", ")
    }
}

/// A JWK Set file, as JSON.
fn read_jwks(path: &std::path::Path) -> CmdResult<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the JWK Set {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()).into())
}

fn print_client(created: &assent_proto::api::CibaClientCreated, json: bool) {
    if json {
        output::json(created);
        return;
    }
    println!(
        "CIBA client {} ({} mode, {}) for application {}",
        created.client_id, created.mode, created.token_endpoint_auth_method, created.app_id
    );
    if let Some(owner) = &created.owner {
        println!("Agent acting for {owner}");
    }
    if let Some(secret) = &created.client_secret {
        println!("Client secret (shown once, stored hashed): {secret}");
    }
}
