//! Which process owns a local job. Several worker processes may share one
//! Postgres store, each running its own jobs; a job id names its owner
//! (`modelrun-run-42-<key>@host:1234`), so that a sweep can tell a job of a live
//! neighbour (leave it alone) from a job of a process that died (lost).

use std::fmt;

/// A worker process: host name and process id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Owner {
    host: String,
    pid: u32,
}

/// What a sweep may conclude about a job that is not in its own table.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Whose {
    /// This process started it (or it names no owner): it was lost.
    Ours,
    /// A process on this host that is still alive: its sweep will report.
    LiveNeighbour,
    /// A process on this host that is gone: the job died with it.
    DeadNeighbour,
    /// Another host: nothing can be known from here.
    Elsewhere,
}

impl Owner {
    /// This process.
    pub(super) fn current() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .ok()
            .filter(|name| !name.is_empty() && !name.contains(['@', ':']))
            .unwrap_or_else(|| "localhost".to_owned());
        Owner {
            host,
            pid: std::process::id(),
        }
    }

    /// `<job name>@<host>:<pid>`.
    pub(super) fn job_id(&self, name: &str) -> String {
        format!("{name}@{self}")
    }

    /// Whose job `job_id` is, as seen from this process.
    pub(super) fn whose(&self, job_id: &str) -> Whose {
        let Some((_, owner)) = job_id.rsplit_once('@') else {
            return Whose::Ours;
        };
        let Some((host, pid)) = owner
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse::<u32>().ok()?)))
        else {
            return Whose::Ours;
        };
        if host != self.host {
            Whose::Elsewhere
        } else if pid == self.pid {
            Whose::Ours
        } else if super::process::is_alive(pid) {
            Whose::LiveNeighbour
        } else {
            Whose::DeadNeighbour
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_whose_job_it_is() {
        let me = Owner::current();
        let job = me.job_id("modelrun-run-7");
        assert!(job.starts_with("modelrun-run-7@"));
        assert_eq!(me.whose(&job), Whose::Ours);
        assert_eq!(me.whose("modelrun-run-7"), Whose::Ours, "no owner named");
        assert_eq!(
            me.whose("modelrun-run-7@elsewhere.example:1"),
            Whose::Elsewhere
        );
        // pid 1 is always alive; a pid above the kernel's maximum never is.
        let neighbour = format!("modelrun-run-7@{}:1", me.host);
        assert_eq!(me.whose(&neighbour), Whose::LiveNeighbour);
        let dead = format!("modelrun-run-7@{}:{}", me.host, i32::MAX as u32 - 1);
        assert_eq!(me.whose(&dead), Whose::DeadNeighbour);
    }
}
