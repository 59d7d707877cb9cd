//! Which of Bifrost's request or response variants arrived.
//!
//! Bifrost's `BifrostRequest`/`BifrostResponse` are unions with one variant
//! set (reference §6.2). The variant is found as abi-spec 3.5 describes: the
//! key `chat_request`/`ChatRequest`, `text_completion_response`, … names it.
//! The flat shape names none, so its kind is read from its fields.

use serde_json::{Map, Value};

macro_rules! kinds {
    ($(#[$doc:meta])* $name:ident, $suffix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            /// Chat completion (`ChatRequest`/`chat_…`), streaming or not.
            Chat,
            /// Legacy text completion (`TextCompletion…`/`text_completion_…`).
            TextCompletion,
            /// OpenAI Responses API (`Responses…`/`responses_…`, and the
            /// streamed `ResponsesStream…`).
            Responses,
            /// Embeddings (`Embedding…`).
            Embedding,
            /// Text to speech (`Speech…`).
            Speech,
            /// Speech to text (`Transcription…`).
            Transcription,
            /// Image generation (`ImageGeneration…`).
            ImageGeneration,
            /// Image edit (`ImageEdit…`).
            ImageEdit,
            /// Image variation (`ImageVariation…`).
            ImageVariation,
            /// Reranking (`Rerank…`).
            Rerank,
            /// Token counting (`CountTokens…`).
            CountTokens,
            /// Listing models (`ListModels…`).
            ListModels,
            /// OCR (`OCR…`/`ocr_…`).
            Ocr,
            /// A passthrough to the provider's own API (`Passthrough…`).
            Passthrough,
            /// Any other variant (files, batches, videos, containers, …), or a
            /// flat value whose fields do not tell.
            Other,
        }

        impl $name {
            /// The kind named by a union key such as `chat_request` or
            /// `TextCompletionRequest` (without checking the suffix).
            pub(crate) fn from_key(key: &str) -> Self {
                let stem = key
                    .strip_suffix($suffix)
                    .or_else(|| key.strip_suffix(&$suffix.to_ascii_lowercase()))
                    .unwrap_or(key);
                let name: String = stem
                    .chars()
                    .filter(|c| *c != '_')
                    .map(|c| c.to_ascii_lowercase())
                    .collect();
                match name.strip_suffix("stream").unwrap_or(&name) {
                    "chat" | "chatcompletion" => $name::Chat,
                    "textcompletion" | "text" => $name::TextCompletion,
                    "responses" => $name::Responses,
                    "embedding" | "embeddings" => $name::Embedding,
                    "speech" => $name::Speech,
                    "transcription" => $name::Transcription,
                    "imagegeneration" => $name::ImageGeneration,
                    "imageedit" => $name::ImageEdit,
                    "imagevariation" => $name::ImageVariation,
                    "rerank" => $name::Rerank,
                    "counttokens" => $name::CountTokens,
                    "listmodels" => $name::ListModels,
                    "ocr" => $name::Ocr,
                    "passthrough" => $name::Passthrough,
                    _ => $name::Other,
                }
            }

            /// A short stable name: `chat`, `text_completion`, `responses`, ….
            pub fn as_str(self) -> &'static str {
                match self {
                    $name::Chat => "chat",
                    $name::TextCompletion => "text_completion",
                    $name::Responses => "responses",
                    $name::Embedding => "embedding",
                    $name::Speech => "speech",
                    $name::Transcription => "transcription",
                    $name::ImageGeneration => "image_generation",
                    $name::ImageEdit => "image_edit",
                    $name::ImageVariation => "image_variation",
                    $name::Rerank => "rerank",
                    $name::CountTokens => "count_tokens",
                    $name::ListModels => "list_models",
                    $name::Ocr => "ocr",
                    $name::Passthrough => "passthrough",
                    $name::Other => "other",
                }
            }
        }
    };
}

kinds! {
    /// What kind of request a pre-hook got: [`LlmRequest::kind`](crate::LlmRequest::kind).
    ///
    /// ```
    /// use bifrost_plugin_sdk::{ChatMessage, LlmRequest, RequestKind};
    /// let req = LlmRequest::chat("openai", "gpt-4o-mini", vec![ChatMessage::user("Hi")]);
    /// assert_eq!(req.kind(), RequestKind::Chat);
    /// assert_eq!(req.kind().as_str(), "chat");
    /// ```
    RequestKind, "Request"
}

kinds! {
    /// What kind of response a post-hook got: [`LlmResponse::kind`](crate::LlmResponse::kind).
    ///
    /// ```
    /// use bifrost_plugin_sdk::{LlmResponse, ResponseKind};
    /// let resp = LlmResponse::chat("gpt-4o-mini", "Hello");
    /// assert_eq!(resp.kind(), ResponseKind::Chat);
    /// ```
    ResponseKind, "Response"
}

/// The key of a union's variant: the first object-valued key (in key order)
/// named `…_request` or upper-case `…Request` (`suffix` = `Request` or
/// `Response`). `None` for the flat shape.
pub(crate) fn variant_key<'a>(root: &'a Map<String, Value>, suffix: &str) -> Option<&'a str> {
    root.iter()
        .find(|(key, value)| value.is_object() && names_variant(key.as_bytes(), suffix))
        .map(|(key, _)| key.as_str())
}

/// Whether `key` names a union's variant: `…_request` or upper-case
/// `…Request` (for `suffix` = `Request`).
pub(crate) fn names_variant(key: &[u8], suffix: &str) -> bool {
    // Compared byte by byte, without a lower-cased copy of `suffix`: this
    // runs for every top-level key on every typed read or edit.
    let Some(stem_len) = key.len().checked_sub(suffix.len()) else {
        return false;
    };
    let (stem, tail) = key.split_at(stem_len);
    let lower = stem.ends_with(b"_")
        && tail
            .iter()
            .zip(suffix.bytes())
            .all(|(&k, s)| k == s.to_ascii_lowercase());
    let upper = tail == suffix.as_bytes() && key.first().is_some_and(u8::is_ascii_uppercase);
    lower || upper
}

/// The kind of a flat request, from its fields: chat messages (`messages`,
/// or `input` holding message objects), a text completion's `prompt`.
/// Anything else (a string `input` is a text completion or an embedding
/// alike) is [`RequestKind::Other`].
pub(crate) fn flat_request_kind(inner: &Map<String, Value>) -> RequestKind {
    if inner.contains_key("messages") {
        return RequestKind::Chat;
    }
    if inner.contains_key("prompt") {
        return RequestKind::TextCompletion;
    }
    match inner.get("input") {
        Some(Value::Array(items)) if items.first().is_some_and(Value::is_object) => {
            RequestKind::Chat
        }
        _ => RequestKind::Other,
    }
}

/// The kind of a flat response or chunk, from OpenAI's `object` field
/// (`chat.completion[.chunk]`, `text_completion`, `response`, `list`),
/// Bifrost's `extra_fields.request_type`, a Responses API event's `type`,
/// or, when none of those is there, what its first choice holds.
pub(crate) fn flat_response_kind(inner: &Map<String, Value>) -> ResponseKind {
    let object = inner.get("object").and_then(Value::as_str);
    let by_object = match object {
        Some(o) if o.starts_with("chat.completion") => ResponseKind::Chat,
        Some("text_completion") => ResponseKind::TextCompletion,
        Some("response") => ResponseKind::Responses,
        _ => ResponseKind::Other,
    };
    if by_object != ResponseKind::Other {
        return by_object;
    }
    let request_type = inner
        .get("extra_fields")
        .and_then(|extra| extra.get("request_type"))
        .and_then(Value::as_str);
    match request_type {
        Some(t) if t.starts_with("chat") => ResponseKind::Chat,
        Some(t) if t.starts_with("text") => ResponseKind::TextCompletion,
        Some(t) if t.starts_with("responses") => ResponseKind::Responses,
        Some(t) if t.starts_with("embedding") => ResponseKind::Embedding,
        Some(t) => ResponseKind::from_key(t),
        None if inner
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with("response.")) =>
        {
            ResponseKind::Responses
        }
        None => kind_by_choices(inner),
    }
}

/// The kind a response's first choice shows: a `message` or a stream
/// `delta` is chat, a `text` a text completion. Providers and hand-built
/// responses often leave `object` out, and the choices still tell.
fn kind_by_choices(inner: &Map<String, Value>) -> ResponseKind {
    let first = inner
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|choices| choices.first())
        .and_then(Value::as_object);
    match first {
        Some(choice) if choice.contains_key("message") || choice.contains_key("delta") => {
            ResponseKind::Chat
        }
        Some(choice) if choice.contains_key("text") => ResponseKind::TextCompletion,
        _ => ResponseKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The byte-wise test says what the plain definition says.
        #[test]
        fn variant_keys_are_recognised_as_defined(
            stem in "[a-zA-Z_é]{0,6}",
            tail in proptest::sample::select(vec!["Request", "request", "REQUEST", "Requests", ""]),
        ) {
            let key = format!("{stem}{tail}");
            let defined = (key.ends_with("Request") && key.starts_with(|c: char| c.is_ascii_uppercase()))
                || key.strip_suffix("request").is_some_and(|stem| stem.ends_with('_'));
            proptest::prop_assert_eq!(names_variant(key.as_bytes(), "Request"), defined, "{}", key);
        }
    }

    #[test]
    fn union_keys_name_their_kind_in_either_casing() {
        for (key, kind) in [
            ("chat_request", RequestKind::Chat),
            ("ChatRequest", RequestKind::Chat),
            ("TextCompletionRequest", RequestKind::TextCompletion),
            ("text_completion_request", RequestKind::TextCompletion),
            ("responses_request", RequestKind::Responses),
            ("EmbeddingRequest", RequestKind::Embedding),
            ("OCRRequest", RequestKind::Ocr),
            ("BatchCreateRequest", RequestKind::Other),
        ] {
            assert_eq!(RequestKind::from_key(key), kind, "{key}");
        }
        assert_eq!(
            ResponseKind::from_key("ResponsesStreamResponse"),
            ResponseKind::Responses
        );
        assert_eq!(ResponseKind::from_key("chat_response"), ResponseKind::Chat);
    }

    #[test]
    fn a_flat_response_without_object_is_read_by_its_choices() {
        for (text, kind) in [
            (
                r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"Hi"}}]}"#,
                ResponseKind::Chat,
            ),
            (
                r#"{"id":"x","choices":[{"index":0,"delta":{}}]}"#,
                ResponseKind::Chat,
            ),
            (
                r#"{"choices":[{"index":0,"text":"done"}]}"#,
                ResponseKind::TextCompletion,
            ),
            // `object` and `request_type` say more than the choices do.
            (
                r#"{"object":"text_completion","choices":[{"message":{}}]}"#,
                ResponseKind::TextCompletion,
            ),
            (
                r#"{"extra_fields":{"request_type":"embedding"},"choices":[{"message":{}}]}"#,
                ResponseKind::Embedding,
            ),
            (r#"{"choices":[]}"#, ResponseKind::Other),
            (r#"{"choices":[{"index":0}]}"#, ResponseKind::Other),
            (r#"{"choices":"message"}"#, ResponseKind::Other),
        ] {
            let inner: Map<String, Value> = serde_json::from_str(text).unwrap();
            assert_eq!(flat_response_kind(&inner), kind, "{text}");
        }
    }

    #[test]
    fn the_variant_key_needs_an_object_and_a_proper_suffix() {
        let root: Map<String, Value> = serde_json::from_str(
            r#"{"RequestType":"chat","TextCompletionRequest":null,"ChatRequest":{}}"#,
        )
        .unwrap();
        assert_eq!(variant_key(&root, "Request"), Some("ChatRequest"));
        let flat: Map<String, Value> =
            serde_json::from_str(r#"{"model":"m","request":{},"myrequest":{}}"#).unwrap();
        assert_eq!(variant_key(&flat, "Request"), None);
    }
}
