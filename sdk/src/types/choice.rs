//! One choice of a response or chunk, borrowed.

use serde_json::{Map, Value};

use super::message::ChatMessageRef;
use super::text;

/// One choice of a response (or of a streaming chunk), borrowed: from
/// [`LlmResponse::choices`](crate::LlmResponse::choices) and
/// [`StreamChunk::choices`](crate::StreamChunk::choices).
///
/// It covers chat choices (`message`, or `delta` when streaming) and text
/// completion choices (`text`).
///
/// ```
/// use bifrost_plugin_sdk::LlmResponse;
/// let resp = LlmResponse::chat("m", "Hello");
/// let choice = resp.choices().next().unwrap();
/// assert_eq!(choice.index(), 0);
/// assert_eq!(choice.text(), Some("Hello"));
/// assert_eq!(choice.finish_reason(), Some("stop"));
/// assert_eq!(choice.message().unwrap().role(), Some("assistant"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice<'a> {
    position: usize,
    fields: &'a Map<String, Value>,
}

impl<'a> Choice<'a> {
    pub(crate) fn new(position: usize, fields: &'a Map<String, Value>) -> Self {
        Choice { position, fields }
    }

    /// The choice's `index`; its position in the list when it has none.
    pub fn index(&self) -> u64 {
        self.fields
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(self.position as u64)
    }

    /// Its text: a text completion's `text`, or the message's (or delta's)
    /// content string or first text block.
    pub fn text(&self) -> Option<&'a str> {
        self.texts().next()
    }

    /// Every text of the choice, in order (see
    /// [`LlmResponse::texts`](crate::LlmResponse::texts)).
    pub fn texts(&self) -> impl Iterator<Item = &'a str> {
        text::texts(self.fields, text::read::choice)
    }

    /// Why generation stopped (`finish_reason`), e.g. `stop` or `length`.
    pub fn finish_reason(&self) -> Option<&'a str> {
        self.fields.get("finish_reason").and_then(Value::as_str)
    }

    /// The chat message (`message`, or a streaming `delta`).
    pub fn message(&self) -> Option<ChatMessageRef<'a>> {
        let message = self
            .fields
            .get("message")
            .or_else(|| self.fields.get("delta"))?;
        message.as_object().map(ChatMessageRef::new)
    }

    /// Every field of the choice.
    pub fn json(&self) -> &'a Map<String, Value> {
        self.fields
    }
}

/// The choices in `inner["choices"]`.
pub(crate) fn choices(inner: &Map<String, Value>) -> impl Iterator<Item = Choice<'_>> {
    let list = match inner.get("choices") {
        Some(Value::Array(list)) => list.as_slice(),
        _ => &[],
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, choice)| choice.as_object().map(|fields| Choice::new(i, fields)))
}
