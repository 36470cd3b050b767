-- OpenID CIBA. Clients registered by an admin (never changed afterwards), the backchannel
-- requests they make (each one an approval; only the SHA-256 of the auth_req_id is kept), and
-- access tokens revoked before their expiry. A request's poll turn and its token issuance are
-- conditional updates of its row, so polls on several nodes cannot both collect the tokens.
-- Numbers the domain holds as u32 are bigint: integer cannot hold them all.

CREATE TABLE ciba_clients (
    client_id              text COLLATE "C" PRIMARY KEY,
    app_id                 text COLLATE "C" NOT NULL REFERENCES apps(id),
    name                   text NOT NULL,
    mode                   text NOT NULL CHECK (mode IN ('poll', 'ping', 'push')),
    notification_endpoint  text,
    auth_kind              text NOT NULL CHECK (auth_kind IN ('secret', 'private_key_jwt')),
    secret_hash            bytea,
    jwks                   text,
    requires_user_code     boolean NOT NULL,
    agent_owner            text COLLATE "C" REFERENCES users(id),
    agent_allowed_types    text,
    created_at             bigint NOT NULL,
    CHECK ((auth_kind = 'secret') = (secret_hash IS NOT NULL)),
    CHECK ((auth_kind = 'private_key_jwt') = (jwks IS NOT NULL)),
    CHECK ((agent_owner IS NULL) = (agent_allowed_types IS NULL))
);

CREATE TABLE ciba_requests (
    id_hash                    bytea PRIMARY KEY,
    client_id                  text COLLATE "C" NOT NULL REFERENCES ciba_clients(client_id),
    approval_id                text COLLATE "C" NOT NULL UNIQUE REFERENCES approvals(id),
    user_id                    text COLLATE "C" NOT NULL REFERENCES users(id),
    scope                      text NOT NULL,
    acr                        text,
    notification_token_sealed  bytea,
    poll_interval              bigint NOT NULL CHECK (poll_interval >= 0),
    next_poll_at               bigint NOT NULL,
    token_lifetime             bigint CHECK (token_lifetime >= 0),
    created_at                 bigint NOT NULL,
    expires_at                 bigint NOT NULL,
    tokens_issued_at           bigint
);
CREATE INDEX ciba_requests_expiry ON ciba_requests(expires_at);

CREATE TABLE revoked_tokens (
    jti         text COLLATE "C" PRIMARY KEY,
    expires_at  bigint NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);

-- Ping and push notifications: a durable outbox with one row per request of a ping or push
-- client. A row is due once its approval is final, until it is delivered or given up; a sender
-- claims it with a lease (lease_until), so nodes sharing the database send it once at a time.
CREATE TABLE ciba_notifications (
    id_hash          bytea PRIMARY KEY REFERENCES ciba_requests(id_hash),
    attempts         bigint NOT NULL DEFAULT 0,
    next_attempt_at  bigint NOT NULL,
    lease_until      bigint NOT NULL DEFAULT 0,
    delivered_at     bigint,
    gave_up_at       bigint,
    last_error       text
);
CREATE INDEX ciba_notifications_open ON ciba_notifications(next_attempt_at)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;
