//! Live delivery: the device's stream announces a request without polling, the relying party's
//! stream and long poll return the final state as soon as it is written.

use assent_client::DeviceEvent;
use assent_client::sse::SseParser;
use assent_proto::api::{ApprovalState, ApprovalStatus};
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, login};
use futures_util::StreamExt as _;
use std::time::Duration;

async fn next(events: &mut tokio::sync::mpsc::Receiver<DeviceEvent>) -> DeviceEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("an event")
        .expect("the stream is open")
}

#[tokio::test]
async fn device_stream_announces_requests_and_their_end() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let mut events = device.stream().await.unwrap();
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    assert_eq!(
        next(&mut events).await,
        DeviceEvent::Approval(created.id.clone())
    );
    app.client.cancel(&created.id).await.unwrap();
    assert_eq!(
        next(&mut events).await,
        DeviceEvent::Resolved(created.id.clone())
    );
    app.client
        .report_event("alice", "email_changed", None)
        .await
        .unwrap();
    let alert = DeviceEvent::Alert("Acme: your e-mail address was changed.".into());
    assert_eq!(next(&mut events).await, alert);
    server
        .admin
        .revoke_device(&device.profile().device_id)
        .await
        .unwrap();
    assert_eq!(next(&mut events).await, DeviceEvent::Revoked);
    server.stop().await;
}

#[tokio::test]
async fn relying_party_stream_ends_with_the_final_state_and_receipt() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    let response = reqwest::Client::new()
        .get(format!(
            "{}/v1/approvals/{}/events",
            server.base, created.id
        ))
        .bearer_auth(&app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.bytes_stream();
    let mut parser = SseParser::new();
    let mut states = Vec::new();
    let mut answered = false;
    let collect = async {
        while let Some(Ok(chunk)) = body.next().await {
            for event in parser.push(&chunk) {
                assert_eq!(event.event, "state");
                let status: ApprovalStatus = serde_json::from_str(&event.data).unwrap();
                states.push(status.clone());
                if status.state == ApprovalState::Pending && !answered {
                    answered = true;
                    device
                        .decide(
                            &created.id,
                            Decision::Approve,
                            created.display_code.as_deref(),
                        )
                        .await
                        .unwrap();
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), collect)
        .await
        .expect("the stream ends after the final state");
    assert_eq!(states.first().unwrap().state, ApprovalState::Pending);
    let last = states.last().unwrap();
    assert_eq!(last.state, ApprovalState::Approved);
    assert!(last.receipt.is_some());
    server.stop().await;
}

#[tokio::test]
async fn long_poll_returns_the_decision_not_the_timeout() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    let waiter = {
        let rp = app.client.clone();
        let id = created.id.clone();
        tokio::spawn(async move { rp.approval(&id, Some(60)).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    device
        .decide(&created.id, Decision::Deny, None)
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(status.state, ApprovalState::Denied);

    // A wait on a request that expires returns `expired` when the expiry sweep ends it.
    let mut request = login("alice");
    request.expires_in = Some(5);
    let created = app.client.create_approval(&request).await.unwrap();
    let waiter = {
        let rp = app.client.clone();
        let id = created.id.clone();
        tokio::spawn(async move { rp.approval(&id, Some(60)).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.clock.advance(time::Duration::seconds(6));
    let status = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(status.state, ApprovalState::Expired);
    server.stop().await;
}
