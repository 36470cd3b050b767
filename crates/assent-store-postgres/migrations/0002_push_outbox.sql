-- Push targets of every channel (Web Push, APNs, FCM) and whether each still works; the push
-- outbox (one row per push owed to a device or an e-mail address, claimed with a lease, so one
-- node sends each); and users' e-mail addresses for security alerts.
ALTER TABLE push_subscriptions ADD COLUMN channel text NOT NULL DEFAULT 'web_push';
ALTER TABLE push_subscriptions ADD COLUMN disabled_at bigint;
ALTER TABLE push_subscriptions ADD COLUMN disabled_reason text;

CREATE TABLE push_jobs (
    id           text COLLATE "C" PRIMARY KEY,
    channel      text NOT NULL,
    device_id    text COLLATE "C" REFERENCES devices(id),
    user_id      text COLLATE "C" REFERENCES users(id),
    approval_id  text COLLATE "C" REFERENCES approvals(id),
    urgency      text NOT NULL,
    topic        text,
    payload      text NOT NULL,
    state        text NOT NULL,
    attempts     integer NOT NULL,
    due_at       bigint NOT NULL,
    expires_at   bigint NOT NULL,
    last_error   text,
    created_at   bigint NOT NULL,
    updated_at   bigint NOT NULL
);
CREATE INDEX push_jobs_due ON push_jobs(due_at) WHERE state IN ('queued', 'sent');
CREATE INDEX push_jobs_approval ON push_jobs(approval_id) WHERE approval_id IS NOT NULL;
CREATE INDEX push_jobs_device ON push_jobs(device_id) WHERE device_id IS NOT NULL;

CREATE TABLE user_emails (
    user_id     text COLLATE "C" PRIMARY KEY REFERENCES users(id),
    email       text NOT NULL,
    updated_at  bigint NOT NULL
);
