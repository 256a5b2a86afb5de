//! What the store keeps of schedules and their fires.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Fire, FireRecord, Fired, NewSchedule, Schedule, ScheduledBy};
use crate::ids::{RunId, ScheduleId};
use crate::store::StoreResult;

/// Schedules and their fires.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Creates a schedule. [`crate::store::StoreError::Conflict`] when a
    /// schedule of the same owner that is not deleted has the name (names
    /// are unique per owner); `NotFound` when the model
    /// or the pinned version is not there.
    async fn create_schedule(&self, schedule: NewSchedule) -> StoreResult<Schedule>;
    /// A schedule, deleted or not.
    async fn schedule(&self, id: ScheduleId) -> StoreResult<Option<Schedule>>;
    /// Schedules not deleted, by name.
    async fn schedules(&self) -> StoreResult<Vec<Schedule>>;
    /// Pauses (`paused`) or resumes a schedule not deleted; on resume its
    /// next slot becomes `next_fire_at` (slots passed while paused never
    /// fire). `NotFound` for an unknown or deleted schedule.
    async fn set_schedule_paused(
        &self,
        id: ScheduleId,
        paused: bool,
        next_fire_at: Option<DateTime<Utc>>,
    ) -> StoreResult<Schedule>;
    /// Deletes a schedule: it fires no more, its fires and runs stay.
    async fn delete_schedule(&self, id: ScheduleId, now: DateTime<Utc>) -> StoreResult<()>;
    /// Active schedules whose next slot is at or before `now`, oldest slot
    /// first.
    async fn due_schedules(&self, now: DateTime<Utc>) -> StoreResult<Vec<Schedule>>;
    /// Writes one fire in one transaction: the fire under its key
    /// (schedule, fire time), its run with the run's first event and
    /// dispatch task, and the schedule's next slot (which only moves
    /// forward). A slot fired already writes nothing and answers
    /// [`Fired::AlreadyFired`]; so does a schedule paused or deleted since.
    async fn fire_schedule(&self, fire: Fire) -> StoreResult<Fired>;
    /// The schedule's fires, newest first, at most `limit`.
    async fn schedule_fires(&self, id: ScheduleId, limit: u32) -> StoreResult<Vec<FireRecord>>;
    /// The schedule that made a run, if one did.
    async fn run_schedule(&self, run: RunId) -> StoreResult<Option<ScheduledBy>>;
}
