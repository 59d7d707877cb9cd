//! A whole Responses API response cut into the server-sent events OpenAI
//! streams it as, so that the official clients (`responses.create(...,
//! stream=True)`, `responses.stream(...)`) rebuild the same response:
//!
//! `response.created`, `response.in_progress` (the response, `in_progress`,
//! no output yet), `response.output_item.added` (the message, no content),
//! `response.content_part.added` (an empty `output_text`), one
//! `response.output_text.delta` per word of the text (the word with the
//! whitespace after it, as the chat stream cuts it), `response.output_text.done`,
//! `response.content_part.done`, `response.output_item.done` (the finished
//! message), `response.completed` (the whole response, usage included).
//! Every event carries its `type` and a `sequence_number` counted from 0.

use serde_json::{json, Value};

use crate::mock::pieces;

/// The events of `response`: an OpenAI Responses API response (`id`,
/// `model`, `output` with one `message` of `output_text`, `usage`). A chat
/// completion (a plugin that short-circuits with `LlmResponse::chat`) is
/// read as a response whose text is its first choice's message.
///
/// ```
/// use bifrost_plugin_host::responses_stream;
/// use serde_json::json;
/// let response = json!({"id": "resp_1", "object": "response", "model": "m",
///     "output": [{"type": "message", "id": "msg_1", "role": "assistant",
///                 "content": [{"type": "output_text", "text": "hi there", "annotations": []}]}],
///     "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}});
/// let events = responses_stream::events(&response);
/// let deltas: Vec<_> = events.iter()
///     .filter(|e| e["type"] == "response.output_text.delta")
///     .map(|e| e["delta"].as_str().unwrap())
///     .collect();
/// assert_eq!(deltas, ["hi ", "there"]);
/// assert_eq!(events.last().unwrap()["response"]["usage"]["total_tokens"], 3);
/// ```
pub fn events(response: &Value) -> Vec<Value> {
    let done = completed(response);
    let message = done["output"]
        .as_array()
        .and_then(|items| items.iter().find(|item| item["type"] == "message"))
        .cloned()
        .unwrap_or_else(|| message_item("msg_0", ""));
    let text = text_of(&message);
    let item_id = message["id"].clone();
    let mut started = done.clone();
    started["status"] = json!("in_progress");
    started["output"] = json!([]);
    started["usage"] = Value::Null;
    let mut added = message.clone();
    added["status"] = json!("in_progress");
    added["content"] = json!([]);
    let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": []});
    let at = |mut event: Value| {
        event["item_id"] = item_id.clone();
        event["output_index"] = json!(0);
        event["content_index"] = json!(0);
        event
    };

    let mut events = vec![
        json!({"type": "response.created", "response": started}),
        json!({"type": "response.in_progress", "response": started}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": added}),
        at(json!({"type": "response.content_part.added", "part": part("")})),
    ];
    for piece in pieces(&text) {
        events.push(at(
            json!({"type": "response.output_text.delta", "delta": piece, "logprobs": []}),
        ));
    }
    events.push(at(
        json!({"type": "response.output_text.done", "text": text, "logprobs": []}),
    ));
    events.push(at(
        json!({"type": "response.content_part.done", "part": part(&text)}),
    ));
    events.push(json!({"type": "response.output_item.done", "output_index": 0, "item": message}));
    events.push(json!({"type": "response.completed", "response": done}));
    for (number, event) in events.iter_mut().enumerate() {
        event["sequence_number"] = json!(number);
    }
    events
}

/// `response` as a completed Responses API response: as it is when it has
/// `output`; otherwise (a chat completion) rebuilt from its first choice.
fn completed(response: &Value) -> Value {
    if response["output"].is_array() {
        let mut done = response.clone();
        done["object"] = json!("response");
        done["status"] = json!("completed");
        return done;
    }
    let text = response["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or("");
    let id = response["id"].as_str().filter(|id| !id.is_empty());
    json!({
        "id": id.map_or_else(|| "resp_0".to_string(), |id| format!("resp_{id}")),
        "object": "response",
        "created_at": response["created"].as_u64().unwrap_or(0),
        "status": "completed",
        "model": response["model"],
        "output": [message_item(&format!("msg_{}", id.unwrap_or("0")), text)],
        "parallel_tool_calls": true,
        "tool_choice": "auto",
        "tools": [],
        "usage": Value::Null,
    })
}

fn message_item(id: &str, text: &str) -> Value {
    json!({
        "type": "message", "id": id, "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    })
}

/// A message item's text: its `output_text` blocks joined.
fn text_of(message: &Value) -> String {
    message["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b["type"] == "output_text")
                .filter_map(|b| b["text"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(events: &[Value]) -> Vec<&str> {
        events.iter().map(|e| e["type"].as_str().unwrap()).collect()
    }

    #[test]
    fn a_response_becomes_openais_event_sequence_with_one_delta_per_word() {
        let response = crate::mock::reply(
            crate::pipeline::Kind::Responses,
            &json!({"model": "m", "input": "one  two three"}),
            "r",
        );
        let events = events(&response);
        assert_eq!(
            kinds(&events),
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        let numbers: Vec<_> = events
            .iter()
            .map(|e| e["sequence_number"].clone())
            .collect();
        assert_eq!(numbers, (0..11).map(|n| json!(n)).collect::<Vec<_>>());
        assert_eq!(events[0]["response"]["status"], "in_progress");
        assert_eq!(events[0]["response"]["output"], json!([]));
        assert_eq!(events[0]["response"]["id"], response["id"]);
        assert_eq!(events[2]["item"]["content"], json!([]));
        let deltas: Vec<_> = events[4..7].iter().map(|e| e["delta"].clone()).collect();
        assert_eq!(deltas, [json!("one  "), json!("two "), json!("three")]);
        assert!(events[3..9].iter().all(|e| e["item_id"] == "msg_r"));
        assert_eq!(events[7]["text"], "one  two three");
        assert_eq!(events[9]["item"], response["output"][0]);
        assert_eq!(
            events[10]["response"], response,
            "completed: the whole response"
        );
    }

    #[test]
    fn a_chat_completion_is_streamed_as_a_response_of_its_first_choice() {
        let chat = json!({"id": "x", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "no way"}}]});
        let events = events(&chat);
        let done = &events.last().unwrap()["response"];
        assert_eq!(done["id"], "resp_x");
        assert_eq!(done["output"][0]["content"][0]["text"], "no way");
        assert_eq!(events[4]["delta"], "no ");
        let empty = super::events(&json!({}));
        assert_eq!(empty.len(), 8, "no delta for no text");
    }
}
