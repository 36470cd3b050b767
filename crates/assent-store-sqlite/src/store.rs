//! [`Store`] on SQLite.

use crate::connection::{backend, migrate, open, schema_version};
use crate::memo::Memo;
use crate::owner;
use crate::rows::{self, to_json};
use crate::writer::Writer;
use assent_core::StoreError;
use assent_core::audit::{GENESIS_HASH, PendingAudit};
use assent_core::clock::to_millis;
use assent_core::ids::{AppId, ApprovalId, DeviceId, EnrollmentId, UserId, Username};
use assent_core::model::{
    Admission, Alert, ApiKeyRecord, App, Approval, AuditRecord, DeliveryChannel, Device,
    Enrollment, KeyRole, LAST_SEEN_RESOLUTION, Outcome, Passkey, PastApproval, ProofUse,
    PushSubscription, RecoveryCode, Suspension, TotpSecret, User, Webhook, WebhookProgress,
    origin_of,
};
use assent_core::store::{
    AlertStore, ApprovalStore, AuditStore, DeviceStore, EnrollmentStore, FactorStore,
    IdentityStore, SignalStore, WebhookStore,
};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// Point-read connections kept open: one per async thread is what is ever in use at once; the
/// margin covers reads made from blocking threads.
const MAX_IDLE_INLINE_READERS: usize = 16;

/// Heavy-read connections, all kept open. Heavy reads beyond this many wait for a free connection rather
/// than open a new one: opening a connection (pragmas, parsing the schema) costs more than a
/// read, and a fixed set bounds the threads reads occupy. Eight keeps two cores busy while some
/// reads wait on the disk.
const READERS: usize = 8;

/// A user's last approval: one step down the partial index `approvals_user_approved`.
pub(crate) const LAST_APPROVED_AT: &str =
    "SELECT MAX(decided_at) FROM approvals WHERE user_id = ?1 AND state = 'approved'";

/// A user's recent requests, newest first, from the index that holds all the risk engine reads of
/// them: a few contiguous index pages instead of one table page per past request (each a `pread`
/// once another connection has committed, since a WAL reader then starts with an empty cache).
pub(crate) const REQUEST_HISTORY: &str =
    "SELECT state, created_at, decided_at, origin FROM approvals INDEXED BY approvals_user_history
     WHERE user_id = ?1 AND created_at >= ?2 ORDER BY created_at DESC LIMIT ?3";

/// How many requests a user was sent since a time (the prompt budget).
pub(crate) const PROMPTS_SINCE: &str =
    "SELECT COUNT(*) FROM approvals WHERE user_id = ?1 AND created_at > ?2";

/// A user's pending requests. `INDEXED BY` because, with no statistics, SQLite chose the index of
/// all the user's requests (`approvals_user_created`) over the partial one of pending requests,
/// and so read the user's whole history on every new request and every device-stream update.
pub(crate) fn pending_for_user_sql() -> String {
    format!(
        "SELECT {} FROM approvals INDEXED BY approvals_pending_user
         WHERE user_id = ?1 AND state = 'pending' AND expires_at > ?2 ORDER BY created_at",
        rows::APPROVAL_COLUMNS
    )
}

/// Deliveries to a device, found among its user's requests: deliveries have no index by device
/// (each sign-in would write a page of it), and a device only ever receives its user's requests.
pub(crate) const DELETE_DEVICE_DELIVERIES: &str = "DELETE FROM deliveries
     WHERE device_id = ?1 AND approval_id IN (
        SELECT a.id FROM devices d JOIN approvals a ON a.user_id = d.user_id WHERE d.id = ?1)";

/// The SQLite store. Cheap to clone; all clones share the writer thread and the readers.
#[derive(Clone)]
pub struct SqliteStore {
    /// `None` for a store opened read-only.
    writer: Option<Writer>,
    readers: Arc<Readers>,
    memo: Arc<Memo>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.readers.path)
            .finish_non_exhaustive()
    }
}

impl Readers {
    fn new(path: &Path, read_only: bool) -> Arc<Self> {
        Arc::new(Readers {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            heavy: Mutex::new(Vec::with_capacity(READERS)),
            permits: Arc::new(tokio::sync::Semaphore::new(READERS)),
            read_only,
        })
    }

    /// A new reader connection; for a read-only store, one that refuses to write
    /// (`query_only`).
    fn connect(&self) -> Result<Connection, StoreError> {
        let conn = open(&self.path)?;
        if self.read_only {
            conn.pragma_update(None, "query_only", true)
                .map_err(backend)?;
        }
        Ok(conn)
    }
}

struct Readers {
    path: PathBuf,
    /// Connections for point reads on the async threads.
    idle: Mutex<Vec<Connection>>,
    /// Connections for heavy reads in the blocking pool.
    heavy: Mutex<Vec<Connection>>,
    /// One permit per reader connection.
    permits: Arc<tokio::sync::Semaphore>,
    /// Set for a store opened read-only.
    read_only: bool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date. The
    /// store owns the database until it is dropped: another process (or another store in this
    /// one) that opens it meanwhile is refused, after waiting a few seconds for a store that is
    /// closing (see [`crate::owner`]).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let ownership = owner::acquire(path)?;
        let mut conn = open(path)?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            writer: Some(Writer::spawn(conn, ownership)?),
            readers: Readers::new(path, false),
            memo: Arc::default(),
        })
    }

    /// Opens an existing database to read it only, beside the server that owns it (checking the
    /// audit chain of a running server): no lock, no migration, and every write fails.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Backend(format!(
                "no database at {}",
                path.display()
            )));
        }
        schema_version(&open(path)?)?;
        Ok(SqliteStore {
            writer: None,
            readers: Readers::new(path, true),
            memo: Arc::default(),
        })
    }

    /// A point read (a row or a handful, by key), run on the calling thread. Such a read takes
    /// microseconds on pages SQLite or the OS already hold, far less than handing it to another
    /// thread and waking the caller again, which cost a third of the server's CPU when every read
    /// went through the blocking pool. At most one read runs on a thread at a time, so the
    /// connections in use never outnumber the runtime's threads.
    async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let idle = self
            .readers
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.readers.connect()?,
        };
        let result = f(&conn).map_err(backend);
        if let Ok(mut idle) = self.readers.idle.lock()
            && idle.len() < MAX_IDLE_INLINE_READERS
        {
            idle.push(conn);
        }
        result
    }

    /// A read that may scan many rows (lists, history, audit pages): off the async threads, on
    /// one of a fixed set of connections.
    async fn read_heavy<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let readers = self.readers.clone();
        let permit = readers
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Backend("the reader pool is closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let idle = readers.heavy.lock().ok().and_then(|mut idle| idle.pop());
            let conn = match idle {
                Some(conn) => conn,
                None => readers.connect()?,
            };
            let result = f(&conn).map_err(backend);
            // Holding a permit, this task owns one of at most READERS connections, so the
            // connection always goes back for the next read.
            if let Ok(mut idle) = readers.heavy.lock() {
                idle.push(conn);
            }
            drop(permit);
            result
        })
        .await
        .map_err(|e| StoreError::Backend(format!("read task failed: {e}")))?
    }

    async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        self.write_then(f, |_| {}).await
    }

    /// A write followed, on the writer thread after its commit, by `after` (see [`memo`]).
    async fn write_then<R, F, A>(&self, f: F, after: A) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        A: FnOnce(&Result<R, StoreError>) + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write_then(f, after).await,
            None => Err(StoreError::Backend(
                "this store was opened read-only".into(),
            )),
        }
    }

    /// A write that may change device `id`, which the memory forgets after the commit.
    async fn write_device<R, F>(&self, id: DeviceId, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let memo = self.memo.clone();
        self.write_then(f, move |_| memo.forget_device(&id)).await
    }

    /// A device by a unique column, from memory or else read and remembered.
    async fn device_where(
        &self,
        column: &'static str,
        key: String,
        remembered: Option<Device>,
    ) -> Result<Option<Device>, StoreError> {
        if remembered.is_some() {
            return Ok(remembered);
        }
        let ticket = self.memo.ticket();
        let sql = format!(
            "SELECT {} FROM devices WHERE {column} = ?1",
            rows::DEVICE_COLUMNS
        );
        let found = self.one(sql, key, rows::device).await?;
        if let Some(device) = &found {
            self.memo.keep_device(ticket, device);
        }
        Ok(found)
    }

    async fn one<R, F>(&self, sql: String, param: String, map: F) -> Result<Option<R>, StoreError>
    where
        R: Send + 'static,
        F: Fn(&rusqlite::Row<'_>) -> rusqlite::Result<R> + Send + 'static,
    {
        self.read(move |c| c.prepare_cached(&sql)?.query_row([param], map).optional())
            .await
    }
}

/// Runs one conditional write ("only if still ...") and appends its audit row only when it
/// changed exactly one row; `false` when the condition no longer held and nothing was written.
fn change_once(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    audit: &PendingAudit,
) -> Result<bool, StoreError> {
    let changed = c
        .prepare_cached(sql)
        .and_then(|mut s| s.execute(params))
        .map_err(backend)?;
    if changed == 1 {
        append_audit(c, audit)?;
    }
    Ok(changed == 1)
}

/// Records a proof id; `false` when the key already used it.
fn insert_proof_id(
    c: &Connection,
    jkt: &str,
    jti: &str,
    expires_at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO proof_ids (jkt, jti, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )
        .and_then(|mut s| s.execute(params![jkt, jti, to_millis(expires_at)]))
        .map_err(backend)?;
    Ok(inserted == 1)
}

/// Records a delivery, with its audit row the first time per device and channel; returns
/// whether it was the first time.
fn insert_delivery(
    c: &Connection,
    approval: &ApprovalId,
    device: &DeviceId,
    channel: DeliveryChannel,
    audit: &PendingAudit,
) -> Result<bool, StoreError> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO deliveries (approval_id, device_id, channel, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
        )
        .and_then(|mut s| {
            s.execute(params![
                approval.as_str(),
                device.as_str(),
                channel.as_str(),
                to_millis(audit.at)
            ])
        })
        .map_err(backend)?;
    if inserted == 1 {
        append_audit(c, audit)?;
    }
    Ok(inserted == 1)
}

/// Moves a device's last-seen time forward to `at`, unless it is already within
/// [`LAST_SEEN_RESOLUTION`] of it.
fn touch(c: &Connection, device: &DeviceId, at: OffsetDateTime) -> Result<bool, StoreError> {
    let changed = c
        .prepare_cached(
            "UPDATE devices SET last_seen_at = ?2
         WHERE id = ?1 AND (last_seen_at IS NULL OR last_seen_at <= ?2 - ?3)",
        )
        .and_then(|mut s| {
            s.execute(params![
                device.as_str(),
                to_millis(at),
                LAST_SEEN_RESOLUTION.whole_milliseconds() as i64
            ])
        })
        .map_err(backend)?;
    Ok(changed == 1)
}

/// Appends one audit row after the current last row, and moves the recorded head.
fn append_audit(conn: &Connection, audit: &PendingAudit) -> Result<(), StoreError> {
    let last: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(backend)?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (u64::try_from(seq).unwrap_or(0) + 1, hash),
        None => (1, GENESIS_HASH.to_vec()),
    };
    let record = audit.seal(seq, &prev);
    let seq =
        i64::try_from(record.seq).map_err(|_| StoreError::Corrupt("audit seq overflow".into()))?;
    conn.prepare_cached(
        "INSERT INTO audit (seq, at, kind, actor, subject, data, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            seq,
            to_millis(record.at),
            record.kind,
            record.actor,
            record.subject,
            record.data,
            record.prev_hash,
            record.hash
        ])
    })
    .map_err(backend)?;
    conn.prepare_cached(
        "INSERT INTO audit_head (id, seq) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq",
    )
    .and_then(|mut s| s.execute([seq]))
    .map_err(backend)?;
    Ok(())
}

fn insert_key(conn: &Connection, key: &ApiKeyRecord) -> Result<(), StoreError> {
    let (role, app) = match &key.role {
        KeyRole::Admin => ("admin", None),
        KeyRole::App(id) => ("app", Some(id.to_string())),
    };
    conn.prepare_cached(
        "INSERT INTO api_keys (id, secret_hash, role, app_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| s.execute(params![key.id, key.secret_hash, role, app, to_millis(key.created_at)]))
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn insert_api_key(
        &self,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let key = key.clone();
        self.write(move |c| {
            insert_key(c, &key)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {} FROM api_keys WHERE id = ?1", rows::KEY_COLUMNS);
        self.one(sql, id.to_owned(), rows::api_key).await
    }

    async fn has_admin_key(&self) -> Result<bool, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin')",
                [],
                |r| r.get(0),
            )
        })
        .await
    }

    async fn insert_app(
        &self,
        app: &App,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (app, key) = (app.clone(), key.clone());
        self.write(move |c| {
            c.prepare_cached("INSERT INTO apps (id, name, created_at) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| {
                    s.execute(params![
                        app.id.as_str(),
                        app.name,
                        to_millis(app.created_at)
                    ])
                })
                .map_err(backend)?;
            insert_key(c, &key)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn app(&self, id: &AppId) -> Result<Option<App>, StoreError> {
        let sql = format!("SELECT {} FROM apps WHERE id = ?1", rows::APP_COLUMNS);
        self.one(sql, id.to_string(), rows::app).await
    }

    async fn insert_user(&self, user: &User, audit: PendingAudit) -> Result<(), StoreError> {
        let user = user.clone();
        self.write(move |c| {
            c.prepare_cached("INSERT INTO users (id, username, created_at) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| {
                    s.execute(params![
                        user.id.as_str(),
                        user.username.as_str(),
                        to_millis(user.created_at)
                    ])
                })
                .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {} FROM users WHERE id = ?1", rows::USER_COLUMNS);
        self.one(sql, id.to_string(), rows::user).await
    }

    async fn user_by_name(&self, name: &Username) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {} FROM users WHERE username = ?1",
            rows::USER_COLUMNS
        );
        self.one(sql, name.to_string(), rows::user).await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {} FROM users ORDER BY username", rows::USER_COLUMNS);
        self.read_heavy(move |c| c.prepare_cached(&sql)?.query_map([], rows::user)?.collect())
            .await
    }
}

#[async_trait]
impl EnrollmentStore for SqliteStore {
    async fn insert_enrollment(
        &self,
        e: &Enrollment,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let e = e.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO enrollments (id, user_id, code_hash, created_at, expires_at, activation) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    e.id.as_str(),
                    e.user_id.as_str(),
                    e.code_hash,
                    to_millis(e.created_at),
                    to_millis(e.expires_at),
                    rows::activation(e.activation)
                ])
            })
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn enrollment_by_code_hash(&self, hash: &[u8]) -> Result<Option<Enrollment>, StoreError> {
        let sql = format!(
            "SELECT {} FROM enrollments WHERE code_hash = ?1",
            rows::ENROLLMENT_COLUMNS
        );
        let hash = hash.to_vec();
        self.read(move |c| {
            c.prepare_cached(&sql)?
                .query_row([hash], rows::enrollment)
                .optional()
        })
        .await
    }

    async fn complete_enrollment(
        &self,
        enrollment: &EnrollmentId,
        device: &Device,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (enrollment, d) = (enrollment.clone(), device.clone());
        let jwk = to_json(&d.jwk)?;
        self.write(move |c| {
            let claimed = c
                .prepare_cached("UPDATE enrollments SET used_at = ?2, device_id = ?3 WHERE id = ?1 AND used_at IS NULL")
                .and_then(|mut s| s.execute(params![enrollment.as_str(), to_millis(d.created_at), d.id.as_str()]))
                .map_err(backend)?;
            if claimed != 1 {
                return Ok(false);
            }
            c.prepare_cached(
                "INSERT INTO devices (id, user_id, name, platform, jwk, jkt, state, created_at, revoked_at,
                    activation_pending, activation_code_sealed, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?10, ?11)",
            )
            .and_then(|mut s| {
                let (state, pending) = rows::device_state(d.state);
                s.execute(params![
                    d.id.as_str(),
                    d.user_id.as_str(),
                    d.name,
                    d.platform,
                    jwk,
                    d.jkt,
                    state,
                    to_millis(d.created_at),
                    pending,
                    d.activation_code_sealed,
                    d.last_seen_at.map(to_millis)
                ])
            })
            .map_err(backend)?;
            append_audit(c, &audit)?;
            Ok(true)
        })
        .await
    }
}

#[async_trait]
impl DeviceStore for SqliteStore {
    async fn device(&self, id: &DeviceId) -> Result<Option<Device>, StoreError> {
        let remembered = self.memo.device(id);
        self.device_where("id", id.to_string(), remembered).await
    }

    async fn device_by_jkt(&self, jkt: &str) -> Result<Option<Device>, StoreError> {
        let remembered = self.memo.device_by_jkt(jkt);
        self.device_where("jkt", jkt.to_owned(), remembered).await
    }

    async fn list_devices(&self, user: Option<&UserId>) -> Result<Vec<Device>, StoreError> {
        // Two statements, not one with `?1 IS NULL OR user_id = ?1`: with the query planner
        // stability guarantee a plan cannot depend on the bound value, so that form scans every
        // device, on every approval request, to find one user's.
        match user {
            Some(user) => {
                let user = user.to_string();
                let sql = format!(
                    "SELECT {} FROM devices WHERE user_id = ?1 ORDER BY created_at, id",
                    rows::DEVICE_COLUMNS
                );
                self.read(move |c| {
                    c.prepare_cached(&sql)?
                        .query_map([user], rows::device)?
                        .collect()
                })
                .await
            }
            None => {
                let sql = format!(
                    "SELECT {} FROM devices ORDER BY created_at, id",
                    rows::DEVICE_COLUMNS
                );
                self.read_heavy(move |c| {
                    c.prepare_cached(&sql)?
                        .query_map([], rows::device)?
                        .collect()
                })
                .await
            }
        }
    }

    async fn revoke_device(
        &self,
        id: &DeviceId,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write_device(id.clone(), move |c| {
            change_once(
                c,
                "UPDATE devices SET state = 'revoked', revoked_at = ?2, activation_pending = 0, activation_code_sealed = NULL WHERE id = ?1 AND state = 'active'",
                params![id.as_str(), to_millis(at)],
                &audit,
            )
        })
        .await
    }

    async fn consume_proof(
        &self,
        jkt: &str,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (jkt, jti) = (jkt.to_owned(), jti.to_owned());
        self.write(move |c| insert_proof_id(c, &jkt, &jti, expires_at))
            .await
    }

    async fn purge_proofs(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.write(move |c| {
            let n = c
                .prepare_cached("DELETE FROM proof_ids WHERE expires_at < ?1")
                .and_then(|mut s| s.execute([to_millis(now)]))
                .map_err(backend)?;
            Ok(n as u64)
        })
        .await
    }

    async fn touch_device(&self, id: &DeviceId, at: OffsetDateTime) -> Result<(), StoreError> {
        let id = id.clone();
        self.write_device(id.clone(), move |c| touch(c, &id, at).map(drop))
            .await
    }

    async fn activate_device(
        &self,
        id: &DeviceId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write_device(id.clone(), move |c| {
            change_once(
                c,
                "UPDATE devices SET activation_pending = 0, activation_code_sealed = NULL WHERE id = ?1 AND state = 'active' AND activation_pending = 1",
                [id.as_str()],
                &audit,
            )
        })
        .await
    }

    async fn remove_pending_device(
        &self,
        id: &DeviceId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write_device(id.clone(), move |c| {
            let pending = c
                .prepare_cached("SELECT 1 FROM devices WHERE id = ?1 AND state = 'active' AND activation_pending = 1")
                .and_then(|mut s| s.query_row([id.as_str()], |_| Ok(())).optional())
                .map_err(backend)?;
            if pending.is_none() {
                return Ok(false);
            }
            // Everything that may name the device goes with it; a pending device never answered.
            for sql in [
                "DELETE FROM passkeys WHERE device_id = ?1",
                "DELETE FROM push_subscriptions WHERE device_id = ?1",
                DELETE_DEVICE_DELIVERIES,
                "UPDATE enrollments SET device_id = NULL WHERE device_id = ?1",
                "UPDATE alerts SET device_id = NULL WHERE device_id = ?1",
                "DELETE FROM devices WHERE id = ?1",
            ] {
                c.prepare_cached(sql)
                    .and_then(|mut s| s.execute([id.as_str()]))
                    .map_err(backend)?;
            }
            append_audit(c, &audit)?;
            Ok(true)
        })
        .await
    }

    async fn pending_devices_created_before(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Device>, StoreError> {
        let sql = format!(
            "SELECT {} FROM devices WHERE state = 'active' AND activation_pending = 1 AND created_at < ?1 ORDER BY created_at LIMIT ?2",
            rows::DEVICE_COLUMNS
        );
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![to_millis(before), limit], rows::device)?
                .collect()
        })
        .await
    }

    async fn rename_device(
        &self,
        id: &DeviceId,
        name: &str,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (id, name) = (id.clone(), name.to_owned());
        self.write_device(id.clone(), move |c| {
            c.prepare_cached("UPDATE devices SET name = ?2 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![id.as_str(), name]))
                .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn set_passkey(&self, p: &Passkey, audit: PendingAudit) -> Result<(), StoreError> {
        let p = p.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO passkeys (device_id, credential_id, public_key, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (device_id) DO UPDATE SET credential_id = excluded.credential_id,
                    public_key = excluded.public_key, created_at = excluded.created_at",
            )
            .and_then(|mut s| s.execute(params![p.device_id.as_str(), p.credential_id, p.public_key, to_millis(p.created_at)]))
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn passkey(&self, device: &DeviceId) -> Result<Option<Passkey>, StoreError> {
        let sql = format!(
            "SELECT {} FROM passkeys WHERE device_id = ?1",
            rows::PASSKEY_COLUMNS
        );
        self.one(sql, device.to_string(), rows::passkey).await
    }

    async fn set_push_subscription(
        &self,
        p: &PushSubscription,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let p = p.clone();
        // The device's `web_push` is read from its subscription.
        self.write_device(p.device_id.clone(), move |c| {
            c.prepare_cached(
                "INSERT INTO push_subscriptions (device_id, endpoint, p256dh, auth, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (device_id) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh,
                    auth = excluded.auth, created_at = excluded.created_at",
            )
            .and_then(|mut s| s.execute(params![p.device_id.as_str(), p.endpoint, p.p256dh, p.auth, to_millis(p.created_at)]))
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn push_subscription(
        &self,
        device: &DeviceId,
    ) -> Result<Option<PushSubscription>, StoreError> {
        let sql = format!(
            "SELECT {} FROM push_subscriptions WHERE device_id = ?1",
            rows::PUSH_COLUMNS
        );
        self.one(sql, device.to_string(), rows::push_subscription)
            .await
    }
}

#[async_trait]
impl AlertStore for SqliteStore {
    async fn insert_alert(&self, a: &Alert) -> Result<(), StoreError> {
        let a = a.clone();
        self.write(move |c| {
            c.prepare_cached("INSERT INTO alerts (id, user_id, kind, message, created_at, device_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .and_then(|mut s| {
                    s.execute(params![a.id.as_str(), a.user_id.as_str(), a.kind, a.message, to_millis(a.created_at),
                        a.device_id.as_ref().map(DeviceId::as_str)
                    ])
                })
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn alerts_for_user(&self, user: &UserId, limit: u32) -> Result<Vec<Alert>, StoreError> {
        let sql = format!(
            "SELECT {} FROM alerts WHERE user_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
            rows::ALERT_COLUMNS
        );
        let user = user.to_string();
        self.read(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![user, limit], rows::alert)?
                .collect()
        })
        .await
    }
}

#[async_trait]
impl FactorStore for SqliteStore {
    async fn insert_totp(&self, t: &TotpSecret, audit: PendingAudit) -> Result<bool, StoreError> {
        let t = t.clone();
        self.write(move |c| {
            let inserted = c
                .prepare_cached(
                    "INSERT INTO totp_secrets (user_id, seed_sealed, algorithm, digits, period, last_step, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6) ON CONFLICT (user_id) DO NOTHING",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        t.user_id.as_str(),
                        t.seed_sealed,
                        t.algorithm,
                        t.digits,
                        t.period,
                        to_millis(t.created_at)
                    ])
                })
                .map_err(backend)?;
            if inserted == 1 {
                append_audit(c, &audit)?;
            }
            Ok(inserted == 1)
        })
        .await
    }

    async fn totp(&self, user: &UserId) -> Result<Option<TotpSecret>, StoreError> {
        let sql = format!(
            "SELECT {} FROM totp_secrets WHERE user_id = ?1",
            rows::TOTP_COLUMNS
        );
        self.one(sql, user.to_string(), rows::totp).await
    }

    async fn delete_totp(&self, user: &UserId, audit: PendingAudit) -> Result<bool, StoreError> {
        let user = user.clone();
        self.write(move |c| {
            change_once(
                c,
                "DELETE FROM totp_secrets WHERE user_id = ?1",
                [user.as_str()],
                &audit,
            )
        })
        .await
    }

    async fn use_totp_step(
        &self,
        user: &UserId,
        step: u64,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let user = user.clone();
        let step = i64::try_from(step)
            .map_err(|_| StoreError::Backend("time step out of range".into()))?;
        self.write(move |c| {
            change_once(
                c,
                "UPDATE totp_secrets SET last_step = ?2 WHERE user_id = ?1 AND (last_step IS NULL OR last_step < ?2)",
                params![user.as_str(), step],
                &audit,
            )
        })
        .await
    }

    async fn replace_recovery_codes(
        &self,
        user: &UserId,
        codes: &[RecoveryCode],
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (user, codes) = (user.clone(), codes.to_vec());
        self.write(move |c| {
            c.prepare_cached("DELETE FROM recovery_codes WHERE user_id = ?1")
                .and_then(|mut s| s.execute([user.as_str()]))
                .map_err(backend)?;
            for code in &codes {
                c.prepare_cached(
                    "INSERT INTO recovery_codes (user_id, slot, hash, created_at, used_at) VALUES (?1, ?2, ?3, ?4, NULL)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        code.user_id.as_str(),
                        code.slot,
                        code.hash,
                        to_millis(code.created_at)
                    ])
                })
                .map_err(backend)?;
            }
            append_audit(c, &audit)
        })
        .await
    }

    async fn recovery_codes(&self, user: &UserId) -> Result<Vec<RecoveryCode>, StoreError> {
        let user = user.to_string();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT user_id, slot, hash, created_at FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL ORDER BY slot",
            )?
            .query_map([user], rows::recovery_code)?
            .collect()
        })
        .await
    }

    async fn use_recovery_code(
        &self,
        user: &UserId,
        slot: u32,
        hash: &str,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (user, hash) = (user.clone(), hash.to_owned());
        self.write(move |c| {
            // Matching the hash too: a code checked against the old set cannot consume the slot
            // of a set generated in between.
            change_once(
                c,
                "UPDATE recovery_codes SET used_at = ?4 WHERE user_id = ?1 AND slot = ?2 AND hash = ?3 AND used_at IS NULL",
                params![user.as_str(), slot, hash, to_millis(at)],
                &audit,
            )
        })
        .await
    }

    async fn admit_attempt(
        &self,
        user: &UserId,
        factor: &str,
        at: OffsetDateTime,
        since: OffsetDateTime,
        max: u32,
    ) -> Result<Admission, StoreError> {
        let (user, factor) = (user.clone(), factor.to_owned());
        self.write(move |c| {
            let (count, oldest): (u32, Option<i64>) = c
                .prepare_cached("SELECT count(*), min(at) FROM factor_attempts WHERE user_id = ?1 AND factor = ?2 AND at > ?3")
                .and_then(|mut s| s.query_row(params![user.as_str(), factor, to_millis(since)], |r| Ok((r.get(0)?, r.get(1)?))))
                .map_err(backend)?;
            if count >= max {
                return Ok(Admission::Refused {
                    oldest: oldest.map_or(at, assent_core::clock::from_millis),
                });
            }
            // Rows that fell out of every window are of no use: drop them while here.
            for (sql, args) in [
                ("DELETE FROM factor_attempts WHERE user_id = ?1 AND factor = ?2 AND at <= ?3", to_millis(since)),
                ("INSERT INTO factor_attempts (user_id, factor, at) VALUES (?1, ?2, ?3)", to_millis(at)),
            ] {
                c.prepare_cached(sql)
                    .and_then(|mut s| s.execute(params![user.as_str(), factor, args]))
                    .map_err(backend)?;
            }
            Ok(Admission::Admitted)
        })
        .await
    }

    async fn attempts_since(
        &self,
        user: &UserId,
        factor: &str,
        since: OffsetDateTime,
    ) -> Result<(u32, Option<OffsetDateTime>), StoreError> {
        let (user, factor) = (user.to_string(), factor.to_owned());
        self.read(move |c| {
            c.prepare_cached("SELECT count(*), min(at) FROM factor_attempts WHERE user_id = ?1 AND factor = ?2 AND at > ?3")?
                .query_row(params![user, factor, to_millis(since)], |r| {
                    Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.map(assent_core::clock::from_millis)))
                })
        })
        .await
    }

    async fn clear_attempts(&self, user: &UserId, factor: &str) -> Result<(), StoreError> {
        let (user, factor) = (user.clone(), factor.to_owned());
        self.write(move |c| {
            c.prepare_cached("DELETE FROM factor_attempts WHERE user_id = ?1 AND factor = ?2")
                .and_then(|mut s| s.execute(params![user.as_str(), factor]))
                .map_err(backend)?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl SignalStore for SqliteStore {
    async fn prompts_since(&self, user: &UserId, since: OffsetDateTime) -> Result<u64, StoreError> {
        let user = user.to_string();
        let count: i64 = self
            .read(move |c| {
                c.prepare_cached(PROMPTS_SINCE)?
                    .query_row(params![user, to_millis(since)], |r| r.get(0))
            })
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn last_approved_at(&self, user: &UserId) -> Result<Option<OffsetDateTime>, StoreError> {
        let user = user.to_string();
        let at: Option<i64> = self
            .read(move |c| {
                c.prepare_cached(LAST_APPROVED_AT)?
                    .query_row([user], |r| r.get(0))
            })
            .await?;
        Ok(at.map(assent_core::clock::from_millis))
    }

    async fn suspension(&self, user: &UserId) -> Result<Option<Suspension>, StoreError> {
        let sql =
            "SELECT user_id, until, reason, created_at FROM push_suspensions WHERE user_id = ?1";
        self.one(sql.to_owned(), user.to_string(), |r| {
            Ok(Suspension {
                user_id: UserId::from_stored(r.get(0)?),
                until: assent_core::clock::from_millis(r.get(1)?),
                reason: r.get(2)?,
                created_at: assent_core::clock::from_millis(r.get(3)?),
            })
        })
        .await
    }

    async fn suspend(&self, s: &Suspension, audit: PendingAudit) -> Result<(), StoreError> {
        let s = s.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO push_suspensions (user_id, until, reason, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id) DO UPDATE SET until = excluded.until, reason = excluded.reason,
                    created_at = excluded.created_at",
            )
            .and_then(|mut st| {
                st.execute(params![s.user_id.as_str(), to_millis(s.until), s.reason, to_millis(s.created_at)])
            })
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn request_history(
        &self,
        user: &UserId,
        since: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<PastApproval>, StoreError> {
        let user = user.to_string();
        self.read_heavy(move |c| {
            c.prepare_cached(REQUEST_HISTORY)?
                .query_map(params![user, to_millis(since), limit], rows::past_approval)?
                .collect()
        })
        .await
    }

    async fn record_network_report(
        &self,
        network: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let network = network.to_owned();
        self.write(move |c| {
            c.prepare_cached("INSERT INTO network_reports (network, reported_at) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![network, to_millis(at)]))
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn network_reports_since(
        &self,
        network: &str,
        since: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let network = network.to_owned();
        let n: i64 = self
            .read(move |c| {
                c.prepare_cached(
                    "SELECT COUNT(*) FROM network_reports WHERE network = ?1 AND reported_at >= ?2",
                )?
                .query_row(params![network, to_millis(since)], |r| r.get(0))
            })
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn first_delivery_at(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let approval = approval.to_string();
        let at: Option<i64> = self
            .read(move |c| {
                c.prepare_cached("SELECT MIN(at) FROM deliveries WHERE approval_id = ?1")?
                    .query_row([approval], |r| r.get(0))
            })
            .await?;
        Ok(at.map(assent_core::clock::from_millis))
    }
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn set_webhook(&self, w: &Webhook, audit: PendingAudit) -> Result<(), StoreError> {
        let w = w.clone();
        let events = to_json(&w.events)?;
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO webhooks (app_id, url, secret_sealed, events, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (app_id) DO UPDATE SET url = excluded.url, secret_sealed = excluded.secret_sealed,
                    events = excluded.events, created_at = excluded.created_at",
            )
            .and_then(|mut s| s.execute(params![w.app_id.as_str(), w.url, w.secret_sealed, events, to_millis(w.created_at)]))
            .map_err(backend)?;
            // A new webhook starts with events from now on, not the whole history.
            c.prepare_cached(
                "INSERT INTO webhook_progress (app_id, cursor) VALUES (?1, COALESCE((SELECT MAX(seq) FROM audit), 0))
                 ON CONFLICT (app_id) DO NOTHING",
            )
            .and_then(|mut s| s.execute([w.app_id.as_str()]))
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        self.read_heavy(|c| {
            c.prepare_cached("SELECT app_id, url, secret_sealed, events, created_at FROM webhooks ORDER BY app_id")?
                .query_map([], |r| {
                    let events: String = r.get(3)?;
                    Ok(Webhook {
                        app_id: AppId::from_stored(r.get(0)?),
                        url: r.get(1)?,
                        secret_sealed: r.get(2)?,
                        events: serde_json::from_str(&events).unwrap_or_default(),
                        created_at: assent_core::clock::from_millis(r.get(4)?),
                    })
                })?
                .collect()
        })
        .await
    }

    async fn webhook_progress(&self, app: &AppId) -> Result<WebhookProgress, StoreError> {
        let sql =
            "SELECT cursor, last_error, failed FROM webhook_progress WHERE app_id = ?1".to_owned();
        let found = self
            .one(sql, app.to_string(), |r| {
                Ok(WebhookProgress {
                    cursor: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    last_error: r.get(1)?,
                    failed: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                })
            })
            .await?;
        Ok(found.unwrap_or_default())
    }

    async fn set_webhook_progress(
        &self,
        app: &AppId,
        p: &WebhookProgress,
    ) -> Result<(), StoreError> {
        let (app, p) = (app.clone(), p.clone());
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO webhook_progress (app_id, cursor, last_error, failed) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (app_id) DO UPDATE SET cursor = excluded.cursor, last_error = excluded.last_error,
                    failed = excluded.failed",
            )
            .and_then(|mut s| {
                s.execute(params![
                    app.as_str(),
                    i64::try_from(p.cursor).unwrap_or(i64::MAX),
                    p.last_error,
                    i64::try_from(p.failed).unwrap_or(i64::MAX)
                ])
            })
            .map_err(backend)?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl ApprovalStore for SqliteStore {
    async fn insert_approval(&self, a: &Approval, audit: PendingAudit) -> Result<(), StoreError> {
        let a = a.clone();
        let details = to_json(&a.authorization_details)?;
        let context = to_json(&a.context)?;
        let origin = to_json(&origin_of(&a.context))?;
        let risk = to_json(&a.risk)?;
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO approvals (id, app_id, user_id, kind, binding_message, authorization_details,
                    context, nonce, display_code, state, created_at, expires_at, user_verification, risk,
                    policy_rule, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    a.id.as_str(),
                    a.app_id.as_str(),
                    a.user_id.as_str(),
                    a.kind.as_str(),
                    a.binding_message,
                    details,
                    context,
                    a.nonce,
                    a.display_code,
                    a.state.as_str(),
                    to_millis(a.created_at),
                    to_millis(a.expires_at),
                    a.user_verification,
                    risk,
                    a.policy_rule,
                    origin
                ])
            })
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn approval(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError> {
        if let Some(approval) = self.memo.approval(id) {
            return Ok(Some(approval));
        }
        let ticket = self.memo.ticket();
        let found = self.approval_as_stored(id).await?;
        if let Some(approval) = &found {
            self.memo.keep_approval(ticket, approval);
        }
        Ok(found)
    }

    async fn approval_as_stored(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError> {
        let sql = format!(
            "SELECT {} FROM approvals WHERE id = ?1",
            rows::APPROVAL_COLUMNS
        );
        self.one(sql, id.to_string(), rows::approval).await
    }

    async fn pending_for_user(
        &self,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Approval>, StoreError> {
        let sql = pending_for_user_sql();
        let user = user.to_string();
        self.read(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![user, to_millis(now)], rows::approval)?
                .collect()
        })
        .await
    }

    async fn due_for_expiry(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        let sql = format!(
            "SELECT {} FROM approvals WHERE state = 'pending' AND expires_at <= ?1 ORDER BY expires_at LIMIT ?2",
            rows::APPROVAL_COLUMNS
        );
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![to_millis(now), limit], rows::approval)?
                .collect()
        })
        .await
    }

    async fn finalize(
        &self,
        id: &ApprovalId,
        o: &Outcome,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (id, o) = (id.clone(), o.clone());
        let (memo, forget) = (self.memo.clone(), id.clone());
        let device = o.device_id.clone();
        // After a failure, forget both: a savepoint that could not roll back leaves the job's
        // writes in the transaction.
        let forget_changes = move |written: &Result<(bool, bool), StoreError>| {
            let (changed, touched) = written.as_ref().map_or((true, true), |w| *w);
            if changed {
                memo.forget_approval(&forget);
            }
            if let (true, Some(device)) = (touched, &device) {
                memo.forget_device(device);
            }
        };
        let written = self.write_then(
            move |c| {
                let changed = c
                .prepare_cached(
                    "UPDATE approvals SET state = ?2, reason = ?3, decided_at = ?4, device_id = ?5,
                        statement = ?6, receipt = ?7
                     WHERE id = ?1 AND state = 'pending'",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        id.as_str(),
                        o.state.as_str(),
                        o.reason,
                        to_millis(o.decided_at),
                        o.device_id.as_ref().map(DeviceId::as_str),
                        o.statement,
                        o.receipt
                    ])
                })
                .map_err(backend)?;
                let mut touched = false;
                if changed == 1 {
                    if let Some(device) = &o.device_id {
                        // An answer is the device proving itself: it was seen.
                        touched = touch(c, device, o.decided_at)?;
                    }
                    append_audit(c, &audit)?;
                }
                Ok((changed == 1, touched))
            },
            forget_changes,
        );
        written.await.map(|(changed, _)| changed)
    }

    async fn record_delivery(
        &self,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (approval, device) = (approval.clone(), device.clone());
        self.write(move |c| insert_delivery(c, &approval, &device, channel, &audit))
            .await
    }

    async fn record_delivery_with_proof(
        &self,
        proof: &ProofUse,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<Option<bool>, StoreError> {
        let (proof, approval, device) = (proof.clone(), approval.clone(), device.clone());
        self.write(move |c| {
            if !insert_proof_id(c, &proof.jkt, &proof.jti, proof.forget_after)? {
                return Ok(None);
            }
            insert_delivery(c, &approval, &device, channel, &audit).map(Some)
        })
        .await
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn audit_page(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            rows::AUDIT_COLUMNS
        );
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![after, limit], rows::audit)?
                .collect()
        })
        .await
    }

    async fn audit_head(&self) -> Result<Option<u64>, StoreError> {
        let head: Option<i64> = self
            .read(|c| {
                c.query_row("SELECT seq FROM audit_head WHERE id = 1", [], |r| r.get(0))
                    .optional()
            })
            .await?;
        Ok(head.and_then(|h| u64::try_from(h).ok()))
    }

    async fn append_audit(&self, audit: PendingAudit) -> Result<(), StoreError> {
        self.write(move |c| append_audit(c, &audit)).await
    }
}
