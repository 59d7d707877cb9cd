//! Writing hook outputs: a JSON object whose fields are known strings,
//! booleans, nulls and values already serialised (host text echoed
//! verbatim, or a plugin value serialised once).

use std::borrow::Cow;

/// Builds one JSON object field by field, in the order written.
pub(crate) struct ObjectWriter {
    out: Vec<u8>,
    first: bool,
}

impl ObjectWriter {
    /// An object about `capacity` bytes long (so echoed values are copied
    /// once, without the buffer growing under them).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity + 64);
        out.push(b'{');
        ObjectWriter { out, first: true }
    }

    /// Starts field `key` (a plain ASCII name that needs no escaping).
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        &mut self.out
    }

    /// `"key": <json>`, where `json` is one valid JSON value.
    pub(crate) fn raw(&mut self, key: &str, json: &[u8]) -> &mut Self {
        self.key(key).extend_from_slice(json);
        self
    }

    /// `"key": "<value, escaped>"`.
    pub(crate) fn string(&mut self, key: &str, value: &str) -> &mut Self {
        write_string(self.key(key), value);
        self
    }

    /// `"key": true|false`.
    pub(crate) fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        let text: &[u8] = if value { b"true" } else { b"false" };
        self.raw(key, text)
    }

    /// `"key": <json>` or `"key": null`, where an owned `json` becomes the
    /// output's buffer if it has room for the fields written so far (they
    /// are moved in front of it): a large value passed on is then moved
    /// once, not copied into a second buffer as large.
    pub(crate) fn value_or_null(&mut self, key: &str, json: Option<Cow<'_, [u8]>>) -> &mut Self {
        match json {
            Some(Cow::Owned(mut json)) if json.capacity() - json.len() >= self.out.len() + 64 => {
                self.key(key);
                // Move the value up (within its spare room) and put what
                // was written so far in front of it.
                let (head, len) = (self.out.len(), json.len());
                json.resize(len + head, 0);
                json.copy_within(0..len, head);
                json[..head].copy_from_slice(&self.out);
                self.out = json;
                self
            }
            json => self.raw_or_null(key, json.as_deref()),
        }
    }

    /// `"key": <json>` or `"key": null`.
    pub(crate) fn raw_or_null(&mut self, key: &str, json: Option<&[u8]>) -> &mut Self {
        self.raw(key, json.unwrap_or(b"null"))
    }

    /// Closes the object.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.out);
        out.push(b'}');
        out
    }
}

/// Appends `value` as a JSON string: `"` and `\` escaped, control characters
/// as `\n`-style or `\u00XX` escapes (as serde_json writes them), everything
/// else as is.
pub(crate) fn write_string(out: &mut Vec<u8>, value: &str) {
    out.reserve(value.len() + 2);
    out.push(b'"');
    let bytes = value.as_bytes();
    let mut plain = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            0..=0x1F => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain..i]);
        plain = i + 1;
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let unicode = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(byte >> 4) as usize],
                HEX[(byte & 15) as usize],
            ];
            out.extend_from_slice(&unicode);
        } else {
            out.extend_from_slice(escape);
        }
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
}

/// Appends `value` as compact JSON, as serde_json writes it (a property test
/// holds the two to the same bytes). Written here so that a plugin that
/// writes a value does not carry serde_json's serializer and, through its
/// `io::Write` errors, `str`'s `Debug` and its Unicode tables (~6 KB).
pub(crate) fn write_value(out: &mut Vec<u8>, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => out.extend_from_slice(number.to_string().as_bytes()),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

/// [`write_value`] of an object.
pub(crate) fn write_object(out: &mut Vec<u8>, map: &serde_json::Map<String, serde_json::Value>) {
    out.push(b'{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, key);
        out.push(b':');
        write_value(out, value);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Every value is written byte for byte as serde_json writes it.
        #[test]
        fn values_are_written_as_serde_json_writes_them(value in super::super::test_values::any_value()) {
            let mut ours = Vec::new();
            write_value(&mut ours, &value);
            proptest::prop_assert_eq!(ours, serde_json::to_vec(&value).unwrap());
        }
    }

    #[test]
    fn fields_are_written_in_order_with_commas_between() {
        let mut object = ObjectWriter::with_capacity(0);
        object
            .raw("request", br#"{"a":1}"#)
            .raw_or_null("short_circuit", None)
            .bool("has_error", false)
            .string("error", "");
        assert_eq!(
            object.finish(),
            br#"{"request":{"a":1},"short_circuit":null,"has_error":false,"error":""}"#
        );
        assert_eq!(ObjectWriter::with_capacity(0).finish(), b"{}");
    }

    #[test]
    fn an_owned_value_with_room_becomes_the_output_without_a_copy() {
        let mut value = Vec::with_capacity(1000);
        value.extend_from_slice(br#"{"big":1}"#);
        let address = value.as_ptr();
        let out = ObjectWriter::with_capacity(0)
            .raw("context", b"{}")
            .value_or_null("request", Some(Cow::Owned(value)))
            .bool("flag", true)
            .finish();
        assert_eq!(out, br#"{"context":{},"request":{"big":1},"flag":true}"#);
        assert_eq!(out.as_ptr(), address, "the value's buffer, reused");
        // Without room it is copied; borrowed and absent values as before.
        let tight = br#"{"big":1}"#.to_vec();
        let out = ObjectWriter::with_capacity(0)
            .raw("context", b"{}")
            .value_or_null("request", Some(Cow::Owned(tight)))
            .value_or_null("b", Some(Cow::Borrowed(b"[1]")))
            .value_or_null("n", None)
            .finish();
        assert_eq!(
            out,
            br#"{"context":{},"request":{"big":1},"b":[1],"n":null}"#
        );
    }

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é日😀\u{7f}\u{2028}");
        for text in [all.as_str(), "", "plain", "\"quoted\"", "a\\b"] {
            let mut out = Vec::new();
            write_string(&mut out, text);
            assert_eq!(out, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }
}
