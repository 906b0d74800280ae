//! A minimal Lambda Runtime API on 127.0.0.1: hands the real function binary
//! one event, records its response or error, and holds later polls open. It reads
//! one request per connection and says so (`Connection: close`): a client that kept
//! the connection for its next request could send it after the close, and lose it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

/// What the function answered: `response`, `error` or `init_error`, and the body.
#[derive(Debug)]
pub struct Answer {
    pub kind: String,
    pub body: String,
}

pub struct RuntimeApi {
    pub address: String,
    answers: mpsc::Receiver<Answer>,
}

impl RuntimeApi {
    pub fn start(event: String) -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            let mut served = false;
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut length = 0;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok() && line != "\r\n" && !line.is_empty() {
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let path = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
                if path.ends_with("/invocation/next") {
                    if served {
                        // Later polls wait, as on Lambda between events.
                        std::thread::spawn(move || {
                            std::thread::sleep(Duration::from_secs(600));
                            drop(writer);
                        });
                        continue;
                    }
                    served = true;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: req-1\r\nLambda-Runtime-Deadline-Ms: {}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:111122223333:function:doctor\r\nLambda-Runtime-Trace-Id: Root=1-0-0\r\nContent-Length: {}\r\n\r\n{}",
                        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 30_000,
                        event.len(),
                        event
                    );
                    let _ = writer.write_all(response.as_bytes());
                } else {
                    let kind = if path.ends_with("/response") {
                        "response"
                    } else if path.contains("/init/") {
                        "init_error"
                    } else {
                        "error"
                    };
                    let _ = writer.write_all(b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}");
                    let _ = tx.send(Answer { kind: kind.to_string(), body: String::from_utf8_lossy(&body).into_owned() });
                }
            }
        });
        RuntimeApi { address, answers }
    }

    pub fn answer(&self, timeout: Duration) -> Answer {
        self.answers.recv_timeout(timeout).expect("the function answered the runtime API")
    }
}
