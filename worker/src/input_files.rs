//! File inputs as a model sees them. A run's stored inputs hold, for each
//! file input, the upload's [`FileRef`]; the model is given instead the
//! absolute path of its own copy, `<dir>/files/<input>/<name>`, where
//! `<dir>` holds the `inputs.json` it reads. The local executor and
//! `modelrun exec` both fetch the files and rewrite the document here, each
//! with its own way to read a file (the blob store, the job API).

use std::future::Future;
use std::path::{Component, Path, PathBuf};

use futures_util::StreamExt;
use modelrun_core::blob::ByteStream;
use modelrun_core::schema::{FileRef, check_file_name};
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;

/// The directory, beside `inputs.json`, that holds the copies of the files.
pub(crate) const FILES_DIR: &str = "files";

/// One file input of a run: the input's name and the file it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputFile {
    pub input: String,
    pub file: FileRef,
}

impl InputFile {
    /// "the input file overrides.csv of input overrides", for messages.
    pub fn describe(&self) -> String {
        format!("the input file {} of input {}", self.file.name, self.input)
    }
}

/// Copies every file input of `inputs` (a run's `inputs.json`) under
/// `dir/files/<input>/<name>` with `fetch`, which gives the file's bytes
/// as a stream, and returns the document with each file reference replaced
/// by the absolute path of its copy. Other values, `null` among them, stay
/// as they are. Each copy is a new file (never one already there, nor
/// through a link) and must have exactly the size the reference gives.
///
/// File inputs are the top-level values that are JSON objects: only a
/// file reference ever is.
///
/// # Errors
/// A document that is not a JSON object; an object value that is not a
/// file reference; an input or file name that is not one plain path
/// segment; `dir` not absolute or not UTF-8 (each naming the input); a fetch
/// that fails or a copy that cannot be written or has the wrong size:
/// "the input file overrides.csv of input overrides could not be read: …".
pub(crate) async fn materialize<F, Fut>(
    inputs: &[u8],
    dir: &Path,
    mut fetch: F,
) -> Result<Vec<u8>, String>
where
    F: FnMut(&InputFile) -> Fut,
    Fut: Future<Output = Result<ByteStream, String>>,
{
    let (mut document, files) = parse(inputs)?;
    if files.is_empty() {
        return Ok(inputs.to_vec());
    }
    if !dir.is_absolute() || dir.to_str().is_none() {
        return Err(format!(
            "the run's directory {} must be an absolute UTF-8 path to hold its input files",
            dir.display()
        ));
    }
    for input in &files {
        let path = copy_path(dir, input)?;
        let copied = async {
            let body = fetch(input).await?;
            write_new(&path, body, input.file.bytes).await
        };
        copied
            .await
            .map_err(|error| format!("{} could not be read: {error}", input.describe()))?;
        let shown = path.to_str().unwrap_or_default().to_owned();
        document.insert(input.input.clone(), Value::String(shown));
    }
    serde_json::to_vec(&document).map_err(|error| format!("cannot encode inputs.json: {error}"))
}

/// The document, and its file inputs in its order.
fn parse(inputs: &[u8]) -> Result<(Map<String, Value>, Vec<InputFile>), String> {
    let document: Map<String, Value> = serde_json::from_slice(inputs)
        .map_err(|error| format!("the run's inputs.json is not a JSON object: {error}"))?;
    let mut files = Vec::new();
    for (input, value) in &document {
        if !value.is_object() {
            continue;
        }
        let file = FileRef::from_value(value).ok_or_else(|| {
            format!("the input {input} holds an object that is not an uploaded file")
        })?;
        check_file_name(input).map_err(|why| {
            format!("the input {input:?} cannot name a directory of its file: it {why}")
        })?;
        check_file_name(&file.name)
            .map_err(|why| format!("the file name {:?} of input {input} {why}", file.name))?;
        files.push(InputFile {
            input: input.clone(),
            file,
        });
    }
    Ok((document, files))
}

/// `dir/files/<input>/<name>`, checked to be below `dir/files`.
fn copy_path(dir: &Path, input: &InputFile) -> Result<PathBuf, String> {
    let relative = Path::new(&input.input).join(&input.file.name);
    let plain = relative.components().count() == 2
        && relative
            .components()
            .all(|part| matches!(part, Component::Normal(_)));
    if !plain {
        return Err(format!(
            "{} cannot be placed in the run's directory",
            input.describe()
        ));
    }
    Ok(dir.join(FILES_DIR).join(relative))
}

/// Writes `body` to a new file at `path` (its directory created), stopping
/// as soon as it is longer than `bytes`.
async fn write_new(path: &Path, mut body: ByteStream, bytes: u64) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    }
    let cannot_write = |error: std::io::Error| format!("cannot write {}: {error}", path.display());
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .map_err(cannot_write)?;
    let mut written = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| error.to_string())?;
        written += chunk.len() as u64;
        if written > bytes {
            return Err(format!("it is longer than the {bytes} bytes uploaded"));
        }
        file.write_all(&chunk).await.map_err(cannot_write)?;
    }
    file.flush().await.map_err(cannot_write)?;
    if written != bytes {
        return Err(format!(
            "it has {written} bytes where {bytes} were uploaded"
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "input_files_tests.rs"]
mod tests;
