//! Schedules: a version (pinned, or the model's production version) run with
//! fixed inputs whenever a cron rule in a time zone says so.
//!
//! The rule is parsed and evaluated by the `croner` crate: five fields
//! (minute, hour, day of month, month, day of week) with `L` (last day or
//! weekday), `#` (nth weekday) and `W` (the weekday nearest a day, inside
//! the month), so "06:00 on the first weekday of the month" is `0 6 1W * *`.
//! Times are wall-clock times in the schedule's zone. Across a change of
//! the clocks croner follows Vixie cron: a fixed time that does not exist
//! (02:30 on the night the clocks spring forward) fires at the first minute
//! after the gap, the same day; a fixed time that happens twice (02:30 on
//! the night they fall back) fires once, at its first occurrence.
//!
//! Exactly once: each fire is stored under the key (schedule, fire time) in
//! the same transaction as its run, so two workers firing the same slot
//! make one run. After downtime only the latest missed slot is fired
//! ([`CronRule::due`]).

mod store;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use serde::Serialize;

use crate::display::parse_time_zone;
use crate::ids::{ModelId, RunId, ScheduleId, UserId, VersionId};
use crate::run::NewRun;
use crate::schema::Inputs;
use crate::status::RunStatus;

pub use store::ScheduleStore;

/// Longest schedule name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest cron expression, in characters.
pub const MAX_CRON_CHARS: usize = 200;
/// How many slots [`CronRule::due`] steps through before it takes the
/// latest one directly (a rule every minute after weeks of downtime).
const MAX_STEPS: usize = 10_000;

/// A refused schedule field: which one and why, in words for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// `name`, `cron` or `time_zone`.
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

/// A trimmed five-field expression, or what is wrong with it.
fn parse_cron(expression: &str) -> Result<Cron, FieldError> {
    if expression.is_empty() {
        return Err(FieldError::new(
            "cron",
            "a cron expression is required, such as 0 6 * * 1-5",
        ));
    }
    if expression.chars().count() > MAX_CRON_CHARS {
        return Err(FieldError::new(
            "cron",
            format!("at most {MAX_CRON_CHARS} characters"),
        ));
    }
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .build()
        .parse(expression)
        .map_err(|error| {
            FieldError::new(
                "cron",
                format!(
                    "{expression:?} is not a cron expression ({error}): five fields, \
                     minute hour day-of-month month day-of-week, such as 0 6 1W * *"
                ),
            )
        })
}

/// A cron expression in a time zone: when a schedule fires.
#[derive(Clone)]
pub struct CronRule {
    cron: Cron,
    expression: String,
    zone: Tz,
}

impl fmt::Debug for CronRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronRule({:?} in {})", self.expression, self.zone.name())
    }
}

impl CronRule {
    /// Parses a five-field expression (or `@daily`, `@weekly`…) and an IANA
    /// zone name. Errors name the field (`cron`, `time_zone`, or both at
    /// once) and what is wrong; an expression that never matches
    /// (`0 0 31 2 *`) is refused.
    pub fn parse(expression: &str, zone: &str) -> Result<Self, Vec<FieldError>> {
        let expression = expression.trim();
        let cron = parse_cron(expression);
        let zone = parse_time_zone(zone).map_err(|message| FieldError::new("time_zone", message));
        let (cron, zone) = match (cron, zone) {
            (Ok(cron), Ok(zone)) => (cron, zone),
            (cron, zone) => return Err([cron.err(), zone.err()].into_iter().flatten().collect()),
        };
        let rule = CronRule {
            cron,
            expression: expression.to_owned(),
            zone,
        };
        if rule.next_after(Utc::now()).is_none() {
            return Err(vec![FieldError::new(
                "cron",
                format!("{expression:?} never happens"),
            )]);
        }
        Ok(rule)
    }

    pub fn expression(&self) -> &str {
        &self.expression
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The first fire time strictly after `after`; `None` if there is none.
    /// Fire times are whole minutes: croner keeps the sub-second part of
    /// the instant it starts from, and a fire time is part of a fire's key.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = whole_minute(after).with_timezone(&self.zone);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|at| whole_minute(at.with_timezone(&Utc)))
    }

    /// The next `n` fire times after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut times = Vec::with_capacity(n);
        let mut at = after;
        while times.len() < n {
            match self.next_after(at) {
                Some(next) => {
                    times.push(next);
                    at = next;
                }
                None => break,
            }
        }
        times
    }

    /// What is due at `now` for a schedule whose next slot was `next`:
    /// nothing while `next` is in the future; otherwise the latest slot at
    /// or before `now` (the missed ones before it are skipped: after
    /// downtime a schedule runs once, not once per missed slot), how many
    /// slots were passed over, and the slot after `now`.
    pub fn due(&self, next: DateTime<Utc>, now: DateTime<Utc>) -> Option<Due> {
        if next > now {
            return None;
        }
        let mut fire_at = next;
        let mut missed = 0;
        loop {
            match self.next_after(fire_at) {
                Some(later) if later <= now && missed < MAX_STEPS => {
                    fire_at = later;
                    missed += 1;
                }
                Some(later) if later <= now => {
                    let local = whole_minute(now).with_timezone(&self.zone);
                    if let Ok(last) = self.cron.find_previous_occurrence(&local, true) {
                        fire_at = whole_minute(last.with_timezone(&Utc)).max(fire_at);
                    }
                    missed += 1;
                    break;
                }
                _ => break,
            }
        }
        Some(Due {
            fire_at,
            missed,
            next: self.next_after(now.max(fire_at)),
        })
    }
}

/// The start of the minute `at` falls in.
fn whole_minute(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at)
}

/// One slot to fire now ([`CronRule::due`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The slot fired: its key, with the schedule's id.
    pub fire_at: DateTime<Utc>,
    /// Earlier slots passed over since the last fire (downtime, a pause).
    pub missed: usize,
    /// The slot after this one; `None` if the rule has no more.
    pub next: Option<DateTime<Utc>>,
}

/// Checks a schedule's name: 1 to [`MAX_NAME_CHARS`] characters, no
/// control characters. Returns it trimmed.
pub fn check_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "a name is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new("name", "no control characters"));
    }
    Ok(name.to_owned())
}

/// The version a schedule runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VersionChoice {
    /// Always this version; a fire fails once it is retired.
    Pinned { id: VersionId, label: String },
    /// The model's production version when the schedule fires (what
    /// planners run; a promotion moves the schedule with it); the inputs
    /// are validated against its schema again then.
    Production,
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    pub id: ScheduleId,
    pub name: String,
    pub model_id: ModelId,
    pub model_name: String,
    pub version: VersionChoice,
    /// The fixed inputs, validated at creation.
    pub inputs: Inputs,
    pub cron: String,
    pub time_zone: String,
    /// Who created it: its runs are submitted as this user.
    pub owner: UserId,
    pub owner_email: String,
    pub paused: bool,
    /// The next slot to fire (kept while paused, recomputed on resume).
    pub next_fire_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When it was deleted; its runs and fires stay.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Schedule {
    /// Its rule; the first [`FieldError`] if the stored text no longer
    /// parses (a zone a newer time zone database dropped).
    pub fn rule(&self) -> Result<CronRule, FieldError> {
        CronRule::parse(&self.cron, &self.time_zone).map_err(|errors| {
            errors
                .into_iter()
                .next()
                .unwrap_or_else(|| FieldError::new("cron", "does not parse"))
        })
    }

    /// Whether it still fires: neither paused nor deleted.
    pub fn is_active(&self) -> bool {
        !self.paused && self.deleted_at.is_none()
    }

    /// `active`, `paused` or `deleted`, for pages and the API.
    pub fn state(&self) -> &'static str {
        if self.deleted_at.is_some() {
            "deleted"
        } else if self.paused {
            "paused"
        } else {
            "active"
        }
    }
}

/// A schedule to create; every field already checked.
#[derive(Debug, Clone)]
pub struct NewSchedule {
    pub name: String,
    pub model_id: ModelId,
    /// `None`: the model's production version at each fire.
    pub version_id: Option<VersionId>,
    pub inputs: Inputs,
    pub cron: String,
    pub time_zone: String,
    pub owner: UserId,
    pub next_fire_at: Option<DateTime<Utc>>,
}

/// What became of one slot.
#[derive(Debug, Clone)]
pub enum FireOutcome {
    /// A run, created with the fire in one transaction.
    Run(NewRun),
    /// No run, on purpose (the owner is disabled or no longer a runner).
    Skipped(String),
    /// No run, because it could not be made (no active version, inputs the
    /// version's schema now refuses).
    Failed(String),
}

/// One slot of one schedule, fired: stored under (schedule, `fire_at`).
#[derive(Debug, Clone)]
pub struct Fire {
    pub schedule: ScheduleId,
    pub fire_at: DateTime<Utc>,
    /// The schedule's next slot from now on.
    pub next_fire_at: Option<DateTime<Utc>>,
    pub outcome: FireOutcome,
}

/// What [`ScheduleStore::fire_schedule`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Fired {
    /// The fire and its run are written; the run's dispatch task is `task`.
    Run {
        run: RunId,
        task: crate::ids::TaskId,
    },
    /// The fire is written without a run (skipped or failed).
    Recorded,
    /// This slot was fired already (by another worker): nothing written.
    AlreadyFired,
}

/// What a fire was, as its schedule's page lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FireKind {
    Run,
    Skipped,
    Failed,
}

impl FireKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FireKind::Run => "run",
            FireKind::Skipped => "skipped",
            FireKind::Failed => "failed",
        }
    }
}

impl FromStr for FireKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "run" => Ok(FireKind::Run),
            "skipped" => Ok(FireKind::Skipped),
            "failed" => Ok(FireKind::Failed),
            other => Err(format!("unknown fire kind {other:?}")),
        }
    }
}

/// One stored fire, with its run's current status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FireRecord {
    pub fire_at: DateTime<Utc>,
    pub kind: FireKind,
    pub run_id: Option<RunId>,
    pub run_status: Option<RunStatus>,
    /// Why there is no run, or which slots were passed over.
    pub message: String,
}

/// The schedule that made a run, for "scheduled by …".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledBy {
    pub id: ScheduleId,
    pub name: String,
}
