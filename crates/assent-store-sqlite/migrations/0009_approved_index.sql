-- A user's last approval (the prompt budget counts from it) by index. Without it every new
-- request read all of the user's past requests, a cost that grew with the user's history.
CREATE INDEX approvals_user_approved ON approvals(user_id, decided_at) WHERE state = 'approved';
