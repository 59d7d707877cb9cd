//! `bench`: N calls of one hook; calls per second, and the guest's memory
//! before and after (growth that does not stop is a leak). Each call is a
//! request of its own (its own `request_id` in the context), as under
//! Bifrost, so state a plugin keeps per request and never drops shows as
//! growth; `--same-request` sends the one context given every time.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bifrost_plugin_host::{Field, Guest, Hook, HookInput};
use serde_json::Value;

use crate::args::BenchArgs;
use crate::failure::{Failure, Outcome, PLUGIN_ERROR};
use crate::plugin::{cleanup, prepare};

/// Rounds the measured calls are split into; memory is read after each.
const ROUNDS: u64 = 4;

/// Loads the plugin, warms it up, calls the hook `-n` times in rounds,
/// prints the figures.
pub fn bench(args: &BenchArgs) -> Outcome {
    let hook = Hook::from(args.hook);
    let mut ready = prepare(&args.plugin, hook, &args.host, &args.inputs)?;
    let requests = if args.same_request {
        eprintln!("every call sends the same context (--same-request)");
        None
    } else {
        let ids = RequestIds::new(ready.input.get(Field::Context))?;
        eprintln!(
            "each call is a request of its own: request_id {} (--same-request sends one)",
            ids.example()
        );
        Some(ids)
    };
    // Untimed, and before memory is read: the first calls grow memory to
    // what the hook needs (a page or so), which is no leak.
    let warm_up = (args.calls / 10).clamp(1, 1000);
    let mut plugin_error = None;
    let mut number = 0u64;
    let mut call = |guest: &mut Guest, what: String| -> Result<(), Failure> {
        number += 1;
        let output = match &requests {
            Some(ids) => guest.call_hook(hook, &ids.input(&ready.input, number)),
            None => guest.call_hook(hook, &ready.input),
        }
        .map_err(|e| Failure::new(format!("{what}: {e}")))?;
        if plugin_error.is_none() {
            plugin_error = output.plugin_error().map(str::to_string);
        }
        Ok(())
    };
    for n in 1..=warm_up {
        call(&mut ready.guest, format!("warm-up call {n} of {warm_up}"))?;
    }
    let mut progress = Progress::new(args.calls);
    let rounds = ROUNDS.min(args.calls);
    let start_memory = ready.guest.memory_size() as u64;
    let mut memory = Vec::new();
    let mut done = 0;
    let start = Instant::now();
    for round in 1..=rounds {
        let end = args.calls * round / rounds;
        while done < end {
            done += 1;
            call(&mut ready.guest, format!("call {done} of {}", args.calls))?;
            progress.tick(done);
        }
        memory.push(ready.guest.memory_size() as u64);
    }
    let elapsed = start.elapsed();
    progress.done();
    let seconds = elapsed.as_secs_f64();
    println!(
        "{}: {} calls in {seconds:.3} s: {:.0} calls/s ({:.1} µs/call), after {warm_up} warm-up calls",
        ready.export,
        args.calls,
        args.calls as f64 / seconds,
        seconds * 1e6 / args.calls as f64
    );
    let after = memory.last().copied().unwrap_or(start_memory);
    let growth = after as i64 - start_memory as i64;
    let rounds_text: Vec<String> = memory.iter().map(u64::to_string).collect();
    println!(
        "guest memory: {start_memory} bytes after the warm-up; after each of {rounds} rounds: {} ({growth:+} bytes)",
        rounds_text.join(", ")
    );
    println!("{}", memory_verdict(start_memory, &memory, args.calls));
    cleanup(&mut ready.guest)?;
    Ok(match plugin_error {
        Some(message) => {
            eprintln!("the plugin reported an error (first of the calls): {message}");
            ExitCode::from(PLUGIN_ERROR)
        }
        None => ExitCode::SUCCESS,
    })
}

/// The context of each call: the one given (or `{}`) with `request_id` set
/// to `<its request_id>-<n>` (`bench-<n>` without one). The number is
/// spliced into the context's text, so a call costs the host no JSON work.
struct RequestIds {
    base: String,
    before: String,
    after: String,
}

impl RequestIds {
    /// Stands for the number in the serialised context.
    const MARK: &'static str = "@@call-number@@";

    fn new(context: Option<&[u8]>) -> Result<Self, Failure> {
        let mut context = match context.map(serde_json::from_slice) {
            None => serde_json::Map::new(),
            Some(Ok(Value::Object(map))) => map,
            Some(_) => {
                return Err(Failure::usage(
                    "--context must be a JSON object for each call to get its own \
                     request_id (or pass --same-request)",
                ))
            }
        };
        let base = match context.get("request_id") {
            Some(Value::String(id)) => id.clone(),
            _ => "bench".to_string(),
        };
        let marked = format!("{base}-{}", Self::MARK);
        context.insert("request_id".into(), Value::String(marked));
        let text = Value::Object(context).to_string();
        let (before, after) = text.rsplit_once(Self::MARK).unwrap_or((&text, ""));
        Ok(RequestIds {
            before: before.to_string(),
            after: after.to_string(),
            base,
        })
    }

    /// `"r-1", "r-2", …`, to show.
    fn example(&self) -> String {
        format!("\"{0}-1\", \"{0}-2\", …", self.base)
    }

    /// `input` with call `n`'s context.
    fn input(&self, input: &HookInput, n: u64) -> HookInput {
        let context = format!("{}{n}{}", self.before, self.after);
        input.clone().with(Field::Context, context)
    }
}

/// A leak is memory that keeps growing: in more than one round, the last
/// included. Growth that stops is a cache filling or the allocator settling.
fn memory_verdict(start: u64, rounds: &[u64], calls: u64) -> String {
    let mut before = start;
    let grew: Vec<usize> = rounds
        .iter()
        .enumerate()
        .filter_map(|(i, &after)| (after > std::mem::replace(&mut before, after)).then_some(i + 1))
        .collect();
    let growth = rounds.last().map_or(0, |&last| last.saturating_sub(start));
    let last = rounds.len();
    match grew.as_slice() {
        [] => "memory: flat over every round, no leak".to_string(),
        [.., end] if grew.len() > 1 && *end == last => format!(
            "memory grew in {} of {last} rounds, the last included, {:.1} bytes per call: a leak",
            grew.len(),
            growth as f64 / calls as f64
        ),
        _ => format!(
            "memory grew in round(s) {grew:?} of {last}, then stopped: not counted as a leak \
             (a cache filling or the allocator settling; a larger -n tells for sure)"
        ),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_call_gets_its_own_request_id_and_keeps_the_rest_of_the_context() {
        let given = HookInput::new().with_context(r#"{"request_id":"r","tenant":"t"}"#);
        let ids = RequestIds::new(given.get(Field::Context)).unwrap();
        assert_eq!(ids.example(), r#""r-1", "r-2", …"#);
        let third = ids.input(&given, 3);
        let context: Value = serde_json::from_slice(third.get(Field::Context).unwrap()).unwrap();
        assert_eq!(
            context,
            serde_json::json!({"request_id": "r-3", "tenant": "t"})
        );
        let none = RequestIds::new(None).unwrap();
        let first = none.input(&HookInput::new(), 1);
        assert_eq!(
            first.get(Field::Context),
            Some(&br#"{"request_id":"bench-1"}"#[..])
        );
        assert!(RequestIds::new(Some(b"[1]")).is_err());
    }

    #[test]
    fn only_growth_that_continues_is_a_leak() {
        let flat = memory_verdict(65536, &[65536, 65536, 65536, 65536], 100);
        assert_eq!(flat, "memory: flat over every round, no leak");
        let settles = memory_verdict(65536, &[131072, 131072, 131072, 131072], 100);
        assert!(
            settles.starts_with("memory grew in round(s) [1] of 4, then stopped"),
            "{settles}"
        );
        let stopped = memory_verdict(0, &[1, 2, 3, 3], 100);
        assert!(stopped.contains("not counted as a leak"), "{stopped}");
        let once_at_the_end = memory_verdict(0, &[0, 0, 0, 4], 4);
        assert!(
            once_at_the_end.contains("not counted as a leak"),
            "{once_at_the_end}"
        );
        let leak = memory_verdict(0, &[0, 100, 200, 400], 4);
        assert_eq!(
            leak,
            "memory grew in 3 of 4 rounds, the last included, 100.0 bytes per call: a leak"
        );
    }
}
