//! `make bench`: what the SDK costs, as figures and as ratios to baselines
//! measured in the same run.
//!
//! - `.wasm` sizes, release and after `wasm-opt -Oz` (when installed);
//! - ns per `pre_hook` pass-through call at 1, 20 and 200 KB, against the
//!   copying limit: the host writing the input into guest memory and reading
//!   an output of the same size, with no guest work;
//! - ns per typed edit (set the model, add a message) against plain
//!   serde_json parse + serialise of the same payload inside the guest;
//! - guest memory after N calls (default 1M) for each host free behaviour.
//!
//! Pass-through and memory are measured for the default allocator (talc)
//! and for builds with Rust's dlmalloc (`build/test/hello-world-dlmalloc.wasm`)
//! and the opt-in wee_alloc (`build/test/hello-world-wee-alloc.wasm`); the
//! pass-through also for the opt-in unchecked echo
//! (`build/test/hello-world-unchecked-echo.wasm`).
//!
//! The runtime is wasmi, an interpreter: guest work is interpreted while the
//! baseline copy is native, so ratios are far larger than under a JIT. With
//! `--features jit` (as `make bench` builds it) the pass-through is also timed
//! under wasmtime (Cranelift), a compiling runtime like the Go host's likely
//! wazero compiler.
//!
//! ```text
//! bifrost-plugin-bench [--calls N] [--build-dir DIR]
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bifrost_plugin_host::{FreeMode, Guest};
use serde_json::json;

#[cfg(feature = "jit")]
mod jit;

/// How long each timing runs (after warm-up).
const BUDGET: Duration = Duration::from_millis(1500);

fn main() {
    let mut calls = 1_000_000u64;
    let mut build = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--calls" => {
                calls = value
                    .parse()
                    .unwrap_or_else(|e| fail(&format!("--calls: {e}")))
            }
            "--build-dir" => build = PathBuf::from(value),
            _ => fail(&format!(
                "unknown flag {flag}; usage: bifrost-plugin-bench [--calls N] [--build-dir DIR]"
            )),
        }
    }
    println!(
        "bench: runtime wasmi 2 (interpreter, portable dispatch); {}",
        machine()
    );
    sizes(&build);
    // Each allocator with the calls its memory check makes: wee_alloc's
    // memory grows with every call, so 100k calls show it (1M would take
    // gigabytes).
    let allocators = [
        ("talc (default)", "hello-world.wasm", calls),
        ("dlmalloc", "test/hello-world-dlmalloc.wasm", calls),
        (
            "wee_alloc",
            "test/hello-world-wee-alloc.wasm",
            calls.min(100_000),
        ),
    ]
    .map(|(allocator, file, calls)| (allocator, read(&build.join(file)), calls));
    for (allocator, wasm, _) in &allocators {
        pass_through(allocator, wasm);
    }
    let unchecked = read(&build.join("test/hello-world-unchecked-echo.wasm"));
    pass_through("talc, opt-in unchecked-echo", &unchecked);
    #[cfg(feature = "jit")]
    {
        pass_through_jit("talc (default)", &allocators[0].1);
        pass_through_jit("talc, opt-in unchecked-echo", &unchecked);
    }
    typed_edit(&read(&build.join("test/bench-guest.wasm")));
    for (allocator, wasm, calls) in &allocators {
        memory(allocator, wasm, *calls);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        fail(&format!(
            "cannot read {} ({e}): run `make build build-test-plugins`",
            path.display()
        ))
    })
}

fn machine() -> String {
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
    format!("{cpu}, {cores} cores")
}

fn sizes(build: &Path) {
    let names = [
        "hello-world.wasm",
        "hello-world-single-input.wasm",
        "test/hello-world-dlmalloc.wasm",
        "test/hello-world-wee-alloc.wasm",
    ];
    for name in names {
        let path = build.join(name);
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        let optimized = wasm_opt_size(&path).map_or("wasm-opt not installed".to_string(), |s| {
            format!("{s} B after wasm-opt -Oz")
        });
        println!("size: {name}: {size} B release; {optimized}");
    }
}

fn wasm_opt_size(path: &Path) -> Option<u64> {
    let out = std::env::temp_dir().join(format!("bench-{}.wasm", std::process::id()));
    let features = [
        "--enable-bulk-memory",
        "--enable-sign-ext",
        "--enable-mutable-globals",
        "--enable-nontrapping-float-to-int",
        "--enable-multivalue",
        "--enable-reference-types",
    ];
    let status = Command::new("wasm-opt")
        .arg("-Oz")
        .args(features)
        .arg(path)
        .arg("-o")
        .arg(&out)
        .status()
        .ok()?;
    let size = status
        .success()
        .then(|| std::fs::metadata(&out).ok().map(|m| m.len()))
        .flatten();
    let _ = std::fs::remove_file(&out);
    size
}

/// A chat request of about `bytes` bytes.
fn chat_request(bytes: usize) -> Vec<u8> {
    let mut input = Vec::new();
    let mut request = json!({"provider": "openai", "model": "gpt-4o-mini", "input": [], "params": {"temperature": 0.2}});
    let message = "Summarise the following paragraph in one sentence, keeping names. ".repeat(3);
    while serde_json::to_vec(&request).map_or(0, |v| v.len()) < bytes {
        input.push(json!({"role": "user", "content": message}));
        request["input"] = json!(input);
    }
    serde_json::to_vec(&request).unwrap_or_default()
}

/// Mean ns per call of `f`, run for [`BUDGET`] after a warm-up.
fn time(mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f();
    }
    let (start, mut n) = (Instant::now(), 0u32);
    while start.elapsed() < BUDGET || n < 5 {
        f();
        n += 1;
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn guest(wasm: &[u8], mode: FreeMode) -> Guest {
    let mut guest = Guest::load(wasm, mode).unwrap_or_else(|e| fail(&e.to_string()));
    if guest.init(b"{}").unwrap_or(-1) != 0 {
        fail("init failed");
    }
    guest
}

/// The copying limit: write `input` into guest memory and read as many bytes
/// back, through the same allocator calls a hook uses, with no hook.
fn copy_baseline(guest: &mut Guest, input: &[u8]) -> f64 {
    time(|| {
        let ptr = guest.malloc(input.len() as u32).unwrap_or(0);
        guest
            .write(ptr, input)
            .unwrap_or_else(|e| fail(&e.to_string()));
        let out = guest.read(ptr, input.len() as u32).unwrap_or_default();
        assert_eq!(out.len(), input.len());
        guest.free(ptr).unwrap_or_else(|e| fail(&e.to_string()));
    })
}

fn pass_through(allocator: &str, wasm: &[u8]) {
    let mut guest = guest(wasm, FreeMode::All);
    for kb in [1, 20, 200] {
        let request = chat_request(kb * 1024);
        let hook = time(|| {
            let out = guest
                .pre_hook(b"{}", &request)
                .unwrap_or_else(|e| fail(&e.to_string()));
            assert!(out.len() > request.len());
        });
        let baseline = copy_baseline(&mut guest, &request);
        println!(
            "pass-through pre_hook, {kb} KB, {allocator}: {hook:.0} ns/call; copy baseline {baseline:.0} ns/call; ratio {:.1}x",
            hook / baseline
        );
    }
}

/// The pass-through and its copy baseline under wasmtime (`--features jit`).
#[cfg(feature = "jit")]
fn pass_through_jit(build: &str, wasm: &[u8]) {
    let mut guest = jit::JitGuest::load(wasm).unwrap_or_else(|e| fail(&e));
    for kb in [1, 20, 200] {
        let request = chat_request(kb * 1024);
        let hook = time(|| {
            let out = guest.pre_hook(b"{}", &request).unwrap_or_else(|e| fail(&e));
            assert!(out.len() > request.len());
        });
        let baseline = time(|| {
            let copied = guest.copy(&request).unwrap_or_else(|e| fail(&e));
            assert_eq!(copied, request.len());
        });
        println!(
            "pass-through pre_hook, {kb} KB, {build}, wasmtime (Cranelift): {hook:.0} ns/call; copy baseline {baseline:.0} ns/call; ratio {:.1}x",
            hook / baseline
        );
    }
}

fn typed_edit(wasm: &[u8]) {
    let mut guest = guest(wasm, FreeMode::All);
    for kb in [1, 20, 200] {
        let request = chat_request(kb * 1024);
        let sdk = time(|| {
            let out = guest
                .pre_hook(b"{}", &request)
                .unwrap_or_else(|e| fail(&e.to_string()));
            assert!(out.windows(8).any(|w| w == b"\"gpt-4o\""));
        });
        let plain = time(|| {
            let ptr = guest.malloc(request.len() as u32).unwrap_or(0);
            guest
                .write(ptr, &request)
                .unwrap_or_else(|e| fail(&e.to_string()));
            let len = guest
                .call("json_roundtrip", &[ptr as i32, request.len() as i32])
                .unwrap_or(0);
            assert!(len > request.len() as i64);
            guest.free(ptr).unwrap_or_else(|e| fail(&e.to_string()));
        });
        println!(
            "typed edit (set model, add message), {kb} KB: sdk {sdk:.0} ns/call; plain serde_json {plain:.0} ns/call; ratio {:.2}x",
            sdk / plain
        );
    }
}

fn memory(allocator: &str, wasm: &[u8], calls: u64) {
    let request = chat_request(1024);
    for mode in [FreeMode::All, FreeMode::InputsOnly, FreeMode::Nothing] {
        let mut guest = guest(wasm, mode);
        let start = guest.memory_size();
        let began = Instant::now();
        for _ in 0..calls {
            guest
                .pre_hook(b"{\"request_id\":\"r\"}", &request)
                .unwrap_or_else(|e| fail(&e.to_string()));
        }
        println!(
            "memory after {calls} pre_hook calls (1 KB), {allocator}, host frees {mode:?}: {} B (at start {start} B; {:.1} s)",
            guest.memory_size(),
            began.elapsed().as_secs_f64()
        );
    }
}
