//! Calls the host stops half-way (a fuel or time limit), in the corners
//! abi-spec 4.5 covers: the fallback allocator at the top of a 4 GiB memory,
//! a heap the plugin can no longer trust, and what each export answers then.
//! Every case runs on the built `.wasm` in wasmi, as the host would.

mod common;

use bifrost_plugin_host::{FreeMode, Guest, Hook, HookInput};

const CONTEXT: &str = r#"{"request_id":"r1"}"#;
const REQUEST: &str = r#"{"model":"gpt-4o-mini","input":[{"role":"user","content":"hi"}]}"#;

fn request() -> HookInput {
    HookInput::new().with_context(CONTEXT).with_request(REQUEST)
}

/// A fresh instance of `wasm` whose heap is untrusted: it was initialised,
/// then a `pre_hook` call (allocating its inputs, the call, freeing) was
/// stopped inside the memory allocator. The budget is found by trying every
/// 13th, then the ones in between (`init` answers 2 once the heap is
/// untrusted).
fn untrusted(wasm: &[u8]) -> Guest {
    for offset in 1..=13 {
        for budget in (offset..).step_by(13) {
            let mut guest = Guest::load_metered(wasm, FreeMode::All).unwrap();
            assert_eq!(guest.init(b"").unwrap(), 0);
            guest.set_fuel(budget).unwrap();
            if guest.call_hook(Hook::PreHook, &request()).is_ok() {
                break; // the whole call fits: on to the next offset
            }
            guest.set_fuel(u64::MAX).unwrap();
            if guest.init(b"").unwrap() == 2 {
                return guest;
            }
        }
    }
    panic!("no budget stopped a pre_hook call inside the allocator");
}

/// With the heap untrusted, memory comes from fresh pages at the top of
/// memory. A host that grew memory to just under 4 GiB itself leaves those
/// pages at the very end of the address space: every allocation is then
/// refused or lies above the plugin's static data, never wraps round to low
/// memory (the stack, static data), and the instance still answers.
#[test]
fn the_fallback_allocator_never_wraps_at_the_top_of_4_gib() {
    // One ABI: both share the allocator, and 4 GiB of host memory is zeroed
    // for each instance.
    let path = common::wasm_path();
    let wasm = common::wasm(&path);
    let mut guest = untrusted(&wasm);
    let name = guest.name().unwrap();
    let statics = (guest.call("get_name", &[]).unwrap() as u64 >> 32) as u32;
    let pages = 0xFFFE - guest.memory_size() as u64 / 65536;
    assert_eq!(guest.grow_memory(pages).unwrap(), 0xFFFE_0000);
    for size in [0x8000, 0x8000, 0x8000, 0x20000, 64, 0x100724, 0xFFFF, 1] {
        let case = format!("{}: plugin_malloc({size:#x})", path.display());
        let ptr = guest.malloc(size).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(ptr == 0 || ptr > statics, "{case} = {ptr:#x}");
    }
    assert_eq!(guest.name().unwrap(), name, "static data is intact");
    let output = guest.call_hook(Hook::PreHook, &request()).unwrap();
    let error = output.plugin_error().unwrap();
    assert!(error.contains("instantiate"), "{error}");
}

/// A host that keeps an 8 MiB input (256 KiB for debug builds) live, sends `plugin_free` of a pointer
/// the plugin never handed out and stops it half-way (at every budget in
/// turn), then makes a normal call, a hundred times: the buffer table
/// survives every stop, so the 8 MiB buffers are still reclaimed (memory
/// stays flat) and a live one is still read in place, not refused as
/// foreign.
#[test]
fn stops_that_find_nothing_to_free_lose_no_buffer() {
    let debug = |file| common::test_plugin_dir().join(file);
    for (path, size) in [
        (common::wasm_path(), 8 << 20),
        (common::single_input_wasm_path(), 8 << 20),
        // Debug builds zero a buffer byte by byte: smaller ones.
        (debug("hello-world-debug.wasm"), 256 << 10),
        (debug("hello-world-debug-single-input.wasm"), 256 << 10),
    ] {
        let wasm = common::wasm(&path);
        let mut guest = Guest::load_metered(&wasm, FreeMode::All).unwrap();
        assert_eq!(guest.init(b"").unwrap(), 0);
        assert_ne!(guest.malloc(size).unwrap(), 0);
        guest.free(12345).unwrap(); // wasmi compiles a function at its first call
        let before = guest.fuel().unwrap();
        guest.free(12345).unwrap();
        let whole = before - guest.fuel().unwrap();
        let (mut sizes, mut stops) = (Vec::new(), 0);
        for round in 0..100 {
            assert_ne!(guest.malloc(size).unwrap(), 0);
            // Every budget of a short call, spread over a long one.
            guest.set_fuel(1 + round * whole / 100).unwrap();
            stops += guest.free(12345).is_err() as u32;
            guest.set_fuel(u64::MAX).unwrap();
            let output = guest.call_hook(Hook::PreHook, &request()).unwrap();
            assert_eq!(output.plugin_error(), None, "{}", path.display());
            sizes.push(guest.memory_size());
        }
        assert!(stops > 50, "{stops} of the calls were stopped");
        assert_eq!(sizes[99], sizes[2], "{}: memory {sizes:?}", path.display());
        // A live input, after all those stops, is read in place.
        let mut input = match guest.abi() {
            Some(bifrost_plugin_host::Abi::Seed) => REQUEST.as_bytes().to_vec(),
            _ => format!(r#"{{"context":{CONTEXT},"request":{REQUEST}}}"#).into_bytes(),
        };
        input.resize(size as usize, b' ');
        let (ptr, len) = common::put(&mut guest, &input);
        let args = match guest.abi() {
            Some(bifrost_plugin_host::Abi::Seed) => {
                let context = common::put(&mut guest, CONTEXT.as_bytes());
                common::args(&[context, (ptr, len)])
            }
            _ => common::args(&[(ptr, len)]),
        };
        let packed = guest.call("pre_hook", &args).unwrap();
        let output = guest.read_packed("pre_hook", packed).unwrap();
        let text = String::from_utf8_lossy(&output);
        assert!(text.contains(r#""error":"""#), "{}: {text}", path.display());
    }
}

/// Each trapped call loses the stack its frames held, also calls that never
/// check it (`plugin_free`). A plugin that lost more than half its stack
/// that way before its first `init` refuses to run (init 2, hooks say so),
/// instead of taking where the stack was at that `init` for its top.
#[test]
fn stack_lost_before_the_first_init_is_reported() {
    for file in [
        "hello-world-debug.wasm",
        "hello-world-debug-single-input.wasm",
    ] {
        let wasm = common::export_stack_pointer(&common::test_plugin_wasm(file));
        let mut guest = Guest::load_metered(&wasm, FreeMode::All).unwrap();
        let sp = |guest: &Guest| guest.global_i32("stack_pointer").unwrap();
        let top = sp(&guest);
        guest.free(12345).unwrap(); // the first call may set things up
        let before = guest.fuel().unwrap();
        guest.free(12345).unwrap();
        let whole = before - guest.fuel().unwrap();
        // The budget that loses the most stack per stop.
        let (budget, _) = (1..whole)
            .map(|budget| {
                let at = sp(&guest);
                guest.set_fuel(budget).unwrap();
                let _ = guest.free(12345);
                (budget, at - sp(&guest))
            })
            .max_by_key(|&(_, lost)| lost)
            .unwrap();
        let mut stops = 0;
        while sp(&guest) > top / 2 - 4096 {
            guest.set_fuel(budget).unwrap();
            assert!(guest.free(12345).is_err(), "stopped");
            stops += 1;
        }
        guest.set_fuel(u64::MAX).unwrap();
        assert_eq!(guest.init(b"").unwrap(), 2, "{file}: after {stops} stops");
        let output = guest.call_hook(Hook::PreHook, &request()).unwrap();
        let error = output.plugin_error().unwrap();
        assert!(error.contains("stack to calls that trapped"), "{error}");
        assert_ne!(guest.malloc(64).unwrap(), 0, "still allocates");
    }
}

/// Once the heap is untrusted, `plugin_malloc` serves at most 16 MiB (then
/// 0), and past that every export still answers without allocating: each
/// hook its fixed output from static data, whatever its arguments.
#[test]
fn past_the_fallback_every_export_still_answers() {
    let seed = [
        ("http_transport_intercept", 4),
        ("pre_hook", 4),
        ("post_hook", 6),
    ];
    let single = [
        ("http_pre_hook", 2),
        ("http_intercept", 2),
        ("http_post_hook", 2),
        ("http_stream_chunk_hook", 2),
        ("pre_hook", 2),
        ("post_hook", 2),
    ];
    for (path, hooks) in [
        (common::wasm_path(), &seed[..]),
        (common::single_input_wasm_path(), &single[..]),
    ] {
        let wasm = common::wasm(&path);
        let mut guest = untrusted(&wasm);
        let mut served = 0u64;
        for size in [1 << 20, 4096, 1] {
            while guest.malloc(size).unwrap() != 0 {
                served += size as u64;
            }
        }
        assert!(served <= 16 << 20, "{served} bytes");
        for &(export, args) in hooks {
            let packed = guest
                .call(export, &vec![0; args])
                .unwrap_or_else(|e| panic!("{export}: {e}"));
            let output = guest.read_packed(export, packed).unwrap();
            let text = String::from_utf8(output).unwrap();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            let error_key = if text.contains("hook_error") {
                "hook_error"
            } else {
                "error"
            };
            let error = json[error_key].as_str().unwrap();
            assert!(
                error.contains("instantiate the plugin again"),
                "{export}: {text}"
            );
            guest.free((packed as u64 >> 32) as u32).unwrap();
        }
        assert_eq!(guest.init(b"").unwrap(), 2);
        assert_eq!(guest.cleanup().unwrap(), 2);
        assert!(!guest.name().unwrap().is_empty());
        let output = guest.call_hook(Hook::PreHook, &request());
        assert!(output.is_err(), "the host cannot write its input any more");
    }
}
