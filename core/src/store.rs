//! The store: everything modelrun remembers. One trait per concern, one
//! [`Store`] that has them all. Implementations (SQLite, Postgres) live in the
//! `modelrun-db` crate and pass one conformance suite.
//!
//! Multi-step writes happen inside one method, in one transaction: a status
//! change with its event, outputs and follow-up tasks; a run with its first
//! event and its dispatch task. A caller never sees half of such a write.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::alias::Promotion;
use crate::alongside::Alongside;
use crate::audit::{AuditEntry, AuditFilter, NewAuditEntry};
use crate::budget::{Budget, BudgetScope, RunUsage};
use crate::display::DisplaySettings;
use crate::email::{Email, NewEmail};
use crate::environment::{Environment, EnvironmentStatus};
use crate::estimate::Estimate;
use crate::ids::{EmailId, ModelId, RunId, TaskId, TokenId, UserId, VersionId};
use crate::installation::Installation;
use crate::limit::{Limit, Verdict};
use crate::model::{ModelVersion, ModelWithVersions, NewVersion, Registered};
use crate::model_secrets::SecretInfo;
use crate::progress::{Progress, RunProgress};
use crate::run::{
    NewRun, Page, Run, RunEvent, RunFilter, RunOutput, StatusChange, Transitioned, VersionCounts,
};
use crate::task::{Claimed, Failure, NewTask, Queued, Task, TaskState};
use crate::user::{ApiToken, Credentials, NewApiToken, NewUser, Role, User};

mod error;

pub use error::{BoxError, StoreError, StoreResult};

/// Where the database stands: two equal versions mean nothing was committed
/// to it in between, by this process or any other (a separate worker, a
/// web function on another Lambda instance). Different versions say only
/// that something may have been. Read before a read, it lets an answer
/// built from that read be kept until the version moves (see
/// [`Store::data_version`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataVersion(pub String);

/// Accounts, sessions and API tokens.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Fails with [`StoreError::Conflict`] if the email is taken.
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    async fn count_users(&self) -> StoreResult<i64>;
    /// Everyone, by email.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn credentials(&self, email: &str) -> StoreResult<Option<Credentials>>;

    /// Stores a session under the hash of its token.
    async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user of a live session. A session idle longer than `idle`, or
    /// older than `absolute`, is deleted and gives `None`.
    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
        absolute: Duration,
    ) -> StoreResult<Option<User>> {
        Ok(self
            .session_person(token_hash, now, idle, absolute)
            .await?
            .map(|(user, _)| user))
    }
    /// [`UserStore::session_user`] with the person's display settings, read
    /// in the same query: every page needs both.
    async fn session_person(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
        absolute: Duration,
    ) -> StoreResult<Option<(User, crate::display::DisplaySettings)>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Sets a new password hash and ends every session of the user but
    /// `keep` (the session that made the change, if any).
    async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<()>;
    /// Changes a user's role. Their tokens keep their own role, but a token
    /// never acts above its owner's current role. Fails with
    /// [`StoreError::Conflict`] when it would leave no enabled
    /// administrator, also when two such changes race.
    async fn set_role(&self, user: UserId, role: Role) -> StoreResult<User>;
    /// Disables (`true`) or enables a user. Disabling ends every session of
    /// the user at once; their API tokens are refused while the account is
    /// disabled and work again when it is enabled. Fails with
    /// [`StoreError::Conflict`] when it would leave no enabled
    /// administrator, also when two such changes race.
    async fn set_disabled(
        &self,
        user: UserId,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<User>;

    async fn create_token(&self, token: NewApiToken) -> StoreResult<ApiToken>;
    /// The owner of a token that is neither revoked nor expired, with the
    /// token (its role may be lower than the owner's).
    async fn token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(User, ApiToken)>>;
    async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>>;
    async fn revoke_token(
        &self,
        user: UserId,
        token: TokenId,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// Models and versions.
#[async_trait]
pub trait ModelStore: Send + Sync {
    /// Registers a version, creating the model on its first version and
    /// updating the model's title, description and owner from the newest
    /// registration. The same label with the same digest is
    /// [`Registered::Unchanged`]; with another digest it is a
    /// [`StoreError::Conflict`]: versions are immutable. `follow_ups` are
    /// enqueued only when a version is created.
    async fn register_version(
        &self,
        version: NewVersion,
        follow_ups: Vec<NewTask>,
    ) -> StoreResult<Registered>;
    /// Every model with its versions (newest first), models by name.
    async fn models(&self) -> StoreResult<Vec<ModelWithVersions>>;
    /// Every model's name, in order: what a filter offers, read without
    /// the versions.
    async fn model_names(&self) -> StoreResult<Vec<String>>;
    async fn model(&self, name: &str) -> StoreResult<Option<ModelWithVersions>>;
    async fn version(&self, id: VersionId) -> StoreResult<Option<ModelVersion>>;
    /// Records the version's AWS Batch job definition, once: a version that
    /// has one keeps it ([`StoreError::Conflict`] if another is given).
    async fn set_job_definition(&self, id: VersionId, arn: &str) -> StoreResult<()>;
    /// Retires a version: it stays visible, with its runs, but takes no new
    /// runs. The production version is refused with
    /// [`StoreError::Conflict`] while its model has another active version
    /// (promote that one first); as the model's last active version it
    /// retires and the model is left without production.
    async fn retire_version(&self, id: VersionId, now: DateTime<Utc>) -> StoreResult<()>;
    /// Makes a version its model's one production version, in one
    /// transaction: the one before becomes a candidate. Refused with
    /// [`StoreError::Conflict`] for a retired version, [`StoreError::NotFound`]
    /// for none. Promoting the production version changes nothing.
    async fn promote_version(&self, id: VersionId) -> StoreResult<Promotion>;
}

/// Runs and their history.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Creates a `queued` run with its first event and its `dispatch_run`
    /// task, in one transaction. Fails with [`StoreError::Conflict`] if the
    /// version is retired, and with [`StoreError::AlreadySubmitted`] if the
    /// submitter already used the run's `submit_key`.
    async fn create_run(&self, run: NewRun) -> StoreResult<Queued<Run>> {
        self.create_run_with(run, Alongside::default()).await
    }
    /// [`RunStore::create_run`], writing `alongside` (an estimate, an
    /// audit entry) in the same transaction: nothing of it is written when
    /// the run is not.
    async fn create_run_with(
        &self,
        run: NewRun,
        alongside: Alongside<Run>,
    ) -> StoreResult<Queued<Run>>;
    async fn run(&self, id: RunId) -> StoreResult<Option<Run>>;
    /// The run `user` made with the one-time key `key`, if any.
    async fn run_with_key(&self, user: UserId, key: &str) -> StoreResult<Option<RunId>>;
    /// The history, oldest first.
    async fn run_events(&self, id: RunId) -> StoreResult<Vec<RunEvent>>;
    async fn run_outputs(&self, id: RunId) -> StoreResult<Vec<RunOutput>>;
    /// Newest first, one page.
    async fn list_runs(&self, filter: &RunFilter) -> StoreResult<Page<Run>>;
    /// Runs that have not ended, oldest first.
    async fn active_runs(&self) -> StoreResult<Vec<Run>>;
    /// How the runs of each version of a model ended (versions without runs
    /// are left out).
    async fn version_counts(&self, model: ModelId) -> StoreResult<Vec<VersionCounts>>;
    /// The one way a run's status changes. Checks the change with
    /// [`crate::status::plan`]; when it applies, writes the status, an event,
    /// the job id, the outputs and the follow-ups in one transaction.
    async fn transition(&self, change: StatusChange) -> StoreResult<Transitioned>;
    /// Several [`Self::transition`]s in one transaction, in the order given
    /// (one write where a burst of dispatches made one each). Each change
    /// has its answer: one that is illegal or names no run fails alone,
    /// without writing; any other failure fails them all, and none is
    /// written.
    async fn transition_many(
        &self,
        changes: Vec<StatusChange>,
    ) -> StoreResult<Vec<StoreResult<Transitioned>>> {
        let mut answers = Vec::with_capacity(changes.len());
        for change in changes {
            answers.push(self.transition(change).await);
        }
        Ok(answers)
    }
    /// Sends a run back to `queued` with a new dispatch task, in one
    /// transaction, when its job `job_id` never started the model (see
    /// [`crate::status::may_requeue`]): the job id is cleared and `reason`
    /// goes into the history. `Ignored` when the run has moved on or has
    /// another job since (a report from another sweep came first).
    async fn requeue(&self, run: RunId, job_id: &str, reason: &str) -> StoreResult<Transitioned>;
    /// Appends a fact to a run's history without changing its status, and
    /// records its log stream if the fact names one.
    async fn add_fact(&self, run: RunId, message: &str, data: Value) -> StoreResult<()>;
}

/// The durable task queue: at-least-once, leased, retried with backoff.
#[async_trait]
pub trait TaskQueue: Send + Sync {
    /// Enqueues a task. If a queued task has the same dedupe key, returns it instead.
    async fn enqueue(&self, task: NewTask) -> StoreResult<Task>;
    /// Leases the next due task until `now + lease`, counting an attempt.
    /// A task whose lease expired is due again.
    async fn claim(&self, now: DateTime<Utc>, lease: Duration) -> StoreResult<Option<Claimed>>;
    /// Leases up to `most` due tasks at once, as [`TaskQueue::claim`] leases
    /// one, oldest due first: one statement however many (a burst of
    /// submits is taken in one go, not one round trip a task).
    async fn claim_many(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        most: u32,
    ) -> StoreResult<Vec<Claimed>>;
    /// Marks a leased task done. [`StoreError::LeaseLost`] if the lease is not ours.
    async fn complete(&self, claimed: &Claimed, now: DateTime<Utc>) -> StoreResult<()>;
    /// Records a failure: retried later, or dead.
    async fn fail(
        &self,
        claimed: &Claimed,
        error: &str,
        failure: Failure,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Gives a task back without counting the attempt (the worker is shutting
    /// down, or out of time).
    async fn release(&self, claimed: &Claimed, now: DateTime<Utc>) -> StoreResult<()>;
    /// Keeps a leased task until `until`, while its handler is still at
    /// work. [`StoreError::LeaseLost`] if the lease is not ours any more.
    async fn extend_lease(&self, claimed: &Claimed, until: DateTime<Utc>) -> StoreResult<()>;
    /// Gives a task back without counting the attempt, due again at
    /// `until`: what it waits for is not there yet.
    async fn postpone(
        &self,
        claimed: &Claimed,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn task(&self, id: TaskId) -> StoreResult<Option<Task>>;
    /// Newest first.
    async fn list_tasks(&self, state: Option<TaskState>, limit: u32) -> StoreResult<Vec<Task>>;
    /// Puts a dead task back in the queue with fresh attempts.
    async fn retry_task(&self, id: TaskId, now: DateTime<Utc>) -> StoreResult<Task>;
}

/// Stored messages, sent or not.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Stores a message with the task that sends it.
    async fn enqueue_email(&self, email: NewEmail) -> StoreResult<Queued<Email>>;
    async fn email(&self, id: EmailId) -> StoreResult<Option<Email>>;
    async fn mark_email_sent(
        &self,
        id: EmailId,
        provider_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn mark_email_failed(&self, id: EmailId, error: &str) -> StoreResult<()>;
    /// Newest first.
    async fn list_emails(&self, before: Option<EmailId>, limit: u32) -> StoreResult<Vec<Email>>;
}

/// The audit log: append and read, never change.
#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn record_audit(&self, entry: NewAuditEntry) -> StoreResult<()>;
    /// Newest first, one page.
    async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
}

/// Rate-limit counters.
#[async_trait]
pub trait RateLimits: Send + Sync {
    /// Counts an attempt against `key` and says whether it is within `limit`.
    /// Refused attempts count too, but never lengthen the window.
    async fn hit(&self, key: &str, limit: Limit, now: DateTime<Utc>) -> StoreResult<Verdict>;
    /// Takes back one attempt counted against `key` in its current window
    /// (an attempt that turned out not to count, such as a sign-in that
    /// succeeded). Nothing happens when no attempt is counted.
    async fn forgive(&self, key: &str) -> StoreResult<()>;
    /// Forgets counters whose window ended before `before`.
    async fn purge_limits(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// Model environments: how the build of each went. Registering a version
/// records its environment ([`ModelStore::register_version`]).
#[async_trait]
pub trait EnvironmentStore: Send + Sync {
    async fn environment(&self, digest: &str) -> StoreResult<Option<Environment>>;
    /// Asks for the environment to be built: a `pending` or `failed` one
    /// becomes `preparing` and its `prepare_environment` task is enqueued, in
    /// one transaction. `None` when it is `preparing` or `ready` already.
    async fn request_environment(
        &self,
        digest: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<TaskId>>;
    /// Records how a build ended (`ready` or `failed`) with the end of the
    /// installer's output.
    async fn finish_environment(
        &self,
        digest: &str,
        status: EnvironmentStatus,
        log: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// Model secret values sealed by the installation's key, on one machine
/// (see `model_secrets`). The store never sees a value in the clear.
#[async_trait]
pub trait SealedSecrets: Send + Sync {
    /// Sets a sealed value. [`StoreError::NotFound`] when the model does not exist.
    async fn put_sealed_secret(
        &self,
        model: &str,
        name: &str,
        sealed: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// `false` when no value was set.
    async fn delete_sealed_secret(&self, model: &str, name: &str) -> StoreResult<bool>;
    /// The model's sealed values, by name.
    async fn sealed_secrets(&self, model: &str) -> StoreResult<Vec<(SecretInfo, String)>>;
}

/// Job tokens of runs on AWS Batch ([`crate::job_access`]), kept as their
/// SHA-256.
#[async_trait]
pub trait JobTokens: Send + Sync {
    /// Adds a token to the run; the run's other tokens stay valid.
    async fn add_job_token(
        &self,
        run: RunId,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The run a token belongs to, whatever the run's status.
    async fn job_token_run(&self, token_hash: &str) -> StoreResult<Option<RunId>>;
}

/// The latest progress each run's model reported ([`crate::progress`]):
/// one row a run, the last report wins.
#[async_trait]
pub trait ProgressStore: Send + Sync {
    /// Replaces the run's progress with `progress`, reported at `at`.
    async fn record_progress(
        &self,
        run: RunId,
        progress: &Progress,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The run's latest progress, if its model reported any.
    async fn run_progress(&self, run: RunId) -> StoreResult<Option<RunProgress>>;
    /// The latest progress of each of `runs` that reported any (a page of
    /// the runs list).
    async fn runs_progress(
        &self,
        runs: &[RunId],
    ) -> StoreResult<std::collections::HashMap<RunId, RunProgress>>;
}

/// Each person's display settings ([`crate::display`]).
#[async_trait]
pub trait DisplayStore: Send + Sync {
    /// The user's settings; the defaults for a user who never chose.
    async fn display_settings(&self, user: UserId) -> StoreResult<DisplaySettings>;
    /// Replaces the user's settings. Fails with [`StoreError::NotFound`]
    /// for an unknown user.
    async fn set_display_settings(
        &self,
        user: UserId,
        settings: DisplaySettings,
    ) -> StoreResult<()>;
}

/// What runs took and cost: the durations behind an estimate, the
/// estimate recorded with each run, and monthly budgets
/// ([`crate::estimate`], [`crate::budget`]).
#[async_trait]
pub trait CostStore: Send + Sync {
    /// Run times in milliseconds (start to end) of the latest `limit`
    /// succeeded runs of a version (by when they ended), in no order.
    async fn succeeded_durations(&self, version: VersionId, limit: u32) -> StoreResult<Vec<i64>>;
    /// Keeps the estimate each of `runs` was submitted with (the runs of a
    /// sweep share one), in one transaction. Once: a later call for the
    /// same run changes nothing.
    async fn record_estimate(&self, runs: &[RunId], estimate: &Estimate) -> StoreResult<()>;
    /// The estimate a run was submitted with; `None` for runs without one.
    async fn run_estimate(&self, run: RunId) -> StoreResult<Option<Estimate>>;
    /// Every run that started in `[from, to)`, as a budget counts it.
    async fn usage(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<RunUsage>>;
    /// Every budget: the installation's first, then users' by email.
    async fn budgets(&self) -> StoreResult<Vec<Budget>>;
    /// Sets a monthly budget in cents (at least 1), or removes it with
    /// `None`. [`StoreError::NotFound`] for a user who does not exist.
    async fn set_budget(
        &self,
        scope: BudgetScope,
        monthly_cents: Option<i64>,
        by: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// Everything modelrun stores.
#[async_trait]
pub trait Store:
    UserStore
    + ModelStore
    + RunStore
    + JobTokens
    + ProgressStore
    + DisplayStore
    + TaskQueue
    + Outbox
    + AuditLog
    + RateLimits
    + EnvironmentStore
    + SealedSecrets
    + CostStore
    + crate::schedule::ScheduleStore
    + crate::sweep::SweepStore
    + fmt::Debug
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Answers when the database does.
    async fn ping(&self) -> StoreResult<()>;
    /// This installation's identity (made by the migrations).
    async fn installation(&self) -> StoreResult<Installation>;
    /// The database's [`DataVersion`] now: one cheap query (SQLite's
    /// `PRAGMA data_version` on a connection kept for it, Postgres's
    /// `pg_current_snapshot()`).
    async fn data_version(&self) -> StoreResult<DataVersion>;
}
