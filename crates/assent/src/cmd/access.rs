//! `assent admin access`: an access request as an admin sees it, revoking its grant, the
//! break-glass code and the reviews of break-glass grants.

use super::CmdResult;
use crate::cli::AccessCommand;
use crate::output;
use assent_client::AdminClient;
use assent_proto::api::AccessRequestStatus;

fn summary(r: &AccessRequestStatus) -> String {
    let mut line = format!(
        "{} {} by {} ({} of {} approvals",
        r.id,
        r.state,
        r.requester,
        r.approved_by.len(),
        r.approvals_required
    );
    if !r.approved_by.is_empty() {
        line.push_str(&format!(": {}", r.approved_by.join(", ")));
    }
    line.push(')');
    if let Some(glass) = &r.break_glass {
        line.push_str(&format!(
            "; break-glass, {}: \"{}\"",
            glass.review, glass.reason
        ));
    }
    if let Some(grant) = &r.grant {
        match &grant.revoked_at {
            Some(at) => line.push_str(&format!("; grant revoked at {at}")),
            None => line.push_str(&format!("; grant until {}", grant.expires_at)),
        }
    }
    line
}

pub(super) async fn run(client: &AdminClient, command: AccessCommand) -> CmdResult<()> {
    match command {
        AccessCommand::Show { id, json } => {
            let request = client.access_request(&id).await?;
            if json {
                output::json(&request);
            } else {
                println!("{}", summary(&request));
            }
        }
        AccessCommand::Revoke { id } => {
            let request = client.revoke_grant(&id).await?;
            println!("{}", summary(&request));
        }
        AccessCommand::BreakGlassCode => {
            let code = client.set_break_glass_code().await?;
            println!("Break-glass code (shown once; any earlier code no longer works): {code}");
        }
        AccessCommand::Unreviewed { json } => {
            let list = client.unreviewed_break_glass().await?;
            if json {
                output::json(&list);
            } else if list.access_requests.is_empty() {
                println!("No break-glass grant waits for a review");
            } else {
                for request in &list.access_requests {
                    println!("{}", summary(request));
                }
            }
        }
        AccessCommand::Review { id, note } => {
            let request = client.review_break_glass(&id, &note).await?;
            println!("{}", summary(&request));
        }
    }
    Ok(())
}
