//! The worker as an AWS Lambda function: one handler for the four kinds of
//! event it is sent. Each is a reason to look at the queue; none carries
//! work itself, which is always in the store first. So a lost kick or event
//! costs at most a delay until the next scheduled sweep, never work.

use std::time::Instant;

use modelrun_core::ids::TaskId;
use modelrun_core::task::{Job, SyncImages};
use serde_json::{Value, json};

use crate::{Worker, WorkerError};

/// A kick names the tasks of one request: a handful. More are ignored
/// (they are run all the same, as due tasks).
const MAX_KICKED: usize = 100;

/// What an invocation was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// `{"kick": {"tasks": [12]}}` from the web function: tasks were committed.
    Kick { tasks: Vec<TaskId> },
    /// An EventBridge "Batch Job State Change".
    BatchJobStateChange,
    /// An EventBridge "ECR Image Action": an image was pushed.
    ImagePushed {
        repository: String,
        tag: Option<String>,
    },
    /// The one-minute EventBridge schedule.
    Scheduled,
    /// Anything else.
    Unknown,
}

impl Invocation {
    pub fn of(event: &Value) -> Self {
        if let Some(kick) = event.get("kick") {
            let tasks = kick["tasks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_i64)
                .filter(|id| *id > 0)
                .take(MAX_KICKED)
                .map(TaskId)
                .collect();
            return Invocation::Kick { tasks };
        }
        let text = |key: &str| event.get(key).and_then(Value::as_str);
        match (text("source"), text("detail-type")) {
            (Some("aws.batch"), Some("Batch Job State Change")) => Invocation::BatchJobStateChange,
            (Some("aws.ecr"), Some("ECR Image Action")) => {
                let detail = &event["detail"];
                let pushed = detail["action-type"] == "PUSH" && detail["result"] == "SUCCESS";
                match (pushed, detail["repository-name"].as_str()) {
                    (true, Some(repository)) => Invocation::ImagePushed {
                        repository: repository.to_owned(),
                        tag: detail["image-tag"].as_str().map(str::to_owned),
                    },
                    _ => Invocation::Unknown,
                }
            }
            (Some("aws.events"), Some("Scheduled Event")) => Invocation::Scheduled,
            _ => Invocation::Unknown,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Invocation::Kick { .. } => "kick",
            Invocation::BatchJobStateChange => "batch_job_state_change",
            Invocation::ImagePushed { .. } => "image_pushed",
            Invocation::Scheduled => "scheduled",
            Invocation::Unknown => "unknown",
        }
    }
}

/// Handles one invocation: records what the event says, then runs due tasks
/// until none is left or the deadline nears. Returns a summary.
pub async fn handle(
    worker: &Worker,
    event: &Value,
    deadline: Instant,
) -> Result<Value, WorkerError> {
    let invocation = Invocation::of(event);
    let mut summary = json!({ "event": invocation.name() });
    match &invocation {
        Invocation::Kick { .. } | Invocation::Unknown => {}
        Invocation::BatchJobStateChange => {
            let recorded = worker.handle_batch_event(event).await?;
            summary["recorded"] = json!(recorded.is_some());
        }
        Invocation::ImagePushed { repository, tag } => {
            tracing::info!(%repository, tag = tag.as_deref().unwrap_or(""), "image pushed: syncing");
            worker
                .services()
                .store
                .enqueue(SyncImages {}.task())
                .await?;
        }
        Invocation::Scheduled => {
            summary["scheduled_runs"] = json!(worker.fire_schedules().await?.runs.len());
            summary["swept"] = json!(worker.sweep().await?);
        }
    }
    summary["tasks"] = json!(worker.run_due_until(deadline).await?);
    if let Invocation::Kick { tasks } = &invocation {
        summary["kicked"] = kicked(worker, tasks).await?;
    }
    Ok(summary)
}

/// Where each kicked task stands now: usually `done`, here or in another
/// invocation; `queued` if it waits for a retry or the deadline came first.
async fn kicked(worker: &Worker, tasks: &[TaskId]) -> Result<Value, WorkerError> {
    let mut states = Vec::with_capacity(tasks.len());
    for id in tasks {
        let state = worker.services().store.task(*id).await?;
        let state = state.map_or("unknown", |task| task.state.as_str());
        states.push(json!({ "task": id.0, "state": state }));
    }
    Ok(Value::Array(states))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_four_shapes_apart() {
        assert_eq!(
            Invocation::of(&json!({"kick": {"tasks": [12, 13]}})),
            Invocation::Kick {
                tasks: vec![TaskId(12), TaskId(13)]
            }
        );
        assert_eq!(
            Invocation::of(&json!({"kick": {"tasks": ["x", -1, 4]}})),
            Invocation::Kick {
                tasks: vec![TaskId(4)]
            }
        );
        assert_eq!(
            Invocation::of(&json!({"kick": {}})),
            Invocation::Kick { tasks: vec![] }
        );
        assert_eq!(
            Invocation::of(
                &json!({"source": "aws.batch", "detail-type": "Batch Job State Change", "detail": {}})
            ),
            Invocation::BatchJobStateChange
        );
        assert_eq!(
            Invocation::of(
                &json!({"source": "aws.ecr", "detail-type": "ECR Image Action",
                "detail": {"action-type": "PUSH", "result": "SUCCESS", "repository-name": "modelrun/forecast", "image-tag": "a1b2c3d"}})
            ),
            Invocation::ImagePushed {
                repository: "modelrun/forecast".to_owned(),
                tag: Some("a1b2c3d".to_owned())
            }
        );
        assert_eq!(
            Invocation::of(
                &json!({"source": "aws.ecr", "detail-type": "ECR Image Action",
                "detail": {"action-type": "DELETE", "result": "SUCCESS", "repository-name": "modelrun/forecast"}})
            ),
            Invocation::Unknown
        );
        assert_eq!(
            Invocation::of(&json!({"source": "aws.events", "detail-type": "Scheduled Event"})),
            Invocation::Scheduled
        );
        assert_eq!(
            Invocation::of(&json!({"hello": "world"})),
            Invocation::Unknown
        );
    }
}
