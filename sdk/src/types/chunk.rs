//! One chunk of a streaming response, as the stream-chunk hook sees it.

use serde_json::{Map, Value};

use super::choice::{self, Choice, ChoiceMut};
use super::document::Document;
use super::host_texts::{self, Shape};
use super::kind::{self, ResponseKind};
use super::text::{self, Text, TextMut};
use super::usage::Usage;

/// A streaming chunk: the active variant of Bifrost's `BifrostStreamChunk`,
/// serialised flat with no SSE framing, e.g. a chat chunk
/// `{"id","object":"chat.completion.chunk","model","choices":[{"delta":{…}}]}`,
/// a Responses API event `{"type",…}` or an error `{"error":{…}}`.
///
/// A chunk the plugin does not change goes back byte for byte.
///
/// ```
/// use bifrost_plugin_sdk::StreamChunk;
/// let mut chunk = StreamChunk::from_json(serde_json::json!({
///     "object": "chat.completion.chunk",
///     "choices": [{"index": 0, "delta": {"content": "Hel"}}]
/// }));
/// assert_eq!(chunk.text(), Some("Hel"));
/// for mut choice in chunk.choices_mut() {
///     choice.set_text("HEL");
/// }
/// assert_eq!(chunk.text(), Some("HEL"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StreamChunk {
    doc: Document,
}

impl StreamChunk {
    /// A chunk built by the plugin from a JSON object (anything else gives
    /// an empty chunk).
    pub fn from_json(value: Value) -> Self {
        let map = match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        StreamChunk {
            doc: Document::from_map(map),
        }
    }

    /// Which kind of stream this chunk belongs to, from its `object`
    /// (`chat.completion.chunk`, `text_completion`), its Responses API event
    /// `type` (`response.…`), `extra_fields.request_type`, or else its first
    /// choice (a `delta` is chat, a `text` a text completion).
    ///
    /// ```
    /// use bifrost_plugin_sdk::{ResponseKind, StreamChunk};
    /// let chunk = StreamChunk::from_json(serde_json::json!({"type": "response.output_text.delta", "delta": "Hi"}));
    /// assert_eq!(chunk.kind(), ResponseKind::Responses);
    /// ```
    pub fn kind(&self) -> ResponseKind {
        kind::flat_response_kind(self.doc.map())
    }

    /// Every choice of the chunk, borrowed (their `delta`s).
    ///
    /// ```
    /// use bifrost_plugin_sdk::StreamChunk;
    /// let chunk = StreamChunk::from_json(serde_json::json!({"choices": [
    ///     {"index": 0, "delta": {"content": "A"}},
    ///     {"index": 1, "delta": {"content": "B"}, "finish_reason": "stop"}]}));
    /// let texts: Vec<_> = chunk.choices().map(|c| c.text()).collect();
    /// assert_eq!(texts, [Some("A"), Some("B")]);
    /// ```
    pub fn choices(&self) -> impl Iterator<Item = Choice<'_>> {
        choice::choices(self.doc.map())
    }

    /// The token usage, when the chunk carries it (usually the last chunk of
    /// a stream; `usage`, or `response.usage` of a Responses API
    /// `response.completed` event). See [`Usage`] for the field names read.
    ///
    /// ```
    /// use bifrost_plugin_sdk::StreamChunk;
    /// let chunk = StreamChunk::from_json(serde_json::json!({"choices": [],
    ///     "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}));
    /// assert_eq!(chunk.usage().unwrap().completion_tokens, 2);
    /// ```
    pub fn usage(&self) -> Option<Usage> {
        super::llm::usage_in(self.doc.map())
    }

    /// Every text a model wrote into this chunk: each choice's delta content
    /// (or text completion `text`), a Responses API event's text delta.
    ///
    /// ```
    /// use bifrost_plugin_sdk::StreamChunk;
    /// let chunk = StreamChunk::from_json(serde_json::json!({
    ///     "type": "response.output_text.delta", "item_id": "m1", "delta": "Hel"}));
    /// assert_eq!(chunk.texts().collect::<Vec<_>>(), ["Hel"]);
    /// ```
    pub fn texts(&self) -> impl Iterator<Item = Text<'_>> {
        text::texts(self.doc.map(), text::read::response)
    }

    /// The texts of [`StreamChunk::texts`], for editing in place. Only a
    /// [`TextMut::set`] that changes a text edits the chunk; otherwise it
    /// goes back byte for byte.
    ///
    /// ```
    /// use bifrost_plugin_sdk::StreamChunk;
    /// let mut chunk = StreamChunk::from_json(serde_json::json!({
    ///     "choices": [{"index": 0, "delta": {"content": "secret"}}]}));
    /// for mut text in chunk.texts_mut() {
    ///     text.set("******");
    /// }
    /// assert_eq!(chunk.text(), Some("******"));
    /// ```
    pub fn texts_mut(&mut self) -> impl Iterator<Item = TextMut<'_>> {
        host_texts::lend(&mut self.doc, Shape::Chunk)
    }

    /// The text of the first choice's delta, for chat chunks.
    pub fn text(&self) -> Option<&str> {
        self.delta()?.get("content")?.as_str()
    }

    /// Every choice of the chunk, for editing: set or append to each
    /// one's delta content (see [`ChoiceMut`]), also when the delta has no
    /// content yet.
    pub fn choices_mut(&mut self) -> impl Iterator<Item = ChoiceMut<'_>> {
        let (root, edited) = self.doc.map_mut_lazily();
        choice::choices_mut(root, edited)
    }

    /// Whether this chunk carries an error (`{"error": {…}}`).
    pub fn is_error(&self) -> bool {
        self.doc.map().get("error").is_some_and(Value::is_object)
    }

    fn delta(&self) -> Option<&Map<String, Value>> {
        self.doc
            .map()
            .get("choices")?
            .get(0)?
            .get("delta")?
            .as_object()
    }
}

super::document::document_view!(StreamChunk, "chunk");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_chunks_keep_their_bytes_and_errors_are_recognised() {
        let text = br#"{"error":{"type":"server_error","message":"boom"}}"#;
        let chunk = StreamChunk::from_bytes(text).unwrap();
        assert!(chunk.is_error());
        assert_eq!(chunk.text(), None);
        assert_eq!(serde_json::to_vec(&chunk).unwrap(), text);
    }

    #[test]
    fn a_chunk_without_choices_has_none_to_edit() {
        let mut chunk = StreamChunk::from_bytes(br#"{"type":"response.created"}"#).unwrap();
        assert_eq!(chunk.choices_mut().count(), 0);
        assert!(chunk.is_unchanged());
    }
}
