//! Hooks a plugin does not define (abi-spec 3.8), on built plugins: the
//! input is checked as JSON and goes back as it came, unread (no body
//! decoded, no field typed), where the trait's default would have parsed
//! and rewritten it. A failed `init` and a broken input are still reported.
//!
//! chain-probe defines `init`, `pre_hook`, `post_hook` and
//! `http_stream_chunk_hook`, not `http_pre_hook` or `http_post_hook`; the
//! seed test plugin (panicking) does not define `http_pre_hook`; hello-world
//! defines every hook, so it shows what the default would have done.

mod common;

use bifrost_plugin_host::{FreeMode, Guest};
use serde_json::Value;

fn chain_probe() -> Guest {
    let wasm = common::test_plugin_wasm("chain-probe-single-input.wasm");
    let mut guest = Guest::load(&wasm, FreeMode::All).unwrap();
    assert_eq!(guest.init(br#"{"tag":"A"}"#).unwrap(), 0);
    guest
}

fn seed_plugin(config: &[u8]) -> Guest {
    let wasm = common::test_plugin_wasm("panicking.wasm");
    let mut guest = Guest::load(&wasm, FreeMode::All).unwrap();
    guest.init(config).unwrap();
    guest
}

/// The raw text of `member` in an output object (as the plugin wrote it).
fn member_text(output: &[u8], member: &str) -> String {
    let object: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_slice(output).unwrap();
    object[member].get().to_string()
}

fn error_of(output: &[u8], field: &str) -> String {
    let value: Value = serde_json::from_slice(output).unwrap();
    value[field].as_str().unwrap().to_string()
}

/// Keys out of order, a body that is not base64, an escape, a number
/// spelled as no writer would: nothing a rewrite would keep.
const CONTEXT: &str = r#"{"z":1,"a":"\u00e9","n":1.50}"#;
const HTTP_REQUEST: &str = r#"{"path":"/v1/x","method":"POST","headers":{"z":"1","a":"2"},"body":"not base64!","extra":[1e2]}"#;

fn http_input() -> String {
    format!(r#"{{"context":{CONTEXT},"request":{HTTP_REQUEST}}}"#)
}

#[test]
fn an_undefined_http_pre_hook_sends_the_request_and_context_back_byte_for_byte() {
    let mut probe = chain_probe();
    let output = probe
        .hook("http_pre_hook", &[http_input().as_bytes()])
        .unwrap();
    assert_eq!(error_of(&output, "error"), "");
    assert_eq!(member_text(&output, "request"), HTTP_REQUEST);
    assert_eq!(member_text(&output, "context"), CONTEXT);
    assert_eq!(member_text(&output, "has_response"), "false");
    // The docs' older name is the same hook.
    let older = probe
        .hook("http_intercept", &[http_input().as_bytes()])
        .unwrap();
    assert_eq!(older, output);

    // hello-world defines the hook: the request is typed, so the same
    // input is refused for its body.
    let mut hello = common::single_input_guest(FreeMode::All);
    let output = hello
        .hook("http_pre_hook", &[http_input().as_bytes()])
        .unwrap();
    assert!(
        error_of(&output, "error").contains("body is not valid base64"),
        "{}",
        String::from_utf8_lossy(&output)
    );
}

#[test]
fn an_undefined_http_post_hook_sends_the_context_back_byte_for_byte() {
    let mut probe = chain_probe();
    let input = format!(
        r#"{{"context":{CONTEXT},"request":{HTTP_REQUEST},"response":{{"status_code":"no","body":"?"}}}}"#
    );
    let output = probe.hook("http_post_hook", &[input.as_bytes()]).unwrap();
    assert_eq!(error_of(&output, "error"), "");
    assert_eq!(member_text(&output, "context"), CONTEXT);
}

#[test]
fn an_undefined_hook_still_reports_an_input_that_is_not_json_or_lacks_its_request() {
    let mut probe = chain_probe();
    for (input, reason) in [
        (&b"{\"request\":"[..], "input is not valid JSON"),
        (br#"{"context":{}}"#, "request is empty"),
        (
            br#"{"request":{},"request":{}}"#,
            "duplicate field `request`",
        ),
        // Only checkable on its own: the envelope falls back to syntax.
        (
            br#"{"request":{"a":"\ud800"}}"#,
            "http request has an unpaired",
        ),
        (
            br#"{"context":[],"request":{"a":1e999}}"#,
            "context must be a JSON object",
        ),
    ] {
        let output = probe.hook("http_pre_hook", &[input]).unwrap();
        let error = error_of(&output, "error");
        assert!(
            error.contains(reason),
            "{} gave {error:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(member_text(&output, "request"), "null");
    }
}

#[test]
fn after_a_failed_init_an_undefined_hook_reports_that_failure_first() {
    let wasm = common::test_plugin_wasm("chain-probe-single-input.wasm");
    let mut probe = Guest::load(&wasm, FreeMode::All).unwrap();
    assert_ne!(probe.init(b"{}").unwrap(), 0, "`tag` is required");
    for export in ["http_pre_hook", "http_post_hook"] {
        for input in [http_input().into_bytes(), b"not json".to_vec()] {
            let output = probe.hook(export, &[&input]).unwrap();
            let error = error_of(&output, "error");
            assert!(
                error.starts_with("plugin is not initialised: config is not valid"),
                "{export}: {error:?}"
            );
        }
    }
}

#[test]
fn an_undefined_seed_intercept_checks_its_buffers_but_does_not_decode_the_body() {
    let mut plugin = seed_plugin(b"{}");
    let output = plugin
        .http_transport_intercept(CONTEXT.as_bytes(), HTTP_REQUEST.as_bytes())
        .unwrap();
    assert_eq!(
        String::from_utf8(output).unwrap(),
        r#"{"response":null,"error":""}"#
    );
    for (context, request, reason) in [
        ("{}", "[]", "request must be a JSON object, got an array"),
        ("{}", "", "request is empty"),
        ("[", "{}", "context is not valid JSON"),
    ] {
        let output = plugin
            .http_transport_intercept(context.as_bytes(), request.as_bytes())
            .unwrap();
        let error = error_of(&output, "error");
        assert!(error.contains(reason), "{request}: {error:?}");
    }
    let mut failed = seed_plugin(br#"{"init_error":"no key"}"#);
    let output = failed
        .http_transport_intercept(b"{}", HTTP_REQUEST.as_bytes())
        .unwrap();
    assert_eq!(
        error_of(&output, "error"),
        "plugin is not initialised: init failed: no key"
    );
}
