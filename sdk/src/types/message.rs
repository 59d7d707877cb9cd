//! One chat message: a role and content, plus whatever else the host sent
//! (name, tool calls, …).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::text::{self, Part, Text, TextMut};

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

    pub(crate) fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Object(fields) => Some(ChatMessage { fields }),
            _ => None,
        }
    }

    pub(crate) fn into_value(self) -> Value {
        Value::Object(self.fields)
    }

    /// Appends the message as JSON text (an object always serialises).
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        crate::json::write::write_object(out, &self.fields);
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
        first_text(&self.fields)
    }

    /// Every text of the content: the string, or each text block of a block
    /// list, in order (image and other blocks are skipped).
    ///
    /// ```
    /// use bifrost_plugin_sdk::ChatMessage;
    /// let msg: ChatMessage = serde_json::from_str(r#"{"role":"user","content":[
    ///     {"type":"text","text":"look"},
    ///     {"type":"image_url","image_url":{"url":"https://x/cat.png"}},
    ///     {"type":"text","text":"at this"}]}"#).unwrap();
    /// assert_eq!(msg.texts().collect::<Vec<_>>(), ["look", "at this"]);
    /// ```
    pub fn texts(&self) -> impl Iterator<Item = Text<'_>> {
        text::texts(&self.fields, text::read::lone_message)
    }

    /// Every text of the content, for editing in place: block lists keep
    /// their shape and their non-text blocks.
    ///
    /// ```
    /// use bifrost_plugin_sdk::ChatMessage;
    /// let mut msg: ChatMessage = serde_json::from_str(r#"{"role":"user","content":[
    ///     {"type":"image_url","image_url":{"url":"https://x/cat.png"}},
    ///     {"type":"text","text":"a cat"}]}"#).unwrap();
    /// for mut text in msg.texts_mut() {
    ///     let upper = text.to_uppercase();
    ///     text.set(upper);
    /// }
    /// assert_eq!(msg.json()["content"][1]["text"], "A CAT");
    /// assert_eq!(msg.json()["content"][0]["type"], "image_url");
    /// ```
    pub fn texts_mut(&mut self) -> impl Iterator<Item = TextMut<'_>> {
        text::texts_mut(&mut self.fields, None, text::write::lone_message)
    }

    /// Sets the text content to `text`.
    ///
    /// String (or absent) content becomes `text`. A block list keeps its
    /// other blocks (images, …) where they are: its first text block gets
    /// `text` and any further text blocks are removed; a list without one
    /// gets a text block first.
    ///
    /// ```
    /// use bifrost_plugin_sdk::ChatMessage;
    /// let mut msg: ChatMessage = serde_json::from_str(r#"{"role":"user","content":[
    ///     {"type":"text","text":"what is"},
    ///     {"type":"image_url","image_url":{"url":"https://x/cat.png"}}]}"#).unwrap();
    /// msg.set_text("describe");
    /// assert_eq!(msg.text(), Some("describe"));
    /// assert_eq!(msg.json()["content"][1]["type"], "image_url");
    /// ```
    pub fn set_text(&mut self, text: impl Into<String>) {
        set_text_in(&mut self.fields, text.into());
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

/// The first text of a message's content: the string, or its first text
/// block (not its refusal, tool call arguments or reasoning).
fn first_text(fields: &Map<String, Value>) -> Option<&str> {
    text::texts(fields, text::read::lone_message)
        .find(|text| matches!(text.location().part, Part::Content | Part::ToolResult))
        .map(|text| text.as_str())
}

/// A chat message inside a request, borrowed rather than copied: from
/// [`LlmRequest::messages`](crate::LlmRequest::messages).
///
/// ```
/// use bifrost_plugin_sdk::{ChatMessage, LlmRequest};
/// let req = LlmRequest::chat("openai", "m", vec![ChatMessage::system("Be brief."), ChatMessage::user("Hi")]);
/// let roles: Vec<_> = req.messages().map(|m| m.role()).collect();
/// assert_eq!(roles, [Some("system"), Some("user")]);
/// let first: ChatMessage = req.messages().next().unwrap().to_owned();
/// assert_eq!(first.text(), Some("Be brief."));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChatMessageRef<'a> {
    fields: &'a Map<String, Value>,
}

impl<'a> ChatMessageRef<'a> {
    pub(crate) fn new(fields: &'a Map<String, Value>) -> Self {
        ChatMessageRef { fields }
    }

    /// The role: `system`, `user`, `assistant`, `tool`, ….
    pub fn role(&self) -> Option<&'a str> {
        self.fields.get("role").and_then(Value::as_str)
    }

    /// The text content: the string, or the first text block (see
    /// [`ChatMessage::text`]).
    pub fn text(&self) -> Option<&'a str> {
        first_text(self.fields)
    }

    /// Every text of the content (see [`ChatMessage::texts`]).
    pub fn texts(&self) -> impl Iterator<Item = Text<'a>> {
        text::texts(self.fields, text::read::lone_message)
    }

    /// Every field.
    pub fn json(&self) -> &'a Map<String, Value> {
        self.fields
    }

    /// An owned copy, e.g. to put it elsewhere.
    #[allow(clippy::wrong_self_convention)] // it is `Copy`; the name says what it gives
    pub fn to_owned(&self) -> ChatMessage {
        ChatMessage {
            fields: self.fields.clone(),
        }
    }
}

/// [`ChatMessage::set_text`] on a message's fields.
pub(crate) fn set_text_in(fields: &mut Map<String, Value>, text: String) {
    let Some(Value::Array(blocks)) = fields.get_mut("content") else {
        fields.insert("content".into(), Value::String(text));
        return;
    };
    let is_text = |block: &Value| {
        matches!(
            block.get("type").and_then(Value::as_str),
            Some("text" | "input_text" | "output_text")
        )
    };
    match blocks.iter().position(is_text) {
        Some(first) => {
            let mut index = 0;
            blocks.retain(|block| {
                index += 1;
                index - 1 == first || !is_text(block)
            });
            blocks[first]["text"] = Value::String(text);
        }
        None => {
            let mut block = Map::new();
            block.insert("type".into(), Value::String("text".into()));
            block.insert("text".into(), Value::String(text));
            blocks.insert(0, Value::Object(block));
        }
    }
}
