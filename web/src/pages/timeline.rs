//! The run page's timeline as a planner reads it: queued, running, then
//! finished, failed or cancelled, each with when it began, how long it
//! took and, where its history says, why the run waited or ended. The
//! phases come from [`modelrun_core::timeline`]; the page keeps the full
//! list of events one click away. A run that waits for one of the local
//! executor's slots names the runs holding them, read live from the store.

use chrono::{DateTime, Utc};
use modelrun_core::ids::RunId;
use modelrun_core::run::{Run, RunEvent};
use modelrun_core::status::RunStatus;
use modelrun_core::timeline::{Phase, Step, timeline};
use modelrun_core::user::User;

use crate::error::AppResult;
use crate::format;
use crate::locale::{LocalTime, Locale};
use crate::policy::visible_submitter;
use crate::state::AppState;

/// The runs that hold a slot while `run` waits for one: those starting,
/// running or being cancelled, oldest first.
#[derive(Debug, Default)]
pub struct SlotHolders {
    /// The ones the person may see, by number.
    pub named: Vec<RunId>,
    /// How many others, which they may not see.
    pub others: usize,
}

/// Who holds the slots `run` waits for, when its history says that it
/// waits for one now; empty otherwise (without asking the store).
pub async fn slot_holders(
    state: &AppState,
    user: &User,
    run: &Run,
    events: &[RunEvent],
) -> AppResult<SlotHolders> {
    let waits = timeline(events)
        .last()
        .is_some_and(|step| step.phase == Phase::Queued && step.slots.is_some());
    if !waits || run.status.is_terminal() {
        return Ok(SlotHolders::default());
    }
    let only = visible_submitter(state, user);
    let mut holders = SlotHolders::default();
    let mut active = state.store.active_runs().await?;
    active.sort_by_key(|other| other.id);
    for other in active.iter().filter(|other| {
        other.id != run.id
            && matches!(
                other.status,
                RunStatus::Starting | RunStatus::Running | RunStatus::Cancelling
            )
    }) {
        match only {
            Some(me) if other.submitted_by != me => holders.others += 1,
            _ => holders.named.push(other.id),
        }
    }
    Ok(holders)
}

/// Why `step` waits or waited for a slot: "waiting for a free slot: 2 runs
/// at once; running now: #7, #8"; `None` when it did not.
fn slot_reason(step: &Step, holders: &SlotHolders) -> Option<String> {
    let slots = step.slots?;
    let at_once = format!(
        "{slots} {} at once",
        if slots == 1 { "run" } else { "runs" }
    );
    if step.until.is_some() {
        return Some(format!("waited for a free slot: {at_once}"));
    }
    let mut running: Vec<String> = holders.named.iter().map(|id| format!("#{id}")).collect();
    if holders.others > 0 {
        running.push(match (holders.others, running.is_empty()) {
            (1, true) => "1 run of someone else".to_owned(),
            (1, false) => "1 other".to_owned(),
            (n, true) => format!("{n} runs of others"),
            (n, false) => format!("{n} others"),
        });
    }
    Some(match running.is_empty() {
        true => format!("waiting for a free slot: {at_once}"),
        false => format!(
            "waiting for a free slot: {at_once}; running now: {}",
            running.join(", ")
        ),
    })
}

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

/// The phases of the run whose history is `events`, as of `now`; a wait
/// for a slot names `holders`, the runs holding them now.
pub fn phases(
    events: &[RunEvent],
    locale: &Locale,
    now: DateTime<Utc>,
    holders: &SlotHolders,
) -> Vec<PhaseView> {
    timeline(events)
        .into_iter()
        .map(|step| PhaseView {
            reason: slot_reason(&step, holders).or_else(|| step.reason.clone()),
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
        let shown = phases(&events, &locale, now, &SlotHolders::default());
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
        let running = phases(&events[..2], &locale, now, &SlotHolders::default());
        assert_eq!(running[1].duration.as_deref(), Some("16 min 38 s so far"));
    }

    #[test]
    fn a_wait_for_a_slot_names_the_runs_holding_them() {
        let locale = Locale::new(DisplaySettings::default(), None);
        let mut waiting = status(1, RunStatus::Runnable);
        waiting.data = serde_json::json!({ modelrun_core::timeline::WAITING_FOR_SLOT: 2 });
        let events = [status(0, RunStatus::Queued), waiting];
        let now = DateTime::from_timestamp(1_800_000_075, 0).expect("time");
        let holders = SlotHolders {
            named: vec![RunId(7), RunId(8)],
            others: 0,
        };
        let shown = phases(&events, &locale, now, &holders);
        assert_eq!(
            shown[0].reason.as_deref(),
            Some("waiting for a free slot: 2 runs at once; running now: #7, #8")
        );
        let hidden = SlotHolders {
            named: vec![RunId(7)],
            others: 1,
        };
        let shown = phases(&events, &locale, now, &hidden);
        assert_eq!(
            shown[0].reason.as_deref(),
            Some("waiting for a free slot: 2 runs at once; running now: #7, 1 other")
        );
        let mut ran = events.to_vec();
        ran.push(status(70, RunStatus::Running));
        let shown = phases(&ran, &locale, now, &SlotHolders::default());
        assert_eq!(
            shown[0].reason.as_deref(),
            Some("waited for a free slot: 2 runs at once")
        );
        assert_eq!(shown[1].reason, None);
    }
}
