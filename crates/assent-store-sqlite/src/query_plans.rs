//! The plans SQLite picks for statements whose cost would otherwise grow with a user's history:
//! a wrong index here does not fail any behaviour, it only makes every request slower as the
//! user's past requests pile up, so the plans themselves are checked.

use crate::connection::{migrate, open};
use crate::store::{
    DELETE_DEVICE_DELIVERIES, LAST_APPROVED_AT, PROMPTS_SINCE, REQUEST_HISTORY,
    pending_for_user_sql,
};

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
