//! What `modelrun runs submit --wait` shows while the run goes on: each new
//! status with the time taken, and the model's progress (the run's
//! `progress` in the API). On a terminal the progress is a bar (indicatif)
//! under the status lines; elsewhere (a pipe, a CI log) each new status or
//! progress is one plain line, at most one a poll.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::output::cell;
use super::terminal::one_line;

/// The progress a run's JSON shows: percent (0–100) and message. A
/// succeeded run shows complete, as on its page.
pub(super) fn progress_of(run: &Value) -> Option<(u64, String)> {
    let progress = run.get("progress").filter(|p| p.is_object())?;
    let fraction = match run["status"].as_str() {
        Some("succeeded") => 1.0,
        _ => progress["fraction"].as_f64()?.clamp(0.0, 1.0),
    };
    // In 0..=100 by the clamp: the cast cannot overflow.
    let percent = (fraction * 100.0).round() as u64;
    let message = progress["message"]
        .as_str()
        .map(one_line)
        .unwrap_or_default();
    Some((percent, message))
}

/// Shows a run's status and progress as it changes.
pub(super) struct Watch {
    started: Instant,
    status: String,
    /// The last plain line printed (without a terminal).
    line: String,
    bar: Option<ProgressBar>,
}

impl Watch {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub(super) fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(100);
            let style = ProgressStyle::with_template(
                "  {spinner} {prefix:<10} [{bar:30}] {pos:>3}%  {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Watch {
            started: Instant::now(),
            status: String::new(),
            line: String::new(),
            bar,
        }
    }

    /// Shows what `run` (the API's JSON of the run) says now.
    pub(super) fn show(&mut self, run: &Value) {
        let status = cell(&run["status"]);
        let elapsed = self.started.elapsed().as_secs_f64();
        let progress = progress_of(run);
        match &self.bar {
            Some(bar) => {
                if status != self.status {
                    bar.println(format!("  {elapsed:>6.1} s  {status}"));
                }
                bar.set_prefix(status.clone());
                if let Some((percent, message)) = progress {
                    bar.set_position(percent);
                    bar.set_message(message);
                }
            }
            None => {
                let line = match progress {
                    Some((percent, message)) if message.is_empty() => {
                        format!("{status}  {percent}%")
                    }
                    Some((percent, message)) => format!("{status}  {percent}%  {message}"),
                    None => status.clone(),
                };
                if line != self.line {
                    eprintln!("  {elapsed:>6.1} s  {line}");
                    self.line = line;
                }
            }
        }
        self.status = status;
    }

    /// Leaves the bar as it ended.
    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn progress_as_the_cli_shows_it() {
        let run = json!({ "status": "running", "progress": { "fraction": 0.404, "message": "fitting\u{1b}[2J", "at": "2026-11-30T18:00:00Z" } });
        let (percent, message) = progress_of(&run).expect("progress");
        assert_eq!(percent, 40);
        assert!(!message.contains('\u{1b}'), "{message:?}");
        let done = json!({ "status": "succeeded", "progress": { "fraction": 0.9, "message": null, "at": "2026-11-30T18:00:00Z" } });
        assert_eq!(progress_of(&done), Some((100, String::new())));
        assert_eq!(
            progress_of(&json!({ "status": "running", "progress": null })),
            None
        );
    }
}
