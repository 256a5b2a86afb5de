//! A fake for the one fault moto cannot produce on demand: Batch listing
//! a RUNNABLE job that it cannot place (moto never holds a job in
//! RUNNABLE, nor gives a `statusReason` there). An HTTP front of moto
//! answers `ListJobs` for RUNNABLE jobs as the test says, and passes every
//! other request to moto unchanged.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An HTTP front of moto that answers `ListJobs` for RUNNABLE jobs with a
/// given answer, once set, and passes every other request to moto.
pub struct ListJobsFront {
    pub url: String,
    runnable: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ListJobsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ListJobsFront {
    pub async fn start(moto_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let runnable = Arc::new(Mutex::new(None));
        let answer = runnable.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, moto_port, answer.clone()));
            }
        });
        ListJobsFront {
            url,
            runnable,
            task,
        }
    }

    /// From now on, `ListJobs` for RUNNABLE jobs answers `body`.
    pub fn answer_runnable(&self, body: serde_json::Value) {
        *self.runnable.lock().expect("lock") = Some(body.to_string());
    }
}

/// One connection: requests one after the other, each answered in full.
async fn serve(mut stream: TcpStream, moto_port: u16, runnable: Arc<Mutex<Option<String>>>) {
    let client = reqwest::Client::new();
    let mut buffer = Vec::new();
    loop {
        let head_end = loop {
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let (method, path) = (
            request_line.next().unwrap_or("GET"),
            request_line.next().unwrap_or("/"),
        );
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buffer.drain(..head_end + length).skip(head_end).collect();
        let canned = runnable.lock().expect("lock").clone().filter(|_| {
            path.starts_with("/v1/listjobs")
                && String::from_utf8_lossy(&body).contains("\"jobStatus\":\"RUNNABLE\"")
        });
        let (status, answer_headers, answer) = match canned {
            Some(canned) => (
                200,
                vec![("content-type".to_owned(), "application/json".to_owned())],
                canned.into_bytes(),
            ),
            None => {
                let mut request = client.request(
                    reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                    format!("http://127.0.0.1:{moto_port}{path}"),
                );
                for (name, value) in &headers {
                    if !matches!(name.as_str(), "host" | "content-length" | "connection") {
                        request = request.header(name, value);
                    }
                }
                let response = request.body(body).send().await.expect("moto answers");
                let status = response.status().as_u16();
                let kept = response
                    .headers()
                    .iter()
                    .filter(|(name, _)| {
                        !matches!(
                            name.as_str(),
                            "content-length" | "transfer-encoding" | "connection"
                        )
                    })
                    .map(|(name, value)| {
                        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                        (name.as_str().to_owned(), value)
                    })
                    .collect();
                (status, kept, response.bytes().await.expect("body").to_vec())
            }
        };
        let mut head = format!(
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n",
            answer.len()
        );
        for (name, value) in answer_headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if stream.write_all(head.as_bytes()).await.is_err()
            || stream.write_all(&answer).await.is_err()
        {
            return;
        }
    }
}
