//! Writing a sweep's archive, on a blocking thread: each run's outputs
//! under `runs/<run id>/`, then `index.csv` with what was read (size and
//! SHA-256 of the bytes written, not only of what was recorded).

use std::fs::File;
use std::io::Write;

use modelrun_core::blob::BlobStore;
use modelrun_core::run::{Run, RunOutput};
use modelrun_core::sweep::archive::{INDEX, input_column, path};
use modelrun_core::sweep::{Axis, shown};
use serde_json::Value;
use tokio::runtime::Handle;
use zip::ZipWriter;

use super::ArchiveError;
use crate::zip_files::{self, options};

/// The columns after the varied inputs'.
const TAIL: [&str; 5] = ["status", "output", "path", "size_bytes", "sha256"];

/// Writes the archive of the sweep with `axes` and `runs` (in grid order,
/// each with its recorded outputs) into `file`.
pub(super) fn write(
    file: File,
    axes: &[Axis],
    runs: &[(Run, Vec<RunOutput>)],
    blob: &dyn BlobStore,
    handle: &Handle,
) -> Result<(), ArchiveError> {
    let mut zip = ZipWriter::new(file);
    let mut index = csv::Writer::from_writer(Vec::new());
    let inputs: Vec<String> = axes.iter().map(|axis| input_column(&axis.field)).collect();
    let header = ["run_id", "position"]
        .into_iter()
        .chain(inputs.iter().map(String::as_str))
        .chain(TAIL);
    index.write_record(header)?;
    for (position, (run, outputs)) in runs.iter().enumerate() {
        let mut lead = vec![run.id.to_string(), position.to_string()];
        lead.extend(axes.iter().map(|axis| {
            run.inputs
                .get(&axis.field)
                .map_or_else(String::new, |value| match value {
                    Value::Null => String::new(),
                    other => shown(other),
                })
        }));
        lead.push(run.status.to_string());
        if outputs.is_empty() {
            index.write_record(lead.iter().map(String::as_str).chain(["", "", "", ""]))?;
        }
        for output in outputs {
            let (at, size, sha256) = copy_output(&mut zip, blob, handle, run, output)?;
            let size = size.to_string();
            let row = [output.name.as_str(), at.as_str(), size.as_str(), &sha256];
            index.write_record(lead.iter().map(String::as_str).chain(row))?;
        }
    }
    let index = index
        .into_inner()
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    zip.start_file(INDEX, options(index.len() as u64))?;
    zip.write_all(&index)?;
    zip.finish()?.sync_all()?;
    Ok(())
}

/// Copies one output into the zip: its path there, size and SHA-256. A
/// missing output, or one whose bytes are not what was recorded, stops
/// the archive with an error naming it.
fn copy_output(
    zip: &mut ZipWriter<File>,
    blob: &dyn BlobStore,
    handle: &Handle,
    run: &Run,
    output: &RunOutput,
) -> Result<(String, u64, String), ArchiveError> {
    let at = path(run.id, &output.name);
    let copied = zip_files::copy_output::<ArchiveError>(zip, blob, handle, run.id, output, &at)?;
    Ok((at, copied.size, copied.sha256))
}
