//! Kicks wake the worker when a task was committed, so that work starts at
//! once instead of at the next sweep. A kick is best effort: losing one only
//! delays work until the sweep, because the task is already stored.

use std::fmt;

use async_trait::async_trait;

use crate::ids::TaskId;

#[async_trait]
pub trait Kicker: Send + Sync + fmt::Debug {
    /// Says that `tasks` were committed. A kick names tasks and carries
    /// nothing else: their work is in the store.
    async fn kick(&self, tasks: &[TaskId]);
}
