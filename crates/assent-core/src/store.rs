//! The storage port. One narrow trait, implemented by the SQLite and PostgreSQL adapters and
//! checked by one shared behavioural suite. Every write that changes security state takes the
//! audit event to append in the same transaction.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::{AppId, ApprovalId, DeviceId, EnrollmentId, UserId, Username};
use crate::model::{
    Admission, Alert, ApiKeyRecord, App, Approval, AuditRecord, DeliveryChannel, Device,
    Enrollment, Outcome, Passkey, PastApproval, ProofUse, PushSubscription, RecoveryCode,
    Suspension, TotpSecret, User, Webhook, WebhookProgress,
};
use async_trait::async_trait;
use time::OffsetDateTime;

/// Everything Assent persists.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- keys and applications
    /// Stores an API key (admin or application) with its audit event. API keys, applications
    /// and users are never changed or removed once stored: the service keeps the copies it
    /// reads (`service::records`), so a method that changed them would also have to make the
    /// service forget them.
    async fn insert_api_key(
        &self,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    async fn has_admin_key(&self) -> Result<bool, StoreError>;
    /// Creates an application together with its first API key.
    async fn insert_app(
        &self,
        app: &App,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn app(&self, id: &AppId) -> Result<Option<App>, StoreError>;

    // --- users
    /// Fails with [`StoreError::Conflict`] when the username is taken.
    async fn insert_user(&self, user: &User, audit: PendingAudit) -> Result<(), StoreError>;
    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    async fn user_by_name(&self, name: &Username) -> Result<Option<User>, StoreError>;
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;

    // --- enrollment and devices
    async fn insert_enrollment(
        &self,
        enrollment: &Enrollment,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn enrollment_by_code_hash(&self, hash: &[u8]) -> Result<Option<Enrollment>, StoreError>;
    /// Marks the enrollment used and creates the device, only if the enrollment is still unused:
    /// returns `false` (and writes nothing) when another use won.
    async fn complete_enrollment(
        &self,
        enrollment: &EnrollmentId,
        device: &Device,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    async fn device(&self, id: &DeviceId) -> Result<Option<Device>, StoreError>;
    async fn device_by_jkt(&self, jkt: &str) -> Result<Option<Device>, StoreError>;
    /// Devices of one user, or of everyone.
    async fn list_devices(&self, user: Option<&UserId>) -> Result<Vec<Device>, StoreError>;
    /// Revokes an active device; `false` when it was already revoked.
    async fn revoke_device(
        &self,
        id: &DeviceId,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Records a device proof's id; `false` when the same key already used it (a replay).
    /// Entries may be forgotten after `expires_at`, when the proof's time check refuses it anyway.
    async fn consume_proof(
        &self,
        jkt: &str,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Forgets proof ids that expired before `now`.
    async fn purge_proofs(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// Records when a device last proved itself: moves `last_seen_at` to `at` only if it is
    /// unset or at least [`crate::model::LAST_SEEN_RESOLUTION`] older.
    async fn touch_device(&self, id: &DeviceId, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Makes a device that waits for activation active; `false` when it no longer waits.
    async fn activate_device(&self, id: &DeviceId, audit: PendingAudit)
    -> Result<bool, StoreError>;
    /// Deletes a device that waits for activation (refused); `false` when it no longer waits.
    async fn remove_pending_device(
        &self,
        id: &DeviceId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;

    /// Devices still waiting for activation that were enrolled before `before`, oldest first,
    /// at most `limit`.
    async fn pending_devices_created_before(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Device>, StoreError>;

    /// Renames a device.
    async fn rename_device(
        &self,
        id: &DeviceId,
        name: &str,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    /// Registers (or replaces) a device's passkey.
    async fn set_passkey(&self, passkey: &Passkey, audit: PendingAudit) -> Result<(), StoreError>;
    async fn passkey(&self, device: &DeviceId) -> Result<Option<Passkey>, StoreError>;
    /// Stores (or replaces) a device's Web Push subscription.
    async fn set_push_subscription(
        &self,
        subscription: &PushSubscription,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn push_subscription(
        &self,
        device: &DeviceId,
    ) -> Result<Option<PushSubscription>, StoreError>;

    // --- fallback factors
    /// Stores a user's TOTP factor; `false` (nothing written) when the user has one.
    async fn insert_totp(&self, totp: &TotpSecret, audit: PendingAudit)
    -> Result<bool, StoreError>;
    async fn totp(&self, user: &UserId) -> Result<Option<TotpSecret>, StoreError>;
    /// Removes a user's TOTP factor; `false` when there was none.
    async fn delete_totp(&self, user: &UserId, audit: PendingAudit) -> Result<bool, StoreError>;
    /// Accepts a code of time step `step` only if no code of this or a later step was accepted
    /// before; `false` (nothing written) otherwise.
    async fn use_totp_step(
        &self,
        user: &UserId,
        step: u64,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Replaces the user's whole set of recovery codes.
    async fn replace_recovery_codes(
        &self,
        user: &UserId,
        codes: &[RecoveryCode],
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    /// The user's unused recovery codes.
    async fn recovery_codes(&self, user: &UserId) -> Result<Vec<RecoveryCode>, StoreError>;
    /// Marks one code used; `false` (nothing written) when it was used already or replaced.
    async fn use_recovery_code(
        &self,
        user: &UserId,
        slot: u32,
        hash: &str,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Counts an attempt at `factor` for the user, unless `max` attempts were counted since
    /// `since` already; check and count are one atomic step, so parallel guesses cannot exceed
    /// the limit.
    async fn admit_attempt(
        &self,
        user: &UserId,
        factor: &str,
        at: OffsetDateTime,
        since: OffsetDateTime,
        max: u32,
    ) -> Result<Admission, StoreError>;
    /// Attempts counted since `since`, and the oldest of them.
    async fn attempts_since(
        &self,
        user: &UserId,
        factor: &str,
        since: OffsetDateTime,
    ) -> Result<(u32, Option<OffsetDateTime>), StoreError>;
    /// Forgets the user's attempts at `factor` (after a success).
    async fn clear_attempts(&self, user: &UserId, factor: &str) -> Result<(), StoreError>;

    // --- fatigue defense
    /// How many approval requests were created for a user strictly after `since`.
    async fn prompts_since(&self, user: &UserId, since: OffsetDateTime) -> Result<u64, StoreError>;
    /// When the user last approved a request.
    async fn last_approved_at(&self, user: &UserId) -> Result<Option<OffsetDateTime>, StoreError>;
    /// The user's push suspension, if one was ever recorded (it may have ended).
    async fn suspension(&self, user: &UserId) -> Result<Option<Suspension>, StoreError>;
    /// Records (or replaces) a push suspension, with its audit event.
    async fn suspend(&self, suspension: &Suspension, audit: PendingAudit)
    -> Result<(), StoreError>;

    // --- risk
    /// A user's requests created at or after `since`, newest first, at most `limit`.
    async fn request_history(
        &self,
        user: &UserId,
        since: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<PastApproval>, StoreError>;
    /// Records a fraud report from a network.
    async fn record_network_report(
        &self,
        network: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Fraud reports from a network at or after `since`.
    async fn network_reports_since(
        &self,
        network: &str,
        since: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    /// When a device first received a request.
    async fn first_delivery_at(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<OffsetDateTime>, StoreError>;

    // --- webhooks
    /// Configures (or replaces) an application's webhook, with its audit event.
    async fn set_webhook(&self, webhook: &Webhook, audit: PendingAudit) -> Result<(), StoreError>;
    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError>;
    async fn webhook_progress(&self, app: &AppId) -> Result<WebhookProgress, StoreError>;
    async fn set_webhook_progress(
        &self,
        app: &AppId,
        progress: &WebhookProgress,
    ) -> Result<(), StoreError>;

    // --- alerts
    async fn insert_alert(&self, alert: &Alert) -> Result<(), StoreError>;
    /// A user's most recent alerts, newest first.
    async fn alerts_for_user(&self, user: &UserId, limit: u32) -> Result<Vec<Alert>, StoreError>;

    // --- approvals
    async fn insert_approval(
        &self,
        approval: &Approval,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn approval(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError>;
    /// The request as the database holds it at this moment, past any copy the store keeps in
    /// memory: a decision checks the signed details against it, so that details changed in the
    /// database after the device showed them are caught.
    async fn approval_as_stored(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError> {
        self.approval(id).await
    }
    /// A user's pending requests that have not expired at `now`, oldest first.
    async fn pending_for_user(
        &self,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Approval>, StoreError>;
    /// Pending requests whose expiry is at or before `now`, at most `limit`.
    async fn due_for_expiry(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError>;
    /// Writes the final state only if the request is still pending; `false` when it was not
    /// (another answer, a cancel or the expiry won), in which case nothing is written. An
    /// outcome with a device also counts as that device being seen at `decided_at`, under the
    /// rule of [`Store::touch_device`].
    async fn finalize(
        &self,
        id: &ApprovalId,
        outcome: &Outcome,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Records that a device received a request; the audit event is written only the first time
    /// per device and channel. Returns whether it was the first time.
    async fn record_delivery(
        &self,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// [`Store::consume_proof`] and [`Store::record_delivery`] in one transaction: a device's
    /// fetch of a request then waits for one commit, not two. `None` when the proof id was
    /// already used (a replay), and then nothing is written; otherwise whether the delivery was
    /// the first for this device and channel (the proof id is recorded either way).
    async fn record_delivery_with_proof(
        &self,
        proof: &ProofUse,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<Option<bool>, StoreError>;

    // --- audit
    /// Audit rows with `seq > after`, in order, at most `limit`.
    async fn audit_page(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError>;
    /// The sequence number of the last row, as recorded with the last append.
    async fn audit_head(&self) -> Result<Option<u64>, StoreError>;
    /// Appends an event that accompanies no other change (start-up events).
    async fn append_audit(&self, audit: PendingAudit) -> Result<(), StoreError>;
}
