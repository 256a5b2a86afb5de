//! A manifest's `[outputs]`: the charts and key figures a model declares,
//! so that its run page shows what its author meant rather than what a
//! guess finds. Part of a version, like its input schema: stored with it as
//! JSON and read by the run, compare and sweep pages.
//!
//! ```toml
//! [[outputs.charts]]
//! file = "history.csv"                    # an output file
//! x = "month"                             # its x column (every file's)
//! title = "Revenue"
//! units = "EUR"                           # the y axis
//! series = [
//!   { column = "revenue", label = "Actual" },
//!   { file = "forecast.csv", column = "forecast", label = "Forecast" },  # dashed
//! ]
//! band = { file = "forecast.csv", low = "low", high = "high" }
//!
//! [outputs.metrics.cagr]                  # shown in declaration order
//! label = "Annual growth"
//! format = "percent"                      # percent, currency, integer, decimals
//! ```

use serde::{Deserialize, Serialize};

/// The most charts a version may declare.
pub const MAX_CHARTS: usize = 8;
/// The most lines one chart may draw (its colours are distinct up to here).
pub const MAX_SERIES: usize = 8;
/// The most files one chart may take its lines and band from.
pub const MAX_CHART_FILES: usize = 4;
/// The most key figures a version may declare.
pub const MAX_METRICS: usize = 50;
/// The longest column name, metric name or title, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest label of a line or figure, in characters.
pub const MAX_LABEL_CHARS: usize = 100;
/// The longest unit of a y axis, in characters.
pub const MAX_UNITS_CHARS: usize = 40;
/// The longest currency symbol, in characters (`€`, `$`, `CHF`).
pub const MAX_SYMBOL_CHARS: usize = 8;
/// The most decimal places a format may ask for.
pub const MAX_PLACES: u8 = 10;

/// What a version declares about its outputs; empty (the default) for a
/// version whose manifest has no `[outputs]`, whose pages then guess.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outputs {
    /// Charts, in the order the run page shows them.
    #[serde(default)]
    pub charts: Vec<ChartDecl>,
    /// Key figures of `metrics.json`, in the order pages show them.
    #[serde(default)]
    pub metrics: Vec<MetricDecl>,
}

/// One declared chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartDecl {
    /// The output file whose rows the chart draws, and the one every line
    /// and the band come from unless they name another.
    pub file: String,
    /// The x column, the same name in every file the chart reads.
    pub x: String,
    pub series: Vec<SeriesDecl>,
    pub band: Option<BandDecl>,
    pub title: Option<String>,
    /// What the y axis counts (`EUR`, `units`).
    pub units: Option<String>,
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesDecl {
    /// Its file: the chart's own unless the entry names another.
    pub file: String,
    pub column: String,
    /// The legend's text; the column's name when none.
    pub label: Option<String>,
    /// Drawn dashed: a line from another file than the chart's (a
    /// forecast beside its history) unless the entry says otherwise.
    pub dashed: bool,
}

/// A shaded low–high range, around the first line of its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandDecl {
    pub file: String,
    pub low: String,
    pub high: String,
}

/// How one key figure is named and written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDecl {
    /// Its key in `metrics.json`.
    pub name: String,
    pub label: Option<String>,
    pub format: MetricFormat,
}

/// How a key figure's number is written, in the person's number style.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum MetricFormat {
    /// Rounded sensibly: four significant digits but never fewer than two
    /// decimals, trailing zeros dropped, thousands grouped ("0.2638",
    /// "-1,234.5"); scientific from 1e15 on and below 1e-6. Every format
    /// writes 1e15 and more in scientific notation.
    Number,
    /// A fraction as a percentage: 0.0712 is "7.1%" (`places`: 1).
    Percent { places: u8 },
    /// An amount with its symbol: "€1,234.50" (`places`: 2).
    Currency { symbol: String, places: u8 },
    /// Rounded to a whole number.
    Integer,
    /// Exactly `places` decimals.
    Decimals { places: u8 },
}

impl Outputs {
    /// The declaration of key figure `name`, if there is one.
    pub fn metric(&self, name: &str) -> Option<&MetricDecl> {
        self.metrics.iter().find(|metric| metric.name == name)
    }

    /// What a page calls key figure `name`: its declared label, else its
    /// name with spaces for underscores (`final_month` reads "final month").
    pub fn label(&self, name: &str) -> String {
        self.metric(name)
            .and_then(|metric| metric.label.clone())
            .unwrap_or_else(|| name.replace('_', " "))
    }

    /// How key figure `name` is written.
    pub fn format(&self, name: &str) -> MetricFormat {
        self.metric(name)
            .map_or(MetricFormat::Number, |metric| metric.format.clone())
    }

    /// Puts figure names in the order pages show them: the declared ones in
    /// declaration order, then the others as they came.
    pub fn order(&self, names: &mut [String]) {
        let place = |name: &String| {
            self.metrics
                .iter()
                .position(|metric| &metric.name == name)
                .unwrap_or(usize::MAX)
        };
        names.sort_by_key(place);
    }
}

/// Problems found reading `[outputs]`: (path, message), as
/// [`crate::DefinitionError`] lists them.
pub type Problems = Vec<(String, String)>;

mod metric;
mod parse;

pub use parse::parse;

#[cfg(test)]
mod tests;
