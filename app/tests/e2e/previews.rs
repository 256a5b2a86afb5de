//! Output previews on the real server: awkward CSV files, a 100 MB one,
//! JSON, text and images, and the forecast's chart on its run page.

use std::time::Instant;

use reqwest::StatusCode;

use crate::support::*;

const AWKWARD: &str = r#"name = "awkward"
command = ["python3", "-c", '''
import os
out = os.environ["MODELRUN_OUTPUT_DIR"]
def w(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
w("empty.csv", b"")
w("header.csv", b"month,revenue\n")
w("quoted.csv", b'name,note\n"Smith, Ann","said ""hi"", left"\n')
w("latin1.csv", "city,temp,fare\nM\u00fcnchen,3,\u20ac5\n".encode("cp1252"))
w("thousands.csv", b"units;change\n1.000.000;-0,5\n2.000.000;1234567,89\n1.234;0,001\n")
w("formulas.csv", b'item,amount\nrefund,-12.5\n"=HYPERLINK(""http://evil.example"",""Click"")",1\n@SUM(1),2\n')
w("european.csv", b"month;revenue;note\n2027-01;317,43333333333334;a,b\n2027-02;402,75;\n")
w("notes.txt", b"plain text\n")
w("data.json", b'{"a":[1,2]}')
w("chart.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="4" height="4"/></svg>')
w("model.bin", bytes(range(256)))
w("amps.txt", b"&" * (2 * 1024 * 1024))
w("amps.json", b'["' + b'&' * (2 * 1024 * 1024 - 8) + b'"]')
w("zeros.json", b"[" + b",".join([b"0"] * 200000) + b"]")
w("longline.csv", b"h" * (3 * 1024 * 1024))
w("wide.csv", b"\n".join([b",".join(b"c%d" % i for i in range(2000))] + [b",".join([b"1"] * 2000)] * 520) + b"\n")
block = b"2027-01,1234.56,1000.00,1500.00\n" * 10000
with open(os.path.join(out, "big.csv"), "wb") as f:
    f.write(b"month,revenue,low,high\n")
    for _ in range(100 * 1024 * 1024 // len(block) + 1):
        f.write(block)
''']
[inputs]
type = "object"
"#;

pub async fn awkward_outputs_preview_without_failing(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("awkward", AWKWARD).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let created = api.submit_defaults("awkward").await;
    let id = created["id"].as_i64().expect("id");
    app.drain().await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let ann = &ann;
    let preview = |name: &str| {
        let path = format!("/runs/{id}/preview/{name}");
        async move { ann.page(&path).await }
    };
    assert!(preview("empty.csv").await.contains("The file is empty."));
    let header = preview("header.csv").await;
    assert!(
        header.contains("a header and no rows")
            && header.contains("<th scope=\"col\">revenue</th>")
    );
    let quoted = preview("quoted.csv").await;
    assert!(
        quoted.contains("<td>Smith, Ann</td>"),
        "the quoted comma stays in its cell"
    );
    assert!(quoted.contains("said &#34;hi&#34;, left"), "{quoted}");
    let latin1 = preview("latin1.csv").await;
    assert!(
        latin1.contains("München") && latin1.contains("€5") && latin1.contains("Windows-1252"),
        "read as Excel saves it: {latin1}"
    );
    let thousands = preview("thousands.csv").await;
    assert!(
        thousands.contains("<td class=\"num\">1,000,000</td>")
            && thousands.contains("<td class=\"num\">1,234</td>")
            && thousands.contains("<td class=\"num\" title=\"-0.5\">-0.500</td>")
            && thousands.contains("<td class=\"num\" title=\"1,234,567.89\">1,234,567.890</td>")
            && thousands.contains("<td class=\"num\">0.001</td>"),
        "dots between thousands read, no number shown as 0: {thousands}"
    );
    let formulas = preview("formulas.csv").await;
    assert!(
        formulas.contains("2 shown cells start with =, +, -, @")
            && formulas.matches("class=\"formula\"").count() == 2
            && formulas.contains("<td class=\"num\">-12.5</td>"),
        "formula cells are marked, a negative number is not: {formulas}"
    );
    let european = preview("european.csv").await;
    assert!(
        european.contains("<th scope=\"col\">revenue</th><th scope=\"col\">note</th>")
            && european.contains("<td class=\"num\" title=\"317.43333333333334\">317.4</td>")
            && european.contains("<td class=\"num\" title=\"402.75\">402.8</td>")
            && european.contains("<td>a,b</td>"),
        "a ; file in its columns, decimal commas read and rounded: {european}"
    );
    assert!(european.contains("<svg class=\"chart\""), "and charted");
    let written = ann.get(&format!("/runs/{id}/outputs/european.csv")).await;
    assert!(
        written
            .text()
            .await
            .expect("body")
            .contains("317,43333333333334"),
        "the download keeps every digit"
    );
    let download = ann.get(&format!("/runs/{id}/outputs/formulas.csv")).await;
    assert!(
        download
            .text()
            .await
            .expect("body")
            .contains("\n@SUM(1),2\n"),
        "the download is the file as written"
    );
    assert!(preview("notes.txt").await.contains("plain text"));
    assert!(
        preview("data.json").await.contains("&#34;a&#34;: [\n"),
        "pretty-printed"
    );
    assert!(
        preview("model.bin")
            .await
            .contains("no preview for this kind of file")
    );

    let started = Instant::now();
    let big = ann.get(&format!("/runs/{id}/preview/big.csv")).await;
    assert_eq!(big.status(), StatusCode::OK);
    let body = big.text().await.expect("body");
    let elapsed = started.elapsed();
    let note = body
        .find("class=\"note\"")
        .map_or("", |at| &body[at..(at + 300).min(body.len())]);
    assert!(
        body.contains("Showing the first 500 rows of a 105.0 MB file"),
        "the note: {note}"
    );
    assert!(body.len() < 512 * 1024, "the page is {} bytes", body.len());
    assert!(
        body.contains("<svg class=\"chart\""),
        "charted from its first rows"
    );
    println!(
        "the 100 MB preview answered in {elapsed:?} with {} bytes",
        body.len()
    );

    // Files whose escaped text or markup would pass the 6 MB a Lambda
    // response may carry are shown in part, with a note.
    for (name, note) in [
        ("amps.txt", "Showing the first 524.3 KB of 2.1 MB"),
        ("amps.json", "Showing the first 524.3 KB of 2.1 MB"),
        ("zeros.json", "pretty-printed (the file is 400.0 KB)"),
        (
            "longline.csv",
            "The first line of this 3.1 MB file is longer than the 2.1 MB",
        ),
        ("wide.csv", "Showing the first 60 of 2000 columns"),
    ] {
        let page = preview(name).await;
        assert!(
            page.len() < 4 * 1024 * 1024,
            "{name}: the page is {} bytes",
            page.len()
        );
        assert!(page.contains(note), "{name}: {note}");
    }

    let svg_page = preview("chart.svg").await;
    assert!(svg_page.contains(&format!("<img src=\"/runs/{id}/image/chart.svg\"")));
    let image = ann.get(&format!("/runs/{id}/image/chart.svg")).await;
    assert_eq!(image.status(), StatusCode::OK);
    let csp = image.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(image.headers()["content-type"], "image/svg+xml");
    let not_image = ann.get(&format!("/runs/{id}/image/notes.txt")).await;
    assert_eq!(not_image.status(), StatusCode::NOT_FOUND);
    let missing = ann.get(&format!("/runs/{id}/preview/nothing.csv")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// The forecast's run page shows revenue as a line with its low–high band.
pub async fn the_forecast_is_charted_on_its_run_page(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let id = crate::security::submit(&api).await;
    app.drain().await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = ann.page(&format!("/runs/{id}")).await;
    assert!(page.contains("<svg class=\"chart\""), "a chart");
    assert!(
        page.contains("Monthly revenue forecast</h2>") && page.contains("Revenue (band: low–high)"),
        "the declared chart: revenue with its band"
    );
    assert!(page.contains("<polygon"), "the band is drawn");
    assert!(page.contains(&format!("href=\"/runs/{id}/preview/forecast.csv\"")));
    let table = ann.page(&format!("/runs/{id}/preview/forecast.csv")).await;
    assert!(
        table.contains("<span class=\"muted\">month</span>"),
        "month column typed"
    );
    assert!(table.contains("<span class=\"muted\">number</span>"));
}
