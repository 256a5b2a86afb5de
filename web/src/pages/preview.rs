//! One output, looked at: a CSV as a table and a chart, JSON and text as
//! text, images shown. Large files are shown in part, with a note.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use modelrun_core::blob::BlobKey;
use modelrun_core::display::NumberStyle;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::{Run, RunOutput};

use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::format;
use crate::locale::Locale;
use crate::policy::visible_run;
use crate::preview::chart::Chart;
use crate::preview::load::head;
use crate::preview::table::Table;
use crate::preview::view::{CsvFile, CsvView};
use crate::preview::{Kind, MAX_PREVIEW_BYTES, MAX_TEXT_BYTES, decode};
use crate::state::AppState;

/// Rows shown on the preview page.
const MAX_ROWS: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/runs/{id}/preview/{*name}", get(page))
        .route("/runs/{id}/image/{*name}", get(image))
}

#[derive(Template, WebTemplate)]
#[template(path = "preview.html")]
pub(super) struct PreviewPage {
    nav: Nav,
    run: Run,
    /// The file looked at: an output, or an input file named as one.
    output: RunOutput,
    /// What the file is to the run: "An output", "The file of input Overrides".
    role: String,
    download: String,
    /// Where an image is shown from, for outputs.
    image: Option<String>,
    size: String,
    kind: Kind,
    csv: Option<CsvView>,
    text: String,
    notes: Vec<String>,
}

/// A file of a run to look at: where it is kept, and how to download it.
pub(super) struct Viewed {
    pub file: RunOutput,
    pub key: BlobKey,
    pub role: String,
    pub download: String,
    pub image: Option<String>,
}

async fn find_output(state: &AppState, run: &Run, name: &str) -> AppResult<RunOutput> {
    state
        .store
        .run_outputs(run.id)
        .await?
        .into_iter()
        .find(|o| o.name == name)
        .ok_or(AppError::NotFound)
}

async fn page(
    current: CurrentUser,
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> AppResult<PreviewPage> {
    let locale = Locale::of(&current);
    let run = visible_run(&state, &current.user, &id).await?;
    let output = find_output(&state, &run, &name).await?;
    let encoded = percent_encoding::utf8_percent_encode(&output.name, NAME).to_string();
    let viewed = Viewed {
        key: BlobKey::run_output(run.id, &output.name)?,
        role: "An output".to_owned(),
        download: format!("/runs/{}/outputs/{encoded}", run.id),
        image: Some(format!("/runs/{}/image/{encoded}", run.id)),
        file: output,
    };
    preview(&state, &current, &locale, run, viewed).await
}

/// What escapes a file's name in a link, keeping `/` between its parts.
const NAME: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'.')
    .remove(b'-')
    .remove(b'_');

/// The preview page of one file of a run.
pub(super) async fn preview(
    state: &AppState,
    current: &CurrentUser,
    locale: &Locale,
    run: Run,
    viewed: Viewed,
) -> AppResult<PreviewPage> {
    let Viewed {
        file: output,
        key,
        role,
        download,
        image,
    } = viewed;
    let kind = match Kind::of(&output.name, &output.content_type) {
        Kind::Image if image.is_none() => Kind::None,
        kind => kind,
    };
    let mut page = PreviewPage {
        nav: Nav::new(&current.user, &current.csrf, Section::Runs),
        size: format::bytes(output.size),
        kind,
        csv: None,
        text: String::new(),
        notes: Vec::new(),
        role,
        download,
        image,
        run,
        output,
    };
    if matches!(kind, Kind::Csv | Kind::Json | Kind::Text) {
        let (bytes, partial) = head(state, &key, MAX_PREVIEW_BYTES).await?;
        match kind {
            Kind::Csv => {
                let title = format!("{} of run #{}", page.output.name, page.run.id);
                let file = CsvFile {
                    name: &page.output.name,
                    bytes: &bytes,
                    partial,
                    size: page.output.size,
                };
                page.csv = Some(CsvView::new(
                    file,
                    MAX_ROWS,
                    "preview-chart",
                    &title,
                    locale.numbers,
                ));
            }
            _ => {
                let (text, utf8) = decode(&bytes, partial);
                let pretty = match (kind, partial) {
                    (Kind::Json, false) => serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|value| serde_json::to_string_pretty(&value).ok()),
                    _ => None,
                };
                let whole = pretty.as_ref().map(String::len);
                let (text, cut) = head_of_text(pretty.unwrap_or(text), MAX_TEXT_BYTES);
                match whole {
                    // Pretty-printing made it longer than the file.
                    Some(whole) if cut => page.notes.push(format!(
                        "Showing the first {} of {} pretty-printed (the file is {}). Download \
                         the file for all of it.",
                        format::bytes(text.len() as i64),
                        format::bytes(whole as i64),
                        page.size
                    )),
                    _ if partial || cut => page.notes.push(format!(
                        "Showing the first {} of {}. Download the file for all of it.",
                        format::bytes(text.len() as i64),
                        page.size
                    )),
                    _ => {}
                }
                page.text = text;
                if !utf8 {
                    page.notes.push(
                        "The file is not UTF-8; it is shown as Windows-1252 (what Excel saves)."
                            .to_owned(),
                    );
                }
            }
        }
    }
    Ok(page)
}

/// At most `max` bytes of `text`, ending after a whole line when there is
/// one in the last quarter, else at a character boundary; and whether it
/// was cut.
fn head_of_text(mut text: String, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if let Some(line) = text[..end].rfind('\n').filter(|&at| at >= max / 4 * 3) {
        end = line + 1;
    }
    text.truncate(end);
    (text, true)
}

/// An image output, inline, for the preview page's `<img>`. SVG gets a
/// policy under which nothing in it runs or loads.
async fn image(
    CurrentUser { user, .. }: CurrentUser,
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let run = visible_run(&state, &user, &id).await?;
    let output = find_output(&state, &run, &name).await?;
    let content_type = match name.to_ascii_lowercase().rsplit_once('.') {
        Some((_, "png")) => "image/png",
        Some((_, "svg")) => "image/svg+xml",
        _ => return Err(AppError::NotFound),
    };
    let blob = state
        .blob
        .get(&BlobKey::run_output(run.id, &output.name)?)
        .await?;
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
            ),
            (CONTENT_DISPOSITION, HeaderValue::from_static("inline")),
        ],
        Body::from_stream(blob.body),
    )
        .into_response())
}

/// The run page's chart, drawn.
#[derive(Debug)]
pub struct RunChart {
    /// The output it is drawn from.
    pub name: String,
    pub svg: String,
    /// The columns it leaves out: "Not charted: note (text)."
    pub not_charted: Option<String>,
}

/// The chart of the run's first CSV output that makes one, for the run
/// page.
pub async fn main_chart(
    state: &AppState,
    run: &Run,
    outputs: &[RunOutput],
    style: NumberStyle,
) -> Option<RunChart> {
    let (name, chart) = first_chart(state, run, outputs).await?;
    let title = format!("{name} of run #{}", run.id);
    Some(RunChart {
        svg: chart.svg("run-chart", &title, style),
        not_charted: chart.not_charted_note(),
        name,
    })
}

/// A run's main chart, not drawn, for pages that overlay one per run
/// (compare, a sweep): its version's first declared chart when it declares
/// one, else the first CSV output that makes a chart.
pub async fn main_lines(
    state: &AppState,
    run: &Run,
    outputs: &[RunOutput],
    version: Option<&ModelVersion>,
) -> Option<Chart> {
    match version.and_then(|version| version.outputs.charts.first()) {
        Some(declared) => crate::preview::declared::first(state, run, outputs, declared).await,
        None => first_chart(state, run, outputs)
            .await
            .map(|(_, chart)| chart),
    }
}

/// The first CSV output of a run that makes a chart, with its name.
pub async fn first_chart(
    state: &AppState,
    run: &Run,
    outputs: &[RunOutput],
) -> Option<(String, Chart)> {
    for output in outputs {
        if Kind::of(&output.name, &output.content_type) != Kind::Csv {
            continue;
        }
        let read = match BlobKey::run_output(run.id, &output.name) {
            Ok(key) => head(state, &key, MAX_PREVIEW_BYTES).await,
            Err(error) => Err(error),
        };
        let (bytes, partial) = match read {
            Ok(read) => read,
            Err(error) => {
                tracing::warn!(run_id = %run.id, %error, "could not read an output for its chart");
                continue;
            }
        };
        let (text, _) = decode(&bytes, partial);
        let table = Table::of_file(&output.name, &text, 5000, partial);
        if let Some(chart) = Chart::from_table(&table) {
            return Some((output.name.clone(), chart));
        }
    }
    None
}
