//! What a run is likely to take before it is submitted: its version's
//! duration statistics (median and 90th percentile of its latest succeeded
//! runs) and, on AWS Batch, a cost from the run's resources × that duration
//! × a price per vCPU-hour and per GiB-hour. After the run, its actual
//! duration and cost ([`actual_cost`]) are set beside the estimate.
//!
//! Prices are approximations: AWS bills Fargate per second with a one-minute
//! minimum and per GB of memory, and EC2 per instance, not per vCPU and GiB.
//! The defaults ([`Prices::default_for`]) carry the region and the date they
//! were read; the configuration may replace them. The local executor has no
//! price: its runs show durations only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::BatchPlatform;
use crate::manifest::Resources;

/// How many of a version's latest succeeded runs the statistics read.
pub const HISTORY_RUNS: u32 = 200;

/// The most runs one estimate may count (a sweep's size).
pub const MAX_COUNT: u32 = 10_000;

/// Prices of compute on one AWS Batch platform, in US dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    /// `FARGATE` or `EC2`.
    pub platform: String,
    /// Dollars per vCPU-hour.
    pub vcpu_hour: f64,
    /// Dollars per GiB-hour of memory.
    pub gib_hour: f64,
    /// The AWS region the prices are for (`us-east-1`).
    pub region: String,
    /// Where the prices come from: AWS's price page, or `configuration`.
    pub source: String,
    /// When they were read (`2025-01-15`), as written by whoever set them.
    pub as_of: String,
}

/// AWS Fargate's on-demand Linux/x86 prices in us-east-1, from
/// <https://aws.amazon.com/fargate/pricing/> (read 2025-01-15): $0.04048 per
/// vCPU-hour and $0.004445 per GB-hour (billed per GB; taken here per GiB).
pub const FARGATE_VCPU_HOUR: f64 = 0.040_48;
/// See [`FARGATE_VCPU_HOUR`].
pub const FARGATE_GIB_HOUR: f64 = 0.004_445;
/// An on-demand EC2 price split into vCPU and memory, from the m5 family in
/// us-east-1 on <https://aws.amazon.com/ec2/pricing/on-demand/> (read
/// 2025-01-15: m5.large, 2 vCPU and 8 GiB, $0.096 an hour), with Fargate's
/// ratio of vCPU to memory price: $0.0340 per vCPU-hour and $0.0035 per
/// GiB-hour. An approximation: EC2 bills whole instances, whatever a job uses.
pub const EC2_VCPU_HOUR: f64 = 0.034;
/// See [`EC2_VCPU_HOUR`].
pub const EC2_GIB_HOUR: f64 = 0.0035;
/// The region of the default prices.
pub const DEFAULT_REGION: &str = "us-east-1";
/// When the default prices were read.
pub const DEFAULT_AS_OF: &str = "2025-01-15";

impl Prices {
    /// The default prices of `platform` (see [`FARGATE_VCPU_HOUR`],
    /// [`EC2_VCPU_HOUR`]).
    pub fn default_for(platform: BatchPlatform) -> Prices {
        let (vcpu_hour, gib_hour, source) = match platform {
            BatchPlatform::Fargate => (
                FARGATE_VCPU_HOUR,
                FARGATE_GIB_HOUR,
                "https://aws.amazon.com/fargate/pricing/",
            ),
            BatchPlatform::Ec2 => (
                EC2_VCPU_HOUR,
                EC2_GIB_HOUR,
                "https://aws.amazon.com/ec2/pricing/on-demand/ (m5 family, approximated per vCPU and GiB)",
            ),
        };
        Prices {
            platform: platform.as_str().to_owned(),
            vcpu_hour,
            gib_hour,
            region: DEFAULT_REGION.to_owned(),
            source: source.to_owned(),
            as_of: DEFAULT_AS_OF.to_owned(),
        }
    }

    /// Dollars for one run with `resources` for `seconds`.
    pub fn cost(&self, resources: &Resources, seconds: f64) -> f64 {
        let gib = resources.memory_mib as f64 / 1024.0;
        let per_hour = resources.vcpu * self.vcpu_hour + gib * self.gib_hour;
        per_hour * seconds.max(0.0) / 3600.0
    }
}

/// What an installation's runs cost and when its budget months start.
#[derive(Debug, Clone, PartialEq)]
pub struct CostSettings {
    /// The prices of the executor's platform; `None` on the local executor,
    /// whose runs have no cost.
    pub prices: Option<Prices>,
    /// Where budget months start (`--time-zone`); UTC by default.
    pub time_zone: chrono_tz::Tz,
}

impl Default for CostSettings {
    fn default() -> Self {
        CostSettings {
            prices: None,
            time_zone: chrono_tz::UTC,
        }
    }
}

/// The value at rank ⌈p/100 × n⌉ (from 1) of the sorted values: the
/// nearest-rank percentile, always one of the values. `None` when empty.
pub fn nearest_rank(sorted: &[i64], percent: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(percent.clamp(1, 100)) * n).div_ceil(100).max(1);
    sorted.get(rank as usize - 1).copied()
}

/// Durations of a version's succeeded runs, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationStats {
    /// How many runs they come from (at most [`HISTORY_RUNS`]).
    pub runs: u32,
    /// Nearest-rank median.
    pub median_seconds: i64,
    /// Nearest-rank 90th percentile.
    pub p90_seconds: i64,
}

impl DurationStats {
    /// From run times in seconds, in any order. `None` when there are none:
    /// "no history yet".
    pub fn of(mut seconds: Vec<i64>) -> Option<DurationStats> {
        seconds.sort_unstable();
        Some(DurationStats {
            runs: u32::try_from(seconds.len()).unwrap_or(u32::MAX),
            median_seconds: nearest_rank(&seconds, 50)?,
            p90_seconds: nearest_rank(&seconds, 90)?,
        })
    }
}

/// The cost part of an [`Estimate`], in US dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostEstimate {
    /// One run of median duration.
    pub median_per_run: f64,
    /// One run of 90th-percentile duration.
    pub p90_per_run: f64,
    /// `count` runs of median duration.
    pub median_total: f64,
    /// `count` runs of 90th-percentile duration.
    pub p90_total: f64,
}

/// What `count` runs of a version with some resources are likely to take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Runs the estimate is for: 1, or a sweep's size. Totals are
    /// `count` × the per-run figures.
    pub count: u32,
    pub resources: Resources,
    /// `None`: the version has no succeeded run yet.
    pub history: Option<DurationStats>,
    /// The prices used; `None` where runs have no price (the local executor).
    pub prices: Option<Prices>,
    /// `None` without history or without prices.
    pub cost: Option<CostEstimate>,
}

impl Estimate {
    /// The estimate of `count` runs with `resources`, given the version's
    /// history and the platform's prices (if any).
    pub fn new(
        resources: Resources,
        count: u32,
        history: Option<DurationStats>,
        prices: Option<Prices>,
    ) -> Estimate {
        let cost = match (&history, &prices) {
            (Some(stats), Some(prices)) => {
                let median = prices.cost(&resources, stats.median_seconds as f64);
                let p90 = prices.cost(&resources, stats.p90_seconds as f64);
                Some(CostEstimate {
                    median_per_run: median,
                    p90_per_run: p90,
                    median_total: median * f64::from(count),
                    p90_total: p90 * f64::from(count),
                })
            }
            _ => None,
        };
        Estimate {
            count,
            resources,
            history,
            prices,
            cost,
        }
    }

    /// The cost a budget counts for this submission: the median total.
    pub fn expected_cost(&self) -> f64 {
        self.cost.as_ref().map_or(0.0, |cost| cost.median_total)
    }
}

/// A run's cost from its resources and the time it ran, at the prices
/// recorded with its estimate: `None` when it has no price or has not
/// started. A run still running costs up to `now`.
pub fn actual_cost(
    resources: &Resources,
    prices: Option<&Prices>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<f64> {
    let prices = prices?;
    let seconds = (finished_at.unwrap_or(now) - started_at?).num_milliseconds() as f64 / 1000.0;
    Some(prices.cost(resources, seconds))
}

/// `$0.0042`, `$1.25`, `$1,234.50`: dollars with cents, and small amounts
/// with two significant digits so that a cheap run does not read `$0.00`.
pub fn dollars(amount: f64) -> String {
    if amount > 0.0 && amount < 0.01 {
        let digits = (-amount.log10().floor()) as usize + 1;
        return format!("${amount:.digits$}");
    }
    let cents = (amount * 100.0).round() as i64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("${grouped}.{:02}", cents % 100)
}

/// `under 1 s`, `42 s`, `3 min 5 s`, `2 h 10 min` (durations are kept in
/// whole seconds, so a run of 0.4 s reads as under a second, not 0 s).
pub fn duration_text(seconds: i64) -> String {
    match seconds {
        s if s < 1 => "under 1 s".to_owned(),
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => match s % 60 {
            0 => format!("{} min", s / 60),
            rest => format!("{} min {rest} s", s / 60),
        },
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// "about 42 s": a median as written by [`duration_text`] or [`dollars`].
/// "under 1 s" stands without "about" ("about under 1 s" reads wrong).
pub fn about_text(median: &str) -> String {
    if median.starts_with("under ") {
        median.to_owned()
    } else {
        format!("about {median}")
    }
}

/// "about 42 s, up to 3 min": a median and a 90th percentile as written
/// by [`duration_text`] or [`dollars`], for pages and the command line. A
/// 90th percentile that reads as the median is left out ("under 1 s", not
/// "under 1 s, up to under 1 s"); the median reads as [`about_text`] says.
pub fn range_text(median: &str, p90: &str) -> String {
    let about = about_text(median);
    if p90 == median {
        about
    } else {
        format!("{about}, up to {p90}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_says_under_and_up_to_only_where_they_fit() {
        assert_eq!(range_text("under 1 s", "under 1 s"), "under 1 s");
        assert_eq!(range_text("under 1 s", "3 s"), "under 1 s, up to 3 s");
        assert_eq!(range_text("42 s", "42 s"), "about 42 s");
        assert_eq!(
            range_text("42 s", "3 min 5 s"),
            "about 42 s, up to 3 min 5 s"
        );
        assert_eq!(range_text("$0.0042", "$0.0042"), "about $0.0042");
        assert_eq!(range_text("$0.0042", "$0.01"), "about $0.0042, up to $0.01");
    }

    fn resources(vcpu: f64, memory_mib: i64) -> Resources {
        Resources {
            vcpu,
            memory_mib,
            timeout_seconds: 3600,
        }
    }

    #[test]
    fn nearest_rank_takes_the_value_at_the_ceiling_rank() {
        let values: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&values, 50), Some(5));
        assert_eq!(nearest_rank(&values, 90), Some(9));
        assert_eq!(nearest_rank(&values, 100), Some(10));
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        assert_eq!(nearest_rank(&[1, 2, 3], 50), Some(2));
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(nearest_rank(&[], 50), None);
    }

    #[test]
    fn statistics_sort_their_input_and_say_no_history_when_empty() {
        let stats = DurationStats::of(vec![30, 10, 20, 100, 40]).expect("stats");
        assert_eq!(stats.runs, 5);
        assert_eq!(stats.median_seconds, 30);
        assert_eq!(stats.p90_seconds, 100);
        assert_eq!(DurationStats::of(Vec::new()), None);
    }

    #[test]
    fn fargate_cost_is_vcpu_and_memory_hours_at_the_default_prices() {
        let prices = Prices::default_for(BatchPlatform::Fargate);
        let cost = prices.cost(&resources(1.0, 2048), 3600.0);
        assert!((cost - (0.04048 + 2.0 * 0.004445)).abs() < 1e-12);
        let half = prices.cost(&resources(0.5, 1024), 1800.0);
        assert!((half - (0.5 * 0.04048 + 0.004445) / 2.0).abs() < 1e-12);
        assert_eq!(prices.region, "us-east-1");
        assert_eq!(prices.platform, "FARGATE");
        assert_eq!(
            Prices::default_for(BatchPlatform::Ec2).vcpu_hour,
            EC2_VCPU_HOUR
        );
    }

    #[test]
    fn an_estimate_multiplies_by_its_count_and_needs_history_and_prices() {
        let stats = DurationStats::of(vec![3600, 7200]);
        let prices = Some(Prices::default_for(BatchPlatform::Fargate));
        let one = Estimate::new(resources(1.0, 1024), 1, stats, prices.clone());
        let ten = Estimate::new(resources(1.0, 1024), 10, stats, prices.clone());
        let one_cost = one.cost.expect("cost");
        let ten_cost = ten.cost.expect("cost");
        assert!((ten_cost.median_total - 10.0 * one_cost.median_per_run).abs() < 1e-12);
        assert!((ten_cost.p90_total - 10.0 * one_cost.p90_per_run).abs() < 1e-12);
        assert!(one_cost.p90_per_run > one_cost.median_per_run);
        assert_eq!(
            Estimate::new(resources(1.0, 1024), 1, None, prices).cost,
            None
        );
        assert_eq!(
            Estimate::new(resources(1.0, 1024), 1, stats, None).cost,
            None
        );
    }

    #[test]
    fn actual_cost_runs_from_start_to_end_or_now() {
        let prices = Prices::default_for(BatchPlatform::Fargate);
        let start = DateTime::from_timestamp(0, 0).expect("time");
        let end = DateTime::from_timestamp(3600, 0).expect("time");
        let r = resources(2.0, 4096);
        let ended = actual_cost(&r, Some(&prices), Some(start), Some(end), end);
        assert!((ended.expect("cost") - prices.cost(&r, 3600.0)).abs() < 1e-12);
        let running = actual_cost(&r, Some(&prices), Some(start), None, end);
        assert_eq!(running, ended);
        assert_eq!(actual_cost(&r, None, Some(start), Some(end), end), None);
        assert_eq!(actual_cost(&r, Some(&prices), None, None, end), None);
    }

    #[test]
    fn dollars_and_durations_read_for_a_person() {
        assert_eq!(dollars(1234.5), "$1,234.50");
        assert_eq!(dollars(0.0), "$0.00");
        assert_eq!(dollars(0.0042), "$0.0042");
        assert_eq!(dollars(12.0), "$12.00");
        assert_eq!(duration_text(42), "42 s");
        assert_eq!(duration_text(0), "under 1 s");
        assert_eq!(duration_text(185), "3 min 5 s");
        assert_eq!(duration_text(120), "2 min");
        assert_eq!(duration_text(7800), "2 h 10 min");
    }
}
