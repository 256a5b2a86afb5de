//! Starting and stopping a model's process group.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::sync::watch;

use super::Stop;

/// How long a process gets to exit after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// How a process ended.
pub(super) enum Outcome {
    Exited(ExitStatus),
    TimedOut,
    Stopped(Stop),
    /// It went past one of the run's limits: which, in words.
    OverLimit(String),
}

/// What a run's processes may use, set on the first process and inherited
/// by every process it starts.
#[derive(Debug, Clone, Default)]
pub(super) struct Limits {
    /// Bytes of data (heap and anonymous memory, `RLIMIT_DATA`): the
    /// version's memory. An allocation past it fails (`MemoryError` in Python).
    pub memory_bytes: Option<u64>,
    /// Largest file a process may write (`RLIMIT_FSIZE`): the run's output
    /// limit. Past it the write fails and the process gets `SIGXFSZ`.
    pub file_bytes: Option<u64>,
    /// The CPUs the run may use (its vCPUs, rounded up).
    pub cpus: Vec<usize>,
}

/// What to start: a program with its arguments, in a directory.
pub(super) struct Start<'a> {
    pub program: std::ffi::OsString,
    pub args: Vec<std::ffi::OsString>,
    pub cwd: &'a Path,
}

impl<'a> Start<'a> {
    /// The model's own command, run in `cwd` (no sandbox).
    pub(super) fn plain(command: &[String], cwd: &'a Path) -> std::io::Result<Self> {
        let (program, args) = command.split_first().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "the command is empty")
        })?;
        // A relative program path with a slash means a file of the model.
        let program = if program.contains('/') && Path::new(program).is_relative() {
            cwd.join(program).into_os_string()
        } else {
            program.into()
        };
        Ok(Start {
            program,
            args: args.iter().map(Into::into).collect(),
            cwd,
        })
    }
}

/// Starts a run's first process with exactly `env`, in its own process
/// group, under `limits`, writing stdout and stderr to `output` (which
/// closes here, so that only the process holds it).
pub(super) fn spawn(
    start: Start<'_>,
    env: Vec<(String, String)>,
    limits: Limits,
    output: std::io::PipeWriter,
) -> std::io::Result<Child> {
    let mut command = Command::new(&start.program);
    command
        .args(&start.args)
        .current_dir(start.cwd)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .process_group(0)
        .kill_on_drop(true);
    apply(&mut command, limits);
    command.spawn()
}

/// Sets `limits` in the child between fork and exec.
#[allow(unsafe_code)]
fn apply(command: &mut Command, limits: Limits) {
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe calls are allowed: setrlimit(2),
    // sched_setaffinity(2) and prctl(2) are plain system calls on values
    // prepared before the fork, and nothing here allocates or locks.
    let mut cpus: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for cpu in &limits.cpus {
        // SAFETY: CPU_SET writes a bit of the set we own, within its size.
        unsafe { libc::CPU_SET(*cpu, &mut cpus) };
    }
    let pin = !limits.cpus.is_empty();
    unsafe {
        command.pre_exec(move || {
            // A run never outlives the process that supervises it.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            let set = |resource, bytes: Option<u64>| {
                if let Some(bytes) = bytes {
                    let limit = libc::rlimit {
                        rlim_cur: bytes,
                        rlim_max: bytes,
                    };
                    libc::setrlimit(resource, &limit);
                }
            };
            set(libc::RLIMIT_DATA, limits.memory_bytes);
            set(libc::RLIMIT_FSIZE, limits.file_bytes);
            if pin {
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &cpus);
            }
            Ok(())
        });
    }
}

/// `count` CPUs of those this process may use, chosen by `seed` so that
/// runs spread over the machine; none (no pinning) when `count` covers them.
pub(super) fn cpus_for(count: usize, seed: u64) -> Vec<usize> {
    let available = allowed_cpus();
    if count == 0 || count >= available.len() {
        return Vec::new();
    }
    let start = usize::try_from(seed).unwrap_or(0) % available.len();
    (0..count)
        .map(|i| available[(start + i) % available.len()])
        .collect()
}

/// The CPUs this process may run on.
#[allow(unsafe_code)]
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: sched_getaffinity(2) fills the set we own and pass with its
    // size; CPU_ISSET reads bits of it within that size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|cpu| libc::CPU_ISSET(*cpu, &set))
            .collect()
    }
}

/// Waits for the process to exit, to time out, to be stopped, or to go
/// past a limit (`over_limit` resolves, saying which).
pub(super) async fn wait(
    child: &mut Child,
    timeout: Duration,
    stopped: &mut watch::Receiver<Option<Stop>>,
    over_limit: impl std::future::Future<Output = String>,
) -> std::io::Result<Outcome> {
    let pid = child.id();
    let stop = async {
        match stopped.wait_for(Option::is_some).await {
            Ok(stop) => stop.clone().unwrap_or(Stop::Shutdown),
            Err(_) => Stop::Shutdown,
        }
    };
    let outcome = tokio::select! {
        status = child.wait() => Outcome::Exited(status?),
        () = tokio::time::sleep(timeout) => Outcome::TimedOut,
        stop = stop => Outcome::Stopped(stop),
        why = over_limit => Outcome::OverLimit(why),
    };
    if !matches!(outcome, Outcome::Exited(_)) {
        terminate(child).await?;
    }
    // Helpers the model left running in the background go too.
    if let Some(pid) = pid {
        signal_group(pid, libc::SIGKILL);
    }
    Ok(outcome)
}

/// SIGTERM to the group, then SIGKILL if it has not exited within [`GRACE`].
async fn terminate(child: &mut Child) -> std::io::Result<()> {
    let Some(pid) = child.id() else {
        return Ok(());
    };
    signal_group(pid, libc::SIGTERM);
    if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
        signal_group(pid, libc::SIGKILL);
        child.wait().await?;
    }
    Ok(())
}

/// Sends `signal` to the process group led by `pid`.
#[allow(unsafe_code)]
fn signal_group(pid: u32, signal: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours. A
    // negative pid addresses the group that `spawn` created with
    // `process_group(0)`, whose id is the leader's pid. A group that is
    // already gone gives ESRCH, which is fine.
    unsafe {
        libc::kill(-pid, signal);
    }
}

/// Kills what is left of a run whose supervisor died: every process of
/// process group `group` that carries the run's `MODELRUN_RUN_ID` in its
/// environment (so that a group id reused by an unrelated program is left
/// alone). Outside a sandbox only the first process dies with its
/// supervisor (`PR_SET_PDEATHSIG`); what it started lives on until this.
/// Returns how many processes were killed.
pub(super) fn kill_leftovers(group: u32, run: modelrun_core::ids::RunId) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let marker = format!("MODELRUN_RUN_ID={run}");
    let mut killed = 0;
    for pid in entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
    {
        let in_group = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| process_group_of(&stat))
            == Some(group);
        let of_run = in_group
            && std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                environ
                    .split(|byte| *byte == 0)
                    .any(|variable| variable == marker.as_bytes())
            });
        if of_run {
            signal(pid, libc::SIGKILL);
            killed += 1;
        }
    }
    killed
}

/// The process group (field 5) of a `/proc/<pid>/stat` line; the command
/// name (field 2) is in parentheses and may hold spaces.
fn process_group_of(stat: &str) -> Option<u32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(2)?.parse().ok()
}

/// Sends `signal` to one process.
#[allow(unsafe_code)]
fn signal(pid: u32, signal: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// Whether a process with this id exists (it may belong to another user).
#[allow(unsafe_code)]
pub(super) fn is_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) with signal 0 sends nothing and touches no memory of
    // ours; it only checks that the process exists. EPERM means it exists
    // but belongs to someone else.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Why a run's first process ended, when it did not exit with 0. In a
/// sandbox the first process is bubblewrap, which exits with 128 + N when
/// the model was killed by signal N.
pub(super) fn describe_end(status: &ExitStatus, sandboxed: bool) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) if sandboxed && (129..160).contains(&code) => describe_signal(code - 128),
        (Some(code), _) => format!("the model exited with code {code}"),
        (None, Some(signal)) => describe_signal(signal),
        (None, None) => format!("the process ended abnormally ({status})"),
    }
}

/// "stopped by signal 9 (SIGKILL)" and the like.
fn describe_signal(signal: libc::c_int) -> String {
    match signal {
        libc::SIGKILL => "the process was killed (signal 9, SIGKILL; out of memory?)".to_owned(),
        libc::SIGSEGV => "the process crashed (signal 11, SIGSEGV)".to_owned(),
        libc::SIGXFSZ => {
            "the process wrote a file larger than the run's output limit (signal 25, SIGXFSZ)"
                .to_owned()
        }
        signal => format!("the process was stopped by signal {signal}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn reads_the_process_group_from_a_stat_line() {
        let stat = "4242 (python3 -c x) S 1 4240 4240 0 -1 4194560 1 0";
        assert_eq!(process_group_of(stat), Some(4240));
        assert_eq!(process_group_of("garbage"), None);
    }

    #[test]
    fn a_sandboxed_signal_is_told_as_a_signal() {
        let exited = |code: i32| ExitStatus::from_raw(code << 8);
        assert_eq!(
            describe_end(&exited(3), true),
            "the model exited with code 3"
        );
        assert!(describe_end(&exited(153), true).contains("larger than the run's output limit"));
        assert_eq!(
            describe_end(&exited(153), false),
            "the model exited with code 153"
        );
        assert!(describe_end(&ExitStatus::from_raw(libc::SIGKILL), false).contains("SIGKILL"));
    }
}
