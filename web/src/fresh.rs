//! Answers kept while the database has not changed.
//!
//! A reader that asks again for what it asked a moment ago (a planner's
//! runs list, refreshed; many people on the same page) gets the answer
//! already built when nothing was committed since: from a key's second
//! ask on, the store's [`DataVersion`] is read first, one cheap query, and
//! the answer is kept with the version read before it was built. Any commit, by this process
//! or another (a separate worker, another Lambda instance), moves the
//! version, so a kept answer is never older than the database: this is not
//! a cache with a lifetime, and nothing shown is stale.

use std::collections::{HashMap, HashSet};
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

/// Keys asked once and not kept, remembered so that a second ask keeps
/// its answer. Past the bound the list starts afresh.
const ASKED_CAPACITY: usize = 1024;

/// Answers of one kind, by a key that names everything they depend on.
pub struct FreshCache<V> {
    kept: Mutex<Kept<V>>,
}

struct Kept<V> {
    answers: HashMap<String, (DataVersion, Arc<V>)>,
    /// Asked once: the next ask reads the version and keeps its answer.
    asked: HashSet<String>,
}

impl<V> Default for FreshCache<V> {
    fn default() -> Self {
        FreshCache {
            kept: Mutex::new(Kept {
                answers: HashMap::new(),
                asked: HashSet::new(),
            }),
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
    /// since it was built, or a new one from `build`. A key asked for the
    /// first time is built without reading the version and not kept (a
    /// reader paging through runs asks each page once); from its second
    /// ask on, its answer is kept if it may be. An error of `build` is
    /// returned and nothing is kept.
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
        let asked_before = {
            let mut kept = self.lock();
            let before = kept.answers.contains_key(&key) || kept.asked.contains(&key);
            if !before {
                if kept.asked.len() >= ASKED_CAPACITY {
                    kept.asked.clear();
                }
                kept.asked.insert(key.clone());
            }
            before
        };
        if !asked_before {
            return Ok(Arc::new(build().await?.answer));
        }
        // Read before the answer is built: a commit in between moves the
        // version again, and the answer kept under this one is not used.
        let version = store.data_version().await?;
        if let Some((kept_at, answer)) = self.lock().answers.get(&key)
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
        let answers = &mut kept.answers;
        if answers.len() >= CAPACITY && !answers.contains_key(&key) {
            answers.retain(|_, (kept_at, _)| *kept_at == version);
            if answers.len() >= CAPACITY {
                answers.clear();
            }
        }
        answers.insert(key.clone(), (version, answer.clone()));
        kept.asked.remove(&key);
        Ok(answer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept<V>> {
        // A panic while holding the lock leaves the maps still whole.
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
