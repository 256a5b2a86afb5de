//! Reading a bundle on the client's side (`modelrun runs reproduce`): its
//! manifest, every file checked against it, and its input files copied out
//! to be uploaded again.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use modelrun_core::blob::MAX_DOCUMENT_BYTES;
use modelrun_core::bundle::{BundleFile, BundleManifest, FORMAT, MANIFEST};
use sha2::{Digest, Sha256};
use zip::ZipArchive;

/// A bundle opened from a file, its manifest read and checked.
#[derive(Debug)]
pub struct OpenBundle {
    archive: ZipArchive<File>,
    pub manifest: BundleManifest,
}

impl OpenBundle {
    /// Opens the zip at `path`, reads its `bundle.json`, and checks every
    /// input file and output in the zip against the size and SHA-256 it
    /// records. Errors say which file is not a bundle, or which entry does
    /// not match, and why.
    pub fn open(path: &Path) -> io::Result<Self> {
        let not_a_bundle = |why: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a modelrun bundle: {why}", path.display()),
            )
        };
        let file = File::open(path)?;
        let mut archive = ZipArchive::new(file).map_err(|e| not_a_bundle(e.to_string()))?;
        let mut text = Vec::new();
        archive
            .by_name(MANIFEST)
            .map_err(|_| not_a_bundle(format!("it has no {MANIFEST}")))?
            .take(MAX_DOCUMENT_BYTES as u64)
            .read_to_end(&mut text)?;
        let manifest: BundleManifest = serde_json::from_slice(&text)
            .map_err(|e| not_a_bundle(format!("its {MANIFEST} cannot be read: {e}")))?;
        if manifest.format != FORMAT {
            return Err(not_a_bundle(format!(
                "its format is {:?}; this modelrun reads {FORMAT:?}",
                manifest.format
            )));
        }
        let mut bundle = OpenBundle { archive, manifest };
        bundle.verify().map_err(|e| not_a_bundle(e.to_string()))?;
        Ok(bundle)
    }

    /// Refuses a bundle whose files are not the ones its manifest lists: a
    /// changed output would pass for identical, a changed input would be
    /// run unnoticed. A file missing when the bundle was made has no entry.
    fn verify(&mut self) -> io::Result<()> {
        let files = self
            .manifest
            .input_files
            .iter()
            .chain(&self.manifest.outputs);
        for file in files {
            let Some(path) = &file.path else { continue };
            let mut entry = self.archive.by_name(path).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{MANIFEST} lists {path}, which the zip does not hold"),
                )
            })?;
            let mut hasher = Sha256::new();
            let size = io::copy(&mut entry, &mut hasher)?;
            let sha256 = hex::encode(hasher.finalize());
            if size != file.size || !sha256.eq_ignore_ascii_case(&file.sha256) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{path} was changed after the bundle was made: it has {size} bytes \
                         with SHA-256 {sha256}, {MANIFEST} says {} bytes with SHA-256 {}",
                        file.size, file.sha256
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Copies `file` (an entry of the manifest) out of the zip to `to`.
    pub fn extract(&mut self, file: &BundleFile, to: &Path) -> io::Result<()> {
        let Some(path) = &file.path else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "the bundle does not hold {} (it was missing when the bundle was made)",
                    file.name
                ),
            ));
        };
        let mut entry = self.archive.by_name(path).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{path} in the bundle: {e}"),
            )
        })?;
        let mut out = File::create(to)?;
        io::copy(&mut entry, &mut out)?;
        Ok(())
    }
}
