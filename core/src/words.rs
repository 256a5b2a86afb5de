//! Counts as people write them in messages: "1 minute", "2 minutes".

/// `n` and `unit`, the unit in the plural unless `n` is exactly 1
/// (English: "0 minutes", "1 minute", "2 minutes"). `unit` is a singular
/// noun whose plural adds "s".
pub fn count(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1, "minute"), "1 minute");
        assert_eq!(count(0, "minute"), "0 minutes");
        assert_eq!(count(2, "minute"), "2 minutes");
        assert_eq!(count(-1, "day"), "-1 days");
    }
}
