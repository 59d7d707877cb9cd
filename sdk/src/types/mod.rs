//! The values that cross the boundary, as plugin authors see them.
//!
//! Every type keeps the JSON fields it does not model, so what the host sent
//! goes back unchanged unless the plugin changes it.

mod choice;
mod chunk;
mod context;
pub(crate) mod document;
mod error;
mod from_json;
mod host_texts;
mod http;
mod kind;
mod llm;
mod message;
mod object;
mod patch;
mod sorted;
mod string_map;
mod text;
mod usage;

pub use choice::{Choice, ChoiceMut};
pub use chunk::StreamChunk;
pub use context::Context;
pub use error::LlmError;
pub use http::{HttpRequest, HttpResponse};
pub use kind::{RequestKind, ResponseKind};
pub use llm::{LlmRequest, LlmResponse};
pub use message::{ChatMessage, ChatMessageRef};
pub use object::JsonObject;
pub use string_map::StringMap;
pub use text::{Location, Part, Place, Role, Text, TextMut};
pub use usage::Usage;

use std::fmt;

use crate::json::{Invalid, Kind};

/// Whether `bytes` are `{}`, with any whitespace around or inside.
pub(crate) fn is_empty_object(bytes: &[u8]) -> bool {
    match bytes.trim_ascii() {
        [b'{', inside @ ..] => inside.trim_ascii() == b"}",
        _ => false,
    }
}

/// Whether an optional buffer means "none": empty, blank or `null`.
pub(crate) fn is_absent(bytes: &[u8]) -> bool {
    let trimmed = bytes.trim_ascii();
    trimmed.is_empty() || trimmed == b"null"
}

/// Why an input buffer from the host could not be used; becomes the text of
/// the hook's `error` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputError(String);

impl InputError {
    pub(crate) fn new(message: String) -> Self {
        InputError(message)
    }

    /// `text` is a JSON value that is not an object (only its first byte
    /// is looked at).
    pub(crate) fn not_object(what: &str, text: &[u8]) -> Self {
        Self::wrong_kind(what, Kind::of(text))
    }

    pub(crate) fn wrong_kind(what: &str, kind: Kind) -> Self {
        InputError(format!(
            "{what} must be a JSON object, got {}",
            kind.described()
        ))
    }

    /// Why the SDK's check refused `what`.
    pub(crate) fn invalid(what: &str, invalid: Invalid) -> Self {
        InputError(format!("{what} {invalid}"))
    }
}

impl From<InputError> for String {
    /// The message, moved out: the ABI layer's error text, without going
    /// through `Display`.
    fn from(error: InputError) -> String {
        error.0
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
