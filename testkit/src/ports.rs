//! Ports on 127.0.0.1 for the servers a test starts as child processes.
//!
//! A port is found free by binding port 0 and letting go; the child binds
//! it a moment later. Two tests running side by side could be handed the
//! same port in that moment, and the second child would fail to bind while
//! its readiness probe is answered by the first test's server. So this
//! process never hands out a port twice, and a server is taken as started
//! only once [`listens_on`] finds the listening socket among its child's
//! own.

use std::collections::HashSet;
use std::sync::Mutex;

/// Ports this process has handed out; never handed out again.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A port on 127.0.0.1 that was free a moment ago and that no other test
/// of this process has been given.
///
/// Panics when the system has no free port or 100 tries in a row found
/// only ports already handed out.
pub(crate) fn free_port() -> u16 {
    for _ in 0..100 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .unwrap_or_else(|error| panic!("no free port on 127.0.0.1: {error}"));
        let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
        if handed_out.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
    panic!("100 free ports of 127.0.0.1 in a row had already been handed out")
}

/// Whether process `pid` holds the socket that listens on TCP `port` of
/// IPv4: Linux's `/proc/net/tcp` names the listening socket's inode
/// (state `0A` is LISTEN), `/proc/<pid>/fd` the process's sockets as
/// `socket:[inode]`. Where `/proc/net/tcp` cannot be read (not Linux), a
/// server that answers is taken as the child's: true.
pub(crate) fn listens_on(pid: u32, port: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return true;
    };
    let local_port = format!(":{port:04X}");
    // Columns: sl, local_address, rem_address, st, tx:rx, tr:when,
    // retrnsmt, uid, timeout, inode.
    let sockets: HashSet<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let listening = columns.get(1)?.ends_with(&local_port) && *columns.get(3)? == "0A";
            let inode = columns.get(9)?;
            listening.then(|| format!("socket:[{inode}]"))
        })
        .collect();
    let Ok(descriptors) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    descriptors
        .filter_map(Result::ok)
        .filter_map(|descriptor| std::fs::read_link(descriptor.path()).ok())
        .any(|target| target.to_str().is_some_and(|t| sockets.contains(t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_port_is_handed_out_twice() {
        let ports: HashSet<u16> = (0..200).map(|_| free_port()).collect();
        assert_eq!(ports.len(), 200);
    }

    #[test]
    fn a_listener_is_found_among_its_own_process_sockets_only() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let port = listener.local_addr().expect("address").port();
        assert!(listens_on(std::process::id(), port));
        // pid 1 is not this test; a port nobody listens on is nobody's.
        if std::path::Path::new("/proc/net/tcp").exists() {
            assert!(!listens_on(1, port));
            drop(listener);
            assert!(!listens_on(std::process::id(), port));
        }
    }
}
