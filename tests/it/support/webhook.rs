//! A real HTTP/1.1 server on 127.0.0.1 standing in for a Slack incoming webhook:
//! it records every body it receives and answers from a script of replies.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Reply {
    Status {
        code: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Wait this long before answering 200 (slower than the client's timeout).
    Slow(Duration),
}

impl Reply {
    pub fn status(code: u16) -> Reply {
        Reply::Status { code, headers: Vec::new(), body: if code == 200 { "ok".into() } else { "error".into() } }
    }

    pub fn rate_limited(retry_after_secs: u64) -> Reply {
        Reply::Status { code: 429, headers: vec![("Retry-After", retry_after_secs.to_string())], body: "rate_limited".into() }
    }
}

#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<String>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
}

impl Webhook {
    /// Starts the server; replies are used in order, then every request gets 200.
    pub fn start(replies: Vec<Reply>) -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/services/T000/B000/very-secret-token", listener.local_addr().unwrap());
        let hook = Webhook { url, bodies: Arc::default(), replies: Arc::new(Mutex::new(replies.into())) };
        let server = hook.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let server = server.clone();
                std::thread::spawn(move || server.serve(stream));
            }
        });
        hook
    }

    pub fn received(&self) -> Vec<serde_json::Value> {
        self.bodies.lock().unwrap().iter().map(|b| serde_json::from_str(b).unwrap()).collect()
    }

    fn serve(&self, stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        loop {
            let mut length = 0usize;
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            self.bodies.lock().unwrap().push(String::from_utf8_lossy(&body).into_owned());
            let reply = self.replies.lock().unwrap().pop_front().unwrap_or_else(|| Reply::status(200));
            let (code, headers, text) = match reply {
                Reply::Status { code, headers, body } => (code, headers, body),
                Reply::Slow(delay) => {
                    std::thread::sleep(delay);
                    (200, Vec::new(), "ok".to_string())
                }
            };
            let mut response = format!("HTTP/1.1 {code} X\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n", text.len());
            for (name, value) in headers {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
            response.push_str("\r\n");
            response.push_str(&text);
            if writer.write_all(response.as_bytes()).is_err() {
                return;
            }
        }
    }
}

/// An address nothing listens on: bind a port, then close it.
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/services/T000/B000/very-secret-token")
}
