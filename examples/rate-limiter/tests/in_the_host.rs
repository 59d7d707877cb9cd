//! The limiter built for wasm32-wasip1 and run in the local host as Bifrost
//! calls it, with the test holding the clock: the one-minute window is
//! tested by moving time, not by waiting. The wasm32-unknown-unknown build
//! of the same code is run too: there it has no clock, and says so.

use std::time::{Duration, SystemTime};

use bifrost_plugin_host::{build, Abi, Guest, Hook, HookInput};
use bifrost_plugin_sdk::serde_json::Value;

/// The wasip1 limiter with `config`, its clock fixed at a known time.
fn limiter(abi: Abi, config: &str) -> Guest {
    let mut guest =
        build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, build::WASIP1_TARGET).unwrap();
    assert_eq!(guest.name().unwrap(), "rate-limiter");
    guest
        .clock()
        .set(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    assert_eq!(guest.init(config.as_bytes()).unwrap(), 0, "{config}");
    guest
}

fn llm_request(context: &str) -> HookInput {
    HookInput::new()
        .with_context(context)
        .with_request(r#"{"model":"gpt-4o-mini","input":[]}"#)
}

/// `None` if the request went through, else the LLM error it was refused with.
fn pre_hook(guest: &mut Guest, context: &str) -> Option<Value> {
    let output = guest
        .call_hook(Hook::PreHook, &llm_request(context))
        .unwrap();
    assert_eq!(output.plugin_error(), None, "{}", output.json());
    let json = output.json();
    match &json["short_circuit"] {
        Value::Null => {
            assert_eq!(json["request"]["model"], "gpt-4o-mini");
            None
        }
        short_circuit => Some(short_circuit["error"].clone()),
    }
}

fn assert_refused(refusal: Option<Value>, wait_seconds: u64) {
    let error = refusal.expect("refused");
    assert_eq!(error["status_code"], 429, "{error}");
    assert_eq!(error["error"]["type"], "rate_limited", "{error}");
    assert_eq!(
        error["error"]["message"],
        format!("rate limit of 2 requests per minute exceeded; retry in {wait_seconds} s"),
        "{error}"
    );
}

#[test]
fn the_third_request_within_a_minute_is_refused_until_the_first_ages_out() {
    for abi in Abi::ALL {
        let mut guest = limiter(abi, r#"{"requests_per_minute": 2}"#);
        assert_eq!(pre_hook(&mut guest, "{}"), None);
        guest.clock().advance(Duration::from_secs(10));
        assert_eq!(pre_hook(&mut guest, "{}"), None);
        guest.clock().advance(Duration::from_secs(5));
        assert_refused(pre_hook(&mut guest, "{}"), 45);
        guest.clock().advance(Duration::from_millis(44_500));
        assert_refused(pre_hook(&mut guest, "{}"), 1);
        guest.clock().advance(Duration::from_millis(500));
        assert_eq!(pre_hook(&mut guest, "{}"), None, "60 s after the first");
        assert_refused(pre_hook(&mut guest, "{}"), 10);

        let lines = guest.take_log_lines();
        assert_eq!(
            lines[0],
            "INFO rate-limiter: 2 requests per minute, counted by Shared"
        );
        assert_eq!(
            lines[1],
            "WARN rate-limiter: (shared counter): rate limit of 2 requests per minute exceeded; \
             retry in 45 s"
        );
        assert_eq!(lines.len(), 4, "{lines:#?}");
    }
}

#[test]
fn a_context_key_gives_each_value_its_own_window() {
    for abi in Abi::ALL {
        let mut guest = limiter(abi, r#"{"requests_per_minute": 2, "key": "user"}"#);
        let alice = r#"{"request_id":"1","user":"alice"}"#;
        let bob = r#"{"request_id":"2","user":"bob"}"#;
        assert_eq!(pre_hook(&mut guest, alice), None);
        assert_eq!(pre_hook(&mut guest, alice), None);
        assert_refused(pre_hook(&mut guest, alice), 60);
        assert_eq!(pre_hook(&mut guest, bob), None, "bob has his own window");
        // Requests without the key share one counter.
        assert_eq!(pre_hook(&mut guest, "{}"), None);
        assert_eq!(pre_hook(&mut guest, "{}"), None);
        assert_refused(pre_hook(&mut guest, "{}"), 60);
    }
}

#[test]
fn a_header_key_is_counted_in_the_http_hook_and_answered_with_an_http_429() {
    for abi in Abi::ALL {
        let mut guest = limiter(
            abi,
            r#"{"requests_per_minute": 2, "key": "header:X-Api-Key"}"#,
        );
        let http = |guest: &mut Guest, key: &str| {
            let input = HookInput::new().with_context("{}").with_request(format!(
                r#"{{"method":"POST","path":"/v1/chat/completions","headers":{{"x-api-key":"{key}"}},"query":{{}},"body":""}}"#
            ));
            let output = guest.call_hook(Hook::HttpPreHook, &input).unwrap();
            assert_eq!(output.plugin_error(), None, "{}", output.json());
            output.json().clone()
        };
        for _ in 0..2 {
            assert_eq!(http(&mut guest, "k1")["response"], Value::Null);
        }
        let refused = http(&mut guest, "k1");
        let response = &refused["response"];
        assert_eq!(response["status_code"], 429, "{refused}");
        assert_eq!(response["headers"]["Retry-After"], "60", "{refused}");
        assert_eq!(http(&mut guest, "k2")["response"], Value::Null);
        // pre_hook does not count a second time.
        for _ in 0..3 {
            assert_eq!(pre_hook(&mut guest, "{}"), None);
        }
    }
}

#[test]
fn a_config_without_a_limit_fails_init_with_the_reason() {
    for abi in Abi::ALL {
        let mut guest =
            build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, build::WASIP1_TARGET).unwrap();
        assert_ne!(guest.init(br#"{"key": "user"}"#).unwrap(), 0);
        let output = guest.call_hook(Hook::PreHook, &llm_request("{}")).unwrap();
        assert_eq!(
            output.plugin_error(),
            Some(
                "plugin is not initialised: init failed: \
                 config field `requests_per_minute` must be at least 1"
            )
        );
    }
}

#[test]
fn without_a_clock_the_unknown_unknown_build_says_so_instead_of_trapping() {
    for abi in Abi::ALL {
        let mut guest =
            build::load_plugin(env!("CARGO_MANIFEST_DIR"), abi, build::WASM_TARGET).unwrap();
        assert_eq!(
            guest.import_count(),
            0,
            "wasm32-unknown-unknown imports nothing"
        );
        assert_eq!(guest.init(br#"{"requests_per_minute": 2}"#).unwrap(), 0);
        for _ in 0..2 {
            let output = guest.call_hook(Hook::PreHook, &llm_request("{}")).unwrap();
            assert_eq!(
                output.plugin_error(),
                Some(
                    "no clock on this target: only a plugin built for wasm32-wasip1 has one \
                     (a wasm32-unknown-unknown plugin imports nothing)"
                ),
                "and the plugin's state survives: the second call says the same"
            );
        }
    }
}

#[test]
fn a_huge_key_is_logged_on_one_line_cut_with_a_marker() {
    for abi in Abi::ALL {
        let mut guest = limiter(abi, r#"{"requests_per_minute": 2, "key": "user"}"#);
        guest.take_stderr();
        // A client-chosen value of 10,000 bytes, with a line break in it.
        let user = format!("{}\\n{}", "a".repeat(5_000), "b".repeat(5_000));
        let context = format!(r#"{{"user":"{user}"}}"#);
        for _ in 0..2 {
            assert_eq!(pre_hook(&mut guest, &context), None);
        }
        assert!(pre_hook(&mut guest, &context).is_some());
        let stderr = String::from_utf8(guest.take_stderr()).unwrap();
        let [line] = stderr.lines().collect::<Vec<_>>()[..] else {
            panic!("one record, one line: {stderr:?}")
        };
        assert!(stderr.ends_with('\n'));
        let message = line.strip_prefix("WARN rate-limiter: ").unwrap();
        // 4,096 bytes of the message are kept: 5,000 'a's do not fit.
        let cut = 5_000
            + 1
            + 5_000
            + ": rate limit of 2 requests per minute exceeded; retry in 60 s".len()
            - 4_096;
        assert_eq!(message, format!("{}…[cut {cut} bytes]", "a".repeat(4_096)));
    }
}
