//! Python packages for tests that build model environments offline.

use std::path::{Path, PathBuf};

/// A directory `wheels` under `root` with one pure-Python wheel,
/// `modelrun-probe 1.0`, whose module says `VALUE = 42`.
pub fn wheelhouse(root: &Path) -> PathBuf {
    let dir = root.join("wheels");
    std::fs::create_dir_all(&dir).expect("mkdir");
    probe_wheel(&dir, "1.0");
    dir
}

/// Writes `modelrun_probe-<version>-py3-none-any.whl` into `dir`: a wheel
/// with its metadata and a RECORD of hashes, as pip and uv expect.
pub fn probe_wheel(dir: &Path, version: &str) {
    let script = r#"
import base64, hashlib, sys, zipfile
folder, version = sys.argv[1], sys.argv[2]
info = f"modelrun_probe-{version}.dist-info"
files = {
    "modelrun_probe/__init__.py": "VALUE = 42\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: modelrun-probe\nVersion: {version}\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: modelrun-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for name, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record.append(f"{name},sha256={digest},{len(text.encode())}")
record.append(f"{info}/RECORD,,")
files[f"{info}/RECORD"] = "\n".join(record) + "\n"
with zipfile.ZipFile(f"{folder}/modelrun_probe-{version}-py3-none-any.whl", "w") as wheel:
    for name, text in files.items():
        wheel.writestr(name, text)
"#;
    let status = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(dir)
        .arg(version)
        .status()
        .expect("python3");
    assert!(status.success(), "the wheel was not built");
}
