//! `make bench`: what the SDK costs, as figures side by side from one run,
//! printed and written to `build/bench.json` (from which `--tables` rewrites
//! the tables of the guide's performance chapter).
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
//! bifrost-plugin-bench --tables docs/src/performance.md --json build/bench.json
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[cfg(feature = "jit")]
mod jit;
mod measure;
mod runtime;
mod serve;
mod tables;

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
    /// The `bifrost-plugin` binary whose `serve` the serve section loads
    /// (none: that section is skipped).
    pub serve_binary: Option<PathBuf>,
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut settings = Settings {
        calls: 100_000,
        budget: Duration::from_millis(1500),
        build: root.join("build"),
        only: None,
        serve_binary: None,
    };
    let mut json_path = root.join("build/bench.json");
    let mut json_named = false;
    let mut tables_path = None;
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
            "--tables" => tables_path = Some(PathBuf::from(value)),
            "--serve-binary" => settings.serve_binary = Some(PathBuf::from(value)),
            "--only" => settings.only = Some(value.split(',').map(str::to_owned).collect()),
            _ => fail(&format!(
                "unknown flag {flag}; usage: bifrost-plugin-bench [--calls N] [--budget-ms MS] \
                 [--build-dir DIR] [--json FILE] [--only SECTIONS] [--serve-binary FILE] | --tables docs/src/performance.md [--json FILE]"
            )),
        }
    }
    if let Some(page) = tables_path {
        let report: Value = serde_json::from_slice(&read(&json_path))
            .unwrap_or_else(|e| fail(&format!("{}: {e}", json_path.display())));
        tables::rewrite(&page, &report).unwrap_or_else(|e| fail(&e));
        println!(
            "{}: tables rewritten from {}",
            page.display(),
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
    json!({"cpu": cpu, "cores": cores, "date": today()})
}

/// Today's UTC date as `YYYY-MM-DD`, so a page of figures says when they
/// were measured.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_date(secs / 86_400);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for days on or after the epoch).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + u64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_date;

    #[test]
    fn days_since_the_epoch_are_dated() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(59), (1970, 3, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(20_791), (2026, 12, 4));
    }
}
