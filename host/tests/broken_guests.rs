//! Deliberately broken guests (WebAssembly text in `tests/guests/`): the
//! validator and the host must each say precisely what is wrong and where.

use std::path::PathBuf;

use bifrost_plugin_host::{
    validate, Abi, Error, FreeMode, Guest, Hook, HookInput, ModuleInfo, Severity,
};

fn wat(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/guests")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(name: &str) -> Guest {
    Guest::load(&wat(name), FreeMode::All).expect("the guest loads")
}

fn problems(name: &str, abi: Abi) -> Vec<String> {
    let info = ModuleInfo::parse(&wat(name)).unwrap();
    validate(&info, abi).iter().map(|p| p.to_string()).collect()
}

fn seed_input() -> HookInput {
    HookInput::new()
        .with_context("{}")
        .with_request(r#"{"model":"m"}"#)
        .with_response("{}")
}

fn call_error(guest: &mut Guest, hook: Hook) -> String {
    guest
        .call_hook(hook, &seed_input())
        .unwrap_err()
        .to_string()
}

#[test]
fn the_correct_guest_has_no_problems_and_answers_every_seed_hook() {
    assert_eq!(problems("seed-ok.wat", Abi::Seed), Vec::<String>::new());
    let mut guest = load("seed-ok.wat");
    assert_eq!(guest.abi(), Some(Abi::Seed));
    assert_eq!(guest.name().unwrap(), "wat-guest");
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    for hook in [Hook::HttpPreHook, Hook::PreHook, Hook::PostHook] {
        let output = guest.call_hook(hook, &seed_input()).unwrap();
        assert_eq!(output.plugin_error(), None, "{hook}");
        assert!(output.json().is_object());
    }
    assert_eq!(
        call_error(&mut guest, Hook::HttpStreamChunkHook),
        "the seed ABI has no `http_stream_chunk_hook` hook"
    );
    assert_eq!(guest.cleanup().unwrap(), 0);
}

#[test]
fn a_missing_export_is_listed_and_calling_it_names_it() {
    assert_eq!(
        problems("missing-export.wat", Abi::Seed),
        [
            "missing export `post_hook` (func (i32, i32, i32, i32, i32, i32) -> i64): \
             LLM post-hook (ctx, resp, err)",
            "missing export `cleanup` (func () -> i32): called at shutdown",
        ]
    );
    let mut guest = load("missing-export.wat");
    assert_eq!(
        call_error(&mut guest, Hook::PostHook),
        "the module does not export `post_hook`"
    );
    assert_eq!(
        guest.cleanup().unwrap_err(),
        Error::MissingExport {
            export: "cleanup".into()
        }
    );
    // What is there still works.
    assert!(guest.call_hook(Hook::PreHook, &seed_input()).is_ok());
}

#[test]
fn a_wrong_signature_is_listed_and_refused_before_the_call() {
    assert_eq!(
        problems("wrong-signature.wat", Abi::Seed),
        [
            "`get_name` is func () -> i32, expected func () -> i64",
            "`pre_hook` is func (i32, i32) -> i64, expected func (i32, i32, i32, i32) -> i64",
        ]
    );
    let mut guest = load("wrong-signature.wat");
    assert_eq!(
        guest.abi(),
        Some(Abi::Seed),
        "http_transport_intercept decides"
    );
    assert_eq!(
        call_error(&mut guest, Hook::PreHook),
        "`pre_hook` is func (i32, i32) -> i64, expected func (i32, i32, i32, i32) -> i64"
    );
    assert_eq!(
        guest.name().unwrap_err().to_string(),
        "`get_name` is func () -> i32, expected func () -> i64"
    );
}

#[test]
fn outputs_the_host_cannot_read_are_errors_naming_the_export() {
    let mut guest = load("malformed.wat");
    assert_eq!(problems("malformed.wat", Abi::Seed), Vec::<String>::new());
    assert_eq!(
        call_error(&mut guest, Hook::HttpPreHook),
        "`http_transport_intercept` returned 0 (no output)"
    );
    assert_eq!(
        call_error(&mut guest, Hook::PreHook),
        "`pre_hook` output is not JSON (expected ident at line 1 column 2): not json"
    );
    let not_utf8 = call_error(&mut guest, Hook::PostHook);
    assert!(
        not_utf8.starts_with("`post_hook` output is not UTF-8: invalid utf-8 sequence")
            && not_utf8.ends_with("from index 10"),
        "{not_utf8}"
    );
}

#[test]
fn out_of_bounds_and_wrongly_shaped_outputs_are_errors_naming_the_export() {
    let mut guest = load("malformed-single-input.wat");
    assert_eq!(guest.abi(), Some(Abi::SingleInput));
    let input = HookInput::new().with_context("{}").with_request("{}");
    let error = |guest: &mut Guest, hook| guest.call_hook(hook, &input).unwrap_err().to_string();
    assert_eq!(
        error(&mut guest, Hook::HttpPreHook),
        "`http_pre_hook` returned an output at [65530, +100), outside the guest's 65536-byte memory"
    );
    assert_eq!(
        error(&mut guest, Hook::PreHook),
        "`pre_hook` output has the wrong shape: invalid type: integer `5`, expected a string"
    );
    assert_eq!(
        error(&mut guest, Hook::PostHook),
        "`post_hook` output has the wrong shape: expected a JSON object, got an array"
    );
}

#[test]
fn a_trap_is_an_error_naming_the_export_and_the_instance_survives() {
    let mut guest = load("trapping.wat");
    let unreachable = call_error(&mut guest, Hook::PreHook);
    assert!(
        unreachable.starts_with("`pre_hook` trapped: ") && unreachable.contains("unreachable"),
        "{unreachable}"
    );
    let out_of_bounds = call_error(&mut guest, Hook::PostHook);
    assert!(
        out_of_bounds.starts_with("`post_hook` trapped: ")
            && out_of_bounds.contains("out of bounds"),
        "{out_of_bounds}"
    );
    assert!(guest.call_hook(Hook::HttpPreHook, &seed_input()).is_ok());
}

#[test]
fn a_leak_shows_in_the_memory_size() {
    const PAGE: usize = 65536;
    let calls = 20;
    for (guest, leak_per_call) in [("leaky.wat", 2 * PAGE), ("seed-ok.wat", 0)] {
        let mut guest = load(guest);
        let before = guest.memory_size();
        for _ in 0..calls {
            guest.call_hook(Hook::PreHook, &seed_input()).unwrap();
        }
        // Two inputs (context, request), one page each, never reused.
        assert_eq!(guest.memory_size() - before, calls * leak_per_call);
    }
}

#[test]
fn imports_and_a_missing_memory_are_listed_and_refused_at_load() {
    assert_eq!(
        problems("imports.wat", Abi::Seed),
        [
            "no linear memory is exported as `memory`",
            "imports `env.log` (func (i32, i32)): the host provides only WASI preview 1 \
             (`wasi_snapshot_preview1`), so it cannot instantiate the module",
        ]
    );
    let error = Guest::load(&wat("imports.wat"), FreeMode::All)
        .err()
        .unwrap();
    assert_eq!(
        error.to_string(),
        "the module imports `env.log` (func (i32, i32)): a Bifrost plugin may import only \
         WASI preview 1 (`wasi_snapshot_preview1`)"
    );
}

#[test]
fn a_guest_of_neither_abi_loads_but_its_hooks_need_an_abi() {
    let wasm = br#"(module (memory (export "memory") 1))"#;
    let mut guest = Guest::load(wasm, FreeMode::All).unwrap();
    assert_eq!(guest.abi(), None);
    let error = guest
        .call_hook(Hook::PreHook, &HookInput::new())
        .unwrap_err();
    assert_eq!(error, Error::UnknownAbi);
    let problems = validate(guest.info(), Abi::SingleInput);
    let warnings = problems
        .iter()
        .filter(|p| p.severity() == Severity::Warning);
    assert_eq!(problems.len(), 8, "every export but memory: {problems:#?}");
    assert_eq!(
        warnings.count(),
        2,
        "http_post_hook, http_stream_chunk_hook"
    );
}

#[test]
fn bytes_that_are_no_module_and_unreadable_files_are_clear_errors() {
    let error = Guest::load(b"hello", FreeMode::All).err().unwrap();
    assert!(
        error
            .to_string()
            .starts_with("invalid module: not a binary module (no \\0asm header), nor valid"),
        "{error}"
    );
    let error = Guest::load(b"\0asm\x01\0\0\0\x05", FreeMode::All)
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .starts_with("invalid module: binary module: "),
        "{error}"
    );
    let error = Guest::from_file("/nonexistent/plugin.wasm", FreeMode::All)
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .starts_with("cannot read /nonexistent/plugin.wasm: "),
        "{error}"
    );
}
