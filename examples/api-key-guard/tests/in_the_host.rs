//! The guard built to `.wasm` and run in the local host on both ABIs, as
//! Bifrost calls it (`cargo test` builds the `.wasm` itself).

use bifrost_plugin_host::{build, Abi, Guest, Hook, HookInput, HookOutput};
use bifrost_plugin_sdk::serde_json;
use bifrost_plugin_sdk::HttpResponse;

const CONFIG: &str = r#"{"keys":["key-one","key-two"]}"#;

fn load(abi: Abi, config: &str) -> (Guest, i32) {
    let mut guest =
        build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, build::WASM_TARGET).unwrap();
    assert_eq!(guest.name().unwrap(), "api-key-guard");
    let status = guest.init(config.as_bytes()).unwrap();
    (guest, status)
}

fn guard(abi: Abi) -> Guest {
    let (guest, status) = load(abi, CONFIG);
    assert_eq!(status, 0, "{abi:?}");
    guest
}

fn request(headers: &str) -> HookInput {
    HookInput::new()
        .with_context(r#"{"request_id":"r1"}"#)
        .with_request(format!(
            r#"{{"method":"POST","path":"/v1/chat/completions","headers":{headers},"query":{{}},"body":"e30="}}"#
        ))
}

/// The HTTP pre hook's output bytes, as the plugin wrote them.
fn raw_call(guest: &mut Guest, input: &HookInput) -> Vec<u8> {
    let export = guest.hook_export(Hook::HttpPreHook).unwrap();
    match guest.abi() {
        Some(Abi::SingleInput) => guest.hook(export, &[&input.envelope(Hook::HttpPreHook)]),
        _ => guest.hook(export, &input.buffers(Hook::HttpPreHook)),
    }
    .unwrap()
}

/// The HTTP response the plugin answered with, if any.
fn response(output: &HookOutput) -> Option<HttpResponse> {
    let response = output.json().get("response").filter(|r| !r.is_null())?;
    Some(serde_json::from_value(response.clone()).unwrap())
}

#[test]
fn a_known_key_is_let_through_on_both_abis() {
    for abi in Abi::ALL {
        let mut guest = guard(abi);
        for key in ["key-one", "key-two"] {
            let headers = format!(r#"{{"X-API-Key":"{key}"}}"#);
            let output = guest
                .call_hook(Hook::HttpPreHook, &request(&headers))
                .unwrap();
            assert_eq!(output.plugin_error(), None, "{abi:?}");
            assert_eq!(response(&output), None, "{abi:?} {key}");
        }
        assert_eq!(guest.cleanup().unwrap(), 0);
    }
}

#[test]
fn a_missing_or_unknown_key_is_answered_401_without_repeating_it() {
    for abi in Abi::ALL {
        let mut guest = guard(abi);
        let cases = [
            (r#"{}"#, "missing API key (header `x-api-key`)", ""),
            (
                r#"{"x-api-key":"key-three"}"#,
                "invalid API key",
                "key-three",
            ),
            (r#"{"x-api-key":"key-on"}"#, "invalid API key", "key-on"),
        ];
        for (headers, message, sent) in cases {
            let output = guest
                .call_hook(Hook::HttpPreHook, &request(headers))
                .unwrap();
            assert_eq!(output.plugin_error(), None);
            let resp = response(&output).expect("answered by the plugin");
            assert_eq!(resp.status_code, 401, "{abi:?} {headers}");
            assert_eq!(resp.header("content-type"), Some("application/json"));
            let body = String::from_utf8(resp.body.clone()).unwrap();
            assert_eq!(body, format!(r#"{{"error":"{message}"}}"#));
            let raw = String::from_utf8_lossy(output.raw());
            if !sent.is_empty() {
                assert!(!raw.contains(sent), "{abi:?}: {raw} repeats {sent}");
                assert!(!body.contains(sent), "{abi:?}: {body} repeats {sent}");
            }
            assert!(
                !raw.contains("key-one") && !raw.contains("key-two"),
                "{raw}"
            );
        }
    }
}

#[test]
fn the_configured_header_is_read_case_insensitively() {
    for abi in Abi::ALL {
        let (mut guest, status) = load(abi, r#"{"header":"X-Team-Key","keys":["t"]}"#);
        assert_eq!(status, 0);
        let through = guest
            .call_hook(Hook::HttpPreHook, &request(r#"{"x-team-key":"t"}"#))
            .unwrap();
        assert_eq!(response(&through), None, "{abi:?}");
        let refused = guest
            .call_hook(Hook::HttpPreHook, &request(r#"{"x-api-key":"t"}"#))
            .unwrap();
        assert_eq!(response(&refused).unwrap().status_code, 401);
    }
}

#[test]
fn init_fails_naming_keys_and_every_hook_then_says_why() {
    for abi in Abi::ALL {
        for config in ["{}", r#"{"keys":[]}"#] {
            let (mut guest, status) = load(abi, config);
            assert_ne!(status, 0, "{abi:?} {config}");
            let output = guest
                .call_hook(Hook::HttpPreHook, &request(r#"{"x-api-key":"key-one"}"#))
                .unwrap();
            let error = output.plugin_error().expect("the hook reports the failure");
            assert!(error.contains("init failed"), "{error}");
            assert!(error.contains("`keys`"), "{error}");
            assert_eq!(
                response(&output),
                None,
                "nothing is let through or answered"
            );
        }
    }
}

#[test]
fn a_misspelt_field_is_refused_by_name_not_ignored() {
    for abi in Abi::ALL {
        let (mut guest, status) = load(abi, r#"{"key":["key-one"]}"#);
        assert_ne!(status, 0);
        let output = guest.call_hook(Hook::HttpPreHook, &request("{}")).unwrap();
        let error = output.plugin_error().unwrap_or_default();
        assert!(error.contains("unknown field `key`"), "{abi:?}: {error}");
    }
}

#[test]
fn malformed_requests_get_the_sdks_error_not_a_trap() {
    for abi in Abi::ALL {
        let mut guest = guard(abi);
        let cases = [
            ("[1]", "http request must be a JSON object"),
            (
                r#"{"headers":{"x-api-key":"key-one"},"body":"%%"}"#,
                "not valid base64",
            ),
            (r#"{"headers":["x-api-key"]}"#, "`headers` is an array"),
            (r#"{"headers":"#, "not valid JSON"),
        ];
        for (req, expected) in cases {
            // The raw output, not `call_hook`'s decoded one: on an error the
            // request goes back as it came (nothing lost), and the host's
            // decoder would refuse the echoed bad base64 body.
            let input = HookInput::new().with_context("{}").with_request(req);
            let output: serde_json::Value =
                serde_json::from_slice(&raw_call(&mut guest, &input)).unwrap();
            let error = output["error"].as_str().unwrap_or_default();
            assert!(error.contains(expected), "{abi:?} {req}: {error:?}");
            assert!(output["response"].is_null(), "{output}");
        }
        // Still serving afterwards.
        let output = guest.call_hook(Hook::HttpPreHook, &request("{}")).unwrap();
        assert_eq!(response(&output).unwrap().status_code, 401);
    }
}
