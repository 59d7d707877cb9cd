//! The mock provider: deterministic answers, so that tests through a chain
//! can state exact results. It reads the `BifrostRequest` as the plugins
//! left it (the inner, flat value: `model`, `input`, `params`) and answers
//! in OpenAI's shapes:
//!
//! - the reply is the text of the last `user` message (chat, Responses API)
//!   or the prompt (text completion); `n` choices, each the same reply;
//! - usage: `prompt_tokens` = whitespace-separated words in every input
//!   text, `completion_tokens` = words in the reply times `n`,
//!   `total_tokens` their sum;
//! - a stream: one chunk per word of the reply (the word and the whitespace
//!   after it) per choice, then per choice a chunk with an empty delta and
//!   `finish_reason: "stop"`, then the usage chunk when asked; for the
//!   Responses API, OpenAI's events around one text delta per word
//!   ([`responses_stream`](crate::responses_stream)), usage in
//!   `response.completed`;
//! - embeddings: an [`EMBEDDING_DIMENSIONS`]-long vector per input, from
//!   its bytes;
//! - the model list: one model, [`MODEL`];
//! - `created` is 0, ids are derived from the caller's id.

use serde_json::{json, Value};

use crate::pipeline::Kind;

/// The one model the mock lists.
pub const MODEL: &str = "openai/mock";

/// The length of every mock embedding.
pub const EMBEDDING_DIMENSIONS: usize = 8;

/// The mock's answer to `request` (inner `BifrostRequest`), in OpenAI's
/// shape for `kind`; `id` names it.
///
/// ```
/// use bifrost_plugin_host::{mock, pipeline::Kind};
/// use serde_json::json;
/// let request = json!({"model": "m", "input": [{"role": "user", "content": "hello there"}]});
/// let reply = mock::reply(Kind::Chat, &request, "r1");
/// assert_eq!(reply["choices"][0]["message"]["content"], "hello there");
/// assert_eq!(reply["usage"], json!({"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}));
/// ```
pub fn reply(kind: Kind, request: &Value, id: &str) -> Value {
    let model = request["model"].clone();
    let n = choices(request);
    let prompt = input_words(kind, request);
    let text = reply_text(kind, request);
    let completion = words(&text) * n as u64;
    let usage = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    });
    match kind {
        Kind::Chat => json!({
            "id": format!("chatcmpl-{id}"),
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": (0..n).map(|index| json!({
                "index": index,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": null,
            })).collect::<Vec<_>>(),
            "usage": usage,
        }),
        Kind::TextCompletion => json!({
            "id": format!("cmpl-{id}"),
            "object": "text_completion",
            "created": 0,
            "model": model,
            "choices": (0..n).map(|index| json!({
                "index": index, "text": text, "finish_reason": "stop", "logprobs": null,
            })).collect::<Vec<_>>(),
            "usage": usage,
        }),
        Kind::Responses => json!({
            "id": format!("resp_{id}"),
            "object": "response",
            "created_at": 0,
            "status": "completed",
            "model": model,
            "output": [{
                "type": "message",
                "id": format!("msg_{id}"),
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }],
            "parallel_tool_calls": true,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": prompt,
                "output_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }),
        Kind::Embedding => json!({
            "object": "list",
            "model": model,
            "data": input_texts(kind, request).iter().enumerate().map(|(index, text)| json!({
                "object": "embedding", "index": index, "embedding": embedding(text),
            })).collect::<Vec<_>>(),
            "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
        }),
        Kind::ListModels => json!({
            "object": "list",
            "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "bifrost-plugin serve"}],
        }),
    }
}

/// The mock's answer to a streamed chat, text completion or Responses API
/// request, as the chunks (events) it sends, without SSE framing;
/// embeddings are not streamed (`None`). `include_usage` asks chat and text
/// completion streams for a last usage chunk (a Responses stream always
/// ends with its usage).
pub fn stream(kind: Kind, request: &Value, id: &str, include_usage: bool) -> Option<Vec<Value>> {
    let full = reply(kind, request, id);
    let (object, id) = match kind {
        Kind::Chat => ("chat.completion.chunk", format!("chatcmpl-{id}")),
        Kind::TextCompletion => ("text_completion", format!("cmpl-{id}")),
        Kind::Responses => return Some(crate::responses_stream::events(&full)),
        Kind::Embedding | Kind::ListModels => return None,
    };
    let chunk = |choices: Value| json!({"id": id, "object": object, "created": 0, "model": full["model"], "choices": choices});
    let text = reply_text(kind, request);
    let mut chunks = Vec::new();
    for index in 0..choices(request) {
        for (i, piece) in pieces(&text).into_iter().enumerate() {
            let choice = match kind {
                Kind::Chat if i == 0 => {
                    json!({"index": index, "delta": {"role": "assistant", "content": piece}, "finish_reason": null})
                }
                Kind::Chat => {
                    json!({"index": index, "delta": {"content": piece}, "finish_reason": null})
                }
                _ => json!({"index": index, "text": piece, "finish_reason": null}),
            };
            chunks.push(chunk(json!([choice])));
        }
    }
    for index in 0..choices(request) {
        let choice = match kind {
            Kind::Chat => json!({"index": index, "delta": {}, "finish_reason": "stop"}),
            _ => json!({"index": index, "text": "", "finish_reason": "stop"}),
        };
        chunks.push(chunk(json!([choice])));
    }
    if include_usage {
        let mut usage = chunk(json!([]));
        usage["usage"] = full["usage"].clone();
        chunks.push(usage);
    }
    Some(chunks)
}

/// The words of `text`, each with the whitespace after it (any leading
/// whitespace goes with the first).
pub fn pieces(text: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut in_space = false;
    for c in text.chars() {
        if !c.is_whitespace() && in_space && current.chars().any(|c| !c.is_whitespace()) {
            pieces.push(std::mem::take(&mut current));
        }
        in_space = c.is_whitespace();
        current.push(c);
    }
    if current.chars().any(|c| !c.is_whitespace()) {
        pieces.push(current);
    }
    pieces
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

fn choices(request: &Value) -> usize {
    request["params"]["n"].as_u64().unwrap_or(1).clamp(1, 128) as usize
}

/// The reply: the last user message's text, or the prompt.
fn reply_text(kind: Kind, request: &Value) -> String {
    let input = &request["input"];
    match (kind, input) {
        (Kind::TextCompletion | Kind::Responses, Value::String(text)) => text.clone(),
        (Kind::TextCompletion, Value::Array(prompts)) => strings(prompts).join(" "),
        (Kind::Chat | Kind::Responses, Value::Array(messages)) => messages
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .map(|m| content_text(&m["content"]))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Every text of the request's input, for the prompt's word count.
fn input_texts(kind: Kind, request: &Value) -> Vec<String> {
    match (kind, &request["input"]) {
        (_, Value::String(text)) => vec![text.clone()],
        (Kind::Chat | Kind::Responses, Value::Array(messages)) => messages
            .iter()
            .map(|m| match m {
                Value::String(text) => text.clone(),
                m => content_text(&m["content"]),
            })
            .collect(),
        (_, Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn input_words(kind: Kind, request: &Value) -> u64 {
    input_texts(kind, request).iter().map(|t| words(t)).sum()
}

/// A message's content as text: a string, or its text blocks joined by a
/// space.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| {
                matches!(
                    b["type"].as_str(),
                    Some("text" | "input_text" | "output_text")
                )
            })
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn strings(values: &[Value]) -> Vec<&str> {
    values.iter().filter_map(Value::as_str).collect()
}

/// A vector that depends on every byte of `text` and its position.
fn embedding(text: &str) -> Vec<f64> {
    let mut sums = [0u64; EMBEDDING_DIMENSIONS];
    for (position, byte) in text.bytes().enumerate() {
        sums[position % EMBEDDING_DIMENSIONS] += u64::from(byte) * (position as u64 + 1);
    }
    sums.iter()
        .map(|sum| (sum % 1000) as f64 / 1000.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(messages: Value, params: Value) -> Value {
        json!({"provider": "openai", "model": "gpt-4o-mini", "input": messages, "params": params})
    }

    #[test]
    fn a_chat_reply_is_the_last_user_message_n_times_with_word_counts() {
        let request = chat(
            json!([
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "an answer"},
                {"role": "user", "content": [{"type": "text", "text": "Hello  brave"}, {"type": "image_url"}, {"type": "text", "text": "world"}]},
            ]),
            json!({"n": 2}),
        );
        let reply = reply(Kind::Chat, &request, "r1");
        assert_eq!(reply["id"], "chatcmpl-r1");
        assert_eq!(reply["model"], "gpt-4o-mini");
        let texts: Vec<_> = reply["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["index"].clone(), c["message"]["content"].clone()))
            .collect();
        assert_eq!(
            texts,
            [
                (json!(0), json!("Hello  brave world")),
                (json!(1), json!("Hello  brave world"))
            ]
        );
        // 2 + 2 + 2 + 3 words in; 3 words out, twice.
        assert_eq!(
            reply["usage"],
            json!({"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15})
        );
    }

    #[test]
    fn a_stream_sends_one_chunk_per_word_then_stop_then_usage() {
        let request = chat(
            json!([{"role": "user", "content": " Hi  there you"}]),
            json!({}),
        );
        let chunks = stream(Kind::Chat, &request, "r", true).unwrap();
        let deltas: Vec<_> = chunks
            .iter()
            .map(|c| c["choices"][0]["delta"].clone())
            .collect();
        assert_eq!(
            deltas,
            [
                json!({"role": "assistant", "content": " Hi  "}),
                json!({"content": "there "}),
                json!({"content": "you"}),
                json!({}),
                Value::Null,
            ]
        );
        assert_eq!(chunks[3]["choices"][0]["finish_reason"], "stop");
        assert_eq!(chunks[4]["choices"], json!([]));
        assert_eq!(
            chunks[4]["usage"],
            json!({"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6})
        );
        assert!(chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk"));
        let without_usage = stream(Kind::Chat, &request, "r", false).unwrap();
        assert_eq!(without_usage.len(), 4);
    }

    #[test]
    fn text_completion_and_responses_answer_with_their_own_input() {
        let request = json!({"model": "m", "input": "Once upon", "params": {}});
        let reply = reply(Kind::TextCompletion, &request, "c");
        assert_eq!(reply["choices"][0]["text"], "Once upon");
        assert_eq!(reply["object"], "text_completion");
        let request = json!({"model": "m", "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "Tell me"}]}
        ]});
        let reply = super::reply(Kind::Responses, &request, "x");
        assert_eq!(reply["output"][0]["content"][0]["text"], "Tell me");
        assert_eq!(reply["usage"]["total_tokens"], 4);
        let events = stream(Kind::Responses, &request, "x", false).unwrap();
        assert_eq!(events.last().unwrap()["response"], reply);
        assert!(stream(Kind::Embedding, &request, "x", false).is_none());
    }

    #[test]
    fn embeddings_are_fixed_length_and_depend_on_the_input() {
        let request = json!({"model": "e", "input": ["a b", "a c"], "params": {}});
        let reply = reply(Kind::Embedding, &request, "e");
        let vectors: Vec<_> = reply["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["embedding"].clone())
            .collect();
        assert_eq!(vectors.len(), 2);
        assert!(vectors
            .iter()
            .all(|v| v.as_array().unwrap().len() == EMBEDDING_DIMENSIONS));
        assert_ne!(vectors[0], vectors[1]);
        assert_eq!(
            vectors[0],
            super::reply(Kind::Embedding, &request, "again")["data"][0]["embedding"]
        );
        assert_eq!(
            reply["usage"],
            json!({"prompt_tokens": 4, "total_tokens": 4})
        );
    }

    #[test]
    fn pieces_keep_every_character_of_a_text_with_words() {
        for text in ["one", "a b", " lead and trail  ", "tab\tsep\nnew"] {
            assert_eq!(pieces(text).concat(), text, "{text:?}");
        }
        assert_eq!(pieces("a b"), ["a ", "b"]);
        assert!(pieces("").is_empty() && pieces("   ").is_empty());
    }
}
