//! Fallback factors: TOTP, recovery codes, and the per-user limit on verification attempts.

use super::audit::append_audit;
use super::{SqliteStore, change_once};
use crate::connection::backend;
use crate::rows;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::UserId;
use assent_core::model::{Admission, RecoveryCode, TotpSecret};
use assent_core::store::FactorStore;
use async_trait::async_trait;
use rusqlite::params;
use time::OffsetDateTime;

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
