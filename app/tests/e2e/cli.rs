//! The `modelrun` binary itself, as the README uses it.

use std::io::Write;
use std::process::{Command, Stdio};

/// The binary with a clean environment: nothing of the person running the
/// tests (a data directory, a database, an administrator) leaks in.
pub(crate) fn bare_modelrun() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_modelrun"));
    for name in [
        "MODELRUN_ADMIN_EMAIL",
        "MODELRUN_ADMIN_PASSWORD",
        "MODELRUN_DATA_DIR",
        "MODELRUN_DATABASE_URL",
        "DATABASE_URL",
        "MODELRUN_BIND",
    ] {
        command.env_remove(name);
    }
    command
}

pub(crate) fn modelrun(data: &std::path::Path) -> Command {
    let mut command = bare_modelrun();
    command.arg("--data-dir").arg(data);
    command
}

pub(crate) fn output(command: &mut Command) -> (bool, String, String) {
    let out = command.output().expect("run modelrun");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn users_and_tokens_are_created_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let (ok, _, err) = output(modelrun(dir.path()).arg("migrate"));
    assert!(ok, "{err}");

    let (ok, out, err) =
        output(modelrun(dir.path()).args(["users", "create", "--email", "Ann@Example.com"]));
    assert!(ok, "{err}");
    assert!(
        out.starts_with("Created ann@example.com (runner)."),
        "{out}"
    );
    let password = out.lines().last().unwrap_or_default();
    assert_eq!(password.len(), 24);

    let mut child = modelrun(dir.path())
        .args([
            "users",
            "create",
            "--email",
            "bob@example.com",
            "--role",
            "viewer",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"bob-password-long-enough\n")
        .expect("write");
    assert!(child.wait().expect("wait").success());
    let (ok, _, err) =
        output(modelrun(dir.path()).args(["users", "create", "--email", "bob@example.com"]));
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) =
        output(modelrun(dir.path()).args(["users", "create", "--email", "not-an-email"]));
    assert!(!ok && err.contains("must be an email address"), "{err}");

    let (ok, out, err) = output(modelrun(dir.path()).args([
        "tokens",
        "create",
        "--user",
        "ann@example.com",
        "--name",
        "ci",
    ]));
    assert!(ok, "{err}");
    let token = out.lines().last().unwrap_or_default();
    assert!(token.starts_with("mr_") && token.len() == 51, "{out}");
    let (ok, _, err) = output(modelrun(dir.path()).args([
        "tokens",
        "create",
        "--user",
        "bob@example.com",
        "--role",
        "admin",
    ]));
    assert!(!ok && err.contains("higher role"), "{err}");
    let (ok, _, err) =
        output(modelrun(dir.path()).args(["tokens", "create", "--user", "nobody@example.com"]));
    assert!(
        !ok && err.contains("there is no user nobody@example.com"),
        "{err}"
    );
}

#[test]
fn models_are_registered_once_per_content() {
    let dir = tempfile::tempdir().expect("dir");
    let model =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/forecast");
    let (ok, out, err) = output(
        modelrun(dir.path())
            .args(["models", "register"])
            .arg(&model),
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("Registered version "), "{out}");
    let (ok, out, _) = output(
        modelrun(dir.path())
            .args(["models", "register"])
            .arg(&model),
    );
    assert!(ok && out.contains("already registered"), "{out}");
    let (ok, out, _) = output(modelrun(dir.path()).args(["models", "list"]));
    assert!(
        ok && out.starts_with("forecast — Revenue forecast"),
        "{out}"
    );

    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).expect("mkdir");
    std::fs::write(broken.join("modelrun.toml"), "name = \"Bad Name\"\n[inputs]\ntype = \"object\"\n[inputs.properties.x]\ntype = \"array\"\n")
        .expect("write");
    let (ok, _, err) = output(
        modelrun(dir.path())
            .args(["models", "register"])
            .arg(&broken),
    );
    assert!(!ok, "a broken manifest was registered");
    assert!(
        err.contains("name: must be") && err.contains("inputs.properties.x.type"),
        "{err}"
    );
}

#[test]
fn a_lost_password_is_set_again_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let (ok, _, err) =
        output(modelrun(dir.path()).args(["users", "create", "--email", "ann@example.com"]));
    assert!(ok, "{err}");

    let (ok, out, err) =
        output(modelrun(dir.path()).args(["users", "set-password", "--email", "Ann@Example.com"]));
    assert!(ok, "{err}");
    assert!(
        out.starts_with("The password of ann@example.com is set; their sessions have ended."),
        "{out}"
    );
    assert_eq!(out.lines().last().unwrap_or_default().len(), 24, "{out}");

    let mut child = modelrun(dir.path())
        .args([
            "users",
            "set-password",
            "--email",
            "ann@example.com",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"short\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("at least 12 characters"),
        "{err}"
    );

    let (ok, _, err) = output(modelrun(dir.path()).args([
        "users",
        "set-password",
        "--email",
        "nobody@example.com",
    ]));
    assert!(
        !ok && err.contains("there is no user nobody@example.com"),
        "{err}"
    );
}

/// Accounts are disabled and enabled from the command line; the last
/// enabled administrator is not.
#[test]
fn accounts_are_disabled_and_enabled_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    for (email, role) in [("root@example.com", "admin"), ("ann@example.com", "runner")] {
        let (ok, _, err) = output(
            modelrun(dir.path()).args(["users", "create", "--email", email, "--role", role]),
        );
        assert!(ok, "{err}");
    }
    let (ok, _, err) =
        output(modelrun(dir.path()).args(["users", "disable", "--email", "root@example.com"]));
    assert!(
        !ok && err.contains("last enabled administrator cannot be disabled"),
        "{err}"
    );
    let (ok, out, err) =
        output(modelrun(dir.path()).args(["users", "disable", "--email", "Ann@Example.com"]));
    assert!(
        ok && out.starts_with("ann@example.com is disabled"),
        "{out}{err}"
    );
    let (ok, out, err) =
        output(modelrun(dir.path()).args(["users", "enable", "--email", "ann@example.com"]));
    assert!(
        ok && out.starts_with("ann@example.com is enabled again"),
        "{out}{err}"
    );
    let (ok, _, err) =
        output(modelrun(dir.path()).args(["users", "enable", "--email", "nobody@example.com"]));
    assert!(
        !ok && err.contains("there is no user nobody@example.com"),
        "{err}"
    );
}

#[test]
fn secrets_are_set_from_standard_input_and_listed_without_values() {
    let dir = tempfile::tempdir().expect("dir");
    let model = dir.path().join("warehouse");
    std::fs::create_dir_all(&model).expect("mkdir");
    std::fs::write(
        model.join("modelrun.toml"),
        "name = \"warehouse\"\ncommand = [\"true\"]\nsecrets = [\"WAREHOUSE_URL\"]\n\
         [inputs]\ntype = \"object\"\n",
    )
    .expect("manifest");
    let (ok, _, err) = output(
        modelrun(dir.path())
            .args(["models", "register"])
            .arg(&model),
    );
    assert!(ok, "{err}");

    let set = |name: &str, value: &[u8]| {
        let mut child = modelrun(dir.path())
            .args(["secrets", "set", "warehouse", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(value)
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = set("WAREHOUSE_URL", b"postgres://u:Hidden-Pass@db/x\n");
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "The secret WAREHOUSE_URL of warehouse is set.");
    let (ok, _, err) = set("not-a-name", b"x");
    assert!(!ok && err.contains("is not a secret name"), "{err}");
    let (ok, _, err) = set("WAREHOUSE_URL", b"");
    assert!(!ok && err.contains("the value is empty"), "{err}");

    let (ok, out, err) = output(modelrun(dir.path()).args(["secrets", "list", "warehouse"]));
    assert!(ok, "{err}");
    assert!(
        out.starts_with("WAREHOUSE_URL  set ") && out.contains("by system:cli"),
        "{out}"
    );
    assert!(!out.contains("Hidden-Pass"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.path().join("secrets.key");
        let mode = std::fs::metadata(&key).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key is its owner's alone");
    }

    let (ok, out, _) =
        output(modelrun(dir.path()).args(["secrets", "delete", "warehouse", "WAREHOUSE_URL"]));
    assert!(ok && out.contains("is deleted"), "{out}");
    let (ok, out, _) = output(modelrun(dir.path()).args(["secrets", "list", "warehouse"]));
    assert!(ok && out.contains("WAREHOUSE_URL  not set"), "{out}");
    let (ok, _, err) = output(modelrun(dir.path()).args(["secrets", "list", "missing"]));
    assert!(!ok && err.contains("there is no model missing"), "{err}");
}
