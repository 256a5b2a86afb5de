//! A TCP proxy that can cut the line: modelrun's AWS clients (or its
//! Postgres pool) talk to the real server through it, and a test switches
//! it off to make the server unreachable, then on again, while the server
//! keeps its state.

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// Forwards them.
    Up,
    /// Closes new connections before any answer.
    Cut,
    /// Closes the open ones, and holds new ones open without a byte in
    /// either direction: a server that hangs, or a network that drops.
    Stalled,
}

#[derive(Debug)]
pub struct Outage {
    pub url: String,
    /// The port the proxy listens on, on 127.0.0.1.
    pub port: u16,
    line: Arc<watch::Sender<Line>>,
    task: JoinHandle<()>,
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Outage {
    /// A proxy on a free port of 127.0.0.1, forwarding to `target_port`.
    pub async fn front(target_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (line, _) = watch::channel(Line::Up);
        let line = Arc::new(line);
        let state = line.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut client, _)) = listener.accept().await {
                match *state.borrow() {
                    // Cut: the connection closes before any answer.
                    Line::Cut => continue,
                    Line::Stalled => {
                        held.push(client);
                        continue;
                    }
                    Line::Up => {}
                }
                let mut watching = state.subscribe();
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(("127.0.0.1", target_port)).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            _ = watching.wait_for(|line| *line == Line::Stalled) => {}
                        }
                    }
                });
            }
        });
        Outage {
            url: format!("http://{address}"),
            port: address.port(),
            line,
            task,
        }
    }

    /// Every new connection fails from now on.
    pub fn cut(&self) {
        self.line.send_replace(Line::Cut);
    }

    /// Open connections close, and new ones hang: nothing answers.
    pub fn stall(&self) {
        self.line.send_replace(Line::Stalled);
    }

    /// Connections go through again.
    pub fn restore(&self) {
        self.line.send_replace(Line::Up);
    }
}
