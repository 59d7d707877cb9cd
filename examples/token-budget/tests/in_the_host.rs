//! The budget built to `.wasm` and run in the local host on both ABIs, as
//! Bifrost calls it (`cargo test` builds the `.wasm` itself). State lives in
//! the instance: one guest is one plugin, across calls.

use bifrost_plugin_host::{build, Abi, Guest, Hook, HookInput, HookOutput};

fn load(abi: Abi, config: &str) -> (Guest, i32) {
    let mut guest =
        build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, build::WASM_TARGET).unwrap();
    assert_eq!(guest.name().unwrap(), "token-budget");
    let status = guest.init(config.as_bytes()).unwrap();
    (guest, status)
}

const REQUEST: &str = r#"{"chat_request":{"model":"m","input":[{"role":"user","content":"Hi"}]}}"#;

fn ask(guest: &mut Guest) -> HookOutput {
    let input = HookInput::new()
        .with_context(r#"{"request_id":"r"}"#)
        .with_request(REQUEST);
    guest.call_hook(Hook::PreHook, &input).unwrap()
}

fn answer(guest: &mut Guest, response: &str) -> HookOutput {
    let input = HookInput::new()
        .with_context(r#"{"request_id":"r"}"#)
        .with_response(response);
    guest.call_hook(Hook::PostHook, &input).unwrap()
}

fn usage(total: u64) -> String {
    format!(
        r#"{{"chat_response":{{"choices":[],"usage":{{"prompt_tokens":2, "completion_tokens":3, "total_tokens":{total}}}}}}}"#
    )
}

#[test]
fn the_budget_refuses_requests_with_429_once_exceeded_on_both_abis() {
    for abi in Abi::ALL {
        let (mut guest, status) = load(abi, r#"{"max_total_tokens":10}"#);
        assert_eq!(status, 0);
        for total in [4, 6] {
            let output = ask(&mut guest);
            assert_eq!(output.plugin_error(), None);
            assert!(output.json()["short_circuit"].is_null(), "{abi:?}");
            let response = usage(total);
            let output = answer(&mut guest, &response);
            assert_eq!(output.plugin_error(), None);
            let echoed = output
                .raw()
                .windows(response.len())
                .any(|w| w == response.as_bytes());
            assert!(echoed, "the response goes on byte for byte");
        }
        assert!(
            ask(&mut guest).json()["short_circuit"].is_null(),
            "10 of 10 is not over"
        );
        answer(&mut guest, &usage(1));
        let output = ask(&mut guest);
        let error = &output.json()["short_circuit"]["error"];
        assert_eq!(error["status_code"], 429, "{abi:?}");
        assert_eq!(error["error"]["type"], "budget_exceeded");
        assert_eq!(
            output.json()["request"],
            bifrost_plugin_sdk::serde_json::Value::Null
        );
    }
}

#[test]
fn a_missing_budget_fails_init_naming_the_field_on_both_abis() {
    for abi in Abi::ALL {
        let (mut guest, status) = load(abi, "{}");
        assert_ne!(status, 0);
        let output = ask(&mut guest);
        let error = output.plugin_error().unwrap_or_default();
        assert!(
            error.contains("config field `max_total_tokens` is missing"),
            "{error}"
        );
    }
}

#[test]
fn malformed_responses_are_reported_not_counted_on_both_abis() {
    for abi in Abi::ALL {
        let (mut guest, status) = load(abi, r#"{"max_total_tokens":0}"#);
        assert_eq!(status, 0);
        let output = answer(&mut guest, r#"{"usage":{"total_tokens":"many"}}"#);
        assert_eq!(
            output.plugin_error(),
            None,
            "a usage it cannot read is no usage"
        );
        let output = answer(&mut guest, "[5]");
        let error = output.plugin_error().unwrap_or_default();
        assert_eq!(error, "response must be a JSON object, got an array");
        assert!(ask(&mut guest).json()["short_circuit"].is_null());
    }
}
