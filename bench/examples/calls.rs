//! N `pre_hook` calls of one plugin in wasmi, and nothing else: run under
//! callgrind, the difference between two values of N is what wasmi executes
//! per call, in native instructions. That count is repeatable whatever the
//! machine is doing, and unlike wasmi's fuel it counts what a call costs
//! (fuel is charged per block of wasm instructions, so it misses calls and
//! returns, which dominate short strings' cost).
//!
//! ```text
//! cargo build --release -p bifrost-plugin-bench --example calls
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/calls build/hello-world.wasm 41 chat
//! ```
//!
//! (`chat`: a 20 KB chat request; `empty`: one with no messages.) Subtract
//! the count for N = 1 and divide by 40.

use bifrost_plugin_bench::workload::{chat_request, pre_hook_input, Call};
use bifrost_plugin_host::{Abi, FreeMode, Guest, Hook};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(calls)) = (args.next(), args.next()) else {
        eprintln!("usage: calls FILE.wasm N [chat|empty]");
        std::process::exit(2);
    };
    let calls: usize = calls.parse().expect("N is a number");
    let request = match args.next().as_deref() {
        Some("empty") => br#"{"model":"m","input":[]}"#.to_vec(),
        _ => chat_request(20 * 1024),
    };
    let wasm = std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut guest = Guest::load(&wasm, FreeMode::All).expect("a plugin");
    assert_eq!(
        guest.init(b"{}").expect("init runs"),
        0,
        "{file}: init failed"
    );
    let (_, input) = pre_hook_input(request);
    let call = Call::new(guest.abi().unwrap_or(Abi::Seed), Hook::PreHook, &input);
    let buffers = call.buffers();
    for _ in 0..calls {
        guest.hook(call.export, &buffers).expect("a call");
    }
}
