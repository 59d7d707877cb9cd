//! Memory stays bounded over 100k hook calls whichever way the host frees
//! buffers, for both ABIs: the guest's linear memory must not grow after
//! warm-up.

mod common;

use bifrost_plugin_host::{FreeMode, Guest};
use common::*;

const CALLS: usize = 100_000;
const WARM_UP: usize = 1_000;

/// One round of every hook with realistic inputs.
fn round(guest: &mut Guest, ctx: &[u8], http: &[u8], req: &[u8], resp: &[u8], err: &[u8]) {
    let intercept = guest.http_transport_intercept(ctx, http).unwrap();
    output_object(&intercept, INTERCEPT_KEYS);
    let pre = guest.pre_hook(ctx, req).unwrap();
    assert_eq!(
        pre.len(),
        req.len() + r#"{"request":,"short_circuit":null,"error":""}"#.len()
    );
    let post = guest.post_hook(ctx, resp, err).unwrap();
    output_object(&post, POST_HOOK_KEYS);
}

/// One round of every single-input hook with the same inputs.
fn single_input_round(
    guest: &mut Guest,
    ctx: &[u8],
    http: &[u8],
    req: &[u8],
    resp: &[u8],
    err: &[u8],
) {
    let http_pre = guest
        .hook(
            "http_pre_hook",
            &[&object(&[("context", ctx), ("request", http)])],
        )
        .unwrap();
    output_object(&http_pre, HTTP_PRE_KEYS);
    let pre = guest
        .hook(
            "pre_hook",
            &[&object(&[("context", ctx), ("request", req)])],
        )
        .unwrap();
    assert!(contains(&pre, req), "the request is echoed");
    let post_input = object(&[
        ("context", ctx),
        ("response", resp),
        ("error", err),
        ("has_error", b"true"),
    ]);
    let post = guest.hook("post_hook", &[&post_input]).unwrap();
    output_object(&post, SINGLE_POST_KEYS);
}

type Round = fn(&mut Guest, &[u8], &[u8], &[u8], &[u8], &[u8]);

fn memory_stays_flat(mut guest: Guest, round: Round) {
    let free_mode = guest.free_mode();
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    let ctx = fixture("context.json");
    let http = fixture("http_request.json");
    // A ~1 KB request, so a leak of one buffer per call would be 100 MB.
    let mut req = fixture("chat_request_flat.json");
    req.splice(
        1..1,
        format!("\"padding\":\"{}\",", "x".repeat(600)).into_bytes(),
    );
    let resp = fixture("chat_response.json");
    let err = fixture("bifrost_error.json");

    for _ in 0..WARM_UP {
        round(&mut guest, &ctx, &http, &req, &resp, &err);
    }
    let after_warm_up = guest.memory_size();
    for _ in 0..CALLS / 3 {
        round(&mut guest, &ctx, &http, &req, &resp, &err);
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
    memory_stays_flat(guest(FreeMode::All), round);
}

#[test]
fn seed_abi_is_bounded_when_the_host_frees_only_inputs() {
    memory_stays_flat(guest(FreeMode::InputsOnly), round);
}

#[test]
fn seed_abi_is_bounded_when_the_host_frees_nothing() {
    memory_stays_flat(guest(FreeMode::Nothing), round);
}

#[test]
fn single_input_abi_is_bounded_when_the_host_frees_inputs_and_outputs() {
    memory_stays_flat(single_input_guest(FreeMode::All), single_input_round);
}

#[test]
fn single_input_abi_is_bounded_when_the_host_frees_only_inputs() {
    memory_stays_flat(single_input_guest(FreeMode::InputsOnly), single_input_round);
}

#[test]
fn single_input_abi_is_bounded_when_the_host_frees_nothing() {
    memory_stays_flat(single_input_guest(FreeMode::Nothing), single_input_round);
}

#[test]
fn bounded_when_the_host_frees_everything_twice_and_frees_strangers() {
    let mut guest = guest(FreeMode::All);
    let req = fixture("chat_request_flat.json");
    let mut sizes = Vec::new();
    for i in 0..20_000u32 {
        let packed = guest.call("get_name", &[]).unwrap();
        guest.free((packed >> 32) as u32).unwrap();
        let out = guest.pre_hook(b"{}", &req).unwrap();
        assert_eq!(out.len(), req.len() + 44);
        guest.free(i.wrapping_mul(2_654_435_761)).unwrap(); // a pointer the plugin never gave out
        if i % 1000 == 0 {
            sizes.push(guest.memory_size());
        }
    }
    assert!(
        sizes.windows(2).skip(1).all(|w| w[0] == w[1]),
        "memory grew: {sizes:?}"
    );
}
