//! What the bench sends: chat requests and responses of a given size, HTTP
//! requests with base64 bodies, stream chunks, laid out as each ABI's host
//! lays them out (separate buffers for seed, one object for single-input).

use bifrost_plugin_host::{Abi, Hook, HookInput};
use serde_json::{json, Value};

/// The context every call carries.
pub const CONTEXT: &str = r#"{"request_id":"bench-0001","user":"bench"}"#;

/// One hook call: the export and its input buffers.
pub struct Call {
    pub export: &'static str,
    pub inputs: Vec<Vec<u8>>,
}

impl Call {
    /// `input` for `hook`, as `abi`'s host sends it.
    pub fn new(abi: Abi, hook: Hook, input: &HookInput) -> Self {
        let export = hook.exports(abi)[0];
        let inputs = match abi {
            Abi::Seed => input
                .buffers(hook)
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect(),
            Abi::SingleInput => vec![input.envelope(hook)],
        };
        Call { export, inputs }
    }

    /// The buffers, borrowed.
    pub fn buffers(&self) -> Vec<&[u8]> {
        self.inputs.iter().map(Vec::as_slice).collect()
    }

    /// Bytes the host writes into guest memory.
    pub fn input_bytes(&self) -> usize {
        self.inputs.iter().map(Vec::len).sum()
    }
}

fn to_vec(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("a Value serialises")
}

/// A chat request of about `bytes` bytes: user messages of ~200 bytes of
/// text, the bulk of a long conversation.
pub fn chat_request(bytes: usize) -> Vec<u8> {
    let text = "Summarise the following paragraph in one sentence, keeping names. ".repeat(3);
    let message = json!({"role": "user", "content": text});
    let per_message = to_vec(&message).len() + 1;
    let count = (bytes.saturating_sub(100) / per_message).max(1);
    to_vec(&json!({
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input": vec![message; count],
        "params": {"temperature": 0.2}
    }))
}

/// A chat request of about `bytes` bytes made of long user messages (~900
/// characters each, as pasted documents are): fewer, longer strings than
/// [`chat_request`]'s.
pub fn long_messages_request(bytes: usize) -> Vec<u8> {
    let text =
        "A long paragraph pasted by the user, with names, numbers (1.50, 2e3) and punctuation; "
            .repeat(11);
    let message = json!({"role": "user", "content": &text[..900]});
    let per_message = to_vec(&message).len() + 1;
    let count = (bytes.saturating_sub(100) / per_message).max(1);
    to_vec(&json!({
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input": vec![message; count],
        "params": {"temperature": 0.2}
    }))
}

/// The word the texts edit replaces ([`texts_response`]).
pub const SECRET: &str = "SECRET";

/// A chat completion of about `bytes` bytes with many choices of ~1 KB, one
/// of them (in the middle) holding [`SECRET`]: the texts edit finds it
/// among the others and changes that one text.
pub fn texts_response(bytes: usize) -> Vec<u8> {
    let text = "An answer among several, long enough to matter. ".repeat(20);
    let count = (bytes / (text.len() + 120)).max(1);
    let choices: Vec<Value> = (0..count)
        .map(|i| {
            let content = match i == count / 2 {
                true => format!("{text} the code is {SECRET}."),
                false => text.clone(),
            };
            json!({"index": i, "finish_reason": "stop",
                "message": {"role": "assistant", "content": content}})
        })
        .collect();
    to_vec(&json!({
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": choices,
        "usage": {"prompt_tokens": 10, "completion_tokens": 2000, "total_tokens": 2010}
    }))
}

/// A `post_hook` input: [`CONTEXT`] and `response`, which is also returned
/// for checking the output against.
pub fn post_hook_input(response: Vec<u8>) -> (Vec<u8>, HookInput) {
    let input = HookInput::new()
        .with_context(CONTEXT)
        .with_response(response.clone());
    (response, input)
}

/// Whether `output`'s response is `response` with [`SECRET`] replaced by
/// `[hidden]` and nothing else changed (as JSON values).
pub fn has_text_edit(output: &[u8], response: &[u8]) -> bool {
    let edited = String::from_utf8_lossy(response).replace(SECRET, "[hidden]");
    let parsed = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).ok();
    match (parsed(output), parsed(edited.as_bytes())) {
        (Some(out), Some(expected)) => out.get("response") == Some(&expected),
        _ => false,
    }
}

/// A `pre_hook` input: [`CONTEXT`] and `request`, which is also returned
/// for checking the output against.
pub fn pre_hook_input(request: Vec<u8>) -> (Vec<u8>, HookInput) {
    let input = HookInput::new()
        .with_context(CONTEXT)
        .with_request(request.clone());
    (request, input)
}

/// A chat request of about `bytes` bytes carrying one inline image (a
/// base64 data URL): how multi-megabyte requests look.
pub fn image_request(bytes: usize) -> Vec<u8> {
    let url = format!(
        "data:image/png;base64,{}",
        base64_text(bytes.saturating_sub(300))
    );
    to_vec(&json!({
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input": [{"role": "user", "content": [
            {"type": "text", "text": "What is in this image?"},
            {"type": "image_url", "image_url": {"url": url}}
        ]}]
    }))
}

/// A chat completion of about `bytes` bytes (one long answer).
pub fn chat_response(bytes: usize) -> Vec<u8> {
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(bytes / 45 + 1);
    to_vec(&json!({
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": &text[..bytes.saturating_sub(200)]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}
    }))
}

/// `len` characters of standard base64 (padded), like an encoded body.
fn base64_text(len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let len = len / 4 * 4;
    (0..len)
        .map(|i| ALPHABET[(i * 7 + i / 64) % 64] as char)
        .collect()
}

/// An HTTP request whose base64 body makes it about `bytes` bytes.
pub fn http_request(bytes: usize) -> Vec<u8> {
    to_vec(&json!({
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"},
        "query": {},
        "body": base64_text(bytes.saturating_sub(200))
    }))
}

/// An HTTP response whose base64 body makes it about `bytes` bytes.
pub fn http_response(bytes: usize) -> Vec<u8> {
    to_vec(&json!({
        "status_code": 200,
        "headers": {"Content-Type": "application/json"},
        "body": base64_text(bytes.saturating_sub(100))
    }))
}

/// A streamed chat completion chunk with a `delta_bytes`-byte delta.
pub fn stream_chunk(delta_bytes: usize) -> Vec<u8> {
    let delta: String = "token ".repeat(delta_bytes / 6 + 1)[..delta_bytes].into();
    to_vec(&json!({
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": null}]
    }))
}

/// The hooks whose peak memory is measured, each with an input of about
/// `bytes` bytes (in its large field).
pub fn memory_inputs(bytes: usize) -> Vec<(Hook, HookInput)> {
    let input = || HookInput::new().with_context(CONTEXT);
    vec![
        (Hook::PreHook, input().with_request(image_request(bytes))),
        (Hook::PostHook, input().with_response(chat_response(bytes))),
        (Hook::HttpPreHook, input().with_request(http_request(bytes))),
        (
            Hook::HttpPostHook,
            input()
                .with_request(http_request(bytes / 2))
                .with_response(http_response(bytes / 2)),
        ),
    ]
}

/// Whether `output` carries `request` back unchanged (as JSON values) in its
/// `request` field: both guests must do the same job.
pub fn echoes_request(output: &[u8], request: &[u8]) -> bool {
    let parsed = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).ok();
    match (parsed(output), parsed(request)) {
        (Some(out), Some(req)) => out.get("request") == Some(&req),
        _ => false,
    }
}

/// Whether `output`'s request has the typed edit: model `gpt-4o`, a last
/// message "benchmark".
pub fn has_edit(output: &[u8]) -> bool {
    let Ok(out) = serde_json::from_slice::<Value>(output) else {
        return false;
    };
    let request = &out["request"];
    request["model"] == "gpt-4o"
        && request["input"]
            .as_array()
            .and_then(|items| items.last())
            .is_some_and(|last| last["content"] == "benchmark")
}
