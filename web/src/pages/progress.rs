//! How a run's progress ([`modelrun_core::progress`]) shows on a page: a
//! bar with its percentage and the model's message, on the run page for
//! as long as the run has any, and a small bar in the runs list while it
//! is active. A succeeded run shows complete, whatever the model last
//! said; a failed or cancelled one shows where it stopped.

use modelrun_core::progress::RunProgress;
use modelrun_core::status::RunStatus;

use crate::locale::{LocalTime, Locale};

/// A progress bar as a template shows it.
#[derive(Debug, Clone)]
pub struct ProgressView {
    /// 0 to 100.
    pub percent: u32,
    pub message: Option<String>,
    /// When the model reported it.
    pub at: LocalTime,
}

impl ProgressView {
    /// The bar of a run in `status` whose model last reported `progress`.
    pub fn of(status: RunStatus, progress: Option<RunProgress>, locale: &Locale) -> Option<Self> {
        let progress = match status {
            RunStatus::Succeeded => progress?.completed(),
            _ => progress?,
        };
        Some(ProgressView {
            percent: progress.percent(),
            at: locale.time(progress.at),
            message: progress.message,
        })
    }

    /// The bar's text: `40% · fitting the seasonal model`.
    pub fn label(&self) -> String {
        match &self.message {
            Some(message) => format!("{}% · {message}", self.percent),
            None => format!("{}%", self.percent),
        }
    }
}
