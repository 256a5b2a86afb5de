//! The boundary around a local run. On Linux every run executes in a
//! bubblewrap sandbox (Debian's `bubblewrap`): its own PID, IPC, UTS, mount
//! and user namespaces, the machine's file system read-only, modelrun's data
//! directory replaced by an empty one in which only the run's own files
//! appear (its working and output directories writable, its inputs and
//! their files, its version's snapshot and the environments read-only), a
//! fresh `/tmp`, `/run` and `/dev/shm`, no capabilities, and a session of
//! its own. It sees none of modelrun's processes, environment, database,
//! keys or other runs. When the server dies, bubblewrap dies with it
//! (`--die-with-parent`) and, as the sandbox's PID namespace loses its
//! first process, the kernel ends every process of the run, however it
//! detached itself.
//!
//! Where bubblewrap cannot run (not installed, not Linux, user namespaces
//! refused) runs are plain processes of the server's user; [`Boundary`]
//! says so, and the server says it at start-up and on its admin pages. No
//! silent downgrade: `--sandbox required` refuses to start instead.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use modelrun_core::config::SandboxMode;

/// How local runs are contained, decided once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Boundary {
    /// Each run in a bubblewrap sandbox.
    Sandbox { bwrap: PathBuf },
    /// Runs are plain processes of the server's user, and why.
    Unconfined { why: String },
}

impl Boundary {
    /// Finds bubblewrap on `search_path` and checks that it can make a
    /// sandbox here. `Required` fails when it cannot; `Off` does not try.
    pub fn detect(mode: SandboxMode, search_path: &str) -> Result<Boundary, String> {
        if mode == SandboxMode::Off {
            return Ok(Boundary::Unconfined {
                why: "the sandbox is turned off (--sandbox off)".to_owned(),
            });
        }
        let found = probe(search_path);
        match (found, mode) {
            (Ok(bwrap), _) => Ok(Boundary::Sandbox { bwrap }),
            (Err(why), SandboxMode::Required) => Err(format!(
                "--sandbox required, but runs cannot be sandboxed here: {why}"
            )),
            (Err(why), _) => Ok(Boundary::Unconfined { why }),
        }
    }

    pub fn is_sandboxed(&self) -> bool {
        matches!(self, Boundary::Sandbox { .. })
    }

    /// One sentence for people: what a model can reach.
    pub fn describe(&self) -> String {
        match self {
            Boundary::Sandbox { .. } => "each run executes in a bubblewrap sandbox: it sees none \
                of modelrun's processes, environment, database or other runs, and only its own \
                directories are writable"
                .to_owned(),
            Boundary::Unconfined { why } => format!(
                "runs are NOT sandboxed ({why}): a model runs as the server's user and can read \
                 what that user can, including modelrun's data directory and database; install \
                 bubblewrap (apt-get install bubblewrap) and restart, or run only models you trust"
            ),
        }
    }
}

/// bubblewrap's path, once it has made a sandbox here; else why not.
fn probe(search_path: &str) -> Result<PathBuf, String> {
    if !cfg!(target_os = "linux") {
        return Err("sandboxes need Linux".to_owned());
    }
    let bwrap = search_path
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| Path::new(dir).join("bwrap"))
        .find(|path| path.is_file())
        .ok_or("bubblewrap (bwrap) is not installed")?;
    let tried = std::process::Command::new(&bwrap)
        .args([
            "--ro-bind",
            "/",
            "/",
            "--unshare-all",
            "--die-with-parent",
            "--",
            "true",
        ])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|error| format!("{} cannot start: {error}", bwrap.display()))?;
    if tried.status.success() {
        Ok(bwrap)
    } else {
        Err(format!(
            "{} cannot make a sandbox here (user namespaces refused?): {}",
            bwrap.display(),
            String::from_utf8_lossy(&tried.stderr).trim()
        ))
    }
}

/// What one run may reach.
pub(super) struct Reach<'a> {
    /// modelrun's data directory: hidden, but for what follows.
    pub data_dir: &'a Path,
    /// The run's working directory (`inputs.json`, `files/`, `outputs/`, `tmp/`).
    pub work: &'a Path,
    /// The version's snapshot, seen read-only at `<work>/model`.
    pub snapshot: &'a Path,
    /// Where model environments are, seen read-only.
    pub environments: &'a Path,
    /// Whether the run may use the network.
    pub network: bool,
}

/// The program and arguments that start `command` in the sandbox, in
/// `<work>/model`.
pub(super) fn wrap(
    bwrap: &Path,
    reach: &Reach<'_>,
    command: &[String],
) -> (PathBuf, Vec<OsString>) {
    let mut args: Vec<OsString> = Vec::new();
    let mut add = |parts: &[&std::ffi::OsStr]| args.extend(parts.iter().map(|p| p.to_os_string()));
    let os = |text: &'static str| std::ffi::OsStr::new(text);
    let work = reach.work;
    let (outputs, tmp, inputs, model) = (
        work.join("outputs"),
        work.join("tmp"),
        work.join("inputs.json"),
        work.join("model"),
    );
    add(&machine_without(reach.data_dir));
    add(&[os("--bind"), outputs.as_os_str(), outputs.as_os_str()]);
    add(&[os("--bind"), tmp.as_os_str(), tmp.as_os_str()]);
    add(&[os("--ro-bind"), inputs.as_os_str(), inputs.as_os_str()]);
    // The copies of the input files, at the paths inputs.json gives.
    let files = work.join(crate::input_files::FILES_DIR);
    if files.is_dir() {
        add(&[os("--ro-bind"), files.as_os_str(), files.as_os_str()]);
    }
    add(&[
        os("--ro-bind"),
        reach.snapshot.as_os_str(),
        model.as_os_str(),
    ]);
    if reach.environments.is_dir() {
        add(&[
            os("--ro-bind"),
            reach.environments.as_os_str(),
            reach.environments.as_os_str(),
        ]);
    }
    add(&namespaces(reach.network));
    add(&[os("--chdir"), model.as_os_str(), os("--")]);
    let (program, rest) = command
        .split_first()
        .map_or(("", &[][..]), |(p, r)| (p.as_str(), r));
    // A relative program path with a slash means a file of the model.
    let program: OsString = if program.contains('/') && Path::new(program).is_relative() {
        model.join(program).into_os_string()
    } else {
        program.into()
    };
    args.push(program);
    args.extend(rest.iter().map(OsString::from));
    (bwrap.to_path_buf(), args)
}

/// The machine's file system read-only, fresh temporary directories, and
/// modelrun's data directory replaced by an empty one.
fn machine_without(data_dir: &Path) -> Vec<&std::ffi::OsStr> {
    let os = std::ffi::OsStr::new;
    let mut args = vec![os("--ro-bind"), os("/"), os("/")];
    args.extend([os("--dev"), os("/dev"), os("--proc"), os("/proc")]);
    for fresh in ["/tmp", "/var/tmp", "/run", "/dev/shm"] {
        args.extend([os("--tmpfs"), os(fresh)]);
    }
    args.extend([os("--tmpfs"), data_dir.as_os_str()]);
    args
}

/// Namespaces of its own (the network's too unless `network`), no
/// capabilities, a session of its own, and death with its parent.
fn namespaces(network: bool) -> Vec<&'static std::ffi::OsStr> {
    let os = std::ffi::OsStr::new;
    let mut args = vec![
        os("--unshare-user"),
        os("--unshare-pid"),
        os("--unshare-ipc"),
        os("--unshare-uts"),
        os("--unshare-cgroup-try"),
    ];
    if !network {
        args.push(os("--unshare-net"));
    }
    args.extend([
        os("--hostname"),
        os("modelrun-run"),
        os("--cap-drop"),
        os("ALL"),
        os("--die-with-parent"),
        os("--new-session"),
    ]);
    args
}

/// An environment build in the same sandbox as a run: an installer runs
/// the packages' build scripts, code of the model's choosing, so it too
/// sees none of modelrun's data directory but `writable` (the environment
/// being built and the installer's cache), with the network.
#[derive(Debug, Clone)]
pub struct BuildSandbox {
    pub bwrap: PathBuf,
    pub data_dir: PathBuf,
}

impl BuildSandbox {
    /// The program and arguments that run `argv` in the sandbox, with
    /// `readable` (wheel directories, which may be under `/tmp`) and
    /// `writable` in sight.
    pub fn wrap(
        &self,
        readable: &[&Path],
        writable: &[&Path],
        argv: &[OsString],
    ) -> (PathBuf, Vec<OsString>) {
        let mut args: Vec<OsString> = machine_without(&self.data_dir)
            .into_iter()
            .map(|arg| arg.to_os_string())
            .collect();
        for dir in readable {
            args.extend(["--ro-bind".into(), dir.into(), dir.into()]);
        }
        for dir in writable {
            args.extend(["--bind".into(), dir.into(), dir.into()]);
        }
        args.extend(namespaces(true).into_iter().map(|arg| arg.to_os_string()));
        args.push("--".into());
        args.extend(argv.iter().cloned());
        (self.bwrap.clone(), args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_hides_the_data_directory_but_for_the_runs_own_files() {
        let reach = Reach {
            data_dir: Path::new("/srv/modelrun"),
            work: Path::new("/srv/modelrun/work/7"),
            snapshot: Path::new("/srv/modelrun/models/forecast/abc"),
            environments: Path::new("/nonexistent/environments"),
            network: false,
        };
        let command = ["python3".to_owned(), "forecast.py".to_owned()];
        let (program, args) = wrap(Path::new("/usr/bin/bwrap"), &reach, &command);
        assert_eq!(program, Path::new("/usr/bin/bwrap"));
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        assert!(
            joined.starts_with("--ro-bind / / --dev /dev --proc /proc"),
            "{joined}"
        );
        assert!(
            joined.contains("--tmpfs /srv/modelrun --bind /srv/modelrun/work/7/outputs"),
            "{joined}"
        );
        assert!(
            joined
                .contains("--ro-bind /srv/modelrun/models/forecast/abc /srv/modelrun/work/7/model"),
            "{joined}"
        );
        assert!(
            joined.contains("--unshare-net"),
            "network = false: {joined}"
        );
        assert!(
            joined.contains("--die-with-parent --new-session"),
            "{joined}"
        );
        assert!(joined.ends_with("-- python3 forecast.py"), "{joined}");
        assert!(!joined.contains("/nonexistent"), "no environments to show");
    }

    #[test]
    fn the_runs_input_files_are_shown_read_only_where_it_has_some() {
        let data = tempfile::tempdir().expect("dir");
        let work = data.path().join("work/7");
        std::fs::create_dir_all(&work).expect("mkdir");
        let reach = Reach {
            data_dir: data.path(),
            work: &work,
            snapshot: Path::new("/srv/snapshot"),
            environments: Path::new("/nonexistent/environments"),
            network: false,
        };
        let command = ["true".to_owned()];
        let joined = |reach: &Reach<'_>| {
            let (_, args) = wrap(Path::new("/usr/bin/bwrap"), reach, &command);
            args.iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let files = work.join("files");
        assert!(!joined(&reach).contains(files.to_str().expect("utf-8")));
        std::fs::create_dir_all(&files).expect("mkdir");
        let shown = format!("--ro-bind {0} {0}", files.display());
        assert!(joined(&reach).contains(&shown), "{}", joined(&reach));
    }

    #[test]
    fn turned_off_it_says_so() {
        let boundary = Boundary::detect(SandboxMode::Off, "/usr/bin:/bin").expect("off");
        assert!(!boundary.is_sandboxed());
        assert!(boundary.describe().contains("NOT sandboxed"));
        let error = Boundary::detect(SandboxMode::Required, "/nonexistent").expect_err("no bwrap");
        assert!(
            error.contains("bubblewrap (bwrap) is not installed"),
            "{error}"
        );
        let auto = Boundary::detect(SandboxMode::Auto, "/nonexistent").expect("auto");
        assert!(matches!(auto, Boundary::Unconfined { .. }));
    }
}
