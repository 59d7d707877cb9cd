//! The router built to `.wasm` and run in the local host on both ABIs, as
//! Bifrost calls it (`cargo test` builds the `.wasm` itself).

use bifrost_plugin_host::{build, Abi, Guest, Hook, HookInput, HookOutput};
use bifrost_plugin_sdk::serde_json::Value;

const CONFIG: &str = r#"{"routes":{"gpt-4":"gpt-4o-mini","claude-2":"claude-3-5-haiku"},"system_prompt":"Answer in one sentence."}"#;

fn load(abi: Abi, config: &str) -> (Guest, i32) {
    let mut guest =
        build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, build::WASM_TARGET).unwrap();
    assert_eq!(guest.name().unwrap(), "model-router");
    let status = guest.init(config.as_bytes()).unwrap();
    (guest, status)
}

fn router(abi: Abi) -> Guest {
    let (guest, status) = load(abi, CONFIG);
    assert_eq!(status, 0);
    guest
}

fn pre_hook(guest: &mut Guest, request: &str) -> HookOutput {
    let input = HookInput::new()
        .with_context(r#"{"request_id":"r1"}"#)
        .with_request(request);
    let output = guest.call_hook(Hook::PreHook, &input).unwrap();
    assert_eq!(output.plugin_error(), None, "{request}");
    assert!(
        output.json()["short_circuit"].is_null(),
        "the router never answers itself"
    );
    output
}

/// The chat request inside whichever shape the host used.
fn chat(request: &Value) -> &Value {
    request.get("chat_request").unwrap_or(request)
}

#[test]
fn a_routed_request_gets_the_model_the_system_prompt_first_and_the_original_in_the_context() {
    for abi in Abi::ALL {
        let mut guest = router(abi);
        for shape in [
            r#"{"provider":"openai","model":"gpt-4","input":[{"role":"user","content":"Hi"}],"params":{"temperature":0.25}}"#,
            r#"{"chat_request":{"provider":"openai","model":"gpt-4","input":[{"role":"user","content":"Hi"}],"params":{"temperature":0.25}}}"#,
        ] {
            let output = pre_hook(&mut guest, shape);
            let request = chat(&output.json()["request"]);
            assert_eq!(request["model"], "gpt-4o-mini", "{abi:?} {shape}");
            assert_eq!(request["input"][0]["role"], "system");
            assert_eq!(request["input"][0]["content"], "Answer in one sentence.");
            assert_eq!(request["input"][1]["content"], "Hi");
            assert_eq!(request["input"].as_array().unwrap().len(), 2);
            assert_eq!(request["params"]["temperature"], 0.25);
            assert_eq!(request["provider"], "openai");
            if guest.abi() == Some(Abi::SingleInput) {
                let context = output.context().expect("single-input carries the context");
                assert_eq!(context["original-model"], "gpt-4");
                assert_eq!(context["request_id"], "r1", "the host's keys are kept");
            }
        }
    }
}

#[test]
fn other_models_go_back_byte_for_byte() {
    for abi in Abi::ALL {
        let mut guest = router(abi);
        // Odd spacing, key order and number forms: only an untouched echo keeps them.
        for request in [
            r#"{ "model" : "gpt-4o", "input":[{"content":"Hi","role":"user"}], "params":{"temperature":1.0e0} }"#,
            r#"{"chat_request":{"model":"GPT-4","input":[]},"z":[1.50]}"#,
            r#"{"input":[{"role":"user","content":"no model"}]}"#,
        ] {
            let output = pre_hook(&mut guest, request);
            let raw = String::from_utf8_lossy(output.raw());
            assert!(raw.contains(request), "{abi:?}: {raw}");
            if let Some(context) = output.context() {
                assert!(!context.contains_key("original-model"));
            }
        }
    }
}

#[test]
fn a_routed_text_completion_gets_only_the_model() {
    for abi in Abi::ALL {
        let mut guest = router(abi);
        let output = pre_hook(
            &mut guest,
            r#"{"text_completion_request":{"model":"claude-2","prompt":"Once upon"}}"#,
        );
        let request = &output.json()["request"]["text_completion_request"];
        assert_eq!(request["model"], "claude-3-5-haiku");
        assert_eq!(request["prompt"], "Once upon");
        assert!(request.get("input").is_none(), "{request}");
    }
}

#[test]
fn an_empty_config_routes_nothing() {
    for abi in Abi::ALL {
        for config in ["{}", ""] {
            let (mut guest, status) = load(abi, config);
            assert_eq!(status, 0);
            let request = r#"{"model":"gpt-4","input":[]}"#;
            let output = pre_hook(&mut guest, request);
            assert!(String::from_utf8_lossy(output.raw()).contains(request));
        }
    }
}

#[test]
fn config_errors_name_the_field() {
    for abi in Abi::ALL {
        for (config, field) in [
            (r#"{"routes":{"gpt-4":""}}"#, "`routes.gpt-4`"),
            (r#"{"routes":["gpt-4"]}"#, "routes"),
            (r#"{"system_prompt":7}"#, "system_prompt"),
            (r#"{"route":{}}"#, "unknown field `route`"),
        ] {
            let (mut guest, status) = load(abi, config);
            assert_ne!(status, 0, "{config}");
            let input = HookInput::new()
                .with_context("{}")
                .with_request(r#"{"model":"gpt-4"}"#);
            let output = guest.call_hook(Hook::PreHook, &input).unwrap();
            let error = output.plugin_error().unwrap_or_default();
            assert!(error.contains(field), "{abi:?} {config}: {error}");
            // The SDK hands the request back as it came, not routed.
            let request = &output.json()["request"];
            assert!(
                request.is_null() || request["model"] == "gpt-4",
                "{request}"
            );
        }
    }
}

#[test]
fn malformed_requests_get_the_sdks_error_not_a_trap() {
    for abi in Abi::ALL {
        let mut guest = router(abi);
        for (request, expected) in [
            ("[1]", "request must be a JSON object"),
            (r#"{"model":"gpt-4","input":"#, "JSON"),
            ("\"gpt-4\"", "request must be a JSON object"),
        ] {
            let input = HookInput::new().with_context("{}").with_request(request);
            let output = guest.call_hook(Hook::PreHook, &input).unwrap();
            let error = output.plugin_error().unwrap_or_default();
            assert!(error.contains(expected), "{abi:?} {request}: {error:?}");
        }
        pre_hook(&mut guest, r#"{"model":"gpt-4","input":[]}"#);
    }
}
