//! Server-sent event streams. Each stream is a task that re-reads the store whenever the
//! notifier wakes it, and ends when the client goes away or the server shuts down.

use super::render;
use crate::http::AppState;
use assent_core::AuthenticatedDevice;
use assent_core::Topic;
use assent_core::model::{App, Approval};
use assent_proto::api::StreamEvent;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// How often a device stream re-checks even without a wake-up (expiries make no noise).
const DEVICE_RECHECK: Duration = Duration::from_secs(15);

fn event(name: &str, data: &impl serde::Serialize) -> Result<Event, Infallible> {
    Ok(Event::default()
        .event(name)
        .data(serde_json::to_string(data).unwrap_or_default()))
}

/// The relying party's stream of one request's state: an event now and at every change, until
/// it is final. The core's watch decides when to read; this only renders and sends.
pub(crate) fn approval_stream(
    state: AppState,
    app: App,
    approval: Approval,
) -> impl IntoResponse + use<> {
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        let id = approval.id.to_string();
        drop(approval);
        let mut watch = match state.assent.watch_for_app(&app, &id).await {
            Ok(watch) => watch,
            Err(e) => {
                tracing::warn!(error = %e, "approval stream ended on an error");
                return;
            }
        };
        loop {
            let change = tokio::select! {
                change = watch.next_change() => change,
                _ = tx.closed() => break,
                _ = crate::http::shutting_down(state.shutdown.clone()) => break,
            };
            let current = match change {
                Ok(Some(current)) => current,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "approval stream ended on an error");
                    break;
                }
            };
            let Ok(view) = render::status_of(&state.assent, current).await else {
                break;
            };
            if tx.send(event("state", &view)).await.is_err() {
                break;
            }
        }
    });
    sse_typed(rx)
}

fn sse_typed(rx: mpsc::Receiver<Result<Event, Infallible>>) -> impl IntoResponse + use<> {
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// A device's stream of arriving and ending requests.
pub(crate) fn device_stream(
    state: AppState,
    device: AuthenticatedDevice,
) -> impl IntoResponse + use<> {
    let (tx, rx) = mpsc::channel(32);
    tokio::spawn(async move {
        let user = device.device().user_id.clone();
        // Two kinds of wake-up, so each re-reads only what it concerns: requests coming and
        // going, and the device's own state and the user's alerts.
        let mut requests = state
            .assent
            .notifier()
            .subscribe(&Topic::User(user.clone()));
        let mut account = state.assent.notifier().subscribe(&Topic::Account(user));
        let mut shown: HashSet<String> = HashSet::new();
        let mut shown_broadcasts: HashSet<String> = HashSet::new();
        // The newest alert when the stream opened; newer ones are announced as they arrive.
        let mut newest_alert = state
            .assent
            .alerts(&device)
            .await
            .ok()
            .and_then(|a| a.first().map(|a| a.id.clone()));
        let (mut check_account, mut check_requests) = (true, true);
        loop {
            if check_account {
                match state.assent.stream_may_continue(&device).await {
                    Ok(true) => {}
                    Ok(false) => {
                        let _ = tx
                            .send(event(
                                "revoked",
                                &serde_json::json!({"device_id": device.device().id.to_string()}),
                            ))
                            .await;
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "device stream ended on an error");
                        break;
                    }
                }
            }
            let mut closed = false;
            if check_requests {
                match announce_requests(&state, &device, &mut shown, &tx).await {
                    Ok(open) => closed |= !open,
                    Err(e) => {
                        tracing::warn!(error = %e, "device stream ended on an error");
                        break;
                    }
                }
            }
            if check_account && let Ok(alerts) = state.assent.alerts(&device).await {
                let newest = alerts.first().map(|a| a.id.clone());
                if newest.is_some() && newest != newest_alert {
                    newest_alert = newest;
                    let alert = &alerts[0];
                    let data = serde_json::json!({"id": alert.id.to_string(), "kind": alert.kind, "message": alert.message});
                    closed |= tx.send(event("alert", &data)).await.is_err();
                }
            }
            if check_account {
                closed |= !announce_broadcasts(&state, &device, &mut shown_broadcasts, &tx).await;
            }
            if closed {
                break;
            }
            let (mut woke_requests, mut woke_account) = (false, false);
            tokio::select! {
                _ = requests.changed() => woke_requests = true,
                _ = account.changed() => woke_account = true,
                _ = tokio::time::sleep(DEVICE_RECHECK) => (woke_requests, woke_account) = (true, true),
                _ = tx.closed() => break,
                _ = crate::http::shutting_down(state.shutdown.clone()) => break,
            }
            // A revocation wakes both (its pending requests are withdrawn): the account is
            // checked first, so a revoked device is told it is revoked, not shown requests.
            check_account = account.take_change() | woke_account;
            check_requests = requests.take_change() | woke_requests;
        }
    });
    sse_typed(rx)
}

/// Sends a `broadcast` event for each broadcast waiting for the user's acknowledgement that the
/// stream has not shown yet (all of them when it opens). `false` when the client went away; a
/// failed read is logged and tried again at the next wake-up.
async fn announce_broadcasts(
    state: &AppState,
    device: &AuthenticatedDevice,
    shown: &mut HashSet<String>,
    tx: &mpsc::Sender<Result<Event, Infallible>>,
) -> bool {
    let waiting = match state.assent.unacknowledged_broadcasts(device).await {
        Ok(waiting) => waiting,
        Err(e) => {
            tracing::warn!(error = %e, "broadcasts not read for a device stream");
            return true;
        }
    };
    let now: HashSet<String> = waiting.iter().map(ToString::to_string).collect();
    shown.retain(|id| now.contains(id));
    for id in waiting {
        let id = id.to_string();
        if shown.insert(id.clone())
            && tx
                .send(event("broadcast", &serde_json::json!({"id": id})))
                .await
                .is_err()
        {
            return false;
        }
    }
    true
}

/// Sends an `approval` event for each pending request the stream has not shown yet and a
/// `resolved` event for each shown one that is no longer pending. `Ok(false)` when the client
/// went away.
async fn announce_requests(
    state: &AppState,
    device: &AuthenticatedDevice,
    shown: &mut HashSet<String>,
    tx: &mpsc::Sender<Result<Event, Infallible>>,
) -> Result<bool, assent_core::CoreError> {
    let pending = state.assent.stream_pending(device).await?;
    let now: HashSet<String> = pending.iter().map(|a| a.id.to_string()).collect();
    let mut closed = false;
    for approval in &pending {
        let id = approval.id.to_string();
        if shown.insert(id.clone()) {
            closed |= tx
                .send(event(
                    "approval",
                    &StreamEvent {
                        id,
                        state: approval.state,
                    },
                ))
                .await
                .is_err();
        }
    }
    let ended: Vec<String> = shown.difference(&now).cloned().collect();
    for id in ended {
        shown.remove(&id);
        let state = state
            .assent
            .current_state(&id)
            .await
            .unwrap_or(assent_proto::api::ApprovalState::Expired);
        closed |= tx
            .send(event("resolved", &StreamEvent { id, state }))
            .await
            .is_err();
    }
    Ok(!closed)
}
