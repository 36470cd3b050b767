//! The behavioural suite of the storage port, one module per capability. Every adapter runs each
//! check as a test of its own against a fresh empty store ([`store_contract!`]), so SQLite and
//! PostgreSQL are held to the same contract: conditional final writes, single-use codes and
//! proofs, audit rows written with (and only with) their change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod access_fixtures;
mod approvals;
mod audit;
mod break_glass;
mod broadcasts;
mod ciba;
mod ciba_notifications;
mod co_approvals;
mod console;
mod devices;
mod duo;
mod enrollments;
mod factors;
mod groups;
mod identity;
mod passkeys;
mod pushes;
mod races;
mod signals;
mod support;
mod turns;

use assent_core::Store;
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// A check of the contract: given a fresh, empty store, it panics where the store breaks it.
pub type Check = fn(Arc<dyn Store>) -> BoxFuture<'static, ()>;

crate::store_contract!(@checks table ());

/// The check named `name`, from [`CHECKS`].
pub fn check(name: &str) -> Check {
    match CHECKS.iter().find(|(check, _)| *check == name) {
        Some((_, check)) => *check,
        None => panic!("the store contract has no check named {name}"),
    }
}

/// Expands to one `#[tokio::test]` per check of the contract, in one module per capability, so
/// each check passes or fails on its own and under its own name. `$run` is an
/// `async fn(Check)` that runs the check it is given on a fresh, empty store.
///
/// The list of checks below is the only one: [`CHECKS`] is made from it too, and a check
/// function left out of it is dead code, which the lints refuse. No backend can skip a check.
///
/// ```ignore
/// async fn on_fresh_store(check: assent_store_tests::Check) {
///     check(Arc::new(open_an_empty_store())).await;
/// }
/// assent_store_tests::store_contract!(on_fresh_store);
/// ```
#[macro_export]
macro_rules! store_contract {
    ($run:path) => {
        $crate::store_contract!(@checks tests ($run));
    };
    (@checks $then:ident $args:tt) => {
        $crate::store_contract!(@$then $args
            identity {
                users_are_unique_and_found apps_and_keys keys_rotate_and_revoke_once
                concurrent_key_revocations_have_one_winner a_rotation_with_a_stale_view_writes_nothing
            }
            console {
                console_sessions_time_out_and_end_once an_approval_opens_one_console_session
            }
            enrollments { enrollment_is_single_use }
            devices {
                proof_ids_are_single_use revocation_is_conditional
                pending_activation_is_decided_once authenticator_records
            }
            factors {
                totp_steps_only_move_forward recovery_codes_are_single_use_and_replaced_whole
                attempts_are_limited_atomically
            }
            signals { fatigue_risk_and_webhook_records }
            pushes {
                targets_are_replaced_and_disabled_conditionally
                a_request_and_its_pushes_are_written_together
                claims_lease_and_finish_once concurrent_claims_take_each_push_once
                user_emails_are_set_and_removed
            }
            approvals {
                finalize_is_conditional concurrent_finalize_has_one_winner
                pending_and_due_for_expiry deliveries_are_recorded_once
                a_fetch_records_its_proof_and_its_delivery_together
                a_fraud_report_marks_its_network_with_its_outcome
            }
            audit {
                audit_chain_is_intact_and_paged failed_writes_leave_no_audit_row
                audit_search_filters_and_resumes
            }
            turns {
                prompt_turns_are_held_one_at_a_time
                pattern_alerts_are_claimed_once_per_quiet_period
                webhook_claims_have_one_holder_and_only_its_progress_lands
            }
            ciba {
                ciba_clients_round_trip_and_are_registered_once
                ciba_requests_are_found_by_hash_and_by_approval
                ciba_poll_turn_is_compare_and_set ciba_tokens_are_issued_once
                concurrent_ciba_token_issues_have_one_winner tokens_are_revoked_once
                ciba_purge_removes_only_what_expired
            }
            ciba_notifications {
                ciba_notifications_are_due_once_final_and_claimed_once
            }
            duo {
                duo_integrations_round_trip_and_are_created_once
                duo_integrations_are_listed_oldest_first
            }
            groups {
                groups_round_trip_and_are_created_once
                group_members_are_added_and_removed_once
                concurrent_member_changes_have_one_winner app_scopes_are_replaced_whole
            }
            access {
                access_requests_round_trip access_requests_end_once access_grants_revoke_once
                access_requests_due access_request_ends_race
            }
            break_glass {
                break_glass_codes_are_set_replaced_and_read break_glass_spends_the_code_once
                break_glass_endings_race break_glass_reviews_once
            }
            co_approvals {
                quorums_round_trip co_approvals_hold_a_request_once passkey_proofs_are_taken_once
                ended_requests_are_listed_newest_first_per_user
            }
            passkeys {
                rp_webauthn_round_trips_and_is_replaced ceremonies_are_taken_once
                rp_passkeys_round_trip_and_are_registered_once passkey_uses_move_the_counter_once
            }
            broadcasts {
                broadcasts_round_trip_with_their_recipients acknowledgements_are_recorded_once
                reminders_are_due_in_time_and_claimed_once
                acknowledgement_and_reminder_races_have_one_winner
            }
            races {
                concurrent_finalize_keeps_one_chain concurrent_audited_writes_keep_one_chain
                concurrent_single_use_writes_have_one_winner
            }
        );
    };
    (@tests ($run:path) $($module:ident { $($check:ident)* })*) => {
        $(
            mod $module {
                use super::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $check() {
                        $run($crate::check(stringify!($check))).await;
                    }
                )*
            }
        )*
    };
    (@table () $($module:ident { $($check:ident)* })*) => {
        /// Every check, by name.
        pub const CHECKS: &[(&str, $crate::Check)] = &[
            $($((stringify!($check), |s| Box::pin($crate::$module::$check(s))),)*)*
        ];
    };
}
