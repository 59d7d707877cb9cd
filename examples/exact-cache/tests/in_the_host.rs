//! The cache built to `.wasm` and run in the local host on both ABIs, call
//! after call as Bifrost makes them (`cargo test` builds the `.wasm` itself).

use bifrost_plugin_host::{build, Abi, Guest, Hook, HookInput, HookOutput};
use bifrost_plugin_sdk::serde_json::Value;

fn load(abi: Abi, config: &str) -> (Guest, i32) {
    let mut guest =
        build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, build::WASM_TARGET).unwrap();
    assert_eq!(guest.name().unwrap(), "exact-cache");
    let status = guest.init(config.as_bytes()).unwrap();
    (guest, status)
}

fn cache(abi: Abi, max_entries: usize) -> Guest {
    let (guest, status) = load(abi, &format!(r#"{{"max_entries":{max_entries}}}"#));
    assert_eq!(status, 0);
    guest
}

fn context(request_id: &str) -> String {
    format!(r#"{{"request_id":"{request_id}"}}"#)
}

/// A chat request in Bifrost's `chat_request` shape.
fn chat(text: &str) -> String {
    format!(
        r#"{{"chat_request":{{"provider":"openai","model":"gpt-4o-mini","input":[{{"role":"user","content":"{text}"}}],"params":{{"temperature":0.5}}}}}}"#
    )
}

/// A chat response as the provider would send it.
fn reply(text: &str) -> String {
    format!(
        r#"{{"chat_response":{{"id":"chatcmpl-{text}","object":"chat.completion","model":"gpt-4o-mini","choices":[{{"index":0,"message":{{"role":"assistant","content":"{text}"}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}}}}}"#
    )
}

fn pre_hook(guest: &mut Guest, request_id: &str, request: &str) -> HookOutput {
    let input = HookInput::new()
        .with_context(context(request_id))
        .with_request(request);
    let output = guest.call_hook(Hook::PreHook, &input).unwrap();
    assert_eq!(output.plugin_error(), None, "{request}");
    output
}

/// pre_hook; the cached response's raw text when the cache answered.
fn ask(guest: &mut Guest, request_id: &str, request: &str) -> Option<String> {
    let output = pre_hook(guest, request_id, request);
    let short_circuit = &output.json()["short_circuit"];
    if short_circuit.is_null() {
        assert!(
            !output.json()["request"].is_null(),
            "a miss goes on to the provider"
        );
        return None;
    }
    assert!(short_circuit["error"].is_null());
    Some(short_circuit["response"].to_string())
}

/// post_hook with the provider's response; checks it is passed on as it came.
fn answer(guest: &mut Guest, request_id: &str, response: &str) {
    let input = HookInput::new()
        .with_context(context(request_id))
        .with_response(response);
    let output = guest.call_hook(Hook::PostHook, &input).unwrap();
    assert_eq!(output.plugin_error(), None);
    let raw = String::from_utf8_lossy(output.raw());
    assert!(raw.contains(response), "passed on byte for byte: {raw}");
}

fn same_json(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> Value { bifrost_plugin_sdk::serde_json::from_str(s).unwrap() };
    parse(a) == parse(b)
}

#[test]
fn an_identical_request_is_answered_from_the_cache_under_any_request_id() {
    for abi in Abi::ALL {
        let mut guest = cache(abi, 8);
        assert_eq!(ask(&mut guest, "r1", &chat("Hi")), None, "{abi:?}");
        answer(&mut guest, "r1", &reply("Hello"));
        let hit = ask(&mut guest, "r2", &chat("Hi")).expect("a hit");
        assert!(same_json(&hit, &reply("Hello")), "{abi:?}: {hit}");
        // The same request in another shape, key order and number form.
        let reordered = r#"{"params":{"temperature":0.50},"input":[{"content":"Hi","role":"user"}],"model":"gpt-4o-mini","provider":"openai"}"#;
        assert!(ask(&mut guest, "r3", reordered).is_some(), "{abi:?}");
        assert_eq!(guest.cleanup().unwrap(), 0);
    }
}

#[test]
fn a_different_model_message_or_param_misses() {
    for abi in Abi::ALL {
        let mut guest = cache(abi, 8);
        ask(&mut guest, "r1", &chat("Hi"));
        answer(&mut guest, "r1", &reply("Hello"));
        for request in [
            chat("Hi!"),
            chat("Hi").replace("gpt-4o-mini", "gpt-4o"),
            chat("Hi").replace("\"temperature\":0.5", "\"temperature\":0.7"),
            chat("Hi").replace("\"role\":\"user\"", "\"role\":\"system\""),
        ] {
            assert_eq!(ask(&mut guest, "r2", &request), None, "{abi:?} {request}");
        }
    }
}

#[test]
fn the_least_recently_used_response_is_evicted() {
    for abi in Abi::ALL {
        let mut guest = cache(abi, 2);
        for (id, text) in [("1", "a"), ("2", "b")] {
            ask(&mut guest, id, &chat(text));
            answer(&mut guest, id, &reply(text));
        }
        assert!(
            ask(&mut guest, "3", &chat("a")).is_some(),
            "a is now the most recent"
        );
        ask(&mut guest, "4", &chat("c"));
        answer(&mut guest, "4", &reply("c"));
        assert_eq!(
            ask(&mut guest, "5", &chat("b")),
            None,
            "{abi:?}: b was evicted"
        );
        let a = ask(&mut guest, "6", &chat("a")).expect("a stays");
        assert!(same_json(&a, &reply("a")));
        assert!(ask(&mut guest, "7", &chat("c")).is_some());
    }
}

#[test]
fn errors_are_passed_on_and_not_cached() {
    for abi in Abi::ALL {
        let mut guest = cache(abi, 4);
        ask(&mut guest, "r1", &chat("Hi"));
        let error =
            r#"{"is_bifrost_error":false,"status_code":503,"error":{"message":"provider down"}}"#;
        let input = HookInput::new()
            .with_context(context("r1"))
            .with_error(error);
        let output = guest.call_hook(Hook::PostHook, &input).unwrap();
        assert_eq!(output.plugin_error(), None);
        assert!(String::from_utf8_lossy(output.raw()).contains(error));
        assert_eq!(ask(&mut guest, "r2", &chat("Hi")), None, "{abi:?}");
    }
}

#[test]
fn memory_stays_bounded_when_the_host_never_calls_post_hook() {
    for abi in Abi::ALL {
        let mut guest = cache(abi, 16);
        let call = |guest: &mut Guest, i: usize| {
            let request = chat(&format!("question number {i}"));
            ask(guest, &format!("request-{i}"), &request);
        };
        for i in 0..300 {
            call(&mut guest, i);
        }
        let settled = guest.memory_size();
        for i in 300..1500 {
            call(&mut guest, i);
        }
        assert_eq!(guest.memory_size(), settled, "{abi:?}");
        // The newest requests still get their response cached.
        answer(&mut guest, "request-1499", &reply("late"));
        assert!(ask(&mut guest, "again", &chat("question number 1499")).is_some());
    }
}

#[test]
fn a_huge_max_entries_is_accepted_without_reserving_memory() {
    for abi in Abi::ALL {
        let (mut guest, status) = load(abi, r#"{"max_entries":4294967295}"#);
        assert_eq!(status, 0, "{abi:?}");
        assert!(guest.memory_size() < 4 << 20, "{}", guest.memory_size());
        ask(&mut guest, "r1", &chat("Hi"));
        answer(&mut guest, "r1", &reply("Hello"));
        assert!(ask(&mut guest, "r2", &chat("Hi")).is_some());
    }
}

#[test]
fn config_errors_name_max_entries() {
    for abi in Abi::ALL {
        for config in [
            "{}",
            r#"{"max_entries":0}"#,
            r#"{"max_entries":-1}"#,
            r#"{"max_entries":"10"}"#,
        ] {
            let (mut guest, status) = load(abi, config);
            assert_ne!(status, 0, "{config}");
            let input = HookInput::new().with_context("{}").with_request(chat("Hi"));
            let output = guest.call_hook(Hook::PreHook, &input).unwrap();
            let error = output.plugin_error().unwrap_or_default();
            assert!(error.contains("max_entries"), "{abi:?} {config}: {error}");
        }
    }
}

#[test]
fn malformed_input_gets_the_sdks_error_not_a_trap() {
    for abi in Abi::ALL {
        let mut guest = cache(abi, 4);
        let input = HookInput::new().with_context("{}").with_request("[1]");
        let output = guest.call_hook(Hook::PreHook, &input).unwrap();
        let error = output.plugin_error().unwrap_or_default();
        assert!(error.contains("request must be a JSON object"), "{error}");
        ask(&mut guest, "r1", &chat("Hi"));
        let input = HookInput::new()
            .with_context(context("r1"))
            .with_response("[2]");
        let output = guest.call_hook(Hook::PostHook, &input).unwrap();
        let error = output.plugin_error().unwrap_or_default();
        assert!(
            error.contains("response must be a JSON object"),
            "{abi:?}: {error}"
        );
        assert_eq!(
            ask(&mut guest, "r2", &chat("Hi")),
            None,
            "nothing was cached"
        );
    }
}
