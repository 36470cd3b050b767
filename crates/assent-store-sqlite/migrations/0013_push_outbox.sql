-- Push targets of every channel (Web Push, APNs, FCM) and whether each still works; the push
-- outbox (one row per push owed to a device or an e-mail address, claimed with a lease); and
-- users' e-mail addresses for security alerts.
ALTER TABLE push_subscriptions ADD COLUMN channel TEXT NOT NULL DEFAULT 'web_push';
ALTER TABLE push_subscriptions ADD COLUMN disabled_at INTEGER;
ALTER TABLE push_subscriptions ADD COLUMN disabled_reason TEXT;

CREATE TABLE push_jobs (
    id           TEXT PRIMARY KEY,
    channel      TEXT NOT NULL,
    device_id    TEXT REFERENCES devices(id),
    user_id      TEXT REFERENCES users(id),
    approval_id  TEXT REFERENCES approvals(id),
    urgency      TEXT NOT NULL,
    topic        TEXT,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- What a sender claims: queued or leased pushes by the time they are due.
CREATE INDEX push_jobs_due ON push_jobs(due_at) WHERE state IN ('queued', 'sent');
CREATE INDEX push_jobs_approval ON push_jobs(approval_id) WHERE approval_id IS NOT NULL;
-- Removing a refused device deletes its row, which these rows reference.
CREATE INDEX push_jobs_device ON push_jobs(device_id) WHERE device_id IS NOT NULL;

CREATE TABLE user_emails (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    email       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
