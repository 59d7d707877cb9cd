//! The single-input ABI (Bifrost's public examples and current docs), as the
//! host sees it: the same hello-world source built with the
//! `single-input-abi` feature, loaded into a real runtime and called through
//! its exports.

mod common;

use bifrost_plugin_host::{Abi, ExportType, FreeMode, Guest, HookOutput};
use common::*;
use serde_json::{json, Value};
use wasmi::ValType::{I32, I64};

fn ready(free_mode: FreeMode) -> Guest {
    let mut guest = single_input_guest(free_mode);
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    guest
}

fn call(guest: &mut Guest, export: &str, input: &[u8]) -> Vec<u8> {
    guest.hook(export, &[input]).unwrap()
}

#[test]
fn exports_the_union_of_both_single_input_generations() {
    let guest = single_input_guest(FreeMode::All);
    let func = |params: &[wasmi::ValType], results: &[wasmi::ValType]| {
        ExportType::Func(params.to_vec(), results.to_vec())
    };
    let hook = || func(&[I32; 2], &[I64]);
    let expected = vec![
        ("cleanup".to_string(), func(&[], &[I32])),
        ("free".to_string(), func(&[I32; 2], &[])),
        ("get_name".to_string(), func(&[], &[I64])),
        ("http_intercept".to_string(), hook()),
        ("http_post_hook".to_string(), hook()),
        ("http_pre_hook".to_string(), hook()),
        ("http_stream_chunk_hook".to_string(), hook()),
        ("init".to_string(), func(&[I32; 2], &[I32])),
        ("malloc".to_string(), func(&[I32], &[I32])),
        ("memory".to_string(), ExportType::Memory),
        ("plugin_free".to_string(), func(&[I32], &[])),
        ("plugin_malloc".to_string(), func(&[I32], &[I32])),
        ("post_hook".to_string(), hook()),
        ("pre_hook".to_string(), hook()),
    ];
    let exports: Vec<_> = guest
        .exports()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("__"))
        .collect();
    assert_eq!(exports, expected);
    assert_eq!(guest.import_count(), 0);
}

#[test]
fn name_init_and_cleanup_behave_as_in_the_seed_abi() {
    let mut guest = single_input_guest(FreeMode::All);
    assert_eq!(guest.name().unwrap(), "Hello World WASM Plugin");
    assert_eq!(guest.init(b"").unwrap(), 0);
    assert_eq!(guest.init(b"{oops").unwrap(), 1);
    let out = call(&mut guest, "pre_hook", &object(&[("request", b"{}")]));
    let out = output_object(&out, SINGLE_PRE_KEYS);
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("config is not valid"),
        "{out:?}"
    );
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    assert_eq!(guest.cleanup().unwrap(), 0);
}

#[test]
fn http_pre_hook_and_http_intercept_mark_the_context_and_echo_the_request() {
    let mut guest = ready(FreeMode::All);
    let input = object(&[
        ("context", &fixture("context.json")),
        ("request", &fixture("http_request.json")),
    ]);
    for export in ["http_pre_hook", "http_intercept"] {
        let out = output_object(&call(&mut guest, export, &input), HTTP_PRE_KEYS);
        let mut ctx: Value = serde_json::from_slice(&fixture("context.json")).unwrap();
        ctx["from-http"] = json!("123");
        assert_eq!(
            out["context"], ctx,
            "{export}: input context plus the plugin's key"
        );
        let request: Value = serde_json::from_slice(&fixture("http_request.json")).unwrap();
        assert_eq!(out["request"], request, "{export}");
        assert_eq!(
            (out["response"].clone(), out["has_response"].clone()),
            (Value::Null, json!(false))
        );
        assert_eq!(out["error"], "");
    }
}

#[test]
fn pre_hook_marks_the_context_and_echoes_every_request_shape_byte_for_byte() {
    let mut guest = ready(FreeMode::All);
    for name in [
        "chat_request_flat.json",
        "chat_request_snake.json",
        "chat_request_union.json",
    ] {
        let request = fixture(name);
        let input = object(&[("context", &fixture("context.json")), ("request", &request)]);
        let raw = call(&mut guest, "pre_hook", &input);
        let verbatim = [
            b"\"request\":".as_slice(),
            &request,
            b",\"short_circuit\":null",
        ]
        .concat();
        assert!(
            contains(&raw, &verbatim),
            "{name}: {}",
            String::from_utf8_lossy(&raw)
        );
        let out = output_object(&raw, SINGLE_PRE_KEYS);
        assert_eq!(out["context"]["from-pre-hook"], "789");
        assert_eq!(
            out["context"]["request_id"], "req-7f3a",
            "unknown keys kept"
        );
        assert_eq!(
            (out["has_short_circuit"].clone(), out["error"].clone()),
            (json!(false), json!(""))
        );
    }
}

#[test]
fn post_hook_echoes_response_and_error_with_a_truthful_has_error() {
    let mut guest = ready(FreeMode::All);
    let (ctx, response, error) = (
        fixture("context.json"),
        fixture("chat_response.json"),
        fixture("bifrost_error.json"),
    );
    let parsed = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).unwrap();

    let input = object(&[
        ("context", &ctx),
        ("response", &response),
        ("error", b"{}"),
        ("has_error", b"false"),
    ]);
    let out = output_object(&call(&mut guest, "post_hook", &input), SINGLE_POST_KEYS);
    assert_eq!(out["response"], parsed(&response));
    assert_eq!(
        (out["error"].clone(), out["has_error"].clone()),
        (Value::Null, json!(false))
    );
    assert_eq!(
        (
            out["context"]["from-post-hook"].clone(),
            out["hook_error"].clone()
        ),
        (json!("456"), json!(""))
    );

    // TinyGo hard-codes has_error: false; the SDK reports the error it passes on.
    let input = object(&[
        ("context", &ctx),
        ("response", b"null"),
        ("error", &error),
        ("has_error", b"true"),
    ]);
    let out = output_object(&call(&mut guest, "post_hook", &input), SINGLE_POST_KEYS);
    assert_eq!(
        (out["error"].clone(), out["has_error"].clone()),
        (parsed(&error), json!(true))
    );
    assert_eq!(out["response"], Value::Null);
}

#[test]
fn http_post_hook_returns_the_context_with_what_the_plugin_set() {
    let mut guest = ready(FreeMode::All);
    let input = object(&[
        ("context", &fixture("context.json")),
        ("request", &fixture("http_request.json")),
        ("response", &fixture("http_response.json")),
    ]);
    let out = call(&mut guest, "http_post_hook", &input);
    // The host's keys (sorted, values as sent) and the one the hook set.
    assert_eq!(
        String::from_utf8_lossy(&out),
        r#"{"context":{"attempt":1,"from-http-post":"wasm-plugin","request_id":"req-7f3a","tags":{"env":"prod"},"virtual_key":"vk-team-a"},"error":""}"#
    );
}

/// The guide/abi-spec 1.4: context values and the unmodelled fields of an HTTP
/// request go back as the host's exact text, not re-printed.
#[test]
fn context_values_and_unmodelled_fields_go_back_as_the_hosts_text() {
    let mut guest = ready(FreeMode::All);
    let context = br#"{ "n" : 1.50, "e":"\u00e9\/", "o":{ "a" : [1, 2e0] } }"#;
    let request = br#"{"method":"GET","path":"/","path_params":{ "id" : "\u0041" },"x":1.0E+2}"#;
    let input = object(&[("context", context), ("request", request)]);
    let out = call(&mut guest, "http_pre_hook", &input);
    assert_eq!(
        String::from_utf8_lossy(&out),
        concat!(
            r#"{"context":{"e":"\u00e9\/","from-http":"123","n":1.50,"o":{ "a" : [1, 2e0] }},"#,
            r#""request":{"method":"GET","path":"/","headers":{},"query":{},"body":"","#,
            r#""path_params":{ "id" : "\u0041" },"x":1.0E+2},"#,
            r#""response":null,"has_response":false,"error":""}"#
        )
    );
}

#[test]
fn http_stream_chunk_hook_echoes_the_chunk_byte_for_byte() {
    let mut guest = ready(FreeMode::All);
    let chunk = fixture("chat_chunk.json");
    let input = object(&[
        ("context", b"{}"),
        ("request", &fixture("http_request.json")),
        ("chunk", &chunk),
    ]);
    let raw = call(&mut guest, "http_stream_chunk_hook", &input);
    assert!(contains(
        &raw,
        &[b"\"chunk\":".as_slice(), &chunk, b",\"has_chunk\":true"].concat()
    ));
    let out = output_object(&raw, CHUNK_KEYS);
    assert_eq!(out["context"], json!({"from-stream-chunk": "wasm-plugin"}));
    assert_eq!(
        (out["skip"].clone(), out["error"].clone()),
        (json!(false), json!(""))
    );
}

#[test]
fn bad_input_is_reported_and_echoed_never_trapped() {
    let mut guest = ready(FreeMode::All);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "input is empty"),
        (
            "malformed",
            b"{\"context\":".to_vec(),
            "input is not valid JSON",
        ),
        (
            "invalid UTF-8",
            b"{\"context\":{\"a\":\"\xff\"}}".to_vec(),
            "context is not valid UTF-8: invalid byte at 6",
        ),
        (
            "an array",
            b"[]".to_vec(),
            "input must be a JSON object, got an array",
        ),
        (
            "context of the wrong type",
            b"{\"context\":[1],\"request\":{}}".to_vec(),
            "context must be a JSON object",
        ),
    ];
    for &(export, _, keys, error_key) in SINGLE_INPUT_HOOKS {
        for (what, input, reason) in &cases {
            let out = output_object(&call(&mut guest, export, input), keys);
            let error = out[error_key].as_str().unwrap();
            assert!(error.contains(reason), "{export} {what}: {error}");
            assert!(
                out["context"].is_object(),
                "{export} {what}: context is always an object"
            );
        }
    }
    // A request the hook cannot use is echoed back with the reason.
    let input = object(&[("context", b"{\"k\":1}"), ("request", b"{\"body\":\"@@\"}")]);
    let out = output_object(&call(&mut guest, "http_pre_hook", &input), HTTP_PRE_KEYS);
    assert!(out["error"].as_str().unwrap().contains("base64"));
    assert_eq!(
        (out["request"].clone(), out["context"].clone()),
        (json!({"body": "@@"}), json!({"k": 1}))
    );
    // What the SDK would not accept is not sent back either: null, not `[1]`.
    let input = object(&[("context", b"{}"), ("request", b"[1]")]);
    let out = output_object(&call(&mut guest, "pre_hook", &input), SINGLE_PRE_KEYS);
    assert_eq!(out["request"], Value::Null);
    assert!(out["error"]
        .as_str()
        .unwrap()
        .contains("request must be a JSON object"));
}

#[test]
fn free_with_any_size_frees_by_pointer_and_ignores_strangers() {
    let mut guest = ready(FreeMode::Nothing);
    let input = object(&[("request", &fixture("chat_request_flat.json"))]);
    let mut sizes = Vec::new();
    for i in 0..5_000 {
        let ptr = guest.malloc(input.len() as u32).unwrap();
        guest.write(ptr, &input).unwrap();
        let packed = guest
            .call("pre_hook", &[ptr as i32, input.len() as i32])
            .unwrap();
        let out = guest.read_packed("pre_hook", packed).unwrap();
        assert_eq!(output_object(&out, SINGLE_PRE_KEYS)["error"], "");
        // The docs' two-argument free, with wrong sizes, twice, and on strangers.
        guest.call("free", &[ptr as i32, 1]).unwrap();
        guest.call("free", &[(packed >> 32) as i32, 0]).unwrap();
        guest.call("free", &[(packed >> 32) as i32, -1]).unwrap();
        guest.call("free", &[ptr as i32 + 3, 7]).unwrap();
        if i % 500 == 0 {
            sizes.push(guest.memory_size());
        }
    }
    assert!(
        sizes.windows(2).skip(1).all(|w| w[0] == w[1]),
        "memory grew: {sizes:?}"
    );
}

/// Pointer and length pairs a well-behaved host never sends, for every hook
/// export: each call returns a failure output of the hook's shape saying
/// why, with nothing echoed (nothing could be read), never a trap.
#[test]
fn null_out_of_bounds_and_zero_length_inputs_are_errors_not_traps() {
    let mut guest = ready(FreeMode::All);
    let input = object(&[("request", &fixture("chat_request_flat.json"))]);
    let valid = put(&mut guest, &input);
    let empty = guest.malloc(0).unwrap();
    for &(export, hook, keys, error_key) in SINGLE_INPUT_HOOKS {
        let memory = guest.memory_size() as u32;
        let cases = [
            ("null pointer", 0, 10, "input pointer is null"),
            (
                "null pointer, huge length",
                0,
                u32::MAX,
                "input pointer is null",
            ),
            (
                "past the end of memory",
                memory - 4,
                10,
                "outside the plugin's",
            ),
            ("at the end of memory", memory, 1, "outside the plugin's"),
            ("huge length", valid.0, u32::MAX, "outside the plugin's"),
            (
                "wrapping past 4 GiB",
                u32::MAX - 3,
                8,
                "outside the plugin's",
            ),
            ("zero length, null pointer", 0, 0, "input is empty"),
            ("zero length, valid pointer", valid.0, 0, "input is empty"),
            ("zero length, malloc(0)", empty, 0, "input is empty"),
            (
                "zero length, pointer outside memory",
                0xFFFF_FFF0,
                0,
                "input is empty",
            ),
        ];
        for (what, ptr, len, reason) in cases {
            let packed = guest.call(export, &[ptr as i32, len as i32]).unwrap();
            assert_ne!(packed, 0, "{export}, {what}: no output");
            let raw = guest.read_packed(export, packed).unwrap();
            // The host's own decoding of the hook's output...
            let output = HookOutput::parse(Abi::SingleInput, hook, export, raw.clone())
                .unwrap_or_else(|e| panic!("{export}, {what}: {e}"));
            let error = output.plugin_error().unwrap_or_default();
            assert!(error.contains(reason), "{export}, {what}: {error:?}");
            // ... and the exact shape: the reason is in `error_key`, the
            // context is `{}`, every other field null or false.
            let out = output_object(&raw, keys);
            assert_eq!(out[error_key], error, "{export}, {what}");
            assert_eq!(out["context"], json!({}), "{export}, {what}");
            for (key, value) in out
                .iter()
                .filter(|(k, _)| !["context", error_key].contains(&k.as_str()))
            {
                assert!(
                    value.is_null() || *value == json!(false),
                    "{export}, {what}: `{key}` is {value}"
                );
            }
        }
    }
    // The plugin is unharmed.
    let out = call(&mut guest, "pre_hook", &input);
    assert_eq!(output_object(&out, SINGLE_PRE_KEYS)["error"], "");
}

/// `malloc`/`plugin_malloc` and `free`/`plugin_free`, with the arguments a
/// careless host may pass: none traps, none disturbs a live buffer.
#[test]
fn the_allocator_exports_are_defined_for_every_argument() {
    let mut guest = ready(FreeMode::All);
    for malloc in ["malloc", "plugin_malloc"] {
        let zero = guest.call(malloc, &[0]).unwrap() as u32;
        assert_ne!(
            zero, 0,
            "{malloc}(0) returns a valid place to write nothing"
        );
        assert!(
            (zero as usize) < guest.memory_size(),
            "{malloc}(0) is in memory"
        );
        for impossible in [0xFFFF_FFF0u32, u32::MAX, 0x8000_0001] {
            assert_eq!(
                guest.call(malloc, &[impossible as i32]).unwrap(),
                0,
                "{malloc}({impossible:#x}) is impossible and returns 0"
            );
        }
        // Freeing the zero-sized buffer, with either export, is harmless.
        guest.call("free", &[zero as i32, 0]).unwrap();
        guest.call("plugin_free", &[zero as i32]).unwrap();
    }

    // A live input: nothing below may free or overwrite it.
    let input = object(&[("request", &fixture("chat_request_flat.json"))]);
    let live = put(&mut guest, &input);
    let size = 64;
    let buffer = guest.call("malloc", &[size]).unwrap() as u32;
    assert!(buffer != 0 && !overlaps((buffer, size as u32), live));
    let frees: [(&str, &[i32]); 12] = [
        // The wrong size, then a double free, through both exports.
        ("free", &[buffer as i32, 1]),
        ("free", &[buffer as i32, size]),
        ("free", &[buffer as i32, -1]),
        ("plugin_free", &[buffer as i32]),
        // Pointers the plugin never gave out.
        ("free", &[0, 0]),
        ("free", &[1, 8]),
        ("free", &[live.0 as i32 + 1, 4]),
        ("plugin_free", &[live.0 as i32 + 8]),
        ("free", &[0xFFFF_FFF0u32 as i32, 16]),
        ("plugin_free", &[-1]),
        ("free", &[guest.memory_size() as i32, 1]),
        ("plugin_free", &[0]),
    ];
    for free in ["free", "plugin_free"] {
        assert!(returns_nothing(&guest, free), "{free} returns nothing");
    }
    for (free, args) in frees {
        guest.call(free, args).unwrap(); // no trap
    }
    assert_eq!(guest.read(live.0, live.1).unwrap(), input, "the live input");
    for malloc in ["malloc", "plugin_malloc"] {
        let fresh = (guest.call(malloc, &[live.1 as i32]).unwrap() as u32, live.1);
        assert!(
            fresh.0 != 0 && !overlaps(fresh, live),
            "{malloc} reuses a live buffer"
        );
        guest.write(fresh.0, &vec![0xA5; fresh.1 as usize]).unwrap();
    }
    let packed = guest
        .call("pre_hook", &[live.0 as i32, live.1 as i32])
        .unwrap();
    let out = guest.read_packed("pre_hook", packed).unwrap();
    assert!(contains(&out, &fixture("chat_request_flat.json")));
    assert_eq!(output_object(&out, SINGLE_PRE_KEYS)["error"], "");
}

/// abi-spec 4.2 on this ABI: the output of call N stays valid through call
/// N + 1 (here it *is* call N + 1's input, read in place), a host that frees
/// call N's buffers only after call N + 1 has ended frees nothing live, and
/// a host that frees nothing else still runs in flat memory: the plugin
/// reclaims each buffer at the end of the second call after its own.
#[test]
fn an_output_stays_valid_through_the_next_call_and_is_reclaimed_after_it() {
    let mut guest = ready(FreeMode::Nothing);
    let input = object(&[
        ("context", b"{\"k\":1}"),
        ("request", &fixture("chat_request_flat.json")),
    ]);
    let expected = object(&[
        ("context", br#"{"from-pre-hook":"789","k":1}"#),
        ("request", &fixture("chat_request_flat.json")),
        ("short_circuit", b"null"),
        ("has_short_circuit", b"false"),
        ("error", br#""""#),
    ]);
    let mut sizes = Vec::new();
    let mut reused = 0;
    for i in 0..3_000 {
        // Call N, whose buffers the host keeps.
        let in_n = put(&mut guest, &input);
        let out_n = unpack(guest.call("pre_hook", &args(&[in_n])).unwrap());
        assert_eq!(guest.read(out_n.0, out_n.1).unwrap(), expected, "call {i}");
        // Still live: no allocation may overlap call N's buffers.
        let probe = (guest.malloc(out_n.1).unwrap(), out_n.1);
        assert!(
            !overlaps(probe, in_n) && !overlaps(probe, out_n),
            "call {i}: a buffer of call N handed out again"
        );
        guest.free(probe.0).unwrap();

        // Call N + 1 takes output N as its input: an envelope with the
        // context and the request, so it must give the same output.
        let out_n1 = unpack(guest.call("pre_hook", &args(&[out_n])).unwrap());
        assert_eq!(
            guest.read(out_n1.0, out_n1.1).unwrap(),
            expected,
            "call {i} + 1"
        );
        // Reclaimed now, before the host frees anything: the allocator may
        // hand call N's memory out again.
        let probe = (guest.malloc(out_n.1).unwrap(), out_n.1);
        reused += (overlaps(probe, in_n) || overlaps(probe, out_n)) as usize;
        guest.free(probe.0).unwrap();

        // Only now does the host free call N's buffers, with both exports.
        guest.call("free", &[in_n.0 as i32, in_n.1 as i32]).unwrap();
        guest.call("plugin_free", &[out_n.0 as i32]).unwrap();
        // Freed or reclaimed, call N's are gone; call N + 1's output is not.
        assert_eq!(guest.read(out_n1.0, out_n1.1).unwrap(), expected);
        if i % 300 == 0 {
            sizes.push(guest.memory_size());
        }
    }
    assert!(
        sizes.windows(2).skip(1).all(|w| w[0] == w[1]),
        "memory grew: {sizes:?}"
    );
    assert!(reused > 0, "call N's memory was never handed out again");
}

/// abi-spec 3.3, envelope-level failures through the runtime: an envelope
/// that is not an object echoes nothing; one that is (a key given twice, a
/// `has_error` that is not a boolean) echoes every value given once.
#[test]
fn envelope_failures_echo_what_can_be_echoed() {
    let mut guest = ready(FreeMode::All);
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "pre_hook",
            b"hello",
            r#"{"context":{},"request":null,"short_circuit":null,"has_short_circuit":false,"error":"input is not valid JSON: expected a value at byte 0"}"#,
        ),
        (
            "pre_hook",
            br#"{"context":{"k":1},"request":{"model":"a"},"request":{"model":"b"}}"#,
            r#"{"context":{"k":1},"request":null,"short_circuit":null,"has_short_circuit":false,"error":"input is not valid JSON: duplicate field `request`"}"#,
        ),
        (
            "http_pre_hook",
            br#"{"context":{"k":1},"context":{"k":2},"request":{"method":"GET"}}"#,
            r#"{"context":{},"request":{"method":"GET"},"response":null,"has_response":false,"error":"input is not valid JSON: duplicate field `context`"}"#,
        ),
        (
            "post_hook",
            br#"{"context":{"k":1},"response":{"id":"r"},"error":{"error":{"message":"down"}},"has_error":"yes"}"#,
            r#"{"context":{"k":1},"response":{"id":"r"},"error":{"error":{"message":"down"}},"has_error":true,"hook_error":"input field `has_error` must be a boolean"}"#,
        ),
    ];
    for (export, input, expected) in cases {
        let out = call(&mut guest, export, input);
        assert_eq!(String::from_utf8_lossy(&out), expected, "{export}");
    }
}
