//! The fuel sweep (abi-spec 4.5): a host may stop any call at any
//! instruction. For every export that touches memory (`plugin_malloc`,
//! `plugin_free`, `init`, every hook, `cleanup`) of release and debug builds
//! of hello-world, both ABIs, a fresh instance is stopped at each budget in
//! turn, then must answer three hook calls without a trap, each output of
//! the hook's exact shape:
//!
//! - **one stop**: each answer is the hook's own, or says the plugin state
//!   was lost (then `init` must answer 0) or that the host must instantiate
//!   the plugin again (the stop came inside the allocator or the buffer
//!   table);
//! - **a second stop**, after a first one inside the allocator: whatever
//!   the second stop interrupted, every answer says the host must
//!   instantiate the plugin again (no stop can lose the allocator's note).
//!
//! `make test` runs a sample: every third budget of each call's first
//! [`FIRST`] (its entry, where the notes are read and set) and [`SPREAD`]
//! budgets spread over the rest. `make fuzz` runs every budget
//! (`cargo test --test sweep -- --ignored`).

mod common;

use bifrost_plugin_host::{Abi, FreeMode, Guest, Hook, HookInput, MeteredPlugin};

/// The start of each call, where the notes are read and set: the sample
/// takes every [`STEP`]th budget of it (a window the old code left open
/// was 71 budgets wide).
const FIRST: u64 = 160;
const STEP: usize = 3;
/// Budgets of the sample spread evenly over the rest of each call.
const SPREAD: u64 = 16;

/// One export the sweep stops.
#[derive(Debug, Clone, Copy)]
enum Call {
    Malloc,
    Free,
    Init,
    Hook(Hook),
    Cleanup,
}

/// One build under test.
struct Build {
    label: String,
    plugin: MeteredPlugin,
    hooks: Vec<Hook>,
}

impl Build {
    fn all() -> Vec<Build> {
        let test = common::test_plugin_dir();
        [
            common::wasm_path(),
            common::single_input_wasm_path(),
            test.join("hello-world-debug.wasm"),
            test.join("hello-world-debug-single-input.wasm"),
        ]
        .into_iter()
        .map(|path| {
            let wasm = common::wasm(&path);
            let plugin = MeteredPlugin::new(&wasm, FreeMode::All).unwrap();
            let abi = plugin.instantiate().unwrap().abi().unwrap();
            let hooks = Hook::ALL
                .into_iter()
                .filter(|hook| !hook.exports(abi).is_empty())
                .collect();
            let label = path.file_name().unwrap().to_string_lossy().into_owned();
            Build {
                label,
                plugin,
                hooks,
            }
        })
        .collect()
    }

    /// Every call the sweep stops.
    fn calls(&self) -> Vec<Call> {
        let mut calls = vec![Call::Malloc, Call::Free, Call::Init];
        calls.extend(self.hooks.iter().map(|&hook| Call::Hook(hook)));
        calls.push(Call::Cleanup);
        calls
    }

    /// A fresh, initialised instance, and the export and
    /// arguments of `call` on it, its inputs already written.
    fn prepared(&self, call: Call) -> (Guest, &'static str, Vec<i32>) {
        let mut guest = self.plugin.instantiate().unwrap();
        assert_eq!(guest.init(b"{}").unwrap(), 0);
        let (export, args) = match call {
            Call::Malloc => ("plugin_malloc", vec![300]),
            Call::Free => {
                let ptr = guest.malloc(64).unwrap();
                ("plugin_free", vec![ptr as i32])
            }
            Call::Init => ("init", common::args(&[common::put(&mut guest, b"{}")])),
            Call::Cleanup => ("cleanup", vec![]),
            Call::Hook(hook) => {
                let export = guest.hook_export(hook).unwrap();
                let input = input(hook);
                let buffers: Vec<(u32, u32)> = match guest.abi().unwrap() {
                    Abi::Seed => input
                        .buffers(hook)
                        .into_iter()
                        .map(|bytes| match bytes.is_empty() {
                            true => (0, 0),
                            false => common::put(&mut guest, bytes),
                        })
                        .collect(),
                    Abi::SingleInput => vec![common::put(&mut guest, &input.envelope(hook))],
                };
                (export, common::args(&buffers))
            }
        };
        (guest, export, args)
    }

    /// The fuel a whole `call` burns on a prepared instance.
    fn whole(&self, call: Call) -> u64 {
        let (mut guest, export, args) = self.prepared(call);
        let before = guest.fuel().unwrap();
        guest.call(export, &args).unwrap();
        before - guest.fuel().unwrap()
    }

    /// A budget at which `plugin_malloc(300)`, made on an instance prepared
    /// for `call`, stops inside the allocator (`init` then answers 2).
    fn inside_the_allocator(&self, call: Call) -> u64 {
        (1..)
            .find(|&budget| {
                let (mut guest, _, _) = self.prepared(call);
                guest.set_fuel(budget).unwrap();
                assert!(guest.malloc(300).is_err(), "{}: no stop inside", self.label);
                guest.set_fuel(u64::MAX).unwrap();
                guest.init(b"").unwrap() == 2
            })
            .unwrap()
    }

    /// Stops `call` at `budget` (after a first stop at `first`, if any),
    /// then checks the three calls that follow, unless the call stopped at
    /// the same instruction as the last one checked (`last`: the fuel it had
    /// burnt; wasmi charges a block's fuel on entering it, so every budget
    /// within a block stops at its start, in the same state).
    fn stop(&self, call: Call, first: Option<u64>, budget: u64, last: &mut u64) -> Stop {
        let case = format!(
            "{}: {call:?} stopped at {budget} (first {first:?})",
            self.label
        );
        let (mut guest, export, args) = self.prepared(call);
        if let Some(first) = first {
            guest.set_fuel(first).unwrap();
            assert!(guest.malloc(300).is_err(), "{case}: the first stop");
        }
        guest.set_fuel(budget).unwrap();
        let stopped = guest.call(export, &args).is_err();
        let burnt = budget - guest.fuel().unwrap();
        guest.set_fuel(u64::MAX).unwrap();
        if !stopped && first.is_none() {
            return Stop::Whole;
        }
        if std::mem::replace(last, burnt) == burnt {
            return Stop::Same;
        }
        for round in 0..3 {
            let hook = self.hooks[round % self.hooks.len()];
            let output = guest
                .call_hook(hook, &input(hook))
                .unwrap_or_else(|e| panic!("{case}: {hook} answered no output: {e}"));
            let error = output.plugin_error().unwrap_or_default();
            if first.is_some() {
                assert!(
                    error.contains("instantiate the plugin again"),
                    "{case}: {error:?}"
                );
            } else if error.contains("instantiate the plugin again") {
                assert_eq!(guest.init(b"").unwrap(), 2, "{case}");
            } else if error.starts_with("plugin state was lost")
                || error.contains("cleaned up")
                || error.contains("not initialised")
            {
                assert_eq!(guest.init(b"{}").unwrap(), 0, "{case}: {error}");
            } else {
                assert_eq!(error, "", "{case}: {hook}");
            }
        }
        Stop::Checked
    }

    /// Sweeps `call`: every budget up to the whole call, or the sample.
    fn sweep(&self, call: Call, every: bool) -> (u64, u64) {
        let whole = self.whole(call);
        let budgets: Vec<u64> = match every {
            true => (1..whole).collect(),
            false => (1..FIRST.min(whole))
                .step_by(STEP)
                .chain((1..SPREAD).map(|i| FIRST + (whole.saturating_sub(FIRST)) * i / SPREAD))
                .filter(|&budget| budget < whole)
                .collect(),
        };
        let first = self.inside_the_allocator(call);
        let (mut checked, mut last) = (0, u64::MAX);
        for &budget in &budgets {
            match self.stop(call, None, budget, &mut last) {
                Stop::Whole => break,
                Stop::Same => {}
                Stop::Checked => checked += 1,
            }
        }
        // The second stop matters where the notes are read: the first
        // instructions of the call.
        last = u64::MAX;
        for &budget in budgets.iter().filter(|&&b| every || b < FIRST) {
            if let Stop::Checked = self.stop(call, Some(first), budget, &mut last) {
                checked += 1;
            }
        }
        (checked, whole)
    }
}

/// What one stop came to.
enum Stop {
    /// The budget was enough for the whole call.
    Whole,
    /// The same instruction as the last stop checked.
    Same,
    /// A new stop, and the three calls after it answered.
    Checked,
}

/// Valid input for `hook`, from the conformance fixtures.
fn input(hook: Hook) -> HookInput {
    let text = |name| common::fixture(name);
    let input = HookInput::new().with_context(text("context.json"));
    match hook {
        Hook::HttpPreHook => input.with_request(text("http_request.json")),
        Hook::HttpPostHook => input
            .with_request(text("http_request.json"))
            .with_response(text("http_response.json")),
        Hook::HttpStreamChunkHook => input
            .with_request(text("http_request.json"))
            .with_chunk(text("chat_chunk.json")),
        Hook::PreHook => input.with_request(text("chat_request_flat.json")),
        Hook::PostHook => input
            .with_response(text("chat_response.json"))
            .with_error(text("bifrost_error.json")),
    }
}

fn run(every: bool) {
    let started = std::time::Instant::now();
    for build in Build::all() {
        for call in build.calls() {
            let (cases, whole) = build.sweep(call, every);
            eprintln!(
                "{}: {call:?} burns {whole}, {cases} distinct stops checked ({:.1}s so far)",
                build.label,
                started.elapsed().as_secs_f64()
            );
        }
    }
}

#[test]
fn a_sample_of_stops_in_every_export_of_every_build() {
    run(false);
}

/// Every budget: minutes to hours on 2 cores; `make fuzz` runs it.
#[test]
#[ignore]
fn every_stop_in_every_export_of_every_build() {
    run(true);
}
