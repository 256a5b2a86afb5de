//! Which installation the one-shot commands act on: an existing one, the
//! server's, named in what they print; never one they make up in whatever
//! directory they were typed in. And the secrets key they seal with: the
//! server's, never one of their own.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::cli::{bare_modelrun, modelrun, output};

/// The program as the tests start it, which hints repeat.
const BIN: &str = env!("CARGO_BIN_EXE_modelrun");

const MANIFEST: &str = "name = \"warehouse\"\ncommand = [\"true\"]\n\
    secrets = [\"WAREHOUSE_URL\"]\n[inputs]\ntype = \"object\"\n";

/// A model directory, as `modelrun models register .` finds it.
fn model_dir(parent: &Path) -> std::path::PathBuf {
    let model = parent.join("my-model");
    std::fs::create_dir_all(&model).expect("mkdir");
    std::fs::write(model.join("modelrun.toml"), MANIFEST).expect("manifest");
    model
}

/// Runs `command` with `stdin` on its standard input.
pub(crate) fn piped(command: &mut Command, stdin: &[u8]) -> (bool, String, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `cd my-model && modelrun models register .` while the server runs in
/// another directory: refused, naming the directory it looked for, and
/// nothing is created there. The same for every command that is not a
/// server or `migrate`.
#[test]
fn local_commands_refuse_a_data_directory_that_is_not_there() {
    let dir = tempfile::tempdir().expect("dir");
    let model = model_dir(dir.path());
    let expected = model.canonicalize().expect("abs").join(".modelrun");
    let in_model = || {
        let mut command = bare_modelrun();
        command.current_dir(&model);
        command
    };
    let commands: [&[&str]; 8] = [
        &["models", "register", "."],
        &["models", "list"],
        &["users", "create", "--email", "ann@example.com"],
        &["users", "set-password", "--email", "ann@example.com"],
        &["users", "disable", "--email", "ann@example.com"],
        &["tokens", "create", "--user", "ann@example.com"],
        &["secrets", "list", "warehouse"],
        &["secrets", "delete", "warehouse", "WAREHOUSE_URL"],
    ];
    for args in commands {
        let (ok, out, err) = output(in_model().args(args));
        assert!(!ok, "{args:?}: {out}");
        assert!(
            err.contains(&format!(
                "there is no data directory {}",
                expected.display()
            )) && err.contains("never creates one")
                && err.contains("--data-dir or MODELRUN_DATA_DIR")
                && err.contains("DATABASE_URL")
                && err.contains(&format!("run `{BIN} migrate` or `{BIN} up` first")),
            "{args:?}: {err}"
        );
    }
    let (ok, _, err) = piped(
        in_model().args(["secrets", "set", "warehouse", "WAREHOUSE_URL"]),
        b"value\n",
    );
    assert!(!ok && err.contains("there is no data directory"), "{err}");
    assert!(
        !expected.exists(),
        "no data directory was made in the model's"
    );

    // A directory that is there but holds no installation is no better.
    std::fs::create_dir_all(&expected).expect("mkdir");
    let (ok, _, err) = output(in_model().args(["models", "register", "."]));
    assert!(
        !ok && err.contains(&format!(
            "{} is not a modelrun data directory (it has no modelrun.db)",
            expected.display()
        )),
        "{err}"
    );
    assert!(!expected.join("modelrun.db").exists());

    // The server's, named: used, and said so.
    let server = dir.path().join("server");
    let (ok, out, err) = output(modelrun(&server).arg("migrate"));
    assert!(ok, "{err}");
    assert!(
        out.contains(&server.join("modelrun.db").display().to_string()),
        "{out}"
    );
    let (ok, out, err) = output(
        in_model()
            .args(["--data-dir"])
            .arg(&server)
            .args(["models", "register", "."]),
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("warehouse: registered version "), "{out}");
    assert_eq!(
        err.trim(),
        format!("Using the data directory {}.", server.display())
    );
}

/// On Postgres the database is the server's from anywhere, so accounts and
/// tokens need no data directory; the versions' files and the secrets key
/// still live in one, and the commands that need them need the server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_only_files_and_the_key_need_the_data_directory() {
    let database = modelrun_db::postgres::testing::TempDatabase::create().await;
    let url = database.config.url.expose().to_owned();
    let dir = tempfile::tempdir().expect("dir");
    let model = model_dir(dir.path());
    let missing = dir.path().join("nowhere");
    let on_postgres = || {
        let mut command = modelrun(&missing);
        command.env("DATABASE_URL", &url);
        command
    };
    let (ok, _, err) = output(on_postgres().arg("migrate"));
    assert!(ok, "{err}");
    let (ok, _, err) =
        output(on_postgres().args(["users", "create", "--email", "ann@example.com"]));
    assert!(ok, "{err}");
    let name = database
        .config
        .url
        .expose()
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let name = name.split('?').next().unwrap_or_default();
    assert!(
        err.starts_with(&format!("Using the Postgres database {name} on ")),
        "{err}"
    );
    assert!(!err.contains("postgres://"), "no URL, no password: {err}");

    let (ok, _, err) = output(on_postgres().args(["models", "register"]).arg(&model));
    assert!(
        !ok && err.contains(&format!("there is no data directory {}", missing.display()))
            && err.contains("which holds the versions' files")
            && err.contains("start the server with it once first"),
        "{err}"
    );
    let (ok, _, err) = output(on_postgres().args(["secrets", "list", "warehouse"]));
    assert!(!ok && err.contains("which holds the secrets key"), "{err}");
    assert!(!missing.exists());

    // With the key given, the secrets need no data directory either.
    let (ok, _, err) = output(
        on_postgres()
            .args(["secrets", "list", "warehouse"])
            .env("MODELRUN_SECRETS_KEY", "ab".repeat(32)),
    );
    assert!(
        !ok && err.contains("there is no model warehouse"),
        "it got as far as the model: {err}"
    );
    assert!(!missing.exists());
}

/// Only the server makes the secrets key. Without it a command refuses,
/// naming where it looked; a key file others may read is refused; and a
/// value sealed with another key is listed as one this key cannot read.
#[test]
fn secrets_are_sealed_with_the_servers_key_only() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let model = model_dir(dir.path());
    let (ok, _, err) = output(modelrun(&data).arg("migrate"));
    assert!(ok, "{err}");
    let (ok, _, err) = output(modelrun(&data).args(["models", "register"]).arg(&model));
    assert!(ok, "{err}");
    let set = |command: &mut Command, value: &[u8]| {
        piped(
            command.args(["secrets", "set", "warehouse", "WAREHOUSE_URL"]),
            value,
        )
    };

    let key = data.join("secrets.key");
    let (ok, _, err) = set(&mut modelrun(&data), b"postgres://u:Hidden-Pass@db/x\n");
    assert!(
        !ok && err.contains(&format!(
            "MODELRUN_SECRETS_KEY is not set and {} does not exist",
            key.display()
        )) && err.contains("Only the server creates the key"),
        "{err}"
    );
    assert!(!key.exists(), "no key of its own");

    // As the server leaves it, but then copied without care.
    std::fs::write(&key, format!("{}\n", "ab".repeat(32))).expect("key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let (ok, _, err) = set(&mut modelrun(&data), b"postgres://u:Hidden-Pass@db/x\n");
        assert!(
            !ok && err.contains("may be read or changed by other users (mode 644)")
                && err.contains(&format!("chmod 600 {}", key.display())),
            "{err}"
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let (ok, out, err) = set(&mut modelrun(&data), b"postgres://u:Hidden-Pass@db/x\n");
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "The secret WAREHOUSE_URL of warehouse is set.");
    assert!(
        err.contains(&format!("with the secrets key {}", key.display())),
        "{err}"
    );
    let (ok, out, err) = output(modelrun(&data).args(["secrets", "list", "warehouse"]));
    assert!(ok, "{err}");
    assert!(
        out.starts_with("WAREHOUSE_URL  set ") && out.contains("by system:cli\n"),
        "{out}"
    );
    assert!(!out.contains("Hidden-Pass"));

    // Another key, as a command given the wrong MODELRUN_SECRETS_KEY has.
    let (ok, out, err) = output(
        modelrun(&data)
            .args(["secrets", "list", "warehouse"])
            .env("MODELRUN_SECRETS_KEY", "cd".repeat(32)),
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("with the secrets key of MODELRUN_SECRETS_KEY")
            && out.contains("but the key in use cannot read it")
            && out.contains("encrypted with another key"),
        "{out}{err}"
    );
}

/// The value on standard input, as people pipe it, and the messages for
/// what cannot be set: the same for every subcommand.
#[test]
fn secrets_from_the_command_line_say_what_is_wrong() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let model = model_dir(dir.path());
    let (ok, _, err) = output(modelrun(&data).arg("migrate"));
    assert!(ok, "{err}");
    let (ok, _, err) = output(modelrun(&data).args(["models", "register"]).arg(&model));
    assert!(ok, "{err}");
    let keyed = || {
        let mut command = modelrun(&data);
        command.env("MODELRUN_SECRETS_KEY", "ab".repeat(32));
        command
    };
    let set = |name: &str, value: &[u8]| {
        piped(keyed().args(["secrets", "set", "warehouse", name]), value)
    };

    for (value, why) in [
        (&b""[..], "value: must not be empty"),
        (b"   \n", "value: must not be only white space"),
        (b"\r\n", "value: must not be empty"),
    ] {
        let (ok, _, err) = set("WAREHOUSE_URL", value);
        assert!(!ok && err.contains(why), "{value:?}: {err}");
    }
    let (ok, _, err) = set("WAREHOUSE_URL", &vec![b'x'; 32 * 1024 + 1]);
    assert!(!ok && err.contains("at most 32768 bytes (32 KiB)"), "{err}");
    let (ok, _, err) = set("LD_PRELOAD", b"/tmp/x.so\n");
    assert!(
        !ok && err.contains("LD_PRELOAD cannot be a secret's name"),
        "{err}"
    );
    let (ok, _, err) = set("PYTHONPATH", b"/opt/lib\n");
    assert!(
        !ok && err.contains("no version of warehouse reads a secret PYTHONPATH")
            && err.contains("it reads WAREHOUSE_URL"),
        "{err}"
    );
    let (ok, _, err) = set("MODELRUN_X", b"x\n");
    assert!(
        !ok && err.contains("names starting with MODELRUN_ are modelrun's own"),
        "{err}"
    );

    let (ok, _, err) = piped(
        keyed().args(["secrets", "set", "nosuchmodel", "X"]),
        b"value\n",
    );
    let no_model = "there is no model nosuchmodel";
    assert!(!ok && err.contains(no_model), "{err}");
    for args in [
        ["secrets", "delete", "nosuchmodel", "X"],
        ["secrets", "list", "nosuchmodel", ""],
    ] {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        let (ok, _, err) = output(keyed().args(&args));
        assert!(!ok && err.contains(no_model), "{args:?}: {err}");
        assert!(!err.contains("nothing here"), "{err}");
    }
}

/// A setting the server cannot use stops `up` before it makes anything:
/// no administrator whose printed password would be lost with the error.
#[test]
fn a_bad_setting_stops_the_first_start_before_the_administrator_is_made() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let up = |zone: &str| {
        let mut command = modelrun(&data);
        command
            .args(["up", "--no-example", "--time-zone", zone])
            .env("MODELRUN_BIND", "127.0.0.1:0");
        command
    };
    let (ok, out, err) = output(&mut up("Mars/Base"));
    assert!(!ok, "{out}");
    assert!(
        err.contains("--time-zone") && err.contains("Mars/Base"),
        "{err}"
    );
    assert!(!out.contains("Created the administrator"), "{out}");

    // The next start is still the first: it makes the administrator and
    // prints the password.
    let mut child = up("Europe/Berlin")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn modelrun up");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok);
    let created = lines.find(|line| line.contains("administrator"));
    child.kill().expect("kill");
    child.wait().expect("wait");
    let created = created.expect("a line about the administrator");
    assert!(
        created.starts_with("Created the administrator"),
        "{created}"
    );
}
