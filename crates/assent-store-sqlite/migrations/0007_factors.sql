-- Version 7: fallback factors and the device life cycle.

-- A device that waits for another device's approval keeps state 'active' in the old CHECK
-- constraint's terms but is marked here; the adapter reads the pair as `pending_activation`,
-- so no query outside the adapter ever sees such a device as active.
ALTER TABLE devices ADD COLUMN activation_pending INTEGER NOT NULL DEFAULT 0 CHECK (activation_pending IN (0, 1));
ALTER TABLE devices ADD COLUMN activation_code_sealed BLOB;
ALTER TABLE devices ADD COLUMN last_seen_at INTEGER;

ALTER TABLE enrollments ADD COLUMN activation TEXT NOT NULL DEFAULT 'immediate'
    CHECK (activation IN ('immediate', 'device_approval'));

CREATE TABLE totp_secrets (
    user_id      TEXT PRIMARY KEY REFERENCES users(id),
    seed_sealed  BLOB NOT NULL,
    algorithm    TEXT NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
    digits       INTEGER NOT NULL,
    period       INTEGER NOT NULL,
    last_step    INTEGER,
    created_at   INTEGER NOT NULL
);

CREATE TABLE recovery_codes (
    user_id     TEXT NOT NULL REFERENCES users(id),
    slot        INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (user_id, slot)
) WITHOUT ROWID;

CREATE TABLE factor_attempts (
    user_id  TEXT NOT NULL,
    factor   TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX factor_attempts_user ON factor_attempts(user_id, factor, at);
