//! File inputs: `type = "string"`, `format = "file"`, with an optional
//! `contentMediaType` (`text/csv`) and `x-max-bytes`.
//!
//! A person uploads the file first; the upload gets an [`UploadId`]. A
//! submission names the upload (by its id, or by a [`FileRef`] copied from an
//! earlier run), the server looks it up and puts the [`FileRef`] in the run's
//! inputs, and the executor gives the model the path of its own copy.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::FieldKind;
use super::parse::Problems;
use crate::blob::check_relative_path;

/// Longest name of an uploaded file, in bytes of UTF-8: what file systems
/// take for one name (ext4, XFS, APFS, NTFS in UTF-16 units).
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Characters a file name may not hold: control characters, and those
/// that change how the text around them shows without showing themselves
/// (direction overrides that make `txt.exe` read as `exe.txt`, zero-width
/// spaces, the byte-order mark).
const HIDDEN: [(char, char); 12] = [
    ('\u{0}', '\u{1f}'),
    ('\u{7f}', '\u{9f}'),
    ('\u{ad}', '\u{ad}'),
    ('\u{61c}', '\u{61c}'),
    ('\u{180e}', '\u{180e}'),
    ('\u{200b}', '\u{200f}'),
    ('\u{2028}', '\u{202e}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{fff9}', '\u{fffb}'),
    ('\u{e0000}', '\u{e007f}'),
];

fn is_hidden(c: char) -> bool {
    HIDDEN.iter().any(|(low, high)| (*low..=*high).contains(&c))
}

/// The rule of [`check_file_name`] as a JSON Schema `pattern`, for the API's
/// document: all of it but the limit in bytes, which a pattern cannot count
/// (it says 255 characters), and the tag characters past U+FFFF, which not
/// every pattern engine can name.
pub fn file_name_pattern() -> String {
    let escape = |c: char| format!("\\u{:04x}", c as u32);
    let hidden: String = HIDDEN
        .iter()
        .filter(|(low, _)| (*low as u32) <= 0xffff)
        .map(|(low, high)| format!("{}-{}", escape(*low), escape(*high)))
        .collect();
    format!("^(?!\\.\\.?$)(?=.*\\S)[^/\\\\{hidden}]{{1,{MAX_FILE_NAME_BYTES}}}$")
}

/// The id of an upload: 32 lowercase hex digits, random (128 bits). Knowing
/// it is what lets a submission use the file, as with a presigned URL: it
/// is shown only to people who may see a run that used it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UploadId(String);

impl UploadId {
    /// A new, random id.
    pub fn generate() -> Self {
        UploadId(crate::crypto::random_hex(16))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UploadId {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let text = text.trim().to_owned();
        if text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(UploadId(text))
        } else {
            Err("is not an upload id (32 hex digits, from POST /api/v1/uploads)".to_owned())
        }
    }
}

impl From<UploadId> for String {
    fn from(id: UploadId) -> String {
        id.0
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An uploaded file as a run's inputs hold it:
/// `{"upload": "<id>", "name": "overrides.csv", "bytes": 1234, "media_type": "text/csv"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    pub upload: UploadId,
    /// The file's name as uploaded (one path segment).
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its media type as the uploader declared it.
    pub media_type: String,
}

impl FileRef {
    /// The reference inside an input value, if it is one.
    pub fn from_value(value: &Value) -> Option<Self> {
        serde_json::from_value(value.clone()).ok()
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The uploads a submission names, looked up by the server: what each id
/// stands for.
pub type Uploads = HashMap<UploadId, FileRef>;

/// The upload a submitted value names: its id as text, or the `upload` of a
/// [`FileRef`] (as an earlier run's inputs hold it). The rest of such a
/// reference is not trusted: the server looks the upload up again.
pub fn named_upload(value: &Value) -> Option<UploadId> {
    let id = match value {
        Value::String(id) => id,
        Value::Object(object) => object.get("upload")?.as_str()?,
        _ => return None,
    };
    UploadId::try_from(id.to_owned()).ok()
}

/// A submitted file value as the upload it names, from `uploads`.
pub(super) fn resolve(value: &Value, uploads: &Uploads) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let Some(id) = named_upload(value) else {
        return Err(
            "must be an uploaded file: upload it first (POST /api/v1/uploads) and give its id"
                .to_owned(),
        );
    };
    uploads
        .get(&id)
        .map(FileRef::to_value)
        .ok_or_else(|| format!("names the upload {id}, which does not exist or holds no file yet"))
}

/// Checks an uploaded file's name: one path segment (not `.` or `..`) of
/// 1 to [`MAX_FILE_NAME_BYTES`] bytes, without `/`, `\\` or characters that
/// do not show, with at least one that does ([`file_name_pattern`] says the
/// same but for the bytes).
///
/// # Errors
/// What is wrong with it, completing "the file name …".
pub fn check_file_name(name: &str) -> Result<(), String> {
    if name.contains('/') || name.contains('\\') {
        return Err("must not contain / or \\".to_owned());
    }
    if name.len() > MAX_FILE_NAME_BYTES {
        return Err(format!(
            "is longer than {MAX_FILE_NAME_BYTES} bytes, the most a file system takes ({} bytes as UTF-8)",
            name.len()
        ));
    }
    if name.chars().any(is_hidden) {
        return Err(
            "holds a control character or one that does not show (such as a direction override)"
                .to_owned(),
        );
    }
    if name.chars().all(char::is_whitespace) {
        return Err("must have a character that shows".to_owned());
    }
    check_relative_path(name, MAX_FILE_NAME_BYTES)
}

/// A name a browser sent for a chosen file, made into one this accepts: its
/// last path segment, hidden characters dropped, cut to
/// [`MAX_FILE_NAME_BYTES`] keeping the extension; `file` when nothing is left.
pub fn tidy_file_name(sent: &str) -> String {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or_default();
    let shown: String = last.chars().filter(|c| !is_hidden(*c)).collect();
    let shown = shown.trim();
    let mut name = match shown {
        "" | "." | ".." => "file".to_owned(),
        other => other.to_owned(),
    };
    if name.len() > MAX_FILE_NAME_BYTES {
        let extension = name
            .rfind('.')
            .map(|dot| name[dot..].to_owned())
            .filter(|ext| ext.len() <= 16)
            .unwrap_or_default();
        let mut stem = name[..name.len() - extension.len()].to_owned();
        while stem.len() + extension.len() > MAX_FILE_NAME_BYTES {
            stem.pop();
        }
        name = format!("{}{extension}", stem.trim_end());
    }
    name
}

/// Reads the keywords of a `format = "file"` property.
pub(super) fn parse(
    spec: &Map<String, Value>,
    path: &str,
    problems: &mut Problems,
) -> Option<FieldKind> {
    let media_type = match spec.get("contentMediaType") {
        None => None,
        Some(Value::String(media))
            if media
                .split_once('/')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty()) =>
        {
            Some(media.to_ascii_lowercase())
        }
        Some(_) => {
            problems.add(
                format!("{path}.contentMediaType"),
                "must be a media type such as \"text/csv\"",
            );
            return None;
        }
    };
    let max_bytes = match spec.get("x-max-bytes") {
        None => None,
        Some(value) => match value.as_u64().filter(|n| *n > 0) {
            Some(n) => Some(n),
            None => {
                problems.add(
                    format!("{path}.x-max-bytes"),
                    "must be a whole number of bytes, 1 or more",
                );
                return None;
            }
        },
    };
    if spec.contains_key("default") {
        problems.add(
            format!("{path}.default"),
            "a file takes no default: the person uploads one",
        );
        return None;
    }
    Some(FieldKind::File {
        media_type,
        max_bytes,
    })
}

/// The media type a file's name suggests (`overrides.csv`: `text/csv`),
/// `application/octet-stream` when it suggests none.
pub fn media_type_of(name: &str) -> String {
    mime_guess::from_path(name)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

/// The usual extensions of a media type (`text/csv`: `csv`), best first.
pub fn extensions_of(media_type: &str) -> &'static [&'static str] {
    mime_guess::get_mime_extensions_str(media_type).unwrap_or_default()
}

/// What a file input takes, in a planner's words: "a .csv file" for
/// `text/csv`, "a text file" for `text/*`, "a file" for anything.
pub fn describe_file(media_type: Option<&str>) -> String {
    match media_type {
        None => "a file".to_owned(),
        Some(media) => match media.strip_suffix("/*") {
            Some(top) => format!("a {top} file"),
            None => match extensions_of(media).first() {
                Some(extension) => format!("a .{extension} file"),
                None => format!("a {media} file"),
            },
        },
    }
}

/// Bytes as a person reads them: `812 bytes`, `1.5 MiB`.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    let text = format!("{size:.1}");
    format!("{} {}", text.trim_end_matches(".0"), UNITS[unit])
}

/// Whether a file is of the media type a field asks for: by the type its
/// uploader declared, or by its name's extension (browsers on Windows call
/// a CSV `application/vnd.ms-excel`). `text/*` matches every text type.
fn matches_media(wanted: &str, file: &FileRef) -> bool {
    let fits = |media: &str| {
        let media = media
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match wanted.strip_suffix("/*") {
            Some(top) => media.split('/').next() == Some(top),
            None => media == wanted,
        }
    };
    fits(&file.media_type)
        || mime_guess::from_path(&file.name)
            .iter()
            .any(|guess| fits(guess.essence_str()))
}

/// Checks a file input's value: a [`FileRef`] within the field's limits.
pub(super) fn check(
    value: &Value,
    media_type: Option<&str>,
    max_bytes: Option<u64>,
) -> Result<Value, String> {
    let Some(file) = FileRef::from_value(value) else {
        return Err(
            "must be an uploaded file: upload it first (POST /api/v1/uploads) and give its id"
                .to_owned(),
        );
    };
    check_file_name(&file.name).map_err(|message| format!("has a file name that {message}"))?;
    if let Some(max) = max_bytes
        && file.bytes > max
    {
        return Err(format!(
            "must be at most {}; {} is {}",
            size_text(max),
            file.name,
            size_text(file.bytes)
        ));
    }
    if let Some(wanted) = media_type
        && !matches_media(wanted, &file)
    {
        return Err(format!(
            "must be {} ({wanted}); {} is not",
            describe_file(Some(wanted)),
            file.name
        ));
    }
    Ok(file.to_value())
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
