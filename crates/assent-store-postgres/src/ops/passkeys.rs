//! Passkeys at relying parties on PostgreSQL: a ceremony is taken by deleting it (once, on any
//! node), a passkey's use moves its counter only from the value its user saw.

use super::{change_once, execute, write_audited};
use crate::error::{backend, corrupt};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::{from_millis, to_millis};
use assent_core::ids::{AppId, UserId};
use assent_core::passkeys::records::{Ceremony, CeremonyKind, PasskeyProof, RpPasskey, RpWebauthn};
use assent_core::store::RpPasskeyStore;
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

fn passkey(row: PgRow) -> Result<RpPasskey, sqlx::Error> {
    Ok(RpPasskey {
        app_id: AppId::from_stored(row.try_get(0)?),
        id: row.try_get(1)?,
        user_id: UserId::from_stored(row.try_get(2)?),
        passkey: row.try_get(3)?,
        counter: u32::try_from(row.try_get::<i64, _>(4)?).map_err(|_| corrupt("counter"))?,
        created_at: from_millis(row.try_get(5)?),
        last_used_at: row.try_get::<Option<i64>, _>(6)?.map(from_millis),
    })
}

#[async_trait]
impl RpPasskeyStore for PostgresStore {
    async fn set_app_webauthn(
        &self,
        config: &RpWebauthn,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let set = sqlx::query(
            "INSERT INTO app_webauthn (app_id, rp_id, rp_name, origin) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (app_id) DO UPDATE SET rp_id = excluded.rp_id, \
             rp_name = excluded.rp_name, origin = excluded.origin",
        )
        .bind(config.app_id.to_string())
        .bind(config.rp_id.clone())
        .bind(config.rp_name.clone())
        .bind(config.origin.clone());
        write_audited(&self.pool, vec![set], &audit).await
    }

    async fn app_webauthn(&self, app: &AppId) -> Result<Option<RpWebauthn>, StoreError> {
        sqlx::query("SELECT app_id, rp_id, rp_name, origin FROM app_webauthn WHERE app_id = $1")
            .bind(app.to_string())
            .try_map(|r: PgRow| {
                Ok(RpWebauthn {
                    app_id: AppId::from_stored(r.try_get(0)?),
                    rp_id: r.try_get(1)?,
                    rp_name: r.try_get(2)?,
                    origin: r.try_get(3)?,
                })
            })
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)
    }

    async fn insert_ceremony(&self, ceremony: &Ceremony) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO webauthn_ceremonies (id, app_id, user_id, kind, state, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(ceremony.id.clone())
        .bind(ceremony.app_id.to_string())
        .bind(ceremony.user_id.to_string())
        .bind(ceremony.kind.as_str())
        .bind(ceremony.state.clone())
        .bind(to_millis(ceremony.expires_at));
        execute(&self.pool, insert).await.map(|_| ())
    }

    async fn take_ceremony(
        &self,
        id: &str,
        app: &AppId,
        now: OffsetDateTime,
    ) -> Result<Option<Ceremony>, StoreError> {
        let purge = sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1")
            .bind(to_millis(now));
        execute(&self.pool, purge).await?;
        sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE id = $1 AND app_id = $2 \
             RETURNING id, app_id, user_id, kind, state, expires_at",
        )
        .bind(id.to_owned())
        .bind(app.to_string())
        .try_map(|r: PgRow| {
            let kind: String = r.try_get(3)?;
            Ok(Ceremony {
                id: r.try_get(0)?,
                app_id: AppId::from_stored(r.try_get(1)?),
                user_id: UserId::from_stored(r.try_get(2)?),
                kind: CeremonyKind::parse(&kind).ok_or_else(|| corrupt("ceremony kind"))?,
                state: r.try_get(4)?,
                expires_at: from_millis(r.try_get(5)?),
            })
        })
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn insert_rp_passkey(
        &self,
        passkey: &RpPasskey,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO rp_passkeys (app_id, id, user_id, passkey, counter, created_at, \
             last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(passkey.app_id.to_string())
        .bind(passkey.id.clone())
        .bind(passkey.user_id.to_string())
        .bind(passkey.passkey.clone())
        .bind(i64::from(passkey.counter))
        .bind(to_millis(passkey.created_at))
        .bind(passkey.last_used_at.map(to_millis));
        write_audited(&self.pool, vec![insert], &audit).await
    }

    async fn rp_passkeys(&self, app: &AppId, user: &UserId) -> Result<Vec<RpPasskey>, StoreError> {
        sqlx::query(
            "SELECT app_id, id, user_id, passkey, counter, created_at, last_used_at \
             FROM rp_passkeys WHERE app_id = $1 AND user_id = $2 ORDER BY created_at, id",
        )
        .bind(app.to_string())
        .bind(user.to_string())
        .try_map(passkey)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn insert_passkey_proof(&self, proof: &PasskeyProof) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO rp_passkey_proofs (id, app_id, user_id, credential_id, user_verified, \
             verified_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(proof.id.clone())
        .bind(proof.app_id.to_string())
        .bind(proof.user_id.to_string())
        .bind(proof.credential_id.clone())
        .bind(proof.user_verified)
        .bind(to_millis(proof.verified_at))
        .bind(to_millis(proof.expires_at));
        execute(&self.pool, insert).await.map(|_| ())
    }

    async fn take_passkey_proof(
        &self,
        id: &str,
        app: &AppId,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<Option<PasskeyProof>, StoreError> {
        let purge = sqlx::query("DELETE FROM rp_passkey_proofs WHERE expires_at <= $1")
            .bind(to_millis(now));
        execute(&self.pool, purge).await?;
        sqlx::query(
            "DELETE FROM rp_passkey_proofs WHERE id = $1 AND app_id = $2 AND user_id = $3 \
             RETURNING id, app_id, user_id, credential_id, user_verified, verified_at, expires_at",
        )
        .bind(id.to_owned())
        .bind(app.to_string())
        .bind(user.to_string())
        .try_map(|r: PgRow| {
            Ok(PasskeyProof {
                id: r.try_get(0)?,
                app_id: AppId::from_stored(r.try_get(1)?),
                user_id: UserId::from_stored(r.try_get(2)?),
                credential_id: r.try_get(3)?,
                user_verified: r.try_get(4)?,
                verified_at: from_millis(r.try_get(5)?),
                expires_at: from_millis(r.try_get(6)?),
            })
        })
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn use_rp_passkey(
        &self,
        passkey: &RpPasskey,
        seen: u32,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let update = sqlx::query(
            "UPDATE rp_passkeys SET passkey = $3, counter = $4, last_used_at = $5 \
             WHERE app_id = $1 AND id = $2 AND counter = $6",
        )
        .bind(passkey.app_id.to_string())
        .bind(passkey.id.clone())
        .bind(passkey.passkey.clone())
        .bind(i64::from(passkey.counter))
        .bind(passkey.last_used_at.map(to_millis))
        .bind(i64::from(seen));
        change_once(&self.pool, update, &audit).await
    }
}
