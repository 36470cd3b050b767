//! The plans SQLite picks for statements whose cost would otherwise grow with a user's history:
//! a wrong index here does not fail any behaviour, it only makes every request slower as the
//! user's past requests pile up, so the plans themselves are checked.

use crate::connection::{migrate, open};
use crate::store::approvals::pending_for_user_sql;
use crate::store::devices::DELETE_DEVICE_DELIVERIES;
use crate::store::signals::{LAST_APPROVED_AT, PROMPTS_SINCE, REQUEST_HISTORY};

/// `EXPLAIN QUERY PLAN` of `sql` on a freshly migrated database, its steps joined by `; `.
fn plan(sql: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir.path().join("plans.db")).unwrap();
    migrate(&mut conn).unwrap();
    let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let parameters = statement.parameter_count();
    let steps: Vec<String> = statement
        .query_map(
            rusqlite::params_from_iter(std::iter::repeat_n(0_i64, parameters)),
            |row| row.get(3),
        )
        .unwrap()
        .map(Result::unwrap)
        .collect();
    steps.join("; ")
}

#[test]
fn a_users_last_approval_is_read_from_the_index_of_approvals() {
    let plan = plan(LAST_APPROVED_AT);
    assert!(plan.contains("INDEX approvals_user_approved"), "{plan}");
}

#[test]
fn a_users_pending_requests_are_read_from_the_index_of_pending_requests() {
    let plan = plan(&pending_for_user_sql());
    assert!(plan.contains("INDEX approvals_pending_user"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "already in order: {plan}");
}

#[test]
fn a_users_history_is_read_from_the_index_alone() {
    let plan = plan(REQUEST_HISTORY);
    assert!(
        plan.contains("COVERING INDEX approvals_user_history"),
        "no request row read: {plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "already in order: {plan}");
}

#[test]
fn a_devices_deliveries_are_found_through_its_users_requests() {
    let plan = plan(DELETE_DEVICE_DELIVERIES);
    assert!(
        !plan.contains("SCAN"),
        "no table or index read whole: {plan}"
    );
    assert!(plan.contains("INDEX approvals_user_history"), "{plan}");
}

#[test]
fn the_prompt_budget_counts_from_the_index_of_the_users_requests() {
    let plan = plan(PROMPTS_SINCE);
    assert!(
        plan.contains("COVERING INDEX approvals_user_history (user_id=? AND created_at>?)"),
        "{plan}"
    );
}

/// Deleting a device checks `approvals.device_id` against it; that check must find the device's
/// requests through an index, not by reading every request ever decided. The plan of a
/// foreign-key check is not shown by `EXPLAIN QUERY PLAN`, so the steps SQLite took in full
/// scans are counted instead.
#[test]
fn removing_a_device_does_not_read_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir.path().join("fk.db")).unwrap();
    migrate(&mut conn).unwrap();
    conn.execute_batch(
        "INSERT INTO apps (id, name, created_at) VALUES ('app', 'Acme', 0);
         INSERT INTO users (id, username, created_at) VALUES ('u', 'alice', 0);
         INSERT INTO devices (id, user_id, name, platform, jwk, jkt, state, created_at)
           VALUES ('answering', 'u', 'phone', 'cli', '{}', 'jkt-1', 'active', 0),
                  ('refused', 'u', 'phone', 'cli', '{}', 'jkt-2', 'active', 1);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
         INSERT INTO approvals (id, app_id, user_id, kind, authorization_details, context, nonce,
                                state, created_at, expires_at, decided_at, device_id)
           SELECT 'r' || i, 'app', 'u', 'login', '[]', '{}', 'n', 'approved', i, i + 60, i,
                  'answering'
           FROM n;",
    )
    .unwrap();
    let mut delete = conn.prepare("DELETE FROM devices WHERE id = ?1").unwrap();
    assert_eq!(delete.execute(["refused"]).unwrap(), 1);
    let scanned = delete.get_status(rusqlite::StatementStatus::FullscanStep);
    assert_eq!(scanned, 0, "rows read in full scans to delete one device");
}

/// Every CIBA statement that runs per poll, per decision or per purge finds its rows by a key or
/// an index: the requests and revocations of all clients pile up until their expiry.
#[test]
fn ciba_statements_find_their_rows_through_an_index() {
    use crate::store::ciba::{
        CLAIM_NOTIFICATION, ISSUE_TOKENS, MOVE_POLL, NOTIFICATION_DELIVERED, PURGE_NOTIFICATIONS,
        PURGE_REQUESTS, PURGE_REVOKED, TOKEN_REVOKED, due_notifications_sql,
        request_by_approval_sql, request_by_hash_sql,
    };
    for (sql, index) in [
        (request_by_hash_sql(), "PRIMARY KEY (id_hash=?)"),
        (MOVE_POLL.to_owned(), "PRIMARY KEY (id_hash=?)"),
        (ISSUE_TOKENS.to_owned(), "PRIMARY KEY (id_hash=?)"),
        (request_by_approval_sql(), "(approval_id=?)"),
        (TOKEN_REVOKED.to_owned(), "PRIMARY KEY (jti=?)"),
        (
            PURGE_REQUESTS.to_owned(),
            "INDEX ciba_requests_expiry (expires_at<?)",
        ),
        (
            PURGE_REVOKED.to_owned(),
            "INDEX revoked_tokens_expiry (expires_at<?)",
        ),
        (
            PURGE_NOTIFICATIONS.to_owned(),
            "INDEX ciba_requests_expiry (expires_at<?)",
        ),
        (
            due_notifications_sql(),
            "INDEX ciba_notifications_open (next_attempt_at<?)",
        ),
        (CLAIM_NOTIFICATION.to_owned(), "PRIMARY KEY (id_hash=?)"),
        (NOTIFICATION_DELIVERED.to_owned(), "PRIMARY KEY (id_hash=?)"),
    ] {
        let plan = plan(&sql);
        // `EXISTS (...)` reads one constant row around its subquery; no table is scanned.
        let scans = plan.replace("SCAN CONSTANT ROW", "");
        assert!(!scans.contains("SCAN"), "{sql}: {plan}");
        assert!(plan.contains(index), "{sql}: {plan}");
    }
}

/// A user's groups and an application's scope are read on every request: each from an index
/// alone (no table row, no sort), however many groups and scopes there are.
#[test]
fn groups_and_scopes_are_read_from_an_index_alone() {
    use crate::store::groups::{APP_SCOPE, GROUPS_OF};
    for (sql, index) in [
        (GROUPS_OF, "COVERING INDEX group_members_user (user_id=?)"),
        (
            APP_SCOPE,
            "COVERING INDEX sqlite_autoindex_app_scopes_1 (app_id=?)",
        ),
    ] {
        let plan = plan(sql);
        assert!(plan.contains(index), "{sql}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "already in order: {plan}");
    }
}
