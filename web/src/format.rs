//! How numbers, sizes, times and durations read on a page.

use chrono::{DateTime, Utc};

/// "3.4 MB", "812 B".
pub fn bytes(size: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = size.max(0) as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{size} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// "4 s", "2 min 5 s", "3 h 12 min".
pub fn duration(span: chrono::Duration) -> String {
    let seconds = span.num_seconds().max(0);
    match seconds {
        0..60 => {
            let millis = span.num_milliseconds().max(0);
            if millis < 10_000 {
                format!("{:.1} s", millis as f64 / 1000.0)
            } else {
                format!("{seconds} s")
            }
        }
        60..3600 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// "2027-01-05 14:03 UTC".
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "just now", "5 minutes ago", "3 days ago".
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds();
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match seconds {
        ..60 => "just now".to_owned(),
        60..3600 => plural(seconds / 60, "minute"),
        3600..86_400 => plural(seconds / 3600, "hour"),
        _ => plural(seconds / 86_400, "day"),
    }
}

/// A JSON value as a person reads it: text without quotes.
pub fn value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A key figure: thousands separated, at most four decimals.
pub fn figure(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return group(&format!("{}", value as i64));
    }
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text.split_once('.') {
        Some((whole, fraction)) => format!("{}.{fraction}", group(whole)),
        None => group(text),
    }
}

fn group(whole: &str) -> String {
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_a_person_writes() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(3_400_000), "3.4 MB");
        assert_eq!(duration(chrono::Duration::milliseconds(1234)), "1.2 s");
        assert_eq!(duration(chrono::Duration::seconds(125)), "2 min 5 s");
        assert_eq!(duration(chrono::Duration::seconds(11_520)), "3 h 12 min");
        assert_eq!(figure(1_704_285.06), "1,704,285.06");
        assert_eq!(figure(0.263773), "0.2638");
        assert_eq!(figure(-12000.0), "-12,000");
        assert_eq!(figure(24.0), "24");
        let now = Utc::now();
        assert_eq!(ago(now - chrono::Duration::seconds(30), now), "just now");
        assert_eq!(ago(now - chrono::Duration::minutes(1), now), "1 minute ago");
        assert_eq!(ago(now - chrono::Duration::hours(5), now), "5 hours ago");
    }
}
