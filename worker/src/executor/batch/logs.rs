//! A Batch job's log, read from CloudWatch Logs: its stream (named when
//! the container starts) in the configured log group, one event a line.
//! Pages follow the stream from its start; the end is read backwards from
//! the stream's end (`startFromHead=false`).

use aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput;
use aws_sdk_cloudwatchlogs::types::OutputLogEvent;
use modelrun_core::executor::{ExecutorError, JobReport, LogPage, LogTail};
use modelrun_core::log_text;
use modelrun_core::run::Run;
use modelrun_core::status::RunStatus;

use super::{BatchExecutor, to_executor};
use crate::aws::AwsFailure;

/// Most log events returned in one page.
const LOG_PAGE_EVENTS: i32 = 1000;

/// A page of the log from `cursor` (a forward token; the start when `None`).
pub(super) async fn page(
    executor: &BatchExecutor,
    run: &Run,
    cursor: Option<&str>,
) -> Result<LogPage, ExecutorError> {
    let Some(page) = events(executor, run, true, cursor).await? else {
        return Ok(LogPage::default());
    };
    let events = page.events();
    Ok(LogPage {
        text: lines(events),
        next: page.next_forward_token().map(str::to_owned),
        truncated: events.len() >= LOG_PAGE_EVENTS as usize,
    })
}

/// The last events of the log, at most `max_bytes` of them from a line's start.
pub(super) async fn tail(
    executor: &BatchExecutor,
    run: &Run,
    max_bytes: usize,
) -> Result<LogTail, ExecutorError> {
    let Some(page) = events(executor, run, false, None).await? else {
        return Ok(LogTail::default());
    };
    let events = page.events();
    let text = lines(events);
    let from = line_start_within(&text, max_bytes);
    Ok(LogTail {
        text: text[from..].to_owned(),
        earlier: from > 0 || events.len() >= LOG_PAGE_EVENTS as usize,
    })
}

/// Where the last `max_bytes` of `text` begin, moved on to a line's start.
/// How much of a failed job's log end is read for its reason.
const REASON_WINDOW: usize = 16 * 1024;

/// A failed job's report with the last lines its model printed: only for
/// a model that exited with a code other than 0 (a job Batch stopped, or
/// one that never started, has no output worth quoting). A log that cannot
/// be read leaves the report as it is.
pub(super) async fn explain_failure(
    executor: &BatchExecutor,
    run: &Run,
    mut report: JobReport,
) -> JobReport {
    let exited = report.exit_code.is_some_and(|code| code != 0);
    if report.status != RunStatus::Failed || !exited {
        return report;
    }
    let mut with_stream = run.clone();
    with_stream.log_stream = report.log_stream.clone().or(with_stream.log_stream);
    match tail(executor, &with_stream, REASON_WINDOW).await {
        Ok(tail) => {
            let end = report.reason.take().unwrap_or_default();
            report.reason = Some(log_text::failure_reason(&end, &tail.text));
        }
        Err(error) => {
            tracing::warn!(run_id = %run.id, %error, "could not read the end of the job's log");
        }
    }
    report
}

fn line_start_within(text: &str, max_bytes: usize) -> usize {
    match text.len().saturating_sub(max_bytes) {
        0 => 0,
        from => text.as_bytes()[from..]
            .iter()
            .position(|&byte| byte == b'\n')
            .map_or(text.len(), |newline| from + newline + 1),
    }
}

/// One page of the run's log events, oldest first: from the stream's start
/// (`from_head`) or its end, at `cursor`. `None` before the container has
/// started and made its stream.
async fn events(
    executor: &BatchExecutor,
    run: &Run,
    from_head: bool,
    cursor: Option<&str>,
) -> Result<Option<GetLogEventsOutput>, ExecutorError> {
    let Some(stream) = &run.log_stream else {
        return Ok(None);
    };
    let page = executor
        .logs
        .get_log_events()
        .log_group_name(&executor.config.log_group)
        .log_stream_name(stream)
        .start_from_head(from_head)
        .limit(LOG_PAGE_EVENTS)
        .set_next_token(cursor.map(str::to_owned))
        .send()
        .await;
    match page {
        Ok(page) => Ok(Some(page)),
        // The stream appears when the container starts.
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(error) => Err(to_executor(AwsFailure::new(
            "CloudWatch Logs GetLogEvents",
            error,
        ))),
    }
}

/// Log events as text, a line each.
fn lines(events: &[OutputLogEvent]) -> String {
    let mut text = String::new();
    for event in events {
        text.push_str(event.message().unwrap_or_default());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::line_start_within;

    #[test]
    fn the_end_starts_at_a_line() {
        let text = "one\ntwo\nthree\n";
        assert_eq!(&text[line_start_within(text, 8)..], "three\n");
        assert_eq!(&text[line_start_within(text, 100)..], text);
        assert_eq!(line_start_within("é\n", 1), "é\n".len());
    }
}
