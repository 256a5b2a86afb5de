//! A model that declares its charts and key figures (`[outputs]`): the
//! version carries the declaration through the API, the run page draws the
//! declared charts (history and forecast from two files on one axis, the
//! forecast dashed) and writes the figures as declared, and a declared file
//! or column the run did not write is a note on the page, not an error.

use reqwest::StatusCode;

use crate::support::*;

const DECLARED: &str = r#"name = "declared"
command = ["python3", "-c", '''
import json, os
out = os.environ["MODELRUN_OUTPUT_DIR"]
def w(name, text):
    with open(os.path.join(out, name), "w") as f:
        f.write(text)
w("history.csv", "month,revenue\n2026-10,100\n2026-11,110\n2026-12,120\n")
# The history is the same in every run; the forecast is the run's own.
run = int(os.environ["MODELRUN_RUN_ID"])
w("forecast.csv", f"month,forecast,low,high\n2027-01,{125 + run},115,{135 + run}\n2027-02,130,117,143\n")
w("metrics.json", json.dumps({"months": 2, "total_revenue": 1704285.064, "cagr": 0.591823}))
''']

[inputs]
type = "object"

[[outputs.charts]]
file = "history.csv"
x = "month"
title = "Revenue, actual and forecast"
units = "EUR"
series = [
  { column = "revenue", label = "Actual" },
  { file = "forecast.csv", column = "forecast", label = "Forecast" },
]
band = { file = "forecast.csv", low = "low", high = "high" }

[[outputs.charts]]
file = "costs.csv"
x = "month"
title = "Costs"
series = ["cost"]

[[outputs.charts]]
file = "history.csv"
x = "month"
title = "Margin"
series = ["margin"]

[outputs.metrics.cagr]
label = "Annual growth"
format = "percent"

[outputs.metrics.total_revenue]
label = "Total revenue"
format = "currency"
symbol = "€"
"#;

pub async fn declared_charts_and_figures_show_on_the_run_page(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("declared", DECLARED).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let models = api.get_json("/api/v1/models").await;
    let model = models["models"]
        .as_array()
        .expect("models")
        .iter()
        .find(|model| model["name"] == "declared")
        .expect("declared");
    let outputs = &model["versions"][0]["outputs"];
    assert_eq!(outputs["charts"].as_array().map(Vec::len), Some(3));
    assert_eq!(outputs["charts"][0]["series"][1]["dashed"], true);
    assert_eq!(outputs["metrics"][0]["name"], "cagr");
    assert_eq!(outputs["metrics"][1]["format"]["symbol"], "€");

    let created = api.submit_defaults("declared").await;
    let id = created["id"].as_i64().expect("id");
    app.drain().await;
    let run = api.get_json(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let response = ann.get(&format!("/runs/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.expect("page");

    let at = |text: &str| {
        page.find(text)
            .unwrap_or_else(|| panic!("{text} in {page}"))
    };
    let figures = at("Key figures");
    let growth = at("<dt>Annual growth</dt><dd>59.2%</dd>");
    let total = at("<dt>Total revenue</dt><dd>€1,704,285.06</dd>");
    let months = at("<dt>months</dt><dd>2</dd>");
    assert!(
        figures < growth && growth < total && total < months,
        "declared first, in declared order, then the rest by name"
    );

    assert!(page.contains("Revenue, actual and forecast</h2>"), "{page}");
    let first = &page[page.find("declared-chart-0").expect("first chart")..];
    let first = &first[..first.find("</section>").expect("end")];
    assert!(first.contains("<svg"), "drawn: {first}");
    assert!(first.contains("Actual") && first.contains("Forecast"));
    assert!(first.contains("stroke-dasharray"), "the forecast is dashed");
    assert!(first.contains("EUR"), "the y axis names its units");
    assert!(first.contains("<polygon"), "the band is shaded");
    assert!(
        first.contains("preview/history.csv") && first.contains("preview/forecast.csv"),
        "links to both files"
    );
    assert!(
        page.contains("The run has no output costs.csv."),
        "a declared file the run did not write is a note"
    );
    assert!(
        page.contains("history.csv has no column margin (its columns: month, revenue)."),
        "a declared column the file lacks is a note"
    );
    assert!(
        !page.contains("<h2 id=\"chart\">Chart</h2>"),
        "no guessed chart beside the declared ones"
    );

    // Compared, each run is drawn by its declared chart's lines, and the
    // history both runs share is drawn once, named without a run.
    let again = api.submit_defaults("declared").await;
    let again = again["id"].as_i64().expect("id");
    app.drain().await;
    let compare = ann.get(&format!("/compare?runs={id},{again}")).await;
    assert_eq!(compare.status(), StatusCode::OK);
    let compare = compare.text().await.expect("compare page");
    let chart = &compare[compare.find("compare-chart").expect("a chart")..];
    assert!(
        chart.contains(&format!("#{id}: Forecast"))
            && chart.contains(&format!("#{again}: Forecast")),
        "{chart}"
    );
    assert!(chart.contains("EUR"), "the declared units: {chart}");
    let svg = &chart[..chart.find("</svg>").expect("the wide drawing")];
    assert_eq!(
        svg.matches(">Actual<").count(),
        1,
        "the shared history once: {svg}"
    );
    assert!(!svg.contains(": Actual"), "{svg}");
}
