//! What the form says to expect before a run is submitted, and what the run
//! page says it took next to that: an [`Estimate`] in words, for the
//! `_estimate.html` and `_run_cost.html` templates.

use modelrun_core::estimate::{Estimate, about_text, dollars, duration_text, range_text};

use crate::costs::RunCost;

/// An estimate as a page shows it.
#[derive(Debug, Clone)]
pub struct EstimateView {
    /// The form's sentence: "About 3 min 5 s (median), up to 4 min (90th
    /// percentile), from the latest 5 succeeded runs of this version.", or
    /// `None`: no history yet.
    pub duration: Option<String>,
    /// The run page's words after "expected": "about 3 min 5 s, up to
    /// 4 min", "under 1 s"; `None`: no history when submitted.
    pub duration_range: Option<String>,
    /// Whether the median and the 90th percentile are the same duration,
    /// so that "up to" would only repeat the median, whatever it costs.
    pub one_duration: bool,
    /// "$0.0042" for one run of median and 90th-percentile duration.
    pub cost_median: Option<String>,
    pub cost_p90: Option<String>,
    /// The run page's words after "expected": "about $0.0042, up to
    /// $0.0051", or "about $0.0042" when both are the same.
    pub cost_range: Option<String>,
    /// Where the prices come from, with their date; `None` without prices.
    pub prices_note: Option<String>,
    /// For the form's script, which prices other resources as they change.
    pub median_seconds: i64,
    pub p90_seconds: i64,
    pub vcpu_hour: f64,
    pub gib_hour: f64,
    /// A sentence for each budget the submission would cross.
    pub warnings: Vec<String>,
    /// Each budget that covers the person, for the form's script to warn
    /// when a sweep of many runs would cross one that a single run does not.
    pub budgets: Vec<BudgetLeft>,
}

/// A budget as the form's script reads it.
#[derive(Debug, Clone)]
pub struct BudgetLeft {
    /// "the team's monthly budget of $250.00"
    pub name: String,
    /// "$12.50" spent this month.
    pub spent: String,
    /// Dollars left this month before the limit (negative past it).
    pub left: f64,
}

impl EstimateView {
    pub fn new(estimate: &Estimate, warnings: Vec<String>) -> Self {
        let history = estimate.history.as_ref();
        let per_run = estimate.cost.as_ref();
        let prices = estimate.prices.as_ref();
        let cost_median = per_run.map(|c| dollars(c.median_per_run));
        let cost_p90 = per_run.map(|c| dollars(c.p90_per_run));
        EstimateView {
            duration: history.map(|h| {
                duration_sentence(
                    &duration_text(h.median_seconds),
                    &duration_text(h.p90_seconds),
                    h.runs,
                )
            }),
            duration_range: history.map(|h| {
                range_text(
                    &duration_text(h.median_seconds),
                    &duration_text(h.p90_seconds),
                )
            }),
            one_duration: history.is_some_and(|h| h.median_seconds == h.p90_seconds),
            cost_range: cost_median
                .as_deref()
                .zip(cost_p90.as_deref())
                .map(|(median, p90)| range_text(median, p90)),
            cost_median,
            cost_p90,
            prices_note: prices.map(|p| {
                format!(
                    "{} per vCPU-hour and {} per GiB-hour on {} in {}, from {} (read {}); \
                     an approximation of what AWS bills.",
                    dollars(p.vcpu_hour),
                    dollars(p.gib_hour),
                    p.platform,
                    p.region,
                    p.source,
                    p.as_of
                )
            }),
            median_seconds: history.map_or(0, |h| h.median_seconds),
            p90_seconds: history.map_or(0, |h| h.p90_seconds),
            vcpu_hour: prices.map_or(0.0, |p| p.vcpu_hour),
            gib_hour: prices.map_or(0.0, |p| p.gib_hour),
            warnings,
            budgets: Vec::new(),
        }
    }

    /// With the budgets that cover the submitter ([`BudgetLeft`]).
    pub fn with_budgets(mut self, statuses: &[modelrun_core::budget::BudgetStatus]) -> Self {
        use modelrun_core::budget::BudgetScope;
        self.budgets = statuses
            .iter()
            .map(|status| {
                let whose = match status.scope {
                    BudgetScope::Installation => "the team's monthly budget",
                    BudgetScope::User(_) => "your monthly budget",
                };
                BudgetLeft {
                    name: format!("{whose} of {}", dollars(status.monthly_usd)),
                    spent: dollars(status.spent_usd),
                    left: status.monthly_usd - status.spent_usd,
                }
            })
            .collect();
        self
    }

    /// Whether runs here have a price at all.
    pub fn priced(&self) -> bool {
        self.prices_note.is_some()
    }
}

/// The form's sentence for durations `median` and `p90` (as
/// [`duration_text`] writes them) learnt from `runs` succeeded runs.
fn duration_sentence(median: &str, p90: &str, runs: u32) -> String {
    let from = if runs == 1 {
        "from the one succeeded run of this version".to_owned()
    } else {
        format!("from the latest {runs} succeeded runs of this version")
    };
    let about = about_text(median);
    let about = about[..1].to_uppercase() + &about[1..];
    if p90 == median {
        format!("{about}, {from}.")
    } else {
        format!("{about} (median), up to {p90} (90th percentile), {from}.")
    }
}

/// A run's actual duration and cost, with what was expected.
#[derive(Debug, Clone)]
pub struct RunCostView {
    pub expected: Option<EstimateView>,
    /// "4 min 2 s", "1.2 s" (as the run page's summary writes it), or
    /// `None` before it starts.
    pub actual: Option<String>,
    /// "$0.0051", or `None` without a price.
    pub actual_cost: Option<String>,
}

impl RunCostView {
    /// `cost` as the run page shows it; `duration` is the run's duration as
    /// its summary writes it, so that both places read the same.
    pub fn new(cost: &RunCost, duration: Option<String>) -> Self {
        RunCostView {
            expected: cost
                .estimate
                .as_ref()
                .map(|e| EstimateView::new(e, Vec::new())),
            actual: duration,
            actual_cost: cost.actual_cost_usd.map(dollars),
        }
    }

    /// Whether the run has a price: its cost or its estimate's.
    pub fn priced(&self) -> bool {
        self.actual_cost.is_some() || self.expected.as_ref().is_some_and(EstimateView::priced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_sentence_reads_naturally_for_each_history() {
        assert_eq!(
            duration_sentence("under 1 s", "under 1 s", 1),
            "Under 1 s, from the one succeeded run of this version."
        );
        assert_eq!(
            duration_sentence("under 1 s", "2 s", 4),
            "Under 1 s (median), up to 2 s (90th percentile), from the latest 4 succeeded \
             runs of this version."
        );
        assert_eq!(
            duration_sentence("42 s", "42 s", 3),
            "About 42 s, from the latest 3 succeeded runs of this version."
        );
        assert_eq!(
            duration_sentence("42 s", "1 min", 20),
            "About 42 s (median), up to 1 min (90th percentile), from the latest 20 \
             succeeded runs of this version."
        );
    }
}
