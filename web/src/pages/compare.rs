//! Two to four runs of one model side by side: inputs with the differences
//! marked, key figures in one table, and their main chart overlaid.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use chrono::Utc;
use modelrun_core::ids::RunId;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::Run;

use super::preview::main_lines;
use super::run::metrics;
use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::format;
use crate::locale::Locale;
use crate::policy::visible_run;
use crate::preview::chart::Chart;
use crate::state::AppState;

pub const MIN_RUNS: usize = 2;
pub const MAX_RUNS: usize = 4;

pub fn router() -> Router<AppState> {
    Router::new().route("/compare", get(page))
}

struct RunColumn {
    id: i64,
    version: String,
    status: String,
    submitter: String,
    duration: String,
}

/// One row: a name and a value per run, and whether they differ.
struct Row {
    name: String,
    values: Vec<String>,
    differs: bool,
}

impl Row {
    fn new(name: String, values: Vec<String>) -> Self {
        let differs = values.windows(2).any(|pair| pair[0] != pair[1]);
        Row {
            name,
            values,
            differs,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "compare.html")]
struct ComparePage {
    nav: Nav,
    model: String,
    runs: Vec<RunColumn>,
    inputs: Vec<Row>,
    figures: Vec<Row>,
    chart: Option<String>,
    /// The lines past the chart's limit, for under it.
    chart_note: Option<String>,
    differences: usize,
}

/// The run ids of `?runs=3&runs=5` or `?runs=3,5`, in the order given;
/// each once. Too few or too many different runs (naming a run listed
/// twice), or one that is not a number, is refused naming `runs`.
pub fn run_ids(query: Option<&str>) -> AppResult<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    // A run listed again is compared once; named if too few are left.
    let mut twice: Option<String> = None;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if key == "runs" {
            for id in value.split(',').map(str::trim).filter(|id| !id.is_empty()) {
                if id.parse::<RunId>().is_err() {
                    return Err(AppError::BadRequest(format!(
                        "runs: {id:?} is not a run number; give runs as numbers, such as \
                         runs=3&runs=5"
                    )));
                }
                if ids.iter().any(|known| known == id) {
                    twice.get_or_insert_with(|| id.to_owned());
                } else {
                    ids.push(id.to_owned());
                }
            }
        }
    }
    if let (Some(id), true) = (twice, ids.len() < MIN_RUNS) {
        return Err(AppError::BadRequest(format!(
            "runs: run {id} is listed twice; pick from {MIN_RUNS} to {MAX_RUNS} different \
             runs to compare"
        )));
    }
    if !(MIN_RUNS..=MAX_RUNS).contains(&ids.len()) {
        return Err(AppError::BadRequest(format!(
            "runs: pick from {MIN_RUNS} to {MAX_RUNS} different runs to compare; {} given",
            ids.len()
        )));
    }
    Ok(ids)
}

async fn page(
    current: CurrentUser,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> AppResult<ComparePage> {
    let locale = Locale::of(&current);
    let CurrentUser { user, csrf, .. } = current;
    let mut runs: Vec<Run> = Vec::new();
    for id in run_ids(query.as_deref())? {
        let run = visible_run(&state, &user, &id)
            .await
            .map_err(|error| match error {
                AppError::NotFound => AppError::Rejected(
                    axum::http::StatusCode::NOT_FOUND,
                    format!("run {id} does not exist or you may not see it"),
                ),
                other => other,
            })?;
        runs.push(run);
    }
    runs.sort_by_key(|run| run.id);
    let model = runs[0].model_name.clone();
    if let Some(other) = runs.iter().find(|run| run.model_id != runs[0].model_id) {
        return Err(AppError::BadRequest(format!(
            "runs: run #{} is of {}, run #{} of {}; only runs of one model compare",
            runs[0].id, model, other.id, other.model_name
        )));
    }
    let now = Utc::now();
    // Each run's own version says what its inputs and choices are called.
    let mut versions = Vec::with_capacity(runs.len());
    for run in &runs {
        versions.push(state.store.version(run.version_id).await?);
    }
    let inputs: Vec<Row> = input_names(&runs, &versions)
        .into_iter()
        .map(|name| {
            let values = runs
                .iter()
                .zip(&versions)
                .map(|(run, version)| {
                    let field = version.as_ref().and_then(|v| v.inputs.field(&name));
                    run.inputs
                        .get(&name)
                        .map(|value| format::input_value(field, value, locale.numbers))
                        .unwrap_or_else(|| "—".to_owned())
                })
                .collect();
            Row::new(input_label(&name, &versions), values)
        })
        .collect();
    let mut all_figures = Vec::new();
    let mut charts = Vec::new();
    for (run, version) in runs.iter().zip(&versions) {
        let outputs = state.store.run_outputs(run.id).await?;
        all_figures.push(metrics(&state, run, &outputs, locale.numbers).await);
        if let Some(chart) = main_lines(&state, run, &outputs, version.as_ref()).await {
            charts.push((format!("#{}", run.id), chart));
        }
    }
    let mut figure_names: Vec<String> = Vec::new();
    for figures in &all_figures {
        for (name, _) in figures {
            if !figure_names.contains(name) {
                figure_names.push(name.clone());
            }
        }
    }
    let figures = figure_names
        .into_iter()
        .map(|name| {
            let values = all_figures
                .iter()
                .map(|figures| {
                    figures
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map_or_else(|| "—".to_owned(), |(_, v)| v.clone())
                })
                .collect();
            Row::new(name, values)
        })
        .collect();
    let overlay = Chart::overlay(&charts);
    let chart_note = overlay.as_ref().and_then(Chart::not_charted_note);
    let chart = overlay.map(|chart| {
        let ids: Vec<String> = runs.iter().map(|r| format!("#{}", r.id)).collect();
        chart.svg(
            "compare-chart",
            &format!("{model}: runs {} overlaid", ids.join(", ")),
            locale.numbers,
        )
    });
    Ok(ComparePage {
        nav: Nav::new(&user, &csrf, Section::Runs),
        differences: inputs.iter().filter(|row| row.differs).count(),
        runs: runs
            .iter()
            .map(|run| RunColumn {
                id: run.id.0,
                version: run.version_label.clone(),
                status: run.status.as_str().to_owned(),
                submitter: run.submitter_email.clone(),
                duration: run.duration(now).map(format::duration).unwrap_or_default(),
            })
            .collect(),
        model,
        inputs,
        figures,
        chart,
        chart_note,
    })
}

/// The names of the inputs any of `runs` has, in the order of their
/// versions' forms; a name no form has comes last.
fn input_names(runs: &[Run], versions: &[Option<ModelVersion>]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let in_forms = versions
        .iter()
        .flatten()
        .flat_map(|version| version.inputs.fields())
        .map(|field| &field.name);
    for name in in_forms.chain(runs.iter().flat_map(|run| run.inputs.keys())) {
        if !names.contains(name) && runs.iter().any(|run| run.inputs.contains_key(name)) {
            names.push(name.clone());
        }
    }
    names
}

/// An input's title, as its form and the run page call it ("Monthly
/// growth rate"), from the first of `versions` that has it; else its name.
fn input_label(name: &str, versions: &[Option<ModelVersion>]) -> String {
    versions
        .iter()
        .flatten()
        .find_map(|version| version.inputs.field(name))
        .map_or_else(|| name.to_owned(), |field| field.label().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_repeated_or_comma_separated() {
        assert_eq!(run_ids(Some("runs=3&runs=5")).expect("ids"), ["3", "5"]);
        assert_eq!(run_ids(Some("runs=3%2C5,7")).expect("ids"), ["3", "5", "7"]);

        assert!(run_ids(Some("runs=3")).is_err());
        assert!(run_ids(None).is_err());
        assert!(run_ids(Some("runs=1,2,3,4,5")).is_err());
    }

    #[test]
    fn a_run_listed_twice_is_compared_once_and_named_when_too_few_are_left() {
        assert_eq!(
            run_ids(Some("runs=3&runs=3&runs=4")).expect("ids"),
            ["3", "4"]
        );
        let refused = run_ids(Some("runs=1,1")).expect_err("one run");
        assert!(
            refused
                .to_string()
                .starts_with("runs: run 1 is listed twice; pick from 2 to"),
            "{refused}"
        );
    }

    #[test]
    fn an_id_that_is_not_a_number_is_named() {
        let refused = run_ids(Some("runs=1&runs=abc")).expect_err("refused");
        assert!(
            matches!(&refused, AppError::BadRequest(why) if why.starts_with("runs: \"abc\" is not a run number")),
            "{refused}"
        );
    }

    #[test]
    fn rows_know_when_runs_differ() {
        assert!(Row::new("g".into(), vec!["1".into(), "2".into()]).differs);
        assert!(!Row::new("g".into(), vec!["1".into(), "1".into(), "1".into()]).differs);
    }
}
