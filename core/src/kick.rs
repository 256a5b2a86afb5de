//! Kicks wake the worker when a task was committed, so that work starts at
//! once instead of at the next sweep. A kick is best effort: losing one only
//! delays work until the sweep, because the task is already stored.

use std::fmt;

use async_trait::async_trait;

#[async_trait]
pub trait Kicker: Send + Sync + fmt::Debug {
    async fn kick(&self);
}
