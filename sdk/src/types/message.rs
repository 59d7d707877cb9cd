//! One chat message: a role and content, plus whatever else the host sent
//! (name, tool calls, …).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A chat message in Bifrost's (OpenAI-compatible) shape.
///
/// `content` may be a string or a list of content blocks; [`ChatMessage::text`]
/// reads either. Fields other than `role` and `content` are kept.
///
/// ```
/// use bifrost_plugin_sdk::ChatMessage;
/// let msg = ChatMessage::user("What is Bifrost?");
/// assert_eq!(msg.role(), Some("user"));
/// assert_eq!(msg.text(), Some("What is Bifrost?"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChatMessage {
    fields: Map<String, Value>,
}

impl ChatMessage {
    /// A message with `role` and string `content`.
    pub fn new(role: &str, content: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("role".into(), Value::String(role.into()));
        fields.insert("content".into(), Value::String(content.into()));
        ChatMessage { fields }
    }

    /// A `system` message.
    pub fn system(content: &str) -> Self {
        ChatMessage::new("system", content)
    }

    /// A `user` message.
    pub fn user(content: &str) -> Self {
        ChatMessage::new("user", content)
    }

    /// An `assistant` message.
    pub fn assistant(content: &str) -> Self {
        ChatMessage::new("assistant", content)
    }

    pub(crate) fn from_value(value: &Value) -> Option<Self> {
        value.as_object().map(|fields| ChatMessage {
            fields: fields.clone(),
        })
    }

    pub(crate) fn into_value(self) -> Value {
        Value::Object(self.fields)
    }

    /// The role: `system`, `user`, `assistant`, `tool`, ….
    pub fn role(&self) -> Option<&str> {
        self.fields.get("role").and_then(Value::as_str)
    }

    /// The text content: the string itself, or the first text block of a
    /// block list (`[{"type":"text","text":…}]`).
    ///
    /// ```
    /// use bifrost_plugin_sdk::ChatMessage;
    /// let msg: ChatMessage = serde_json::from_str(
    ///     r#"{"role":"user","content":[{"type":"text","text":"hi"}]}"#).unwrap();
    /// assert_eq!(msg.text(), Some("hi"));
    /// ```
    pub fn text(&self) -> Option<&str> {
        match self.fields.get("content")? {
            Value::String(text) => Some(text),
            Value::Array(blocks) => blocks
                .iter()
                .find_map(|block| block.get("text").and_then(Value::as_str)),
            _ => None,
        }
    }

    /// Replaces the content with `text`.
    pub fn set_text(&mut self, text: impl Into<String>) {
        self.fields
            .insert("content".into(), Value::String(text.into()));
    }

    /// Every field, including the ones without an accessor.
    pub fn json(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// Every field, for edits the accessors do not cover.
    pub fn json_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.fields
    }
}
