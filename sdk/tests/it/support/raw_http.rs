//! A bare HTTP/1.1 server on 127.0.0.1 that answers every request with one canned response, including
//! ones no well-behaved framework sends: a body that never ends, or a `Content-Length` far beyond the bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// What the server answers.
#[derive(Clone)]
pub enum Canned {
    /// `200` with this JSON body.
    Json(String),
    /// `200` with a chunked body of zeros that goes on until the client hangs up.
    Endless,
    /// `200` announcing `Content-Length: {0}` but sending only a few bytes.
    Announced(u64),
}

pub struct RawServer {
    url: String,
    requests: Arc<AtomicUsize>,
    /// Bytes written by the endless body, summed over connections.
    sent: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RawServer {
    pub async fn start(canned: Canned) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(AtomicUsize::new(0));
        let (counter, sent_total) = (Arc::clone(&requests), Arc::clone(&sent));
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (canned, counter, sent_total) = (canned.clone(), Arc::clone(&counter), Arc::clone(&sent_total));
                tokio::spawn(async move {
                    let _ = answer(stream, &canned, &counter, &sent_total).await;
                });
            }
        });
        Self { url, requests, sent, server }
    }

    /// The server's URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Body bytes the endless answer managed to write.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }
}

/// Reads one request (head and `Content-Length` body), then writes the answer.
async fn answer(
    mut stream: TcpStream,
    canned: &Canned,
    counter: &AtomicUsize,
    sent: &AtomicUsize,
) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + length {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    counter.fetch_add(1, Ordering::SeqCst);
    match canned {
        Canned::Json(body) => {
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).await?;
        }
        Canned::Announced(length) => {
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n{{\"access_token\":"
            );
            stream.write_all(response.as_bytes()).await?;
        }
        Canned::Endless => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
                .await?;
            let chunk = vec![b'0'; 64 * 1024];
            let frame = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk, b"\r\n".to_vec()].concat();
            loop {
                // Ends when the client hangs up: the write fails.
                stream.write_all(&frame).await?;
                sent.fetch_add(frame.len(), Ordering::SeqCst);
            }
        }
    }
    stream.shutdown().await
}
