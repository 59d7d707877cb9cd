//! Instructions per `pre_hook` call, counted by wasmi's fuel: a figure that
//! does not move with the machine's load, for comparing two builds of one
//! plugin while changing the SDK (the bench's timings need an idle machine).
//! Fuel is charged per block of wasm instructions and leaves out what calls
//! cost: a change that adds calls can save fuel and still be slower. The
//! `calls` example, counted by callgrind, measures that too.
//!
//! ```text
//! cargo run --release -p bifrost-plugin-bench --example fuel -- build/hello-world.wasm [more.wasm …]
//! ```

use bifrost_plugin_bench::workload::{chat_request, image_request, pre_hook_input, Call};
use bifrost_plugin_host::{Abi, FreeMode, Guest, Hook};

fn main() {
    for file in std::env::args().skip(1) {
        let wasm = std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut guest = Guest::load_metered(&wasm, FreeMode::All).expect("a plugin");
        assert_eq!(
            guest.init(b"{}").expect("init runs"),
            0,
            "{file}: init failed"
        );
        for (kb, image) in [(1, false), (20, false), (200, false), (200, true)] {
            let request = match image {
                true => image_request(kb * 1024),
                false => chat_request(kb * 1024),
            };
            // Either ABI: the call laid out as the module's host lays it out.
            let abi = guest.abi().unwrap_or(Abi::Seed);
            let (request, input) = pre_hook_input(request);
            let call = Call::new(abi, Hook::PreHook, &input);
            let buffers = call.buffers();
            guest.hook(call.export, &buffers).expect("a call"); // warm
            let before = guest.fuel().expect("metered");
            guest.hook(call.export, &buffers).expect("a call");
            let used = before - guest.fuel().expect("metered");
            let what = if image {
                "image request"
            } else {
                "chat request"
            };
            println!(
                "{file}: {kb} KB {what}: {used} fuel ({:.2} per byte)",
                used as f64 / request.len() as f64
            );
        }
    }
}
