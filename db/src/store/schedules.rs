//! Schedules and their fires. A fire and its run are written in one
//! transaction under the key (schedule, fire time): the key, not a lock,
//! is what makes a slot fire once when two workers fire it together.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::ids::{ModelId, RunId, ScheduleId, UserId, VersionId};
use modelrun_core::schedule::{
    Fire, FireKind, FireOutcome, FireRecord, Fired, NewSchedule, Schedule, ScheduleStore,
    ScheduledBy, VersionChoice,
};
use modelrun_core::schema::Inputs;
use modelrun_core::store::{StoreError, StoreResult};
use sqlx::types::Json;

use super::runs::{insert_event, insert_queued_run};
use crate::SqlStore;
use crate::backend::{AsConn, Tx, on_conn};
use crate::convert::{parse, touched};
use crate::dialect::limit;
use crate::types::Timestamp;

macro_rules! select_schedules {
    () => {
        "SELECT s.id, s.name, s.model_id, m.name AS model_name, s.version_id, \
         v.label AS version_label, s.inputs, s.cron, s.time_zone, s.owner_id, \
         u.email AS owner_email, s.paused, s.next_fire_at, s.created_at, s.deleted_at \
         FROM schedules s JOIN models m ON m.id = s.model_id \
         JOIN users u ON u.id = s.owner_id \
         LEFT JOIN model_versions v ON v.id = s.version_id "
    };
}

#[derive(sqlx::FromRow)]
struct ScheduleRow {
    id: i64,
    name: String,
    model_id: i64,
    model_name: String,
    version_id: Option<i64>,
    version_label: Option<String>,
    inputs: Json<Inputs>,
    cron: String,
    time_zone: String,
    owner_id: i64,
    owner_email: String,
    paused: bool,
    next_fire_at: Option<Timestamp>,
    created_at: Timestamp,
    deleted_at: Option<Timestamp>,
}

impl From<ScheduleRow> for Schedule {
    fn from(row: ScheduleRow) -> Self {
        let version = match (row.version_id, row.version_label) {
            (Some(id), Some(label)) => VersionChoice::Pinned {
                id: VersionId(id),
                label,
            },
            _ => VersionChoice::Production,
        };
        Schedule {
            id: ScheduleId(row.id),
            name: row.name,
            model_id: ModelId(row.model_id),
            model_name: row.model_name,
            version,
            inputs: row.inputs.0,
            cron: row.cron,
            time_zone: row.time_zone,
            owner: UserId(row.owner_id),
            owner_email: row.owner_email,
            paused: row.paused,
            next_fire_at: row.next_fire_at.map(Into::into),
            created_at: row.created_at.into(),
            deleted_at: row.deleted_at.map(Into::into),
        }
    }
}

#[derive(sqlx::FromRow)]
struct FireRow {
    fire_at: Timestamp,
    kind: String,
    run_id: Option<i64>,
    run_status: Option<String>,
    message: String,
}

impl TryFrom<FireRow> for FireRecord {
    type Error = StoreError;

    fn try_from(row: FireRow) -> StoreResult<Self> {
        Ok(FireRecord {
            fire_at: row.fire_at.into(),
            kind: parse("fire kind", &row.kind)?,
            run_id: row.run_id.map(RunId),
            run_status: row
                .run_status
                .map(|status| parse("run status", &status))
                .transpose()?,
            message: row.message,
        })
    }
}

async fn fetch_schedule(conn: &mut impl AsConn, id: ScheduleId) -> StoreResult<Option<Schedule>> {
    let row = on_conn!(conn, |c| {
        sqlx::query_as::<_, ScheduleRow>(concat!(select_schedules!(), "WHERE s.id = $1"))
            .bind(id.0)
            .fetch_optional(c)
            .await
    })?;
    Ok(row.map(Schedule::from))
}

/// Inserts the fire's key; `false` when the slot was fired already.
async fn claim_slot(
    tx: &mut Tx,
    fire: &Fire,
    kind: FireKind,
    message: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let inserted = on_conn!(tx, |c| {
        sqlx::query(
            "INSERT INTO schedule_fires (schedule_id, fire_at, kind, message, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (schedule_id, fire_at) DO NOTHING",
        )
        .bind(fire.schedule.0)
        .bind(Timestamp(fire.fire_at))
        .bind(kind.as_str())
        .bind(message)
        .bind(Timestamp(now))
        .execute(c)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(inserted == 1)
}

/// Whether the schedule still fires: a pause or a delete that committed
/// first wins over a worker that read it as due.
async fn still_active(tx: &mut Tx, id: ScheduleId) -> StoreResult<bool> {
    let row: Option<i64> = on_conn!(tx, |c| {
        sqlx::query_scalar(
            "SELECT id FROM schedules WHERE id = $1 AND deleted_at IS NULL AND NOT paused",
        )
        .bind(id.0)
        .fetch_optional(c)
        .await
    })?;
    Ok(row.is_some())
}

#[async_trait]
impl<B> ScheduleStore for SqlStore<B> {
    async fn create_schedule(&self, schedule: NewSchedule) -> StoreResult<Schedule> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let id: i64 = on_conn!(&mut tx, |c| {
            sqlx::query_scalar(
                "INSERT INTO schedules (name, model_id, version_id, inputs, cron, time_zone, \
                 owner_id, paused, next_fire_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(&schedule.name)
            .bind(schedule.model_id.0)
            .bind(schedule.version_id.map(|id| id.0))
            .bind(Json(&schedule.inputs))
            .bind(&schedule.cron)
            .bind(&schedule.time_zone)
            .bind(schedule.owner.0)
            .bind(false)
            .bind(schedule.next_fire_at.map(Timestamp))
            .bind(Timestamp(now))
            .fetch_one(c)
            .await
        })
        .map_err(|error| match error {
            StoreError::Conflict(_) => StoreError::Conflict(format!(
                "a schedule named {:?} exists already",
                schedule.name
            )),
            other => other,
        })?;
        let created = fetch_schedule(&mut tx, ScheduleId(id)).await?;
        tx.commit().await?;
        created.ok_or(StoreError::NotFound)
    }

    async fn schedule(&self, id: ScheduleId) -> StoreResult<Option<Schedule>> {
        fetch_schedule(&mut self.db.reader().await?, id).await
    }

    async fn schedules(&self) -> StoreResult<Vec<Schedule>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, ScheduleRow>(concat!(
                select_schedules!(),
                "WHERE s.deleted_at IS NULL ORDER BY s.name"
            ))
            .fetch_all(c)
            .await
        })?;
        Ok(rows.into_iter().map(Schedule::from).collect())
    }

    async fn set_schedule_paused(
        &self,
        id: ScheduleId,
        paused: bool,
        next_fire_at: Option<DateTime<Utc>>,
    ) -> StoreResult<Schedule> {
        let mut tx = self.db.begin().await?;
        let changed = on_conn!(&mut tx, |c| {
            sqlx::query(
                "UPDATE schedules SET paused = $1, \
                 next_fire_at = CASE WHEN $1 THEN next_fire_at ELSE $2 END \
                 WHERE id = $3 AND deleted_at IS NULL",
            )
            .bind(paused)
            .bind(next_fire_at.map(Timestamp))
            .bind(id.0)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        touched(changed)?;
        let schedule = fetch_schedule(&mut tx, id).await?;
        tx.commit().await?;
        schedule.ok_or(StoreError::NotFound)
    }

    async fn delete_schedule(&self, id: ScheduleId, now: DateTime<Utc>) -> StoreResult<()> {
        let changed = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query("UPDATE schedules SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
                .bind(Timestamp(now))
                .bind(id.0)
                .execute(c)
                .await
                .map(|done| done.rows_affected())
        })?;
        touched(changed)
    }

    async fn due_schedules(&self, now: DateTime<Utc>) -> StoreResult<Vec<Schedule>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, ScheduleRow>(concat!(
                select_schedules!(),
                "WHERE s.deleted_at IS NULL AND NOT s.paused AND s.next_fire_at <= $1 \
                 ORDER BY s.next_fire_at, s.id"
            ))
            .bind(Timestamp(now))
            .fetch_all(c)
            .await
        })?;
        Ok(rows.into_iter().map(Schedule::from).collect())
    }

    async fn fire_schedule(&self, fire: Fire) -> StoreResult<Fired> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let (kind, message) = match &fire.outcome {
            FireOutcome::Run(_) => (FireKind::Run, String::new()),
            FireOutcome::Skipped(why) => (FireKind::Skipped, why.clone()),
            FireOutcome::Failed(why) => (FireKind::Failed, why.clone()),
        };
        if !still_active(&mut tx, fire.schedule).await?
            || !claim_slot(&mut tx, &fire, kind, &message, now).await?
        {
            tx.rollback().await?;
            return Ok(Fired::AlreadyFired);
        }
        let fired = match &fire.outcome {
            FireOutcome::Run(run) => {
                let queued = insert_queued_run(&mut tx, run, now).await?;
                let run_id = queued.item.id;
                on_conn!(&mut tx, |c| {
                    sqlx::query(
                        "UPDATE schedule_fires SET run_id = $1 \
                         WHERE schedule_id = $2 AND fire_at = $3",
                    )
                    .bind(run_id.0)
                    .bind(fire.schedule.0)
                    .bind(Timestamp(fire.fire_at))
                    .execute(c)
                    .await
                    .map(|_| ())
                })?;
                let data = serde_json::json!({
                    "schedule_id": fire.schedule.0,
                    "fire_at": fire.fire_at,
                });
                let text = format!("scheduled for {}", fire.fire_at.to_rfc3339());
                insert_event(&mut tx, run_id, now, None, &text, &data).await?;
                tx.announce_tasks().await?;
                Fired::Run {
                    run: run_id,
                    task: queued.task,
                }
            }
            FireOutcome::Skipped(_) | FireOutcome::Failed(_) => Fired::Recorded,
        };
        on_conn!(&mut tx, |c| {
            sqlx::query(
                "UPDATE schedules SET next_fire_at = $1 WHERE id = $2 \
                 AND (next_fire_at IS NULL OR next_fire_at < $1 OR $1 IS NULL)",
            )
            .bind(fire.next_fire_at.map(Timestamp))
            .bind(fire.schedule.0)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        tx.commit().await?;
        Ok(fired)
    }

    async fn schedule_fires(&self, id: ScheduleId, count: u32) -> StoreResult<Vec<FireRecord>> {
        let query = format!(
            "SELECT f.fire_at, f.kind, f.run_id, r.status AS run_status, f.message \
             FROM schedule_fires f LEFT JOIN runs r ON r.id = f.run_id \
             WHERE f.schedule_id = $1 ORDER BY f.fire_at DESC{}",
            limit(count)
        );
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, FireRow>(sqlx::AssertSqlSafe(query.clone()))
                .bind(id.0)
                .fetch_all(c)
                .await
        })?;
        rows.into_iter().map(FireRecord::try_from).collect()
    }

    async fn run_schedule(&self, run: RunId) -> StoreResult<Option<ScheduledBy>> {
        let row: Option<(i64, String)> = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as(
                "SELECT s.id, s.name FROM schedule_fires f \
                 JOIN schedules s ON s.id = f.schedule_id WHERE f.run_id = $1",
            )
            .bind(run.0)
            .fetch_optional(c)
            .await
        })?;
        Ok(row.map(|(id, name)| ScheduledBy {
            id: ScheduleId(id),
            name,
        }))
    }
}
