//! Memory stays bounded over 100k hook calls whichever way the host frees
//! buffers, for both ABIs: the guest's linear memory must not grow after
//! warm-up.

mod common;

use bifrost_plugin_host::{FreeMode, Guest};
use common::*;
use serde_json::json;

const CALLS: usize = 100_000;
const WARM_UP: usize = 3_000;

/// Realistic inputs for every hook.
struct Inputs {
    ctx: Vec<u8>,
    http_request: Vec<u8>,
    http_response: Vec<u8>,
    /// A ~1 KB LLM request, so a leak of one buffer per call would be 100 MB.
    request: Vec<u8>,
    response: Vec<u8>,
    error: Vec<u8>,
    chunk: Vec<u8>,
}

impl Inputs {
    fn new() -> Self {
        let mut request = fixture("chat_request_flat.json");
        request.splice(
            1..1,
            format!("\"padding\":\"{}\",", "x".repeat(600)).into_bytes(),
        );
        Inputs {
            ctx: fixture("context.json"),
            http_request: fixture("http_request.json"),
            http_response: fixture("http_response.json"),
            request,
            response: fixture("chat_response.json"),
            error: fixture("bifrost_error.json"),
            chunk: fixture("chat_chunk.json"),
        }
    }
}

/// One call of every hook of an ABI, checking each output.
struct Round {
    /// Hook calls per round.
    calls: usize,
    run: fn(&mut Guest, &Inputs),
}

/// The seed ABI's three hooks.
const SEED_ROUND: Round = Round {
    calls: 3,
    run: |guest, inputs| {
        let Inputs {
            ctx,
            http_request,
            request,
            response,
            error,
            ..
        } = inputs;
        let intercept = guest.http_transport_intercept(ctx, http_request).unwrap();
        assert_eq!(intercept, br#"{"response":null,"error":""}"#);
        let pre = guest.pre_hook(ctx, request).unwrap();
        assert_eq!(
            pre.len(),
            request.len() + r#"{"request":,"short_circuit":null,"error":""}"#.len()
        );
        let post = guest.post_hook(ctx, response, error).unwrap();
        assert_eq!(output_object(&post, POST_HOOK_KEYS)["error"], "");
    },
};

/// Every single-input hook export, `http_intercept` included.
const SINGLE_INPUT_ROUND: Round = Round {
    calls: 6,
    run: |guest, inputs| {
        let Inputs {
            ctx,
            http_request,
            http_response,
            request,
            response,
            error,
            chunk,
        } = inputs;
        let http_pre_input = object(&[("context", ctx), ("request", http_request)]);
        for export in ["http_pre_hook", "http_intercept"] {
            let out = guest.hook(export, &[&http_pre_input]).unwrap();
            let out = output_object(&out, HTTP_PRE_KEYS);
            assert_eq!(
                (&out["error"], &out["context"]["from-http"]),
                (&json!(""), &json!("123")),
                "{export}"
            );
        }
        let input = object(&[
            ("context", ctx),
            ("request", http_request),
            ("response", http_response),
        ]);
        let out = guest.hook("http_post_hook", &[&input]).unwrap();
        assert_eq!(output_object(&out, HTTP_POST_KEYS)["error"], "");
        let input = object(&[
            ("context", ctx),
            ("request", http_request),
            ("chunk", chunk),
        ]);
        let out = guest.hook("http_stream_chunk_hook", &[&input]).unwrap();
        assert!(contains(&out, chunk), "the chunk is echoed");
        let input = object(&[("context", ctx), ("request", request)]);
        let out = guest.hook("pre_hook", &[&input]).unwrap();
        assert!(contains(&out, request), "the request is echoed");
        let input = object(&[
            ("context", ctx),
            ("response", response),
            ("error", error),
            ("has_error", b"true"),
        ]);
        let out = guest.hook("post_hook", &[&input]).unwrap();
        let out = output_object(&out, SINGLE_POST_KEYS);
        assert_eq!(
            (&out["hook_error"], &out["has_error"]),
            (&json!(""), &json!(true))
        );
    },
};

/// About `CALLS` hook calls after `WARM_UP` more: memory must not grow.
fn memory_stays_flat(mut guest: Guest, round: Round) {
    let free_mode = guest.free_mode();
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    let inputs = Inputs::new();
    for _ in 0..WARM_UP / round.calls {
        (round.run)(&mut guest, &inputs);
    }
    let after_warm_up = guest.memory_size();
    for _ in 0..CALLS / round.calls {
        (round.run)(&mut guest, &inputs);
    }
    assert_eq!(
        guest.memory_size(),
        after_warm_up,
        "{free_mode:?}: memory grew over {CALLS} calls"
    );
    assert_eq!(guest.cleanup().unwrap(), 0);
}

#[test]
fn seed_abi_is_bounded_when_the_host_frees_inputs_and_outputs() {
    memory_stays_flat(guest(FreeMode::All), SEED_ROUND);
}

#[test]
fn seed_abi_is_bounded_when_the_host_frees_only_inputs() {
    memory_stays_flat(guest(FreeMode::InputsOnly), SEED_ROUND);
}

#[test]
fn seed_abi_is_bounded_when_the_host_frees_nothing() {
    memory_stays_flat(guest(FreeMode::Nothing), SEED_ROUND);
}

#[test]
fn single_input_abi_is_bounded_when_the_host_frees_inputs_and_outputs() {
    memory_stays_flat(single_input_guest(FreeMode::All), SINGLE_INPUT_ROUND);
}

#[test]
fn single_input_abi_is_bounded_when_the_host_frees_only_inputs() {
    memory_stays_flat(single_input_guest(FreeMode::InputsOnly), SINGLE_INPUT_ROUND);
}

#[test]
fn single_input_abi_is_bounded_when_the_host_frees_nothing() {
    memory_stays_flat(single_input_guest(FreeMode::Nothing), SINGLE_INPUT_ROUND);
}

/// A host that frees every input and every output twice, frees the static
/// name, and frees pointers the plugin never gave out: each free is ignored
/// or frees exactly its buffer, outputs stay correct and memory stays flat.
#[test]
fn bounded_when_the_host_frees_everything_twice_and_frees_strangers() {
    // The test frees by hand.
    let mut guest = guest(FreeMode::Nothing);
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    let inputs = Inputs::new();
    let Inputs {
        ctx,
        http_request,
        request,
        response,
        error,
        ..
    } = &inputs;
    let pre_output = [
        &br#"{"request":"#[..],
        request,
        br#","short_circuit":null,"error":""}"#,
    ]
    .concat();
    let post_output = [
        &br#"{"response":"#[..],
        response,
        br#","bifrost_error":"#,
        error,
        br#","error":""}"#,
    ]
    .concat();
    let intercept_output = br#"{"response":null,"error":""}"#.to_vec();
    // Each hook with its input buffers and its exact output.
    let calls = [
        (
            "http_transport_intercept",
            vec![ctx, http_request],
            intercept_output,
        ),
        ("pre_hook", vec![ctx, request], pre_output),
        ("post_hook", vec![ctx, response, error], post_output),
    ];
    let mut sizes = Vec::new();
    for i in 0..7_000u32 {
        let name = guest.call("get_name", &[]).unwrap();
        assert_eq!(
            guest.read_packed("get_name", name).unwrap(),
            b"Hello World WASM Plugin"
        );
        guest.free((name >> 32) as u32).unwrap();
        guest.free((name >> 32) as u32).unwrap();
        for (export, buffers, expected) in &calls {
            let buffers: Vec<(u32, u32)> = buffers.iter().map(|b| put(&mut guest, b)).collect();
            let packed = guest.call(export, &args(&buffers)).unwrap();
            let output = guest.read_packed(export, packed).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&output),
                String::from_utf8_lossy(expected),
                "{export}, round {i}"
            );
            let output_ptr = (packed >> 32) as u32;
            for ptr in buffers.iter().map(|b| b.0).chain([output_ptr]) {
                guest.free(ptr).unwrap();
                guest.free(ptr).unwrap();
            }
            // Pointers the plugin never gave out.
            guest.free(i.wrapping_mul(2_654_435_761)).unwrap();
            guest.free(output_ptr + 1).unwrap();
        }
        if i % 700 == 0 {
            sizes.push(guest.memory_size());
        }
    }
    assert!(
        sizes.windows(2).skip(1).all(|w| w[0] == w[1]),
        "memory grew: {sizes:?}"
    );
}
