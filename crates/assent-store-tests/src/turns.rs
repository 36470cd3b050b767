//! What decides between nodes sharing a database: a user's prompt turn is held by one caller at
//! a time, a pattern alert is claimed once per quiet period, and an application's webhook
//! deliveries are claimed by one dispatcher at a time, whose progress alone lands.

use crate::support::{app, audit, event, now, user};
use assent_core::Store;
use assent_core::model::{Webhook, WebhookProgress};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use time::Duration;

/// Turns for one user never overlap, whoever asks; another user's turn does not wait for them.
pub(crate) async fn prompt_turns_are_held_one_at_a_time(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let turns: Vec<_> = (0..8)
        .map(|_| {
            let (store, alice, inside, most) = (
                store.clone(),
                alice.id.clone(),
                inside.clone(),
                most.clone(),
            );
            tokio::spawn(async move {
                let turn = store.prompt_turn(&alice).await.unwrap();
                let now_inside = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now_inside, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                drop(turn);
            })
        })
        .collect();
    for turn in turns {
        turn.await.unwrap();
    }
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "two turns for one user overlapped"
    );

    // A turn ends when dropped, and another user's is independent of it.
    let held = store.prompt_turn(&alice.id).await.unwrap();
    let other = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        store.prompt_turn(&bob.id),
    )
    .await
    .expect("bob's turn waited for alice's")
    .unwrap();
    let waiting = tokio::spawn({
        let (store, alice) = (store.clone(), alice.id.clone());
        async move { store.prompt_turn(&alice).await.map(drop) }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        !waiting.is_finished(),
        "a second turn for alice began while the first was held"
    );
    drop(held);
    tokio::time::timeout(std::time::Duration::from_secs(10), waiting)
        .await
        .expect("the next turn began once the first was dropped")
        .unwrap()
        .unwrap();
    drop(other);
}

/// Of many simultaneous claims of one pattern alert, one wins; the pattern is quiet until the
/// quiet period since the winner has passed; other users and patterns are independent.
pub(crate) async fn pattern_alerts_are_claimed_once_per_quiet_period(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let at = now();
    let quiet = Duration::minutes(10);
    let claims: Vec<_> = (0..16)
        .map(|_| {
            let (store, alice) = (store.clone(), alice.id.clone());
            tokio::spawn(async move {
                store
                    .claim_pattern_alert("burst_of_prompts", &alice, at, at - quiet)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for claim in claims {
        won += usize::from(claim.await.unwrap());
    }
    assert_eq!(won, 1, "one alert of a burst");

    let later = at + Duration::minutes(9);
    assert!(
        !store
            .claim_pattern_alert("burst_of_prompts", &alice.id, later, later - quiet)
            .await
            .unwrap(),
        "still quiet nine minutes on"
    );
    assert!(
        store
            .claim_pattern_alert("run_of_denials", &alice.id, later, later - quiet)
            .await
            .unwrap(),
        "another pattern is its own"
    );
    assert!(
        store
            .claim_pattern_alert("burst_of_prompts", &bob.id, later, later - quiet)
            .await
            .unwrap(),
        "another user is their own"
    );
    let after = at + quiet;
    assert!(
        store
            .claim_pattern_alert("burst_of_prompts", &alice.id, after, after - quiet)
            .await
            .unwrap(),
        "a burst that goes on alerts again after the quiet period"
    );
    assert!(
        !store
            .claim_pattern_alert("burst_of_prompts", &alice.id, after, after - quiet)
            .await
            .unwrap()
    );
}

/// One dispatcher holds an application's deliveries at a time; it renews and releases its claim,
/// only its progress lands, and once its lease ran out another takes over and the first can no
/// longer write.
pub(crate) async fn webhook_claims_have_one_holder_and_only_its_progress_lands(
    store: Arc<dyn Store>,
) {
    let acme = app(&store, "Acme").await;
    let start = now();
    let lease = Duration::seconds(30);
    let mut progress = WebhookProgress::default();
    assert!(
        !store
            .claim_webhook(&acme.id, "node-a", start, start + lease)
            .await
            .unwrap(),
        "nothing to claim without a webhook"
    );
    let hook = Webhook {
        app_id: acme.id.clone(),
        url: "https://acme.example/hook".into(),
        secret_sealed: vec![3; 40],
        events: vec!["approval.final".into()],
        created_at: start,
    };
    store.set_webhook(&hook, audit(event())).await.unwrap();
    progress.cursor = store.webhook_progress(&acme.id).await.unwrap().cursor;

    // Simultaneous claimers: one wins.
    let claims: Vec<_> = (0..16)
        .map(|i| {
            let (store, app) = (store.clone(), acme.id.clone());
            tokio::spawn(async move {
                let holder = format!("node-{i}");
                let won = store
                    .claim_webhook(&app, &holder, start, start + lease)
                    .await
                    .unwrap();
                won.then_some(holder)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for claim in claims {
        winners.extend(claim.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let a = winners.remove(0);
    let b = if a == "node-1" { "node-2" } else { "node-1" };

    // The holder renews; the other is refused while the lease runs, and cannot write progress.
    let soon = start + Duration::seconds(10);
    assert!(
        store
            .claim_webhook(&acme.id, &a, soon, soon + lease)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_webhook(&acme.id, b, soon, soon + lease)
            .await
            .unwrap()
    );
    let stale = WebhookProgress {
        cursor: progress.cursor + 7,
        last_error: Some("from a dispatcher without the claim".into()),
        failed: 1,
    };
    assert!(!store.advance_webhook(&acme.id, b, &stale).await.unwrap());
    progress.cursor += 1;
    assert!(
        store
            .advance_webhook(&acme.id, &a, &progress)
            .await
            .unwrap()
    );
    assert_eq!(store.webhook_progress(&acme.id).await.unwrap(), progress);

    // Released, another claims at once.
    store.release_webhook(&acme.id, b).await.unwrap();
    assert!(
        !store
            .claim_webhook(&acme.id, b, soon, soon + lease)
            .await
            .unwrap(),
        "only the holder releases"
    );
    store.release_webhook(&acme.id, &a).await.unwrap();
    assert!(
        store
            .claim_webhook(&acme.id, b, soon, soon + lease)
            .await
            .unwrap()
    );

    // The lease runs out (its holder stalled or died): the other takes over, and the stalled
    // one's late progress no longer lands.
    let expired = soon + lease;
    assert!(
        store
            .claim_webhook(&acme.id, &a, expired, expired + lease)
            .await
            .unwrap()
    );
    assert!(!store.advance_webhook(&acme.id, b, &stale).await.unwrap());
    assert_eq!(store.webhook_progress(&acme.id).await.unwrap(), progress);
    assert!(
        !store
            .claim_webhook(&acme.id, b, expired, expired + lease)
            .await
            .unwrap()
    );
}
