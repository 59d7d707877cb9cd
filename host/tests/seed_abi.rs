//! The seed ABI, as the host sees it: the built hello-world `.wasm`, loaded
//! into a real WebAssembly runtime and called through its exports exactly as
//! abi-spec.md describes.

mod common;

use bifrost_plugin_host::{ExportType, FreeMode};
use common::*;
use serde_json::{json, Value};
use wasmi::ValType::{I32, I64};

#[test]
fn exports_exactly_the_seed_abi_and_imports_nothing() {
    let guest = guest(FreeMode::All);
    let func = |params: &[wasmi::ValType], results: &[wasmi::ValType]| {
        ExportType::Func(params.to_vec(), results.to_vec())
    };
    let expected = vec![
        ("cleanup".to_string(), func(&[], &[I32])),
        ("get_name".to_string(), func(&[], &[I64])),
        (
            "http_transport_intercept".to_string(),
            func(&[I32; 4], &[I64]),
        ),
        ("init".to_string(), func(&[I32; 2], &[I32])),
        ("memory".to_string(), ExportType::Memory),
        ("plugin_free".to_string(), func(&[I32], &[])),
        ("plugin_malloc".to_string(), func(&[I32], &[I32])),
        ("post_hook".to_string(), func(&[I32; 6], &[I64])),
        ("pre_hook".to_string(), func(&[I32; 4], &[I64])),
    ];
    let exports: Vec<_> = guest
        .exports()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("__")) // linker-provided globals
        .collect();
    assert_eq!(exports, expected);
    assert_eq!(guest.import_count(), 0);
}

#[test]
fn get_name_returns_the_tinygo_plugins_name_and_survives_a_free() {
    let mut guest = guest(FreeMode::All);
    assert_eq!(guest.name().unwrap(), "Hello World WASM Plugin");
    let packed = guest.call("get_name", &[]).unwrap();
    guest.free((packed >> 32) as u32).unwrap(); // a host that frees every output
    guest.free((packed >> 32) as u32).unwrap(); // ... twice
    assert_eq!(guest.name().unwrap(), "Hello World WASM Plugin");
}

#[test]
fn init_accepts_any_json_config_and_absent_config() {
    for config in [
        &b""[..],
        b"null",
        b"{}",
        b"{\"anything\":[1,2,{\"x\":null}]}",
        b"42",
        b"\"s\"",
    ] {
        let mut guest = guest(FreeMode::All);
        assert_eq!(
            guest.init(config).unwrap(),
            0,
            "{}",
            String::from_utf8_lossy(config)
        );
    }
}

#[test]
fn a_config_that_does_not_parse_fails_init_and_every_hook_says_why() {
    let mut guest = guest(FreeMode::All);
    assert_eq!(guest.init(b"{not json").unwrap(), 1);
    let out = guest
        .pre_hook(b"{}", &fixture("chat_request_flat.json"))
        .unwrap();
    let error = failed(&out, PRE_HOOK_KEYS);
    assert!(
        error.starts_with("plugin is not initialised: config is not valid"),
        "{error}"
    );
    // A later, valid init recovers.
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    let out = guest
        .pre_hook(b"{}", &fixture("chat_request_flat.json"))
        .unwrap();
    assert_eq!(output_object(&out, PRE_HOOK_KEYS)["error"], "");
}

#[test]
fn hooks_work_without_init_and_cleanup_returns_zero() {
    let mut guest = guest(FreeMode::All);
    let out = guest
        .pre_hook(b"{}", &fixture("chat_request_flat.json"))
        .unwrap();
    assert_eq!(output_object(&out, PRE_HOOK_KEYS)["error"], "");
    assert_eq!(guest.cleanup().unwrap(), 0);
    assert_eq!(guest.cleanup().unwrap(), 0, "a second cleanup is harmless");
    let out = guest
        .pre_hook(b"{}", &fixture("chat_request_flat.json"))
        .unwrap();
    assert!(failed(&out, PRE_HOOK_KEYS).contains("cleaned up"));
}

#[test]
fn http_transport_intercept_lets_the_request_through() {
    let mut guest = guest(FreeMode::All);
    guest.init(b"{}").unwrap();
    let out = guest
        .http_transport_intercept(&fixture("context.json"), &fixture("http_request.json"))
        .unwrap();
    assert_eq!(out, br#"{"response":null,"error":""}"#);
}

#[test]
fn pre_hook_echoes_the_request_byte_for_byte_in_every_shape() {
    let mut guest = guest(FreeMode::All);
    guest.init(b"{}").unwrap();
    for name in [
        "chat_request_flat.json",
        "chat_request_snake.json",
        "chat_request_union.json",
    ] {
        let request = fixture(name);
        let out = guest.pre_hook(&fixture("context.json"), &request).unwrap();
        let mut expected = b"{\"request\":".to_vec();
        expected.extend_from_slice(&request);
        expected.extend_from_slice(br#","short_circuit":null,"error":""}"#);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(expected).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn post_hook_echoes_response_and_error() {
    let mut guest = guest(FreeMode::All);
    guest.init(b"{}").unwrap();
    let ctx = fixture("context.json");
    let (response, error) = (fixture("chat_response.json"), fixture("bifrost_error.json"));
    let as_json = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).unwrap();

    let out = guest.post_hook(&ctx, &response, b"null").unwrap();
    let out = output_object(&out, POST_HOOK_KEYS);
    assert_eq!(out["response"], as_json(&response));
    assert_eq!(
        (out["bifrost_error"].clone(), out["error"].clone()),
        (Value::Null, json!(""))
    );

    let out = guest.post_hook(&ctx, b"null", &error).unwrap();
    let out = output_object(&out, POST_HOOK_KEYS);
    assert_eq!(out["response"], Value::Null);
    assert_eq!(out["bifrost_error"], as_json(&error));

    // No error may arrive as an empty buffer, `null` or `{}`.
    for no_error in [&b""[..], b"null", b"{}"] {
        let out = guest.post_hook(&ctx, &response, no_error).unwrap();
        assert_eq!(
            output_object(&out, POST_HOOK_KEYS)["bifrost_error"],
            Value::Null
        );
    }
    // Both at once pass through too.
    let out = guest.post_hook(&ctx, &response, &error).unwrap();
    let out = output_object(&out, POST_HOOK_KEYS);
    assert_eq!(
        (out["response"].clone(), out["bifrost_error"].clone()),
        (as_json(&response), as_json(&error))
    );
}

#[test]
fn context_may_be_empty_null_or_an_empty_object() {
    let mut guest = guest(FreeMode::All);
    for ctx in [&b""[..], b"null", b"{}"] {
        let out = guest
            .pre_hook(ctx, &fixture("chat_request_flat.json"))
            .unwrap();
        assert_eq!(output_object(&out, PRE_HOOK_KEYS)["error"], "", "{ctx:?}");
    }
}

/// Inputs no hook may trap on, each with a word the error must contain.
fn bad_requests() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        ("malformed JSON", b"{\"model\": ".to_vec(), "not valid JSON"),
        ("trailing garbage", b"{} x".to_vec(), "not valid JSON"),
        (
            "invalid UTF-8",
            b"{\"model\":\"\xff\xfe\"}".to_vec(),
            "not valid UTF-8",
        ),
        (
            "a JSON array",
            b"[1,2,3]".to_vec(),
            "must be a JSON object, got an array",
        ),
        (
            "a JSON string",
            b"\"hello\"".to_vec(),
            "must be a JSON object, got a string",
        ),
        (
            "JSON null",
            b"null".to_vec(),
            "must be a JSON object, got null",
        ),
        ("zero-length", Vec::new(), "is empty"),
        (
            "too deep",
            [
                b"{\"a\":".to_vec(),
                vec![b'['; 200],
                vec![b']'; 200],
                b"}".to_vec(),
            ]
            .concat(),
            "nested deeper",
        ),
    ]
}

#[test]
fn pre_hook_reports_bad_requests_in_error_and_keeps_the_request() {
    let mut guest = guest(FreeMode::All);
    guest.init(b"{}").unwrap();
    for (what, request, reason) in bad_requests() {
        let out = guest.pre_hook(b"{}", &request).unwrap();
        let error = failed(&out, PRE_HOOK_KEYS);
        assert!(error.contains(reason), "{what}: {error}");
        assert!(
            error.starts_with("request "),
            "{what}: names the buffer: {error}"
        );
    }
}

#[test]
fn http_transport_intercept_reports_bad_requests_and_bad_base64() {
    let mut guest = guest(FreeMode::All);
    guest.init(b"{}").unwrap();
    let mut cases = bad_requests();
    cases.push((
        "bad base64",
        br#"{"method":"POST","body":"@@not-base64@@"}"#.to_vec(),
        "base64",
    ));
    cases.push((
        "headers of the wrong type",
        br#"{"headers":["a"]}"#.to_vec(),
        "invalid type",
    ));
    for (what, request, reason) in cases {
        let out = guest.http_transport_intercept(b"{}", &request).unwrap();
        let error = failed(&out, INTERCEPT_KEYS);
        assert!(error.contains(reason), "{what}: {error}");
    }
}

#[test]
fn post_hook_reports_bad_responses_errors_and_contexts() {
    let mut guest = guest(FreeMode::All);
    guest.init(b"{}").unwrap();
    let response = fixture("chat_response.json");
    for (what, bad, reason) in bad_requests().into_iter().filter(|(w, ..)| {
        // Empty and null are valid here: "no response" / "no error".
        !matches!(*w, "zero-length" | "JSON null")
    }) {
        let out = guest.post_hook(b"{}", &bad, b"").unwrap();
        assert!(
            failed(&out, POST_HOOK_KEYS).contains(reason),
            "response {what}"
        );
        let out = guest.post_hook(b"{}", &response, &bad).unwrap();
        assert!(
            failed(&out, POST_HOOK_KEYS).contains(reason),
            "error {what}"
        );
        let out = guest.post_hook(&bad, &response, b"").unwrap();
        let error = failed(&out, POST_HOOK_KEYS);
        assert!(
            error.starts_with("context ") && error.contains(reason),
            "context {what}: {error}"
        );
    }
}

#[test]
fn pointers_outside_memory_or_null_are_errors_not_traps() {
    let mut guest = guest(FreeMode::All);
    guest.init(b"{}").unwrap();
    let memory = guest.memory_size() as i32;
    let request = fixture("chat_request_flat.json");
    let req_ptr = guest.malloc(request.len() as u32).unwrap() as i32;
    guest.write(req_ptr as u32, &request).unwrap();
    let cases: [(&str, [i32; 4], &str); 4] = [
        (
            "null request pointer",
            [0, 0, 0, 10],
            "request pointer is null",
        ),
        (
            "request past the end",
            [0, 0, memory - 4, 10],
            "outside the plugin's",
        ),
        ("huge length", [0, 0, req_ptr, -1], "outside the plugin's"),
        (
            "context past the end",
            [memory, 1, req_ptr, request.len() as i32],
            "context buffer",
        ),
    ];
    for (what, args, reason) in cases {
        let packed = guest.call("pre_hook", &args).unwrap();
        let out = guest.read_packed("pre_hook", packed).unwrap();
        let error = failed(&out, PRE_HOOK_KEYS);
        assert!(error.contains(reason), "{what}: {error}");
    }
}

#[test]
fn plugin_malloc_and_plugin_free_are_defined_for_every_argument() {
    let mut guest = guest(FreeMode::All);
    let zero = guest.malloc(0).unwrap();
    assert_ne!(zero, 0, "malloc(0) returns a valid place to write nothing");
    guest.free(zero).unwrap();
    assert_eq!(
        guest.malloc(u32::MAX).unwrap(),
        0,
        "an impossible allocation returns 0"
    );
    assert_eq!(guest.malloc(0xFFFF_0000).unwrap(), 0);
    let ptr = guest.malloc(64).unwrap();
    for bogus in [0, 1, ptr + 1, ptr, ptr, 0xFFFF_FFF0] {
        guest.free(bogus).unwrap(); // unknown, interior, double and out-of-range frees
    }
    // The plugin still works afterwards, and hands out usable memory.
    let out = guest
        .pre_hook(b"{}", &fixture("chat_request_flat.json"))
        .unwrap();
    assert_eq!(output_object(&out, PRE_HOOK_KEYS)["error"], "");
}

#[test]
fn a_zero_sized_buffer_from_plugin_malloc_reads_as_empty() {
    let mut guest = guest(FreeMode::All);
    let empty = guest.malloc(0).unwrap() as i32;
    let packed = guest.call("pre_hook", &[empty, 0, empty, 0]).unwrap();
    let out = guest.read_packed("pre_hook", packed).unwrap();
    assert_eq!(failed(&out, PRE_HOOK_KEYS), "request is empty");
}

#[test]
fn an_output_stays_readable_through_the_next_call_when_the_host_frees_nothing() {
    let mut guest = guest(FreeMode::Nothing);
    let request = fixture("chat_request_flat.json");
    let ctx_ptr = guest.malloc(2).unwrap();
    guest.write(ctx_ptr, b"{}").unwrap();
    let req_ptr = guest.malloc(request.len() as u32).unwrap();
    guest.write(req_ptr, &request).unwrap();
    let args = [ctx_ptr as i32, 2, req_ptr as i32, request.len() as i32];
    let first = guest.call("pre_hook", &args).unwrap();
    let first_output = guest.read_packed("pre_hook", first).unwrap();
    // The next call reuses the same input buffers, still valid during it.
    let second = guest.call("pre_hook", &args).unwrap();
    assert_eq!(guest.read_packed("pre_hook", first).unwrap(), first_output);
    assert_eq!(guest.read_packed("pre_hook", second).unwrap(), first_output);
}
