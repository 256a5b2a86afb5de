//! What the form says to expect before a run is submitted, and what the run
//! page says it took next to that: an [`Estimate`] in words, for the
//! `_estimate.html` and `_run_cost.html` templates.

use modelrun_core::estimate::{Estimate, dollars, duration_text};

use crate::costs::RunCost;

/// An estimate as a page shows it.
#[derive(Debug, Clone)]
pub struct EstimateView {
    /// "3 min 5 s", or `None`: no history yet.
    pub median: Option<String>,
    pub p90: Option<String>,
    /// How many succeeded runs the figures come from.
    pub runs: u32,
    /// "$0.0042" for one run of median and 90th-percentile duration.
    pub cost_median: Option<String>,
    pub cost_p90: Option<String>,
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
        EstimateView {
            median: history.map(|h| duration_text(h.median_seconds)),
            p90: history.map(|h| duration_text(h.p90_seconds)),
            runs: history.map_or(0, |h| h.runs),
            cost_median: per_run.map(|c| dollars(c.median_per_run)),
            cost_p90: per_run.map(|c| dollars(c.p90_per_run)),
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

/// A run's actual duration and cost, with what was expected.
#[derive(Debug, Clone)]
pub struct RunCostView {
    pub expected: Option<EstimateView>,
    /// "4 min 2 s", or `None` before it starts.
    pub actual: Option<String>,
    /// "$0.0051", or `None` without a price.
    pub actual_cost: Option<String>,
}

impl RunCostView {
    pub fn new(cost: &RunCost) -> Self {
        RunCostView {
            expected: cost
                .estimate
                .as_ref()
                .map(|e| EstimateView::new(e, Vec::new())),
            actual: cost.actual_seconds.map(duration_text),
            actual_cost: cost.actual_cost_usd.map(dollars),
        }
    }

    /// Whether the run has a price: its cost or its estimate's.
    pub fn priced(&self) -> bool {
        self.actual_cost.is_some() || self.expected.as_ref().is_some_and(EstimateView::priced)
    }
}
