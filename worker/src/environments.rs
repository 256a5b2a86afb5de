//! Model environments on this machine: one virtual environment per
//! requirements digest, `<data>/environments/<digest>/`, built with uv when
//! the server has it, else with `python -m venv` and pip. Versions with the
//! same requirements and interpreter share one environment.
//!
//! A build takes an exclusive lock on `<digest>.lock`, so two workers never
//! build the same environment at once; it writes the installer's whole
//! output to `<digest>.log` and marks success with `.modelrun-ready` inside
//! the environment, so a build cut short is started over, never used.
//! The installer gets a clean environment: `PATH`, a `HOME` of its own (for
//! its cache), the server's installer settings (package index, proxies,
//! certificates, pip and uv configuration), nothing of modelrun's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use modelrun_core::config::EnvironmentsConfig;
use modelrun_core::environment::{EnvironmentError, EnvironmentSpec};

use crate::executor::local::BuildSandbox;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::process::Command;

/// The marker of a finished environment.
const READY: &str = ".modelrun-ready";
/// How much of the installer's output is kept with the environment's record.
pub const LOG_TAIL_BYTES: u64 = 64 * 1024;

/// The environments of this machine.
#[derive(Debug, Clone)]
pub struct LocalEnvironments {
    config: EnvironmentsConfig,
    /// Where builds run when the machine sandboxes runs; `None`: as plain
    /// processes of the server's user.
    sandbox: Option<BuildSandbox>,
}

impl LocalEnvironments {
    pub fn new(config: EnvironmentsConfig) -> Self {
        LocalEnvironments {
            config,
            sandbox: None,
        }
    }

    /// Builds run in `sandbox`: the packages' build scripts (code of the
    /// model's choosing) see the environment being built and the
    /// installer's cache, and none of modelrun's data directory besides.
    pub fn sandboxed(mut self, sandbox: Option<BuildSandbox>) -> Self {
        self.sandbox = sandbox;
        self
    }

    /// Where the environment with this digest is (or will be).
    pub fn dir(&self, digest: &str) -> PathBuf {
        self.config.root.join(digest)
    }

    /// Whether the environment is built and usable.
    pub fn is_ready(&self, digest: &str) -> bool {
        self.dir(digest).join(READY).is_file()
    }

    /// The interpreter `python` names on this machine (`Python 3.11.7`):
    /// `python3` when none is asked for. A version that asks for one this
    /// machine lacks is refused here, at registration, not at its first run.
    pub async fn interpreter(&self, python: Option<&str>) -> Result<String, EnvironmentError> {
        let program = match (&self.config.uv, python) {
            (Some(uv), Some(version)) => {
                let found = self
                    .output(self.command(uv).args(["python", "find", version]))
                    .await?;
                match found {
                    Ok(path) => path.trim().to_owned(),
                    // uv fetches the interpreter when it builds.
                    Err(_) => return Ok(format!("Python {version} (fetched by uv)")),
                }
            }
            (_, python) => python_program(python),
        };
        match self.output(self.command(&program).arg("--version")).await? {
            Ok(found) => {
                let found = found.trim().to_owned();
                match python {
                    Some(wanted) if !is_version(&found, wanted) => Err(EnvironmentError::Failed {
                        summary: format!(
                            "this server's {program} is {found}, not the Python {wanted} the \
                             manifest asks for; ask for a version it has (such as \
                             python = \"{}\"), or install uv, which fetches Python versions",
                            found.trim_start_matches("Python ")
                        ),
                        log: String::new(),
                    }),
                    _ => Ok(found),
                }
            }
            Err(error) => Err(EnvironmentError::Failed {
                summary: format!(
                    "this server has no {} ({program}: {error}); install it, or install uv, \
                     which fetches Python versions",
                    python.map_or("python3".to_owned(), |v| format!("Python {v}"))
                ),
                log: String::new(),
            }),
        }
    }

    /// Builds the environment unless it is ready. Returns the end of the
    /// installer's output.
    pub async fn build(&self, spec: &EnvironmentSpec) -> Result<String, EnvironmentError> {
        let digest = spec.digest();
        let io =
            |what: &str, error: std::io::Error| EnvironmentError::Io(format!("{what}: {error}"));
        tokio::fs::create_dir_all(&self.config.root)
            .await
            .map_err(|e| io(&format!("creating {}", self.config.root.display()), e))?;
        let _lock = lock(self.config.root.join(format!("{digest}.lock"))).await?;
        if self.is_ready(&digest) {
            return Ok(String::new());
        }
        let dir = self.dir(&digest);
        if tokio::fs::try_exists(&dir).await.unwrap_or(false) {
            tokio::fs::remove_dir_all(&dir)
                .await
                .map_err(|e| io("removing an unfinished environment", e))?;
        }
        let log_path = self.config.root.join(format!("{digest}.log"));
        let log = std::fs::File::create(&log_path).map_err(|e| io("creating the log", e))?;
        let outcome =
            tokio::time::timeout(self.config.timeout, self.install(spec, &dir, &log)).await;
        // The build's home goes with it, whatever the outcome.
        let _ = tokio::fs::remove_dir_all(build_home(&dir)).await;
        let tail = tail(&log_path).await;
        match outcome {
            Ok(Ok(())) => {
                tokio::fs::write(dir.join(READY), &digest)
                    .await
                    .map_err(|e| io("marking the environment ready", e))?;
                Ok(tail)
            }
            Ok(Err(summary)) => Err(EnvironmentError::Failed { summary, log: tail }),
            Err(_) => Err(EnvironmentError::Failed {
                summary: format!(
                    "the installer did not finish within {}",
                    within(self.config.timeout)
                ),
                log: tail,
            }),
        }
    }

    /// Creates the virtual environment and installs the requirements into
    /// it, writing every step's output to `log`.
    async fn install(
        &self,
        spec: &EnvironmentSpec,
        dir: &Path,
        log: &std::fs::File,
    ) -> Result<(), String> {
        let python = python_program(spec.python.as_deref());
        let create: Vec<OsString> = match &self.config.uv {
            Some(uv) => vec![
                uv.into(),
                "venv".into(),
                "--quiet".into(),
                "--python".into(),
                spec.python.as_deref().unwrap_or("python3").into(),
                dir.into(),
            ],
            None => vec![python.into(), "-m".into(), "venv".into(), dir.into()],
        };
        self.step(
            "creating the virtual environment",
            &mut self.build_command(dir, &create).await?,
            log,
        )
        .await?;
        let requirements = dir.join("requirements.txt");
        tokio::fs::write(&requirements, &spec.requirements)
            .await
            .map_err(|error| format!("writing the requirements: {error}"))?;
        let interpreter = dir.join("bin").join("python");
        let install: Vec<OsString> = match &self.config.uv {
            Some(uv) => [uv.into(), "pip".into(), "install".into(), "--python".into()]
                .into_iter()
                .chain([interpreter.into(), "-r".into(), requirements.into()])
                .chain(self.uv_index_args().into_iter().map(OsString::from))
                .collect(),
            None => [interpreter.into_os_string()]
                .into_iter()
                .chain(
                    [
                        "-m",
                        "pip",
                        "install",
                        "--no-input",
                        "--disable-pip-version-check",
                        "-r",
                    ]
                    .map(OsString::from),
                )
                .chain([requirements.into()])
                .collect(),
        };
        let mut command = self.build_command(dir, &install).await?;
        if self.config.uv.is_none() {
            command.envs(self.pip_index_env());
        }
        self.step("installing the requirements", &mut command, log)
            .await
    }

    /// A command of a build step, with a home of the build's own (its
    /// caches, dropped when the build ends: nothing one build leaves can
    /// reach another) and the Pythons uv fetches kept beside the
    /// environment; in the sandbox when there is one, where only these
    /// and `dir` (the environment) are writable.
    async fn build_command(&self, dir: &Path, argv: &[OsString]) -> Result<Command, String> {
        let (home, pythons) = (build_home(dir), dir.with_extension("python"));
        for writable in [dir, home.as_path(), pythons.as_path()] {
            tokio::fs::create_dir_all(writable)
                .await
                .map_err(|error| format!("creating {}: {error}", writable.display()))?;
        }
        let Some(sandbox) = &self.sandbox else {
            let mut command = self.command(&argv[0]);
            command
                .args(&argv[1..])
                .env("HOME", &home)
                .env("UV_PYTHON_INSTALL_DIR", &pythons)
                .env("PYTHONNOUSERSITE", "1");
            return Ok(command);
        };
        // Read-only: the installer itself and the wheel directories of
        // --pip-find-links, which may be under the sandbox's fresh /tmp.
        let program = Path::new(&argv[0]);
        let readable: Vec<&Path> = self
            .config
            .index
            .find_links
            .iter()
            .map(|link| Path::new(link.strip_prefix("file://").unwrap_or(link)))
            .chain(
                [program]
                    .into_iter()
                    .filter(|program| !program.starts_with(dir)),
            )
            .filter(|path| path.is_absolute() && path.exists())
            .collect();
        let (bwrap, args) = sandbox.wrap(&readable, &[dir, &home, &pythons], argv);
        let mut command = self.command(bwrap);
        command
            .args(args)
            .env("HOME", &home)
            .env("UV_PYTHON_INSTALL_DIR", &pythons)
            .env("PYTHONNOUSERSITE", "1");
        // The cache and the environment are separate mounts: copy, as a
        // hard link cannot cross them.
        command.env("UV_LINK_MODE", "copy");
        Ok(command)
    }

    /// Runs one installer step with the installer's environment.
    async fn step(
        &self,
        what: &str,
        command: &mut Command,
        log: &std::fs::File,
    ) -> Result<(), String> {
        let stream = || log.try_clone().map_err(|error| format!("{what}: {error}"));
        let status = command
            .stdout(stream()?)
            .stderr(stream()?)
            .status()
            .await
            .map_err(|error| format!("{what}: cannot start the installer: {error}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{what} failed ({status})"))
        }
    }

    /// A command's standard output, or why it failed.
    async fn output(
        &self,
        command: &mut Command,
    ) -> Result<Result<String, String>, EnvironmentError> {
        match command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .await
        {
            Ok(out) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                // Python 2 and some builds print the version on stderr.
                Ok(Ok(if text.trim().is_empty() {
                    String::from_utf8_lossy(&out.stderr).into_owned()
                } else {
                    text
                }))
            }
            Ok(out) => Ok(Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Ok(Err("not found".to_owned()))
            }
            Err(error) => Err(EnvironmentError::Io(error.to_string())),
        }
    }

    /// A command of the installer, with its environment: only what it needs.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let home = self.home();
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", &self.config.search_path)
            .env("HOME", &home)
            .env("LANG", "C.UTF-8")
            .envs(
                self.config
                    .installer_env
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.expose().as_str())),
            )
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// The home of the probes at registration (`--version`, `uv python find`).
    fn home(&self) -> PathBuf {
        self.config.root.join(".home")
    }

    fn pip_index_env(&self) -> Vec<(&'static str, String)> {
        let index = &self.config.index;
        let mut env = Vec::new();
        if let Some(url) = &index.index_url {
            env.push(("PIP_INDEX_URL", url.expose().clone()));
        }
        if !index.extra_index_urls.is_empty() {
            let urls: Vec<_> = index
                .extra_index_urls
                .iter()
                .map(|u| u.expose().as_str())
                .collect();
            env.push(("PIP_EXTRA_INDEX_URL", urls.join(" ")));
        }
        if !index.find_links.is_empty() {
            env.push(("PIP_FIND_LINKS", index.find_links.join(" ")));
        }
        if index.no_index {
            env.push(("PIP_NO_INDEX", "1".to_owned()));
        }
        env
    }

    fn uv_index_args(&self) -> Vec<String> {
        let index = &self.config.index;
        let mut args = Vec::new();
        if let Some(url) = &index.index_url {
            args.extend(["--index-url".to_owned(), url.expose().clone()]);
        }
        for url in &index.extra_index_urls {
            args.extend(["--extra-index-url".to_owned(), url.expose().clone()]);
        }
        for link in &index.find_links {
            args.extend(["--find-links".to_owned(), link.clone()]);
        }
        if index.no_index {
            args.push("--no-index".to_owned());
        }
        args
    }
}

/// The home of the build of the environment in `dir`: `<digest>.home`.
fn build_home(dir: &Path) -> PathBuf {
    dir.with_extension("home")
}

/// The program that runs a Python version without uv: `python3` for none
/// or `3`, `python3.11` for `3.11` and for `3.11.7` (interpreters are
/// installed by minor version; [`is_version`] checks the patch).
fn python_program(python: Option<&str>) -> String {
    let minor: Vec<&str> = python.unwrap_or("3").split('.').take(2).collect();
    format!("python{}", minor.join("."))
}

/// Whether `found` (`Python 3.11.7`, as `--version` prints it) is the
/// version `wanted` (`3`, `3.11` or `3.11.7`) names.
fn is_version(found: &str, wanted: &str) -> bool {
    let found = found.trim().trim_start_matches("Python ").trim();
    found.split('.').zip(wanted.split('.')).all(|(have, want)| {
        let have: String = have.chars().take_while(char::is_ascii_digit).collect();
        have == want
    }) && found.split('.').count() >= wanted.split('.').count()
}

/// An exclusive lock on `path`, held until the file is dropped.
async fn lock(path: PathBuf) -> Result<std::fs::File, EnvironmentError> {
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|error| EnvironmentError::Io(error.to_string()))?
    .map_err(|error| EnvironmentError::Io(format!("locking the environment: {error}")))
}

/// The last [`LOG_TAIL_BYTES`] of a log, as text.
async fn tail(path: &Path) -> String {
    let read = async {
        let mut file = tokio::fs::File::open(path).await?;
        let length = file.metadata().await?.len();
        file.seek(std::io::SeekFrom::Start(
            length.saturating_sub(LOG_TAIL_BYTES),
        ))
        .await?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&bytes).into_owned())
    };
    read.await.unwrap_or_default()
}

/// A time limit in words: "10 minutes", "1 minute", "90 seconds".
fn within(limit: std::time::Duration) -> String {
    let secs = i64::try_from(limit.as_secs()).unwrap_or(i64::MAX);
    if secs % 60 == 0 {
        modelrun_core::words::count(secs / 60, "minute")
    } else {
        modelrun_core::words::count(secs, "second")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_name_minor_programs_and_match_patches() {
        assert_eq!(python_program(None), "python3");
        assert_eq!(python_program(Some("3")), "python3");
        assert_eq!(python_program(Some("3.11")), "python3.11");
        assert_eq!(python_program(Some("3.11.7")), "python3.11");
        assert!(is_version("Python 3.11.7", "3.11.7"));
        assert!(is_version("Python 3.11.7\n", "3.11"));
        assert!(is_version("Python 3.12.0rc1", "3.12.0"));
        assert!(!is_version("Python 3.11.2", "3.11.7"));
        assert!(!is_version("Python 3.11.17", "3.11.1"));
        assert!(!is_version("Python 3.1", "3.11"));
    }
}
