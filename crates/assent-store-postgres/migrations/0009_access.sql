-- Access requests with several approvers, their approvers' prompts, and the grant issued when
-- the quorum is reached.

CREATE TABLE access_requests (
    id                  text COLLATE "C" PRIMARY KEY,
    app_id              text COLLATE "C" NOT NULL REFERENCES apps(id),
    requester_id        text COLLATE "C" NOT NULL REFERENCES users(id),
    privilege           text NOT NULL,  -- JSON array of authorization details, as written
    justification       text NOT NULL,
    grant_seconds       bigint NOT NULL CHECK (grant_seconds > 0),
    approvals_required  bigint NOT NULL CHECK (approvals_required > 0),
    denials_required    bigint NOT NULL CHECK (denials_required > 0),
    state               text NOT NULL
        CHECK (state IN ('pending', 'granted', 'rejected', 'expired', 'cancelled')),
    reason              text,
    created_at          bigint NOT NULL,
    expires_at          bigint NOT NULL,
    decided_at          bigint,
    grant_id            text COLLATE "C" UNIQUE,
    grant_token         text,
    grant_not_before    bigint,
    grant_expires_at    bigint,
    grant_revoked_at    bigint,
    grant_revoked_by    text,
    -- Break-glass: the requester's reason, and the admin's review (unreviewed until then).
    break_glass_reason  text,
    reviewed_at         bigint,
    reviewed_by         text,
    review_note         text,
    CHECK ((state = 'granted') = (grant_id IS NOT NULL))
);
-- Admins list the break-glass grants nobody has reviewed.
CREATE INDEX access_requests_unreviewed ON access_requests(decided_at)
    WHERE break_glass_reason IS NOT NULL AND reviewed_at IS NULL;
-- The sweeper reads the pending ones whose time is up.
CREATE INDEX access_requests_pending ON access_requests(expires_at) WHERE state = 'pending';

CREATE TABLE access_approvers (
    request_id   text COLLATE "C" NOT NULL REFERENCES access_requests(id),
    position     bigint NOT NULL,
    user_id      text COLLATE "C" NOT NULL REFERENCES users(id),
    approval_id  text COLLATE "C" UNIQUE REFERENCES approvals(id),
    unreachable  text,
    PRIMARY KEY (request_id, position),
    CHECK ((approval_id IS NULL) <> (unreachable IS NULL))
);

-- The sealed break-glass code: at most one, its Argon2id hash, removed when it is spent.
CREATE TABLE break_glass_code (
    id          bigint PRIMARY KEY CHECK (id = 1),
    hash        text NOT NULL,
    created_at  bigint NOT NULL
);
