//! Fallback factors: TOTP, recovery codes, and the per-user limit on verification attempts.

use super::{begin, change_once, execute, run, write_audited};
use crate::error::{backend, to_i64};
use crate::migrate::LOCK_CLASS;
use crate::rows::{self, totp_columns};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::{from_millis, to_millis};
use assent_core::ids::UserId;
use assent_core::model::{Admission, RecoveryCode, TotpSecret};
use assent_core::store::FactorStore;
use async_trait::async_trait;
use time::OffsetDateTime;

/// The advisory lock key (in [`LOCK_CLASS`]) of one user's attempts at one factor is a hash of
/// the pair; two pairs that share a hash only wait for each other, never count together.
const ATTEMPT_LOCK: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2 || '/' || $3))";

#[async_trait]
impl FactorStore for PostgresStore {
    async fn insert_totp(&self, t: &TotpSecret, audit: PendingAudit) -> Result<bool, StoreError> {
        let insert = sqlx::query(
            "INSERT INTO totp_secrets (user_id, seed_sealed, algorithm, digits, period, last_step, created_at)
             VALUES ($1, $2, $3, $4, $5, NULL, $6) ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(t.user_id.to_string())
        .bind(t.seed_sealed.clone())
        .bind(t.algorithm.clone())
        .bind(i16::from(t.digits))
        .bind(i64::from(t.period))
        .bind(to_millis(t.created_at));
        change_once(&self.pool, insert, &audit).await
    }

    async fn totp(&self, user: &UserId) -> Result<Option<TotpSecret>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            totp_columns!(),
            " FROM totp_secrets WHERE user_id = $1"
        ))
        .bind(user.as_str())
        .try_map(rows::totp)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn delete_totp(&self, user: &UserId, audit: PendingAudit) -> Result<bool, StoreError> {
        let delete =
            sqlx::query("DELETE FROM totp_secrets WHERE user_id = $1").bind(user.to_string());
        change_once(&self.pool, delete, &audit).await
    }

    async fn use_totp_step(
        &self,
        user: &UserId,
        step: u64,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let update = sqlx::query(
            "UPDATE totp_secrets SET last_step = $2
             WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)",
        )
        .bind(user.to_string())
        .bind(to_i64(step, "time step")?);
        change_once(&self.pool, update, &audit).await
    }

    async fn replace_recovery_codes(
        &self,
        user: &UserId,
        codes: &[RecoveryCode],
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let mut statements = vec![
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user.to_string()),
        ];
        for code in codes {
            statements.push(
                sqlx::query(
                    "INSERT INTO recovery_codes (user_id, slot, hash, created_at, used_at)
                     VALUES ($1, $2, $3, $4, NULL)",
                )
                .bind(code.user_id.to_string())
                .bind(i64::from(code.slot))
                .bind(code.hash.clone())
                .bind(to_millis(code.created_at)),
            );
        }
        write_audited(&self.pool, statements, &audit).await
    }

    async fn recovery_codes(&self, user: &UserId) -> Result<Vec<RecoveryCode>, StoreError> {
        sqlx::query(
            "SELECT user_id, slot, hash, created_at FROM recovery_codes
             WHERE user_id = $1 AND used_at IS NULL ORDER BY slot",
        )
        .bind(user.as_str())
        .try_map(rows::recovery_code)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    /// Matching the hash too: a code checked against the old set cannot consume the slot of a set
    /// generated in between.
    async fn use_recovery_code(
        &self,
        user: &UserId,
        slot: u32,
        hash: &str,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let update = sqlx::query(
            "UPDATE recovery_codes SET used_at = $4
             WHERE user_id = $1 AND slot = $2 AND hash = $3 AND used_at IS NULL",
        )
        .bind(user.to_string())
        .bind(i64::from(slot))
        .bind(hash.to_owned())
        .bind(to_millis(at));
        change_once(&self.pool, update, &audit).await
    }

    /// Count and insert must be one step, or parallel guesses from several nodes could all count
    /// `max - 1` and all go ahead. No row exists to lock before the first attempt, so a transaction
    /// advisory lock on the (user, factor) pair serializes them; it is released by the commit.
    async fn admit_attempt(
        &self,
        user: &UserId,
        factor: &str,
        at: OffsetDateTime,
        since: OffsetDateTime,
        max: u32,
    ) -> Result<Admission, StoreError> {
        let mut tx = begin(&self.pool).await?;
        sqlx::query(ATTEMPT_LOCK)
            .bind(LOCK_CLASS)
            .bind(user.as_str())
            .bind(factor)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*), min(at) FROM factor_attempts WHERE user_id = $1 AND factor = $2 AND at > $3",
        )
        .bind(user.as_str())
        .bind(factor)
        .bind(to_millis(since))
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        if count >= i64::from(max) {
            tx.rollback().await.map_err(backend)?;
            return Ok(Admission::Refused {
                oldest: oldest.map_or(at, from_millis),
            });
        }
        // Rows that fell out of every window are of no use: drop them while here.
        for (sql, millis) in [
            (
                "DELETE FROM factor_attempts WHERE user_id = $1 AND factor = $2 AND at <= $3",
                to_millis(since),
            ),
            (
                "INSERT INTO factor_attempts (user_id, factor, at) VALUES ($1, $2, $3)",
                to_millis(at),
            ),
        ] {
            let query = sqlx::query(sql)
                .bind(user.to_string())
                .bind(factor.to_owned())
                .bind(millis);
            run(&mut tx, query).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(Admission::Admitted)
    }

    async fn attempts_since(
        &self,
        user: &UserId,
        factor: &str,
        since: OffsetDateTime,
    ) -> Result<(u32, Option<OffsetDateTime>), StoreError> {
        let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*), min(at) FROM factor_attempts WHERE user_id = $1 AND factor = $2 AND at > $3",
        )
        .bind(user.as_str())
        .bind(factor)
        .bind(to_millis(since))
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        Ok((count, oldest.map(from_millis)))
    }

    async fn clear_attempts(&self, user: &UserId, factor: &str) -> Result<(), StoreError> {
        let delete = sqlx::query("DELETE FROM factor_attempts WHERE user_id = $1 AND factor = $2")
            .bind(user.to_string())
            .bind(factor.to_owned());
        execute(&self.pool, delete).await.map(drop)
    }
}
