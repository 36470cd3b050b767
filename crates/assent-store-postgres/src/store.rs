//! [`Store`] on PostgreSQL: the handle, how it connects, and the map from the trait onto the
//! operations in [`crate::ops`].

use crate::connect::{self, MAX_CONNECTIONS};
use crate::migrate::migrate;
use crate::ops;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::ids::{AppId, ApprovalId, DeviceId, EnrollmentId, UserId, Username};
use assent_core::model::{
    Admission, Alert, ApiKeyRecord, App, Approval, AuditRecord, DeliveryChannel, Device,
    Enrollment, Outcome, Passkey, PastApproval, ProofUse, PushSubscription, RecoveryCode,
    Suspension, TotpSecret, User, Webhook, WebhookProgress,
};
use assent_core::store::{
    AlertStore, ApprovalStore, AuditStore, DeviceStore, EnrollmentStore, FactorStore,
    IdentityStore, SignalStore, WebhookStore,
};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool};
use time::OffsetDateTime;

/// The PostgreSQL store. Cheap to clone; clones share one connection pool. Several processes
/// (nodes) may each hold one on the same database: every write that must happen once decides
/// inside PostgreSQL, so the nodes need not know about each other.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the connect options: they hold the password.
        f.debug_struct("PostgresStore")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgres://` URL; `sslmode`, `sslrootcert` and the
    /// other libpq parameters apply) and brings the schema up to date. Errors never contain the
    /// URL's password.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = connect::options_from_url(url)?;
        Self::open(options, Some(url)).await
    }

    /// Like [`connect`](Self::connect), with options built by the caller (for example a
    /// `search_path` that puts Assent's tables in their own schema).
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        Self::open(options, None).await
    }

    async fn open(options: PgConnectOptions, url: Option<&str>) -> Result<Self, StoreError> {
        let options = connect::with_session_settings(options);
        let pool = connect::pool(options, MAX_CONNECTIONS, url).await?;
        migrate(&pool).await?;
        Ok(PostgresStore { pool })
    }

    /// Closes every connection, waiting for those in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl IdentityStore for PostgresStore {
    async fn insert_api_key(
        &self,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        ops::identity::insert_api_key(&self.pool, key, &audit).await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        ops::identity::api_key(&self.pool, id).await
    }

    async fn has_admin_key(&self) -> Result<bool, StoreError> {
        ops::identity::has_admin_key(&self.pool).await
    }

    async fn insert_app(
        &self,
        app: &App,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        ops::identity::insert_app(&self.pool, app, key, &audit).await
    }

    async fn app(&self, id: &AppId) -> Result<Option<App>, StoreError> {
        ops::identity::app(&self.pool, id).await
    }

    async fn insert_user(&self, user: &User, audit: PendingAudit) -> Result<(), StoreError> {
        ops::identity::insert_user(&self.pool, user, &audit).await
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        ops::identity::user(&self.pool, id).await
    }

    async fn user_by_name(&self, name: &Username) -> Result<Option<User>, StoreError> {
        ops::identity::user_by_name(&self.pool, name).await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        ops::identity::list_users(&self.pool).await
    }
}

#[async_trait]
impl EnrollmentStore for PostgresStore {
    async fn insert_enrollment(
        &self,
        enrollment: &Enrollment,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        ops::devices::insert_enrollment(&self.pool, enrollment, &audit).await
    }

    async fn enrollment_by_code_hash(&self, hash: &[u8]) -> Result<Option<Enrollment>, StoreError> {
        ops::devices::enrollment_by_code_hash(&self.pool, hash).await
    }

    async fn complete_enrollment(
        &self,
        enrollment: &EnrollmentId,
        device: &Device,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        ops::devices::complete_enrollment(&self.pool, enrollment, device, &audit).await
    }
}

#[async_trait]
impl DeviceStore for PostgresStore {
    async fn device(&self, id: &DeviceId) -> Result<Option<Device>, StoreError> {
        ops::devices::device(&self.pool, id).await
    }

    async fn device_by_jkt(&self, jkt: &str) -> Result<Option<Device>, StoreError> {
        ops::devices::device_by_jkt(&self.pool, jkt).await
    }

    async fn list_devices(&self, user: Option<&UserId>) -> Result<Vec<Device>, StoreError> {
        ops::devices::list_devices(&self.pool, user).await
    }

    async fn revoke_device(
        &self,
        id: &DeviceId,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        ops::devices::revoke_device(&self.pool, id, at, &audit).await
    }

    async fn consume_proof(
        &self,
        jkt: &str,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        ops::devices::consume_proof(&self.pool, jkt, jti, expires_at).await
    }

    async fn purge_proofs(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        ops::devices::purge_proofs(&self.pool, now).await
    }

    async fn touch_device(&self, id: &DeviceId, at: OffsetDateTime) -> Result<(), StoreError> {
        ops::devices::touch_device(&self.pool, id, at).await
    }

    async fn activate_device(
        &self,
        id: &DeviceId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        ops::devices::activate_device(&self.pool, id, &audit).await
    }

    async fn remove_pending_device(
        &self,
        id: &DeviceId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        ops::devices::remove_pending_device(&self.pool, id, &audit).await
    }

    async fn pending_devices_created_before(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Device>, StoreError> {
        ops::devices::pending_devices_created_before(&self.pool, before, limit).await
    }

    async fn rename_device(
        &self,
        id: &DeviceId,
        name: &str,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        ops::devices::rename_device(&self.pool, id, name, &audit).await
    }

    async fn set_passkey(&self, passkey: &Passkey, audit: PendingAudit) -> Result<(), StoreError> {
        ops::devices::set_passkey(&self.pool, passkey, &audit).await
    }

    async fn passkey(&self, device: &DeviceId) -> Result<Option<Passkey>, StoreError> {
        ops::devices::passkey(&self.pool, device).await
    }

    async fn set_push_subscription(
        &self,
        subscription: &PushSubscription,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        ops::devices::set_push_subscription(&self.pool, subscription, &audit).await
    }

    async fn push_subscription(
        &self,
        device: &DeviceId,
    ) -> Result<Option<PushSubscription>, StoreError> {
        ops::devices::push_subscription(&self.pool, device).await
    }
}

#[async_trait]
impl AlertStore for PostgresStore {
    async fn insert_alert(&self, alert: &Alert) -> Result<(), StoreError> {
        ops::signals::insert_alert(&self.pool, alert).await
    }

    async fn alerts_for_user(&self, user: &UserId, limit: u32) -> Result<Vec<Alert>, StoreError> {
        ops::signals::alerts_for_user(&self.pool, user, limit).await
    }
}

#[async_trait]
impl FactorStore for PostgresStore {
    async fn insert_totp(
        &self,
        totp: &TotpSecret,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        ops::factors::insert_totp(&self.pool, totp, &audit).await
    }

    async fn totp(&self, user: &UserId) -> Result<Option<TotpSecret>, StoreError> {
        ops::factors::totp(&self.pool, user).await
    }

    async fn delete_totp(&self, user: &UserId, audit: PendingAudit) -> Result<bool, StoreError> {
        ops::factors::delete_totp(&self.pool, user, &audit).await
    }

    async fn use_totp_step(
        &self,
        user: &UserId,
        step: u64,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        ops::factors::use_totp_step(&self.pool, user, step, &audit).await
    }

    async fn replace_recovery_codes(
        &self,
        user: &UserId,
        codes: &[RecoveryCode],
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        ops::factors::replace_recovery_codes(&self.pool, user, codes, &audit).await
    }

    async fn recovery_codes(&self, user: &UserId) -> Result<Vec<RecoveryCode>, StoreError> {
        ops::factors::recovery_codes(&self.pool, user).await
    }

    async fn use_recovery_code(
        &self,
        user: &UserId,
        slot: u32,
        hash: &str,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        ops::factors::use_recovery_code(&self.pool, user, slot, hash, at, &audit).await
    }

    async fn admit_attempt(
        &self,
        user: &UserId,
        factor: &str,
        at: OffsetDateTime,
        since: OffsetDateTime,
        max: u32,
    ) -> Result<Admission, StoreError> {
        ops::factors::admit_attempt(&self.pool, user, factor, at, since, max).await
    }

    async fn attempts_since(
        &self,
        user: &UserId,
        factor: &str,
        since: OffsetDateTime,
    ) -> Result<(u32, Option<OffsetDateTime>), StoreError> {
        ops::factors::attempts_since(&self.pool, user, factor, since).await
    }

    async fn clear_attempts(&self, user: &UserId, factor: &str) -> Result<(), StoreError> {
        ops::factors::clear_attempts(&self.pool, user, factor).await
    }
}

#[async_trait]
impl SignalStore for PostgresStore {
    async fn prompts_since(&self, user: &UserId, since: OffsetDateTime) -> Result<u64, StoreError> {
        ops::signals::prompts_since(&self.pool, user, since).await
    }

    async fn last_approved_at(&self, user: &UserId) -> Result<Option<OffsetDateTime>, StoreError> {
        ops::signals::last_approved_at(&self.pool, user).await
    }

    async fn suspension(&self, user: &UserId) -> Result<Option<Suspension>, StoreError> {
        ops::signals::suspension(&self.pool, user).await
    }

    async fn suspend(
        &self,
        suspension: &Suspension,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        ops::signals::suspend(&self.pool, suspension, &audit).await
    }

    async fn request_history(
        &self,
        user: &UserId,
        since: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<PastApproval>, StoreError> {
        ops::signals::request_history(&self.pool, user, since, limit).await
    }

    async fn record_network_report(
        &self,
        network: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        ops::signals::record_network_report(&self.pool, network, at).await
    }

    async fn network_reports_since(
        &self,
        network: &str,
        since: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        ops::signals::network_reports_since(&self.pool, network, since).await
    }

    async fn first_delivery_at(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        ops::approvals::first_delivery_at(&self.pool, approval).await
    }
}

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn set_webhook(&self, webhook: &Webhook, audit: PendingAudit) -> Result<(), StoreError> {
        ops::signals::set_webhook(&self.pool, webhook, &audit).await
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        ops::signals::webhooks(&self.pool).await
    }

    async fn webhook_progress(&self, app: &AppId) -> Result<WebhookProgress, StoreError> {
        ops::signals::webhook_progress(&self.pool, app).await
    }

    async fn set_webhook_progress(
        &self,
        app: &AppId,
        progress: &WebhookProgress,
    ) -> Result<(), StoreError> {
        ops::signals::set_webhook_progress(&self.pool, app, progress).await
    }
}

#[async_trait]
impl ApprovalStore for PostgresStore {
    async fn insert_approval(
        &self,
        approval: &Approval,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        ops::approvals::insert_approval(&self.pool, approval, &audit).await
    }

    async fn approval(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError> {
        ops::approvals::approval(&self.pool, id).await
    }

    async fn pending_for_user(
        &self,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Approval>, StoreError> {
        ops::approvals::pending_for_user(&self.pool, user, now).await
    }

    async fn due_for_expiry(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        ops::approvals::due_for_expiry(&self.pool, now, limit).await
    }

    async fn finalize(
        &self,
        id: &ApprovalId,
        outcome: &Outcome,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        ops::approvals::finalize(&self.pool, id, outcome, &audit).await
    }

    async fn record_delivery(
        &self,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        ops::approvals::record_delivery(&self.pool, approval, device, channel, &audit).await
    }

    async fn record_delivery_with_proof(
        &self,
        proof: &ProofUse,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<Option<bool>, StoreError> {
        ops::approvals::record_delivery_with_proof(
            &self.pool, proof, approval, device, channel, &audit,
        )
        .await
    }
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn audit_page(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        ops::approvals::audit_page(&self.pool, after, limit).await
    }

    async fn audit_head(&self) -> Result<Option<u64>, StoreError> {
        ops::approvals::audit_head(&self.pool).await
    }

    async fn append_audit(&self, audit: PendingAudit) -> Result<(), StoreError> {
        ops::approvals::append_audit(&self.pool, &audit).await
    }
}
