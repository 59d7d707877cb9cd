//! `serve` under load: requests per second and p50/p99 latency of 2 KB chat
//! requests from 8 concurrent clients (this bench's own load generator,
//! keep-alive connections), through a chain of four gallery plugins on each
//! runtime (wasmi, and wasmtime when the binary has the `jit` feature, as
//! `make bench` builds it) against the mock alone, in alternating rounds of
//! one run so that load on a shared machine slows all alike. The difference
//! of the p50s is what the chain adds.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{fail, Settings};

/// Concurrent clients.
const CLIENTS: usize = 8;
/// The chat request's size in bytes (about).
const REQUEST_BYTES: usize = 2048;
/// Rounds of each setup, alternating.
const ROUNDS: usize = 3;

/// The chain: four gallery plugins (single-input builds), none of which
/// answers or changes these requests, so every hook runs on every request.
fn chain(build: &Path) -> Value {
    let plugin = |name: &str, config: Value| {
        json!({"name": name, "config": config,
               "path": build.join(format!("examples/{name}-single-input.wasm"))})
    };
    json!({"plugins": [
        plugin("model-router", json!({"routes": {"gpt-4": "gpt-4o-mini"}})),
        plugin("pii-redactor", json!({})),
        plugin("content-guardrail", json!({"blocked_phrases": ["forbidden"]})),
        plugin("token-budget", json!({"max_total_tokens": 1_000_000_000_000u64})),
    ]})
}

/// A chat request of about [`REQUEST_BYTES`]: a system and a user message
/// of ordinary words.
fn request() -> String {
    let words = "the quick brown fox jumps over the lazy dog ";
    let text = words.repeat(REQUEST_BYTES / words.len() / 2);
    json!({"model": "gpt-4o-mini", "messages": [
        {"role": "system", "content": text},
        {"role": "user", "content": text},
    ]})
    .to_string()
}

/// A running `serve`.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(binary: &Path, config: &Path, runtime: &str) -> Server {
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--runtime",
                runtime,
                "--config",
            ])
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null()) // one line per request: not worth printing
            .spawn()
            .unwrap_or_else(|e| fail(&format!("cannot run {}: {e}", binary.display())));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .unwrap_or_else(|e| fail(&e.to_string()));
        let Some(base) = line.trim().strip_prefix("listening on ") else {
            fail(&format!("serve did not start on {}", config.display()));
        };
        Server {
            base: base.to_string(),
            child,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Latencies of every request sent during `budget` by [`CLIENTS`] clients.
async fn load(url: &str, body: &str, budget: Duration) -> (Vec<Duration>, Duration) {
    let client = reqwest::Client::new();
    let body = Arc::new(body.to_string());
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, body, url) = (client.clone(), Arc::clone(&body), url.to_string());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while start.elapsed() < budget {
                    let sent = Instant::now();
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.as_str().to_owned())
                        .send()
                        .await
                        .unwrap_or_else(|e| fail(&format!("serve: {e}")));
                    let status = response.status();
                    let answer = response.bytes().await.unwrap_or_default();
                    if !status.is_success() {
                        fail(&format!(
                            "serve answered {status}: {}",
                            String::from_utf8_lossy(&answer)
                        ));
                    }
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("a client task"));
    }
    (all, start.elapsed())
}

fn figures(mut latencies: Vec<Duration>, elapsed: Duration) -> Value {
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1e6
    };
    json!({
        "requests": latencies.len(),
        "rps": (latencies.len() as f64 / elapsed.as_secs_f64()).round(),
        "p50_us": at(0.50).round(),
        "p99_us": at(0.99).round(),
    })
}

/// The setups measured: name, config, runtime.
const SETUPS: [(&str, &str, &str); 3] = [
    ("mock", "mock", "wasmi"),
    ("chain_wasmi", "chain", "wasmi"),
    ("chain_wasmtime", "chain", "wasmtime"),
];

/// The `serve` section of the report.
pub fn run(settings: &Settings, binary: &Path) -> Value {
    let folder = settings.build.join("bench-serve");
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| fail(&e.to_string()));
    let config = |name: &str, config: Value| -> PathBuf {
        let path = folder.join(format!("{name}.json"));
        std::fs::write(&path, config.to_string()).unwrap_or_else(|e| fail(&e.to_string()));
        path
    };
    let mock = config("mock", json!({"plugins": []}));
    let chain = config("chain", chain(&settings.build));
    let servers: Vec<(&str, Server)> = SETUPS
        .iter()
        .map(|&(name, which, runtime)| {
            let file = if which == "mock" { &mock } else { &chain };
            (name, Server::start(binary, file, runtime))
        })
        .collect();
    let body = request();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()));
    let budget = settings.budget.max(Duration::from_millis(1000));
    let mut latencies = vec![Vec::new(); servers.len()];
    let mut elapsed = vec![Duration::ZERO; servers.len()];
    runtime.block_on(async {
        for (_, server) in &servers {
            let url = format!("{}/v1/chat/completions", server.base);
            load(&url, &body, Duration::from_millis(300)).await; // warm-up
        }
        for _ in 0..ROUNDS {
            for (i, (_, server)) in servers.iter().enumerate() {
                let url = format!("{}/v1/chat/completions", server.base);
                let (round, took) = load(&url, &body, budget).await;
                latencies[i].extend(round);
                elapsed[i] += took;
            }
        }
    });
    let mut report = json!({
        "request_bytes": body.len(),
        "clients": CLIENTS,
        "rounds": ROUNDS,
        "round_ms": budget.as_millis() as u64,
        "plugins": ["model-router", "pii-redactor", "content-guardrail", "token-budget"],
    });
    let p50 = |v: &Value| v["p50_us"].as_f64().unwrap_or(0.0);
    for (i, (name, _)) in servers.iter().enumerate() {
        let mut figures = figures(std::mem::take(&mut latencies[i]), elapsed[i]);
        if *name != "mock" {
            let added = p50(&figures) - p50(&report["mock"]);
            let ratio = figures["rps"].as_f64().unwrap_or(0.0)
                / report["mock"]["rps"].as_f64().unwrap_or(1.0).max(1.0);
            figures["added_p50_us"] = json!(added.round());
            figures["rps_ratio"] = json!((ratio * 1000.0).round() / 1000.0);
        }
        println!(
            "serve, {} B chat requests, {CLIENTS} clients, {name}: {} rps, p50 {} µs, p99 {} µs{}",
            body.len(),
            figures["rps"],
            figures["p50_us"],
            figures["p99_us"],
            match figures.get("added_p50_us") {
                Some(added) => format!(
                    "; adds {added} µs p50, {}x the mock's rps",
                    figures["rps_ratio"]
                ),
                None => String::new(),
            }
        );
        report[*name] = figures;
    }
    report
}
