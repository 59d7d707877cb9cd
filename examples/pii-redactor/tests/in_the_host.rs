//! The redactor built to `.wasm` and run in the local host on both ABIs, as
//! Bifrost calls it (`cargo test` builds the `.wasm` itself).

use bifrost_plugin_host::{build, Abi, Guest, Hook, HookInput, HookOutput};

fn load(abi: Abi, config: &str) -> (Guest, i32) {
    let mut guest =
        build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, build::WASM_TARGET).unwrap();
    assert_eq!(guest.name().unwrap(), "pii-redactor");
    let status = guest.init(config.as_bytes()).unwrap();
    (guest, status)
}

fn redactor(abi: Abi) -> Guest {
    let (guest, status) = load(abi, "{}");
    assert_eq!(status, 0, "{abi:?}");
    guest
}

fn contains(output: &HookOutput, text: &str) -> bool {
    output
        .raw()
        .windows(text.len())
        .any(|w| w == text.as_bytes())
}

const REQUEST: &str = r#"{"chat_request":{"model":"m","input":[{"role":"user","content":[{"type":"text","text":"mail jane@example.com or call 555-0100"},{"type":"image_url","image_url":{"url":"https://x/jane@example.com.png"}}]}],"params":{"temperature":0.2}}}"#;

#[test]
fn request_texts_are_redacted_in_place_on_both_abis() {
    for abi in Abi::ALL {
        let mut guest = redactor(abi);
        let input = HookInput::new().with_context("{}").with_request(REQUEST);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        assert_eq!(output.plugin_error(), None, "{abi:?}");
        let content = &output.json()["request"]["chat_request"]["input"][0]["content"];
        assert_eq!(content[0]["text"], "mail [redacted] or call [redacted]");
        assert_eq!(
            content[1]["image_url"]["url"], "https://x/jane@example.com.png",
            "images are not text"
        );
        assert_eq!(
            output.json()["request"]["chat_request"]["params"]["temperature"],
            0.2
        );
    }
}

#[test]
fn values_with_nothing_to_redact_go_back_byte_for_byte_on_both_abis() {
    let request = r#"{"model":"m", "messages":[{"role":"user","content":"hello \u00e9"}],"params":{"top_p":1.0}}"#;
    let response = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}], "usage":{"total_tokens":3}}"#;
    for abi in Abi::ALL {
        let mut guest = redactor(abi);
        let input = HookInput::new().with_context("{}").with_request(request);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        assert!(contains(&output, request), "{abi:?}");
        let input = HookInput::new().with_context("{}").with_response(response);
        let output = guest.call_hook(Hook::PostHook, &input).unwrap();
        assert!(contains(&output, response), "{abi:?}");
    }
}

#[test]
fn every_choice_of_a_response_is_redacted_on_both_abis() {
    let response = r#"{"chat_response":{"choices":[
        {"index":0,"message":{"role":"assistant","content":"fine"}},
        {"index":1,"message":{"role":"assistant","content":[{"type":"text","text":"card 4111-1111-1111-1111"}]}}]}}"#;
    for abi in Abi::ALL {
        let mut guest = redactor(abi);
        let input = HookInput::new().with_context("{}").with_response(response);
        let output = guest.call_hook(Hook::PostHook, &input).unwrap();
        assert_eq!(output.plugin_error(), None);
        let choices = &output.json()["response"]["chat_response"]["choices"];
        assert_eq!(choices[0]["message"]["content"], "fine");
        assert_eq!(
            choices[1]["message"]["content"][0]["text"],
            "card [redacted]"
        );
    }
}

#[test]
fn a_redaction_changes_that_text_only_on_both_abis() {
    // Keys in no order, a seed beyond 64 bits, `1.50`: all go back as sent.
    let response = r#"{"chat_response":{"zeta":1,"id":"x","seed":123456789012345678901234567890,"price":1.50,"choices":[{"index":0,"message":{"role":"assistant","content":"mail bob@example.com"}}],"alpha":{"b":1,"a":2}}}"#;
    for abi in Abi::ALL {
        let mut guest = redactor(abi);
        let input = HookInput::new().with_context("{}").with_response(response);
        let output = guest.call_hook(Hook::PostHook, &input).unwrap();
        assert_eq!(output.plugin_error(), None, "{abi:?}");
        let expected = response.replace("bob@example.com", "[redacted]");
        assert!(
            contains(&output, &expected),
            "{abi:?}: {}",
            String::from_utf8_lossy(output.raw())
        );
    }
}

#[test]
fn tool_call_arguments_are_redacted_on_both_abis() {
    let request = r#"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"send","arguments":"{\"to\":\"bob@example.com\",\"n\":1.50}"}}]}]}"#;
    for abi in Abi::ALL {
        let mut guest = redactor(abi);
        let input = HookInput::new().with_context("{}").with_request(request);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        let expected = request.replace("bob@example.com", "[redacted]");
        assert!(contains(&output, &expected), "{abi:?}");
    }
}

#[test]
fn stream_chunks_are_redacted_and_clean_ones_echoed() {
    let mut guest = redactor(Abi::SingleInput);
    let chunk = r#"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"at bob@corp.io"}}]}"#;
    let input = HookInput::new().with_context("{}").with_chunk(chunk);
    let output = guest.call_hook(Hook::HttpStreamChunkHook, &input).unwrap();
    assert_eq!(output.plugin_error(), None);
    assert_eq!(
        output.json()["chunk"]["choices"][0]["delta"]["content"],
        "at [redacted]"
    );
    let clean = r#"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"at home"}}]}"#;
    let input = HookInput::new().with_context("{}").with_chunk(clean);
    let output = guest.call_hook(Hook::HttpStreamChunkHook, &input).unwrap();
    assert!(contains(&output, clean));
}

#[test]
fn the_replacement_is_configurable_and_a_bad_config_names_the_field() {
    for abi in Abi::ALL {
        let (mut guest, status) = load(abi, r#"{"replacement":"<pii>"}"#);
        assert_eq!(status, 0);
        let input = HookInput::new()
            .with_context("{}")
            .with_request(r#"{"model":"m","prompt":"a@b.io"}"#);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        assert_eq!(output.json()["request"]["prompt"], "<pii>");

        let (mut guest, status) = load(abi, r#"{"replacement":["x"]}"#);
        assert_ne!(status, 0);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        let error = output.plugin_error().unwrap_or_default();
        assert!(
            error.contains("`replacement`: invalid type: sequence, expected a string"),
            "{error}"
        );
    }
}

#[test]
fn malformed_input_is_reported_not_trapped_on_both_abis() {
    for abi in Abi::ALL {
        let mut guest = redactor(abi);
        let input = HookInput::new()
            .with_context("{}")
            .with_request(r#"{"model":"m","input":[{"content":"a@b.io"},]}"#);
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        let error = output.plugin_error().unwrap_or_default();
        // The seed ABI's request is its own buffer; the single-input ABI's
        // is inside one JSON input, which is then what is broken.
        assert!(error.contains("is not valid JSON"), "{error}");

        let input = HookInput::new().with_context("{}").with_request("[1]");
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        let error = output.plugin_error().unwrap_or_default();
        assert_eq!(error, "request must be a JSON object, got an array");
    }
}
