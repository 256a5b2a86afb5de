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

/// Writes `modelrun_nosy-1.0.tar.gz` into `dir`: a source distribution
/// whose build backend (in the archive, needing nothing installed) looks
/// around while the environment is built, as a hostile package would: it
/// lists `data_dir`, tries to read `data_dir/modelrun.db` and to write
/// `data_dir/pwned`, and leaves a file in its home for the next build to
/// find. What it saw becomes the module's `SEEN`, a dict.
pub fn nosy_sdist(dir: &Path, data_dir: &Path) {
    let script = r#"
import io, sys, tarfile
folder, data_dir = sys.argv[1], sys.argv[2]
backend = '''
import base64, hashlib, json, os, zipfile
DATA = %r
def look():
    seen = {}
    try:
        seen["listing"] = sorted(os.listdir(DATA))
    except OSError as error:
        seen["listing"] = str(error)
    try:
        open(os.path.join(DATA, "modelrun.db"), "rb").read(16)
        seen["database"] = "read"
    except OSError as error:
        seen["database"] = str(error)
    try:
        open(os.path.join(DATA, "pwned"), "w").write("x")
        seen["write"] = "written"
    except OSError as error:
        seen["write"] = str(error)
    left = os.path.join(os.environ.get("HOME", "/nonexistent"), "left-by-a-build")
    seen["left_by_an_earlier_build"] = os.path.exists(left)
    try:
        open(left, "w").write("x")
    except OSError:
        pass
    seen["nonce"] = os.urandom(8).hex()
    return seen
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info = "modelrun_nosy-1.0.dist-info"
    files = {
        "modelrun_nosy/__init__.py": "import json\\nSEEN = json.loads(" + repr(json.dumps(look())) + ")\\n",
        info + "/METADATA": "Metadata-Version: 2.1\\nName: modelrun-nosy\\nVersion: 1.0\\n",
        info + "/WHEEL": "Wheel-Version: 1.0\\nGenerator: modelrun-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(name + ",sha256=" + digest + "," + str(len(text.encode())))
    record.append(info + "/RECORD,,")
    files[info + "/RECORD"] = "\\n".join(record) + "\\n"
    name = "modelrun_nosy-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)
    return name
''' % data_dir
files = {
    "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n[project]\nname = "modelrun-nosy"\nversion = "1.0"\n',
    "backend.py": backend,
    "PKG-INFO": "Metadata-Version: 2.1\nName: modelrun-nosy\nVersion: 1.0\n",
}
with tarfile.open(f"{folder}/modelrun_nosy-1.0.tar.gz", "w:gz") as archive:
    for name, text in files.items():
        data = text.encode()
        member = tarfile.TarInfo(f"modelrun_nosy-1.0/{name}")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
"#;
    let status = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(dir)
        .arg(data_dir)
        .status()
        .expect("python3");
    assert!(status.success(), "the source distribution was not built");
}
