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
    for path in [common::wasm_path(), common::single_input_wasm_path()] {
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
}
