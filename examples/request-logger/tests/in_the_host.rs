//! The logger built for wasm32-wasip1 and run in the local host, the test
//! holding the clock and reading the plugin's stderr: one line per request
//! and per response, with the time between them.

use std::time::{Duration, SystemTime};

use bifrost_plugin_host::{build, Abi, Guest, Hook, HookInput};

fn logger(target: &'static str, abi: Abi) -> Guest {
    let mut guest = build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, target).unwrap();
    assert_eq!(guest.name().unwrap(), "request-logger");
    assert_eq!(guest.init(b"").unwrap(), 0);
    guest
}

const REQUEST: &str = r#"{"provider":"openai","model":"gpt-4o-mini","input":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}"#;
const RESPONSE: &str = r#"{"chat_response":{"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}}}"#;

fn exchange(guest: &mut Guest, id: &str, between: Duration) {
    let context = format!(r#"{{"request_id":"{id}"}}"#);
    let pre = HookInput::new()
        .with_context(context.as_str())
        .with_request(REQUEST);
    let output = guest.call_hook(Hook::PreHook, &pre).unwrap();
    assert_eq!(output.plugin_error(), None);
    assert_eq!(
        output.json()["request"]["model"],
        "gpt-4o-mini",
        "unchanged"
    );
    guest.clock().advance(between);
    let post = HookInput::new()
        .with_context(context.as_str())
        .with_response(RESPONSE);
    let output = guest.call_hook(Hook::PostHook, &post).unwrap();
    assert_eq!(output.plugin_error(), None);
}

#[test]
fn one_line_per_request_and_per_response_with_the_time_between() {
    for abi in Abi::ALL {
        let mut guest = logger(build::WASIP1_TARGET, abi);
        guest
            .clock()
            .set(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        exchange(&mut guest, "r1", Duration::from_millis(840));
        assert_eq!(
            guest.take_log_lines(),
            [
                "INFO request-logger: request id=r1 model=gpt-4o-mini provider=openai messages=2",
                "INFO request-logger: response id=r1 model=gpt-4o-mini-2024-07-18 prompt_tokens=12 \
                 completion_tokens=30 total_tokens=42 elapsed_ms=840",
            ]
        );
    }
}

#[test]
fn an_error_response_logs_the_error_and_an_unknown_request_no_time() {
    for abi in Abi::ALL {
        let mut guest = logger(build::WASIP1_TARGET, abi);
        let post = HookInput::new()
            .with_context(r#"{"request_id":"never-seen"}"#)
            .with_error(r#"{"status_code":502,"error":{"message":"upstream timeout"}}"#);
        let output = guest.call_hook(Hook::PostHook, &post).unwrap();
        assert_eq!(output.plugin_error(), None);
        assert_eq!(
            guest.take_log_lines(),
            [r#"INFO request-logger: response id=never-seen model=- error="upstream timeout""#]
        );
    }
}

#[test]
fn the_unknown_unknown_build_passes_everything_through_silently() {
    for abi in Abi::ALL {
        let mut guest = logger(build::WASM_TARGET, abi);
        assert_eq!(guest.import_count(), 0);
        exchange(&mut guest, "r1", Duration::ZERO);
    }
}

#[test]
fn a_request_unanswered_for_ten_minutes_is_forgotten() {
    for abi in Abi::ALL {
        let mut guest = logger(build::WASIP1_TARGET, abi);
        let pre = |guest: &mut Guest, id: &str| {
            let input = HookInput::new()
                .with_context(format!(r#"{{"request_id":"{id}"}}"#))
                .with_request(REQUEST);
            let output = guest.call_hook(Hook::PreHook, &input).unwrap();
            assert_eq!(output.plugin_error(), None);
        };
        pre(&mut guest, "slow");
        guest.clock().advance(Duration::from_secs(601));
        pre(&mut guest, "next"); // remembering it drops what is too old
        let post = HookInput::new()
            .with_context(r#"{"request_id":"slow"}"#)
            .with_response(RESPONSE);
        guest.call_hook(Hook::PostHook, &post).unwrap();
        let lines = guest.take_log_lines();
        assert!(
            lines[2].starts_with("INFO request-logger: response id=slow ")
                && !lines[2].contains("elapsed_ms"),
            "{abi:?}: {lines:?}"
        );
    }
}
