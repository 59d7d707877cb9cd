//! The size goals, checked on every `make test` (after `make build`):
//! deterministic sizes, never timings (those are `make bench`'s).
//!
//! - `build/hello-world.wasm` stays within 64 KB;
//! - every example built for wasm32-unknown-unknown (`make examples`, which
//!   `make test` runs before this) within 128 KB on the seed ABI and 144 KB
//!   on the single-input ABI;
//! - a wasm32-wasip1 build within 1.25x its wasm32-unknown-unknown build
//!   (rate-limiter); where stable Rust cannot reach that, within the ratio
//!   measured when the goal was set, so that it does not grow (see
//!   `WASIP1_RATIO_GOALS`);
//! - one pass-through grows guest memory by at most 2.2x the input (the
//!   input buffer and the output, little more), here at 1 MB (`make bench`
//!   reports 1, 16 and 64 MB), every hook and ABI.

use std::path::PathBuf;

use bifrost_plugin_bench::workload::{memory_inputs, Call};
use bifrost_plugin_host::{Abi, FreeMode, Guest};

fn build(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../build")
        .join(file);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{} ({e}): run `make build` first", path.display()))
}

#[test]
fn hello_world_is_at_most_64_kb() {
    let size = build("hello-world.wasm").len();
    assert!(size <= 64 * 1024, "build/hello-world.wasm is {size} B");
}

#[test]
fn every_example_is_within_its_size_goal() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build/examples");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} ({e}): run `make examples` first", dir.display()));
    let mut checked = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".wasm") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        // A wasm32-wasip1 build imports WASI; its goal is not this one.
        if Guest::load(&bytes, FreeMode::All).unwrap().import_count() > 0 {
            continue;
        }
        let goal = match name.ends_with("-single-input.wasm") {
            true => 144 * 1024,
            false => 128 * 1024,
        };
        assert!(
            bytes.len() <= goal,
            "{name} is {} B, over {goal} B",
            bytes.len()
        );
        checked.push(name);
    }
    assert!(checked.len() >= 16, "only {checked:?} in {}", dir.display());
}

/// The most a wasm32-wasip1 build may be, as a multiple of the same plugin
/// built for wasm32-unknown-unknown: (wasip1 build, unknown-unknown build,
/// goal). The goal is 1.25x. On stable Rust a wasip1 build carries about
/// 27 KB that no plugin or SDK code can drop (std's default panic hook, its
/// stderr and environment code, and wasi-libc's `malloc` they bring: see the
/// guide, docs/src/building.md), while every log line a plugin writes is
/// code there and nothing on wasm32-unknown-unknown. hello-world (65 KB, and
/// logging what it reads is all its wasip1 build adds) and request-logger
/// (logging is its whole work) cannot reach 1.25x for that reason: their
/// goal is the ratio measured on 2026-12-05, rounded up, so it cannot grow.
/// (A ratio grows when the unknown-unknown build shrinks: request-logger's
/// goal rose from 1.40x when both its builds lost the same ~7 KB. It grows
/// too when only the wasip1 build reads something: both plugins log the
/// model, which is read from the host's text without parsing the request:
/// ~1.5 KB of code that makes model-router's pre hook 1.4x as fast; hence
/// 1.46x and 1.75x.)
const WASIP1_RATIO_GOALS: [(&str, &str, f64); 3] = [
    (
        "examples/rate-limiter.wasm",
        "examples/rate-limiter-wasm32-unknown-unknown.wasm",
        1.25,
    ),
    (
        "examples/request-logger.wasm",
        "examples/request-logger-wasm32-unknown-unknown.wasm",
        1.46,
    ),
    ("hello-world-wasi.wasm", "hello-world.wasm", 1.75),
];

#[test]
fn a_wasip1_build_is_within_its_ratio_to_its_unknown_unknown_build() {
    let mut over = Vec::new();
    for (wasip1, unknown, goal) in WASIP1_RATIO_GOALS {
        let (wasip1_bytes, unknown_bytes) = (build(wasip1), build(unknown));
        let load = |bytes: &[u8]| Guest::load(bytes, FreeMode::All).unwrap().import_count();
        assert!(
            load(&wasip1_bytes) > 0,
            "{wasip1} imports no WASI: not a wasip1 build"
        );
        assert_eq!(load(&unknown_bytes), 0, "{unknown} imports something");
        let ratio = wasip1_bytes.len() as f64 / unknown_bytes.len() as f64;
        println!(
            "{wasip1}: {} B, {ratio:.3}x {unknown} ({} B), goal {goal}x",
            wasip1_bytes.len(),
            unknown_bytes.len()
        );
        if ratio > goal {
            over.push(format!("{wasip1}: {ratio:.3}x, over {goal}x"));
        }
    }
    assert!(over.is_empty(), "{over:?}");
}

/// Peak memory growth of one call, as a multiple of the bytes the host wrote.
fn growth(abi: Abi, call: &Call) -> f64 {
    let file = match abi {
        Abi::Seed => "hello-world.wasm",
        Abi::SingleInput => "hello-world-single-input.wasm",
    };
    let mut guest = Guest::load(&build(file), FreeMode::All).unwrap();
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    let before = guest.memory_size();
    let output = guest.hook(call.export, &call.buffers()).unwrap();
    assert!(output.ends_with(br#""error":""}"#) || output.ends_with(br#""hook_error":""}"#));
    (guest.memory_size() - before) as f64 / call.input_bytes() as f64
}

#[test]
fn a_pass_through_grows_memory_by_little_more_than_its_input_and_output() {
    let mut figures = Vec::new();
    for (hook, input) in memory_inputs(1 << 20) {
        for abi in Abi::ALL {
            if !hook.exports(abi).is_empty() {
                let ratio = growth(abi, &Call::new(abi, hook, &input));
                figures.push((format!("{hook} ({abi})"), ratio));
            }
        }
    }
    let over: Vec<String> = figures
        .iter()
        .filter(|(_, ratio)| *ratio > 2.2)
        .map(|(what, ratio)| format!("{what}: {ratio:.2}x"))
        .collect();
    assert!(over.is_empty(), "over 2.2x: {over:?}; all: {figures:?}");
}
