//! End-to-end tests: the real server on a free port of 127.0.0.1, a real
//! SQLite file or Postgres database, real model processes. The worker is drained by the tests,
//! so every step is deterministic.

mod api;
mod api_errors;
mod aws;
mod aws_bundle;
mod aws_schedules;
mod aws_startup;
mod aws_sweep_archive;
mod aws_sweeps;
mod aws_uploads;
mod browser;
mod bundle;
mod bundle_trust;
mod cancel_ended;
mod cli;
mod cli_client;
mod cli_inputs;
mod cli_installation;
mod cli_schedules;
mod cli_secrets;
mod cli_sweeps;
mod confirm;
mod connections;
mod containment;
mod crash;
mod declared_outputs;
mod disk_full;
mod downloads;
mod estimates;
mod estimates_aws;
mod exec;
mod file_inputs;
mod form_inputs;
mod fresh_lists;
mod give_way;
mod job_api;
mod lambda;
mod lifecycle;
mod limits;
mod locale;
mod model_needs;
mod openapi;
mod outputs_zip;
mod page_queries;
mod previews;
mod progress;
mod quick_start;
mod roles;
mod run_log;
mod run_resources;
mod scenarios;
mod schedule_workers;
mod schedules;
mod security;
mod submit_once;
mod support;
mod sweep_archive;
mod sweep_pages;
mod sweeps;
mod upload_rules;
mod waiting;
mod workers;

/// Declares each test once per store: `sqlite::name` and `postgres::name`.
macro_rules! on_both_stores {
    ($($module:ident :: $test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    crate::$module::$test(crate::support::StoreKind::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    crate::$module::$test(crate::support::StoreKind::Postgres).await;
                }
            )*
        }
    };
}

on_both_stores!(
    fresh_lists::a_kept_runs_list_shows_every_commit_at_once,
    declared_outputs::declared_charts_and_figures_show_on_the_run_page,
    sweeps::a_sweep_runs_every_combination_once,
    sweeps::a_sweep_is_refused_whole_naming_the_field,
    sweeps::a_sweep_is_cancelled_together_and_seen_by_who_may,
    sweeps::the_run_form_submits_a_sweep,
    lifecycle::planners_run_production_and_scientists_promote,
    lifecycle::a_candidate_cannot_name_its_own_promoter,
    lifecycle::pages_offer_only_what_the_lifecycle_allows,
    lifecycle::the_cli_promotes_and_rolls_back,
    bundle::an_ended_run_offers_its_bundle_through_the_api_and_its_page,
    bundle::a_bundle_is_seen_only_by_who_may_see_its_run,
    bundle::runs_reproduce_compares_outputs_and_refuses_a_retired_version,
    outputs_zip::every_output_comes_in_one_zip_with_its_own_bytes,
    outputs_zip::the_zip_of_outputs_is_seen_only_by_who_may_see_its_run,
    outputs_zip::an_output_whose_bytes_changed_makes_no_zip,
    bundle_trust::runs_reproduce_trusts_no_server_and_no_file_the_bundle_names,
    bundle_trust::a_run_whose_output_is_gone_gets_no_bundle,
    schedules::the_api_schedules_fires_once_and_pauses,
    schedules::the_schedule_form_refuses_then_creates,
    schedules::a_new_version_that_refuses_the_inputs_fails_the_fire_visibly,
    schedules::own_only_hides_other_peoples_schedules,
    sweep_pages::the_sweep_page_shows_sorts_and_compares_its_runs,
    sweep_pages::cancel_sweep_stops_its_active_runs,
    confirm::cancel_asks_on_a_page_before_stopping_a_run,
    cancel_ended::cancelling_what_has_ended_says_so,
    confirm::every_destructive_form_asks_before_it_acts,
    waiting::a_run_waiting_for_a_slot_names_the_runs_holding_them,
    page_queries::page_filters_refuse_what_they_cannot_read,
    page_queries::the_token_forms_help_fits_the_roles_offered,
    sweep_pages::own_only_hides_other_peoples_sweeps,
    sweep_pages::a_sweep_of_the_most_runs_still_renders,
    cli_schedules::the_cli_creates_lists_pauses_resumes_and_deletes_schedules,
    sweep_archive::a_sweeps_archive_holds_every_output_with_its_index,
    sweep_archive::a_sweeps_archive_is_seen_only_by_who_may_see_the_sweep,
    browser::signing_in_and_out,
    browser::models_are_listed_with_their_versions,
    browser::the_form_is_generated_from_the_schema_with_defaults,
    browser::bad_form_input_comes_back_with_messages_and_creates_nothing,
    form_inputs::a_decimal_comma_is_read_and_an_ambiguous_number_refused,
    form_inputs::a_required_choice_without_a_default_starts_empty_and_is_refused_empty,
    form_inputs::every_input_has_a_key_from_the_form_and_the_api,
    form_inputs::null_is_a_value_only_a_nullable_input_takes,
    submit_once::a_reused_idempotency_key_answers_only_the_same_request,
    form_inputs::a_labelled_number_choice_shows_labels_and_gives_numbers,
    form_inputs::lines_of_text_and_a_moment_with_its_zone,
    file_inputs::a_file_is_read_by_its_model_kept_previewed_and_offered_again,
    file_inputs::a_form_without_script_sends_its_file_and_refusals_name_the_limit,
    upload_rules::an_upload_is_exactly_what_was_announced,
    upload_rules::a_form_sent_twice_with_its_file_makes_one_run,
    submit_once::a_form_sent_again_with_other_values_is_not_its_first_run,
    browser::a_run_submitted_in_the_browser_is_watched_and_downloaded,
    browser::the_runs_list_filters_and_pages,
    browser::the_submitter_gets_an_email_and_admins_read_the_outbox,
    browser::a_run_that_waits_long_shows_what_the_check_found,
    api::tokens_are_required_and_checked,
    api::models_come_with_versions_and_schemas,
    api::a_run_submitted_through_the_api_can_be_followed_and_downloaded,
    downloads::a_download_resumes_from_a_range,
    api::schema_violations_name_each_field,
    api::unknown_things_are_404_without_detail,
    api::runs_are_listed_newest_first_in_pages,
    api::a_list_carries_the_fields_asked_for,
    api::viewers_cannot_submit,
    api::health_says_whether_the_store_answers,
    limits::a_ten_megabyte_body_is_refused_and_leaves_nothing_behind,
    limits::inputs_over_their_own_limit_are_refused,
    limits::output_names_cannot_reach_outside_their_run,
    limits::fifty_concurrent_submitters_all_get_their_run,
    limits::a_log_download_stops_at_its_limit_with_a_note,
    security::own_only_hides_other_peoples_runs,
    security::the_eleventh_rapid_sign_in_gets_429,
    security::signing_in_often_never_locks_an_account,
    security::an_admin_disables_and_enables_an_account,
    security::a_reused_form_key_gives_one_run,
    model_needs::secrets_are_set_by_admins_and_never_read_back,
    model_needs::an_environment_is_followed_and_built_again,
    crash::a_killed_worker_loses_no_finished_work,
    run_resources::a_run_asks_for_resources_within_its_versions_bounds,
    run_resources::the_form_asks_for_resources_in_its_advanced_section,
    run_resources::every_refused_part_is_named_at_once,
    progress::a_models_progress_reaches_the_api_and_the_pages,
    estimates::an_estimate_comes_from_succeeded_runs_and_is_kept_with_each_run,
    estimates::a_local_server_shows_durations_without_a_cost,
    estimates::budgets_warn_a_submission_that_would_cross_them,
);

/// Declares each test on SQLite only: what it tests lives above the store,
/// whose part the conformance suite checks on both.
macro_rules! on_sqlite {
    ($($module:ident :: $test:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    crate::$module::$test(crate::support::StoreKind::Sqlite).await;
                }
            )*
        }
    };
}

on_sqlite!(
    give_way::only_a_submit_being_answered_holds_starts,
    roles::pages_offer_each_role_only_what_it_may_do,
    roles::a_day_the_runs_filter_cannot_read_is_named,
    estimates::the_cli_estimates_and_sets_budgets,
    security::roles_bound_what_people_do,
    progress::runs_submit_wait_shows_the_progress,
    security::tokens_above_their_owners_role_cannot_be_minted,
    security::a_new_token_is_a_runner_unless_chosen,
    security::sessions_are_new_at_sign_in_and_end_at_sign_out,
    security::a_session_that_timed_out_is_refused,
    security::a_password_change_ends_the_other_sessions,
    security::an_admin_resets_a_lost_password,
    security::the_last_admin_stays_under_concurrent_demotions,
    security::a_flood_of_refused_sign_ins_is_recorded_once,
    security::cross_site_posts_are_refused,
    security::next_never_leaves_the_site,
    security::addresses_and_submitters_are_limited,
    security::a_repeated_key_is_answered_past_the_submit_rate,
    security::responses_carry_the_security_headers,
    security::the_audit_log_records_who_did_what,
    previews::awkward_outputs_preview_without_failing,
    previews::the_forecast_is_charted_on_its_run_page,
    scenarios::run_again_prefills_the_form_and_links_the_origin,
    scenarios::runs_compare_side_by_side,
    scenarios::the_runs_list_filters_by_version_submitter_dates_and_order,
    scenarios::a_finished_run_is_set_against_its_versions_typical_duration,
    scenarios::the_model_page_renders_markdown_and_each_versions_record,
    locale::the_runs_list_filters_days_in_the_persons_zone,
    locale::key_figures_and_inputs_follow_the_number_style,
    openapi::every_documented_operation_answers_as_documented,
    limits::an_oversized_body_sent_whole_gets_its_413,
    api_errors::every_api_refusal_is_json_naming_what_was_wrong,
    cli_client::the_cli_submits_waits_downloads_lists_and_cancels,
    cli_client::a_models_escape_sequences_never_reach_a_terminal,
    cli_inputs::the_cli_reads_inputs_as_the_form_does_and_uploads_files,
    cli_inputs::the_cli_reads_lists_kinds_empty_values_and_files_of_an_inputs_file,
    cli_client::a_listing_into_a_closed_pipe_ends_quietly,
    cli_sweeps::the_cli_submits_lists_gets_cancels_and_downloads_sweeps,
    cli_sweeps::a_vary_that_cannot_be_read_names_the_flag_and_the_rule,
    sweep_archive::a_sweep_whose_output_is_changed_or_gone_gets_no_archive,
    cli_secrets::a_piped_secret_reaches_the_run_and_a_foreign_key_is_told,
    model_needs::secrets_are_set_on_the_model_page,
    containment::an_unsandboxed_server_says_so_on_its_admin_pages,
    run_log::the_run_page_shows_the_end_of_a_long_log,
);
