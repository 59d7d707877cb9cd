//! Bifrost's LLM request and response, as typed views over the host's JSON.
//!
//! The host's exact wire shape is not public (see abi-spec.md, "LLM request
//! shapes"): the request may be Go's union (`{"RequestType": …,
//! "ChatRequest": {…}}`), a snake-case union (`{"chat_request": {…}}`) or
//! the inner request itself (`{"provider", "model", "input", …}`). The
//! accessors find the inner request in any of them and edit it in place, so
//! the shape the host chose is the shape it gets back.

use serde_json::{json, Map, Value};

use super::document::Document;
use super::message::ChatMessage;
use super::InputError;

/// Finds the variant object of a Bifrost union: the first object-valued key
/// named `…Request`/`…_request` (or `…Response`/`…_response`); the root
/// itself when there is none.
fn variant<'a>(root: &'a Map<String, Value>, suffix: &str) -> &'a Map<String, Value> {
    match variant_key(root, suffix) {
        Some(key) => root[key.as_str()].as_object().unwrap_or(root),
        None => root,
    }
}

fn variant_mut<'a>(root: &'a mut Map<String, Value>, suffix: &str) -> &'a mut Map<String, Value> {
    match variant_key(root, suffix) {
        Some(key) => match root.get_mut(key.as_str()) {
            Some(Value::Object(inner)) => inner,
            _ => unreachable!("variant_key only returns object-valued keys"),
        },
        None => root,
    }
}

fn variant_key(root: &Map<String, Value>, suffix: &str) -> Option<String> {
    let snake = format!("_{}", suffix.to_ascii_lowercase());
    root.iter()
        .find(|(key, value)| {
            value.is_object()
                && (key.ends_with(&snake)
                    || (key.ends_with(suffix) && key.starts_with(|c: char| c.is_ascii_uppercase())))
        })
        .map(|(key, _)| key.clone())
}

fn str_field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

/// A request on its way to an LLM provider, as the pre-hook sees it.
///
/// Reading parses the host's JSON on first use; a request that is only read
/// (or not touched at all) goes back to the host byte for byte. Fields the
/// accessors do not model are reachable through [`LlmRequest::json`] and
/// [`LlmRequest::json_mut`] and are always kept.
///
/// ```
/// use bifrost_plugin_sdk::{ChatMessage, LlmRequest};
/// let mut req = LlmRequest::chat("openai", "gpt-4o-mini", vec![ChatMessage::user("Hi")]);
/// req.set_model("gpt-4o");
/// req.push_message(ChatMessage::system("Be brief."));
/// assert_eq!(req.model(), Some("gpt-4o"));
/// assert_eq!(req.provider(), Some("openai"));
/// assert_eq!(req.messages().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LlmRequest {
    doc: Document,
}

impl LlmRequest {
    /// A chat request in the flat shape `{"provider","model","input"}`.
    pub fn chat(provider: &str, model: &str, messages: Vec<ChatMessage>) -> Self {
        let root = json!({"provider": provider, "model": model, "input": messages});
        LlmRequest {
            doc: Document::from_map(into_map(root)),
        }
    }

    /// The model name, e.g. `gpt-4o-mini`.
    pub fn model(&self) -> Option<&str> {
        str_field(self.inner(), "model")
    }

    /// Sets the model name.
    pub fn set_model(&mut self, model: impl Into<String>) {
        self.inner_mut()
            .insert("model".into(), Value::String(model.into()));
    }

    /// The provider, e.g. `openai`.
    pub fn provider(&self) -> Option<&str> {
        str_field(self.inner(), "provider")
    }

    /// Sets the provider.
    pub fn set_provider(&mut self, provider: impl Into<String>) {
        self.inner_mut()
            .insert("provider".into(), Value::String(provider.into()));
    }

    /// The chat messages (Bifrost's `input`, or `messages`); empty when the
    /// request has none.
    pub fn messages(&self) -> Vec<ChatMessage> {
        let inner = self.inner();
        match inner.get(messages_key(inner)) {
            Some(Value::Array(items)) => items.iter().filter_map(ChatMessage::from_value).collect(),
            _ => Vec::new(),
        }
    }

    /// Appends a chat message.
    pub fn push_message(&mut self, message: ChatMessage) {
        let inner = self.inner_mut();
        let key = messages_key(inner);
        let slot = inner.entry(key).or_insert_with(|| Value::Array(Vec::new()));
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(items) = slot {
            items.push(message.into_value());
        }
    }

    /// Replaces the chat messages.
    pub fn set_messages(&mut self, messages: Vec<ChatMessage>) {
        let inner = self.inner_mut();
        let key = messages_key(inner);
        let items = messages.into_iter().map(ChatMessage::into_value).collect();
        inner.insert(key.into(), Value::Array(items));
    }

    fn inner(&self) -> &Map<String, Value> {
        variant(self.doc.map(), "Request")
    }

    fn inner_mut(&mut self) -> &mut Map<String, Value> {
        variant_mut(self.doc.map_mut(), "Request")
    }
}

/// Bifrost's key for chat messages is `input`; OpenAI-shaped requests use
/// `messages`.
fn messages_key(inner: &Map<String, Value>) -> &'static str {
    if !inner.contains_key("input") && inner.contains_key("messages") {
        "messages"
    } else {
        "input"
    }
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A provider's response, as the post-hook sees it, or one the plugin builds
/// to answer a request itself.
///
/// Built responses use the shape `{"chat_response": {…}}` (see abi-spec.md
/// for why); responses from the host keep theirs.
///
/// ```
/// use bifrost_plugin_sdk::LlmResponse;
/// let resp = LlmResponse::chat("gpt-4o-mini", "Hello from the plugin");
/// assert_eq!(resp.text(), Some("Hello from the plugin"));
/// assert_eq!(resp.model(), Some("gpt-4o-mini"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LlmResponse {
    doc: Document,
}

impl LlmResponse {
    /// A complete, non-streaming chat response with one assistant message.
    pub fn chat(model: &str, text: &str) -> Self {
        let chat = json!({
            "id": "",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }],
        });
        LlmResponse {
            doc: Document::from_map(into_map(json!({ "chat_response": chat }))),
        }
    }

    /// Reads an optional response buffer: empty and `null` mean "none".
    pub(crate) fn from_optional_bytes(bytes: &[u8]) -> Result<Option<Self>, InputError> {
        match super::is_absent(bytes) {
            true => Ok(None),
            false => Self::deferred(bytes).map(Some),
        }
    }

    /// The model that answered.
    pub fn model(&self) -> Option<&str> {
        str_field(self.inner(), "model")
    }

    /// The text of the first choice's message (or of its streaming delta).
    pub fn text(&self) -> Option<&str> {
        let choice = self.inner().get("choices")?.get(0)?;
        let message = choice.get("message").or_else(|| choice.get("delta"))?;
        message.get("content")?.as_str()
    }

    /// Replaces the text of the first choice's message.
    /// Returns `false`, changing nothing, when there is no such message.
    pub fn set_text(&mut self, text: impl Into<String>) -> bool {
        let has_message = self
            .inner()
            .get("choices")
            .and_then(|c| c.get(0))
            .and_then(|c| c.get("message"))
            .is_some_and(Value::is_object);
        if !has_message {
            return false; // keep the host's bytes untouched
        }
        let message = variant_mut(self.doc.map_mut(), "Response")
            .get_mut("choices")
            .and_then(|c| c.get_mut(0))
            .and_then(|c| c.get_mut("message"))
            .and_then(Value::as_object_mut);
        match message {
            Some(message) => {
                message.insert("content".into(), Value::String(text.into()));
                true
            }
            None => false,
        }
    }

    fn inner(&self) -> &Map<String, Value> {
        variant(self.doc.map(), "Response")
    }
}

super::document::document_view!(LlmRequest, "request");

super::document::document_view!(LlmResponse, "response");

#[cfg(test)]
mod tests {
    use super::*;

    const INNER: &str = r#"{"provider":"openai","model":"gpt-4o-mini",
        "input":[{"role":"user","content":"Hi"}],"params":{"temperature":0.2}}"#;

    fn shapes() -> Vec<String> {
        vec![
            INNER.to_string(),
            format!(r#"{{"chat_request":{INNER},"x":1}}"#),
            format!(
                r#"{{"RequestType":"chat_completion","TextCompletionRequest":null,"ChatRequest":{INNER}}}"#
            ),
        ]
    }

    #[test]
    fn accessors_find_the_chat_request_in_all_three_shapes() {
        for shape in shapes() {
            let req = LlmRequest::from_bytes(shape.as_bytes()).unwrap();
            assert_eq!(req.model(), Some("gpt-4o-mini"), "{shape}");
            assert_eq!(req.provider(), Some("openai"));
            assert_eq!(req.messages()[0].text(), Some("Hi"));
        }
    }

    #[test]
    fn edits_land_inside_the_shape_the_host_used_and_keep_the_rest() {
        for shape in shapes() {
            let mut req = LlmRequest::from_bytes(shape.as_bytes()).unwrap();
            req.set_model("gpt-4o");
            req.push_message(ChatMessage::user("again"));
            let mut expected: Value = serde_json::from_str(&shape).unwrap();
            let inner = match expected.get_mut("ChatRequest") {
                Some(inner) => inner,
                None => match expected.get("chat_request") {
                    Some(_) => &mut expected["chat_request"],
                    None => &mut expected,
                },
            };
            inner["model"] = json!("gpt-4o");
            inner["input"]
                .as_array_mut()
                .unwrap()
                .push(json!({"role": "user", "content": "again"}));
            assert_eq!(serde_json::to_value(&req).unwrap(), expected);
        }
    }

    #[test]
    fn reading_does_not_change_the_bytes() {
        let req = LlmRequest::from_bytes(INNER.as_bytes()).unwrap();
        assert_eq!(req.model(), Some("gpt-4o-mini"));
        assert!(req.is_unchanged());
        assert_eq!(serde_json::to_string(&req).unwrap(), INNER);
    }

    #[test]
    fn built_chat_responses_use_the_chat_response_key() {
        let mut resp = LlmResponse::chat("m", "hello");
        assert!(resp.set_text("bye"));
        let json = serde_json::to_value(&resp).unwrap();
        assert_eq!(
            json["chat_response"]["choices"][0]["message"]["content"],
            "bye"
        );
        assert_eq!(resp.text(), Some("bye"));
    }

    #[test]
    fn set_text_without_a_message_changes_nothing() {
        let mut resp = LlmResponse::from_bytes(br#"{"id":"x"}"#).unwrap();
        assert!(!resp.set_text("t"));
        assert_eq!(resp.text(), None);
    }
}
