//! The single-input ABI's output for every decision a hook can make, through
//! the byte layer (the real-runtime tests cover the exports themselves).

use bifrost_plugin_sdk::abi::single;
use bifrost_plugin_sdk::prelude::*;
use serde_json::{json, Value};

/// Decides by the request's model / the chunk's text what to do.
struct Decider;

impl Plugin for Decider {
    type Config = ();
    fn init(_: ()) -> Result<Self, PluginError> {
        Ok(Decider)
    }

    fn http_pre_hook(
        &mut self,
        ctx: &mut Context,
        req: HttpRequest,
    ) -> Result<HttpPreHook, PluginError> {
        ctx.set("seen-path", req.path.as_str());
        match req.header("authorization") {
            Some(_) => Ok(HttpPreHook::Continue(req)),
            None => Ok(HttpPreHook::Respond(
                HttpResponse::new(401).with_body("no credentials"),
            )),
        }
    }

    fn http_post_hook(
        &mut self,
        ctx: &mut Context,
        _req: &HttpRequest,
        resp: &HttpResponse,
    ) -> Result<(), PluginError> {
        ctx.set("status", resp.status_code);
        Ok(())
    }

    fn http_stream_chunk_hook(
        &mut self,
        _ctx: &mut Context,
        _req: &HttpRequest,
        mut chunk: StreamChunk,
    ) -> Result<StreamChunkHook, PluginError> {
        match chunk.text() {
            Some("skip me") => Ok(StreamChunkHook::Skip),
            Some("fail") => Err(PluginError::new("chunk refused")),
            Some(text) => {
                let upper = text.to_uppercase();
                for mut choice in chunk.choices_mut() {
                    choice.set_text(upper.as_str());
                }
                Ok(StreamChunkHook::Continue(chunk))
            }
            None => Ok(StreamChunkHook::Continue(chunk)),
        }
    }

    fn pre_hook(&mut self, _ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
        match req.model() {
            Some("cached") => Ok(PreHook::Respond(LlmResponse::chat("cached", "from cache"))),
            Some("blocked") => Ok(PreHook::Fail(LlmError::new("blocked").with_status(403))),
            Some("broken") => Err(PluginError::new("plugin bug")),
            _ => Ok(PreHook::Continue(req)),
        }
    }

    fn post_hook(
        &mut self,
        _ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        match (response, error) {
            (None, Some(_)) => Ok(PostHook::respond(LlmResponse::chat(
                "fallback",
                "recovered",
            ))),
            (response, error) => Ok(PostHook::new(response, error)),
        }
    }
}

fn call(hook: fn(bifrost_plugin_sdk::abi::Input<'_>) -> Vec<u8>, input: Value) -> Value {
    let out = hook(Ok(input.to_string().as_bytes()));
    serde_json::from_slice(&out).expect("output is JSON")
}

#[test]
fn http_pre_hook_answers_with_a_response_and_has_response() {
    let out = call(
        single::http_pre_hook::<Decider>,
        json!({"context": {"a": 1}, "request": {"path": "/v1"}}),
    );
    assert_eq!(out["has_response"], true);
    assert_eq!(
        out["response"],
        json!({"status_code": 401, "headers": {}, "body": "bm8gY3JlZGVudGlhbHM="})
    );
    assert_eq!(out["request"], Value::Null);
    assert_eq!(out["context"], json!({"a": 1, "seen-path": "/v1"}));
}

#[test]
fn http_post_hook_records_into_the_context() {
    let input = json!({"context": {}, "request": {}, "response": {"status_code": 502}});
    let out = call(single::http_post_hook::<Decider>, input);
    assert_eq!(out, json!({"context": {"status": 502}, "error": ""}));
}

#[test]
fn a_chunk_the_sdk_cannot_type_is_refused_but_still_flows() {
    // The docs' Rust tab types the chunk as a base64 string.
    let input = json!({"context": {"k": "v"}, "chunk": "ZGF0YQ=="});
    let out = call(single::http_stream_chunk_hook::<Decider>, input);
    assert_eq!(out["error"], "chunk must be a JSON object, got a string");
    assert_eq!(out["chunk"], "ZGF0YQ==", "echoed as sent");
    assert_eq!(
        (out["has_chunk"].clone(), out["skip"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(out["context"], json!({"k": "v"}));
}

#[test]
fn stream_chunks_can_be_skipped_changed_or_refused() {
    let chunk = |text: &str| json!({"context": {}, "chunk": {"choices": [{"index": 0, "delta": {"content": text}}]}});
    let skipped = call(single::http_stream_chunk_hook::<Decider>, chunk("skip me"));
    assert_eq!(
        (
            skipped["chunk"].clone(),
            skipped["has_chunk"].clone(),
            skipped["skip"].clone()
        ),
        (Value::Null, json!(false), json!(true))
    );
    let changed = call(single::http_stream_chunk_hook::<Decider>, chunk("bon"));
    assert_eq!(changed["chunk"]["choices"][0]["delta"]["content"], "BON");
    assert_eq!(
        (changed["has_chunk"].clone(), changed["skip"].clone()),
        (json!(true), json!(false))
    );
    // An error keeps the chunk flowing (Bifrost logs it and continues).
    let refused = call(single::http_stream_chunk_hook::<Decider>, chunk("fail"));
    assert_eq!(refused["error"], "chunk refused");
    assert_eq!(refused["chunk"]["choices"][0]["delta"]["content"], "fail");
    assert_eq!(refused["has_chunk"], true);
}

#[test]
fn pre_hook_short_circuits_with_a_response_or_an_error() {
    let input = |model: &str| json!({"context": {}, "request": {"model": model}});
    let cached = call(single::pre_hook::<Decider>, input("cached"));
    assert_eq!(cached["has_short_circuit"], true);
    assert_eq!(cached["request"], Value::Null);
    assert_eq!(cached["short_circuit"]["error"], Value::Null);
    assert_eq!(
        cached["short_circuit"]["response"]["chat_response"]["choices"][0]["message"]["content"],
        "from cache"
    );
    let blocked = call(single::pre_hook::<Decider>, input("blocked"));
    assert_eq!(blocked["short_circuit"]["error"]["status_code"], 403);
    assert_eq!(blocked["short_circuit"]["response"], Value::Null);
    // A plugin error leaves the request as it came, with the reason.
    let broken = call(single::pre_hook::<Decider>, input("broken"));
    assert_eq!(
        (broken["request"].clone(), broken["error"].clone()),
        (json!({"model": "broken"}), json!("plugin bug"))
    );
    assert_eq!(broken["has_short_circuit"], false);
}

#[test]
fn post_hook_can_turn_an_error_into_a_response() {
    let input = json!({"context": {}, "response": null, "error": {"error": {"message": "down"}}, "has_error": true});
    let out = call(single::post_hook::<Decider>, input);
    assert_eq!(
        (out["error"].clone(), out["has_error"].clone()),
        (Value::Null, json!(false))
    );
    assert_eq!(
        out["response"]["chat_response"]["choices"][0]["message"]["content"],
        "recovered"
    );
    // has_error: false means no error, whatever `error` holds.
    let input = json!({"context": {}, "response": {"id": "r"}, "error": {"error": {"message": "stale"}}, "has_error": false});
    let out = call(single::post_hook::<Decider>, input);
    assert_eq!(
        (out["response"].clone(), out["has_error"].clone()),
        (json!({"id": "r"}), json!(false))
    );
}

#[test]
fn has_error_must_be_a_boolean_or_absent() {
    let input = json!({"context": {"k": 1}, "response": {"id": "r"}, "has_error": "yes"});
    let out = call(single::post_hook::<Decider>, input);
    assert_eq!(
        out["hook_error"],
        "input field `has_error` must be a boolean"
    );
    // The envelope is still an object: what it holds is echoed.
    assert_eq!(
        (out["context"].clone(), out["response"].clone()),
        (json!({"k": 1}), json!({"id": "r"}))
    );
    // `has_error` then counts as absent: an error is echoed, `{}` is none.
    let error = json!({"error": {"message": "down"}});
    let input = json!({"context": {}, "error": error, "has_error": 1});
    let out = call(single::post_hook::<Decider>, input);
    assert_eq!((&out["error"], &out["has_error"]), (&error, &json!(true)));
    let input = json!({"context": {}, "error": {}, "has_error": 1});
    let out = call(single::post_hook::<Decider>, input);
    assert_eq!(
        (&out["error"], &out["has_error"]),
        (&json!(null), &json!(false))
    );
    let input = json!({"context": {"k": 1}, "response": {"id": "r"}, "has_error": null});
    let out = call(single::post_hook::<Decider>, input);
    assert_eq!(
        (out["hook_error"].clone(), out["context"].clone()),
        (json!(""), json!({"k": 1}))
    );
}

#[test]
fn a_value_the_sdk_cannot_take_fails_alone_and_the_context_is_echoed() {
    // A number beyond f64 in the response: the input is JSON, so the
    // context still goes back; the response is reported, not echoed.
    let input = br#"{"context":{"k":1},"response":{"n":1e999},"has_error":false}"#;
    let out: Value = serde_json::from_slice(&single::post_hook::<Decider>(Ok(input))).unwrap();
    assert_eq!(out["context"], json!({"k": 1}));
    assert_eq!(out["response"], Value::Null);
    assert!(
        out["hook_error"]
            .as_str()
            .unwrap()
            .starts_with("response has a number out of range"),
        "{out}"
    );
}

#[test]
fn an_envelope_key_given_twice_is_an_input_error() {
    let input = br#"{"context":{},"request":{"model":"a"},"request":{"model":"b"}}"#;
    let out: Value = serde_json::from_slice(&single::pre_hook::<Decider>(Ok(input))).unwrap();
    assert_eq!(
        out["error"],
        "input is not valid JSON: duplicate field `request`"
    );
    // Which request was meant is unknown, so neither is echoed; the
    // context, given once, is.
    assert_eq!(out["request"], Value::Null);
    let input = br#"{"context":{"k":1},"request":{"model":"a"},"request":{"model":"b"}}"#;
    let out: Value = serde_json::from_slice(&single::pre_hook::<Decider>(Ok(input))).unwrap();
    assert_eq!(
        (&out["context"], &out["request"]),
        (&json!({"k": 1}), &Value::Null)
    );
    let input = br#"{"context":{"k":1},"context":{"k":2},"request":{"model":"a"}}"#;
    let out: Value = serde_json::from_slice(&single::pre_hook::<Decider>(Ok(input))).unwrap();
    assert_eq!(
        (&out["context"], &out["request"]),
        (&json!({}), &json!({"model": "a"}))
    );
    assert_eq!(
        out["error"],
        "input is not valid JSON: duplicate field `context`"
    );
}
