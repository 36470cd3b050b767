-- The risk engine reads a user's last 500 requests of the last 90 days before every new one:
-- state, times and where each came from. Read through the index of the user's requests, each
-- past request cost a read of its own table page (3-4 KB once decided, each on a page of its
-- own); this index holds those columns itself, so the whole history is a few contiguous index
-- pages. `origin` is the request's context without the user agent (free text of any length).
ALTER TABLE approvals ADD COLUMN origin TEXT;
UPDATE approvals SET origin = json_remove(context, '$.user_agent');
DROP INDEX approvals_user_created;
CREATE INDEX approvals_user_history ON approvals(user_id, created_at, state, decided_at, origin);
