//! The texts a user or a model wrote, wherever they sit in a request,
//! response or chunk, found by one walk (generated twice: read-only and mutable).
//!
//! Where text sits:
//! - message content: a string, or a list of blocks whose text blocks are
//!   `{"type":"text"|"input_text"|"output_text","text":…}` (other blocks,
//!   e.g. images, are not text and stay where they are);
//! - a request's `input`/`messages`/`prompt`: a string, a list of strings
//!   (text completion prompts, embedding inputs) or a list of messages or
//!   Responses API items (their `content`);
//! - a response's or chunk's `choices`: each choice's `text` (text
//!   completion), `message.content` and `delta.content`; the Responses
//!   API's `output` items; its stream events' `delta`
//!   (`response.output_text.delta`), `text` (`response.output_text.done`),
//!   `item`, `part` and nested `response`.

use std::cell::Cell;
use std::fmt;
use std::ops::Deref;

use serde_json::{Map, Value};

/// One piece of text in a request, response or chunk, for editing in place:
/// from [`LlmRequest::texts_mut`](crate::LlmRequest::texts_mut) and its
/// siblings.
///
/// It reads as a `&str` (it derefs to one). [`TextMut::set`] replaces it;
/// only a `set` that changes the text counts as an edit, so visiting every
/// text and changing none leaves the value going back byte for byte.
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
    text: &'a mut String,
    /// The owning document's "edited" flag, if it has one.
    edited: Option<&'a Cell<bool>>,
}

impl<'a> TextMut<'a> {
    pub(crate) fn new(text: &'a mut String, edited: Option<&'a Cell<bool>>) -> Self {
        TextMut { text, edited }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.text
    }

    /// Replaces the text. Setting the same text again is not an edit.
    pub fn set(&mut self, text: impl Into<String>) {
        let text = text.into();
        if *self.text != text {
            *self.text = text;
            if let Some(edited) = self.edited {
                edited.set(true);
            }
        }
    }
}

impl Deref for TextMut<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        self.text
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
fn is_text_block(block: &Map<String, Value>) -> bool {
    matches!(
        block.get("type").and_then(Value::as_str),
        Some("text" | "input_text" | "output_text")
    )
}

/// The walks, written once and generated twice: [`read`] over shared
/// borrows and [`write`] over mutable ones, the same code but for `mut`
/// and the accessors' names, so the two cannot drift apart. Each pushes the
/// texts it finds onto `out`, in document order.
macro_rules! walks {
    ($(#[$doc:meta])* $module:ident, [$($mut_:tt)?], $iter:ident, $get:ident, $as_object:ident) => {
        $(#[$doc])*
        pub(crate) mod $module {
            use super::*;

            type Out<'a> = Vec<&'a $($mut_)? String>;

            /// A message's (or item's, or delta's) `content`.
            pub(crate) fn content<'a>(content: &'a $($mut_)? Value, out: &mut Out<'a>) {
                match content {
                    Value::String(text) => out.push(text),
                    Value::Array(blocks) => {
                        for block in blocks.$iter().filter_map(Value::$as_object) {
                            block_text(block, out);
                        }
                    }
                    _ => {}
                }
            }

            fn block_text<'a>(block: &'a $($mut_)? Map<String, Value>, out: &mut Out<'a>) {
                if is_text_block(block) {
                    if let Some(Value::String(text)) = block.$get("text") {
                        out.push(text);
                    }
                }
            }

            /// A message object: its `content`.
            pub(crate) fn message<'a>(
                message: &'a $($mut_)? Map<String, Value>,
                out: &mut Out<'a>,
            ) {
                if let Some(content) = message.$get("content") {
                    self::content(content, out);
                }
            }

            /// A request's `input`/`messages`/`prompt` value.
            fn input<'a>(input: &'a $($mut_)? Value, out: &mut Out<'a>) {
                match input {
                    Value::String(text) => out.push(text),
                    Value::Array(items) => {
                        for item in items {
                            match item {
                                Value::String(text) => out.push(text),
                                Value::Object(item) => message(item, out),
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
                for (key, value) in inner.$iter() {
                    if matches!(key.as_str(), "input" | "messages" | "prompt") {
                        input(value, out);
                    }
                }
            }

            /// The variant object of a response, or a chunk.
            pub(crate) fn response<'a>(
                inner: &'a $($mut_)? Map<String, Value>,
                out: &mut Out<'a>,
            ) {
                // The key of a Responses API event's text, if it is one.
                let event_text = match inner.get("type").and_then(Value::as_str) {
                    Some("response.output_text.delta") => "delta",
                    Some("response.output_text.done") => "text",
                    _ => "",
                };
                for (key, value) in inner.$iter() {
                    if key == event_text {
                        if let Value::String(text) = value {
                            out.push(text);
                        }
                        continue;
                    }
                    match (key.as_str(), value) {
                        ("choices", Value::Array(choices)) => {
                            for choice in choices.$iter().filter_map(Value::$as_object) {
                                self::choice(choice, out);
                            }
                        }
                        ("output", Value::Array(items)) => {
                            for item in items.$iter().filter_map(Value::$as_object) {
                                message(item, out);
                            }
                        }
                        ("item", Value::Object(item)) => message(item, out),
                        ("part", Value::Object(part)) => block_text(part, out),
                        ("response", Value::Object(nested)) => response(nested, out),
                        _ => {}
                    }
                }
            }

            /// One choice: `text`, `message.content`, `delta.content`.
            pub(crate) fn choice<'a>(
                choice: &'a $($mut_)? Map<String, Value>,
                out: &mut Out<'a>,
            ) {
                for (key, value) in choice.$iter() {
                    match (key.as_str(), value) {
                        ("text", Value::String(text)) => out.push(text),
                        ("message" | "delta", Value::Object(message)) => {
                            self::message(message, out)
                        }
                        _ => {}
                    }
                }
            }
        }
    };
}

walks!(
    /// Read-only walks.
    read, [], iter, get, as_object
);
walks!(
    /// The mutable twins of [`read`], in the same order.
    write, [mut], iter_mut, get_mut, as_object_mut
);

/// The texts found by `walk` in `map`, as [`TextMut`]s that set `edited`.
pub(crate) fn texts_mut<'a>(
    map: &'a mut Map<String, Value>,
    edited: Option<&'a Cell<bool>>,
    walk: fn(&'a mut Map<String, Value>, &mut Vec<&'a mut String>),
) -> impl Iterator<Item = TextMut<'a>> {
    let mut found = Vec::new();
    walk(map, &mut found);
    found
        .into_iter()
        .map(move |text| TextMut::new(text, edited))
}

/// The texts found by `walk` in `map`.
pub(crate) fn texts<'a>(
    map: &'a Map<String, Value>,
    walk: fn(&'a Map<String, Value>, &mut Vec<&'a String>),
) -> impl Iterator<Item = &'a str> {
    let mut found = Vec::new();
    walk(map, &mut found);
    found.into_iter().map(String::as_str)
}
