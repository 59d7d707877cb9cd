//! Bifrost's LLM request and response, as typed views over the host's JSON.
//!
//! The host's exact wire shape is not public (see abi-spec.md, "LLM request
//! shapes"): the request may be Go's union (`{"RequestType": …,
//! "ChatRequest": {…}}`), a snake-case union (`{"chat_request": {…}}`) or
//! the inner request itself (`{"provider", "model", "input", …}`). The
//! accessors find the inner request in any of them and edit it in place, so
//! the shape the host chose is the shape it gets back.

use serde_json::{json, Map, Value};

use super::choice::{self, Choice, ChoiceMut};
use super::document::Document;
use super::host_texts::{self, Shape};
use super::kind::{self, variant_key, RequestKind, ResponseKind};
use super::message::{ChatMessage, ChatMessageRef};
use super::patch;
use super::text::{self, Text, TextMut};
use super::usage::Usage;
use super::InputError;

/// Finds the variant object of a Bifrost union (abi-spec 3.5): the value of
/// [`variant_key`]; the root itself when there is none.
fn variant<'a>(root: &'a Map<String, Value>, suffix: &str) -> &'a Map<String, Value> {
    match variant_key(root, suffix) {
        Some(key) => root[key].as_object().unwrap_or(root),
        None => root,
    }
}

fn variant_mut<'a>(root: &'a mut Map<String, Value>, suffix: &str) -> &'a mut Map<String, Value> {
    match variant_key(root, suffix).map(str::to_owned) {
        Some(key) => match root.get_mut(key.as_str()) {
            Some(Value::Object(inner)) => inner,
            _ => unreachable!("variant_key only returns object-valued keys"),
        },
        None => root,
    }
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
/// req.insert_message(0, ChatMessage::system("Be brief."));
/// assert_eq!(req.model(), Some("gpt-4o"));
/// assert_eq!(req.provider(), Some("openai"));
/// assert_eq!(req.message_count(), 2);
/// assert_eq!(req.messages().next().unwrap().role(), Some("system"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LlmRequest {
    pub(super) doc: Document,
}

impl LlmRequest {
    /// A chat request in the flat shape `{"provider","model","input"}`.
    pub fn chat(provider: &str, model: &str, messages: Vec<ChatMessage>) -> Self {
        let root = json!({"provider": provider, "model": model, "input": messages});
        LlmRequest {
            doc: Document::from_map(into_map(root)),
        }
    }

    /// Keeps host bytes checked as part of a larger value, whose check also
    /// found where its `members` are.
    #[allow(dead_code)] // used by the single-input ABI only
    pub(crate) fn from_checked_members(
        bytes: &[u8],
        members: Vec<crate::json::validate::Member>,
    ) -> Result<Self, InputError> {
        let doc = Document::from_checked(bytes, "request")?;
        Ok(LlmRequest {
            doc: doc.with_members(members),
        })
    }

    /// Which kind of request this is: the union key that holds it
    /// (`chat_request`, `TextCompletionRequest`, …; abi-spec 3.5), or for the
    /// flat shape, its fields (`messages` or an `input` of message objects
    /// is [`RequestKind::Chat`], a `prompt` is
    /// [`RequestKind::TextCompletion`], anything else
    /// [`RequestKind::Other`]).
    ///
    /// ```
    /// use bifrost_plugin_sdk::{LlmRequest, RequestKind};
    /// let req: LlmRequest = serde_json::from_str(
    ///     r#"{"embedding_request":{"model":"text-embedding-3-small","input":["a","b"]}}"#).unwrap();
    /// assert_eq!(req.kind(), RequestKind::Embedding);
    /// ```
    pub fn kind(&self) -> RequestKind {
        let root = self.doc.map();
        match variant_key(root, "Request") {
            Some(key) => RequestKind::from_key(key),
            None => kind::flat_request_kind(root),
        }
    }

    /// The model name, e.g. `gpt-4o-mini`.
    pub fn model(&self) -> Option<&str> {
        self.doc
            .host_str("Request", "model")
            .unwrap_or_else(|| str_field(self.inner(), "model"))
    }

    /// Sets the model name.
    ///
    /// On a request from the host that has not been read yet, the edit is
    /// made on its text (one member's value replaced): the rest goes back
    /// byte for byte, and nothing is parsed.
    pub fn set_model(&mut self, model: impl Into<String>) {
        self.set_string("model", model.into());
    }

    /// The provider, e.g. `openai`.
    pub fn provider(&self) -> Option<&str> {
        self.doc
            .host_str("Request", "provider")
            .unwrap_or_else(|| str_field(self.inner(), "provider"))
    }

    /// Sets the provider (made on the text as [`LlmRequest::set_model`] is).
    pub fn set_provider(&mut self, provider: impl Into<String>) {
        self.set_string("provider", provider.into());
    }

    fn set_string(&mut self, key: &str, value: String) {
        if !patch::set_string(&mut self.doc, "Request", key, &value) {
            self.inner_mut().insert(key.into(), Value::String(value));
        }
    }

    /// Every text a user wrote into the request, in order: each message's
    /// string content or text blocks (chat, Responses API input items), a
    /// text completion's prompt (string or list), embedding inputs (string
    /// or list). Images and other non-text blocks are skipped.
    ///
    /// ```
    /// use bifrost_plugin_sdk::LlmRequest;
    /// let req: LlmRequest = serde_json::from_str(r#"{"chat_request":{"model":"m","input":[
    ///     {"role":"system","content":"Be brief."},
    ///     {"role":"user","content":[{"type":"text","text":"What is this?"},
    ///                               {"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}}"#).unwrap();
    /// assert_eq!(req.texts().collect::<Vec<_>>(), ["Be brief.", "What is this?"]);
    /// ```
    pub fn texts(&self) -> impl Iterator<Item = Text<'_>> {
        text::texts(self.inner(), text::read::request)
    }

    /// The texts of [`LlmRequest::texts`], for editing in place: each one
    /// stays where it is (block lists keep their other blocks). Only a
    /// [`TextMut::set`] that changes a text edits the request; otherwise it
    /// goes back byte for byte.
    ///
    /// ```
    /// use bifrost_plugin_sdk::LlmRequest;
    /// let mut req: LlmRequest = serde_json::from_str(
    ///     r#"{"model":"m","prompt":["call me at 555-0100", "thanks"]}"#).unwrap();
    /// for mut text in req.texts_mut() {
    ///     let cleaned = text.replace("555-0100", "[phone]");
    ///     text.set(cleaned);
    /// }
    /// assert_eq!(req.texts().collect::<Vec<_>>(), ["call me at [phone]", "thanks"]);
    /// ```
    pub fn texts_mut(&mut self) -> impl Iterator<Item = TextMut<'_>> {
        host_texts::lend(&mut self.doc, Shape::Request)
    }

    /// The chat messages (Bifrost's `input`, or `messages`), borrowed; none
    /// when the request has none. (Items that are not JSON objects, which
    /// Bifrost never sends, are skipped.)
    ///
    /// ```
    /// use bifrost_plugin_sdk::{ChatMessage, LlmRequest};
    /// let req = LlmRequest::chat("openai", "m", vec![ChatMessage::user("Hi")]);
    /// for message in req.messages() {
    ///     assert_eq!(message.text(), Some("Hi"));
    /// }
    /// ```
    pub fn messages(&self) -> impl DoubleEndedIterator<Item = ChatMessageRef<'_>> {
        self.message_list()
            .iter()
            .filter_map(|m| m.as_object().map(ChatMessageRef::new))
    }

    /// The message at `index`, borrowed.
    pub fn message(&self, index: usize) -> Option<ChatMessageRef<'_>> {
        self.message_list()
            .get(index)?
            .as_object()
            .map(ChatMessageRef::new)
    }

    /// How many messages there are.
    pub fn message_count(&self) -> usize {
        self.message_list().len()
    }

    fn message_list(&self) -> &[Value] {
        let inner = self.inner();
        match inner.get(messages_key(inner)) {
            Some(Value::Array(items)) => items,
            _ => &[],
        }
    }

    /// The message list for editing, created (or replaced, if it is not a
    /// list) when needed.
    fn message_list_mut(&mut self) -> &mut Vec<Value> {
        let inner = self.inner_mut();
        let key = messages_key(inner);
        let slot = inner.entry(key).or_insert_with(|| Value::Array(Vec::new()));
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        match slot {
            Value::Array(items) => items,
            _ => unreachable!("made an array above"),
        }
    }

    /// Appends a chat message.
    ///
    /// On a request from the host that has not been read yet, the message
    /// is inserted into its text: the rest goes back byte for byte, and
    /// nothing is parsed.
    pub fn push_message(&mut self, message: ChatMessage) {
        self.insert_message(usize::MAX, message);
    }

    /// Inserts a chat message at `index` (0 puts it first); an `index` past
    /// the end appends it.
    ///
    /// ```
    /// use bifrost_plugin_sdk::{ChatMessage, LlmRequest};
    /// let mut req = LlmRequest::chat("openai", "m", vec![ChatMessage::user("Hi")]);
    /// req.insert_message(0, ChatMessage::system("Answer in French."));
    /// req.insert_message(99, ChatMessage::user("Thanks"));
    /// let texts: Vec<_> = req.messages().map(|m| m.text().unwrap()).collect();
    /// assert_eq!(texts, ["Answer in French.", "Hi", "Thanks"]);
    /// ```
    pub fn insert_message(&mut self, index: usize, message: ChatMessage) {
        if patch::insert_message(&mut self.doc, "Request", index, |out| {
            message.write_json(out)
        }) {
            return;
        }
        let list = self.message_list_mut();
        let index = index.min(list.len());
        list.insert(index, message.into_value());
    }

    /// Removes and returns the message at `index`; `None`, changing
    /// nothing, when there is none (or it is not a JSON object).
    ///
    /// ```
    /// use bifrost_plugin_sdk::{ChatMessage, LlmRequest};
    /// let mut req = LlmRequest::chat("openai", "m",
    ///     vec![ChatMessage::system("s"), ChatMessage::user("Hi")]);
    /// assert_eq!(req.remove_message(0).unwrap().role(), Some("system"));
    /// assert_eq!(req.remove_message(5), None);
    /// assert_eq!(req.message_count(), 1);
    /// ```
    pub fn remove_message(&mut self, index: usize) -> Option<ChatMessage> {
        if !self.message_list().get(index)?.is_object() {
            return None; // keep the host's bytes untouched
        }
        ChatMessage::from_value(self.message_list_mut().remove(index))
    }

    /// Replaces the chat messages.
    pub fn set_messages(&mut self, messages: Vec<ChatMessage>) {
        let inner = self.inner_mut();
        let key = messages_key(inner);
        let items = messages.into_iter().map(ChatMessage::into_value).collect();
        inner.insert(key.into(), Value::Array(items));
    }

    /// A canonical text of what determines the answer: the kind and every
    /// field of the request (provider, model, messages or input or prompt,
    /// params, …) except `fallbacks` and identifiers (`id`, `request_id`),
    /// with object keys sorted and numbers normalised (`1`, `1.0` and
    /// `1.00` are the same, so are `0.5` and `5e-1`). Two requests with the
    /// same identity would get the same answer from a deterministic
    /// provider, whatever shape (3.5) or key order they came in; use it as a
    /// cache key.
    ///
    /// ```
    /// use bifrost_plugin_sdk::LlmRequest;
    /// let a: LlmRequest = serde_json::from_str(
    ///     r#"{"chat_request":{"provider":"openai","model":"m","input":[{"role":"user","content":"Hi"}],
    ///        "params":{"temperature":0.5,"max_tokens":10}}}"#).unwrap();
    /// let b: LlmRequest = serde_json::from_str(
    ///     r#"{"model":"m","provider":"openai","params":{"max_tokens":10,"temperature":0.50},
    ///        "input":[{"content":"Hi","role":"user"}],"fallbacks":[{"provider":"x","model":"y"}]}"#).unwrap();
    /// assert_eq!(a.identity(), b.identity());
    /// let mut c = b.clone();
    /// c.set_model("other");
    /// assert_ne!(a.identity(), c.identity());
    /// ```
    pub fn identity(&self) -> String {
        let mut out = String::from(self.kind().as_str());
        let inner = self.inner();
        let members = inner
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "fallbacks" | "id" | "request_id"));
        for (key, value) in by_key(members) {
            out.push('\n');
            canonical(&Value::String(key.clone()), &mut out);
            out.push('=');
            canonical(value, &mut out);
        }
        out
    }

    fn inner(&self) -> &Map<String, Value> {
        variant(self.doc.map(), "Request")
    }

    fn inner_mut(&mut self) -> &mut Map<String, Value> {
        variant_mut(self.doc.map_mut(), "Request")
    }
}

/// `members` in key order, by binary-search insertion rather than a sort:
/// the slice sorts would add ~10 KB of .wasm to a plugin that asks for an
/// identity. (A map's members come in key order unless serde_json's
/// `preserve_order` is on, and then each insertion only moves pointers.)
fn by_key<'a>(
    members: impl Iterator<Item = (&'a String, &'a Value)>,
) -> Vec<(&'a String, &'a Value)> {
    let mut sorted: Vec<(&String, &Value)> = Vec::new();
    for (key, value) in members {
        let at = sorted.partition_point(|(k, _)| *k < key);
        sorted.insert(at, (key, value));
    }
    sorted
}

/// Writes `value` as JSON with object keys sorted, whatever the map's own
/// order (serde_json's `preserve_order` feature may be on in a plugin).
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            out.push('{');
            for (i, (key, value)) in by_key(map.iter()).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(&Value::String(key.clone()), out);
                out.push(':');
                canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        // A whole number is one value however it is spelt (`1`, `1.0`,
        // `1e0`; `-0.0` is 0): a provider reads the same number, and Go
        // writes a float64 1.0 as `1`.
        Value::Number(n) => match n.as_f64() {
            Some(x) if n.is_f64() && x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 => {
                out.push_str(&(x as i64).to_string())
            }
            _ => out.push_str(&n.to_string()),
        },
        other => {
            // Not `Value`'s `Display`, which links serde_json's serializer.
            let mut text = Vec::new();
            crate::json::write::write_value(&mut text, other);
            out.push_str(&String::from_utf8_lossy(&text));
        }
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

    /// The response with `usage` set (as `prompt_tokens`,
    /// `completion_tokens`, `total_tokens`).
    ///
    /// ```
    /// use bifrost_plugin_sdk::{LlmResponse, Usage};
    /// let resp = LlmResponse::chat("m", "hi").with_usage(Usage::new(3, 1));
    /// assert_eq!(resp.usage().unwrap().total_tokens, 4);
    /// ```
    #[must_use]
    pub fn with_usage(mut self, usage: Usage) -> Self {
        variant_mut(self.doc.map_mut(), "Response").insert("usage".into(), usage.to_value());
        self
    }

    /// Reads an optional response buffer: empty and `null` mean "none".
    pub(crate) fn from_optional_bytes(bytes: &[u8]) -> Result<Option<Self>, InputError> {
        match super::is_absent(bytes) {
            true => Ok(None),
            false => Self::deferred(bytes).map(Some),
        }
    }

    /// [`LlmResponse::from_optional_bytes`] for bytes checked already (as
    /// part of the single-input envelope): not scanned again to be echoed,
    /// and read from the text where it can be ([`LlmResponse::usage`]).
    pub(crate) fn from_optional_checked(bytes: &[u8]) -> Result<Option<Self>, InputError> {
        match super::is_absent(bytes) {
            true => Ok(None),
            false => Self::from_checked(bytes).map(Some),
        }
    }

    /// Which kind of response this is: the union key that holds it
    /// (`chat_response`, `ResponsesStreamResponse`, …), or for the flat
    /// shape its `object` (`chat.completion`, `text_completion`,
    /// `response`), `extra_fields.request_type`, or else its first choice
    /// (a `message` is chat, a `text` a text completion);
    /// [`ResponseKind::Other`] when none tells.
    ///
    /// ```
    /// use bifrost_plugin_sdk::{LlmResponse, ResponseKind};
    /// let resp: LlmResponse = serde_json::from_str(
    ///     r#"{"object":"text_completion","choices":[{"index":0,"text":"done"}]}"#).unwrap();
    /// assert_eq!(resp.kind(), ResponseKind::TextCompletion);
    /// ```
    pub fn kind(&self) -> ResponseKind {
        let root = self.doc.map();
        match variant_key(root, "Response") {
            Some(key) => ResponseKind::from_key(key),
            None => kind::flat_response_kind(root),
        }
    }

    /// The model that answered.
    pub fn model(&self) -> Option<&str> {
        self.doc
            .host_str("Response", "model")
            .unwrap_or_else(|| str_field(self.inner(), "model"))
    }

    /// The token usage, when the response carries it (see [`Usage`] for
    /// how chat, text completion and Responses API usage are read): the
    /// response's `usage`, or its nested `response.usage` (Responses API
    /// stream events).
    ///
    /// ```
    /// use bifrost_plugin_sdk::LlmResponse;
    /// let resp: LlmResponse = serde_json::from_str(r#"{"chat_response":{"choices":[],
    ///     "usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}}"#).unwrap();
    /// assert_eq!(resp.usage().unwrap().total_tokens, 12);
    /// ```
    pub fn usage(&self) -> Option<Usage> {
        // Read from the host's text when it can be: only the usage object
        // is parsed, not the response (its texts are most of it).
        match self.doc.host_member("Response", "usage") {
            Some(Some(usage)) if usage.starts_with(b"{") => Usage::in_text(usage),
            Some(None) if self.doc.host_member("Response", "response") == Some(None) => None,
            _ => usage_in(self.inner()),
        }
    }

    /// Every choice, borrowed, in order.
    ///
    /// ```
    /// use bifrost_plugin_sdk::LlmResponse;
    /// let resp: LlmResponse = serde_json::from_str(r#"{"choices":[
    ///     {"index":0,"message":{"role":"assistant","content":"Yes"},"finish_reason":"stop"},
    ///     {"index":1,"message":{"role":"assistant","content":"No"},"finish_reason":"length"}]}"#).unwrap();
    /// let texts: Vec<_> = resp.choices().map(|c| (c.index(), c.text(), c.finish_reason())).collect();
    /// assert_eq!(texts, [(0, Some("Yes"), Some("stop")), (1, Some("No"), Some("length"))]);
    /// ```
    pub fn choices(&self) -> impl Iterator<Item = Choice<'_>> {
        choice::choices(self.inner())
    }

    /// Every text a model wrote, in order: each choice's message content
    /// (string or text blocks), streaming delta or text completion `text`;
    /// the Responses API's output items.
    ///
    /// ```
    /// use bifrost_plugin_sdk::LlmResponse;
    /// let resp: LlmResponse = serde_json::from_str(r#"{"responses_response":{"output":[
    ///     {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi!"}]}]}}"#).unwrap();
    /// assert_eq!(resp.texts().collect::<Vec<_>>(), ["Hi!"]);
    /// ```
    pub fn texts(&self) -> impl Iterator<Item = Text<'_>> {
        text::texts(self.inner(), text::read::response)
    }

    /// The texts of [`LlmResponse::texts`], for editing in place. Only a
    /// [`TextMut::set`] that changes a text edits the response; otherwise
    /// it goes back byte for byte.
    ///
    /// ```
    /// use bifrost_plugin_sdk::LlmResponse;
    /// let mut resp = LlmResponse::chat("m", "the password is hunter2");
    /// for mut text in resp.texts_mut() {
    ///     let hidden = text.replace("hunter2", "*******");
    ///     text.set(hidden);
    /// }
    /// assert_eq!(resp.text(), Some("the password is *******"));
    /// ```
    pub fn texts_mut(&mut self) -> impl Iterator<Item = TextMut<'_>> {
        host_texts::lend(&mut self.doc, Shape::Response)
    }

    /// The text of the first choice: its message's (or streaming delta's)
    /// content string or first text block, or a text completion's `text`.
    /// [`LlmResponse::choices`] has every choice.
    pub fn text(&self) -> Option<&str> {
        self.choices().next()?.text()
    }

    /// Every choice, for editing: set or append each one's text (see
    /// [`ChoiceMut`]). Only an edit that changes something edits the
    /// response, and it changes that text only.
    ///
    /// ```
    /// use bifrost_plugin_sdk::LlmResponse;
    /// let mut resp = LlmResponse::chat("m", "Paris");
    /// if let Some(mut first) = resp.choices_mut().next() {
    ///     first.set_text("Paris, France");
    /// }
    /// assert_eq!(resp.text(), Some("Paris, France"));
    /// ```
    pub fn choices_mut(&mut self) -> impl Iterator<Item = ChoiceMut<'_>> {
        let (root, edited) = self.doc.map_mut_lazily();
        choice::choices_mut(variant_mut(root, "Response"), edited)
    }

    fn inner(&self) -> &Map<String, Value> {
        variant(self.doc.map(), "Response")
    }
}

/// `usage` of `inner`, or of its nested Responses API `response`.
pub(crate) fn usage_in(inner: &Map<String, Value>) -> Option<Usage> {
    Usage::in_object(inner).or_else(|| Usage::in_object(inner.get("response")?.as_object()?))
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
            assert_eq!(req.messages().next().unwrap().text(), Some("Hi"));
        }
    }

    #[test]
    fn model_provider_and_usage_read_from_the_host_text_agree_with_the_parsed_value() {
        let requests = [
            INNER,
            r#"{"chat_request":{"model":"a"},"x_request":1}"#,
            r#"{"ChatRequest":{"model":"a"},"model":"root"}"#,
            r#"{"model":"a\u0062","provider":7}"#,
            r#"{"model":"a","model":"b"}"#,
            r#"{"a_request":{"model":"a"},"b_request":{"model":"b"}}"#,
            r#"{"mod\u0065l":"escaped key"}"#,
            r#"{"model":null,"provider":"p"}"#,
            r#"{"input":[{"model":"nested"}]}"#,
        ];
        for text in requests {
            let parsed = LlmRequest::from_bytes(text.as_bytes()).unwrap();
            let (model, provider) = {
                let inner = parsed.inner();
                (str_field(inner, "model"), str_field(inner, "provider"))
            };
            let req = LlmRequest::from_bytes(text.as_bytes()).unwrap();
            assert_eq!((req.model(), req.provider()), (model, provider), "{text}");
            let plain = !text.contains('\\')
                && !text.contains(r#""model":"a","model""#)
                && !text.contains("b_request");
            assert_eq!(req.doc.was_parsed(), !plain, "{text}");
        }
        let responses = [
            r#"{"chat_response":{"model":"m","usage":{"prompt_tokens":2,"completion_tokens":3}}}"#,
            r#"{"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":5},"choices":[]}"#,
            r#"{"choices":[]}"#,
            r#"{"usage":7,"response":{"usage":{"total_tokens":9}}}"#,
            r#"{"type":"response.completed","response":{"usage":{"input_tokens":4}}}"#,
        ];
        for text in responses {
            let parsed = LlmResponse::from_bytes(text.as_bytes()).unwrap();
            let expected = (usage_in(parsed.inner()), str_field(parsed.inner(), "model"));
            let resp = LlmResponse::from_bytes(text.as_bytes()).unwrap();
            assert_eq!((resp.usage(), resp.model()), expected, "{text}");
        }
        let resp = LlmResponse::from_bytes(responses[0].as_bytes()).unwrap();
        assert!(resp.usage().is_some() && !resp.doc.was_parsed());
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
    fn identity_reads_numbers_as_values_not_spellings() {
        let identity = |params: &str| {
            let text = format!(r#"{{"model":"m","input":[],"params":{params}}}"#);
            LlmRequest::from_bytes(text.as_bytes()).unwrap().identity()
        };
        let zero = identity(r#"{"t":0,"n":1}"#);
        for same in [
            r#"{"t":0.0,"n":1.0}"#,
            r#"{"t":-0.0,"n":1e0}"#,
            r#"{"t":0E5,"n":10e-1}"#,
        ] {
            assert_eq!(identity(same), zero, "{same}");
        }
        assert_eq!(
            identity(r#"{"t":0.5,"n":1}"#),
            identity(r#"{"t":5e-1,"n":1}"#)
        );
        assert_ne!(identity(r#"{"t":0.5,"n":1}"#), zero);
        assert_ne!(
            identity(r#"{"t":"0","n":1}"#),
            zero,
            "a string is not a number"
        );
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
        assert!(resp.choices_mut().next().unwrap().set_text("bye"));
        let json = serde_json::to_value(&resp).unwrap();
        assert_eq!(
            json["chat_response"]["choices"][0]["message"]["content"],
            "bye"
        );
        assert_eq!(resp.text(), Some("bye"));
    }

    #[test]
    fn a_response_without_choices_has_none_to_edit() {
        let mut resp = LlmResponse::from_bytes(br#"{"id":"x"}"#).unwrap();
        assert_eq!(resp.choices_mut().count(), 0);
        assert_eq!(resp.text(), None);
        assert!(resp.is_unchanged());
    }
}
