//! The store conformance suite: every test runs against every backend.
//! A backend is a function that opens a fresh, migrated, empty store: a
//! temporary SQLite file, or a new database on the Postgres server named by
//! `MODELRUN_TEST_DATABASE_URL` (default: the local server). Without a
//! Postgres server the Postgres half fails; it never skips.

mod accounts;
mod aliases;
mod alongside;
mod attempts;
mod costs;
mod counted;
mod data_version;
mod display;
mod environments;
mod installation;
mod listing;
mod models;
mod outbox;
mod progress;
mod queue;
mod reconnect;
mod registration;
mod requeue;
mod runs;
mod schedules;
mod security;
mod submits;
mod support;
mod users;

/// Declares each test once per backend: `sqlite::name` and `postgres::name`.
macro_rules! conformance {
    ($($module:ident :: $test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let backend = crate::support::Backend::sqlite().await;
                    crate::$module::$test(backend.store.clone()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let backend = crate::support::Backend::postgres().await;
                    crate::$module::$test(backend.store.clone()).await;
                }
            )*
        }
    };
}

conformance!(
    costs::durations_come_from_the_latest_succeeded_runs_of_the_version,
    costs::an_estimate_is_kept_once_with_its_run,
    costs::budgets_are_set_replaced_and_removed,
    installation::an_installation_has_one_identity_and_runs_their_own_keys,
    users::creates_users_and_refuses_duplicate_emails,
    users::sessions_expire_when_idle_or_old,
    users::tokens_work_until_revoked_or_expired,
    users::credential_changes_apply_to_the_next_lookup,
    users::lists_users_by_email,
    models::registers_versions_immutably,
    registration::the_same_files_under_another_label_are_the_same_version,
    registration::each_tag_of_an_image_is_a_version,
    models::versions_keep_their_resource_max_and_runs_their_own,
    models::versions_keep_their_declared_outputs,
    models::lists_models_with_versions_newest_first,
    models::retired_versions_take_no_runs,
    models::a_job_definition_is_recorded_once,
    aliases::the_first_version_is_production_and_later_ones_candidates,
    aliases::a_promotion_moves_production_and_refuses_retired_versions,
    aliases::concurrent_promotions_leave_one_production_version,
    aliases::retiring_production_needs_another_version_promoted_first,
    aliases::the_scientist_role_is_stored_for_users_and_tokens,
    aliases::reads_that_come_together_agree_and_see_changes_made_before,
    aliases::a_production_only_run_is_refused_once_its_version_is_demoted,
    runs::a_new_run_comes_with_its_event_and_dispatch_task,
    runs::transitions_follow_the_status_machine,
    runs::an_applied_transition_writes_its_outputs_and_follow_ups,
    runs::an_ignored_transition_writes_nothing,
    attempts::a_later_attempt_goes_back_and_an_earlier_one_is_stale,
    listing::lists_runs_newest_first_with_filters_and_pages,
    runs::facts_are_appended_without_changing_status,
    progress::the_last_report_of_each_run_is_kept,
    progress::progress_needs_its_run,
    runs::concurrent_submitters_all_succeed,
    runs::a_failed_transaction_leaves_nothing_behind,
    alongside::a_run_is_written_with_its_estimate_and_audit_entry_or_not_at_all,
    alongside::a_sweep_is_written_with_its_estimates_and_audit_entry_or_not_at_all,
    counted::a_submission_counts_only_when_it_makes_something,
    counted::a_sweep_counts_once_however_many_runs,
    counted::status_changes_are_written_together_each_with_its_answer,
    counted::changes_of_one_run_in_a_batch_add_up,
    submits::submits_written_together_are_each_answered,
    submits::a_bad_submit_does_not_fail_its_neighbours,
    runs::the_log_stream_is_recorded_from_a_change_or_a_fact,
    requeue::a_run_whose_job_never_started_is_queued_again,
    queue::enqueue_dedupes_while_a_task_is_queued,
    queue::claims_due_tasks_in_order_with_a_lease,
    queue::concurrent_claims_never_share_a_task,
    queue::batch_claims_take_the_oldest_due_tasks_once,
    queue::expired_leases_are_reclaimed_and_the_old_lease_is_void,
    queue::failures_back_off_then_die_and_dead_tasks_stay_visible,
    queue::release_gives_a_task_back_without_counting_it,
    outbox::emails_are_stored_with_their_send_task,
    security::a_password_change_ends_the_other_sessions,
    security::roles_change,
    accounts::the_last_enabled_admin_stays,
    accounts::concurrent_changes_leave_an_admin,
    accounts::a_disabled_user_has_no_sessions_or_tokens,
    accounts::job_tokens_name_their_run,
    security::a_submit_key_makes_one_run,
    security::concurrent_submits_with_one_key_make_one_run,
    security::the_audit_log_is_appended_and_filtered,
    security::rate_limits_count_in_fixed_windows,
    security::concurrent_hits_are_all_counted,
    security::a_forgiven_attempt_no_longer_counts,
    listing::runs_filter_by_version_submitter_and_dates_both_ways,
    listing::version_counts_say_how_runs_ended,
    environments::a_version_records_its_environment_and_secrets,
    environments::an_environment_is_requested_once_and_finishes,
    environments::a_postponed_task_waits_uncounted_and_a_lease_is_extended,
    environments::sealed_secrets_are_kept_per_model_and_name,
    display::display_settings_default_then_keep_the_choice,
    schedules::two_workers_firing_one_slot_make_one_run,
    schedules::skipped_fires_are_kept_and_pause_resume_delete_apply,
    schedules::a_fire_on_a_demoted_version_leaves_its_slot_free,
);

/// Tests that open a second store on the same database.
mod two_stores {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_data_version_moves_with_every_commit_and_nothing_else() {
        let backend = crate::support::Backend::sqlite().await;
        crate::data_version::the_data_version_moves_with_every_commit_and_nothing_else(backend)
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_data_version_moves_with_every_commit_and_nothing_else() {
        let backend = crate::support::Backend::postgres().await;
        crate::data_version::the_data_version_moves_with_every_commit_and_nothing_else(backend)
            .await;
    }
}
