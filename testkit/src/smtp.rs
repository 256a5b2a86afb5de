//! A real SMTP server (aiosmtpd, from the test venv) on a free port of
//! 127.0.0.1, one per test: `testkit/smtp/server.py` says what it accepts.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::ports::{free_port, listens_on};

/// The user and password the server accepts.
pub const SMTP_USER: &str = "modelrun";
pub const SMTP_PASSWORD: &str = "s3cret";

#[derive(Debug)]
pub struct SmtpServer {
    pub port: u16,
    /// With STARTTLS: the authority (PEM) a client must trust.
    pub certificate: Option<PathBuf>,
    dir: tempfile::TempDir,
    _server: Child,
}

/// The venv's Python, where aiosmtpd is installed (beside moto).
fn python() -> PathBuf {
    if let Some(moto) = std::env::var_os("MODELRUN_MOTO_SERVER") {
        let moto = std::path::absolute(PathBuf::from(moto)).unwrap_or_default();
        if let Some(bin) = moto.parent() {
            return bin.join("python");
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python")
}

impl SmtpServer {
    /// A server without TLS.
    pub async fn plain() -> Self {
        Self::start(false).await
    }

    /// A server that requires STARTTLS, its certificate for 127.0.0.1
    /// signed by an authority of the test's own, made by `openssl`.
    pub async fn with_starttls() -> Self {
        Self::start(true).await
    }

    /// A server on a port of its own: when another process took the port
    /// first, on the next of up to 5 ports.
    async fn start(tls: bool) -> Self {
        let dir = tempfile::tempdir().expect("a directory for the SMTP server");
        std::fs::create_dir(dir.path().join("messages")).expect("messages dir");
        let certificate = tls.then(|| self_signed(dir.path()));
        for _ in 0..5 {
            let port = free_port();
            if let Some(server) = Self::try_start(port, dir.path(), tls).await {
                return SmtpServer {
                    port,
                    certificate,
                    dir,
                    _server: server,
                };
            }
        }
        panic!("the test SMTP server could not listen on any of 5 free ports of 127.0.0.1")
    }

    /// The server on `port`, once it says it is ready and holds the port;
    /// `None` when it exits first (the port was taken).
    async fn try_start(port: u16, dir: &Path, tls: bool) -> Option<Child> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("smtp/server.py");
        let mut command = Command::new(python());
        command
            .arg(&script)
            .arg(port.to_string())
            .arg(dir.join("messages"));
        if tls {
            command.arg(dir.join("cert.pem")).arg(dir.join("key.pem"));
        }
        let mut server = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start the test SMTP server with {} ({error}): run ./scripts/test, \
                     which installs aiosmtpd into .venv",
                    python().display()
                )
            });
        let stdout = server.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        match ready {
            Ok(Ok(Some(line))) if line == "ready" => {
                let pid = server.id().expect("SMTP server's pid");
                listens_on(pid, port).then_some(server)
            }
            // Closed its output: it exited, most likely for want of the port.
            Ok(Ok(None)) => None,
            other => panic!("the test SMTP server did not start: {other:?}"),
        }
    }

    /// The messages received so far, oldest first; waits up to `wait` for
    /// at least `count`.
    pub async fn messages(&self, count: usize, wait: Duration) -> Vec<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let found = read_messages(&self.dir.path().join("messages"));
            if found.len() >= count || Instant::now() >= deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn read_messages(dir: &Path) -> Vec<Value> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
        .collect()
}

/// A certificate authority of its own (as a company has) and a server
/// certificate for 127.0.0.1 and localhost signed by it: `cert.pem` and
/// `key.pem` for the server; returns the authority's `ca.pem`, which a
/// client must trust.
fn self_signed(dir: &Path) -> PathBuf {
    let run = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl {args:?} failed");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=modelrun test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("extensions");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        "cert.pem",
        "-extfile",
        "server.ext",
    ]);
    dir.join("ca.pem")
}
