-- Version 2: what the web authenticator needs.

-- Whether approving needs a passkey check with user verification on the device.
ALTER TABLE approvals ADD COLUMN user_verification INTEGER NOT NULL DEFAULT 0;

-- The passkey a device registered as its user-verification factor (ES256 only).
CREATE TABLE passkeys (
    device_id      TEXT PRIMARY KEY REFERENCES devices(id),
    credential_id  TEXT NOT NULL,
    public_key     BLOB NOT NULL,
    created_at     INTEGER NOT NULL
);

-- Informational notices for a user's devices (new device, revoked device...).
CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX alerts_user ON alerts(user_id, created_at);

-- A device's Web Push subscription (RFC 8030 endpoint and RFC 8291 keys).
CREATE TABLE push_subscriptions (
    device_id   TEXT PRIMARY KEY REFERENCES devices(id),
    endpoint    TEXT NOT NULL,
    p256dh      TEXT NOT NULL,
    auth        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
