//! `make bench`: what the SDK costs, as figures side by side from one run,
//! printed and written to `build/bench.json` (from which `--readme` rewrites
//! the README's tables).
//!
//! - `.wasm` sizes, release and after `wasm-opt -Oz` (when installed);
//! - ours against theirs: ns per call of hello-world (pass-through) and
//!   bench-guest (typed edit: set the model, add a message) against the
//!   public example's approach (`test-plugins/public-example`: parse every
//!   input into a `serde_json::Value`, rebuild, serialise), at 1, 20 and
//!   200 KB, for both ABIs, under wasmi and (with `--features jit`, as
//!   `make bench` builds it) wasmtime;
//! - the stream chunk hook's cost per chunk (100-byte deltas), ours and theirs;
//! - peak guest memory growth of one pass-through at 1, 16 and 64 MB for
//!   `pre_hook`, `post_hook` and the HTTP hooks (base64 bodies), both ABIs;
//! - the allocators (talc, dlmalloc, wee_alloc) and the opt-in
//!   `unchecked-echo` build: pass-through time and memory after N calls.
//!
//! ```text
//! bifrost-plugin-bench [--calls N] [--budget-ms MS] [--build-dir DIR] [--json FILE] [--only SECTIONS]
//! bifrost-plugin-bench --readme README.md --json build/bench.json
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[cfg(feature = "jit")]
mod jit;
mod measure;
mod readme;
mod runtime;

/// Command-line settings.
pub struct Settings {
    /// Calls of the memory-after-N-calls check.
    pub calls: u64,
    /// How long each timing runs after warm-up.
    pub budget: Duration,
    /// Where `make build build-test-plugins` put the `.wasm` files.
    pub build: PathBuf,
    /// Only these sections (`sizes`, `compare`, `abi`, `stream_chunk`,
    /// `peak_memory`, `allocators`), for a quick look while changing one
    /// thing: printed only, not written to `build/bench.json` (whose
    /// figures come from one whole run) unless `--json` names a file.
    pub only: Option<Vec<String>>,
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut settings = Settings {
        calls: 100_000,
        budget: Duration::from_millis(1500),
        build: root.join("build"),
        only: None,
    };
    let mut json_path = root.join("build/bench.json");
    let mut json_named = false;
    let mut readme_path = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        let number = |value: &str| -> u64 {
            value
                .parse()
                .unwrap_or_else(|e| fail(&format!("{flag}: {e}")))
        };
        match flag.as_str() {
            "--calls" => settings.calls = number(&value),
            "--budget-ms" => settings.budget = Duration::from_millis(number(&value)),
            "--build-dir" => settings.build = PathBuf::from(value),
            "--json" => {
                json_path = PathBuf::from(value);
                json_named = true;
            }
            "--readme" => readme_path = Some(PathBuf::from(value)),
            "--only" => settings.only = Some(value.split(',').map(str::to_owned).collect()),
            _ => fail(&format!(
                "unknown flag {flag}; usage: bifrost-plugin-bench [--calls N] [--budget-ms MS] \
                 [--build-dir DIR] [--json FILE] [--only SECTIONS] | --readme README.md [--json FILE]"
            )),
        }
    }
    if let Some(readme) = readme_path {
        let report: Value = serde_json::from_slice(&read(&json_path))
            .unwrap_or_else(|e| fail(&format!("{}: {e}", json_path.display())));
        readme::rewrite(&readme, &report).unwrap_or_else(|e| fail(&e));
        println!(
            "{}: tables rewritten from {}",
            readme.display(),
            json_path.display()
        );
        return;
    }
    let report = measure::run(&settings);
    if settings.only.is_some() && !json_named {
        return; // a partial run leaves the whole run's figures as they are
    }
    let text = serde_json::to_string_pretty(&report).expect("a Value serialises");
    std::fs::write(&json_path, text + "\n")
        .unwrap_or_else(|e| fail(&format!("{}: {e}", json_path.display())));
    println!("figures written to {}", json_path.display());
}

pub fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        fail(&format!(
            "cannot read {} ({e}): run `make build build-test-plugins`",
            path.display()
        ))
    })
}

/// Mean ns per call of `f`, run for `budget` after a warm-up.
pub fn time(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let (start, mut n) = (Instant::now(), 0u32);
    while start.elapsed() < budget || n < 5 {
        f();
        n += 1;
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

/// The machine, for the report.
pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({"cpu": cpu, "cores": cores})
}
