//! The LLM request and response are checked when they are used, not before
//! the hook runs: a plugin that reads one sees it parsed (and a broken one is
//! reported), a pass-through is scanned once to be echoed, and a plugin that
//! answers without looking does not pay for, or fail on, a request it ignores.

use bifrost_plugin_sdk::abi::{seed, single};
use bifrost_plugin_sdk::prelude::*;
use serde_json::{json, Value};

/// Reads the model: `"respond"` short-circuits, anything else continues.
struct Reader;

impl Plugin for Reader {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(Reader)
    }
    fn pre_hook(&mut self, _ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
        match req.model() {
            Some("respond") => Ok(PreHook::Respond(LlmResponse::chat("m", "hi"))),
            _ => Ok(PreHook::Continue(req)),
        }
    }
    fn post_hook(
        &mut self,
        _ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        let _ = response.as_ref().and_then(LlmResponse::model);
        Ok(PostHook::new(response, error))
    }
}

/// Answers every request without reading it.
struct Blind;

impl Plugin for Blind {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(Blind)
    }
    fn pre_hook(&mut self, _ctx: &mut Context, _req: LlmRequest) -> Result<PreHook, PluginError> {
        Ok(PreHook::Fail(LlmError::new("closed").with_status(503)))
    }
}

/// Passes everything through.
struct Echo;

impl Plugin for Echo {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(Echo)
    }
}

const BROKEN: &[u8] = br#"{"model": "m", "input": [1,}"#;

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("output is JSON")
}

#[test]
fn a_broken_request_the_plugin_reads_is_reported_not_acted_on() {
    let out = parse(&seed::pre_hook::<Reader>(Ok(b"{}"), Ok(BROKEN)));
    assert_eq!(out["request"], Value::Null);
    assert_eq!(out["short_circuit"], Value::Null);
    let error = out["error"].as_str().unwrap();
    assert!(error.starts_with("request is not valid JSON"), "{error}");

    let input = format!(
        r#"{{"context":{{"k":1}},"request":{}}}"#,
        "{\"model\":\"m\",\"x\":\"\\udc00\"}"
    );
    let out = parse(&single::pre_hook::<Reader>(Ok(input.as_bytes())));
    let error = out["error"].as_str().unwrap();
    // serde_json's message, or the validator's with the feature compact-reader.
    assert!(
        error.starts_with("request is not valid JSON: lone")
            || error.starts_with("request has an unpaired UTF-16 surrogate escape"),
        "{error}"
    );
    assert_eq!(out["context"], json!({"k": 1}));
    assert_eq!(out["has_short_circuit"], false);
}

#[test]
fn a_broken_request_passed_through_is_reported_not_echoed() {
    let out = parse(&seed::pre_hook::<Echo>(Ok(b"{}"), Ok(BROKEN)));
    assert_eq!(out["request"], Value::Null);
    let error = out["error"].as_str().unwrap();
    assert!(error.starts_with("request is not valid JSON"), "{error}");
}

#[test]
fn a_plugin_that_answers_without_reading_does_not_fail_on_the_request() {
    let out = parse(&seed::pre_hook::<Blind>(Ok(b"{}"), Ok(BROKEN)));
    assert_eq!(out["error"], "");
    assert_eq!(out["short_circuit"]["error"]["error"]["message"], "closed");
}

#[test]
fn a_request_read_but_unchanged_is_echoed_byte_for_byte() {
    let text = br#"{ "model" : "m", "temperature": 0.70 }"#;
    let out = seed::pre_hook::<Reader>(Ok(b"{}"), Ok(text));
    let expected = format!(
        r#"{{"request":{},"short_circuit":null,"error":""}}"#,
        std::str::from_utf8(text).unwrap()
    );
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

// One plugin type per test: the plugin slot is per thread, like a wasm
// instance's.
#[test]
fn a_broken_response_the_plugin_reads_is_reported() {
    assert_broken_response(seed::post_hook::<Reader>(Ok(b"{}"), Ok(BROKEN), Ok(b"")));
}

#[test]
fn a_broken_response_passed_through_is_reported() {
    assert_broken_response(seed::post_hook::<Echo>(Ok(b"{}"), Ok(BROKEN), Ok(b"")));
}

fn assert_broken_response(out: Vec<u8>) {
    let out = parse(&out);
    assert_eq!(out["response"], Value::Null);
    let error = out["error"].as_str().unwrap();
    assert!(error.starts_with("response is not valid JSON"), "{error}");
}
