//! The disclaimer built to `.wasm` and run in the local host on both ABIs, as
//! Bifrost calls it (`cargo test` builds the `.wasm` itself).

use bifrost_plugin_host::{build, Abi, Guest, Hook, HookInput, HookOutput};

const CONFIG: &str = r#"{"text":"\n\n(AI generated)"}"#;

fn load(abi: Abi, config: &str) -> (Guest, i32) {
    let mut guest =
        build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, build::WASM_TARGET).unwrap();
    assert_eq!(guest.name().unwrap(), "disclaimer");
    let status = guest.init(config.as_bytes()).unwrap();
    (guest, status)
}

fn disclaimer(abi: Abi) -> Guest {
    let (guest, status) = load(abi, CONFIG);
    assert_eq!(status, 0, "{abi:?}");
    guest
}

fn contains(output: &HookOutput, text: &str) -> bool {
    output
        .raw()
        .windows(text.len())
        .any(|w| w == text.as_bytes())
}

fn post_hook(guest: &mut Guest, response: &str) -> HookOutput {
    let input = HookInput::new().with_context("{}").with_response(response);
    guest.call_hook(Hook::PostHook, &input).unwrap()
}

#[test]
fn every_choice_of_a_chat_completion_gets_the_text_on_both_abis() {
    let response = r#"{"chat_response":{"id":"c","object":"chat.completion","created":1,"choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"},{"index":1,"message":{"role":"assistant","content":"Lyon."},"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}}"#;
    for abi in Abi::ALL {
        let mut guest = disclaimer(abi);
        let output = post_hook(&mut guest, response);
        assert_eq!(output.plugin_error(), None, "{abi:?}");
        let expected = response
            .replace(r#""Paris.""#, r#""Paris.\n\n(AI generated)""#)
            .replace(r#""Lyon.""#, r#""Lyon.\n\n(AI generated)""#);
        assert!(
            contains(&output, &expected),
            "{abi:?}: {}",
            String::from_utf8_lossy(output.raw())
        );
    }
}

#[test]
fn other_kinds_and_errors_go_back_byte_for_byte_on_both_abis() {
    let text_completion =
        r#"{"object":"text_completion","choices":[{"index":0,"text":"t","finish_reason":"stop"}]}"#;
    let responses = r#"{"responses_response":{"object":"response","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"o"}]}]}}"#;
    for abi in Abi::ALL {
        let mut guest = disclaimer(abi);
        for response in [text_completion, responses] {
            let output = post_hook(&mut guest, response);
            assert!(contains(&output, response), "{abi:?}: {response}");
        }
        let error = r#"{"is_bifrost_error":false,"status_code":500,"error":{"message":"down"}}"#;
        let input = HookInput::new().with_context("{}").with_error(error);
        let output = guest.call_hook(Hook::PostHook, &input).unwrap();
        assert!(contains(&output, error), "{abi:?}");
    }
}

#[test]
fn on_a_stream_only_the_chunk_with_a_finish_reason_gets_the_text() {
    let mut guest = disclaimer(Abi::SingleInput);
    let request =
        r#"{"method":"POST","path":"/v1/chat/completions","headers":{},"query":{},"body":""}"#;
    let chunks = [
        r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Par"},"finish_reason":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"is."},"finish_reason":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"total_tokens":5}}"#,
    ];
    for (i, chunk) in chunks.iter().enumerate() {
        let input = HookInput::new()
            .with_context("{}")
            .with_request(request)
            .with_chunk(*chunk);
        let output = guest.call_hook(Hook::HttpStreamChunkHook, &input).unwrap();
        assert_eq!(output.plugin_error(), None);
        let expected = match i {
            2 => chunk.replace("{}", r#"{"content":"\n\n(AI generated)"}"#),
            _ => chunk.to_string(),
        };
        assert!(
            contains(&output, &expected),
            "chunk {i}: {}",
            String::from_utf8_lossy(output.raw())
        );
    }
}

#[test]
fn a_config_without_text_fails_init_naming_the_field_on_both_abis() {
    for abi in Abi::ALL {
        let (mut guest, status) = load(abi, "{}");
        assert_eq!(status, 2, "{abi:?}");
        let output = post_hook(&mut guest, r#"{"choices":[]}"#);
        assert!(
            output.plugin_error().unwrap().contains("`text`"),
            "{abi:?}: {:?}",
            output.plugin_error()
        );
    }
}
