//! A TCP proxy that can cut the line: modelrun's AWS clients talk to moto
//! through it, and a test switches it off to make AWS unreachable, then on
//! again, while moto keeps its state.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Debug)]
pub struct Outage {
    pub url: String,
    up: Arc<AtomicBool>,
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
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let up = Arc::new(AtomicBool::new(true));
        let state = up.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !state.load(Ordering::SeqCst) {
                    // Cut: the connection closes before any answer.
                    drop(client);
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(("127.0.0.1", target_port)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Outage { url, up, task }
    }

    /// Every new connection fails from now on.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
    }

    /// Connections go through again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}
