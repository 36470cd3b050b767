-- API keys can be revoked (a rotation revokes the application's earlier keys), and the admin
-- console's sessions live here so that every node sees a sign-out or an expiry at once.
ALTER TABLE api_keys ADD COLUMN revoked_at bigint;
CREATE INDEX api_keys_by_app ON api_keys(app_id, created_at) WHERE app_id IS NOT NULL;

CREATE TABLE console_sessions (
    id_hash       bytea PRIMARY KEY,
    user_id       text COLLATE "C" NOT NULL REFERENCES users(id),
    created_at    bigint NOT NULL,
    last_seen_at  bigint NOT NULL,
    expires_at    bigint NOT NULL,
    -- The approved push it was opened with: one session per approval.
    approval_id   text COLLATE "C" UNIQUE,
    ended_at      bigint
);
CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);
