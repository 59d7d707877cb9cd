//! A JSON object from the host, kept verbatim until someone changes it.
//!
//! Most hooks look at a request (if at all) and pass it on. Re-serialising a
//! parsed request costs time and changes its bytes, so a [`Document`] keeps the
//! exact text it was given and parses it only when a typed accessor needs
//! the fields. It is written back verbatim unless it was mutated.

use std::cell::OnceCell;
use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::types::InputError;

/// Deepest nesting accepted: serde_json's own limit when building values, so
/// that a document accepted here can always be parsed later.
const MAX_DEPTH: usize = 127;

/// A JSON object, parsed lazily; see the module docs.
pub(crate) struct Document {
    /// The host's exact text, while it is still the truth.
    raw: Option<Box<RawValue>>,
    /// The parsed object, on first access.
    parsed: OnceCell<Map<String, Value>>,
}

impl Document {
    /// Validates `bytes` as one UTF-8 JSON object and keeps them.
    pub(crate) fn from_bytes(bytes: &[u8], what: &'static str) -> Result<Self, InputError> {
        let text = std::str::from_utf8(bytes).map_err(|e| InputError::utf8(what, e))?;
        let raw: &RawValue = serde_json::from_str(text).map_err(|e| InputError::json(what, e))?;
        expect_object(raw.get(), what)?;
        check_depth(raw.get(), what)?;
        Ok(Document {
            raw: Some(raw.to_owned()),
            parsed: OnceCell::new(),
        })
    }

    /// A document built by the plugin.
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Document {
            raw: None,
            parsed: OnceCell::from(map),
        }
    }

    /// The object's fields (parsed on first call).
    pub(crate) fn map(&self) -> &Map<String, Value> {
        self.parsed.get_or_init(|| match &self.raw {
            // Cannot fail: the text was validated as an object no deeper than
            // serde_json's limit.
            Some(raw) => serde_json::from_str(raw.get()).unwrap_or_default(),
            None => Map::new(),
        })
    }

    /// The object's fields for writing: from now on the document is written
    /// from the parsed object, not the original text.
    pub(crate) fn map_mut(&mut self) -> &mut Map<String, Value> {
        self.map();
        self.raw = None;
        self.parsed.get_mut().expect("initialised by map()")
    }

    /// Whether the document still holds the host's exact text.
    pub(crate) fn is_verbatim(&self) -> bool {
        self.raw.is_some()
    }

    /// Consumes the document into its object.
    pub(crate) fn into_map(mut self) -> Map<String, Value> {
        self.map_mut();
        self.parsed.take().unwrap_or_default()
    }
}

impl Clone for Document {
    fn clone(&self) -> Self {
        Document {
            raw: self.raw.clone(),
            parsed: self.parsed.clone(),
        }
    }
}

impl PartialEq for Document {
    fn eq(&self, other: &Self) -> bool {
        self.map() == other.map()
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.raw {
            Some(raw) => f.write_str(raw.get()),
            None => write!(f, "{}", Value::Object(self.map().clone())),
        }
    }
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.raw {
            Some(raw) => raw.serialize(serializer),
            None => self.map().serialize(serializer),
        }
    }
}

/// Rejects a valid JSON value that is not an object.
pub(crate) fn expect_object(text: &str, what: &'static str) -> Result<(), InputError> {
    match text.trim_start().as_bytes().first() {
        Some(b'{') => Ok(()),
        _ => Err(InputError::not_object(what, text)),
    }
}

/// Rejects JSON nested deeper than [`MAX_DEPTH`]; `text` is valid JSON, so only
/// brackets outside strings count.
fn check_depth(text: &str, what: &'static str) -> Result<(), InputError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in text.as_bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(InputError::too_deep(what, MAX_DEPTH));
                }
            }
            b'}' | b']' => depth -= 1,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_documents_are_written_back_byte_for_byte() {
        let text = r#"{ "b" : 1.50, "a":[1, 2] ,"u":"\u00e9"}"#;
        let doc = Document::from_bytes(text.as_bytes(), "request").unwrap();
        assert_eq!(doc.map()["b"], 1.5);
        assert_eq!(serde_json::to_string(&doc).unwrap(), text);
    }

    #[test]
    fn mutated_documents_keep_every_other_field() {
        let mut doc = Document::from_bytes(br#"{"keep":{"x":[1]},"n":1}"#, "request").unwrap();
        doc.map_mut().insert("n".into(), 2.into());
        let out: Value = serde_json::from_str(&serde_json::to_string(&doc).unwrap()).unwrap();
        assert_eq!(out, serde_json::json!({"keep": {"x": [1]}, "n": 2}));
    }

    #[test]
    fn rejects_what_is_not_one_json_object() {
        for bad in [
            &b""[..],
            b"{",
            b"[1]",
            b"\"s\"",
            b"null",
            b"{} {}",
            b"{\"a\":\xff}",
        ] {
            assert!(Document::from_bytes(bad, "request").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn depth_limit_matches_serde_json_and_ignores_brackets_in_strings() {
        let ok = "[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1);
        let doc = Document::from_bytes(
            format!("{{\"a\":{ok},\"s\":\"[[[[\\\"[\"}}").as_bytes(),
            "x",
        );
        assert!(doc.unwrap().map().contains_key("a"));
        let deep = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        let err = Document::from_bytes(format!("{{\"a\":{deep}}}").as_bytes(), "x").unwrap_err();
        assert!(err.to_string().contains("nested deeper"), "{err}");
    }
}
