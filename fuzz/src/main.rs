//! Fuzzes a built plugin through the local host, for both ABIs and all three
//! host free behaviours: arbitrary and mutated-realistic bytes into every
//! hook's buffers, interleaved with allocator calls through every allocator
//! export (`plugin_malloc`/`plugin_free`, and the single-input build's
//! `malloc`/`free(ptr, size)`) on sizes and pointers of every kind (zero,
//! huge, unknown, freed twice), `init` with arbitrary configuration bytes and
//! pointers, `cleanup` followed by `init`, and `get_name`. Hosts that name
//! ranges the plugin does not own (freed inputs, ranges straddling live
//! buffers, static data, the top of memory) are in the mix, and the debug
//! builds of hello-world (`make build-test-plugins`, debug assertions on) are
//! fuzzed beside the release builds, so undefined behaviour that a release
//! build survives by luck traps and is found.
//!
//! Properties: no call traps; every hook output is a JSON object with exactly
//! the hook's output keys, a string error field, boolean flags consistent
//! with the fields they describe and (single-input) an object `context`;
//! `init` returns 0 exactly for a JSON (or empty) configuration and 1
//! otherwise, and whatever it returned the plugin answers valid input with a
//! valid output (an error saying why when it is not initialised); `cleanup`
//! returns 0; `get_name` always returns the name it returned first; the
//! guest's memory stays under a fixed bound.
//!
//! ```text
//! bifrost-plugin-fuzz [--seconds N] [--iterations N] [--seed N] [--jobs N] [--build-dir DIR]
//! ```

mod mutate;
mod rng;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bifrost_plugin_host::{FreeMode, Guest, Hook as HostHook, HookInput};
use rng::Rng;
use serde_json::Value;

/// Memory the guest may use at most: a leak of one buffer per call would
/// cross this within a few thousand calls of 64 KB inputs.
const MEMORY_BOUND: usize = 32 * 1024 * 1024;

/// One hook of one ABI: its export, how many buffers it takes, its output
/// keys and the key that carries a failure.
struct Hook {
    export: &'static str,
    buffers: usize,
    keys: &'static [&'static str],
    error_key: &'static str,
}

const SEED_HOOKS: &[Hook] = &[
    Hook {
        export: "http_transport_intercept",
        buffers: 2,
        keys: &["response", "error"],
        error_key: "error",
    },
    Hook {
        export: "pre_hook",
        buffers: 2,
        keys: &["request", "short_circuit", "error"],
        error_key: "error",
    },
    Hook {
        export: "post_hook",
        buffers: 3,
        keys: &["response", "bifrost_error", "error"],
        error_key: "error",
    },
];

const SINGLE_INPUT_HOOKS: &[Hook] = &[
    Hook {
        export: "http_pre_hook",
        buffers: 1,
        keys: &["context", "request", "response", "has_response", "error"],
        error_key: "error",
    },
    Hook {
        export: "http_intercept",
        buffers: 1,
        keys: &["context", "request", "response", "has_response", "error"],
        error_key: "error",
    },
    Hook {
        export: "http_post_hook",
        buffers: 1,
        keys: &["context", "error"],
        error_key: "error",
    },
    Hook {
        export: "http_stream_chunk_hook",
        buffers: 1,
        keys: &["context", "chunk", "has_chunk", "skip", "error"],
        error_key: "error",
    },
    Hook {
        export: "pre_hook",
        buffers: 1,
        keys: &[
            "context",
            "request",
            "short_circuit",
            "has_short_circuit",
            "error",
        ],
        error_key: "error",
    },
    Hook {
        export: "post_hook",
        buffers: 1,
        keys: &["context", "response", "error", "has_error", "hook_error"],
        error_key: "hook_error",
    },
];

/// One plugin instance under test.
struct Target {
    label: String,
    guest: Guest,
    hooks: &'static [Hook],
    single_input: bool,
    /// Pointers the plugin handed out recently, for frees of every kind.
    recent: Vec<u32>,
    /// What `get_name` returned at load: it must never change.
    name: String,
    /// What the last `init` or `cleanup` left.
    state: State,
}

/// The plugin's life, as the host's calls to `init` and `cleanup` left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `init` succeeded: valid input gets a successful output.
    Ready,
    /// `init` failed: every hook says the plugin is not initialised.
    InitFailed,
    /// `cleanup` ran: every hook says the plugin was cleaned up.
    CleanedUp,
}

/// What one fuzzing step did, for the summary.
#[derive(Debug, Clone, Copy)]
enum Step {
    Hook,
    Allocator,
    BogusPointers,
    StrayRanges,
    Lifecycle,
    Name,
}

const STEPS: [Step; 6] = [
    Step::Hook,
    Step::Allocator,
    Step::BogusPointers,
    Step::StrayRanges,
    Step::Lifecycle,
    Step::Name,
];

struct Options {
    seconds: Option<u64>,
    /// Threads, each fuzzing its own instances (default: one per core).
    jobs: u64,
    iterations: Option<u64>,
    seed: u64,
    build_dir: PathBuf,
}

fn main() {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\nusage: bifrost-plugin-fuzz [--seconds N] [--iterations N] [--seed N] [--jobs N] [--build-dir DIR]");
            std::process::exit(2);
        }
    };
    println!(
        "fuzz: seed {}, {} job(s), each on its own instances of every target",
        options.seed, options.jobs
    );
    let started = Instant::now();
    // Job `j` draws from seed + j: `--jobs 1` replays a single-job run.
    let tallies: Vec<Result<Tally, String>> = std::thread::scope(|scope| {
        let jobs: Vec<_> = (0..options.jobs)
            .map(|job| {
                let options = &options;
                scope.spawn(move || fuzz(options, job))
            })
            .collect();
        jobs.into_iter()
            .map(|job| job.join().unwrap_or_else(|_| Err("a job panicked".into())))
            .collect()
    });
    let (mut executions, mut findings) = (0u64, 0u64);
    let mut per_step = [0u64; STEPS.len()];
    for tally in tallies {
        let tally = match tally {
            Ok(tally) => tally,
            Err(message) => {
                eprintln!("{message}");
                std::process::exit(2);
            }
        };
        executions += tally.executions;
        findings += tally.findings;
        for (sum, count) in per_step.iter_mut().zip(tally.per_step) {
            *sum += count;
        }
        for (label, memory) in tally.memory {
            println!("fuzz: {label} memory {memory} bytes");
        }
    }
    let breakdown: Vec<String> = STEPS
        .iter()
        .map(|kind| format!("{kind:?} {}", per_step[*kind as usize]))
        .collect();
    println!(
        "fuzz: {executions} executions ({}), {findings} findings in {:.1}s",
        breakdown.join(", "),
        started.elapsed().as_secs_f64()
    );
    if findings > 0 {
        std::process::exit(1);
    }
}

/// What one job did.
struct Tally {
    executions: u64,
    findings: u64,
    per_step: [u64; STEPS.len()],
    /// Each target's memory at the end.
    memory: Vec<(String, usize)>,
}

/// One job: its own instances of every target, driven by seed + `job`, for
/// the run's time or its share of the iterations.
fn fuzz(options: &Options, job: u64) -> Result<Tally, String> {
    let mut targets = load_targets(&options.build_dir)?;
    let mut rng = Rng::new(options.seed.wrapping_add(job));
    let deadline = options
        .seconds
        .map(|s| Instant::now() + Duration::from_secs(s));
    let iterations = options.iterations.map(|n| {
        let share = n / options.jobs;
        share + u64::from(job < n % options.jobs)
    });
    let (mut executions, mut findings) = (0u64, 0u64);
    let mut per_step = [0u64; STEPS.len()];
    while deadline.is_none_or(|d| Instant::now() < d) && iterations.is_none_or(|n| executions < n) {
        let index = rng.below(targets.len());
        let target = &mut targets[index];
        let kind = pick_step(&mut rng);
        per_step[kind as usize] += 1;
        if let Err(finding) = step(&mut rng, target, kind).and_then(|()| check_log(target)) {
            findings += 1;
            if findings <= 20 {
                eprintln!(
                    "finding #{findings} of job {job} in {}: {finding}",
                    target.label
                );
            }
        }
        executions += 1;
    }
    let memory = targets
        .iter()
        .map(|t| (format!("{} (job {job})", t.label), t.guest.memory_size()))
        .collect();
    Ok(Tally {
        executions,
        findings,
        per_step,
        memory,
    })
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        seconds: None,
        iterations: None,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        build_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|e| format!("{flag} {value}: {e}"))
        };
        match flag.as_str() {
            "--seconds" => options.seconds = Some(number()?),
            "--iterations" => options.iterations = Some(number()?),
            "--seed" => options.seed = number()?,
            "--jobs" => options.jobs = number()?.max(1),
            "--build-dir" => options.build_dir = PathBuf::from(&value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if options.seconds.is_none() && options.iterations.is_none() {
        options.seconds = Some(30);
    }
    Ok(options)
}

/// The hello-world builds (both ABIs, release and debug, and the seed ABI
/// built for wasm32-wasip1, which logs), and the bench guest on both ABIs,
/// whose `pre_hook` edits every request it is given (on its text:
/// types/patch.rs) and which defines no HTTP hook (those exports pass their
/// input on unread: abi-spec 3.8), each under the three free behaviours.
fn load_targets(build_dir: &std::path::Path) -> Result<Vec<Target>, String> {
    let mut targets = Vec::new();
    for (file, hooks, single_input) in [
        ("hello-world.wasm", SEED_HOOKS, false),
        ("hello-world-single-input.wasm", SINGLE_INPUT_HOOKS, true),
        ("test/hello-world-debug.wasm", SEED_HOOKS, false),
        (
            "test/hello-world-debug-single-input.wasm",
            SINGLE_INPUT_HOOKS,
            true,
        ),
        ("hello-world-wasi.wasm", SEED_HOOKS, false),
        ("test/bench-guest.wasm", SEED_HOOKS, false),
        (
            "test/bench-guest-single-input.wasm",
            SINGLE_INPUT_HOOKS,
            true,
        ),
    ] {
        let path = build_dir.join(file);
        let wasm = std::fs::read(&path).map_err(|e| {
            format!(
                "cannot read {} ({e}): run `make build build-test-plugins` first",
                path.display()
            )
        })?;
        for mode in [FreeMode::All, FreeMode::InputsOnly, FreeMode::Nothing] {
            let mut guest = Guest::load(&wasm, mode).map_err(|e| format!("{file}: {e}"))?;
            let status = guest.init(b"{}").map_err(|e| format!("{file}: {e}"))?;
            if status != 0 {
                return Err(format!("{file}: init returned {status}"));
            }
            let name = guest.name().map_err(|e| format!("{file}: {e}"))?;
            if name.is_empty() {
                return Err(format!("{file}: get_name returned an empty name"));
            }
            let label = format!("{file} ({mode:?})");
            targets.push(Target {
                label,
                guest,
                hooks,
                single_input,
                recent: Vec::new(),
                name,
                state: State::Ready,
            });
        }
    }
    Ok(targets)
}

/// What the plugin wrote to stderr (the wasip1 build's log) must be whole
/// records: every line complete, of the form `LEVEL Hello World WASM Plugin: …`, and
/// stdout untouched.
fn check_log(target: &mut Target) -> Result<(), String> {
    let stdout = target.guest.take_stdout();
    if !stdout.is_empty() {
        return Err(format!(
            "wrote to stdout: {:?}",
            String::from_utf8_lossy(&stdout)
        ));
    }
    let stderr = target.guest.take_stderr();
    if stderr.is_empty() {
        return Ok(());
    }
    let text = String::from_utf8(stderr).map_err(|e| format!("a log line is not UTF-8: {e}"))?;
    if !text.ends_with('\n') {
        return Err(format!("a log line was left unfinished: {text:?}"));
    }
    let levels = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"];
    match text.lines().find(|line| {
        !line
            .split_once(" Hello World WASM Plugin: ")
            .is_some_and(|(level, _)| levels.contains(&level))
    }) {
        Some(line) => Err(format!("a log line is not one whole record: {line:?}")),
        None => Ok(()),
    }
}

/// Mostly hook calls; sometimes allocator traffic, bogus pointers, the
/// plugin's life (`init`, `cleanup`) or its name.
fn pick_step(rng: &mut Rng) -> Step {
    match rng.below(20) {
        0 | 1 => Step::Allocator,
        2 => Step::BogusPointers,
        3 => Step::StrayRanges,
        4 => Step::Lifecycle,
        5 => Step::Name,
        _ => Step::Hook,
    }
}

/// One fuzzing step of `kind` on `target`.
fn step(rng: &mut Rng, target: &mut Target, kind: Step) -> Result<(), String> {
    match kind {
        Step::Hook => hook_call(rng, target)?,
        Step::Allocator => allocator_traffic(rng, target)?,
        Step::BogusPointers => bogus_pointers(rng, target)?,
        Step::StrayRanges => stray_ranges(rng, target)?,
        Step::Lifecycle => lifecycle(rng, target)?,
        Step::Name => name(rng, target)?,
    }
    let memory = target.guest.memory_size();
    if memory > MEMORY_BOUND {
        return Err(format!("memory grew to {memory} bytes"));
    }
    Ok(())
}

fn hook_call(rng: &mut Rng, target: &mut Target) -> Result<(), String> {
    let hook = rng.pick(target.hooks);
    let inputs: Vec<Vec<u8>> = match target.single_input {
        true if rng.one_in(5) => vec![mutate::input(rng)],
        true => vec![mutate::envelope(rng)],
        false => (0..hook.buffers).map(|_| mutate::input(rng)).collect(),
    };
    let output = if target.single_input && rng.one_in(2) {
        // By hand, so either allocator export family writes the input.
        call_by_hand(rng, target, hook.export, &inputs[0])
    } else {
        let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        target
            .guest
            .hook(hook.export, &refs)
            .map_err(|e| e.to_string())
    };
    let output = output.map_err(|e| describe(e, &inputs))?;
    check_output(hook, &output).map_err(|e| describe(e, &inputs))
}

/// A single-input hook call as [`Guest::hook`] makes it, but through an
/// allocator and a free export picked at random for each buffer.
fn call_by_hand(
    rng: &mut Rng,
    target: &mut Target,
    export: &str,
    input: &[u8],
) -> Result<Vec<u8>, String> {
    let len = input.len() as u32;
    let ptr = match len {
        0 => 0,
        _ => {
            let ptr = malloc_any(rng, target, len)?;
            if ptr == 0 {
                return Err(format!("allocating a {len}-byte input failed"));
            }
            target.guest.write(ptr, input).map_err(|e| e.to_string())?;
            ptr
        }
    };
    let packed = target
        .guest
        .call(export, &[ptr as i32, len as i32])
        .map_err(|e| e.to_string())?;
    let output = target
        .guest
        .read_packed(export, packed)
        .map_err(|e| e.to_string())?;
    let mode = target.guest.free_mode();
    if mode != FreeMode::Nothing && ptr != 0 {
        free_any(rng, target, ptr, len)?;
    }
    if mode == FreeMode::All {
        free_any(rng, target, (packed as u64 >> 32) as u32, packed as u32)?;
    }
    Ok(output)
}

/// Allocates with `plugin_malloc`, or on the single-input build either it or
/// `malloc`.
fn malloc_any(rng: &mut Rng, target: &mut Target, size: u32) -> Result<u32, String> {
    let malloc = match target.single_input && rng.one_in(2) {
        true => "malloc",
        false => "plugin_malloc",
    };
    let ptr = target
        .guest
        .call(malloc, &[size as i32])
        .map_err(|e| e.to_string())?;
    Ok(ptr as u32)
}

/// Frees with `plugin_free(ptr)`, or on the single-input build either it or
/// `free(ptr, size)` with the right size or a wrong one.
fn free_any(rng: &mut Rng, target: &mut Target, ptr: u32, size: u32) -> Result<(), String> {
    let result = if target.single_input && rng.one_in(2) {
        let size = match rng.below(3) {
            0 => rng.next() as u32,
            _ => size,
        };
        target.guest.call("free", &[ptr as i32, size as i32])
    } else {
        target.guest.call("plugin_free", &[ptr as i32])
    };
    result.map(drop).map_err(|e| e.to_string())
}

/// `init` with arbitrary configuration bytes or pointers, or `cleanup`;
/// then the plugin must answer a valid call as that left it. Half the
/// time a failed or cleaned-up plugin is initialised again at once; else
/// the following steps fuzz it in that state.
fn lifecycle(rng: &mut Rng, target: &mut Target) -> Result<(), String> {
    let what = match rng.below(4) {
        0 | 1 => {
            let config = mutate::config(rng);
            let status = target.guest.init(&config).map_err(|e| e.to_string())?;
            let shown = String::from_utf8_lossy(&config[..config.len().min(200)]).into_owned();
            expect_init(target, status, init_status(&config), &format!("{shown:?}"))?;
            format!("init({shown:?})")
        }
        2 => {
            let status = target.guest.cleanup().map_err(|e| e.to_string())?;
            if status != 0 {
                return Err(format!("cleanup returned {status}"));
            }
            target.state = State::CleanedUp;
            "cleanup".to_string()
        }
        _ => {
            // Pointers a host should not pass: an empty config whatever the
            // pointer, else null or out of bounds (status 1).
            let memory = target.guest.memory_size() as u32;
            let (ptr, len) = match rng.below(4) {
                0 => (0, 1 + rng.below(64) as u32),
                1 => (memory - rng.below(8) as u32, 16 + rng.below(16) as u32),
                2 => (rng.next() as u32, 0),
                _ => (u32::MAX - rng.below(16) as u32, 1 + rng.below(64) as u32),
            };
            let status = target
                .guest
                .call("init", &[ptr as i32, len as i32])
                .map_err(|e| e.to_string())? as i32;
            let expected = if len == 0 { 0 } else { 1 };
            expect_init(target, status, expected, &format!("ptr {ptr}, len {len}"))?;
            format!("init(ptr {ptr}, len {len})")
        }
    };
    valid_call(rng, target).map_err(|e| format!("after {what}: {e}"))?;
    if target.state != State::Ready && rng.one_in(2) {
        let status = target.guest.init(b"{}").map_err(|e| e.to_string())?;
        expect_init(target, status, 0, "{}")?;
        valid_call(rng, target).map_err(|e| format!("after {what} and init({{}}): {e}"))?;
    }
    Ok(())
}

/// What the hello-world plugin's `init` returns for `config`: it accepts
/// any JSON, and empty, blank or `null` means the default.
fn init_status(config: &[u8]) -> i32 {
    let trimmed = config.trim_ascii();
    let accepted =
        trimmed.is_empty() || trimmed == b"null" || serde_json::from_slice::<Value>(config).is_ok();
    if accepted {
        0
    } else {
        1
    }
}

fn expect_init(
    target: &mut Target,
    status: i32,
    expected: i32,
    config: &str,
) -> Result<(), String> {
    if status != expected {
        return Err(format!(
            "init returned {status}, expected {expected}, for config {config}"
        ));
    }
    target.state = if status == 0 {
        State::Ready
    } else {
        State::InitFailed
    };
    Ok(())
}

/// A hook called with realistic, valid input: the output has the hook's
/// shape, and it succeeds exactly when the plugin is ready; otherwise its
/// error says why.
fn valid_call(rng: &mut Rng, target: &mut Target) -> Result<(), String> {
    let abi = target.guest.abi().ok_or("the ABI is unknown")?;
    let hooks: Vec<HostHook> = HostHook::ALL
        .into_iter()
        .filter(|hook| !hook.exports(abi).is_empty())
        .collect();
    let hook = *rng.pick(&hooks);
    let trim = |bytes: &[u8]| bytes.trim_ascii_end().to_vec();
    let input = HookInput::new().with_context(trim(mutate::CONTEXT));
    let input = match hook {
        HostHook::HttpPreHook => input.with_request(trim(mutate::HTTP_REQUEST)),
        HostHook::HttpPostHook => input
            .with_request(trim(mutate::HTTP_REQUEST))
            .with_response(trim(mutate::HTTP_RESPONSE)),
        HostHook::HttpStreamChunkHook => input
            .with_request(trim(mutate::HTTP_REQUEST))
            .with_chunk(trim(mutate::CHAT_CHUNK)),
        HostHook::PreHook => input.with_request(trim(mutate::CHAT_REQUEST)),
        HostHook::PostHook => input
            .with_response(trim(mutate::CHAT_RESPONSE))
            .with_error(trim(mutate::BIFROST_ERROR)),
    };
    let output = target
        .guest
        .call_hook(hook, &input)
        .map_err(|e| format!("{hook}: {e}"))?;
    let spec = target
        .hooks
        .iter()
        .find(|h| h.export == output.export())
        .ok_or(format!("{}: not a hook of this ABI", output.export()))?;
    check_output(spec, output.raw())?;
    let error = output.plugin_error();
    let expected = match target.state {
        State::Ready => error.is_none(),
        State::InitFailed => error.is_some_and(|e| e.contains("not initialised")),
        State::CleanedUp => error.is_some_and(|e| e.contains("cleaned up")),
    };
    if !expected {
        return Err(format!(
            "{}: valid input to a plugin {:?} got error {error:?}",
            output.export(),
            target.state
        ));
    }
    Ok(())
}

/// `get_name` always returns the same name, also after a host freed it.
fn name(rng: &mut Rng, target: &mut Target) -> Result<(), String> {
    let packed = target
        .guest
        .call("get_name", &[])
        .map_err(|e| e.to_string())?;
    let name = target
        .guest
        .read_packed("get_name", packed)
        .map_err(|e| e.to_string())?;
    if name != target.name.as_bytes() {
        return Err(format!(
            "get_name returned {:?}, not {:?}",
            String::from_utf8_lossy(&name),
            target.name
        ));
    }
    if rng.one_in(2) {
        // A host that frees every output frees the name too.
        free_any(rng, target, (packed as u64 >> 32) as u32, packed as u32)?;
    }
    Ok(())
}

fn describe(error: impl std::fmt::Display, inputs: &[Vec<u8>]) -> String {
    let shown: Vec<String> = inputs
        .iter()
        .map(|i| String::from_utf8_lossy(&i[..i.len().min(200)]).into_owned())
        .collect();
    format!("{error}; inputs {shown:?}")
}

/// The property every hook output must have (abi-spec.md 3.3 for the
/// single-input ABI).
fn check_output(hook: &Hook, output: &[u8]) -> Result<(), String> {
    let export = hook.export;
    let value: Value = serde_json::from_slice(output)
        .map_err(|e| format!("{export}: output is not JSON ({e})"))?;
    let object = value
        .as_object()
        .ok_or(format!("{export}: output is not an object"))?;
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = hook.keys.to_vec();
    expected.sort_unstable();
    if keys != expected {
        return Err(format!(
            "{export}: output keys {keys:?}, expected {expected:?}"
        ));
    }
    let failed = match object[hook.error_key].as_str() {
        Some(error) => !error.is_empty(),
        None => return Err(format!("{export}: `{}` is not a string", hook.error_key)),
    };
    if object.get("context").is_some_and(|ctx| !ctx.is_object()) {
        return Err(format!("{export}: `context` is not an object"));
    }
    let flag = |key: &str| match object.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!("{export}: `{key}` is {other}, not a boolean")),
    };
    let is_set = |key: &str| object.get(key).is_some_and(|v| !v.is_null());
    let broken = |what: &str| Err(format!("{export}: {what}"));
    // Each flag says whether the field it names is set.
    for (flag_key, field) in [
        ("has_response", "response"),
        ("has_short_circuit", "short_circuit"),
        ("has_error", "error"),
    ] {
        if let Some(set) = flag(flag_key)? {
            if set != is_set(field) {
                return broken(&format!(
                    "`{flag_key}` is {set} but `{field}` is {}",
                    object[field]
                ));
            }
        }
    }
    if let Some(has_chunk) = flag("has_chunk")? {
        // Even a failure echoes the chunk it reports `has_chunk` for.
        let chunk = is_set("chunk");
        if chunk != has_chunk {
            return broken(&format!(
                "`has_chunk` is {has_chunk} but `chunk` is {}",
                object["chunk"]
            ));
        }
        if flag("skip")? == Some(true) && (chunk || has_chunk) {
            return broken("a skipped chunk is returned");
        }
    }
    if failed {
        // A failure decides nothing.
        for key in ["has_response", "has_short_circuit", "skip"] {
            if flag(key)? == Some(true) {
                return broken(&format!("`{key}` is true in a failure output"));
            }
        }
    }
    Ok(())
}

/// Allocations of every size class, and frees of every kind of pointer,
/// through every allocator export the build has.
fn allocator_traffic(rng: &mut Rng, target: &mut Target) -> Result<(), String> {
    let size = *rng.pick(&[0, 1, 7, 64, 4096, 65_536, 0xFFFF_FFF0, u32::MAX]);
    let ptr = malloc_any(rng, target, size)?;
    if size >= 0xFFFF_FFF0 && ptr != 0 {
        return Err(format!(
            "an impossible {size}-byte allocation returned {ptr}"
        ));
    }
    if size == 0 && ptr == 0 {
        return Err("a zero-sized allocation returned 0".into());
    }
    if ptr != 0 && size <= 65_536 {
        target.recent.push(ptr);
    }
    let victim = match rng.below(4) {
        0 => 0,
        1 => rng.next() as u32,
        _ if target.recent.is_empty() => ptr,
        _ => *rng.pick(&target.recent),
    };
    free_any(rng, target, victim, size)?;
    if rng.one_in(3) {
        // A double free, perhaps through the other export.
        free_any(rng, target, victim, size)?;
    }
    if target.recent.len() > 64 {
        target.recent.drain(..32);
    }
    Ok(())
}

/// A hook called with pointers and lengths no well-behaved host would pass.
fn bogus_pointers(rng: &mut Rng, target: &mut Target) -> Result<(), String> {
    let hook = rng.pick(target.hooks);
    let memory = target.guest.memory_size() as u32;
    let mut bogus = || match rng.below(5) {
        0 => 0,
        1 => memory.wrapping_sub(rng.below(16) as u32),
        2 => u32::MAX - rng.below(16) as u32,
        3 => rng.next() as u32,
        _ => target.recent.first().copied().unwrap_or(8),
    };
    let args: Vec<i32> = (0..hook.buffers * 2).map(|_| bogus() as i32).collect();
    let packed = target
        .guest
        .call(hook.export, &args)
        .map_err(|e| e.to_string())?;
    let output = target
        .guest
        .read_packed(hook.export, packed)
        .map_err(|e| format!("{e} (args {args:?})"))?;
    check_output(hook, &output).map_err(|e| format!("{e} (args {args:?})"))
}

/// A hook called on a plausible input that sits where the plugin does not
/// expect it: freed (perhaps reused), shifted across its buffer's ends, in
/// static data, or at the top of memory.
fn stray_ranges(rng: &mut Rng, target: &mut Target) -> Result<(), String> {
    let hook = rng.pick(target.hooks);
    let input = match target.single_input {
        true => mutate::envelope(rng),
        false => mutate::input(rng),
    };
    let len = (input.len() as u32).max(1);
    let ptr = malloc_any(rng, target, len)?;
    if ptr == 0 {
        return Err(format!("allocating a {len}-byte input failed"));
    }
    target.guest.write(ptr, &input).map_err(|e| e.to_string())?;
    let memory = target.guest.memory_size() as u32;
    let shift = rng.below(16) as u32;
    let (start, size) = match rng.below(6) {
        0 => {
            free_any(rng, target, ptr, len)?;
            if rng.one_in(2) {
                let size = rng.below(256) as u32;
                malloc_any(rng, target, size)?; // reuse it
            }
            (ptr, len)
        }
        1 => (ptr + shift.min(len - 1), len), // ends beyond the buffer
        2 => (ptr.saturating_sub(shift + 1), len), // starts before it
        3 => {
            let packed = target
                .guest
                .call("get_name", &[])
                .map_err(|e| e.to_string())?;
            ((packed as u64 >> 32) as u32, len) // static data
        }
        4 => (memory - len.min(memory - 1), len), // the top of memory
        _ => (memory - len.min(memory - 1), len + shift), // past it
    };
    // The same range in every buffer of the hook: each is read on its own.
    let args: Vec<i32> = (0..hook.buffers)
        .flat_map(|_| [start as i32, size as i32])
        .collect();
    let packed = target
        .guest
        .call(hook.export, &args)
        .map_err(|e| format!("{e} (range [{start}, +{size}))"))?;
    let output = target
        .guest
        .read_packed(hook.export, packed)
        .map_err(|e| format!("{e} (range [{start}, +{size}))"))?;
    check_output(hook, &output).map_err(|e| format!("{e} (range [{start}, +{size}))"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `output` as the output of `export`, the single-input ABI's
    /// export when both ABIs have one of that name.
    fn check(export: &str, output: &str) -> Result<(), String> {
        let hook = SEED_HOOKS
            .iter()
            .chain(SINGLE_INPUT_HOOKS)
            .rfind(|h| h.export == export)
            .unwrap();
        check_output(hook, output.as_bytes())
    }

    #[test]
    fn outputs_of_the_spec_pass() {
        let good = [
            (
                "http_transport_intercept",
                r#"{"response":null,"error":""}"#,
            ),
            (
                "http_pre_hook",
                r#"{"context":{},"request":null,"response":{},"has_response":true,"error":""}"#,
            ),
            (
                "http_stream_chunk_hook",
                r#"{"context":{},"chunk":null,"has_chunk":false,"skip":true,"error":""}"#,
            ),
            (
                "http_stream_chunk_hook",
                r#"{"context":{},"chunk":"ZGF0YQ==","has_chunk":true,"skip":false,"error":"bad"}"#,
            ),
            (
                "post_hook",
                r#"{"context":{},"response":null,"error":{},"has_error":true,"hook_error":""}"#,
            ),
        ];
        for (export, output) in good {
            assert_eq!(check(export, output), Ok(()), "{output}");
        }
    }

    #[test]
    fn wrong_types_and_inconsistent_flags_are_findings() {
        let bad = [
            (
                "http_pre_hook",
                r#"{"context":[],"request":null,"response":null,"has_response":false,"error":""}"#,
                "`context` is not an object",
            ),
            (
                "http_pre_hook",
                r#"{"context":{},"request":null,"response":null,"has_response":0,"error":""}"#,
                "`has_response` is 0, not a boolean",
            ),
            (
                "pre_hook",
                r#"{"context":{},"request":null,"short_circuit":null,"has_short_circuit":true,"error":""}"#,
                "`has_short_circuit` is true but `short_circuit` is null",
            ),
            (
                "post_hook",
                r#"{"context":{},"response":null,"error":{},"has_error":false,"hook_error":""}"#,
                "`has_error` is false but `error` is {}",
            ),
            (
                "http_stream_chunk_hook",
                r#"{"context":{},"chunk":null,"has_chunk":true,"skip":false,"error":""}"#,
                "`has_chunk` is true but `chunk` is null",
            ),
            (
                "http_stream_chunk_hook",
                r#"{"context":{},"chunk":null,"has_chunk":false,"skip":"no","error":""}"#,
                "`skip` is \"no\", not a boolean",
            ),
            (
                "http_stream_chunk_hook",
                r#"{"context":{},"chunk":{},"has_chunk":true,"skip":true,"error":""}"#,
                "a skipped chunk is returned",
            ),
            (
                "http_pre_hook",
                r#"{"context":{},"request":null,"response":{},"has_response":true,"error":"x"}"#,
                "`has_response` is true in a failure output",
            ),
            (
                "post_hook",
                r#"{"context":{},"response":null,"error":null,"has_error":false,"hook_error":null}"#,
                "`hook_error` is not a string",
            ),
        ];
        for (export, output, reason) in bad {
            let error = check(export, output).unwrap_err();
            assert!(error.contains(reason), "{output}: {error}");
        }
    }

    #[test]
    fn init_status_is_zero_exactly_for_json_or_nothing() {
        for config in [
            &b""[..],
            b" \n",
            b"null",
            b" null ",
            b"{}",
            b"[1]",
            b"\"s\"",
            b"42",
        ] {
            assert_eq!(init_status(config), 0, "{config:?}");
        }
        for config in [&b"{"[..], b"nul", b"{} x", b"\xff", b"\x00"] {
            assert_eq!(init_status(config), 1, "{config:?}");
        }
    }
}
