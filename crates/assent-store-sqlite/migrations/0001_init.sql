-- Assent schema, version 1. Times are Unix milliseconds (INTEGER).
CREATE TABLE apps (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    secret_hash  BLOB NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'app')),
    app_id       TEXT REFERENCES apps(id),
    created_at   INTEGER NOT NULL,
    CHECK ((role = 'app') = (app_id IS NOT NULL))
);

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    username    TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE enrollments (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    code_hash   BLOB NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    device_id   TEXT
);

CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    platform    TEXT NOT NULL,
    jwk         TEXT NOT NULL,
    jkt         TEXT NOT NULL UNIQUE,
    state       TEXT NOT NULL CHECK (state IN ('active', 'revoked')),
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX devices_user ON devices(user_id);

CREATE TABLE approvals (
    id                     TEXT PRIMARY KEY,
    app_id                 TEXT NOT NULL REFERENCES apps(id),
    user_id                TEXT NOT NULL REFERENCES users(id),
    kind                   TEXT NOT NULL,
    binding_message        TEXT,
    authorization_details  TEXT NOT NULL,
    context                TEXT NOT NULL,
    nonce                  TEXT NOT NULL,
    display_code           TEXT,
    state                  TEXT NOT NULL,
    reason                 TEXT,
    created_at             INTEGER NOT NULL,
    expires_at             INTEGER NOT NULL,
    decided_at             INTEGER,
    device_id              TEXT REFERENCES devices(id),
    statement              TEXT,
    receipt                TEXT
);
CREATE INDEX approvals_pending_user ON approvals(user_id, created_at) WHERE state = 'pending';
CREATE INDEX approvals_pending_expiry ON approvals(expires_at) WHERE state = 'pending';

CREATE TABLE deliveries (
    approval_id  TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (approval_id, device_id, channel)
) WITHOUT ROWID;

CREATE TABLE proof_ids (
    jkt         TEXT NOT NULL,
    jti         TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (jkt, jti)
) WITHOUT ROWID;
CREATE INDEX proof_ids_expiry ON proof_ids(expires_at);

CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    subject    TEXT NOT NULL,
    data       TEXT NOT NULL,
    prev_hash  BLOB NOT NULL,
    hash       BLOB NOT NULL
);
CREATE INDEX audit_subject ON audit(subject);

-- The sequence number of the last appended row, written in the same transaction as the row,
-- so a row deleted from the end of the chain is detected.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL
);
