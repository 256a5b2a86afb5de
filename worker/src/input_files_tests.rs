use std::cell::Cell;

use bytes::Bytes;
use serde_json::json;

use super::*;

const UPLOAD: &str = "0123456789abcdef0123456789abcdef";

fn reference(name: &str, bytes: u64) -> Value {
    json!({"upload": UPLOAD, "name": name, "bytes": bytes, "media_type": "text/csv"})
}

fn body(content: &'static [u8]) -> ByteStream {
    Box::pin(futures_util::stream::iter([Ok(Bytes::from_static(
        content,
    ))]))
}

fn document(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).expect("json")
}

async fn serve(inputs: &[u8], dir: &Path, content: &'static [u8]) -> Result<Value, String> {
    let rewritten = materialize(inputs, dir, |_| async move { Ok(body(content)) }).await?;
    Ok(serde_json::from_slice(&rewritten).expect("rewritten inputs are JSON"))
}

#[tokio::test]
async fn file_values_become_the_paths_of_their_copies_and_the_rest_stays() {
    let dir = tempfile::tempdir().expect("dir");
    let inputs = document(json!({
        "growth": 0.02,
        "overrides": reference("overrides.csv", 8),
        "extra": null,
        "regions": ["north", "south"],
    }));
    let fetched = Cell::new(0);
    let rewritten = materialize(&inputs, dir.path(), |input| {
        fetched.set(fetched.get() + 1);
        assert_eq!(input.input, "overrides");
        assert_eq!(input.file.name, "overrides.csv");
        async { Ok(body(b"a,b\n1,2\n")) }
    })
    .await
    .expect("materialized");
    let copy = dir.path().join("files/overrides/overrides.csv");
    assert_eq!(fetched.get(), 1);
    assert_eq!(std::fs::read(&copy).expect("the copy"), b"a,b\n1,2\n");
    let rewritten: Value = serde_json::from_slice(&rewritten).expect("json");
    assert_eq!(
        rewritten,
        json!({
            "growth": 0.02,
            "overrides": copy.to_str().expect("utf-8"),
            "extra": null,
            "regions": ["north", "south"],
        })
    );
    let keys: Vec<_> = rewritten.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        ["growth", "overrides", "extra", "regions"],
        "order kept"
    );
}

#[tokio::test]
async fn without_file_inputs_nothing_is_fetched_or_changed() {
    let dir = tempfile::tempdir().expect("dir");
    let inputs = br#"{"n": 7, "file": null}"#;
    let rewritten = materialize(inputs, dir.path(), |_| async {
        Err::<ByteStream, _>("never asked".to_owned())
    })
    .await
    .expect("nothing to do");
    assert_eq!(rewritten, inputs);
    assert!(!dir.path().join(FILES_DIR).exists());
}

#[tokio::test]
async fn names_that_would_escape_the_files_directory_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let inside = dir.path().join("run");
    for (input, name) in [
        ("..", "x.csv"),
        ("a/b", "x.csv"),
        ("", "x.csv"),
        ("overrides", "../../../escaped.csv"),
        ("overrides", ".."),
        ("overrides", "sub/x.csv"),
        ("overrides", "a\\b"),
        ("overrides", "/etc/passwd"),
    ] {
        let inputs = document(json!({ input: reference(name, 3) }));
        let error = serve(&inputs, &inside, b"abc").await.expect_err("refused");
        assert!(error.contains("input"), "{input:?} {name:?}: {error}");
        assert!(
            error.contains(&format!("{input:?}")) || error.contains(&format!("input {input}")),
            "the message names the input: {error}"
        );
    }
    let written = crate::files::regular_files(dir.path(), false).expect("list");
    assert!(written.is_empty(), "nothing written anywhere: {written:?}");
}

#[tokio::test]
async fn objects_that_are_not_file_references_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    for value in [
        json!({"upload": UPLOAD, "name": "x.csv"}),
        json!({"upload": "not-an-id", "name": "x.csv", "bytes": 1, "media_type": "text/csv"}),
        json!({"path": "/etc/passwd"}),
    ] {
        let inputs = document(json!({ "overrides": value }));
        let error = serve(&inputs, dir.path(), b"x").await.expect_err("refused");
        assert_eq!(
            error,
            "the input overrides holds an object that is not an uploaded file"
        );
    }
    let error = serve(b"[1, 2]", dir.path(), b"x")
        .await
        .expect_err("refused");
    assert!(error.contains("not a JSON object"), "{error}");
}

#[tokio::test]
async fn a_missing_file_names_the_input_and_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let inputs = document(json!({ "overrides": reference("overrides.csv", 3) }));
    let error = materialize(&inputs, dir.path(), |_| async {
        Err::<ByteStream, _>(format!("no object at uploads/{UPLOAD}/overrides.csv"))
    })
    .await
    .expect_err("missing");
    assert_eq!(
        error,
        format!(
            "the input file overrides.csv of input overrides could not be read: \
             no object at uploads/{UPLOAD}/overrides.csv"
        )
    );
}

#[tokio::test]
async fn a_copy_of_the_wrong_size_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let short = document(json!({ "overrides": reference("overrides.csv", 10) }));
    let error = serve(&short, &dir.path().join("a"), b"abc")
        .await
        .expect_err("short");
    assert!(
        error.ends_with("it has 3 bytes where 10 were uploaded"),
        "{error}"
    );
    let long = document(json!({ "overrides": reference("overrides.csv", 2) }));
    let error = serve(&long, &dir.path().join("b"), b"abc")
        .await
        .expect_err("long");
    assert!(
        error.ends_with("it is longer than the 2 bytes uploaded"),
        "{error}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_link_planted_where_the_copy_goes_is_not_followed() {
    let dir = tempfile::tempdir().expect("dir");
    let target = dir.path().join("elsewhere.txt");
    std::fs::write(&target, "keep").expect("write");
    let run = dir.path().join("run");
    std::fs::create_dir_all(run.join("files/overrides")).expect("mkdir");
    std::os::unix::fs::symlink(&target, run.join("files/overrides/overrides.csv"))
        .expect("symlink");
    let inputs = document(json!({ "overrides": reference("overrides.csv", 3) }));
    let error = serve(&inputs, &run, b"abc").await.expect_err("refused");
    assert!(error.contains("cannot write"), "{error}");
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep");
}

#[tokio::test]
async fn the_directory_must_be_absolute() {
    let inputs = document(json!({ "overrides": reference("overrides.csv", 3) }));
    let error = serve(&inputs, Path::new("work/7"), b"abc")
        .await
        .expect_err("relative");
    assert!(error.contains("absolute"), "{error}");
}
