//! Writing the zip, on a blocking thread, with [`crate::zip_files`]: each
//! file is read from the blob store a piece at a time, hashed and written,
//! so memory stays flat whatever the sizes.

use std::fs::File;
use std::io::Write;

use modelrun_core::blob::{BlobKey, BlobStore};
use modelrun_core::bundle::{BundleFile, BundleManifest, LOG, MANIFEST};
use modelrun_core::executor::Executor;
use modelrun_core::run::{Run, RunOutput};
use modelrun_core::schema::FileRef;
use tokio::runtime::Handle;
use zip::ZipWriter;

use super::BundleError;
use crate::zip_files::{Copied, copy, copy_output, options};

/// What goes into one bundle.
#[derive(Debug)]
pub(super) struct Plan {
    /// Without its files, which are added as they are written.
    pub manifest: BundleManifest,
    pub input_files: Vec<(String, FileRef)>,
    pub outputs: Vec<RunOutput>,
    pub run: Run,
}

/// Writes the bundle into `file`: the inputs, their files, the outputs,
/// the log, then the manifest with every file's size and SHA-256, and the
/// README.
pub(super) fn write(
    file: File,
    plan: Plan,
    blob: &dyn BlobStore,
    executor: &dyn Executor,
    handle: &Handle,
) -> Result<(), BundleError> {
    let Plan {
        mut manifest,
        input_files,
        outputs,
        run,
    } = plan;
    let mut zip = ZipWriter::new(file);
    let inputs = serde_json::to_vec_pretty(&manifest.inputs).map_err(std::io::Error::other)?;
    zip.start_file("inputs.json", options(inputs.len() as u64))?;
    zip.write_all(&inputs)?;
    for (input, file) in &input_files {
        let key = BlobKey::input_file(file)?;
        let path = format!("inputs/{input}/{}", file.name);
        let copied = copy::<BundleError>(&mut zip, blob, handle, &key, &path, file.bytes)?;
        manifest.input_files.push(entry(
            input,
            &file.name,
            &file.media_type,
            copied.map(|c| (path, c)),
        ));
    }
    for output in &outputs {
        let path = format!("outputs/{}", output.name);
        let copied = copy_output::<BundleError>(&mut zip, blob, handle, run.id, output, &path)?;
        let file_name = output.name.rsplit('/').next().unwrap_or(&output.name);
        manifest.outputs.push(entry(
            &output.name,
            file_name,
            &output.content_type,
            Some((path, copied)),
        ));
    }
    write_log(&mut zip, executor, handle, &run)?;
    let json = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    zip.start_file(MANIFEST, options(json.len() as u64))?;
    zip.write_all(&json)?;
    let readme = super::readme(&manifest);
    zip.start_file("README.md", options(readme.len() as u64))?;
    zip.write_all(readme.as_bytes())?;
    zip.finish()?.sync_all()?;
    Ok(())
}

/// The manifest's entry for a file, copied to `copied` or missing.
fn entry(
    name: &str,
    file_name: &str,
    content_type: &str,
    copied: Option<(String, Copied)>,
) -> BundleFile {
    let (path, size, sha256) = match copied {
        Some((path, copied)) => (Some(path), copied.size, copied.sha256),
        None => (None, 0, String::new()),
    };
    BundleFile {
        name: name.to_owned(),
        file_name: file_name.to_owned(),
        path,
        size,
        sha256,
        content_type: content_type.to_owned(),
    }
}

/// The whole log, page by page from the executor.
fn write_log(
    zip: &mut ZipWriter<File>,
    executor: &dyn Executor,
    handle: &Handle,
    run: &Run,
) -> Result<(), BundleError> {
    zip.start_file(LOG, options(0))?;
    let mut cursor: Option<String> = None;
    loop {
        let page = handle.block_on(executor.log(run, cursor.as_deref()))?;
        if page.text.is_empty() {
            return Ok(());
        }
        zip.write_all(page.text.as_bytes())?;
        match page.next.filter(|_| page.truncated) {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}
