-- Version 4: webhooks. Events are read from the audit log (written in the same transaction as
-- the change they describe), so a webhook can never be lost between a change and its delivery.

CREATE TABLE webhooks (
    app_id         TEXT PRIMARY KEY REFERENCES apps(id),
    url            TEXT NOT NULL,
    secret_sealed  BLOB NOT NULL,
    events         TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE webhook_progress (
    app_id      TEXT PRIMARY KEY REFERENCES apps(id),
    cursor      INTEGER NOT NULL,
    last_error  TEXT,
    failed      INTEGER NOT NULL DEFAULT 0
);
