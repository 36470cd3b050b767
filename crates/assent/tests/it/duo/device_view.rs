//! Number matching for Duo pushes (refused for a client that cannot show a code unless the
//! integration waives it, and the waiver audited), and what the device is shown of a Duo call:
//! the pushinfo pairs, the `type` as the message, the client's address and host name, all bound
//! by the approval's receipt.

use super::signing::Signer;
use super::{Setup, Target, device, integration, pending};
use crate::support::audit_data;
use assent_proto::receipt::verify_receipt;
use assent_testkit::TestServer;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_without_a_code_needs_the_integrations_waiver_and_the_device_sees_the_call() {
    let server = TestServer::spawn().await;
    let target = Target::plain(&server);
    let setup = Setup::new(&server, &target, "alice").await;
    let strict = integration(&server, &target, &setup.app_id, &[]).await;
    let lenient = integration(&server, &target, &setup.app_id, &["--allow-unmatched-push"]).await;
    let params = [
        ("factor", "push"),
        ("username", "alice"),
        ("async", "1"),
        ("type", "Sign in to the VPN"),
        ("pushinfo", "Server+IP=10.1.1.1&Command=ls%20-l"),
        ("ipaddr", "203.0.113.9"),
        ("hostname", "bastion-1"),
    ];

    // The default policy asks for number matching, and this client shows no code.
    let refused = Signer::new(&target, &strict)
        .request(&server, "POST", "/auth/v2/auth", &params)
        .await;
    let detail = refused.fail(40301, "Access forbidden");
    assert!(
        detail.contains("client_supports_verified_push"),
        "the refusal says the way out: {detail}"
    );
    let (code, out, err) = device(&target, &setup.profile, &["pending", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "[]", "nothing was pushed");
    assert!(audit_data(&server, "approval_created").is_empty());

    // Waived by the integration: the push goes, and the audit row says it went unmatched.
    let signer = Signer::new(&target, &lenient);
    let started = signer
        .request(&server, "POST", "/auth/v2/auth", &params)
        .await;
    let txid = started.ok()["txid"].as_str().unwrap().to_owned();
    assert!(started.ok().get("verified_push_code").is_none());
    let created = audit_data(&server, "approval_created");
    assert_eq!(created.len(), 1);
    let row: Value = serde_json::from_str(&created[0]).unwrap();
    assert_eq!(row["number_matching_waived"], true, "{row}");

    let shown = pending(&target, &setup.profile).await;
    assert_eq!(shown.len(), 1);
    let request = &shown[0];
    assert_eq!(request["code_required"], false, "{request}");
    assert_eq!(request["binding_message"], "Sign in to the VPN");
    assert_eq!(
        request["authorization_details"],
        json!([{"type": "duo_push", "Server IP": "10.1.1.1", "Command": "ls -l"}]),
        "{request}"
    );
    assert_eq!(request["context"]["ip"], "203.0.113.9", "{request}");
    assert_eq!(request["context"]["device_id"], "bastion-1", "{request}");

    let id = request["id"].as_str().unwrap();
    let (code, out, err) = device(&target, &setup.profile, &["approve", id]).await;
    assert_eq!(code, 0, "{out}{err}");
    let ended = signer
        .request(&server, "GET", "/auth/v2/auth_status", &[("txid", &txid)])
        .await;
    let ended = ended.ok();
    assert_eq!(
        (&ended["result"], &ended["status"]),
        (&json!("allow"), &json!("allow"))
    );
    assert_eq!(ended["approval_id"], id, "{ended}");

    // The approval's receipt verifies, and binds what the device was shown.
    let rp = assent_client::RpClient::new(&server.base, &setup.api_key).unwrap();
    let status = rp.approval(id, None).await.unwrap();
    assert_eq!(
        ended["receipt"].as_str(),
        status.receipt.as_deref(),
        "auth_status carries the receipt"
    );
    let jwks = assent_client::fetch_jwks(&server.base).await.unwrap();
    let verified = verify_receipt(&status.receipt.unwrap(), &jwks).unwrap();
    assert_eq!(verified.receipt.approval_id, id);
    assert_eq!(verified.receipt.state, "approved");
    assert_eq!(
        verified.receipt.details_hash,
        request["details_hash"].as_str().unwrap()
    );
    assert!(
        verified.statement.is_some(),
        "the device's signed statement is in it"
    );
    server.stop().await;
}
