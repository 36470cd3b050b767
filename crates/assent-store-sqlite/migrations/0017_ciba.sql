-- Version 17: OpenID CIBA. Clients registered by an admin (never changed afterwards), the
-- backchannel requests they make (each one an approval; only the SHA-256 of the auth_req_id is
-- kept), and access tokens revoked before their expiry. A request's poll turn and its token
-- issuance are decided by conditional updates, so two polls cannot both collect the tokens.

CREATE TABLE ciba_clients (
    client_id              TEXT PRIMARY KEY,
    app_id                 TEXT NOT NULL REFERENCES apps(id),
    name                   TEXT NOT NULL,
    mode                   TEXT NOT NULL CHECK (mode IN ('poll', 'ping', 'push')),
    notification_endpoint  TEXT,
    auth_kind              TEXT NOT NULL CHECK (auth_kind IN ('secret', 'private_key_jwt')),
    secret_hash            BLOB,
    jwks                   TEXT,
    requires_user_code     INTEGER NOT NULL,
    agent_owner            TEXT REFERENCES users(id),
    agent_allowed_types    TEXT,
    created_at             INTEGER NOT NULL,
    CHECK ((auth_kind = 'secret') = (secret_hash IS NOT NULL)),
    CHECK ((auth_kind = 'private_key_jwt') = (jwks IS NOT NULL)),
    CHECK ((agent_owner IS NULL) = (agent_allowed_types IS NULL))
);

CREATE TABLE ciba_requests (
    id_hash                    BLOB PRIMARY KEY,
    client_id                  TEXT NOT NULL REFERENCES ciba_clients(client_id),
    approval_id                TEXT NOT NULL UNIQUE REFERENCES approvals(id),
    user_id                    TEXT NOT NULL REFERENCES users(id),
    scope                      TEXT NOT NULL,
    acr                        TEXT,
    notification_token_sealed  BLOB,
    poll_interval              INTEGER NOT NULL,
    next_poll_at               INTEGER NOT NULL,
    token_lifetime             INTEGER,
    created_at                 INTEGER NOT NULL,
    expires_at                 INTEGER NOT NULL,
    tokens_issued_at           INTEGER
) WITHOUT ROWID;
CREATE INDEX ciba_requests_expiry ON ciba_requests(expires_at);

CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);

-- Ping and push notifications: a durable outbox with one row per request of a ping or push
-- client. A row is due once its approval is final, until it is delivered or given up; a sender
-- claims it with a lease (lease_until), so nodes sharing a database send it once at a time.
CREATE TABLE ciba_notifications (
    id_hash          BLOB PRIMARY KEY REFERENCES ciba_requests(id_hash),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER NOT NULL DEFAULT 0,
    delivered_at     INTEGER,
    gave_up_at       INTEGER,
    last_error       TEXT
) WITHOUT ROWID;
CREATE INDEX ciba_notifications_open ON ciba_notifications(next_attempt_at)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;
