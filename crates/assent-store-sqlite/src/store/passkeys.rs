//! Passkeys at relying parties on SQLite: a ceremony is taken by deleting it (once), a
//! passkey's use moves its counter only from the value its user saw.

use super::audit::append_audit;
use super::{SqliteStore, change_once};
use crate::connection::backend;
use crate::rows::corrupt;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::{from_millis, to_millis};
use assent_core::ids::{AppId, UserId};
use assent_core::passkeys::records::{Ceremony, CeremonyKind, PasskeyProof, RpPasskey, RpWebauthn};
use assent_core::store::RpPasskeyStore;
use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;

fn passkey(row: &Row<'_>) -> rusqlite::Result<RpPasskey> {
    Ok(RpPasskey {
        app_id: AppId::from_stored(row.get(0)?),
        id: row.get(1)?,
        user_id: UserId::from_stored(row.get(2)?),
        passkey: row.get(3)?,
        counter: row.get(4)?,
        created_at: from_millis(row.get(5)?),
        last_used_at: row.get::<_, Option<i64>>(6)?.map(from_millis),
    })
}

#[async_trait]
impl RpPasskeyStore for SqliteStore {
    async fn set_app_webauthn(
        &self,
        config: &RpWebauthn,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let config = config.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO app_webauthn (app_id, rp_id, rp_name, origin) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (app_id) DO UPDATE SET rp_id = excluded.rp_id, \
                 rp_name = excluded.rp_name, origin = excluded.origin",
            )
            .and_then(|mut s| {
                s.execute(params![
                    config.app_id.as_str(),
                    config.rp_id,
                    config.rp_name,
                    config.origin
                ])
            })
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn app_webauthn(&self, app: &AppId) -> Result<Option<RpWebauthn>, StoreError> {
        let app = app.to_string();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT app_id, rp_id, rp_name, origin FROM app_webauthn WHERE app_id = ?1",
            )?
            .query_row([app], |r| {
                Ok(RpWebauthn {
                    app_id: AppId::from_stored(r.get(0)?),
                    rp_id: r.get(1)?,
                    rp_name: r.get(2)?,
                    origin: r.get(3)?,
                })
            })
            .optional()
        })
        .await
    }

    async fn insert_ceremony(&self, ceremony: &Ceremony) -> Result<(), StoreError> {
        let ceremony = ceremony.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO webauthn_ceremonies (id, app_id, user_id, kind, state, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    ceremony.id,
                    ceremony.app_id.as_str(),
                    ceremony.user_id.as_str(),
                    ceremony.kind.as_str(),
                    ceremony.state,
                    to_millis(ceremony.expires_at)
                ])
            })
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn take_ceremony(
        &self,
        id: &str,
        app: &AppId,
        now: OffsetDateTime,
    ) -> Result<Option<Ceremony>, StoreError> {
        let (id, app) = (id.to_owned(), app.clone());
        self.write(move |c| {
            c.prepare_cached("DELETE FROM webauthn_ceremonies WHERE expires_at <= ?1")
                .and_then(|mut s| s.execute([to_millis(now)]))
                .map_err(backend)?;
            c.prepare_cached(
                "DELETE FROM webauthn_ceremonies WHERE id = ?1 AND app_id = ?2 \
                 RETURNING id, app_id, user_id, kind, state, expires_at",
            )
            .and_then(|mut s| {
                s.query_row(params![id, app.as_str()], |r| {
                    let kind: String = r.get(3)?;
                    Ok(Ceremony {
                        id: r.get(0)?,
                        app_id: AppId::from_stored(r.get(1)?),
                        user_id: UserId::from_stored(r.get(2)?),
                        kind: CeremonyKind::parse(&kind).ok_or_else(|| corrupt("ceremony kind"))?,
                        state: r.get(4)?,
                        expires_at: from_millis(r.get(5)?),
                    })
                })
                .optional()
            })
            .map_err(backend)
        })
        .await
    }

    async fn insert_rp_passkey(
        &self,
        passkey: &RpPasskey,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let p = passkey.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO rp_passkeys (app_id, id, user_id, passkey, counter, created_at, \
                 last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    p.app_id.as_str(),
                    p.id,
                    p.user_id.as_str(),
                    p.passkey,
                    p.counter,
                    to_millis(p.created_at),
                    p.last_used_at.map(to_millis)
                ])
            })
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn rp_passkeys(&self, app: &AppId, user: &UserId) -> Result<Vec<RpPasskey>, StoreError> {
        let (app, user) = (app.to_string(), user.to_string());
        self.read(move |c| {
            c.prepare_cached(
                "SELECT app_id, id, user_id, passkey, counter, created_at, last_used_at \
                 FROM rp_passkeys WHERE app_id = ?1 AND user_id = ?2 ORDER BY created_at, id",
            )?
            .query_map(params![app, user], passkey)?
            .collect()
        })
        .await
    }

    async fn insert_passkey_proof(&self, proof: &PasskeyProof) -> Result<(), StoreError> {
        let p = proof.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO rp_passkey_proofs (id, app_id, user_id, credential_id, \
                 user_verified, verified_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    p.id,
                    p.app_id.as_str(),
                    p.user_id.as_str(),
                    p.credential_id,
                    p.user_verified,
                    to_millis(p.verified_at),
                    to_millis(p.expires_at)
                ])
            })
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn take_passkey_proof(
        &self,
        id: &str,
        app: &AppId,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<Option<PasskeyProof>, StoreError> {
        let (id, app, user) = (id.to_owned(), app.clone(), user.clone());
        self.write(move |c| {
            c.prepare_cached("DELETE FROM rp_passkey_proofs WHERE expires_at <= ?1")
                .and_then(|mut s| s.execute([to_millis(now)]))
                .map_err(backend)?;
            c.prepare_cached(
                "DELETE FROM rp_passkey_proofs WHERE id = ?1 AND app_id = ?2 AND user_id = ?3 \
                 RETURNING id, app_id, user_id, credential_id, user_verified, verified_at, \
                 expires_at",
            )
            .and_then(|mut s| {
                s.query_row(params![id, app.as_str(), user.as_str()], |r| {
                    Ok(PasskeyProof {
                        id: r.get(0)?,
                        app_id: AppId::from_stored(r.get(1)?),
                        user_id: UserId::from_stored(r.get(2)?),
                        credential_id: r.get(3)?,
                        user_verified: r.get(4)?,
                        verified_at: from_millis(r.get(5)?),
                        expires_at: from_millis(r.get(6)?),
                    })
                })
                .optional()
            })
            .map_err(backend)
        })
        .await
    }

    async fn use_rp_passkey(
        &self,
        passkey: &RpPasskey,
        seen: u32,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let p = passkey.clone();
        self.write(move |c| {
            change_once(
                c,
                "UPDATE rp_passkeys SET passkey = ?3, counter = ?4, last_used_at = ?5 \
                 WHERE app_id = ?1 AND id = ?2 AND counter = ?6",
                params![
                    p.app_id.as_str(),
                    p.id,
                    p.passkey,
                    p.counter,
                    p.last_used_at.map(to_millis),
                    seen
                ],
                &audit,
            )
        })
        .await
    }
}
