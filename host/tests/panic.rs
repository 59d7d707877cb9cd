//! A panic in plugin code traps the call (wasm32 cannot unwind), and the next
//! calls say why, until `init` builds a new plugin. Uses the test plugin in
//! `test-plugins/panicking`, built by `make build-test-plugins`.

mod common;

use bifrost_plugin_host::{FreeMode, Guest};
use serde_json::Value;

fn panicking_plugin() -> Guest {
    let wasm = common::test_plugin_wasm("panicking.wasm");
    Guest::load(&wasm, FreeMode::All).expect("the plugin loads")
}

fn pre_hook(guest: &mut Guest, model: &str) -> Result<Value, String> {
    let request = format!(r#"{{"model":"{model}"}}"#);
    let out = guest
        .pre_hook(b"{}", request.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(serde_json::from_slice(&out).expect("output is JSON"))
}

#[test]
fn a_panic_traps_the_call_and_later_calls_report_it_until_init() {
    let mut guest = panicking_plugin();
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    assert_eq!(
        pre_hook(&mut guest, "m").unwrap()["request"]["model"],
        "call-1"
    );

    let trap = pre_hook(&mut guest, "panic").unwrap_err();
    assert!(trap.contains("`pre_hook` trapped"), "{trap}");

    // The instance stays usable; the plugin value died with the call.
    let out = pre_hook(&mut guest, "m").unwrap();
    let error = out["error"].as_str().unwrap();
    assert!(
        error.starts_with("plugin state was lost: an earlier call panicked at")
            && error.contains("src/lib.rs")
            && error.contains("the plugin author's bug (call 2)"),
        "{error}"
    );
    assert_eq!(out["request"], Value::Null, "the request is left unchanged");

    assert_eq!(guest.init(b"{}").unwrap(), 0);
    assert_eq!(
        pre_hook(&mut guest, "m").unwrap()["request"]["model"],
        "call-1",
        "a fresh plugin"
    );
}

#[test]
fn an_err_from_plugin_code_is_reported_and_keeps_the_state() {
    let mut guest = panicking_plugin();
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    let out = pre_hook(&mut guest, "fail").unwrap();
    assert_eq!(out["error"], "asked to fail");
    assert_eq!(out["request"], Value::Null);
    assert_eq!(
        pre_hook(&mut guest, "m").unwrap()["request"]["model"],
        "call-2"
    );
}

#[test]
fn a_panic_in_cleanup_is_reported_by_the_next_call_not_taken_for_a_clean_shutdown() {
    let mut guest = panicking_plugin();
    assert_eq!(guest.init(br#"{"panic_in_cleanup":true}"#).unwrap(), 0);
    let trap = guest.cleanup().unwrap_err().to_string();
    assert!(trap.contains("`cleanup` trapped"), "{trap}");
    let out = pre_hook(&mut guest, "m").unwrap();
    let error = out["error"].as_str().unwrap();
    assert!(
        error.starts_with("plugin state was lost: an earlier call panicked at")
            && error.contains("the plugin author's cleanup bug"),
        "{error}"
    );
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    assert_eq!(guest.cleanup().unwrap(), 0, "a fresh plugin cleans up");
}

/// abi-spec 5.2 in a built `.wasm`: `init` returns 2 when the plugin's own
/// `init` fails, `cleanup` returns 2 when its `cleanup` does; later hooks
/// say why, and `init` recovers from both.
#[test]
fn init_and_cleanup_return_2_when_the_plugins_own_fail_and_hooks_say_why() {
    let mut guest = panicking_plugin();
    assert_eq!(guest.init(br#"{"init_error":"no key"}"#).unwrap(), 2);
    let out = pre_hook(&mut guest, "m").unwrap();
    assert_eq!(
        out["error"],
        "plugin is not initialised: init failed: no key"
    );
    assert_eq!(guest.cleanup().unwrap(), 0, "nothing to clean up");

    assert_eq!(guest.init(br#"{"cleanup_error":"disk full"}"#).unwrap(), 0);
    assert_eq!(pre_hook(&mut guest, "m").unwrap()["error"], "");
    assert_eq!(guest.cleanup().unwrap(), 2);
    for _ in 0..2 {
        let out = pre_hook(&mut guest, "m").unwrap();
        assert_eq!(
            out["error"],
            "plugin is not initialised: cleanup failed: disk full"
        );
    }
    assert_eq!(guest.cleanup().unwrap(), 0, "the plugin was dropped anyway");

    assert_eq!(guest.init(b"{}").unwrap(), 0);
    assert_eq!(
        pre_hook(&mut guest, "m").unwrap()["request"]["model"],
        "call-1",
        "a fresh plugin"
    );
    assert_eq!(guest.init(br#"{"panic_in_cleanup":"yes"}"#).unwrap(), 1);
    assert_eq!(
        pre_hook(&mut guest, "m").unwrap()["error"],
        r#"plugin is not initialised: config is not valid: `panic_in_cleanup`: invalid type: string, expected a boolean"#
    );
}

#[test]
fn on_wasip1_the_panic_is_logged_before_the_trap() {
    let wasm = common::test_plugin_wasm("panicking-wasi.wasm");
    let mut guest = Guest::load(&wasm, FreeMode::All).expect("the plugin loads");
    assert_eq!(guest.init(b"{}").unwrap(), 0);
    let trap = pre_hook(&mut guest, "panic").unwrap_err();
    assert!(trap.contains("`pre_hook` trapped"), "{trap}");
    let lines = guest.take_log_lines();
    let [line] = lines.as_slice() else {
        panic!("one line per panic: {lines:?}")
    };
    assert!(
        line.starts_with("ERROR panicking: panicked at test-plugins/panicking/src/lib.rs:"),
        "{line}"
    );
    assert!(
        line.ends_with(": the plugin author's bug (call 1)"),
        "{line}"
    );
}
