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
}

/// Starts `command` in `cwd` with exactly `env`, in its own process group,
/// writing stdout and stderr to `output` (which closes here, so that only
/// the process holds it).
pub(super) fn spawn(
    command: &[String],
    cwd: &Path,
    env: Vec<(String, String)>,
    output: std::io::PipeWriter,
) -> std::io::Result<Child> {
    let (program, args) = command.split_first().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the command is empty")
    })?;
    // A relative program path with a slash means a file of the model.
    let program = if program.contains('/') && Path::new(program).is_relative() {
        cwd.join(program).into_os_string()
    } else {
        program.into()
    };
    Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
}

/// Waits for the process to exit, to time out, or to be stopped.
pub(super) async fn wait(
    child: &mut Child,
    timeout: Duration,
    stopped: &mut watch::Receiver<Option<Stop>>,
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

/// "stopped by signal 9 (SIGKILL)" and the like.
pub(super) fn describe_signal(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(libc::SIGKILL) => {
            "the process was killed (signal 9, SIGKILL; out of memory?)".to_owned()
        }
        Some(libc::SIGSEGV) => "the process crashed (signal 11, SIGSEGV)".to_owned(),
        Some(signal) => format!("the process was stopped by signal {signal}"),
        None => format!("the process ended abnormally ({status})"),
    }
}
