//! One chunk of a streaming response, as the stream-chunk hook sees it.

use serde_json::{Map, Value};

use super::document::Document;

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
/// assert!(chunk.set_text("HEL"));
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

    /// The text of the first choice's delta, for chat chunks.
    pub fn text(&self) -> Option<&str> {
        self.delta()?.get("content")?.as_str()
    }

    /// Replaces the text of the first choice's delta. Returns `false`,
    /// changing nothing, when the chunk has no delta.
    pub fn set_text(&mut self, text: impl Into<String>) -> bool {
        if self.delta().is_none() {
            return false; // keep the host's bytes untouched
        }
        let delta = self
            .doc
            .map_mut()
            .get_mut("choices")
            .and_then(|c| c.get_mut(0))
            .and_then(|c| c.get_mut("delta"))
            .and_then(Value::as_object_mut);
        if let Some(delta) = delta {
            delta.insert("content".into(), Value::String(text.into()));
        }
        true
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
    fn set_text_without_a_delta_changes_nothing() {
        let mut chunk = StreamChunk::from_bytes(br#"{"type":"response.created"}"#).unwrap();
        assert!(!chunk.set_text("x"));
        assert!(chunk.is_unchanged());
    }
}
