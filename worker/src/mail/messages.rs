//! The messages modelrun sends. Each has a subject, a plain-text body and an
//! HTML body; the bodies are templates in `worker/templates/emails/`.

use askama::Template;
use modelrun_core::diagnosis::Diagnosis;
use modelrun_core::email::NewEmail;
use modelrun_core::run::Run;
use modelrun_core::status::RunStatus;

#[derive(Template)]
#[template(path = "emails/run_finished.txt")]
struct RunFinishedText<'a> {
    run: &'a Run,
    outcome: &'a str,
    url: &'a str,
}

#[derive(Template)]
#[template(path = "emails/run_finished.html")]
struct RunFinishedHtml<'a> {
    run: &'a Run,
    outcome: &'a str,
    url: &'a str,
}

#[derive(Template)]
#[template(path = "emails/run_stuck.txt")]
struct RunStuckText<'a> {
    run: &'a Run,
    diagnosis: &'a Diagnosis,
    /// "1 minute", "12 minutes".
    waited: String,
    url: &'a str,
}

#[derive(Template)]
#[template(path = "emails/run_stuck.html")]
struct RunStuckHtml<'a> {
    run: &'a Run,
    diagnosis: &'a Diagnosis,
    /// "1 minute", "12 minutes".
    waited: String,
    url: &'a str,
}

/// "This run has waited long" for an administrator.
pub fn run_stuck(
    run: &Run,
    diagnosis: &Diagnosis,
    minutes: i64,
    public_url: &str,
    to: &str,
) -> Result<NewEmail, askama::Error> {
    let url = format!("{}/runs/{}", public_url.trim_end_matches('/'), run.id);
    Ok(NewEmail {
        to: to.to_owned(),
        subject: format!(
            "Run #{} of {} has been {} for {}",
            run.id,
            run.model_name,
            run.status,
            modelrun_core::words::count(minutes, "minute")
        ),
        text: RunStuckText {
            run,
            diagnosis,
            waited: modelrun_core::words::count(minutes, "minute"),
            url: &url,
        }
        .render()?,
        html: RunStuckHtml {
            run,
            diagnosis,
            waited: modelrun_core::words::count(minutes, "minute"),
            url: &url,
        }
        .render()?,
        run_id: Some(run.id),
    })
}

/// "Your run ended" for the person who submitted it. `run` is the run as it
/// will be once ended (status and reason set); `public_url` is where people
/// reach the app.
pub fn run_finished(run: &Run, public_url: &str) -> Result<NewEmail, askama::Error> {
    let outcome = match run.status {
        RunStatus::Succeeded => "succeeded",
        RunStatus::Cancelled => "was cancelled",
        _ => "failed",
    };
    let url = format!("{}/runs/{}", public_url.trim_end_matches('/'), run.id);
    Ok(NewEmail {
        to: run.submitter_email.clone(),
        subject: format!("Run #{} of {} {outcome}", run.id, run.model_name),
        text: RunFinishedText {
            run,
            outcome,
            url: &url,
        }
        .render()?,
        html: RunFinishedHtml {
            run,
            outcome,
            url: &url,
        }
        .render()?,
        run_id: Some(run.id),
    })
}

#[cfg(test)]
mod tests {
    use modelrun_core::ids::RunId;

    use super::*;

    fn run(status: RunStatus, reason: Option<&str>) -> Run {
        Run {
            version_label: "<b>v1</b>".to_owned(),
            status_reason: reason.map(str::to_owned),
            ..Run::fixture(RunId(42), status)
        }
    }

    #[test]
    fn says_what_happened_with_a_link() {
        let email = run_finished(
            &run(RunStatus::Failed, Some("exit code 3")),
            "http://127.0.0.1:8080/",
        )
        .expect("render");
        assert_eq!(email.to, "ann@example.com");
        assert_eq!(email.subject, "Run #42 of forecast failed");
        assert!(email.text.contains("Reason: exit code 3"), "{}", email.text);
        assert!(email.text.contains("http://127.0.0.1:8080/runs/42"));
        assert!(
            email
                .html
                .contains("href=\"http://127.0.0.1:8080/runs/42\"")
        );
        // HTML is escaped; text is not.
        assert!(
            email.html.contains("&#60;b&#62;v1") || email.html.contains("&lt;b&gt;v1"),
            "{}",
            email.html
        );
        assert!(email.text.contains("<b>v1</b>"));
        let ok = run_finished(&run(RunStatus::Succeeded, None), "http://x").expect("render");
        assert_eq!(ok.subject, "Run #42 of forecast succeeded");
        assert!(!ok.text.contains("Reason"));
    }

    #[test]
    fn a_stuck_run_says_how_long_in_words() {
        let diagnosis = Diagnosis {
            summary: "all 2 run slots are busy".to_owned(),
            findings: modelrun_core::diagnosis::Findings::Local {
                slots: 2,
                busy: 2,
                waiting: 1,
                job_known: true,
            },
            causes: Vec::new(),
            checks: Vec::new(),
        };
        let stuck = run(RunStatus::Runnable, None);
        let one = run_stuck(&stuck, &diagnosis, 1, "http://x", "ops@example.com").expect("render");
        assert_eq!(
            one.subject,
            "Run #42 of forecast has been runnable for 1 minute"
        );
        assert!(one.text.contains("runnable for 1 minute."), "{}", one.text);
        assert!(one.html.contains("for 1 minute."), "{}", one.html);
        let many =
            run_stuck(&stuck, &diagnosis, 12, "http://x", "ops@example.com").expect("render");
        assert!(many.subject.ends_with("for 12 minutes"), "{}", many.subject);
    }
}
