-- Version 21: passkeys at relying parties' origins: each application's WebAuthn identity, its
-- users' passkeys, and the ceremonies between their start and their finish.

CREATE TABLE app_webauthn (
    app_id      TEXT PRIMARY KEY REFERENCES apps(id),
    rp_id       TEXT NOT NULL,
    rp_name     TEXT NOT NULL,
    origin      TEXT NOT NULL
);

CREATE TABLE webauthn_ceremonies (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL CHECK (kind IN ('registration', 'authentication')),
    state       TEXT NOT NULL,  -- webauthn-rs's state, JSON, with the challenge
    expires_at  INTEGER NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies(expires_at);

CREATE TABLE rp_passkeys (
    app_id        TEXT NOT NULL REFERENCES apps(id),
    id            TEXT NOT NULL,  -- the credential id, base64url
    user_id       TEXT NOT NULL REFERENCES users(id),
    passkey       TEXT NOT NULL,  -- webauthn-rs's Passkey, JSON
    counter       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    PRIMARY KEY (app_id, id)
);
CREATE INDEX rp_passkeys_user ON rp_passkeys(app_id, user_id, created_at);
