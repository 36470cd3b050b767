-- Version 3: push fatigue defense.

-- Counting a user's recent prompts.
CREATE INDEX approvals_user_created ON approvals(user_id, created_at);

-- Push suspended for a user until a time (prompt budget exhausted, fraud reported).
CREATE TABLE push_suspensions (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    until       INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
