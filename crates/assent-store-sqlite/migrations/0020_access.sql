-- Version 20: access requests with several approvers, their approvers' prompts, and the grant
-- issued when the quorum is reached.

CREATE TABLE access_requests (
    id                  TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL REFERENCES apps(id),
    requester_id        TEXT NOT NULL REFERENCES users(id),
    privilege           TEXT NOT NULL,  -- JSON array of authorization details
    justification       TEXT NOT NULL,
    grant_seconds       INTEGER NOT NULL CHECK (grant_seconds > 0),
    approvals_required  INTEGER NOT NULL CHECK (approvals_required > 0),
    denials_required    INTEGER NOT NULL CHECK (denials_required > 0),
    state               TEXT NOT NULL
        CHECK (state IN ('pending', 'granted', 'rejected', 'expired', 'cancelled')),
    reason              TEXT,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    decided_at          INTEGER,
    grant_id            TEXT UNIQUE,
    grant_token         TEXT,
    grant_not_before    INTEGER,
    grant_expires_at    INTEGER,
    grant_revoked_at    INTEGER,
    grant_revoked_by    TEXT,
    -- Break-glass: the requester's reason, and the admin's review (unreviewed until then).
    break_glass_reason  TEXT,
    reviewed_at         INTEGER,
    reviewed_by         TEXT,
    review_note         TEXT,
    CHECK ((state = 'granted') = (grant_id IS NOT NULL))
);
-- Admins list the break-glass grants nobody has reviewed.
CREATE INDEX access_requests_unreviewed ON access_requests(decided_at)
    WHERE break_glass_reason IS NOT NULL AND reviewed_at IS NULL;
-- The sweeper reads the pending ones whose time is up.
CREATE INDEX access_requests_pending ON access_requests(expires_at) WHERE state = 'pending';

CREATE TABLE access_approvers (
    request_id   TEXT NOT NULL REFERENCES access_requests(id),
    position     INTEGER NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id),
    approval_id  TEXT UNIQUE REFERENCES approvals(id),
    unreachable  TEXT,
    PRIMARY KEY (request_id, position),
    CHECK ((approval_id IS NULL) <> (unreachable IS NULL))
);

-- The sealed break-glass code: at most one, its Argon2id hash, removed when it is spent.
CREATE TABLE break_glass_code (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    hash        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
