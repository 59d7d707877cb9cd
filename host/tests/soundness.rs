//! Hosts that name ranges the plugin does not own: freed inputs, ranges
//! straddling live buffers, static data, the top of memory, ranges longer
//! than 2 GiB on grown memory. Run against **debug** builds of hello-world
//! (debug assertions on, both ABIs), where undefined behaviour that a release
//! build survives by luck trips Rust's own checks and traps.
//!
//! The promise (abi-spec 4.4): none of these traps; each call answers with
//! the hook's output, carrying an error or the bytes that were at the range,
//! and the instance keeps working.

mod common;

use bifrost_plugin_host::{FreeMode, Guest, Hook, HookInput};
use common::output_object;

const CONTEXT: &[u8] = br#"{"request_id":"r1"}"#;
const REQUEST: &[u8] = br#"{"model":"gpt-4o-mini","input":[{"role":"user","content":"hi"}]}"#;

/// One build under test and how to call its `pre_hook` on a raw range.
struct Build {
    guest: Guest,
    seed: bool,
}

impl Build {
    fn load(file: &str, seed: bool) -> Self {
        let wasm = common::test_plugin_wasm(file);
        let mut guest = Guest::load(&wasm, FreeMode::All).expect("the debug build loads");
        assert_eq!(guest.init(b"{}").unwrap(), 0);
        Build { guest, seed }
    }

    fn both() -> [Build; 2] {
        [
            Build::load("hello-world-debug.wasm", true),
            Build::load("hello-world-debug-single-input.wasm", false),
        ]
    }

    /// The input the hook needs, written into a fresh buffer.
    fn input(&mut self) -> Vec<u8> {
        match self.seed {
            true => REQUEST.to_vec(),
            false => {
                let mut input = br#"{"context":{"request_id":"r1"},"request":"#.to_vec();
                input.extend_from_slice(REQUEST);
                input.push(b'}');
                input
            }
        }
    }

    fn malloc_with(&mut self, bytes: &[u8]) -> u32 {
        let ptr = self.guest.malloc(bytes.len() as u32).unwrap();
        assert_ne!(ptr, 0);
        self.guest.write(ptr, bytes).unwrap();
        ptr
    }

    /// Calls `pre_hook` with its request (seed) or whole input (single
    /// input) at `[ptr, ptr + len)`. Checks the call did not trap, the output
    /// has the hook's exact shape, and it either reports an error or sends
    /// back exactly the bytes that were at the range.
    fn probe(&mut self, ptr: u32, len: u32, case: &str) -> String {
        let before = self.guest.read(ptr, len.min(4096)).unwrap_or_default();
        let args = match self.seed {
            true => {
                let ctx = self.malloc_with(CONTEXT);
                vec![ctx as i32, CONTEXT.len() as i32, ptr as i32, len as i32]
            }
            false => vec![ptr as i32, len as i32],
        };
        let packed = self
            .guest
            .call("pre_hook", &args)
            .unwrap_or_else(|e| panic!("{case}: the call trapped: {e}"));
        let output = self.guest.read_packed("pre_hook", packed).unwrap();
        let keys: &[&str] = match self.seed {
            true => &["request", "short_circuit", "error"],
            false => &[
                "context",
                "request",
                "short_circuit",
                "has_short_circuit",
                "error",
            ],
        };
        let object = output_object(&output, keys);
        let error = object["error"]
            .as_str()
            .expect("error is a string")
            .to_string();
        if error.is_empty() {
            let sent = serde_json::to_vec(&object["request"]).unwrap();
            let expected: serde_json::Value = match self.seed {
                true => serde_json::from_slice(&before).unwrap(),
                false => {
                    serde_json::from_slice::<serde_json::Value>(&before).unwrap()["request"].clone()
                }
            };
            assert_eq!(sent, serde_json::to_vec(&expected).unwrap(), "{case}");
        }
        error
    }

    /// After every probe, the instance still answers a well-formed call.
    fn still_works(&mut self) {
        let input = self.input();
        let ptr = self.malloc_with(&input);
        let error = self.probe(
            ptr,
            input.len() as u32,
            "a well-formed call after the probes",
        );
        assert_eq!(error, "", "the instance keeps working");
    }
}

#[test]
fn a_freed_input_is_copied_or_refused_never_read_in_place() {
    for mut build in Build::both() {
        let input = build.input();
        let ptr = build.malloc_with(&input);
        build.guest.free(ptr).unwrap();
        // The freed block is the allocator's again: the copy the plugin makes
        // may be handed exactly these bytes (the case a debug build used to
        // trap on, in `copy_nonoverlapping`'s overlap check).
        build.probe(ptr, input.len() as u32, "freed input");
        // And after the allocator has reused it for something else.
        let ptr = build.malloc_with(&input);
        build.guest.free(ptr).unwrap();
        build.guest.malloc(8).unwrap();
        build.probe(ptr, input.len() as u32, "freed and reused input");
        build.still_works();
    }
}

#[test]
fn ranges_straddling_or_inside_live_buffers() {
    for mut build in Build::both() {
        let input = build.input();
        let len = input.len() as u32;
        let ptr = build.malloc_with(&input);
        build.probe(ptr + 1, len - 1, "starts inside, ends at the end");
        build.probe(ptr + 10, len, "starts inside, ends beyond");
        build.probe(ptr - 8, len + 8, "starts before, ends at the end");
        build.probe(ptr - 8, len + 16, "covers it and more");
        let inner = build.malloc_with(b"{}   ");
        build.probe(inner, 2, "a prefix of a live buffer");
        build.still_works();
    }
}

#[test]
fn ranges_in_static_data_and_at_the_bottom_of_memory() {
    for mut build in Build::both() {
        let packed = build.guest.call("get_name", &[]).unwrap();
        let (name, name_len) = ((packed as u64 >> 32) as u32, packed as u32);
        let error = build.probe(name, name_len, "the plugin's name (static data)");
        assert!(!error.is_empty(), "a name is not a JSON request");
        build.probe(name, 4096, "static data and beyond");
        build.probe(1, 1024, "the first page");
        build.still_works();
    }
}

#[test]
fn ranges_at_the_top_of_memory() {
    for mut build in Build::both() {
        let top = build.guest.memory_size() as u32;
        build.probe(top - 16, 16, "the last 16 bytes");
        build.probe(top - 1, 1, "the last byte");
        let error = build.probe(top - 16, 17, "one byte past the end");
        assert!(error.contains("outside the plugin's"), "{error}");
        let error = build.probe(top, 1, "the first byte past the end");
        assert!(error.contains("outside the plugin's"), "{error}");
        let error = build.probe(u32::MAX, u32::MAX, "the largest range");
        assert!(error.contains("outside the plugin's"), "{error}");
        build.still_works();
    }
}

#[test]
fn a_range_longer_than_2_gib_on_grown_memory_is_refused_without_a_slice() {
    for mut build in Build::both() {
        let pages = (2u64 << 30) / 65536 + 2 - build.guest.memory_size() as u64 / 65536;
        let size = build.guest.grow_memory(pages).unwrap();
        assert!(size > (2 << 30) + 65536, "memory is {size} bytes");
        let len = (1u32 << 31) + 1; // more than isize::MAX on wasm32
        let error = build.probe(65536, len, "2 GiB + 1 inside memory");
        assert!(error.contains("too large to copy"), "{error}");
        let error = build.probe(1, u32::MAX - 1, "4 GiB - 2 from address 1");
        assert!(error.contains("outside the plugin's"), "{error}");
        build.still_works();
    }
}

/// A host may stop a call at any instruction (a fuel or time limit). For
/// every 13th instruction of a whole `pre_hook` call (the allocations, writes
/// and frees around it included), a fresh instance is stopped there; then it
/// must still allocate and answer every call, without a trap: at worst
/// "plugin state was lost" until `init`, or, when the stop came inside the
/// memory allocator, an error saying the host must instantiate it again
/// (abi-spec 4.5).
#[test]
fn a_call_stopped_at_any_instruction_leaves_an_instance_that_still_answers() {
    let request = HookInput::new()
        .with_context(std::str::from_utf8(CONTEXT).unwrap())
        .with_request(std::str::from_utf8(REQUEST).unwrap());
    for path in [common::wasm_path(), common::single_input_wasm_path()] {
        let wasm = common::wasm(&path);
        let warm = || {
            let mut guest = Guest::load_metered(&wasm, FreeMode::All).unwrap();
            assert_eq!(guest.init(b"{}").unwrap(), 0);
            let output = guest.call_hook(Hook::PreHook, &request).unwrap();
            assert_eq!(output.plugin_error(), None);
            guest
        };
        // What a whole call (allocate, write, call, read, free) burns.
        let mut guest = warm();
        let before = guest.fuel().unwrap();
        guest.call_hook(Hook::PreHook, &request).unwrap();
        let whole = before - guest.fuel().unwrap();
        let (mut lost, mut untrusted) = (0, 0);
        for budget in (0..whole).step_by(13) {
            let case = format!("{}: stopped after {budget} of {whole}", path.display());
            let mut guest = warm();
            guest.set_fuel(budget).unwrap();
            let stopped = guest.call_hook(Hook::PreHook, &request).unwrap_err();
            assert!(stopped.to_string().contains("fuel"), "{case}: {stopped}");
            guest.set_fuel(u64::MAX).unwrap();
            for _ in 0..3 {
                let ptr = guest.malloc(64).unwrap_or_else(|e| panic!("{case}: {e}"));
                assert_ne!(ptr, 0, "{case}: allocates");
                let output = guest
                    .call_hook(Hook::PreHook, &request)
                    .unwrap_or_else(|e| panic!("{case}: {e}"));
                let Some(error) = output.plugin_error() else {
                    continue;
                };
                if error.contains("stopped inside the plugin's memory allocator") {
                    untrusted += 1;
                    let status = guest.init(b"{}").unwrap_or_else(|e| panic!("{case}: {e}"));
                    assert_eq!(status, 2, "{case}: init refuses too");
                    continue;
                }
                // The stop came while the hook had the plugin out.
                assert!(
                    error.starts_with("plugin state was lost"),
                    "{case}: {error}"
                );
                lost += 1;
                assert_eq!(guest.init(b"{}").unwrap(), 0, "{case}");
            }
        }
        assert!(lost > 0, "some stops hit the hook itself");
        assert!(untrusted > 0, "some stops hit the allocator");
    }
}

/// Each trapped call loses the stack its frames held (abi-spec 4.5). A
/// plugin that panics again and again keeps answering; once half its stack
/// is gone it says so on every hook and `init`, instead of trapping on an
/// out-of-bounds access, and still allocates.
#[test]
fn a_plugin_that_traps_again_and_again_runs_out_of_stack_and_says_so() {
    let wasm = common::test_plugin_wasm("panicking.wasm");
    let mut guest = Guest::load(&wasm, FreeMode::All).unwrap();
    let panic = HookInput::new().with_request(r#"{"model":"panic"}"#);
    let mut panics = 0;
    let error = loop {
        assert!(panics < 5000, "the stack never ran short");
        assert_ne!(guest.malloc(64).unwrap(), 0);
        match guest.init(b"{}").unwrap() {
            0 => {}
            2 => {
                break guest
                    .call_hook(Hook::PreHook, &panic)
                    .unwrap()
                    .plugin_error()
                    .unwrap()
                    .to_string()
            }
            other => panic!("init returned {other}"),
        }
        // A hook measures deeper than `init` (it has read its input): it
        // may be the first to find half the stack gone.
        match guest.call_hook(Hook::PreHook, &panic) {
            Ok(output) => break output.plugin_error().unwrap().to_string(),
            Err(trapped) => assert!(trapped.to_string().contains("trapped"), "{trapped}"),
        }
        panics += 1;
    };
    assert_eq!(guest.init(b"{}").unwrap(), 2, "init refuses too");
    assert!(error.contains("stack to calls that trapped"), "{error}");
    assert!(panics > 10, "{panics} panics");
    eprintln!("{panics} panics before the stack ran short");
}
