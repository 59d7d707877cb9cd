//! The guardrail built to `.wasm` and run in the local host on both ABIs, as
//! Bifrost calls it (`cargo test` builds the `.wasm` itself).

use bifrost_plugin_host::{build, Abi, Guest, Hook, HookInput, HookOutput};

const CONFIG: &str =
    r#"{"blocked_phrases":["secret recipe"],"message":"That topic is off limits."}"#;

fn load(abi: Abi, config: &str) -> (Guest, i32) {
    let mut guest =
        build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, build::WASM_TARGET).unwrap();
    assert_eq!(guest.name().unwrap(), "content-guardrail");
    let status = guest.init(config.as_bytes()).unwrap();
    (guest, status)
}

fn guardrail(abi: Abi) -> Guest {
    let (guest, status) = load(abi, CONFIG);
    assert_eq!(status, 0, "{abi:?}");
    guest
}

fn echoed(output: &HookOutput, value: &str) -> bool {
    output
        .raw()
        .windows(value.len())
        .any(|w| w == value.as_bytes())
}

#[test]
fn requests_with_a_blocked_phrase_are_refused_with_403_on_both_abis() {
    let request = r#"{"chat_request":{"model":"m","input":[{"role":"user","content":"Tell me the SECRET Recipe"}]}}"#;
    for abi in Abi::ALL {
        let mut guest = guardrail(abi);
        let input = HookInput::new().with_context("{}").with_request(request);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        assert_eq!(output.plugin_error(), None);
        let error = &output.json()["short_circuit"]["error"];
        assert_eq!(error["status_code"], 403, "{abi:?}");
        assert_eq!(error["error"]["message"], "That topic is off limits.");
        assert!(output.json()["request"].is_null());
    }
}

#[test]
fn a_phrase_in_the_responses_instructions_is_refused_on_both_abis() {
    let request = r#"{"responses_request":{"model":"m","input":"hello","instructions":"now tell me the SECRET RECIPE"}}"#;
    for abi in Abi::ALL {
        let mut guest = guardrail(abi);
        let input = HookInput::new().with_context("{}").with_request(request);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        let error = &output.json()["short_circuit"]["error"];
        assert_eq!(error["status_code"], 403, "{abi:?}");
    }
}

#[test]
fn clean_requests_and_responses_go_on_byte_for_byte_on_both_abis() {
    let request = r#"{"model":"m", "messages":[{"role":"user","content":"a recipe, please"}]}"#;
    let response =
        r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"Flour, eggs."}}]}"#;
    for abi in Abi::ALL {
        let mut guest = guardrail(abi);
        let input = HookInput::new().with_context("{}").with_request(request);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        assert!(echoed(&output, request), "{abi:?}");
        let input = HookInput::new().with_context("{}").with_response(response);
        let output = guest.call_hook(Hook::PostHook, &input).unwrap();
        assert!(echoed(&output, response), "{abi:?}");
    }
}

#[test]
fn responses_with_a_blocked_phrase_become_the_error_on_both_abis() {
    let response = r#"{"chat_response":{"choices":[{"index":0,"message":{"content":"ok"}},{"index":1,"message":{"content":[{"type":"text","text":"here is the secret recipe"}]}}]}}"#;
    for abi in Abi::ALL {
        let mut guest = guardrail(abi);
        let input = HookInput::new().with_context("{}").with_response(response);
        let output = guest.call_hook(Hook::PostHook, &input).unwrap();
        assert_eq!(output.plugin_error(), None);
        let json = output.json();
        assert!(json["response"].is_null(), "{abi:?}");
        // The seed ABI names the error `bifrost_error`, the single-input ABI `error`.
        let error = if abi == Abi::Seed {
            &json["bifrost_error"]
        } else {
            &json["error"]
        };
        assert_eq!(error["status_code"], 403, "{json}");
        assert_eq!(error["error"]["message"], "That topic is off limits.");
        assert!(
            !echoed(&output, "secret recipe"),
            "the phrase is never repeated"
        );
    }
}

#[test]
fn a_config_without_phrases_fails_init_naming_the_field_on_both_abis() {
    for abi in Abi::ALL {
        let (mut guest, status) = load(abi, r#"{"message":"no"}"#);
        assert_ne!(status, 0);
        let input = HookInput::new()
            .with_context("{}")
            .with_request(r#"{"model":"m"}"#);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        let error = output.plugin_error().unwrap_or_default();
        assert!(
            error.contains("config field `blocked_phrases` must list at least one phrase"),
            "{error}"
        );
    }
}

#[test]
fn malformed_input_is_reported_not_trapped_on_both_abis() {
    for abi in Abi::ALL {
        let mut guest = guardrail(abi);
        let input = HookInput::new()
            .with_context("{}")
            .with_request(r#"{"model":"m","input":"\udc00"}"#);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        let error = output.plugin_error().unwrap_or_default();
        assert!(
            error.contains("surrogate") || error.contains("lone"),
            "{error}"
        );
    }
}
