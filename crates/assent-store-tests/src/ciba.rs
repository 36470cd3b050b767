//! OpenID CIBA's records: clients of each kind read back as written and registered once,
//! backchannel requests found by hash and by approval, the poll turn as a compare-and-set, token
//! issuance and revocation once each (raced too), and the purge of what expired.

use crate::races::{assert_one_chain, winners};
use crate::support::{app, approval, audit, audit_rows, now, user};
use assent_core::audit::AuditEvent;
use assent_core::ciba::records::{AgentProfile, CibaClient, CibaRequest, ClientAuth, DeliveryMode};
use assent_core::ids::UserId;
use assent_core::model::{App, User};
use assent_core::{Store, StoreError};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

pub(crate) fn registered(client: &CibaClient) -> AuditEvent {
    AuditEvent::CibaClientRegistered {
        client_id: client.client_id.clone(),
        app_id: client.app_id.to_string(),
        mode: client.mode.as_str().into(),
        auth_method: match client.auth {
            ClientAuth::Secret { .. } => "client_secret_basic".into(),
            ClientAuth::PrivateKeyJwt { .. } => "private_key_jwt".into(),
        },
        agent_owner: client.agent.as_ref().map(|a| a.owner.to_string()),
    }
}

fn issued(request: &CibaRequest, token_id: &str) -> AuditEvent {
    AuditEvent::CibaTokensIssued {
        approval_id: request.approval_id.to_string(),
        client_id: request.client_id.clone(),
        token_id: token_id.into(),
        expires_at: (now() + Duration::minutes(10)).unix_timestamp(),
    }
}

fn revoked(jti: &str) -> AuditEvent {
    AuditEvent::AccessTokenRevoked {
        token_id: jti.into(),
        client_id: "bank".into(),
    }
}

/// A poll-mode client authenticated by a secret, with no agent profile.
fn secret_client(app: &App, client_id: &str) -> CibaClient {
    CibaClient {
        client_id: client_id.into(),
        app_id: app.id.clone(),
        name: "Acme Bank".into(),
        mode: DeliveryMode::Poll,
        notification_endpoint: None,
        auth: ClientAuth::Secret {
            secret_hash: vec![0xA5; 32],
        },
        requires_user_code: false,
        agent: None,
        created_at: now(),
    }
}

/// A ping-mode agent authenticated by its keys, acting for `owner`.
pub(crate) fn agent_client(app: &App, client_id: &str, owner: &UserId) -> CibaClient {
    CibaClient {
        client_id: client_id.into(),
        app_id: app.id.clone(),
        name: "Travel agent".into(),
        mode: DeliveryMode::Ping,
        notification_endpoint: Some("https://agent.example/ciba".into()),
        auth: ClientAuth::PrivateKeyJwt {
            jwks: r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f83O","y":"x_FE"}]}"#.into(),
        },
        requires_user_code: true,
        agent: Some(AgentProfile {
            owner: owner.clone(),
            allowed_types: vec!["payment_initiation".into(), "booking".into()],
        }),
        created_at: now() + Duration::milliseconds(1),
    }
}

/// A stored approval for `user` and a backchannel request for it, not yet stored.
pub(crate) async fn pending_request(
    store: &Arc<dyn Store>,
    client: &CibaClient,
    acme: &App,
    user: &User,
    expires_at: OffsetDateTime,
) -> CibaRequest {
    let a = approval(acme, user, Duration::minutes(2));
    store
        .insert_approval(&a, &[], audit(crate::support::event()))
        .await
        .unwrap();
    CibaRequest {
        id_hash: uuid::Uuid::new_v4().as_bytes().repeat(2),
        client_id: client.client_id.clone(),
        approval_id: a.id,
        user_id: user.id.clone(),
        scope: vec!["openid".into(), "payments".into()],
        acr: None,
        notification_token_sealed: None,
        interval: 5,
        next_poll_at: now(),
        token_lifetime: None,
        created_at: now(),
        expires_at,
        tokens_issued_at: None,
    }
}

/// A stored client, approval and backchannel request.
async fn stored_request(store: &Arc<dyn Store>) -> CibaRequest {
    let alice = user(store, "alice").await;
    let acme = app(store, "Acme").await;
    let client = secret_client(&acme, "bank");
    store
        .insert_ciba_client(&client, audit(registered(&client)))
        .await
        .unwrap();
    let request =
        pending_request(store, &client, &acme, &alice, now() + Duration::minutes(2)).await;
    store.insert_ciba_request(&request).await.unwrap();
    request
}

pub(crate) async fn ciba_clients_round_trip_and_are_registered_once(store: Arc<dyn Store>) {
    let owner = user(&store, "owner").await;
    let acme = app(&store, "Acme").await;
    let bank = secret_client(&acme, "bank");
    let agent = agent_client(&acme, "agent", &owner.id);
    assert_eq!(store.ciba_client("bank").await.unwrap(), None);
    let before = audit_rows(&store).await;
    for client in [&agent, &bank] {
        store
            .insert_ciba_client(client, audit(registered(client)))
            .await
            .unwrap();
    }
    assert_eq!(audit_rows(&store).await, before + 2, "one audit row each");
    // Read twice: a store that keeps clients in memory answers the same the second time.
    for _ in 0..2 {
        assert_eq!(store.ciba_client("bank").await.unwrap(), Some(bank.clone()));
        assert_eq!(
            store.ciba_client("agent").await.unwrap(),
            Some(agent.clone())
        );
    }
    assert_eq!(
        store.ciba_client("Bank").await.unwrap(),
        None,
        "ids are exact"
    );
    assert_eq!(
        store.list_ciba_clients().await.unwrap(),
        vec![bank.clone(), agent.clone()],
        "oldest first"
    );

    // A second registration of an id is refused whole: no change, no audit row.
    let mut usurper = agent_client(&acme, "bank", &owner.id);
    usurper.auth = ClientAuth::Secret {
        secret_hash: vec![0x5A; 32],
    };
    let refused = store
        .insert_ciba_client(&usurper, audit(registered(&usurper)))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(store.ciba_client("bank").await.unwrap(), Some(bank));
    assert_eq!(audit_rows(&store).await, before + 2);
    assert_eq!(store.list_ciba_clients().await.unwrap().len(), 2);
}

pub(crate) async fn ciba_requests_are_found_by_hash_and_by_approval(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let client = agent_client(&acme, "agent", &alice.id);
    store
        .insert_ciba_client(&client, audit(registered(&client)))
        .await
        .unwrap();
    let later = now() + Duration::minutes(2);
    let plain = pending_request(&store, &client, &acme, &alice, later).await;
    let mut full = pending_request(&store, &client, &acme, &alice, later).await;
    full.acr = Some("urn:assent:acr:passkey".into());
    full.notification_token_sealed = Some(vec![3; 60]);
    full.token_lifetime = Some(u32::MAX);
    full.interval = u32::MAX;
    full.scope = vec!["openid".into()];
    let before = audit_rows(&store).await;
    for request in [&plain, &full] {
        store.insert_ciba_request(request).await.unwrap();
    }
    assert_eq!(
        audit_rows(&store).await,
        before,
        "a request itself is not audited"
    );
    for request in [&plain, &full] {
        assert_eq!(
            store.ciba_request(&request.id_hash).await.unwrap().as_ref(),
            Some(request)
        );
        assert_eq!(
            store
                .ciba_request_for_approval(&request.approval_id)
                .await
                .unwrap()
                .as_ref(),
            Some(request)
        );
    }
    assert_eq!(store.ciba_request(&[0; 32]).await.unwrap(), None);
    let other = approval(&acme, &alice, Duration::minutes(2));
    store
        .insert_approval(&other, &[], audit(crate::support::event()))
        .await
        .unwrap();
    assert_eq!(
        store.ciba_request_for_approval(&other.id).await.unwrap(),
        None
    );

    // One request per approval, per hash, and only for a registered client; the refusal names
    // no stored value (the hash is the client's bearer handle).
    let mut again = plain.clone();
    again.id_hash = vec![9; 32];
    let mut same_hash = full.clone();
    same_hash.approval_id = other.id.clone();
    let mut stranger = pending_request(&store, &client, &acme, &alice, later).await;
    stranger.client_id = "nobody".into();
    for refused in [again, same_hash, stranger] {
        let result = store.insert_ciba_request(&refused).await;
        assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
        let message = result.unwrap_err().to_string();
        let hex: String = refused.id_hash.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!message.contains(&hex), "{message}");
    }
    assert_eq!(
        store.ciba_request(&plain.id_hash).await.unwrap(),
        Some(plain)
    );
}

pub(crate) async fn ciba_poll_turn_is_compare_and_set(store: Arc<dyn Store>) {
    let request = stored_request(&store).await;
    let first = request.next_poll_at;
    let second = first + Duration::seconds(5);
    assert!(
        store
            .move_ciba_poll(&request.id_hash, first, second, 5)
            .await
            .unwrap()
    );
    // A poll that read the old turn loses, and writes nothing.
    assert!(
        !store
            .move_ciba_poll(&request.id_hash, first, first + Duration::seconds(10), 10)
            .await
            .unwrap()
    );
    let stored = store.ciba_request(&request.id_hash).await.unwrap().unwrap();
    assert_eq!((stored.next_poll_at, stored.interval), (second, 5));
    // The one that read the new turn moves it on (a slow_down: the interval grows).
    let third = second + Duration::seconds(10);
    assert!(
        store
            .move_ciba_poll(&request.id_hash, second, third, 10)
            .await
            .unwrap()
    );
    let stored = store.ciba_request(&request.id_hash).await.unwrap().unwrap();
    assert_eq!(
        stored,
        CibaRequest {
            next_poll_at: third,
            interval: 10,
            ..request.clone()
        },
        "only the turn changed"
    );
    assert!(
        !store
            .move_ciba_poll(&[0; 32], third, third, 5)
            .await
            .unwrap(),
        "no request, nothing moved"
    );

    // Polls raced on one turn: one moves it.
    let won = winners(8, |i| {
        let (store, id_hash) = (store.clone(), request.id_hash.clone());
        async move {
            let next = third + Duration::seconds(i64::try_from(i).unwrap() + 1);
            store
                .move_ciba_poll(&id_hash, third, next, 5)
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won, 1);
}

pub(crate) async fn ciba_tokens_are_issued_once(store: Arc<dyn Store>) {
    let request = stored_request(&store).await;
    let before = audit_rows(&store).await;
    let at = now();
    assert!(
        store
            .issue_ciba_tokens(&request.id_hash, at, audit(issued(&request, "t1")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .issue_ciba_tokens(
                &request.id_hash,
                at + Duration::seconds(1),
                audit(issued(&request, "t2"))
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .issue_ciba_tokens(&[0; 32], at, audit(issued(&request, "t3")))
            .await
            .unwrap()
    );
    assert_eq!(
        audit_rows(&store).await,
        before + 1,
        "only the issuance is audited"
    );
    let page = store.audit_page(0, 100_000).await.unwrap();
    let last = page.last().unwrap();
    assert_eq!(last.kind, "ciba_tokens_issued");
    assert!(last.data.contains("\"t1\""), "{}", last.data);
    let stored = store.ciba_request(&request.id_hash).await.unwrap().unwrap();
    assert_eq!(
        stored,
        CibaRequest {
            tokens_issued_at: Some(at),
            ..request
        }
    );
}

/// Polls on several nodes collecting one approved request at once: one gets the tokens, and
/// only its audit row joins the chain.
pub(crate) async fn concurrent_ciba_token_issues_have_one_winner(store: Arc<dyn Store>) {
    let mut requests = Vec::new();
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let client = secret_client(&acme, "bank");
    store
        .insert_ciba_client(&client, audit(registered(&client)))
        .await
        .unwrap();
    for _ in 0..5 {
        let r = pending_request(&store, &client, &acme, &alice, now() + Duration::minutes(2)).await;
        store.insert_ciba_request(&r).await.unwrap();
        requests.push(r);
    }
    let before = audit_rows(&store).await;
    for request in &requests {
        let won = winners(8, |i| {
            let (store, request) = (store.clone(), request.clone());
            async move {
                let event = issued(&request, &format!("t{i}"));
                store
                    .issue_ciba_tokens(&request.id_hash, now(), audit(event))
                    .await
                    .unwrap()
            }
        })
        .await;
        assert_eq!(won, 1, "the tokens of a request are issued once");
    }
    assert_one_chain(&store, before + requests.len()).await;
}

pub(crate) async fn tokens_are_revoked_once(store: Arc<dyn Store>) {
    let expires = now() + Duration::minutes(10);
    assert!(!store.token_revoked("jti-1").await.unwrap());
    let before = audit_rows(&store).await;
    assert!(
        store
            .revoke_token("jti-1", expires, audit(revoked("jti-1")))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_token("jti-1", expires, audit(revoked("jti-1")))
            .await
            .unwrap(),
        "revoked already"
    );
    assert_eq!(audit_rows(&store).await, before + 1);
    assert!(store.token_revoked("jti-1").await.unwrap());
    assert!(!store.token_revoked("jti-2").await.unwrap());
    assert!(
        !store.token_revoked("JTI-1").await.unwrap(),
        "ids are exact"
    );

    let won = winners(8, |_| {
        let store = store.clone();
        async move {
            store
                .revoke_token("jti-2", expires, audit(revoked("jti-2")))
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won, 1, "a token is revoked once");
    assert_one_chain(&store, before + 2).await;
}

pub(crate) async fn ciba_purge_removes_only_what_expired(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let client = secret_client(&acme, "bank");
    store
        .insert_ciba_client(&client, audit(registered(&client)))
        .await
        .unwrap();
    let at = now();
    let (past, future) = (at - Duration::seconds(1), at + Duration::seconds(1));
    let mut stored = Vec::new();
    for expires_at in [past, at, future] {
        let r = pending_request(&store, &client, &acme, &alice, expires_at).await;
        store.insert_ciba_request(&r).await.unwrap();
        stored.push(r);
    }
    for (jti, expires_at) in [("old", past), ("now", at), ("new", future)] {
        assert!(
            store
                .revoke_token(jti, expires_at, audit(revoked(jti)))
                .await
                .unwrap()
        );
    }
    let rows = audit_rows(&store).await;

    assert_eq!(
        store.purge_ciba(at).await.unwrap(),
        2,
        "one request, one revocation"
    );
    assert_eq!(store.ciba_request(&stored[0].id_hash).await.unwrap(), None);
    assert_eq!(
        store
            .ciba_request_for_approval(&stored[0].approval_id)
            .await
            .unwrap(),
        None
    );
    for kept in &stored[1..] {
        assert_eq!(
            store.ciba_request(&kept.id_hash).await.unwrap().as_ref(),
            Some(kept)
        );
    }
    assert!(!store.token_revoked("old").await.unwrap());
    assert!(store.token_revoked("now").await.unwrap());
    assert!(store.token_revoked("new").await.unwrap());
    assert_eq!(store.ciba_client("bank").await.unwrap(), Some(client));
    assert_eq!(audit_rows(&store).await, rows, "a purge is not audited");
    assert_eq!(
        store.purge_ciba(at).await.unwrap(),
        0,
        "nothing left to purge"
    );
    assert_eq!(
        store
            .purge_ciba(future + Duration::milliseconds(1))
            .await
            .unwrap(),
        4
    );
}
