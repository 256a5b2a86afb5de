//! Kicks. In one process (`modelrun up`) the web half wakes the worker half
//! directly; separate processes hear Postgres `NOTIFY` or rely on the poll;
//! on AWS Lambda the web function invokes the worker function.

use std::sync::Arc;

use async_trait::async_trait;
use modelrun_core::ids::TaskId;
use modelrun_core::kick::Kicker;
use tokio::sync::Notify;

/// Wakes a worker in the same process. A kick sent while the worker is busy
/// is remembered, so it looks for tasks again as soon as it is free.
#[derive(Debug, Clone, Default)]
pub struct LocalKicker {
    notify: Arc<Notify>,
}

impl LocalKicker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the worker now, from synchronous code.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// Resolves at the next kick (or at once if one is pending).
    pub async fn kicked(&self) {
        self.notify.notified().await;
    }
}

#[async_trait]
impl Kicker for LocalKicker {
    async fn kick(&self, _tasks: &[TaskId]) {
        self.wake();
    }
}

/// The kick on AWS Lambda: the web function invokes the worker function
/// asynchronously (`InvocationType=Event`). Best effort: a failed invoke is
/// logged, and the scheduled sweep finds the task within a minute.
#[derive(Debug, Clone)]
pub struct LambdaKicker {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl LambdaKicker {
    /// `function`: the worker function's name or ARN.
    pub fn new(sdk: &aws_config::SdkConfig, function: impl Into<String>) -> Self {
        LambdaKicker {
            client: aws_sdk_lambda::Client::new(sdk),
            function: function.into(),
        }
    }
}

#[async_trait]
impl Kicker for LambdaKicker {
    async fn kick(&self, tasks: &[TaskId]) {
        let payload = kick_payload(tasks);
        let invoked = self
            .client
            .invoke()
            .function_name(&self.function)
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload))
            .send()
            .await;
        if let Err(error) = invoked {
            tracing::warn!(
                ?tasks,
                error = %aws_sdk_lambda::error::DisplayErrorContext(&error),
                "could not kick the worker; the scheduled sweep will find the task"
            );
        }
    }
}

/// `{"kick":{"tasks":[12,13]}}`: task ids only, the work is in the store.
pub fn kick_payload(tasks: &[TaskId]) -> Vec<u8> {
    let ids: Vec<i64> = tasks.iter().map(|task| task.0).collect();
    serde_json::to_vec(&serde_json::json!({ "kick": { "tasks": ids } }))
        .unwrap_or_else(|_| br#"{"kick":{"tasks":[]}}"#.to_vec())
}
