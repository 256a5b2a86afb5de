//! The state every handler can reach, and the parts a handler may take alone.

use std::sync::Arc;

use axum::extract::FromRef;
use modelrun_core::blob::BlobStore;
use modelrun_core::config::WebConfig;
use modelrun_core::executor::Executor;
use modelrun_core::kick::Kicker;
use modelrun_core::model_secrets::SecretVault;
use modelrun_core::store::Store;

/// Cheap to clone: every field is shared.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub blob: Arc<dyn BlobStore>,
    /// Read-only uses: logs. Starting and stopping jobs is the worker's.
    pub executor: Arc<dyn Executor>,
    pub kicker: Arc<dyn Kicker>,
    /// Where model secret values are set; the web app never reads one back.
    pub vault: Arc<dyn SecretVault>,
    pub config: Arc<WebConfig>,
    /// Answers kept while the database has not changed.
    pub caches: Arc<crate::fresh::Caches>,
    /// Submits being answered ([`modelrun_core::intake`]): [`crate::submit::submit`]
    /// and [`crate::sweeps::submit_sweep`], the two ways every handler
    /// submits, hold `intake.answering()` while they run; models started
    /// here meanwhile give way.
    pub intake: modelrun_core::intake::Intake,
}

impl FromRef<AppState> for Arc<dyn Store> {
    fn from_ref(state: &AppState) -> Self {
        state.store.clone()
    }
}

impl FromRef<AppState> for Arc<WebConfig> {
    fn from_ref(state: &AppState) -> Self {
        state.config.clone()
    }
}
