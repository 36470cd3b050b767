-- Version 22: what the policy can ask of a request beyond its prompt. A quorum for any request
-- (`approvals` and `approver_groups`): the user's own approval is held by a co-approval access
-- request until its co-approvers reach the quorum. The rule that decided an access request.
-- Passkey proofs: a finished authentication at a relying party's origin, used once by a request.

ALTER TABLE approvals ADD COLUMN approvals_required INTEGER NOT NULL DEFAULT 1
    CHECK (approvals_required > 0);
ALTER TABLE approvals ADD COLUMN approver_groups TEXT;  -- JSON array, with a quorum

ALTER TABLE access_requests ADD COLUMN policy_rule TEXT;
-- The user's own approval the co-approvers are asked about: the request, the answering device
-- and its signed statement, and the passkey evidence when one was checked (JSON).
ALTER TABLE access_requests ADD COLUMN held_approval_id TEXT REFERENCES approvals(id);
ALTER TABLE access_requests ADD COLUMN held_device_id TEXT;
ALTER TABLE access_requests ADD COLUMN held_statement TEXT;
ALTER TABLE access_requests ADD COLUMN held_user_verification TEXT;
-- One co-approval per request: of two answers racing to hold it, one inserts.
CREATE UNIQUE INDEX access_requests_held ON access_requests(held_approval_id)
    WHERE held_approval_id IS NOT NULL;

CREATE TABLE rp_passkey_proofs (
    id             TEXT PRIMARY KEY,  -- the authentication ceremony's id
    app_id         TEXT NOT NULL REFERENCES apps(id),
    user_id        TEXT NOT NULL REFERENCES users(id),
    credential_id  TEXT NOT NULL,
    user_verified  INTEGER NOT NULL,
    verified_at    INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX rp_passkey_proofs_expiry ON rp_passkey_proofs(expires_at);
