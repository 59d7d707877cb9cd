//! A JSON object whose values stay the host's text until read.

use std::cell::OnceCell;
use std::fmt;
use std::ops::Index;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::sorted::Sorted;
use crate::json::members::members;

/// A JSON object of string keys, as the host sent it: each value is kept as
/// the host's exact text and parsed only when read, so fields nobody reads
/// cost nothing and go back byte for byte. Values set by the plugin replace
/// them. Keys are kept in order; a key sent twice keeps its last value.
///
/// It holds the [`Context`](crate::Context)'s values and the fields of
/// [`HttpRequest`](crate::HttpRequest)/[`HttpResponse`](crate::HttpResponse)
/// that those types do not model.
///
/// ```
/// use bifrost_plugin_sdk::JsonObject;
/// use serde_json::json;
/// let mut fields = JsonObject::new();
/// fields.insert("path_params", json!({"id": "7"}));
/// assert_eq!(fields["path_params"]["id"], "7");
/// assert_eq!(fields.get("missing"), None);
/// assert_eq!(fields["missing"], json!(null));
/// ```
#[derive(Clone, Default)]
pub struct JsonObject {
    entries: Sorted<Entry>,
    /// Writes a value the plugin set. Recorded by [`JsonObject::insert`], so
    /// a plugin that never sets one carries no serde_json writer.
    write_set: Option<WriteValue>,
}

/// Appends one JSON value.
pub(crate) type WriteValue = fn(&Value, &mut Vec<u8>);

/// The writer of values set by the plugin.
pub(crate) fn write_value(value: &Value, out: &mut Vec<u8>) {
    crate::json::write::write_value(out, value);
}

#[derive(Clone)]
enum Entry {
    /// The host's text (checked JSON), parsed on first read.
    Host {
        text: Box<[u8]>,
        value: OnceCell<Value>,
    },
    /// A value the plugin set.
    Set(Value),
}

impl Entry {
    fn value(&self) -> &Value {
        match self {
            // Checked text always parses.
            Entry::Host { text, value } => value.get_or_init(|| read_value(text)),
            Entry::Set(value) => value,
        }
    }

    fn into_value(self) -> Value {
        match self {
            Entry::Host { value, .. } if value.get().is_some() => {
                value.into_inner().unwrap_or_default()
            }
            Entry::Host { text, .. } => read_value(&text),
            Entry::Set(value) => value,
        }
    }
}

/// Reads a checked value: with serde_json's parser, or with the SDK's own
/// reader under the feature `compact-reader` (see `Document`).
fn read_value(text: &[u8]) -> Value {
    if cfg!(feature = "compact-reader") {
        crate::json::de::value_from_checked(text)
    } else {
        serde_json::from_slice(text).unwrap_or(Value::Null)
    }
}

static NULL: Value = Value::Null;

impl JsonObject {
    /// An empty object.
    pub fn new() -> Self {
        JsonObject::default()
    }

    /// The members of `text`, which [`crate::json::validate`] accepted as an
    /// object.
    pub(crate) fn from_checked(text: &[u8]) -> Self {
        Self::from_checked_without(text, None).0
    }

    /// [`JsonObject::from_checked`] without `key`, whose (last) value's text
    /// is returned as it is in `text`: a large field read another way (an
    /// HTTP body, decoded from base64) is never copied into the object.
    pub(crate) fn from_checked_without<'a>(
        text: &'a [u8],
        key: Option<&str>,
    ) -> (Self, Option<&'a [u8]>) {
        let (mut object, mut taken) = (JsonObject::new(), None);
        for (name, value) in members(text) {
            if Some(name.as_str()) == key {
                taken = Some(value);
                continue;
            }
            object.entries.put(
                name,
                Entry::Host {
                    text: value.into(),
                    value: OnceCell::new(),
                },
            );
        }
        (object, taken)
    }

    /// The value under `key` (parsed on first read).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.get(key).map(Entry::value)
    }

    /// Takes `key` out if it still holds the host's text, and returns that
    /// text.
    pub(crate) fn take_host_text(&mut self, key: &str) -> Option<Box<[u8]>> {
        match self
            .entries
            .remove_if(key, |e| matches!(e, Entry::Host { .. }))?
        {
            Entry::Host { text, .. } => Some(text),
            Entry::Set(_) => None,
        }
    }

    /// Sets `key` to `value`, returning the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        self.write_set = Some(write_value);
        self.entries
            .put(key.into(), Entry::Set(value.into()))
            .map(Entry::into_value)
    }

    /// Sets `key` to `value`, dropping the previous value unparsed. Unlike
    /// [`JsonObject::insert`] it records no writer: the code that writes
    /// this object passes one.
    pub(crate) fn set(&mut self, key: String, value: Value) {
        self.entries.put(key, Entry::Set(value));
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.entries.remove(key).map(Entry::into_value)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// All entries, in key order (each value parsed on first read).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, e)| (k, e.value()))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// Appends the object as JSON: host text as it came, values the plugin
    /// set serialised by `write` or the writer [`JsonObject::insert`]
    /// recorded. (A value with neither cannot exist: only
    /// [`JsonObject::set`] stores one without recording a writer, and its
    /// callers pass `write`.)
    pub(crate) fn write_json(&self, out: &mut Vec<u8>, write: Option<WriteValue>) {
        let write = write.or(self.write_set);
        // Room for a small object at once (a context's few keys), not a
        // buffer doubled from nothing key by key.
        out.reserve(64 * self.entries.len());
        out.push(b'{');
        for (i, (key, entry)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            crate::json::write::write_string(out, key);
            out.push(b':');
            match entry {
                Entry::Host { text, .. } => out.extend_from_slice(text),
                Entry::Set(value) => match write {
                    Some(write) => write(value, out),
                    None => out.extend_from_slice(b"null"),
                },
            }
        }
        out.push(b'}');
    }

    /// Converts into a serde_json map (parsing every value).
    pub fn into_map(self) -> Map<String, Value> {
        self.entries
            .into_entries()
            .into_iter()
            .map(|(k, e)| (k, e.into_value()))
            .collect()
    }
}

impl Index<&str> for JsonObject {
    type Output = Value;

    /// The value under `key`, or `null` if absent (like indexing a
    /// `serde_json::Value`).
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl PartialEq for JsonObject {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl From<Map<String, Value>> for JsonObject {
    fn from(map: Map<String, Value>) -> Self {
        map.into_iter().collect()
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for JsonObject {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut object = JsonObject::new();
        for (key, value) in iter {
            object.insert(key, value);
        }
        object
    }
}

impl Serialize for JsonObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Map::deserialize(deserializer).map(JsonObject::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn host(text: &str) -> JsonObject {
        assert!(crate::json::validate(text.as_bytes()).is_ok());
        JsonObject::from_checked(text.as_bytes())
    }

    fn written(object: &JsonObject) -> String {
        let mut out = Vec::new();
        object.write_json(&mut out, None);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn host_values_are_read_on_demand_and_written_back_as_sent() {
        let object = host(r#"{"b": 1.50, "a": {"x": [1, "\u00e9"]}}"#);
        assert_eq!(object.len(), 2);
        assert_eq!(object["a"]["x"][1], "é");
        assert_eq!(object.get("b"), Some(&json!(1.5)));
        assert_eq!(written(&object), r#"{"a":{"x": [1, "\u00e9"]},"b":1.50}"#);
    }

    #[test]
    fn set_values_replace_host_text_and_a_repeated_key_keeps_the_last() {
        let mut object = host(r#"{"k": 1, "k": 2, "keep": "\n"}"#);
        assert_eq!(object["k"], 2);
        assert_eq!(object.insert("k", "three"), Some(json!(2)));
        assert_eq!(object.remove("keep"), Some(json!("\n")));
        object.insert("new", json!({"n": [true]}));
        assert_eq!(written(&object), r#"{"k":"three","new":{"n":[true]}}"#);
        assert_eq!(
            object,
            JsonObject::from(
                json!({"k": "three", "new": {"n": [true]}})
                    .as_object()
                    .unwrap()
                    .clone()
            )
        );
    }

    #[test]
    fn serde_sees_a_plain_map() {
        let object = host(r#"{"z": [1], "a": null}"#);
        assert_eq!(
            serde_json::to_value(&object).unwrap(),
            json!({"a": null, "z": [1]})
        );
        let back: JsonObject = serde_json::from_str(r#"{"a": 1}"#).unwrap();
        assert_eq!(back["a"], 1);
    }
}
