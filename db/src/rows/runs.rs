//! The rows of runs: a run with its model, version and submitter, its
//! events and its outputs.

use modelrun_core::ids::{ModelId, RunId, UserId, VersionId};
use modelrun_core::manifest::Resources;
use modelrun_core::run::{EventKind, Run, RunEvent, RunOutput};
use modelrun_core::schema::Inputs;
use modelrun_core::store::StoreError;
use serde_json::Value;
use sqlx::types::Json;

use crate::convert::parse;
use crate::types::Timestamp;

/// `SELECT` of a [`RunRow`]: a run joined with its model, version and
/// submitter. A macro, so that `concat!` can build `'static` query text.
macro_rules! select_runs {
    () => {
        "SELECT r.id, r.model_id, m.name AS model_name, r.version_id, v.label AS version_label, \
         r.submitted_by, u.email AS submitter_email, r.inputs, r.vcpu, r.memory_mib, \
         r.timeout_seconds, r.status, r.status_reason, r.job_id, r.log_stream, r.created_at, \
         r.updated_at, r.started_at, r.finished_at, r.rerun_of, r.job_key, r.attempt, r.alias \
         FROM runs r \
         JOIN models m ON m.id = r.model_id \
         JOIN model_versions v ON v.id = r.version_id \
         JOIN users u ON u.id = r.submitted_by "
    };
}
pub(crate) use select_runs;

#[derive(sqlx::FromRow)]
pub(crate) struct RunRow {
    id: i64,
    model_id: i64,
    model_name: String,
    version_id: i64,
    version_label: String,
    submitted_by: i64,
    submitter_email: String,
    inputs: Json<Inputs>,
    vcpu: f64,
    memory_mib: i64,
    timeout_seconds: i64,
    status: String,
    status_reason: Option<String>,
    job_id: Option<String>,
    log_stream: Option<String>,
    rerun_of: Option<i64>,
    job_key: Option<String>,
    attempt: i64,
    alias: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
}

impl TryFrom<RunRow> for Run {
    type Error = StoreError;

    fn try_from(row: RunRow) -> Result<Self, StoreError> {
        Ok(Run {
            id: RunId(row.id),
            model_id: ModelId(row.model_id),
            model_name: row.model_name,
            version_id: VersionId(row.version_id),
            version_label: row.version_label,
            submitted_by: UserId(row.submitted_by),
            submitter_email: row.submitter_email,
            inputs: row.inputs.0,
            resources: Resources {
                vcpu: row.vcpu,
                memory_mib: row.memory_mib,
                timeout_seconds: row.timeout_seconds,
            },
            status: parse("run status", &row.status)?,
            status_reason: row.status_reason,
            job_id: row.job_id,
            log_stream: row.log_stream,
            rerun_of: row.rerun_of.map(RunId),
            job_key: row.job_key,
            attempt: row.attempt,
            alias: row
                .alias
                .as_deref()
                .map(|a| parse("alias", a))
                .transpose()?,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
            started_at: row.started_at.map(Into::into),
            finished_at: row.finished_at.map(Into::into),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    at: Timestamp,
    kind: String,
    status: Option<String>,
    message: String,
    data: Value,
}

impl TryFrom<EventRow> for RunEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        Ok(RunEvent {
            at: row.at.into(),
            kind: match row.kind.as_str() {
                "status" => EventKind::Status,
                _ => EventKind::Fact,
            },
            status: row
                .status
                .as_deref()
                .map(|s| parse("run status", s))
                .transpose()?,
            message: row.message,
            data: row.data,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutputRow {
    name: String,
    size: i64,
    content_type: String,
    sha256: Option<String>,
}

impl From<OutputRow> for RunOutput {
    fn from(row: OutputRow) -> Self {
        RunOutput {
            name: row.name,
            size: row.size,
            content_type: row.content_type,
            sha256: row.sha256,
        }
    }
}
