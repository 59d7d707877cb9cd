//! `HttpRequest::body_json` and `HttpResponse::body_json` read every SDK type
//! that deserializes, as serde_json reads it, whole or inside a plugin's own
//! struct: the SDK's own reader (not serde_json's parser) does the reading.

use std::fmt::Debug;

use bifrost_plugin_sdk::{
    ChatMessage, Context, HttpRequest, HttpResponse, JsonObject, LlmError, LlmRequest, LlmResponse,
    StreamChunk, StringMap,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// `body` read by both body readers equals what serde_json reads from it.
fn reads<T: DeserializeOwned + PartialEq + Debug>(body: &str) -> T {
    let req = HttpRequest {
        body: body.as_bytes().to_vec(),
        ..HttpRequest::default()
    };
    let ours: T = req
        .body_json()
        .unwrap_or_else(|e| panic!("{}: {body}", e.message()));
    let theirs: T = serde_json::from_str(body).unwrap();
    assert_eq!(ours, theirs, "{body}");
    let resp = HttpResponse::new(200).with_body(body);
    assert_eq!(resp.body_json::<T>().unwrap(), theirs, "{body}");
    ours
}

const REQUEST: &str = r#"{"chat_request": {"provider": "openai", "model": "gpt-4o",
    "input": [{"role": "user", "content": "Hi"}], "params": {"temperature": 1.50}}}"#;

#[test]
fn llm_request_is_kept_verbatim() {
    let req: LlmRequest = reads(REQUEST);
    assert_eq!(req.model(), Some("gpt-4o"));
    assert_eq!(req.messages().next().unwrap().text(), Some("Hi"));
    assert!(req.is_unchanged());
    assert_eq!(serde_json::to_string(&req).unwrap(), REQUEST);
}

#[test]
fn llm_response() {
    let resp: LlmResponse = reads(
        r#"{"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Yes"}}],
            "seed": 123456789012345678901234567890}"#,
    );
    assert_eq!(resp.text(), Some("Yes"));
    assert!(resp.is_unchanged());
}

#[test]
fn llm_error() {
    let err: LlmError =
        reads(r#"{"status_code": 429, "error": {"message": "slow down", "code": 429}}"#);
    assert_eq!(err.message(), Some("slow down"));
    assert_eq!(err.status_code(), Some(429));
}

#[test]
fn stream_chunk() {
    let chunk: StreamChunk = reads(r#"{"choices": [{"index": 0, "delta": {"content": "A"}}]}"#);
    assert_eq!(chunk.choices().next().unwrap().text(), Some("A"));
}

#[test]
fn chat_message() {
    let msg: ChatMessage =
        reads(r#"{"role": "user", "content": [{"type": "text", "text": "Hi"}]}"#);
    assert_eq!(msg.text(), Some("Hi"));
}

#[test]
fn context() {
    let ctx: Context = reads(r#"{"request_id": "r-1", "attempt": 2}"#);
    assert_eq!(ctx.request_id(), Some("r-1"));
}

#[test]
fn json_object() {
    let object: JsonObject = reads(r#"{"a": [1, {"b": null}], "c": "\u00e9"}"#);
    assert_eq!(object["c"], "é");
}

#[test]
fn string_map() {
    let map: StringMap = reads(r#"{"X-Key": "k", "Accept": "*/*"}"#);
    assert_eq!(map.get_ignore_case("x-key"), Some("k"));
}

#[test]
fn http_request_and_response() {
    let req: HttpRequest = reads(
        r#"{"method": "POST", "path": "/v1", "headers": {"a": "b"}, "body": "eyJhIjoxfQ=="}"#,
    );
    assert_eq!(req.body, br#"{"a":1}"#);
    let resp: HttpResponse = reads(r#"{"status_code": 401, "body": "bm8="}"#);
    assert_eq!((resp.status_code, resp.body.as_slice()), (401, &b"no"[..]));
}

#[test]
fn sdk_types_inside_a_plugin_s_own_struct() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Batch {
        requests: Vec<LlmRequest>,
        system: Option<ChatMessage>,
        error: Option<LlmError>,
        tags: StringMap,
    }
    let body = format!(
        r#"{{"requests": [{REQUEST}, {{"model": "m", "messages": []}}],
            "system": {{"role": "system", "content": "Be brief."}}, "error": null, "tags": {{}}}}"#
    );
    let batch: Batch = reads(&body);
    assert_eq!(batch.requests[1].model(), Some("m"));
    assert_eq!(serde_json::to_string(&batch.requests[0]).unwrap(), REQUEST);
}

#[test]
fn a_body_that_is_not_the_type_says_why() {
    let req = HttpRequest {
        body: br#"[{"model": "m"}]"#.to_vec(),
        ..HttpRequest::default()
    };
    let error = req.body_json::<LlmRequest>().unwrap_err();
    assert_eq!(
        error.message(),
        "body is not the expected JSON: request must be a JSON object, got an array"
    );
}
