//! Free space on the disk of the data directory, on one machine: what
//! `/healthz` reports, what the admin pages warn about, and what the
//! server's periodic check logs. Measured with `statvfs(3)` (rustix), as
//! the space an unprivileged process may still use (`f_bavail`).

use std::path::Path;

use modelrun_core::config::DiskWatch;

/// The free space of a watched directory, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Space {
    /// At or above the warning threshold.
    Enough { free: u64 },
    /// Below the warning threshold, with room for writes.
    Low { free: u64, threshold: u64 },
    /// Below [`DiskWatch::FULL_BELOW_BYTES`]: writes fail.
    Full { free: u64 },
    /// `statvfs` failed (the directory is gone, say): the cause.
    Unknown(String),
}

/// Bytes an unprivileged process may still write on the disk of `dir`.
///
/// # Errors
/// The `statvfs(3)` error: the directory does not exist or cannot be read.
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(dir)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// How the disk of `watch.dir` stands.
pub fn space(watch: &DiskWatch) -> Space {
    match free_bytes(&watch.dir) {
        Ok(free) if free < DiskWatch::FULL_BELOW_BYTES => Space::Full { free },
        Ok(free) if free < watch.min_free_bytes => Space::Low {
            free,
            threshold: watch.min_free_bytes,
        },
        Ok(free) => Space::Enough { free },
        Err(error) => Space::Unknown(format!(
            "cannot measure the free space of {}: {error}",
            watch.dir.display()
        )),
    }
}

impl Space {
    /// A sentence for administrators when something is wrong; `None` when
    /// there is enough space.
    pub fn warning(&self, dir: &Path) -> Option<String> {
        match self {
            Space::Enough { .. } => None,
            Space::Low { free, threshold } => Some(format!(
                "Free space on the disk of the data directory {} is low: {} left, below the \
                 warning threshold of {} (--min-free-mib)",
                dir.display(),
                mebibytes(*free),
                mebibytes(*threshold)
            )),
            Space::Full { free } => Some(format!(
                "The disk of the data directory {} is full ({} left): runs cannot be saved \
                 until space is freed",
                dir.display(),
                mebibytes(*free)
            )),
            Space::Unknown(why) => Some(why.clone()),
        }
    }
}

/// Checks the disk of `watch.dir` every `every`, forever, and logs each
/// change of state: a warning when free space falls below the threshold,
/// an error when the disk is full, a note when it is merely low again or
/// back above the threshold.
pub async fn watch(watch: DiskWatch, every: std::time::Duration) {
    let mut was = State::Enough;
    loop {
        let space = space(&watch);
        let now = State::of(&space);
        if now != was {
            let dir = watch.dir.display();
            match (&space.warning(&watch.dir), now) {
                (Some(warning), State::Full) => tracing::error!("{warning}"),
                (Some(warning), _) => tracing::warn!("{warning}"),
                (None, _) => tracing::info!(
                    %dir,
                    "free space on the data directory's disk is back above the threshold"
                ),
            }
            was = now;
        }
        tokio::time::sleep(every).await;
    }
}

/// What [`watch`] compares from one check to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Enough,
    Low,
    Full,
    Unknown,
}

impl State {
    fn of(space: &Space) -> Self {
        match space {
            Space::Enough { .. } => State::Enough,
            Space::Low { .. } => State::Low,
            Space::Full { .. } => State::Full,
            Space::Unknown(_) => State::Unknown,
        }
    }
}

/// `bytes` in MiB, with one decimal under 10 MiB.
fn mebibytes(bytes: u64) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if mib < 10.0 {
        format!("{mib:.1} MiB")
    } else {
        format!("{mib:.0} MiB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_against_the_thresholds() {
        let dir = std::env::temp_dir();
        let free = free_bytes(&dir).expect("statvfs");
        assert!(free > 0);
        let watch = |min_free_bytes| DiskWatch {
            dir: dir.clone(),
            min_free_bytes,
        };
        assert!(matches!(space(&watch(0)), Space::Enough { .. }));
        let low = space(&watch(u64::MAX));
        assert!(matches!(low, Space::Low { .. }), "{low:?}");
        assert!(low.warning(&dir).expect("a warning").contains("is low"));
        let gone = DiskWatch {
            dir: dir.join("no-such-directory-here"),
            min_free_bytes: 0,
        };
        assert!(matches!(space(&gone), Space::Unknown(_)));
        assert_eq!(mebibytes(1536 * 1024), "1.5 MiB");
        assert_eq!(mebibytes(2048 * 1024 * 1024), "2048 MiB");
    }
}
