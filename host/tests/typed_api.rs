//! The library's ABI-independent API against the built hello-world plugin,
//! both ABIs: detection, validation, and every hook through `call_hook`.

mod common;

use bifrost_plugin_host::{
    validate, Abi, FreeMode, Guest, Hook, HookInput, PostOutput, SeedPreOutput, TypedOutput,
};
use common::*;
use serde_json::{json, Value};

fn input() -> HookInput {
    HookInput::new()
        .with_context(fixture("context.json"))
        .with_request(fixture("chat_request_flat.json"))
}

fn parsed(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

#[test]
fn both_builds_are_detected_and_have_no_problems() {
    for (guest, abi) in [
        (guest(FreeMode::All), Abi::Seed),
        (single_input_guest(FreeMode::All), Abi::SingleInput),
    ] {
        assert_eq!(guest.abi(), Some(abi));
        assert_eq!(validate(guest.info(), abi), []);
    }
}

#[test]
fn each_build_validated_against_the_other_abi_is_wrong_in_the_expected_ways() {
    let seed = guest(FreeMode::All);
    let problems: Vec<String> = validate(seed.info(), Abi::SingleInput)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(problems.contains(
        &"`pre_hook` is func (i32, i32, i32, i32) -> i64, expected func (i32, i32) -> i64"
            .to_string()
    ));
    assert!(problems.iter().any(|p| p.starts_with(
        "missing export `http_pre_hook` or `http_intercept` (func (i32, i32) -> i64)"
    )));
    let single = single_input_guest(FreeMode::All);
    let problems = validate(single.info(), Abi::Seed);
    // pre_hook and post_hook arity, no http_transport_intercept.
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

#[test]
fn seed_hooks_return_raw_bytes_json_and_typed_fields() {
    let mut guest = guest(FreeMode::All);
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    let output = guest.call_hook(Hook::PreHook, &input()).unwrap();
    assert_eq!(output.export(), "pre_hook");
    let request = fixture("chat_request_flat.json");
    assert!(contains(output.raw(), &request), "echoed byte for byte");
    assert_eq!(output.json()["request"], parsed("chat_request_flat.json"));
    assert_eq!(
        output.typed(),
        &TypedOutput::SeedPre(SeedPreOutput {
            request: Some(parsed("chat_request_flat.json")),
            short_circuit: None,
            error: String::new(),
        })
    );
    assert_eq!(output.context(), None, "seed outputs carry no context");

    let http = HookInput::new()
        .with_context("{}")
        .with_request(fixture("http_request.json"));
    let output = guest.call_hook(Hook::HttpPreHook, &http).unwrap();
    assert_eq!(output.export(), "http_transport_intercept");
    assert_eq!(output.raw(), br#"{"response":null,"error":""}"#);

    let post = HookInput::new()
        .with_response(fixture("chat_response.json"))
        .with_error(fixture("bifrost_error.json"));
    let output = guest.call_hook(Hook::PostHook, &post).unwrap();
    assert_eq!(output.json()["bifrost_error"], parsed("bifrost_error.json"));
}

#[test]
fn a_plugin_error_is_in_the_output_not_a_host_error() {
    let mut guest = guest(FreeMode::All);
    let bad = HookInput::new().with_request("[1]");
    let output = guest.call_hook(Hook::PreHook, &bad).unwrap();
    assert_eq!(
        output.plugin_error(),
        Some("request must be a JSON object, got an array")
    );
}

#[test]
fn single_input_hooks_carry_the_context_back() {
    let mut guest = single_input_guest(FreeMode::InputsOnly);
    assert_eq!(guest.init(b"").unwrap(), 0);
    let http = HookInput::new()
        .with_context(fixture("context.json"))
        .with_request(fixture("http_request.json"))
        .with_response(fixture("http_response.json"))
        .with_chunk(fixture("chat_chunk.json"));
    let marks = [
        (Hook::HttpPreHook, "http_pre_hook", "from-http"),
        (Hook::HttpPostHook, "http_post_hook", "from-http-post"),
        (
            Hook::HttpStreamChunkHook,
            "http_stream_chunk_hook",
            "from-stream-chunk",
        ),
        (Hook::PreHook, "pre_hook", "from-pre-hook"),
    ];
    for (hook, export, key) in marks {
        let input = if hook == Hook::PreHook {
            input()
        } else {
            http.clone()
        };
        let output = guest.call_hook(hook, &input).unwrap();
        assert_eq!(output.export(), export);
        assert_eq!(output.plugin_error(), None, "{hook}");
        let context = output.context().expect("a context");
        assert!(context.contains_key(key), "{hook}: {context:?}");
        assert_eq!(
            context["request_id"], "req-7f3a",
            "{hook} keeps the input's"
        );
    }
}

#[test]
fn the_single_input_post_hook_gets_has_error_from_the_error_given() {
    let mut guest = single_input_guest(FreeMode::All);
    let with_error = HookInput::new()
        .with_context("{}")
        .with_error(fixture("bifrost_error.json"));
    let output = guest.call_hook(Hook::PostHook, &with_error).unwrap();
    let TypedOutput::Post(PostOutput {
        error, has_error, ..
    }) = output.typed()
    else {
        panic!("{:?}", output.typed());
    };
    assert_eq!(
        (error.clone(), *has_error),
        (Some(parsed("bifrost_error.json")), true)
    );

    let no_error = HookInput::new()
        .with_response(fixture("chat_response.json"))
        .with_error("{}");
    let output = guest.call_hook(Hook::PostHook, &no_error).unwrap();
    assert_eq!(
        (
            output.json()["error"].clone(),
            output.json()["has_error"].clone()
        ),
        (Value::Null, json!(false))
    );
}

#[test]
fn a_module_loaded_as_the_wrong_abi_is_refused_before_the_call() {
    let wasm = std::fs::read(wasm_path()).unwrap();
    let mut guest = Guest::load_with_abi(&wasm, Abi::SingleInput, FreeMode::All).unwrap();
    assert_eq!(guest.abi(), Some(Abi::SingleInput));
    assert_eq!(
        guest
            .call_hook(Hook::PreHook, &input())
            .unwrap_err()
            .to_string(),
        "`pre_hook` is func (i32, i32, i32, i32) -> i64, expected func (i32, i32) -> i64"
    );
    assert_eq!(
        guest.hook_export(Hook::HttpPreHook).unwrap(),
        "http_pre_hook",
        "the docs' name when neither exists"
    );
}
