-- Version 5: risk and policy.

-- What the risk engine saw and which policy rule decided, per request ("why was I asked?").
ALTER TABLE approvals ADD COLUMN risk TEXT NOT NULL DEFAULT '{"score":0,"reasons":[]}';
ALTER TABLE approvals ADD COLUMN policy_rule TEXT;

-- Fraud reports by network (/24 or /48), which raise the risk of every request from there.
CREATE TABLE network_reports (
    network      TEXT NOT NULL,
    reported_at  INTEGER NOT NULL
);
CREATE INDEX network_reports_network ON network_reports(network, reported_at);
