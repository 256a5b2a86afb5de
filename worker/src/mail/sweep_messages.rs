//! "Your sweep ended": one message for the whole sweep, sent once every
//! run of it has ended, instead of one per run.

use askama::Template;
use modelrun_core::email::NewEmail;
use modelrun_core::sweep::{Sweep, Tally};
use modelrun_core::words::count;

#[derive(Template)]
#[template(path = "emails/sweep_finished.txt")]
struct SweepFinishedText<'a> {
    sweep: &'a Sweep,
    outcome: &'a str,
    summary: &'a str,
    url: &'a str,
}

#[derive(Template)]
#[template(path = "emails/sweep_finished.html")]
struct SweepFinishedHtml<'a> {
    sweep: &'a Sweep,
    outcome: &'a str,
    summary: &'a str,
    url: &'a str,
}

/// "of its 6 runs, 5 succeeded and 1 failed"
fn summary(tally: &Tally) -> String {
    let parts: Vec<String> = [
        (tally.succeeded, "succeeded"),
        (tally.failed, "failed"),
        (tally.cancelled, "cancelled"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    let parts = match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => parts.join(""),
    };
    format!("of its {}, {parts}", count(tally.total(), "run"))
}

/// The message to `sweep`'s submitter once its runs, counted in `tally`,
/// have all ended. `public_url` is where people reach the app.
pub fn sweep_finished(
    sweep: &Sweep,
    tally: &Tally,
    public_url: &str,
) -> Result<NewEmail, askama::Error> {
    let outcome = match tally.status() {
        "succeeded" => "succeeded",
        "cancelled" => "was cancelled",
        _ => "ended with failed runs",
    };
    let summary = summary(tally);
    let url = format!("{}/sweeps/{}", public_url.trim_end_matches('/'), sweep.id);
    Ok(NewEmail {
        to: sweep.submitter_email.clone(),
        subject: format!("Sweep #{} of {} {outcome}", sweep.id, sweep.model_name),
        text: SweepFinishedText {
            sweep,
            outcome,
            summary: &summary,
            url: &url,
        }
        .render()?,
        html: SweepFinishedHtml {
            sweep,
            outcome,
            summary: &summary,
            url: &url,
        }
        .render()?,
        run_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_what_ended_how() {
        let tally = Tally {
            succeeded: 5,
            failed: 1,
            ..Tally::default()
        };
        assert_eq!(summary(&tally), "of its 6 runs, 5 succeeded and 1 failed");
    }
}
