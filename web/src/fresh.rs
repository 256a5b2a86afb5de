//! Answers kept while the database has not changed.
//!
//! A reader that asks again for what it asked a moment ago (a planner's
//! runs list, refreshed; many people on the same page) gets the answer
//! already built when nothing was committed since: the store's
//! [`DataVersion`] is read first, one cheap query, and an answer is kept
//! with the version read before it was built. Any commit, by this process
//! or another (a separate worker, another Lambda instance), moves the
//! version, so a kept answer is never older than the database: this is not
//! a cache with a lifetime, and nothing shown is stale.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};

use modelrun_core::store::{DataVersion, Store};

use crate::error::AppResult;

/// Most answers kept at once, per kind. A kept runs list is at most
/// 200 runs; past the bound, the answers of older versions go first,
/// then all of them.
const CAPACITY: usize = 64;

/// A new answer, and whether it may be kept: not when it also depends on
/// the clock (a running run's duration so far), which no commit moves.
#[derive(Debug)]
pub struct Built<V> {
    pub answer: V,
    pub keep: bool,
}

/// Answers of one kind, by a key that names everything they depend on.
pub struct FreshCache<V> {
    kept: Mutex<HashMap<String, (DataVersion, Arc<V>)>>,
}

impl<V> Default for FreshCache<V> {
    fn default() -> Self {
        FreshCache {
            kept: Mutex::default(),
        }
    }
}

impl<V> fmt::Debug for FreshCache<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FreshCache").finish_non_exhaustive()
    }
}

impl<V> FreshCache<V> {
    /// The answer for `key`: the one kept, if the database has not changed
    /// since it was built, or a new one from `build`, then kept if it may
    /// be. An error of `build` is returned and nothing is kept.
    pub async fn get_or_build<F, Fut>(
        &self,
        store: &dyn Store,
        key: String,
        build: F,
    ) -> AppResult<Arc<V>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<Built<V>>>,
    {
        // Read before the answer is built: a commit in between moves the
        // version again, and the answer kept under this one is not used.
        let version = store.data_version().await?;
        if let Some((kept_at, answer)) = self.lock().get(&key)
            && *kept_at == version
        {
            return Ok(answer.clone());
        }
        let Built { answer, keep } = build().await?;
        let answer = Arc::new(answer);
        if !keep {
            return Ok(answer);
        }
        let mut kept = self.lock();
        if kept.len() >= CAPACITY && !kept.contains_key(&key) {
            kept.retain(|_, (kept_at, _)| *kept_at == version);
            if kept.len() >= CAPACITY {
                kept.clear();
            }
        }
        kept.insert(key, (version, answer.clone()));
        Ok(answer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (DataVersion, Arc<V>)>> {
        // A panic while holding the lock leaves a map still whole.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The answers the web app keeps.
#[derive(Debug, Default)]
pub struct Caches {
    /// `GET /api/v1/runs`: the JSON body.
    pub runs_json: FreshCache<bytes::Bytes>,
    /// The `/runs` page: its runs, their progress and the models' names.
    pub runs_page: FreshCache<crate::pages::runs::Listed>,
}
