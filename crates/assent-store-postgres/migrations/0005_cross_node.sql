-- What keeps the fatigue defenses and webhook delivery one across nodes: when each pattern alert
-- was last raised for each user (claimed with a conditional upsert, so one node raises it), and
-- the claim on each application's webhook deliveries (a lease held by one dispatcher at a time).
-- A user's prompt turn is an advisory lock and needs no table.
CREATE TABLE pattern_alerts (
    detector    text NOT NULL,
    user_id     text COLLATE "C" NOT NULL REFERENCES users(id),
    last_at     bigint NOT NULL,
    PRIMARY KEY (detector, user_id)
);
ALTER TABLE webhook_progress ADD COLUMN lease_holder text;
ALTER TABLE webhook_progress ADD COLUMN lease_until bigint;
