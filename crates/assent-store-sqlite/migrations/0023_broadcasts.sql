-- Version 23: incident broadcasts, an admin's message that each recipient acknowledges on a
-- device with a signed statement; the recipients are fixed when it is sent.

CREATE TABLE broadcasts (
    id                      TEXT PRIMARY KEY,
    message                 TEXT NOT NULL,
    audience_group          TEXT,  -- NULL: every user (not a reference: a group may go later)
    created_by              TEXT NOT NULL,
    created_at              INTEGER NOT NULL,
    reminder_interval_secs  INTEGER NOT NULL
);
CREATE INDEX broadcasts_created ON broadcasts(created_at);

CREATE TABLE broadcast_recipients (
    broadcast_id      TEXT NOT NULL REFERENCES broadcasts(id),
    user_id           TEXT NOT NULL REFERENCES users(id),
    next_reminder_at  INTEGER NOT NULL,
    reminders         INTEGER NOT NULL DEFAULT 0,
    acknowledged_at   INTEGER,
    device_id         TEXT REFERENCES devices(id),
    statement         TEXT,
    PRIMARY KEY (broadcast_id, user_id)
);
-- A device lists its user's broadcasts.
CREATE INDEX broadcast_recipients_user ON broadcast_recipients(user_id, acknowledged_at);
-- The sweep finds the reminders due among those not acknowledged.
-- Recipients who had their last reminder (30, `remind::MAX_REMINDERS`) leave it, so the sweep
-- never walks them again; its query repeats the literal condition so the index applies.
CREATE INDEX broadcast_recipients_due ON broadcast_recipients(next_reminder_at)
    WHERE acknowledged_at IS NULL AND reminders < 30;
