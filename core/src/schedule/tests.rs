use chrono::{DateTime, TimeZone, Utc};

use super::*;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("time")
        .with_timezone(&Utc)
}

#[test]
fn the_first_weekday_of_the_month_is_1w() {
    let rule = CronRule::parse("0 6 1W * *", "Europe/Berlin").expect("rule");
    let times = rule.upcoming(utc("2026-07-15T00:00:00Z"), 4);
    assert_eq!(
        times,
        vec![
            // 1 August 2026 is a Saturday: Monday the 3rd, 06:00 CEST.
            utc("2026-08-03T04:00:00Z"),
            // 1 September is a Tuesday.
            utc("2026-09-01T04:00:00Z"),
            // 1 October is a Thursday.
            utc("2026-10-01T04:00:00Z"),
            // 1 November is a Sunday: Monday the 2nd, 06:00 CET.
            utc("2026-11-02T05:00:00Z"),
        ]
    );
}

#[test]
fn spring_forward_fires_a_missing_time_just_after_the_gap() {
    // On 29 March 2026 Berlin's clocks go from 02:00 to 03:00.
    let rule = CronRule::parse("30 2 * * *", "Europe/Berlin").expect("rule");
    let times = rule.upcoming(utc("2026-03-28T12:00:00Z"), 2);
    assert_eq!(
        times,
        vec![utc("2026-03-29T01:00:00Z"), utc("2026-03-30T00:30:00Z")]
    );
}

#[test]
fn fall_back_fires_a_doubled_time_once() {
    // On 25 October 2026 Berlin's clocks go from 03:00 back to 02:00.
    let rule = CronRule::parse("30 2 * * *", "Europe/Berlin").expect("rule");
    let times = rule.upcoming(utc("2026-10-24T12:00:00Z"), 2);
    assert_eq!(
        times,
        vec![utc("2026-10-25T00:30:00Z"), utc("2026-10-26T01:30:00Z")]
    );
}

#[test]
fn after_downtime_only_the_latest_missed_slot_fires() {
    let rule = CronRule::parse("0 * * * *", "UTC").expect("rule");
    let next = utc("2026-05-01T06:00:00Z");
    assert_eq!(rule.due(next, utc("2026-05-01T05:59:59Z")), None);
    let due = rule.due(next, utc("2026-05-01T09:30:00Z")).expect("due");
    assert_eq!(due.fire_at, utc("2026-05-01T09:00:00Z"));
    assert_eq!(due.missed, 3);
    assert_eq!(due.next, Some(utc("2026-05-01T10:00:00Z")));
    let on_time = rule.due(next, utc("2026-05-01T06:00:20Z")).expect("due");
    assert_eq!((on_time.fire_at, on_time.missed), (next, 0));
}

#[test]
fn long_downtime_of_a_minutely_rule_still_fires_the_latest_slot() {
    let rule = CronRule::parse("* * * * *", "UTC").expect("rule");
    let next = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("t");
    let now = utc("2026-03-01T12:34:56Z");
    let due = rule.due(next, now).expect("due");
    assert_eq!(due.fire_at, utc("2026-03-01T12:34:00Z"));
    assert_eq!(due.next, Some(utc("2026-03-01T12:35:00Z")));
}

#[test]
fn errors_name_the_field() {
    let fields = |errors: Vec<FieldError>| -> Vec<&'static str> {
        errors.iter().map(|error| error.field).collect()
    };
    let errors = CronRule::parse("every day", "UTC").expect_err("bad cron");
    assert_eq!(fields(errors), ["cron"]);
    let errors = CronRule::parse("0 6 * * * *", "UTC").expect_err("seconds");
    assert_eq!(fields(errors), ["cron"]);
    let errors = CronRule::parse("0 6 * * *", "Mars/Olympus").expect_err("zone");
    assert!(errors[0].message.contains("Europe/Berlin"), "{errors:?}");
    assert_eq!(fields(errors), ["time_zone"]);
    let errors = CronRule::parse(" ", "UTC").expect_err("empty");
    assert_eq!(fields(errors), ["cron"]);
    let errors = CronRule::parse("every day", "Mars/Olympus").expect_err("both");
    assert_eq!(fields(errors), ["cron", "time_zone"], "both at once");
    assert_eq!(check_name("  ").expect_err("empty").field, "name");
    assert_eq!(
        check_name("Daily forecast ").expect("name"),
        "Daily forecast"
    );
}

#[test]
fn fire_times_are_whole_minutes_whatever_the_instant_asked_from() {
    let rule = CronRule::parse("*/15 * * * *", "UTC").expect("rule");
    let from = utc("2026-11-30T19:38:00.835909922Z");
    assert_eq!(rule.next_after(from), Some(utc("2026-11-30T19:45:00Z")));
    assert_eq!(
        rule.upcoming(from, 2),
        vec![utc("2026-11-30T19:45:00Z"), utc("2026-11-30T20:00:00Z")]
    );
    let due = rule
        .due(utc("2026-11-30T19:45:00Z"), utc("2026-11-30T20:07:30.258Z"))
        .expect("due");
    assert_eq!(due.fire_at, utc("2026-11-30T20:00:00Z"));
    assert_eq!(due.next, Some(utc("2026-11-30T20:15:00Z")));
    // A slot asked for within its own minute is the next one, not itself.
    let at_slot = utc("2026-11-30T19:45:00.5Z");
    assert_eq!(rule.next_after(at_slot), Some(utc("2026-11-30T20:00:00Z")));
}
