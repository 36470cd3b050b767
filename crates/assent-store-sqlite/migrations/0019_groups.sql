-- Version 19: groups of users, which policy conditions see as `user.groups`, and application
-- scopes: the groups whose members an application may ask (an application without a row may
-- ask any user).

CREATE TABLE groups (
    name        TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL
);

CREATE TABLE group_members (
    group_name  TEXT NOT NULL REFERENCES groups(name),
    user_id     TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (group_name, user_id)
);
-- A user's groups are read on every request, for the policy and the application's scope.
CREATE INDEX group_members_user ON group_members(user_id, group_name);

CREATE TABLE app_scopes (
    app_id      TEXT NOT NULL REFERENCES apps(id),
    group_name  TEXT NOT NULL REFERENCES groups(name),
    PRIMARY KEY (app_id, group_name)
);
