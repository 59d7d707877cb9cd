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

/// A buffer cut short: an LLM request or response is refused before it is
/// parsed ("not a complete JSON object"), any other buffer when it is
/// ("not valid JSON"); abi-spec.md lists both messages.
const TRUNCATED: &[u8] = b"{\"model\": ";

/// Inputs no hook may trap on, each with a word the error must contain.
fn bad_requests() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        (
            "malformed JSON",
            b"{\"model\": }".to_vec(),
            "not valid JSON",
        ),
        ("trailing data", b"{} {}".to_vec(), "not valid JSON"),
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
    let mut cases = bad_requests();
    cases.push((
        "truncated",
        TRUNCATED.to_vec(),
        "is not a complete JSON object",
    ));
    for (what, request, reason) in cases {
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
    cases.push(("truncated", TRUNCATED.to_vec(), "is not valid JSON"));
    cases.push((
        "headers of the wrong type",
        br#"{"headers":["a"]}"#.to_vec(),
        "`headers` is an array, expected an object",
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
    let truncated = [
        ("response", guest.post_hook(b"{}", TRUNCATED, b"").unwrap()),
        (
            "error",
            guest.post_hook(b"{}", &response, TRUNCATED).unwrap(),
        ),
        (
            "context",
            guest.post_hook(TRUNCATED, &response, b"").unwrap(),
        ),
    ];
    for (what, out) in truncated {
        let error = failed(&out, POST_HOOK_KEYS);
        // The LLM response and error get an O(1) look before the hook (and
        // a full check when used); the context is checked in full first.
        let reason = match what {
            "context" => "context is not valid JSON".to_string(),
            _ => format!("{what} is not a complete JSON object"),
        };
        assert!(error.contains(&reason), "truncated {what}: {error}");
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
fn memory_the_plugin_did_not_hand_out_is_copied_up_to_4_mib_and_refused_beyond() {
    let mut guest = guest(FreeMode::All);
    guest.init(b"{}").unwrap();
    // A region that was a buffer once: written while it was the host's, then
    // freed. (Past its start, which the allocator reuses first; a host must
    // not write into memory it freed, which holds the allocator's records.)
    let region = guest.malloc(6 << 20).unwrap();
    assert_ne!(region, 0);
    let big = region + (64 << 10);
    let request = fixture("chat_request_flat.json");
    guest.write(big, &request).unwrap();
    guest.free(region).unwrap();

    // A small stray range is copied before use and works.
    let small = [0, 0, big as i32, request.len() as i32];
    let packed = guest.call("pre_hook", &small).unwrap();
    let out = guest.read_packed("pre_hook", packed).unwrap();
    assert_eq!(output_object(&out, PRE_HOOK_KEYS)["error"], "");

    // A large one would be copied call after call, each copy growing memory.
    let memory = guest.memory_size();
    let large = [0, 0, big as i32, (4 << 20) + 1];
    for _ in 0..3 {
        let packed = guest.call("pre_hook", &large).unwrap();
        let out = guest.read_packed("pre_hook", packed).unwrap();
        let error = failed(&out, PRE_HOOK_KEYS);
        assert!(
            error.contains("was not allocated by plugin_malloc")
                && error.contains("too large to copy (limit 4194304)"),
            "{error}"
        );
    }
    assert_eq!(guest.memory_size(), memory, "refused without copying");
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

/// abi-spec 4.4: freeing may overwrite a buffer's contents at once (the
/// allocator's records live in free memory), so a host must read before it
/// frees.
#[test]
fn freeing_a_buffer_may_overwrite_its_contents() {
    let mut guest = guest(FreeMode::All);
    let written = vec![b'x'; 109];
    let (ptr, len) = put(&mut guest, &written);
    assert_eq!(guest.read(ptr, len).unwrap(), written, "live: as written");
    guest.free(ptr).unwrap();
    assert_ne!(guest.read(ptr, len).unwrap(), written, "freed: overwritten");
}

#[test]
fn a_zero_sized_buffer_from_plugin_malloc_reads_as_empty() {
    let mut guest = guest(FreeMode::All);
    let empty = guest.malloc(0).unwrap() as i32;
    let packed = guest.call("pre_hook", &[empty, 0, empty, 0]).unwrap();
    let out = guest.read_packed("pre_hook", packed).unwrap();
    assert_eq!(failed(&out, PRE_HOOK_KEYS), "request is empty");
}

/// The seed `post_hook` output of the hello-world plugin, which passes the
/// response and the error on verbatim.
fn post_hook_echo(response: &[u8], error: &[u8]) -> Vec<u8> {
    let text = |bytes: &[u8]| {
        if bytes.is_empty() {
            b"null".to_vec()
        } else {
            bytes.to_vec()
        }
    };
    [
        &br#"{"response":"#[..],
        &text(response),
        br#","bifrost_error":"#,
        &text(error),
        br#","error":""}"#,
    ]
    .concat()
}

/// The rule of sdk/src/memory.rs seen from the host: the output of call N,
/// and the inputs written before call N, stay valid and unchanged while the
/// host prepares call N + 1 (its `plugin_malloc`s belong to generation
/// N + 1) and during call N + 1, even if the host never frees them.
#[test]
fn an_output_and_its_inputs_stay_intact_while_the_host_prepares_and_makes_the_next_call() {
    let mut guest = guest(FreeMode::Nothing);
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    let ctx = fixture("context.json");
    let request = fixture("chat_request_flat.json");

    // Call N.
    let ctx_n = put(&mut guest, &ctx);
    let req_n = put(&mut guest, &request);
    let packed = guest.call("pre_hook", &args(&[ctx_n, req_n])).unwrap();
    let out_n = unpack(packed);
    let output_n = guest.read_packed("pre_hook", packed).unwrap();
    assert_eq!(output_object(&output_n, PRE_HOOK_KEYS)["error"], "");

    // The host writes call N + 1's inputs, in buffers of every size class,
    // including exactly the sizes of call N's buffers (what an allocator
    // hands back first once they are released).
    let live = [
        ("output N", out_n),
        ("context N", ctx_n),
        ("request N", req_n),
    ];
    let mut generation_n1 = Vec::new();
    for size in [out_n.1, req_n.1, ctx_n.1, 1, 16, 256, 4096, 65_536] {
        let filler = vec![0xA5; size as usize];
        let buffer = put(&mut guest, &filler);
        for (what, old) in live {
            assert!(
                !overlaps(buffer, old),
                "a {size}-byte plugin_malloc after call N overlaps {what}"
            );
        }
        generation_n1.push((buffer, filler));
    }
    let ctx_n1 = br#"{"call":"N+1"}"#.to_vec();
    let ctx_n1_buffer = put(&mut guest, &ctx_n1);
    generation_n1.push((ctx_n1_buffer, ctx_n1));
    assert_eq!(guest.read(out_n.0, out_n.1).unwrap(), output_n, "output N");
    assert_eq!(guest.read(ctx_n.0, ctx_n.1).unwrap(), ctx, "context N");
    assert_eq!(guest.read(req_n.0, req_n.1).unwrap(), request, "request N");

    // Call N + 1 takes output N as its response and request N as its error:
    // the plugin passes both on verbatim, so it read them intact during the
    // call, after allocating for its own output.
    let packed = guest
        .call("post_hook", &args(&[ctx_n1_buffer, out_n, req_n]))
        .unwrap();
    let out_n1 = unpack(packed);
    let output_n1 = guest.read_packed("post_hook", packed).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output_n1),
        String::from_utf8_lossy(&post_hook_echo(&output_n, &request)),
        "call N + 1 saw output N and request N unchanged"
    );

    // Generation N + 1 is now where call N was: its inputs and output stay
    // valid through call N + 2, and the output did not land on them.
    for (buffer, bytes) in &generation_n1 {
        assert!(!overlaps(out_n1, *buffer), "output N + 1 overlaps an input");
        assert_eq!(&guest.read(buffer.0, buffer.1).unwrap(), bytes);
    }
    let packed = guest
        .call("pre_hook", &args(&[ctx_n1_buffer, out_n1]))
        .unwrap();
    let mut expected = b"{\"request\":".to_vec();
    expected.extend_from_slice(&output_n1);
    expected.extend_from_slice(br#","short_circuit":null,"error":""}"#);
    assert_eq!(
        String::from_utf8_lossy(&guest.read_packed("pre_hook", packed).unwrap()),
        String::from_utf8_lossy(&expected),
        "call N + 2 saw output N + 1 unchanged"
    );
}

/// A host that frees late, once the next call has ended: by then the plugin
/// has reclaimed the buffers, and each `plugin_free` of them is ignored
/// (returns nothing, frees nothing live, traps not), and memory stays flat.
#[test]
fn freeing_an_output_after_the_next_call_has_ended_is_harmless_and_memory_stays_bounded() {
    let mut guest = guest(FreeMode::Nothing);
    assert!(
        returns_nothing(&guest, "plugin_free"),
        "plugin_free returns nothing"
    );
    assert!(
        !returns_nothing(&guest, "plugin_malloc"),
        "the check can fail"
    );
    let ctx = fixture("context.json");
    let request = fixture("chat_request_flat.json");
    let mut expected_pre = b"{\"request\":".to_vec();
    expected_pre.extend_from_slice(&request);
    expected_pre.extend_from_slice(br#","short_circuit":null,"error":""}"#);
    let mut sizes = Vec::new();
    for i in 0..3_000 {
        // Call N, whose buffers the host keeps.
        let ctx_n = put(&mut guest, &ctx);
        let req_n = put(&mut guest, &request);
        let packed = guest.call("pre_hook", &args(&[ctx_n, req_n])).unwrap();
        let out_n = unpack(packed);
        let output_n = guest.read_packed("pre_hook", packed).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output_n),
            String::from_utf8_lossy(&expected_pre)
        );

        // Call N + 1 reads output N.
        let ctx_n1 = put(&mut guest, &ctx);
        let packed = guest
            .call("post_hook", &args(&[ctx_n1, out_n, (0, 0)]))
            .unwrap();
        let out_n1 = unpack(packed);
        let output_n1 = guest.read_packed("post_hook", packed).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output_n1),
            String::from_utf8_lossy(&post_hook_echo(&expected_pre, b"")),
            "call {i}"
        );

        // Only now does the host free call N's buffers, the output twice.
        for ptr in [out_n.0, out_n.0, ctx_n.0, req_n.0] {
            guest.call("plugin_free", &[ptr as i32]).unwrap(); // no trap
        }
        // Nothing live was freed: call N + 1's buffers are intact.
        assert_eq!(guest.read(out_n1.0, out_n1.1).unwrap(), output_n1);
        assert_eq!(guest.read(ctx_n1.0, ctx_n1.1).unwrap(), ctx);
        if i % 300 == 0 {
            sizes.push(guest.memory_size());
        }
    }
    assert!(
        sizes.windows(2).skip(1).all(|w| w[0] == w[1]),
        "memory grew: {sizes:?}"
    );
}
