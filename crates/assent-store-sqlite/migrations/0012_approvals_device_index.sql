-- Removing a device (one refused activation) deletes its row, and `approvals.device_id`
-- references it: without an index SQLite's foreign-key check reads every request ever made to
-- find none, holding the writer (and so every sign-in) for a time that grows with the table,
-- 0.37 s at 300,000 requests. PostgreSQL's schema has had this index from the start.
CREATE INDEX approvals_device ON approvals(device_id) WHERE device_id IS NOT NULL;
