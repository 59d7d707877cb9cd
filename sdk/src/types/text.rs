//! The texts a user or a model wrote, wherever they sit in a request,
//! response or chunk, found by one walk (generated twice: read-only and
//! mutable), each with where it stands ([`Location`]).
//!
//! Where text sits:
//! - a request's `instructions` (the Responses API's, at the top or in
//!   `params`);
//! - message content: a string, or a list of blocks whose text blocks are
//!   `{"type":"text"|"input_text"|"output_text","text":…}` (other blocks,
//!   e.g. images, are not text and stay where they are); refusal blocks
//!   `{"type":"refusal","refusal":…}` and a message's `refusal`;
//! - a message's tool calls' `function.arguments` (and the legacy
//!   `function_call.arguments`); a `role: tool` message's content;
//! - Responses API items: `function_call` `arguments`,
//!   `function_call_output` `output`, `reasoning` `summary` texts;
//! - a request's `input`/`messages`/`prompt`: a string, a list of strings
//!   (text completion prompts, embedding inputs) or a list of messages or
//!   Responses API items;
//! - a response's or chunk's `choices`: each choice's `text` (text
//!   completion), `message` and `delta`; the Responses API's `output`
//!   items; its stream events' `delta` and `text`
//!   (`response.output_text.*`, `response.refusal.*`,
//!   `response.function_call_arguments.*`,
//!   `response.reasoning_summary_text.*`), `item`, `part` and nested
//!   `response`.

use std::cell::Cell;
use std::fmt;
use std::ops::Deref;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::host_texts::Lender;

/// Where a text stands: in which part of the value, whose it is and what
/// kind of text it is. From [`Text::location`] and [`TextMut::location`].
///
/// ```
/// use bifrost_plugin_sdk::{LlmRequest, Part, Place, Role};
/// let req: LlmRequest = serde_json::from_str(r#"{"model":"m","instructions":"Be brief.",
///     "input":[{"role":"user","content":"Hi"}]}"#).unwrap();
/// let found: Vec<_> = req.texts().map(|t| (t.location().place, t.location().role)).collect();
/// assert_eq!(found, [(Place::Message(0), Some(Role::User)), (Place::Instructions, Some(Role::System))]);
/// assert!(req.texts().all(|t| t.location().part == Part::Content));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Location {
    /// Which part of the request, response or chunk.
    pub place: Place,
    /// Whose text: the message's `role` (an item's type tells for the
    /// Responses API's tool items; instructions are the system's); `None`
    /// when nothing says.
    pub role: Option<Role>,
    /// What kind of text.
    pub part: Part,
    /// Whether it is a piece of a stream (a chunk's `delta`, a Responses
    /// API event's delta).
    pub delta: bool,
}

/// Which part of a request, response or chunk a text is in.
///
/// ```
/// use bifrost_plugin_sdk::types::Place;
/// use bifrost_plugin_sdk::LlmResponse;
///
/// let resp: LlmResponse = serde_json::from_str(
///     r#"{"choices":[{"message":{"role":"assistant","content":"a"}},{"message":{"role":"assistant","content":"b"}}]}"#,
/// ).unwrap();
/// let places: Vec<Place> = resp.texts().map(|t| t.location().place).collect();
/// assert_eq!(places, [Place::Choice(0), Place::Choice(1)]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Place {
    /// A request's `instructions` (Responses API).
    Instructions,
    /// A text given on its own rather than in a message: a text completion
    /// prompt, an embedding input, a Responses API `input` string; its
    /// position in the list (0 for a single string).
    Prompt(usize),
    /// A request's message or input item (its position in the list), or a
    /// lone [`ChatMessage`](crate::ChatMessage) (0).
    Message(usize),
    /// A response's or chunk's choice (its position in `choices`).
    Choice(usize),
    /// A Responses API response's output item (its position in `output`).
    Output(usize),
    /// A Responses API stream event (its `delta`, `text`, `item` or `part`).
    Event,
}

/// Whose text it is: a message's role.
///
/// ```
/// use bifrost_plugin_sdk::types::Role;
/// use bifrost_plugin_sdk::{ChatMessage, LlmRequest};
///
/// let req = LlmRequest::chat("openai", "m", vec![ChatMessage::system("Be brief."), ChatMessage::user("Hi")]);
/// // only what users wrote
/// let user: Vec<String> = req
///     .texts()
///     .filter(|t| t.location().role == Some(Role::User))
///     .map(|t| t.to_string())
///     .collect();
/// assert_eq!(user, ["Hi"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// `system`, and a request's instructions.
    System,
    /// `developer` (OpenAI's name for system messages of newer models).
    Developer,
    /// `user`.
    User,
    /// `assistant`, and the model's tool calls and reasoning.
    Assistant,
    /// `tool` (and `function`), and the Responses API's tool outputs.
    Tool,
    /// Any other role.
    Other,
}

impl Role {
    pub(crate) fn of(role: &str) -> Role {
        match role {
            "system" => Role::System,
            "developer" => Role::Developer,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" | "function" => Role::Tool,
            _ => Role::Other,
        }
    }
}

/// What kind of text it is.
///
/// ```
/// use bifrost_plugin_sdk::types::Part;
/// use bifrost_plugin_sdk::LlmRequest;
///
/// let req: LlmRequest = serde_json::from_str(
///     r#"{"model":"m","messages":[{"role":"tool","tool_call_id":"c1","content":"42"}]}"#,
/// ).unwrap();
/// let parts: Vec<Part> = req.texts().map(|t| t.location().part).collect();
/// assert_eq!(parts, [Part::ToolResult]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// Content written by a user or a model (a message's content, a prompt,
    /// instructions, a completion's text).
    Content,
    /// The JSON text of a tool call's `arguments`, as the model wrote it.
    ToolArguments,
    /// What a tool returned: a `role: tool` message's content, a Responses
    /// API `function_call_output`'s `output`.
    ToolResult,
    /// A model's refusal.
    Refusal,
    /// A model's reasoning (Responses API reasoning summaries).
    Reasoning,
}

impl Location {
    pub(crate) fn new(place: Place, role: Option<Role>, part: Part) -> Self {
        Location {
            place,
            role,
            part,
            delta: false,
        }
    }

    pub(crate) fn with_part(self, part: Part) -> Self {
        Location { part, ..self }
    }
}

/// One piece of text in a request, response, chunk or message, and where it
/// stands: from [`LlmRequest::texts`](crate::LlmRequest::texts) and its
/// siblings. It reads as a `&str` (it derefs to one).
///
/// ```
/// use bifrost_plugin_sdk::{LlmResponse, Place};
/// let resp = LlmResponse::chat("m", "Hello");
/// let text = resp.texts().next().unwrap();
/// assert_eq!(text, "Hello");
/// assert_eq!(text.location().place, Place::Choice(0));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text<'a> {
    text: &'a str,
    location: Location,
}

impl<'a> Text<'a> {
    /// The text.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// Where it stands.
    pub fn location(&self) -> Location {
        self.location
    }
}

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        self.text
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        self.text
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.text, f)
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

/// One piece of text in a request, response or chunk, for editing in place:
/// from [`LlmRequest::texts_mut`](crate::LlmRequest::texts_mut) and its
/// siblings.
///
/// It reads as a `&str` (it derefs to one) and says where it stands
/// ([`TextMut::location`]). [`TextMut::set`] replaces it; only a `set` that
/// changes the text counts as an edit, so visiting every text and changing
/// none leaves the value going back byte for byte. An edit changes that
/// text only: every other byte goes back as the host sent it.
///
/// ```
/// use bifrost_plugin_sdk::{ChatMessage, LlmRequest};
/// let mut req = LlmRequest::chat("openai", "m", vec![ChatMessage::user("my pin is 1234")]);
/// for mut text in req.texts_mut() {
///     if text.contains("1234") {
///         let redacted = text.replace("1234", "****");
///         text.set(redacted);
///     }
/// }
/// assert_eq!(req.texts().collect::<Vec<_>>(), ["my pin is ****"]);
/// ```
pub struct TextMut<'a> {
    text: Slot<'a>,
    location: Location,
}

/// Where a [`TextMut`]'s text is and where a new one goes.
enum Slot<'a> {
    /// A string of a parsed value, set in place; `edited` is the owning
    /// document's "edited" flag, if it has one.
    Parsed {
        text: &'a mut String,
        edited: Option<&'a Cell<bool>>,
    },
    /// A string token of the host's text, decoded: handed back to the
    /// [`Lender`] as text `index` when dropped, if it was set
    /// (types/host_texts.rs).
    Host {
        text: String,
        set: bool,
        index: usize,
        lender: Rc<Lender<'a>>,
    },
}

impl<'a> TextMut<'a> {
    /// Text `index` of those `lender` lent.
    pub(crate) fn host(
        text: String,
        location: Location,
        index: usize,
        lender: Rc<Lender<'a>>,
    ) -> Self {
        TextMut {
            text: Slot::Host {
                text,
                set: false,
                index,
                lender,
            },
            location,
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.text {
            Slot::Parsed { text, .. } => text,
            Slot::Host { text, .. } => text,
        }
    }

    /// Where it stands.
    pub fn location(&self) -> Location {
        self.location
    }

    /// Replaces the text. Setting the same text again is not an edit.
    pub fn set(&mut self, text: impl Into<String>) {
        let text = text.into();
        if self.as_str() == text {
            return;
        }
        match &mut self.text {
            Slot::Parsed { text: slot, edited } => {
                **slot = text;
                if let Some(edited) = edited {
                    edited.set(true);
                }
            }
            Slot::Host {
                text: slot, set, ..
            } => {
                *slot = text;
                *set = true;
            }
        }
    }
}

impl Drop for TextMut<'_> {
    /// A text of the host's text that was set goes back to its lender.
    fn drop(&mut self) {
        if let Slot::Host {
            text,
            set: true,
            index,
            lender,
        } = &mut self.text
        {
            lender.set(*index, std::mem::take(text));
        }
    }
}

impl Deref for TextMut<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for TextMut<'_> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for TextMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for TextMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for TextMut<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for TextMut<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Whether `block` of a content list is a text block.
pub(crate) fn is_text_block(block: &Map<String, Value>) -> bool {
    is_text_type(block.get("type").and_then(Value::as_str))
}

/// Whether a content block's `type` is that of a text block.
fn is_text_type(block_type: Option<&str>) -> bool {
    matches!(
        block_type,
        Some("text" | "input_text" | "output_text" | "summary_text")
    )
}

/// The member of a content block (of type `block_type`) that holds its
/// text, and where that text stands: text and refusal blocks only.
pub(crate) fn block_text_key(
    block_type: Option<&str>,
    at: Location,
) -> Option<(&'static str, Location)> {
    match block_type {
        Some("refusal") => Some(("refusal", at.with_part(Part::Refusal))),
        _ if is_text_type(block_type) => Some(("text", at)),
        _ => None,
    }
}

/// The role of a message or Responses API item: its `role`, or what its
/// `type` says.
fn role_of(item: &Map<String, Value>) -> Option<Role> {
    role_from(
        item.get("role").and_then(Value::as_str),
        item.get("type").and_then(Value::as_str),
    )
}

/// The role of a message or item whose `role` and `type` (when they are
/// strings) are these.
pub(crate) fn role_from(role: Option<&str>, item_type: Option<&str>) -> Option<Role> {
    if let Some(role) = role {
        return Some(Role::of(role));
    }
    match item_type? {
        "function_call_output" | "custom_tool_call_output" => Some(Role::Tool),
        "function_call" | "custom_tool_call" | "reasoning" => Some(Role::Assistant),
        _ => None,
    }
}

/// What kind of text a message's (or item's, or delta's) content is, from
/// its role and `type`.
pub(crate) fn main_part(role: Option<Role>, item_type: Option<&str>) -> Part {
    match (role, item_type) {
        (_, Some("reasoning")) => Part::Reasoning,
        (Some(Role::Tool), _) => Part::ToolResult,
        _ => Part::Content,
    }
}

/// The kind of text a Responses API stream event carries in its `delta` or
/// `text`, if it is such an event.
pub(crate) fn event_part(event_type: Option<&str>) -> Option<Part> {
    let kind = event_type?.strip_prefix("response.")?;
    let kind = kind
        .strip_suffix(".delta")
        .or_else(|| kind.strip_suffix(".done"))?;
    match kind {
        "output_text" => Some(Part::Content),
        "refusal" => Some(Part::Refusal),
        "function_call_arguments" => Some(Part::ToolArguments),
        "reasoning_summary_text" | "reasoning_text" => Some(Part::Reasoning),
        _ => None,
    }
}

/// The walks, written once and generated twice: [`read`] over shared
/// borrows and [`write`] over mutable ones, the same code but for `mut`
/// and the accessors' names, so the two cannot drift apart. Each pushes the
/// texts it finds onto `out`, in document order, with where they are.
macro_rules! walks {
    ($(#[$doc:meta])* $module:ident, [$($mut_:tt)?], $iter:ident, $get:ident, $as_object:ident) => {
        $(#[$doc])*
        pub(crate) mod $module {
            use super::*;

            type Out<'a> = Vec<(Location, &'a $($mut_)? String)>;

            /// A message's (or item's, or delta's) `content`: a string or
            /// blocks.
            fn content<'a>(content: &'a $($mut_)? Value, at: Location, out: &mut Out<'a>) {
                match content {
                    Value::String(text) => out.push((at, text)),
                    Value::Array(blocks) => {
                        for block in blocks.$iter().filter_map(Value::$as_object) {
                            block_text(block, at, out);
                        }
                    }
                    _ => {}
                }
            }

            /// A content block's text (text and refusal blocks).
            fn block_text<'a>(block: &'a $($mut_)? Map<String, Value>, at: Location, out: &mut Out<'a>) {
                let block_type = block.get("type").and_then(Value::as_str);
                let Some((key, at)) = block_text_key(block_type, at) else {
                    return;
                };
                if let Some(Value::String(text)) = block.$get(key) {
                    out.push((at, text));
                }
            }

            /// A message, a Responses API item or a delta, at `place`.
            pub(crate) fn message<'a>(
                message: &'a $($mut_)? Map<String, Value>,
                place: Place,
                delta: bool,
                out: &mut Out<'a>,
            ) {
                let role = role_of(message);
                let item_type = message.get("type").and_then(Value::as_str);
                let main = main_part(role, item_type);
                let at = Location { delta, ..Location::new(place, role, main) };
                for (key, value) in message.$iter() {
                    match (key.as_str(), value) {
                        ("content" | "summary", value) => content(value, at, out),
                        ("output", value) if main == Part::ToolResult => content(value, at, out),
                        ("refusal", Value::String(text)) => {
                            out.push((at.with_part(Part::Refusal), text))
                        }
                        ("reasoning", Value::String(text)) => {
                            out.push((at.with_part(Part::Reasoning), text))
                        }
                        ("arguments", Value::String(text)) => {
                            out.push((at.with_part(Part::ToolArguments), text))
                        }
                        ("function_call", Value::Object(call)) => {
                            arguments(call, at, out)
                        }
                        ("tool_calls", Value::Array(calls)) => {
                            for call in calls.$iter().filter_map(Value::$as_object) {
                                if let Some(Value::Object(function)) = call.$get("function") {
                                    arguments(function, at, out);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }

            /// A tool call's `arguments`.
            fn arguments<'a>(call: &'a $($mut_)? Map<String, Value>, at: Location, out: &mut Out<'a>) {
                if let Some(Value::String(text)) = call.$get("arguments") {
                    out.push((at.with_part(Part::ToolArguments), text));
                }
            }

            /// A request's `input`/`messages`/`prompt` value.
            fn input<'a>(input: &'a $($mut_)? Value, out: &mut Out<'a>) {
                let prompt = |index| Location::new(Place::Prompt(index), None, Part::Content);
                match input {
                    Value::String(text) => out.push((prompt(0), text)),
                    Value::Array(items) => {
                        for (index, item) in items.$iter().enumerate() {
                            match item {
                                Value::String(text) => out.push((prompt(index), text)),
                                Value::Object(item) => message(item, Place::Message(index), false, out),
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }

            /// The variant object of a request.
            pub(crate) fn request<'a>(
                inner: &'a $($mut_)? Map<String, Value>,
                out: &mut Out<'a>,
            ) {
                let instructions = Location::new(Place::Instructions, Some(Role::System), Part::Content);
                for (key, value) in inner.$iter() {
                    match (key.as_str(), value) {
                        ("input" | "messages" | "prompt", value) => input(value, out),
                        ("instructions", Value::String(text)) => out.push((instructions, text)),
                        ("params", Value::Object(params)) => {
                            if let Some(Value::String(text)) = params.$get("instructions") {
                                out.push((instructions, text));
                            }
                        }
                        _ => {}
                    }
                }
            }

            /// The variant object of a response, or a chunk.
            pub(crate) fn response<'a>(
                inner: &'a $($mut_)? Map<String, Value>,
                out: &mut Out<'a>,
            ) {
                // A Responses API event: what its `delta` or `text` is.
                let event = event_part(inner.get("type").and_then(Value::as_str));
                let at = Location::new(Place::Event, Some(Role::Assistant), Part::Content);
                for (key, value) in inner.$iter() {
                    match (key.as_str(), value, event) {
                        ("delta" | "text", Value::String(text), Some(part)) => {
                            let delta = key == "delta";
                            out.push((Location { delta, ..at.with_part(part) }, text));
                        }
                        ("choices", Value::Array(choices), _) => {
                            for (index, choice) in choices.$iter().enumerate() {
                                if let Value::Object(choice) = choice {
                                    self::choice(choice, index, out);
                                }
                            }
                        }
                        ("output", Value::Array(items), _) => {
                            for (index, item) in items.$iter().enumerate() {
                                if let Value::Object(item) = item {
                                    message(item, Place::Output(index), false, out);
                                }
                            }
                        }
                        ("item", Value::Object(item), _) => message(item, Place::Event, false, out),
                        ("part", Value::Object(part), _) => block_text(part, at, out),
                        ("response", Value::Object(nested), _) => response(nested, out),
                        _ => {}
                    }
                }
            }

            /// One choice (at `index` in its list): `text`, `message`,
            /// `delta`.
            pub(crate) fn choice<'a>(
                choice: &'a $($mut_)? Map<String, Value>,
                index: usize,
                out: &mut Out<'a>,
            ) {
                let place = Place::Choice(index);
                for (key, value) in choice.$iter() {
                    match (key.as_str(), value) {
                        ("text", Value::String(text)) => {
                            let at = Location::new(place, Some(Role::Assistant), Part::Content);
                            out.push((at, text))
                        }
                        ("message", Value::Object(message)) => self::message(message, place, false, out),
                        ("delta", Value::Object(delta)) => self::message(delta, place, true, out),
                        _ => {}
                    }
                }
            }

            /// A lone chat message.
            pub(crate) fn lone_message<'a>(
                fields: &'a $($mut_)? Map<String, Value>,
                out: &mut Out<'a>,
            ) {
                message(fields, Place::Message(0), false, out)
            }
        }
    };
}

walks!(
    /// Read-only walks.
    read, [], iter, get, as_object
);
walks!(
    /// The mutable twins of [`read`], in the same order. Requests,
    /// responses and chunks lend their texts from the host's text instead
    /// (types/host_texts.rs, tested against these walks); a lone message
    /// uses its walk.
    #[cfg_attr(not(test), allow(dead_code))]
    write, [mut], iter_mut, get_mut, as_object_mut
);

/// The texts found by `walk` in `map`, as [`TextMut`]s that set `edited`.
pub(crate) fn texts_mut<'a>(
    map: &'a mut Map<String, Value>,
    edited: Option<&'a Cell<bool>>,
    walk: impl FnOnce(&'a mut Map<String, Value>, &mut Vec<(Location, &'a mut String)>),
) -> std::vec::IntoIter<TextMut<'a>> {
    let mut found = Vec::new();
    walk(map, &mut found);
    let texts: Vec<TextMut<'a>> = found
        .into_iter()
        .map(move |(location, text)| TextMut {
            text: Slot::Parsed { text, edited },
            location,
        })
        .collect();
    texts.into_iter()
}

/// The texts found by `walk` in `map`.
pub(crate) fn texts<'a>(
    map: &'a Map<String, Value>,
    walk: impl FnOnce(&'a Map<String, Value>, &mut Vec<(Location, &'a String)>),
) -> impl Iterator<Item = Text<'a>> {
    let mut found = Vec::new();
    walk(map, &mut found);
    found.into_iter().map(|(location, text)| Text {
        text: text.as_str(),
        location,
    })
}

#[cfg(test)]
mod tests {
    use crate::types::{ChatMessage, LlmRequest, LlmResponse, StreamChunk};

    use super::*;

    fn at(place: Place, role: Option<Role>, part: Part) -> Location {
        Location::new(place, role, part)
    }

    fn found<'a>(texts: impl Iterator<Item = Text<'a>>) -> Vec<(String, Location)> {
        texts.map(|t| (t.to_string(), t.location())).collect()
    }

    fn pairs(expected: &[(&str, Location)]) -> Vec<(String, Location)> {
        expected.iter().map(|(t, l)| (t.to_string(), *l)).collect()
    }

    #[test]
    fn a_responses_request_shows_its_instructions_and_every_item() {
        let req: LlmRequest = serde_json::from_str(
            r#"{"responses_request":{"model":"m","instructions":"be nice",
            "params":{"instructions":"and brief"},
            "input":[
                {"type":"message","role":"developer","content":[{"type":"input_text","text":"dev"}]},
                {"role":"user","content":"question"},
                {"type":"function_call","call_id":"c","name":"f","arguments":"{\"q\":1}"},
                {"type":"function_call_output","call_id":"c","output":"result"},
                {"type":"reasoning","summary":[{"type":"summary_text","text":"thought"}]}]}}"#,
        )
        .unwrap();
        let (system, assistant) = (Some(Role::System), Some(Role::Assistant));
        assert_eq!(
            found(req.texts()),
            pairs(&[
                (
                    "dev",
                    at(Place::Message(0), Some(Role::Developer), Part::Content)
                ),
                (
                    "question",
                    at(Place::Message(1), Some(Role::User), Part::Content)
                ),
                (
                    "{\"q\":1}",
                    at(Place::Message(2), assistant, Part::ToolArguments)
                ),
                (
                    "result",
                    at(Place::Message(3), Some(Role::Tool), Part::ToolResult)
                ),
                ("thought", at(Place::Message(4), assistant, Part::Reasoning)),
                ("be nice", at(Place::Instructions, system, Part::Content)),
                ("and brief", at(Place::Instructions, system, Part::Content)),
            ])
        );
        let prompt: LlmRequest =
            serde_json::from_str(r#"{"model":"m","input":"hello","prompt":["a","b"]}"#).unwrap();
        let places: Vec<_> = prompt.texts().map(|t| t.location().place).collect();
        assert_eq!(
            places,
            [Place::Prompt(0), Place::Prompt(0), Place::Prompt(1)]
        );
    }

    #[test]
    fn chat_messages_show_tool_calls_tool_results_and_refusals() {
        let req: LlmRequest = serde_json::from_str(
            r#"{"model":"m","messages":[
                {"role":"system","content":[{"type":"text","text":"sys"}]},
                {"role":"assistant","content":null,"refusal":"no",
                 "tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{\"a\":\"x@y.z\"}"}}]},
                {"role":"tool","tool_call_id":"1","content":"42"}]}"#,
        )
        .unwrap();
        let assistant = Some(Role::Assistant);
        assert_eq!(
            found(req.texts()),
            pairs(&[
                (
                    "sys",
                    at(Place::Message(0), Some(Role::System), Part::Content)
                ),
                ("no", at(Place::Message(1), assistant, Part::Refusal)),
                (
                    "{\"a\":\"x@y.z\"}",
                    at(Place::Message(1), assistant, Part::ToolArguments)
                ),
                (
                    "42",
                    at(Place::Message(2), Some(Role::Tool), Part::ToolResult)
                ),
            ])
        );
        let message = ChatMessage::system("alone");
        let place = message.texts().next().unwrap().location().place;
        assert_eq!(place, Place::Message(0));
    }

    #[test]
    fn responses_and_chunks_show_their_choice_and_whether_it_is_a_delta() {
        let resp: LlmResponse = serde_json::from_str(
            r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"a"}},
                {"index":1,"message":{"role":"assistant","content":[{"type":"refusal","refusal":"r"}]}}]}"#,
        )
        .unwrap();
        let assistant = Some(Role::Assistant);
        assert_eq!(
            found(resp.texts()),
            pairs(&[
                ("a", at(Place::Choice(0), assistant, Part::Content)),
                ("r", at(Place::Choice(1), assistant, Part::Refusal)),
            ])
        );
        let chunk: StreamChunk =
            serde_json::from_str(r#"{"choices":[{"index":0,"delta":{"content":"d"}}]}"#).unwrap();
        let location = chunk.texts().next().unwrap().location();
        assert_eq!((location.place, location.delta), (Place::Choice(0), true));
        for (event, part) in [
            ("response.output_text.delta", Part::Content),
            ("response.refusal.delta", Part::Refusal),
            (
                "response.function_call_arguments.delta",
                Part::ToolArguments,
            ),
            ("response.reasoning_summary_text.delta", Part::Reasoning),
        ] {
            let chunk = StreamChunk::from_json(serde_json::json!({"type": event, "delta": "x"}));
            let location = chunk.texts().next().unwrap().location();
            assert_eq!(
                (location.place, location.part, location.delta),
                (Place::Event, part, true)
            );
        }
        let output: LlmResponse = serde_json::from_str(
            r#"{"object":"response","output":[{"type":"reasoning","summary":[{"type":"summary_text","text":"s"}]},
                {"type":"function_call","arguments":"{}"},
                {"type":"message","role":"assistant","content":[{"type":"output_text","text":"o"}]}]}"#,
        )
        .unwrap();
        let parts: Vec<_> = output
            .texts()
            .map(|t| (t.location().place, t.location().part))
            .collect();
        assert_eq!(
            parts,
            [
                (Place::Output(0), Part::Reasoning),
                (Place::Output(1), Part::ToolArguments),
                (Place::Output(2), Part::Content)
            ]
        );
    }

    #[test]
    fn texts_mut_sees_the_same_texts_in_the_same_places() {
        let text = r#"{"model":"m","instructions":"i","input":[{"role":"tool","content":"t"},
            {"role":"assistant","tool_calls":[{"function":{"arguments":"{\"k\":1.50}"}}]}]}"#;
        let mut req: LlmRequest = serde_json::from_str(text).unwrap();
        let read = found(req.clone().texts());
        let written: Vec<_> = req
            .texts_mut()
            .map(|t| (t.to_string(), t.location()))
            .collect();
        assert_eq!(read, written);
        for mut text in req.texts_mut() {
            if text.location().part == Part::ToolArguments {
                text.set("{\"k\":2}");
            }
        }
        let out = String::from_utf8(req.to_json().unwrap().into_owned()).unwrap();
        assert_eq!(out, text.replace(r#""{\"k\":1.50}""#, r#""{\"k\":2}""#));
    }
}
