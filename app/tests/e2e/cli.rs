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
        "MODELRUN_SECRETS_KEY",
        // Set by `cargo test`, they would make the binary believe that
        // `cargo run` started it.
        "CARGO",
        "CARGO_PKG_NAME",
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
        "users",
        "create",
        "--email",
        "root@example.com",
        "--role",
        "admin",
    ]));
    assert!(ok, "{err}");
    let (ok, out, err) =
        output(modelrun(dir.path()).args(["tokens", "create", "--user", "root@example.com"]));
    assert!(
        ok && out.contains("\"cli\" of root@example.com with the runner role"),
        "{err}{out}"
    );
    let (ok, out, err) = output(modelrun(dir.path()).args([
        "tokens",
        "create",
        "--user",
        "root@example.com",
        "--role",
        "admin",
    ]));
    assert!(ok && out.contains("with the admin role"), "{err}{out}");
    let (ok, out, err) =
        output(modelrun(dir.path()).args(["tokens", "create", "--user", "bob@example.com"]));
    assert!(ok && out.contains("with the viewer role"), "{err}{out}");
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
    let (ok, _, err) = output(modelrun(dir.path()).arg("migrate"));
    assert!(ok, "{err}");
    let model =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/forecast");
    let (ok, out, err) = output(
        modelrun(dir.path())
            .args(["models", "register"])
            .arg(&model),
    );
    assert!(ok, "{err}");
    let label = out
        .strip_prefix("forecast: registered version ")
        .and_then(|rest| rest.lines().next())
        .and_then(|line| line.strip_suffix('.'))
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    let (ok, out, _) = output(
        modelrun(dir.path())
            .args(["models", "register"])
            .arg(&model),
    );
    let unchanged =
        format!("forecast: unchanged; version {label} is already registered with these files.");
    assert!(ok && out.trim_end() == unchanged, "{out}");
    // Another label for the same files names the version they already are.
    let (ok, out, _) = output(
        modelrun(dir.path())
            .args(["models", "register", "--label", "v1"])
            .arg(&model),
    );
    assert!(
        ok && out.starts_with(&unchanged) && out.contains("The label v1 was not used"),
        "{out}"
    );
    let (ok, out, _) = output(modelrun(dir.path()).args(["models", "list"]));
    assert!(
        ok && out.starts_with("forecast — Revenue forecast") && out.lines().count() == 2,
        "one version: {out}"
    );
    // Changed files under that label are a new version.
    let changed = dir.path().join("forecast");
    std::fs::create_dir_all(&changed).expect("mkdir");
    for name in ["modelrun.toml", "forecast.py"] {
        std::fs::copy(model.join(name), changed.join(name)).expect("copy");
    }
    let (ok, out, err) = output(
        modelrun(dir.path())
            .args(["models", "register", "--label", "v1"])
            .arg(&changed),
    );
    assert!(
        ok && out.starts_with("forecast: registered version v1."),
        "{err}{out}"
    );

    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).expect("mkdir");
    std::fs::write(broken.join("modelrun.toml"), "name = \"Bad Name\"\n[inputs]\ntype = \"object\"\n[inputs.properties.x]\ntype = \"object\"\n")
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

    // A missing requirements file is named once, with its cause once.
    std::fs::write(
        broken.join("modelrun.toml"),
        "name = \"broken\"\ncommand = [\"python3\", \"m.py\"]\n\
         [environment]\nrequirements = \"requirements.txt\"\n[inputs]\ntype = \"object\"\n",
    )
    .expect("write");
    let (ok, _, err) = output(
        modelrun(dir.path())
            .args(["models", "register"])
            .arg(&broken),
    );
    assert!(!ok, "registered without its requirements");
    assert!(
        err.contains("requirements.txt") && err.matches("No such file").count() == 1,
        "{err}"
    );
}

#[test]
fn a_lost_password_is_set_again_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let (ok, _, err) = output(modelrun(dir.path()).arg("migrate"));
    assert!(ok, "{err}");
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
    let (ok, _, err) = output(modelrun(dir.path()).arg("migrate"));
    assert!(ok, "{err}");
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

/// A switch read from the environment takes what people write there:
/// `PIP_NO_INDEX=1`, as pip and docs/models.md spell it, `yes`, `off`…
/// and means what it says (`MODELRUN_NO_MIGRATE=off` migrates, `=yes` does
/// not); anything else is refused, naming the option.
#[test]
fn switches_read_from_the_environment_take_the_usual_spellings() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (ok, _, err) = output(modelrun(&data).arg("migrate"));
    assert!(ok, "{err}");
    let spellings = [
        "1", "0", "yes", "no", "on", "off", "true", "false", "TRUE", "Y",
    ];
    for variable in [
        "PIP_NO_INDEX",
        "MODELRUN_DB_BEHIND_PROXY",
        "MODELRUN_NO_MIGRATE",
    ] {
        for value in spellings {
            let (ok, _, err) = output(
                modelrun(&data)
                    .args(["models", "list"])
                    .env(variable, value),
            );
            assert!(ok, "{variable}={value}: {err}");
        }
    }
    // The switches of the servers: each fails only after reading its
    // options, at the data directory, which is a file here.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    for variable in [
        "MODELRUN_NO_EXAMPLE",
        "MODELRUN_S3_FORCE_PATH_STYLE",
        "PIP_NO_INDEX",
    ] {
        for value in spellings {
            let (ok, _, err) = output(
                modelrun(&file)
                    .arg("up")
                    .env("MODELRUN_BIND", "127.0.0.1:0")
                    .env(variable, value),
            );
            assert!(
                !ok && !err.contains("invalid value"),
                "{variable}={value}: {err}"
            );
        }
    }
    let (ok, _, err) = output(
        modelrun(&data)
            .args(["models", "list"])
            .env("PIP_NO_INDEX", "maybe"),
    );
    assert!(
        !ok && err.contains("invalid value 'maybe' for '--pip-no-index'"),
        "{err}"
    );

    for (value, migrates) in [("off", true), ("0", true), ("yes", false), ("1", false)] {
        let fresh = dir.path().join(format!("unmigrated-{value}"));
        std::fs::create_dir_all(&fresh).expect("mkdir");
        std::fs::write(fresh.join("modelrun.db"), "").expect("empty database");
        let (ok, _, err) = output(
            modelrun(&fresh)
                .args(["models", "list"])
                .env("MODELRUN_NO_MIGRATE", value),
        );
        assert_eq!(ok, migrates, "MODELRUN_NO_MIGRATE={value}: {err}");
    }
}

/// The worker's start-up line states how many runs execute at once (what
/// --max-concurrent-runs sets), apart from the tasks it handles at once.
#[test]
fn the_worker_says_how_many_runs_execute_at_once() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("dir");
    let mut child = modelrun(dir.path())
        .args([
            "--log-format",
            "json",
            "worker",
            "--max-concurrent-runs",
            "3",
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn modelrun worker");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, read) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let started = std::iter::from_fn(|| read.recv_timeout(std::time::Duration::from_secs(60)).ok())
        .find(|line| line.contains("worker started"));
    child.kill().expect("kill");
    child.wait().expect("wait");
    let line = started.expect("a start-up line");
    let event: serde_json::Value = serde_json::from_str(&line).expect("json");
    let fields = &event["fields"];
    assert_eq!(fields["runs_at_once"], 3, "{line}");
    assert_eq!(fields["tasks_at_once"], 64, "{line}");
    assert!(
        fields["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("worker started: 3 runs at once")),
        "{line}"
    );
}
