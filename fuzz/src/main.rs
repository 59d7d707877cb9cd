//! Fuzzes a built plugin through the local host, for both ABIs and all three
//! host free behaviours: arbitrary and mutated-realistic bytes into every
//! hook's buffers, interleaved with `plugin_malloc`/`plugin_free`/`free` calls
//! on sizes and pointers of every kind (zero, huge, unknown, freed twice).
//!
//! Property: no call traps, every hook output is a JSON object with exactly
//! the hook's output keys and a string error field, and the guest's memory
//! stays under a fixed bound.
//!
//! ```text
//! bifrost-plugin-fuzz [--seconds N] [--iterations N] [--seed N] [--build-dir DIR]
//! ```

mod mutate;
mod rng;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bifrost_plugin_host::{FreeMode, Guest};
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
}

struct Options {
    seconds: Option<u64>,
    iterations: Option<u64>,
    seed: u64,
    build_dir: PathBuf,
}

fn main() {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\nusage: bifrost-plugin-fuzz [--seconds N] [--iterations N] [--seed N] [--build-dir DIR]");
            std::process::exit(2);
        }
    };
    let mut targets = match load_targets(&options.build_dir) {
        Ok(targets) => targets,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    println!("fuzz: seed {}, {} targets", options.seed, targets.len());
    let mut rng = Rng::new(options.seed);
    let deadline = options
        .seconds
        .map(|s| Instant::now() + Duration::from_secs(s));
    let started = Instant::now();
    let (mut executions, mut findings) = (0u64, 0u64);
    while deadline.is_none_or(|d| Instant::now() < d)
        && options.iterations.is_none_or(|n| executions < n)
    {
        let index = rng.below(targets.len());
        let target = &mut targets[index];
        if let Err(finding) = step(&mut rng, target) {
            findings += 1;
            if findings <= 20 {
                eprintln!("finding #{findings} in {}: {finding}", target.label);
            }
        }
        executions += 1;
    }
    for target in &targets {
        println!(
            "fuzz: {} memory {} bytes",
            target.label,
            target.guest.memory_size()
        );
    }
    println!(
        "fuzz: {executions} executions, {findings} findings in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    if findings > 0 {
        std::process::exit(1);
    }
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        seconds: None,
        iterations: None,
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
            "--build-dir" => options.build_dir = PathBuf::from(&value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if options.seconds.is_none() && options.iterations.is_none() {
        options.seconds = Some(30);
    }
    Ok(options)
}

/// Both hello-world builds, each under the three free behaviours.
fn load_targets(build_dir: &std::path::Path) -> Result<Vec<Target>, String> {
    let mut targets = Vec::new();
    for (file, hooks, single_input) in [
        ("hello-world.wasm", SEED_HOOKS, false),
        ("hello-world-single-input.wasm", SINGLE_INPUT_HOOKS, true),
    ] {
        let path = build_dir.join(file);
        let wasm = std::fs::read(&path).map_err(|e| {
            format!(
                "cannot read {} ({e}): run `make build` first",
                path.display()
            )
        })?;
        for mode in [FreeMode::All, FreeMode::InputsOnly, FreeMode::Nothing] {
            let mut guest = Guest::load(&wasm, mode).map_err(|e| format!("{file}: {e}"))?;
            let status = guest.init(b"{}").map_err(|e| format!("{file}: {e}"))?;
            if status != 0 {
                return Err(format!("{file}: init returned {status}"));
            }
            let label = format!("{file} ({mode:?})");
            targets.push(Target {
                label,
                guest,
                hooks,
                single_input,
                recent: Vec::new(),
            });
        }
    }
    Ok(targets)
}

/// One fuzzing step on `target`: mostly a hook call, sometimes allocator
/// traffic or a call with bogus pointers.
fn step(rng: &mut Rng, target: &mut Target) -> Result<(), String> {
    match rng.below(10) {
        0 => allocator_traffic(rng, target)?,
        1 => bogus_pointers(rng, target)?,
        _ => hook_call(rng, target)?,
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
    let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let output = target
        .guest
        .hook(hook.export, &refs)
        .map_err(|e| describe(e, &inputs))?;
    check_output(hook, &output).map_err(|e| describe(e, &inputs))
}

fn describe(error: impl std::fmt::Display, inputs: &[Vec<u8>]) -> String {
    let shown: Vec<String> = inputs
        .iter()
        .map(|i| String::from_utf8_lossy(&i[..i.len().min(200)]).into_owned())
        .collect();
    format!("{error}; inputs {shown:?}")
}

/// The property every hook output must have.
fn check_output(hook: &Hook, output: &[u8]) -> Result<(), String> {
    let value: Value = serde_json::from_slice(output)
        .map_err(|e| format!("{}: output is not JSON ({e})", hook.export))?;
    let object = value
        .as_object()
        .ok_or(format!("{}: output is not an object", hook.export))?;
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = hook.keys.to_vec();
    expected.sort_unstable();
    if keys != expected {
        return Err(format!(
            "{}: output keys {keys:?}, expected {expected:?}",
            hook.export
        ));
    }
    if !object[hook.error_key].is_string() {
        return Err(format!(
            "{}: `{}` is not a string",
            hook.export, hook.error_key
        ));
    }
    Ok(())
}

/// `plugin_malloc` of every size class, and frees of every kind of pointer.
fn allocator_traffic(rng: &mut Rng, target: &mut Target) -> Result<(), String> {
    let guest = &mut target.guest;
    let size = *rng.pick(&[0, 1, 7, 64, 4096, 65_536, 0xFFFF_FFF0, u32::MAX]);
    let ptr = guest.malloc(size).map_err(|e| e.to_string())?;
    if ptr != 0 && size <= 65_536 {
        target.recent.push(ptr);
    }
    let victim = match rng.below(4) {
        0 => 0,
        1 => rng.next() as u32,
        _ if target.recent.is_empty() => ptr,
        _ => *rng.pick(&target.recent),
    };
    guest.free(victim).map_err(|e| e.to_string())?;
    if target.single_input {
        // The docs' two-argument free, with a size that may be wrong.
        let size = rng.next() as i32;
        guest
            .call("free", &[victim as i32, size])
            .map_err(|e| e.to_string())?;
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
