//! `bench`: N calls of one hook; calls per second, and the guest's memory
//! before and after (growth that does not stop is a leak).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bifrost_plugin_host::Hook;

use crate::args::BenchArgs;
use crate::failure::{Failure, Outcome, PLUGIN_ERROR};
use crate::plugin::{cleanup, prepare};

/// Loads the plugin, calls the hook `-n` times, prints the figures.
pub fn bench(args: &BenchArgs) -> Outcome {
    let hook = Hook::from(args.hook);
    let mut ready = prepare(&args.plugin, hook, &args.host, &args.inputs)?;
    let mut progress = Progress::new(args.calls);
    let before = ready.guest.memory_size();
    let mut plugin_error = None;
    let start = Instant::now();
    for call in 1..=args.calls {
        let output = ready
            .guest
            .call_hook(hook, &ready.input)
            .map_err(|e| Failure::new(format!("call {call} of {}: {e}", args.calls)))?;
        if plugin_error.is_none() {
            plugin_error = output.plugin_error().map(str::to_string);
        }
        progress.tick(call);
    }
    let elapsed = start.elapsed();
    let after = ready.guest.memory_size();
    progress.done();
    let seconds = elapsed.as_secs_f64();
    println!(
        "{}: {} calls in {seconds:.3} s: {:.0} calls/s ({:.1} µs/call)",
        ready.export,
        args.calls,
        args.calls as f64 / seconds,
        seconds * 1e6 / args.calls as f64
    );
    let growth = after as i64 - before as i64;
    println!("guest memory: {before} bytes before, {after} bytes after ({growth:+} bytes)");
    if growth > 0 {
        println!(
            "memory grew by {:.1} bytes per call: a leak, unless a cache is still filling (try a larger -n)",
            growth as f64 / args.calls as f64
        );
    }
    cleanup(&mut ready.guest)?;
    Ok(match plugin_error {
        Some(message) => {
            eprintln!("the plugin reported an error (first of the calls): {message}");
            ExitCode::from(PLUGIN_ERROR)
        }
        None => ExitCode::SUCCESS,
    })
}

/// `calls done/total` on stderr twice a second, only when it is a terminal.
struct Progress {
    total: u64,
    last: Option<Instant>,
}

impl Progress {
    fn new(total: u64) -> Self {
        let last = std::io::stderr().is_terminal().then(Instant::now);
        Progress { total, last }
    }

    fn tick(&mut self, done: u64) {
        if let Some(last) = &mut self.last {
            if last.elapsed() >= Duration::from_millis(500) {
                eprint!("\r{done}/{} calls", self.total);
                *last = Instant::now();
            }
        }
    }

    fn done(&self) {
        if self.last.is_some() {
            eprint!("\r\x1b[K");
        }
    }
}
