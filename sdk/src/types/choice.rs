//! One choice of a response or chunk, borrowed.

use std::cell::Cell;

use serde_json::{Map, Value};

use super::message::{self, ChatMessageRef};
use super::text::{self, Part, Text};

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
        self.texts()
            .find(|text| text.location().part == Part::Content)
            .map(|text| text.as_str())
    }

    /// Every text of the choice, in order (see
    /// [`LlmResponse::texts`](crate::LlmResponse::texts)).
    pub fn texts(&self) -> impl Iterator<Item = Text<'a>> {
        let position = self.position;
        text::texts(self.fields, move |fields, out| {
            text::read::choice(fields, position, out)
        })
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

/// One choice of a response or of a streaming chunk, for editing: from
/// [`LlmResponse::choices_mut`](crate::LlmResponse::choices_mut) and
/// [`StreamChunk::choices_mut`](crate::StreamChunk::choices_mut).
///
/// Its text is a text completion's `text`, or the content of its `message`
/// (a chunk's `delta`): a string, or the text blocks of block content. Only
/// a call that changes something edits the value, and an edit changes that
/// choice's text only: every other byte goes back as the host sent it.
///
/// ```
/// use bifrost_plugin_sdk::LlmResponse;
/// let mut resp: LlmResponse = serde_json::from_str(r#"{"choices":[
///     {"index":0,"message":{"role":"assistant","content":"Yes"}},
///     {"index":1,"message":{"role":"assistant","content":[{"type":"text","text":"No"}]}}]}"#).unwrap();
/// for mut choice in resp.choices_mut() {
///     choice.append_text(" (checked)");
/// }
/// let texts: Vec<_> = resp.choices().map(|c| c.text()).collect();
/// assert_eq!(texts, [Some("Yes (checked)"), Some("No (checked)")]);
/// ```
pub struct ChoiceMut<'a> {
    position: usize,
    fields: &'a mut Map<String, Value>,
    /// The owning document's "edited" flag.
    edited: &'a Cell<bool>,
}

impl ChoiceMut<'_> {
    /// The choice's `index`; its position in the list when it has none.
    pub fn index(&self) -> u64 {
        Choice::new(self.position, self.fields).index()
    }

    /// Why generation stopped (`finish_reason`), when the choice says.
    pub fn finish_reason(&self) -> Option<&str> {
        self.fields.get("finish_reason").and_then(Value::as_str)
    }

    /// Its text (see [`Choice::text`]).
    pub fn text(&self) -> Option<&str> {
        Choice::new(self.position, self.fields).text()
    }

    /// Sets its text: a text completion's `text`, or the message's (delta's)
    /// content as [`ChatMessage::set_text`](crate::ChatMessage::set_text)
    /// sets it (block content keeps its other blocks). Returns `false`,
    /// changing nothing, when the choice has neither `text`, `message` nor
    /// `delta`.
    pub fn set_text(&mut self, text: impl Into<String>) -> bool {
        let text = text.into();
        if self.text() == Some(text.as_str()) {
            return self.has_text_slot();
        }
        self.edit(|slot| match slot {
            Slot::Text(old) => *old = text,
            Slot::Message(message) => message::set_text_in(message, text),
        })
    }

    /// Appends `text` to its text: to a string (`text`, or string content),
    /// to the last text block of block content (or as a new text block when
    /// there is none), or as the content of a message or delta that has
    /// none yet (a stream's last chunk often has `"delta":{}`). Returns
    /// `false`, changing nothing, when the choice has neither `text`,
    /// `message` nor `delta`.
    ///
    /// ```
    /// use bifrost_plugin_sdk::StreamChunk;
    /// let mut chunk: StreamChunk = serde_json::from_str(
    ///     r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#).unwrap();
    /// assert!(chunk.choices_mut().next().unwrap().append_text("\n-- checked"));
    /// assert_eq!(chunk.choices().next().unwrap().text(), Some("\n-- checked"));
    /// ```
    pub fn append_text(&mut self, text: &str) -> bool {
        if text.is_empty() {
            return self.has_text_slot();
        }
        self.edit(|slot| match slot {
            Slot::Text(old) => old.push_str(text),
            Slot::Message(message) => append_to_content(message, text),
        })
    }

    /// Every field of the choice.
    pub fn json(&self) -> &Map<String, Value> {
        self.fields
    }

    /// Every field of the choice, for edits the methods do not cover (the
    /// value counts as edited).
    pub fn json_mut(&mut self) -> &mut Map<String, Value> {
        self.edited.set(true);
        self.fields
    }

    fn has_text_slot(&self) -> bool {
        matches!(self.fields.get("text"), Some(Value::String(_)))
            || ["message", "delta"]
                .iter()
                .any(|key| self.fields.get(*key).is_some_and(Value::is_object))
    }

    /// Runs `change` on where the text goes, marking the value edited.
    fn edit(&mut self, change: impl FnOnce(Slot<'_>)) -> bool {
        let slot = match self.fields.get("text") {
            Some(Value::String(_)) => match self.fields.get_mut("text") {
                Some(Value::String(text)) => Slot::Text(text),
                _ => return false,
            },
            _ => {
                let key = match self.fields.get("message") {
                    Some(Value::Object(_)) => "message",
                    _ => "delta",
                };
                match self.fields.get_mut(key) {
                    Some(Value::Object(message)) => Slot::Message(message),
                    _ => return false,
                }
            }
        };
        change(slot);
        self.edited.set(true);
        true
    }
}

/// Where a choice's text goes.
enum Slot<'a> {
    /// A text completion's `text`.
    Text(&'a mut String),
    /// A message or delta.
    Message(&'a mut Map<String, Value>),
}

/// Appends `text` to a message's content (see [`ChoiceMut::append_text`]).
fn append_to_content(message: &mut Map<String, Value>, text: &str) {
    match message.get_mut("content") {
        Some(Value::String(content)) => content.push_str(text),
        Some(Value::Array(blocks)) => {
            let last_text = blocks.iter_mut().rev().find_map(|block| {
                let block = block.as_object_mut()?;
                let is_text = text::is_text_block(block);
                match block.get_mut("text") {
                    Some(Value::String(old)) if is_text => Some(old),
                    _ => None,
                }
            });
            match last_text {
                Some(old) => old.push_str(text),
                None => blocks.push(serde_json::json!({"type": "text", "text": text})),
            }
        }
        _ => {
            message.insert("content".into(), Value::String(text.into()));
        }
    }
}

/// The choices in `inner["choices"]`, for editing.
pub(crate) fn choices_mut<'a>(
    inner: &'a mut Map<String, Value>,
    edited: &'a Cell<bool>,
) -> impl Iterator<Item = ChoiceMut<'a>> {
    let list = match inner.get_mut("choices") {
        Some(Value::Array(list)) => list.as_mut_slice(),
        _ => &mut [],
    };
    list.iter_mut()
        .enumerate()
        .filter_map(move |(position, choice)| {
            let fields = choice.as_object_mut()?;
            Some(ChoiceMut {
                position,
                fields,
                edited,
            })
        })
}

#[cfg(test)]
mod tests {
    use crate::types::{LlmResponse, StreamChunk};

    fn written(value: &impl serde::Serialize) -> String {
        serde_json::to_string(value).unwrap()
    }

    #[test]
    fn every_choice_is_appended_to_and_only_its_text_changes() {
        let text = r#"{"id":"r","choices":[{"index":0,"message":{"role":"assistant","content":"A"}},
            {"index":1,"message":{"role":"assistant","content":[{"type":"text","text":"B"},{"type":"image_url","image_url":{"url":"u"}}]}},
            {"index":2,"message":{"role":"assistant","content":null}},
            {"index":3,"text":"D"}],"usage":{"total_tokens":1.50}}"#;
        let mut resp: LlmResponse = serde_json::from_str(text).unwrap();
        for mut choice in resp.choices_mut() {
            assert!(choice.append_text("!"));
        }
        let expected = text
            .replace(r#""A""#, r#""A!""#)
            .replace(r#""B""#, r#""B!""#)
            .replace("null", r#""!""#)
            .replace(r#""D""#, r#""D!""#);
        assert_eq!(written(&resp), expected);
    }

    #[test]
    fn set_text_replaces_content_and_a_choice_without_text_is_left_alone() {
        let text = r#"{"choices":[{"index":0,"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}},{"index":1,"finish_reason":"stop"}]}"#;
        let mut resp: LlmResponse = serde_json::from_str(text).unwrap();
        let results: Vec<bool> = resp.choices_mut().map(|mut c| c.set_text("x")).collect();
        assert_eq!(results, [true, false]);
        assert_eq!(resp.text(), Some("x"));
        assert_eq!(resp.choices().next().unwrap().texts().count(), 1);
        let mut same: LlmResponse = serde_json::from_str(text).unwrap();
        same.choices_mut().next().unwrap().set_text("a");
        same.choices_mut().nth(1).unwrap().append_text("");
        let first = same.choices_mut().next().unwrap().append_text("");
        assert!(first);
        assert!(same.is_unchanged(), "no change, no edit");
    }

    #[test]
    fn a_final_chunk_with_an_empty_delta_gets_content() {
        let text = r#"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
        let mut chunk: StreamChunk = serde_json::from_str(text).unwrap();
        let mut choice = chunk.choices_mut().next().unwrap();
        assert_eq!(choice.finish_reason(), Some("stop"));
        assert_eq!(choice.index(), 0);
        assert!(choice.append_text(" [end]"));
        assert_eq!(
            written(&chunk),
            text.replace("{}", r#"{"content":" [end]"}"#)
        );
    }
}
