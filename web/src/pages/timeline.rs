//! The run page's timeline as a planner reads it: queued, running, then
//! finished, failed or cancelled, each with when it began, how long it
//! took and, where its history says, why the run waited or ended. The
//! phases come from [`modelrun_core::timeline`]; the page keeps the full
//! list of events one click away.

use chrono::{DateTime, Utc};
use modelrun_core::run::RunEvent;
use modelrun_core::timeline::timeline;

use crate::format;
use crate::locale::{LocalTime, Locale};

/// One phase on the run page.
pub struct PhaseView {
    /// "Queued", "Running (attempt 2)", "Finished".
    pub label: String,
    /// The phase in lower case, for its CSS class: "queued", "finished".
    pub class: &'static str,
    /// When it began, to the second.
    pub at: LocalTime,
    /// How long it took ("1 min 30 s"; "4.0 s so far" for the phase the
    /// run is in); `None` for an end, which is a moment.
    pub duration: Option<String>,
    /// Why the run waited, or why it ended or is being cancelled, when its
    /// history says.
    pub reason: Option<String>,
}

/// The phases of the run whose history is `events`, as of `now`.
pub fn phases(events: &[RunEvent], locale: &Locale, now: DateTime<Utc>) -> Vec<PhaseView> {
    timeline(events)
        .into_iter()
        .map(|step| PhaseView {
            label: match step.attempt {
                Some(attempt) => format!("{} (attempt {attempt})", step.phase.label()),
                None => step.phase.label().to_owned(),
            },
            class: step.phase.as_str(),
            at: locale.clock(step.from),
            duration: step.duration(now).map(|duration| {
                let text = format::duration(duration);
                if step.until.is_none() {
                    format!("{text} so far")
                } else {
                    text
                }
            }),
            reason: step.reason,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use modelrun_core::display::DisplaySettings;
    use modelrun_core::run::EventKind;
    use modelrun_core::status::RunStatus;

    use super::*;

    fn status(second: i64, status: RunStatus) -> RunEvent {
        RunEvent {
            at: DateTime::from_timestamp(1_800_000_000 + second, 0).expect("time"),
            kind: EventKind::Status,
            status: Some(status),
            message: status.to_string(),
            data: serde_json::json!({}),
        }
    }

    #[test]
    fn phases_read_with_durations_in_the_persons_zone() {
        let locale = Locale::new(DisplaySettings::default(), Some(chrono_tz::Tz::Asia__Tokyo));
        let events = [
            status(0, RunStatus::Queued),
            status(2, RunStatus::Running),
            status(92, RunStatus::Succeeded),
        ];
        let now = DateTime::from_timestamp(1_800_001_000, 0).expect("time");
        let shown = phases(&events, &locale, now);
        let read: Vec<(&str, Option<&str>)> = shown
            .iter()
            .map(|p| (p.label.as_str(), p.duration.as_deref()))
            .collect();
        assert_eq!(
            read,
            [
                ("Queued", Some("2.0 s")),
                ("Running", Some("1 min 30 s")),
                ("Finished", None)
            ]
        );
        assert_eq!(shown[2].at.local, "17:01:32", "Tokyo, to the second");
        let running = phases(&events[..2], &locale, now);
        assert_eq!(running[1].duration.as_deref(), Some("16 min 38 s so far"));
    }
}
