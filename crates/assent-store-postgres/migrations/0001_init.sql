-- Assent schema on PostgreSQL, version 1: what SQLite reaches after its migrations 1 to 7, in one
-- step. Times are Unix milliseconds (bigint), as on SQLite, so both stores keep exactly the
-- millisecond values the core computes and a value read back equals the value written.
-- Identifiers and usernames use the "C" collation: byte order, as SQLite compares, so listings
-- come back in the same order from both stores and comparisons never depend on the locale.

CREATE TABLE apps (
    id          text COLLATE "C" PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  bigint NOT NULL
);

CREATE TABLE api_keys (
    id           text COLLATE "C" PRIMARY KEY,
    secret_hash  bytea NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin', 'app')),
    app_id       text COLLATE "C" REFERENCES apps(id),
    created_at   bigint NOT NULL,
    CHECK ((role = 'app') = (app_id IS NOT NULL))
);
CREATE INDEX api_keys_admin ON api_keys(id) WHERE role = 'admin';

CREATE TABLE users (
    id          text COLLATE "C" PRIMARY KEY,
    username    text COLLATE "C" NOT NULL UNIQUE,
    created_at  bigint NOT NULL
);

CREATE TABLE enrollments (
    id          text COLLATE "C" PRIMARY KEY,
    user_id     text COLLATE "C" NOT NULL REFERENCES users(id),
    code_hash   bytea NOT NULL UNIQUE,
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL,
    used_at     bigint,
    device_id   text COLLATE "C",
    activation  text NOT NULL CHECK (activation IN ('immediate', 'device_approval'))
);
-- Removing a refused device clears the enrollment that names it.
CREATE INDEX enrollments_device ON enrollments(device_id) WHERE device_id IS NOT NULL;

-- Unlike SQLite (whose old CHECK constraint could not be changed in place), the state column
-- holds all three states.
CREATE TABLE devices (
    id                      text COLLATE "C" PRIMARY KEY,
    user_id                 text COLLATE "C" NOT NULL REFERENCES users(id),
    name                    text NOT NULL,
    platform                text NOT NULL,
    jwk                     text NOT NULL,
    jkt                     text COLLATE "C" NOT NULL UNIQUE,
    state                   text NOT NULL CHECK (state IN ('active', 'pending_activation', 'revoked')),
    created_at              bigint NOT NULL,
    revoked_at              bigint,
    last_seen_at            bigint,
    activation_code_sealed  bytea
);
CREATE INDEX devices_user ON devices(user_id, created_at);
CREATE INDEX devices_pending ON devices(created_at) WHERE state = 'pending_activation';

CREATE TABLE approvals (
    id                     text COLLATE "C" PRIMARY KEY,
    app_id                 text COLLATE "C" NOT NULL REFERENCES apps(id),
    user_id                text COLLATE "C" NOT NULL REFERENCES users(id),
    kind                   text NOT NULL,
    binding_message        text,
    authorization_details  text NOT NULL,
    context                text NOT NULL,
    nonce                  text NOT NULL,
    display_code           text,
    user_verification      boolean NOT NULL,
    risk                   text NOT NULL,
    policy_rule            text,
    state                  text NOT NULL,
    reason                 text,
    created_at             bigint NOT NULL,
    expires_at             bigint NOT NULL,
    decided_at             bigint,
    device_id              text COLLATE "C" REFERENCES devices(id),
    statement              text,
    receipt                text
);
-- A device's pending requests, the sweeper's expiry scan, recent prompts and requests (fatigue
-- and risk), the last approval (fatigue).
CREATE INDEX approvals_pending_user ON approvals(user_id, created_at) WHERE state = 'pending';
CREATE INDEX approvals_pending_expiry ON approvals(expires_at) WHERE state = 'pending';
CREATE INDEX approvals_user_created ON approvals(user_id, created_at);
CREATE INDEX approvals_user_approved ON approvals(user_id, decided_at) WHERE state = 'approved';
-- The foreign key check when a refused device is deleted.
CREATE INDEX approvals_device ON approvals(device_id) WHERE device_id IS NOT NULL;

CREATE TABLE deliveries (
    approval_id  text COLLATE "C" NOT NULL,
    device_id    text COLLATE "C" NOT NULL,
    channel      text NOT NULL,
    at           bigint NOT NULL,
    PRIMARY KEY (approval_id, device_id, channel)
);
CREATE INDEX deliveries_device ON deliveries(device_id);

CREATE TABLE proof_ids (
    jkt         text COLLATE "C" NOT NULL,
    jti         text COLLATE "C" NOT NULL,
    expires_at  bigint NOT NULL,
    PRIMARY KEY (jkt, jti)
);
CREATE INDEX proof_ids_expiry ON proof_ids(expires_at);

CREATE TABLE audit (
    seq        bigint PRIMARY KEY,
    at         bigint NOT NULL,
    kind       text NOT NULL,
    actor      text NOT NULL,
    subject    text NOT NULL,
    data       text NOT NULL,
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL
);
CREATE INDEX audit_subject ON audit(subject);

-- The last appended row's sequence number and hash, moved in the same transaction as the row.
-- Its one row is also the chain lock: an append locks it (FOR UPDATE) before computing the next
-- row, so appends from every node form one chain (see src/audit.rs). Sequence 0 with the
-- all-zero genesis hash stands for the empty chain.
CREATE TABLE audit_head (
    id    integer PRIMARY KEY CHECK (id = 1),
    seq   bigint NOT NULL,
    hash  bytea NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

CREATE TABLE passkeys (
    device_id      text COLLATE "C" PRIMARY KEY REFERENCES devices(id),
    credential_id  text NOT NULL,
    public_key     bytea NOT NULL,
    created_at     bigint NOT NULL
);

CREATE TABLE alerts (
    id          text COLLATE "C" PRIMARY KEY,
    user_id     text COLLATE "C" NOT NULL REFERENCES users(id),
    kind        text NOT NULL,
    message     text NOT NULL,
    created_at  bigint NOT NULL,
    device_id   text COLLATE "C"
);
CREATE INDEX alerts_user ON alerts(user_id, created_at);
CREATE INDEX alerts_device ON alerts(device_id) WHERE device_id IS NOT NULL;

CREATE TABLE push_subscriptions (
    device_id   text COLLATE "C" PRIMARY KEY REFERENCES devices(id),
    endpoint    text NOT NULL,
    p256dh      text NOT NULL,
    auth        text NOT NULL,
    created_at  bigint NOT NULL
);

CREATE TABLE push_suspensions (
    user_id     text COLLATE "C" PRIMARY KEY REFERENCES users(id),
    until       bigint NOT NULL,
    reason      text NOT NULL,
    created_at  bigint NOT NULL
);

CREATE TABLE webhooks (
    app_id         text COLLATE "C" PRIMARY KEY REFERENCES apps(id),
    url            text NOT NULL,
    secret_sealed  bytea NOT NULL,
    events         text NOT NULL,
    created_at     bigint NOT NULL
);

CREATE TABLE webhook_progress (
    app_id      text COLLATE "C" PRIMARY KEY REFERENCES apps(id),
    cursor      bigint NOT NULL,
    last_error  text,
    failed      bigint NOT NULL DEFAULT 0
);

CREATE TABLE network_reports (
    network      text NOT NULL,
    reported_at  bigint NOT NULL
);
CREATE INDEX network_reports_network ON network_reports(network, reported_at);

CREATE TABLE totp_secrets (
    user_id      text COLLATE "C" PRIMARY KEY REFERENCES users(id),
    seed_sealed  bytea NOT NULL,
    algorithm    text NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
    digits       smallint NOT NULL,
    period       bigint NOT NULL,
    last_step    bigint,
    created_at   bigint NOT NULL
);

CREATE TABLE recovery_codes (
    user_id     text COLLATE "C" NOT NULL REFERENCES users(id),
    slot        bigint NOT NULL,
    hash        text NOT NULL,
    created_at  bigint NOT NULL,
    used_at     bigint,
    PRIMARY KEY (user_id, slot)
);

CREATE TABLE factor_attempts (
    user_id  text COLLATE "C" NOT NULL,
    factor   text NOT NULL,
    at       bigint NOT NULL
);
CREATE INDEX factor_attempts_user ON factor_attempts(user_id, factor, at);
