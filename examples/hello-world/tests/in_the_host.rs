//! The plugin built to `.wasm` and run in the local host, both ABIs: the
//! integration test a plugin author writes. `cargo test` builds the `.wasm`
//! itself (bifrost_plugin_host::build), so there is no step to forget.

use bifrost_plugin_host::{build, validate, Abi, FreeMode, Guest, Hook, HookInput};

fn load(features: &[&str]) -> Guest {
    let wasm = build::plugin_wasm(env!("CARGO_MANIFEST_DIR"), features).unwrap();
    let unchecked = features.contains(&"unchecked-echo");
    assert_eq!(
        marker(&std::fs::read(&wasm).unwrap()),
        format!(r#"{{"sdk":"0.1.0","unchecked_echo":{unchecked}}}"#),
        "the module says whether it checks what it echoes (abi-spec 1.2)"
    );
    let mut guest = Guest::from_file(&wasm, FreeMode::All).unwrap();
    let abi = guest.abi().expect("the exports show the ABI");
    assert_eq!(validate(guest.info(), abi), [], "{features:?}");
    assert_eq!(guest.name().unwrap(), "Hello World WASM Plugin");
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    guest
}

/// The content of the module's `bifrost-plugin-sdk` custom section.
fn marker(wasm: &[u8]) -> String {
    let sections: Vec<String> = wasmparser::Parser::new(0)
        .parse_all(wasm)
        .filter_map(|payload| match payload.unwrap() {
            wasmparser::Payload::CustomSection(s) if s.name() == "bifrost-plugin-sdk" => {
                Some(String::from_utf8(s.data().to_vec()).unwrap())
            }
            _ => None,
        })
        .collect();
    assert_eq!(sections.len(), 1, "one marker section");
    sections[0].clone()
}

/// Spacing and key order a re-serialised request would lose.
const REQUEST: &str = r#"{ "model":"gpt-4o-mini", "messages":[], "temperature":1.50 }"#;

fn request() -> HookInput {
    HookInput::new()
        .with_context(r#"{"request_id":"r1"}"#)
        .with_request(REQUEST)
}

#[test]
fn seed_build_passes_the_request_through_byte_for_byte() {
    let mut guest = load(&[]);
    let output = guest.call_hook(Hook::PreHook, &request()).unwrap();
    assert_eq!(
        String::from_utf8_lossy(output.raw()),
        format!(r#"{{"request":{REQUEST},"short_circuit":null,"error":""}}"#)
    );
    assert_eq!(guest.cleanup().unwrap(), 0);
}

#[test]
fn single_input_build_passes_the_request_through_and_marks_the_context() {
    let mut guest = load(&["single-input-abi"]);
    let output = guest.call_hook(Hook::PreHook, &request()).unwrap();
    // The host's context key and value come back as sent, next to the mark.
    assert_eq!(
        String::from_utf8_lossy(output.raw()),
        format!(
            r#"{{"context":{{"from-pre-hook":"789","request_id":"r1"}},"request":{REQUEST},"short_circuit":null,"has_short_circuit":false,"error":""}}"#
        )
    );
    assert_eq!(guest.cleanup().unwrap(), 0);
}

#[test]
fn unchecked_echo_build_sends_the_request_back_as_it_came() {
    let mut guest = load(&["unchecked-echo"]);
    // Unedited requests go back unchecked, valid or not.
    for request in [&br#"{"model":"gpt-4o-mini"}"#[..], br#"{"model": [1,}"#] {
        let output = guest.pre_hook(b"{}", request).unwrap();
        let mut expected = b"{\"request\":".to_vec();
        expected.extend_from_slice(request);
        expected.extend_from_slice(br#","short_circuit":null,"error":""}"#);
        assert_eq!(
            String::from_utf8_lossy(&output),
            String::from_utf8_lossy(&expected)
        );
    }
    // The O(1) look before the hook still runs.
    let output = guest.pre_hook(b"{}", b"[1]").unwrap();
    assert!(String::from_utf8_lossy(&output).contains("request must be a JSON object"));
}

#[test]
fn wasip1_build_logs_what_it_sees_like_the_tinygo_example() {
    let mut guest =
        build::load_plugin(env!("CARGO_MANIFEST_DIR"), Abi::Seed, build::WASIP1_TARGET).unwrap();
    assert_eq!(guest.name().unwrap(), "Hello World WASM Plugin");
    assert_eq!(guest.init(br#"{"greeting":"hi"}"#).unwrap(), 0);
    let request =
        r#"{"provider":"openai","model":"gpt-4o-mini","input":[{"role":"user","content":"hi"}]}"#;
    let input = HookInput::new()
        .with_context(r#"{"request_id":"r1"}"#)
        .with_request(request);
    let output = guest.call_hook(Hook::PreHook, &input).unwrap();
    assert_eq!(output.plugin_error(), None);
    assert_eq!(output.json()["request"]["model"], "gpt-4o-mini");
    let response = r#"{"chat_response":{"model":"gpt-4o-mini","choices":[]}}"#;
    guest
        .post_hook(br#"{"request_id":"r1"}"#, response.as_bytes(), b"")
        .unwrap();
    assert_eq!(guest.cleanup().unwrap(), 0);
    assert_eq!(
        guest.take_log_lines(),
        [
            "INFO Hello World WASM Plugin: init: Hello World WASM Plugin, configuration accepted",
            "INFO Hello World WASM Plugin: pre_hook: model gpt-4o-mini, provider openai, 1 messages, request r1",
            "INFO Hello World WASM Plugin: post_hook: response from model gpt-4o-mini, error -, request r1",
            "INFO Hello World WASM Plugin: cleanup",
        ]
    );
    assert_eq!(
        guest.take_stdout(),
        b"",
        "logs go to stderr, never to stdout"
    );
}
