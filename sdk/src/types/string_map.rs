//! A small map of strings to strings: HTTP headers and query parameters.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::sorted::Sorted;

/// Header or query values by name, as the host sends them: one string each,
/// names with the client's casing, iterated in name order (as Go writes map
/// keys).
///
/// ```
/// use bifrost_plugin_sdk::StringMap;
/// let mut headers = StringMap::new();
/// headers.insert("Content-Type", "application/json");
/// headers.insert("Accept", "*/*");
/// assert_eq!(headers.get("Content-Type"), Some("application/json"));
/// assert_eq!(headers.get_ignore_case("content-type"), Some("application/json"));
/// assert_eq!(headers.keys().collect::<Vec<_>>(), ["Accept", "Content-Type"]);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StringMap {
    entries: Sorted<String>,
}

impl StringMap {
    /// An empty map.
    pub fn new() -> Self {
        StringMap::default()
    }

    /// The value of `name` (exact match).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(String::as_str)
    }

    /// The value of the first name equal to `name` ignoring ASCII case (how
    /// HTTP header names compare).
    pub fn get_ignore_case(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Sets `name` to `value`, returning the previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.entries.put(name.into(), value.into())
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.entries.remove(name)
    }

    /// Whether `name` is present (exact match).
    pub fn contains_key(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// The entries, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k, v.as_str()))
    }

    /// The names, in order.
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
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for StringMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = StringMap::new();
        for (name, value) in iter {
            map.insert(name, value);
        }
        map
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for StringMap {
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl IntoIterator for StringMap {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_entries().into_iter()
    }
}

impl fmt::Debug for StringMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for StringMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = StringMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StringMap, A::Error> {
                let mut map = StringMap::new();
                while let Some((name, value)) = access.next_entry::<String, String>()? {
                    map.insert(name, value);
                }
                Ok(map)
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_sorted_map_with_unique_names() {
        let mut map: StringMap = [("b", "2"), ("a", "1"), ("b", "3")].into();
        assert_eq!(map.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "3")]);
        assert_eq!(map.insert("a", "x"), Some("1".into()));
        assert_eq!(map.remove("b"), Some("3".into()));
        assert_eq!(map.remove("b"), None);
        assert!(map.contains_key("a") && !map.contains_key("A"));
        assert_eq!(map.get_ignore_case("A"), Some("x"));
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn serde_sees_a_map_of_strings() {
        let map: StringMap = serde_json::from_str(r#"{"z":"1","a":"2"}"#).unwrap();
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"a":"2","z":"1"}"#);
        assert!(serde_json::from_str::<StringMap>(r#"{"a":1}"#).is_err());
    }
}
