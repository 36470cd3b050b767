//! SIGKILL the server between a device's approval and the relying party's read: the decision
//! survives with the same receipt, and the audit chain still verifies.

use crate::support::{assent_bin, free_port, run, start_serve};
use assent_client::{AdminClient, DeviceClient, RpClient};
use assent_proto::api::ApprovalState;
use assent_testkit::{approved, login};

#[tokio::test]
async fn a_decision_survives_sigkill_with_the_same_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_serve(&data, port, &[]).await;

    let admin_key = assent_server::data_dir::read_admin_key(&data).unwrap();
    let admin = AdminClient::new(&base, &admin_key).unwrap();
    let app = admin.create_app("Acme").await.unwrap();
    admin.create_user("alice").await.unwrap();
    let link = admin.create_enrollment("alice").await.unwrap().link;
    let device = DeviceClient::enroll(&link, "phone", "test").await.unwrap();
    let rp = RpClient::new(&base, &app.api_key).unwrap();

    let mut decided = Vec::new();
    for _ in 0..5 {
        decided.push(approved(&rp, &device, &login("alice")).await);
    }
    // The device has its acknowledgement; the relying party has read nothing yet. Kill -9.
    server.kill().unwrap();
    server.wait().unwrap();

    let mut server = start_serve(&data, port, &[]).await;
    let mut receipts = Vec::new();
    for id in &decided {
        let status = rp.approval(id, None).await.unwrap();
        assert_eq!(status.state, ApprovalState::Approved);
        receipts.push(status.receipt.unwrap());
    }
    // Read again: the same receipt, byte for byte (it is stored, not re-signed).
    for (id, receipt) in decided.iter().zip(&receipts) {
        assert_eq!(
            &rp.approval(id, None).await.unwrap().receipt.unwrap(),
            receipt
        );
    }
    let jwks = assent_client::fetch_jwks(&base).await.unwrap();
    for receipt in &receipts {
        assent_proto::receipt::verify_receipt(receipt, &jwks).unwrap();
    }
    // No admin key is printed or created on a restart.
    let mut cmd = assent_bin();
    cmd.args(["audit", "verify", "--data"]).arg(&data);
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("intact"), "{out}");
    server.kill().unwrap();
    server.wait().unwrap();
}
