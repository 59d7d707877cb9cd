//! The measurements, each returning its section of the report.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bifrost_plugin_host::{Abi, FreeMode, Guest, Hook, HookInput};
use serde_json::{json, Value};

use crate::runtime::{wasmi_guest, Engine, Runtime};
use crate::{fail, machine, read, time, Settings};
use bifrost_plugin_bench::workload::{self, Call, CONTEXT};

/// Sizes of the timed requests, KB.
const KB: [usize; 3] = [1, 20, 200];
/// Sizes of the memory check, MB.
const MB: [usize; 3] = [1, 16, 64];

/// Every measurement, as the report `build/bench.json` holds.
pub fn run(settings: &Settings) -> Value {
    let runtimes: Vec<&str> = Engine::all().into_iter().map(Engine::name).collect();
    println!(
        "bench: {} ; runtimes {runtimes:?}; {} ms per timing",
        machine(),
        settings.budget.as_millis()
    );
    let mut report = json!({
        "machine": machine(),
        "runtimes": runtimes,
        "budget_ms": settings.budget.as_millis() as u64,
    });
    let wanted = |section: &str| {
        settings
            .only
            .as_ref()
            .is_none_or(|only| only.iter().any(|s| s == section))
    };
    if wanted("sizes") {
        report["sizes"] = sizes(&settings.build);
    }
    if wanted("compare") {
        report["compare"] = compare(settings);
    }
    if wanted("abi") {
        report["abi"] = abi_cost(settings);
    }
    if wanted("stream_chunk") {
        report["stream_chunk"] = stream_chunk(settings);
    }
    if wanted("peak_memory") {
        report["peak_memory"] = peak_memory(&settings.build);
    }
    if wanted("allocators") {
        report["allocators"] = allocators(settings);
    }
    if wanted("serve") {
        match &settings.serve_binary {
            Some(binary) => report["serve"] = crate::serve::run(settings, binary),
            None => println!("serve: skipped (no --serve-binary)"),
        }
    }
    report
}

/// The `.wasm` file of `name` for `abi` (`build/NAME.wasm` or
/// `build/NAME-single-input.wasm`).
fn wasm(build: &Path, name: &str, abi: Abi) -> Vec<u8> {
    let suffix = match abi {
        Abi::Seed => "",
        Abi::SingleInput => "-single-input",
    };
    read(&build.join(format!("{name}{suffix}.wasm")))
}

fn sizes(build: &Path) -> Value {
    let names = [
        "hello-world.wasm",
        "hello-world-single-input.wasm",
        // wasm32-wasip1: logs every call, so it reads (parses) what it logs.
        "hello-world-wasi.wasm",
        "test/bench-guest.wasm",
        "test/public-example.wasm",
        "test/public-example-single-input.wasm",
        "test/hello-world-dlmalloc.wasm",
        "test/hello-world-wee-alloc.wasm",
    ];
    let rows: Vec<Value> = names
        .iter()
        .map(|name| {
            let path = build.join(name);
            let release = std::fs::metadata(&path).map_or(0, |m| m.len());
            let optimized = wasm_opt_size(&path);
            println!("size: {name}: {release} B release; {optimized:?} B after wasm-opt -Oz");
            json!({"file": name, "release": release, "wasm_opt": optimized})
        })
        .collect();
    Value::Array(rows)
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

/// One timed job: the guest doing it, what it is sent, and what its output
/// must show.
struct Job {
    workload: &'static str,
    /// Ours: the SDK plugin's file name under `build/`.
    ours: &'static str,
    /// The public example's `init` configuration for the same job.
    theirs_config: &'static [u8],
    hook: Hook,
    /// The value sent (about the given bytes) and the hook's input.
    input: fn(usize) -> (Vec<u8>, HookInput),
    /// The sizes timed, KB.
    kb: &'static [usize],
    /// Whether the output shows the job done, given the value sent.
    done: fn(&[u8], &[u8]) -> bool,
}

/// A `pre_hook` input of short messages ([`workload::chat_request`]).
fn short_messages(bytes: usize) -> (Vec<u8>, HookInput) {
    workload::pre_hook_input(workload::chat_request(bytes))
}

/// A `pre_hook` input of ~900-character messages.
fn long_messages(bytes: usize) -> (Vec<u8>, HookInput) {
    workload::pre_hook_input(workload::long_messages_request(bytes))
}

/// A `post_hook` input: a response of many choices, one to edit.
fn many_texts(bytes: usize) -> (Vec<u8>, HookInput) {
    workload::post_hook_input(workload::texts_response(bytes))
}

const JOBS: [Job; 5] = [
    Job {
        workload: "pass-through",
        ours: "hello-world",
        theirs_config: b"{}",
        hook: Hook::PreHook,
        input: short_messages,
        kb: &KB,
        done: workload::echoes_request,
    },
    Job {
        workload: "typed edit",
        ours: "test/bench-guest",
        theirs_config: br#"{"edit":true}"#,
        hook: Hook::PreHook,
        input: short_messages,
        kb: &KB,
        done: |output, _| workload::has_edit(output),
    },
    Job {
        workload: "pass-through, long messages",
        ours: "hello-world",
        theirs_config: b"{}",
        hook: Hook::PreHook,
        input: long_messages,
        kb: &[20, 200],
        done: workload::echoes_request,
    },
    Job {
        workload: "typed edit, long messages",
        ours: "test/bench-guest",
        theirs_config: br#"{"edit":true}"#,
        hook: Hook::PreHook,
        input: long_messages,
        kb: &[20, 200],
        done: |output, _| workload::has_edit(output),
    },
    Job {
        workload: "texts_mut: one text of a response",
        ours: "test/bench-guest",
        theirs_config: br#"{"edit":true}"#,
        hook: Hook::PostHook,
        input: many_texts,
        kb: &[20],
        done: workload::has_text_edit,
    },
];

/// The job names, in the order of [`JOBS`] (the tables' rows).
pub const JOB_NAMES: [&str; 5] = [
    JOBS[0].workload,
    JOBS[1].workload,
    JOBS[2].workload,
    JOBS[3].workload,
    JOBS[4].workload,
];

/// ns per call of `call` on `guest`, after checking once that the output
/// shows the job done.
fn timed(
    settings: &Settings,
    guest: &mut dyn Runtime,
    call: &Call,
    done: impl Fn(&[u8]) -> bool,
    who: &str,
) -> f64 {
    check_done(guest, call, &done, who);
    time_calls(settings.budget, guest, call, who)
}

/// Fails unless `guest`'s output for `call` shows the job done.
fn check_done(guest: &mut dyn Runtime, call: &Call, done: &dyn Fn(&[u8]) -> bool, who: &str) {
    let output = guest
        .hook(call.export, &call.buffers())
        .unwrap_or_else(|e| fail(&format!("{who}: {e}")));
    if !done(&output) {
        fail(&format!(
            "{who}: the output does not show the job done: {}",
            String::from_utf8_lossy(&output[..output.len().min(300)])
        ));
    }
}

/// Mean ns per call of `call` on `guest` over `budget`.
fn time_calls(budget: Duration, guest: &mut dyn Runtime, call: &Call, who: &str) -> f64 {
    let buffers = call.buffers();
    time(budget, || {
        guest
            .hook(call.export, &buffers)
            .unwrap_or_else(|e| fail(&format!("{who}: {e}")));
    })
}

/// Rounds of ours and theirs, taken in turn, in [`timed_pair`].
const ROUNDS: u32 = 5;

/// ns per call of ours and theirs for the same `call`, timed in turn
/// ([`alternating`]), after checking that both do the job.
fn timed_pair(
    settings: &Settings,
    ours: &mut dyn Runtime,
    theirs: &mut dyn Runtime,
    call: &Call,
    done: impl Fn(&[u8]) -> bool,
    who: &str,
) -> (f64, f64) {
    check_done(ours, call, &done, who);
    check_done(theirs, call, &done, who);
    alternating(settings, (ours, call), (theirs, call), who)
}

/// ns per call of two guests, each with its call: [`ROUNDS`] rounds that
/// time one and then the other (each a share of the budget), and the
/// fastest round of each. Taken in turn, both see the same machine: a
/// build or a frequency change on a shared machine slows both, instead of
/// whichever was timed at that moment.
fn alternating(
    settings: &Settings,
    (a, a_call): (&mut dyn Runtime, &Call),
    (b, b_call): (&mut dyn Runtime, &Call),
    who: &str,
) -> (f64, f64) {
    let share = settings.budget / ROUNDS;
    let (mut a_ns, mut b_ns) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..ROUNDS {
        a_ns = a_ns.min(time_calls(share, a, a_call, who));
        b_ns = b_ns.min(time_calls(share, b, b_call, who));
    }
    (a_ns, b_ns)
}

/// Single-input against seed, ours: hello-world's pass-through of the same
/// request on each ABI, the two timed in turn (as ours and theirs are), so
/// that their ratio is not two separate timings' noise.
fn abi_cost(settings: &Settings) -> Value {
    let mut rows = Vec::new();
    for engine in Engine::all() {
        let load = |abi: Abi| {
            engine
                .load(&wasm(&settings.build, "hello-world", abi), b"{}")
                .unwrap_or_else(|e| fail(&format!("hello-world {abi}: {e}")))
        };
        let (mut seed, mut single) = (load(Abi::Seed), load(Abi::SingleInput));
        for kb in KB {
            let (request, input) = workload::pre_hook_input(workload::chat_request(kb * 1024));
            let seed_call = Call::new(Abi::Seed, Hook::PreHook, &input);
            let single_call = Call::new(Abi::SingleInput, Hook::PreHook, &input);
            let done = |output: &[u8]| workload::echoes_request(output, &request);
            let who = format!("{} ABIs {kb} KB", engine.name());
            check_done(seed.as_mut(), &seed_call, &done, &who);
            check_done(single.as_mut(), &single_call, &done, &who);
            let (seed_ns, single_ns) = alternating(
                settings,
                (seed.as_mut(), &seed_call),
                (single.as_mut(), &single_call),
                &who,
            );
            let ratio = single_ns / seed_ns;
            println!(
                "{:<8} single-input / seed pass-through {kb:>3} KB: {single_ns:>9.0} / {seed_ns:>9.0} ns = {ratio:.2}x",
                engine.name()
            );
            rows.push(json!({
                "runtime": engine.name(), "kb": kb, "seed_ns": seed_ns.round(),
                "single_input_ns": single_ns.round(), "ratio": ratio,
            }));
        }
    }
    Value::Array(rows)
}

/// Ours against the public example's approach: every runtime, ABI, job, size.
fn compare(settings: &Settings) -> Value {
    let mut rows = Vec::new();
    for engine in Engine::all() {
        for abi in Abi::ALL {
            for job in &JOBS {
                let load = |file: &[u8], config: &[u8]| {
                    engine
                        .load(file, config)
                        .unwrap_or_else(|e| fail(&format!("{}: {e}", job.ours)))
                };
                let mut ours = load(&wasm(&settings.build, job.ours, abi), b"{}");
                let theirs_wasm = wasm(&settings.build, "test/public-example", abi);
                let mut theirs = load(&theirs_wasm, job.theirs_config);
                for &kb in job.kb {
                    let (request, input) = (job.input)(kb * 1024);
                    let call = Call::new(abi, job.hook, &input);
                    let done = |output: &[u8]| (job.done)(output, &request);
                    let who = format!("{} {abi} {} {kb} KB", engine.name(), job.workload);
                    let (ours_ns, theirs_ns) =
                        timed_pair(settings, ours.as_mut(), theirs.as_mut(), &call, done, &who);
                    let speedup = theirs_ns / ours_ns;
                    println!(
                        "{:<8} {:<12} {:<12} {kb:>3} KB: ours {:>9.0} ns, theirs {:>9.0} ns: {speedup:.1}x",
                        engine.name(),
                        abi.name(),
                        job.workload,
                        ours_ns,
                        theirs_ns
                    );
                    rows.push(json!({
                        "runtime": engine.name(), "abi": abi.name(), "workload": job.workload,
                        "kb": kb, "ours_ns": ours_ns.round(), "theirs_ns": theirs_ns.round(),
                        "speedup": speedup,
                    }));
                }
            }
        }
    }
    Value::Array(rows)
}

/// `http_stream_chunk_hook` per chunk (single-input only): a 100-byte delta.
fn stream_chunk(settings: &Settings) -> Value {
    let chunk = workload::stream_chunk(100);
    let input = HookInput::new()
        .with_context(CONTEXT)
        .with_request(workload::http_request(0))
        .with_chunk(chunk.clone());
    let call = Call::new(Abi::SingleInput, Hook::HttpStreamChunkHook, &input);
    let echoes_chunk = |output: &[u8]| {
        let parsed = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).ok();
        parsed(output).and_then(|o| o.get("chunk").cloned()) == parsed(&chunk)
    };
    let mut rows = Vec::new();
    for engine in Engine::all() {
        let load = |file: &str| {
            let wasm = wasm(&settings.build, file, Abi::SingleInput);
            engine
                .load(&wasm, b"{}")
                .unwrap_or_else(|e| fail(&format!("{file}: {e}")))
        };
        let (mut ours, mut theirs) = (load("hello-world"), load("test/public-example"));
        let who = format!("{} stream chunk", engine.name());
        let (ours_ns, theirs_ns) = timed_pair(
            settings,
            ours.as_mut(),
            theirs.as_mut(),
            &call,
            echoes_chunk,
            &who,
        );
        println!(
            "{:<8} stream chunk (100-byte delta, {} B input): ours {ours_ns:.0} ns, theirs {theirs_ns:.0} ns: {:.1}x",
            engine.name(),
            call.input_bytes(),
            theirs_ns / ours_ns
        );
        rows.push(json!({
            "runtime": engine.name(), "input_bytes": call.input_bytes(),
            "ours_ns": ours_ns.round(), "theirs_ns": theirs_ns.round(),
            "speedup": theirs_ns / ours_ns,
        }));
    }
    Value::Array(rows)
}

/// Guest memory growth of one pass-through call in a fresh instance (so the
/// input buffer, the hook's work and its output all count), under wasmi.
fn peak_memory(build: &Path) -> Value {
    let mut rows = Vec::new();
    for mb in MB {
        for (hook, input) in workload::memory_inputs(mb << 20) {
            for abi in Abi::ALL {
                if hook.exports(abi).is_empty() {
                    continue;
                }
                let call = Call::new(abi, hook, &input);
                let mut guest = wasmi_guest(&wasm(build, "hello-world", abi), b"{}")
                    .unwrap_or_else(|e| fail(&e));
                let before = guest.memory_size();
                let output = Runtime::hook(&mut guest, call.export, &call.buffers())
                    .unwrap_or_else(|e| fail(&format!("{hook} {abi} {mb} MB: {e}")));
                let growth = guest.memory_size() - before;
                let error = plugin_error(&output);
                if !error.is_empty() {
                    fail(&format!("{hook} {abi} {mb} MB: the hook failed: {error}"));
                }
                let ratio = growth as f64 / call.input_bytes() as f64;
                println!(
                    "peak memory {hook:<14} {:<12} {mb:>2} MB: input {} B, growth {growth} B = {ratio:.2}x",
                    abi.name(),
                    call.input_bytes()
                );
                rows.push(json!({
                    "hook": hook.name(), "abi": abi.name(), "mb": mb,
                    "input_bytes": call.input_bytes(), "growth_bytes": growth, "ratio": ratio,
                }));
            }
        }
    }
    Value::Array(rows)
}

/// The hook's error text (`error` or `hook_error`), empty when none.
fn plugin_error(output: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<Value>(output) else {
        return "the output is not JSON".into();
    };
    ["hook_error", "error"]
        .iter()
        .find_map(|key| value.get(key).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string()
}

/// The allocators and the opt-in unchecked echo: pass-through time (seed
/// ABI) and memory after N calls.
fn allocators(settings: &Settings) -> Value {
    let builds = [
        ("talc (default)", "hello-world.wasm"),
        ("dlmalloc", "test/hello-world-dlmalloc.wasm"),
        ("wee_alloc", "test/hello-world-wee-alloc.wasm"),
        (
            "talc, unchecked-echo",
            "test/hello-world-unchecked-echo.wasm",
        ),
    ];
    let mut rows = Vec::new();
    for (build, file) in builds {
        let wasm = read(&settings.build.join(file));
        let mut row = json!({"build": build});
        for engine in Engine::all() {
            let mut guest = engine
                .load(&wasm, b"{}")
                .unwrap_or_else(|e| fail(&format!("{file}: {e}")));
            for kb in KB {
                let (request, input) = workload::pre_hook_input(workload::chat_request(kb * 1024));
                let call = Call::new(Abi::Seed, Hook::PreHook, &input);
                let done = |out: &[u8]| workload::echoes_request(out, &request);
                let ns = timed(settings, guest.as_mut(), &call, done, build);
                println!(
                    "{build}, {}: pass-through {kb} KB: {ns:.0} ns",
                    engine.name()
                );
                row[format!("{}_{kb}kb_ns", engine.name())] = json!(ns.round());
            }
        }
        if !build.contains("unchecked") {
            row["memory_after_calls"] = memory_after_calls(&wasm, settings.calls, build);
        }
        rows.push(row);
    }
    Value::Array(rows)
}

/// Guest memory after `calls` 1 KB pre_hook calls, for each host free behaviour.
fn memory_after_calls(wasm: &[u8], calls: u64, build: &str) -> Value {
    let request = workload::chat_request(1024);
    let mut out = json!({"calls": calls});
    for mode in [FreeMode::All, FreeMode::InputsOnly, FreeMode::Nothing] {
        let mut guest = Guest::load(wasm, mode).unwrap_or_else(|e| fail(&e.to_string()));
        if guest.init(b"{}").unwrap_or(-1) != 0 {
            fail("init failed");
        }
        let start = guest.memory_size();
        let began = Instant::now();
        for _ in 0..calls {
            guest
                .pre_hook(CONTEXT.as_bytes(), &request)
                .unwrap_or_else(|e| fail(&e.to_string()));
        }
        println!(
            "memory after {calls} pre_hook calls (1 KB), {build}, host frees {mode:?}: {} B (at start {start} B; {:.1} s)",
            guest.memory_size(),
            began.elapsed().as_secs_f64()
        );
        out[format!("{mode:?}")] = json!({"start": start, "end": guest.memory_size()});
    }
    out
}
