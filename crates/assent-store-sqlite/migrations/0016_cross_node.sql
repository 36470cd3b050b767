-- When each pattern alert was last raised for each user (one alert per user, pattern and quiet
-- period), and the claim on each application's webhook deliveries (a lease held by one
-- dispatcher at a time). SQLite has one node, but the store keeps the same records as
-- PostgreSQL's, so that both answer the same contract.
CREATE TABLE pattern_alerts (
    detector    TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    last_at     INTEGER NOT NULL,
    PRIMARY KEY (detector, user_id)
);
ALTER TABLE webhook_progress ADD COLUMN lease_holder TEXT;
ALTER TABLE webhook_progress ADD COLUMN lease_until INTEGER;
