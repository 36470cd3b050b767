//! Memory of the rows a flow reads again and again while they change seldom or never: devices
//! (by id and by key thumbprint: every device request, every answer and every receipt view reads
//! one) and requests (the device's stream, its fetch and its answer each read the request). A
//! read after any commit costs a SQLite reader its whole page cache (WAL readers start afresh
//! when the log moved), so each of these reads was several `pread` calls.
//!
//! It is valid because one process owns the database ([`crate::owner`]) and every write goes
//! through this store's writer thread, which forgets what a write changed right after its commit
//! and before the writer's caller hears of it. A read that raced such a write (it read the row
//! before the commit) may not keep what it read: each fill carries the epoch it started in, and
//! every forgetting moves the epoch on.
//!
//! CIBA clients are kept too (the token endpoint reads the client on every poll): a client is
//! inserted once and never changed or removed, so a client read from the database stays true
//! and needs no epoch. CIBA requests are never kept: their poll turn and token issuance change
//! under concurrent polls, and those writes must be decided by the database alone.

use assent_core::ciba::records::{CibaClient, ClientAuth};
use assent_core::ids::{ApprovalId, DeviceId};
use assent_core::model::{Approval, Device, MAX_KEPT_APPROVAL_BYTES};
use std::collections::HashMap;
use std::sync::Mutex;

/// Devices kept: past it the memory starts over empty (a burst of reads, never unbounded memory).
const DEVICES: usize = 16_384;
/// Requests kept. Two thousand covers every request in flight at tens of thousands of sign-ins
/// a minute; with 100,000 pending, most are read from the database, as before.
const APPROVALS: usize = 2_048;
/// CIBA clients kept: clients are registered by an admin, so a few hundred is already many.
const CIBA_CLIENTS: usize = 1_024;
/// A client whose free-form fields (name, endpoint, key set) are larger than this is read from
/// the database each time, so the clients kept stay within a few megabytes.
const MAX_KEPT_CLIENT_BYTES: usize = 8 * 1024;

/// The remembered rows.
#[derive(Default)]
pub(crate) struct Memo {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Moves on with every forgetting; a fill that started in an older epoch is dropped.
    epoch: u64,
    devices: HashMap<DeviceId, Device>,
    device_by_jkt: HashMap<String, DeviceId>,
    approvals: HashMap<ApprovalId, Approval>,
    ciba_clients: HashMap<String, CibaClient>,
}

/// Taken before a read from the database; a fill presents it.
#[derive(Clone, Copy)]
pub(crate) struct Ticket(u64);

impl Memo {
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(self.inner.lock().map(|m| m.epoch).unwrap_or(u64::MAX))
    }

    pub(crate) fn device(&self, id: &DeviceId) -> Option<Device> {
        self.inner.lock().ok()?.devices.get(id).cloned()
    }

    pub(crate) fn device_by_jkt(&self, jkt: &str) -> Option<Device> {
        let inner = self.inner.lock().ok()?;
        let id = inner.device_by_jkt.get(jkt)?;
        inner.devices.get(id).cloned()
    }

    pub(crate) fn approval(&self, id: &ApprovalId) -> Option<Approval> {
        self.inner.lock().ok()?.approvals.get(id).cloned()
    }

    pub(crate) fn ciba_client(&self, client_id: &str) -> Option<CibaClient> {
        self.inner.lock().ok()?.ciba_clients.get(client_id).cloned()
    }

    /// Keeps a client read from the database. No ticket: a stored client never changes, so no
    /// write can have made what was read stale. Only found clients are kept (one not found may
    /// be registered a moment later), and only small ones ([`MAX_KEPT_CLIENT_BYTES`]).
    pub(crate) fn keep_ciba_client(&self, client: &CibaClient) {
        let jwks = match &client.auth {
            ClientAuth::PrivateKeyJwt { jwks } => jwks.len(),
            ClientAuth::Secret { .. } => 0,
        };
        let endpoint = client.notification_endpoint.as_ref().map_or(0, String::len);
        let types: usize = client
            .agent
            .iter()
            .flat_map(|a| &a.allowed_types)
            .map(String::len)
            .sum();
        if client.client_id.len() + client.name.len() + endpoint + jwks + types
            > MAX_KEPT_CLIENT_BYTES
        {
            return;
        }
        if let Ok(mut inner) = self.inner.lock() {
            if inner.ciba_clients.len() >= CIBA_CLIENTS {
                inner.ciba_clients.clear();
            }
            inner
                .ciba_clients
                .insert(client.client_id.clone(), client.clone());
        }
    }

    /// Keeps a device read from the database, unless a write was forgotten since `ticket`.
    pub(crate) fn keep_device(&self, ticket: Ticket, device: &Device) {
        self.fill(ticket, |inner| {
            if inner.devices.len() >= DEVICES {
                inner.devices.clear();
                inner.device_by_jkt.clear();
            }
            inner
                .device_by_jkt
                .insert(device.jkt.clone(), device.id.clone());
            inner.devices.insert(device.id.clone(), device.clone());
        });
    }

    /// Keeps a request read from the database, unless a write was forgotten since `ticket` or
    /// it is larger than [`MAX_KEPT_APPROVAL_BYTES`].
    pub(crate) fn keep_approval(&self, ticket: Ticket, approval: &Approval) {
        if approval.free_form_bytes() > MAX_KEPT_APPROVAL_BYTES {
            return;
        }
        self.fill(ticket, |inner| {
            if inner.approvals.len() >= APPROVALS {
                inner.approvals.clear();
            }
            inner
                .approvals
                .insert(approval.id.clone(), approval.clone());
        });
    }

    /// Called by the writer thread after a commit that may have changed the device.
    pub(crate) fn forget_device(&self, id: &DeviceId) {
        self.forget(|inner| {
            if let Some(device) = inner.devices.remove(id) {
                inner.device_by_jkt.remove(&device.jkt);
            }
        });
    }

    /// Called by the writer thread after a commit that may have changed the request.
    pub(crate) fn forget_approval(&self, id: &ApprovalId) {
        self.forget(|inner| {
            inner.approvals.remove(id);
        });
    }

    /// Runs `keep` unless a write was forgotten since `ticket`.
    fn fill(&self, ticket: Ticket, keep: impl FnOnce(&mut Inner)) {
        if let Ok(mut inner) = self.inner.lock()
            && inner.epoch == ticket.0
        {
            keep(&mut inner);
        }
    }

    /// Moves the epoch on, so reads in flight keep nothing, and removes what `remove` names.
    fn forget(&self, remove: impl FnOnce(&mut Inner)) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.epoch += 1;
            remove(&mut inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assent_core::fixtures::transfer;
    use assent_proto::jose::SigningKey;
    use assent_proto::states::DeviceState;
    use time::OffsetDateTime;

    fn phone() -> Device {
        let jwk = SigningKey::generate().unwrap().jwk().clone();
        Device {
            id: DeviceId::generate(),
            user_id: assent_core::ids::UserId::generate(),
            name: "phone".into(),
            platform: "test".into(),
            jkt: jwk.thumbprint(),
            jwk,
            state: DeviceState::Active,
            created_at: OffsetDateTime::UNIX_EPOCH,
            revoked_at: None,
            last_seen_at: None,
            activation_code_sealed: None,
            push_channel: None,
            push_working: false,
        }
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let memo = Memo::default();
        let device = phone();
        // Read before the write committed; the writer forgets the device after its commit.
        let ticket = memo.ticket();
        memo.forget_device(&device.id);
        memo.keep_device(ticket, &device);
        assert!(
            memo.device(&device.id).is_none(),
            "the stale row was dropped"
        );

        let ticket = memo.ticket();
        memo.keep_device(ticket, &device);
        assert_eq!(memo.device(&device.id), Some(device.clone()));
        assert_eq!(memo.device_by_jkt(&device.jkt), Some(device.clone()));

        // A write after the fill forgets it, by id and by key.
        memo.forget_device(&device.id);
        assert!(memo.device(&device.id).is_none());
        assert!(memo.device_by_jkt(&device.jkt).is_none());
    }

    #[test]
    fn a_large_request_is_read_from_the_database_each_time() {
        let memo = Memo::default();
        let small = transfer(serde_json::json!({"type": "payment", "amount": "10.00"}));
        let large = transfer(serde_json::json!({"note": "x".repeat(MAX_KEPT_APPROVAL_BYTES)}));
        memo.keep_approval(memo.ticket(), &small);
        memo.keep_approval(memo.ticket(), &large);
        assert_eq!(memo.approval(&small.id), Some(small.clone()));
        assert_eq!(
            memo.approval(&large.id),
            None,
            "memory bounded in bytes too"
        );
    }

    #[test]
    fn only_small_ciba_clients_are_kept() {
        use assent_core::ciba::records::DeliveryMode;
        let client = |id: &str, jwks: String| CibaClient {
            client_id: id.into(),
            app_id: assent_core::ids::AppId::generate(),
            name: "agent".into(),
            mode: DeliveryMode::Poll,
            notification_endpoint: None,
            auth: ClientAuth::PrivateKeyJwt { jwks },
            requires_user_code: false,
            agent: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        let memo = Memo::default();
        let small = client("small", "{}".into());
        let large = client("large", "x".repeat(MAX_KEPT_CLIENT_BYTES));
        memo.keep_ciba_client(&small);
        memo.keep_ciba_client(&large);
        assert_eq!(memo.ciba_client("small"), Some(small));
        assert_eq!(memo.ciba_client("large"), None, "memory bounded in bytes");
    }
}
