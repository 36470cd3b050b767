//! Incident broadcasts from the terminal: `assent admin broadcast ...` sends and reads them,
//! `assent device broadcasts` and `assent device ack` list and acknowledge them on a device.

use super::CmdResult;
use crate::cli::broadcast::BroadcastCommand;
use crate::output;
use assent_client::{AdminClient, DeviceClient};
use assent_proto::api::{CreateBroadcast, DeviceBroadcast, DeviceBroadcastList};

/// `assent admin broadcast ...`.
pub async fn run_admin(client: &AdminClient, command: BroadcastCommand) -> CmdResult<()> {
    match command {
        BroadcastCommand::Send {
            message,
            group,
            everyone,
            reminder_interval,
        } => {
            let created = client
                .create_broadcast(&CreateBroadcast {
                    message,
                    group,
                    everyone,
                    reminder_interval_seconds: reminder_interval,
                })
                .await?;
            println!(
                "Broadcast {} sent to {} recipient(s)",
                created.id, created.recipients
            );
        }
        BroadcastCommand::List { json } => {
            let list = client.broadcasts().await?;
            if json {
                output::json(&list);
                return Ok(());
            }
            if list.broadcasts.is_empty() {
                println!("No broadcasts.");
            }
            for b in &list.broadcasts {
                println!(
                    "{}  {}  {}/{} acknowledged  to {}  {}",
                    b.created_at,
                    b.id,
                    b.acknowledged,
                    b.recipients,
                    b.group.as_deref().unwrap_or("everyone"),
                    first_line(&b.message)
                );
            }
        }
        BroadcastCommand::Show { id, json } => {
            let detail = client.broadcast(&id).await?;
            if json {
                output::json(&detail);
                return Ok(());
            }
            let b = &detail.broadcast;
            println!(
                "Broadcast {} by {} at {}, to {}; reminders every {} s",
                b.id,
                b.created_by,
                b.created_at,
                b.group.as_deref().unwrap_or("everyone"),
                b.reminder_interval_seconds
            );
            println!("{}\n", b.message);
            println!("{} of {} acknowledged", b.acknowledged, b.recipients);
            for r in &detail.recipients {
                match (&r.acknowledged_at, &r.device_name) {
                    (Some(at), device) => println!(
                        "  {:<20} acknowledged {at} on {}",
                        r.user,
                        device.as_deref().or(r.device_id.as_deref()).unwrap_or("?")
                    ),
                    (None, _) => println!(
                        "  {:<20} NOT acknowledged ({} reminder(s) sent)",
                        r.user, r.reminders
                    ),
                }
            }
        }
    }
    Ok(())
}

fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    let short: String = line.chars().take(60).collect();
    if short.len() < message.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// The broadcasts as lines: those to acknowledge, then the acknowledged ones.
pub fn describe_broadcasts(list: &DeviceBroadcastList) -> String {
    let mut out = String::new();
    if list.pending.is_empty() {
        out += "No notice waits for your acknowledgement.\n";
    }
    for b in &list.pending {
        out += &format!(
            "{}  TO ACKNOWLEDGE  [{}]\n{}\n",
            b.created_at,
            b.id,
            indent(&b.message)
        );
    }
    for b in &list.acknowledged {
        out += &format!(
            "{}  acknowledged {}  [{}]  {}\n",
            b.created_at,
            b.acknowledged_at.as_deref().unwrap_or("?"),
            b.id,
            first_line(&b.message)
        );
    }
    if !list.pending.is_empty() {
        out += "Read each notice, then `assent device ack ID` to acknowledge it.\n";
    }
    out
}

fn indent(message: &str) -> String {
    message
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `assent device broadcasts`.
pub async fn list(device: &DeviceClient, json: bool) -> CmdResult<()> {
    let list = device.broadcasts().await?;
    if json {
        output::json(&list);
    } else {
        print!("{}", describe_broadcasts(&list));
    }
    Ok(())
}

/// `assent device ack ID`: shows the notice, then signs and sends the acknowledgement.
pub async fn acknowledge(device: &DeviceClient, id: &str) -> CmdResult<()> {
    let list = device.broadcasts().await?;
    if let Some(done) = list.acknowledged.iter().find(|b| b.id == id) {
        return Err(format!(
            "broadcast {id} was already acknowledged at {}",
            done.acknowledged_at.as_deref().unwrap_or("?")
        )
        .into());
    }
    let broadcast: &DeviceBroadcast = list
        .pending
        .iter()
        .find(|b| b.id == id)
        .ok_or_else(|| format!("no notice {id} waits for this account's acknowledgement"))?;
    println!(
        "Notice from your administrators ({}):",
        broadcast.created_at
    );
    println!("{}\n", indent(&broadcast.message));
    let statement = device.sign_broadcast_ack(broadcast)?;
    let done = device.submit_broadcast_ack(id, statement).await?;
    println!(
        "Acknowledged at {}, signed by this device ({}).",
        done.acknowledged_at,
        device.profile().name
    );
    Ok(())
}
