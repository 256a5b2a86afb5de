//! Registering a model directory: a version is a copy of regular files, so
//! a directory holding links (the manifest among them) is refused, naming
//! each, rather than registered with files silently missing.

use std::os::unix::fs::symlink;

use crate::support::*;

const MANIFEST: &str = "name = \"linked\"\ncommand = [\"python3\", \"model.py\"]\n\
                        [inputs]\ntype = \"object\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_in_a_model_directory_are_refused_by_name() {
    let h = Harness::new(1).await;
    let outside = h.dir.path().join("outside");
    std::fs::create_dir_all(outside.join("data")).expect("mkdir");
    std::fs::write(outside.join("modelrun.toml"), MANIFEST).expect("manifest");
    let dir = h.dir.path().join("src/linked");
    std::fs::create_dir_all(dir.join("lib")).expect("mkdir");
    std::fs::write(dir.join("model.py"), "print('ok')\n").expect("model");
    symlink(outside.join("modelrun.toml"), dir.join("modelrun.toml")).expect("symlink");
    symlink(outside.join("data"), dir.join("lib/data")).expect("symlink");
    symlink("/etc/hostname", dir.join("hostname")).expect("symlink");
    // Ignored directories stay ignored, links or not.
    symlink("/usr", dir.join(".venv")).expect("symlink");

    let error = h.try_register(&dir).await.expect_err("refused").to_string();
    for named in [
        "modelrun.toml: a symbolic link to",
        "lib/data: a symbolic link to",
        "hostname: a symbolic link to /etc/hostname",
    ] {
        assert!(error.contains(named), "{named:?} missing from: {error}");
    }
    assert!(!error.contains(".venv"), "{error}");
    assert!(
        !h.data().join("models/linked").exists(),
        "nothing of a refused version is kept"
    );

    // With the links replaced by the files themselves, it registers.
    for link in ["modelrun.toml", "hostname", "lib/data"] {
        std::fs::remove_file(dir.join(link)).expect("unlink");
    }
    std::fs::write(dir.join("modelrun.toml"), MANIFEST).expect("manifest");
    let version = h.register(&dir).await;
    assert_eq!(version.model, "linked");
}
