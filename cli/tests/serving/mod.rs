//! A `bifrost-plugin serve` process for tests: started on port 0 with a
//! config written for the test, its port read from the `listening on` line,
//! its stderr collected line by line, stopped with SIGTERM.
#![allow(dead_code)] // each test file uses a different subset

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A file under the repository's `build/`.
pub fn build(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../build")
        .join(file);
    assert!(
        path.exists(),
        "{} is missing: run `make examples build-test-plugins` (`make test` does)",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// A config entry for a gallery plugin (single-input build).
pub fn gallery(name: &str, config: Value) -> Value {
    json!({"path": build(&format!("examples/{name}-single-input.wasm")), "name": name, "config": config})
}

/// A config entry for the chain-probe test plugin tagged `tag`.
pub fn probe(tag: &str) -> Value {
    json!({"path": build("test/chain-probe-single-input.wasm"), "name": format!("probe-{tag}"),
           "config": {"tag": tag, "skip": "drop"}})
}

/// A fresh folder for one test's files.
pub fn folder(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("serve")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `serve`.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// How `serve` ended before it listened.
pub struct Refused {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Server {
    /// Starts `serve` on `plugins` (config entries) with `args`.
    pub fn start(test: &str, plugins: Vec<Value>, args: &[&str]) -> Server {
        let config = folder(test).join("config.json");
        std::fs::write(&config, json!({"plugins": plugins}).to_string()).unwrap();
        match Server::start_file(&config, args) {
            Ok(server) => server,
            Err(refused) => panic!("serve did not start: {}", refused.stderr),
        }
    }

    /// Starts `serve --config FILE`; `Err` if it exits before listening.
    pub fn start_file(config: &std::path::Path, args: &[&str]) -> Result<Server, Refused> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bifrost-plugin"))
            .arg("serve")
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&stderr);
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let Some(address) = first.trim().strip_prefix("listening on ") else {
            let status = child.wait().unwrap();
            // Let the reader thread take the last lines.
            std::thread::sleep(Duration::from_millis(100));
            let stderr = stderr.lock().unwrap().join("\n");
            return Err(Refused {
                code: status.code(),
                stdout: first,
                stderr,
            });
        };
        Ok(Server {
            child,
            base: address.to_string(),
            stderr,
        })
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The stderr lines so far.
    pub fn log(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) for a stderr line containing `needle`.
    pub fn wait_for_line(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(line) = self.log().into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no line with {needle:?} in:\n{}",
                self.log().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then the exit status and every stderr line.
    pub fn stop(mut self) -> (ExitStatus, Vec<String>) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log();
        (status, log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A chat request body with one user message.
pub fn chat(model: &str, text: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": text}]})
}

/// `body` POSTed to `path` as JSON.
pub async fn post_json(server: &Server, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// A response's body as JSON (the body itself in the panic when it is not).
pub async fn json_of(response: reqwest::Response) -> Value {
    let bytes = response.bytes().await.unwrap();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
}

/// Every server-sent event of a streamed POST of `body` to `path`.
pub async fn events(server: &Server, path: &str, body: &Value) -> Vec<eventsource_stream::Event> {
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;
    let response = post_json(server, path, body).await;
    assert_eq!(response.status(), 200);
    let events: Vec<_> = response.bytes_stream().eventsource().collect().await;
    events.into_iter().map(|e| e.unwrap()).collect()
}
