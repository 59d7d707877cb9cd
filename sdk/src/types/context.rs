//! The request context: a JSON object of string keys the host sends with
//! every hook.

use std::borrow::Cow;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::document::check_object;
use super::{InputError, JsonObject};
use crate::json::Kind;
use crate::PluginError;

/// The context of the request a hook runs for: `request_id` and whatever else
/// the host sends, as JSON values.
///
/// Keys the plugin does not touch are kept as they came. On ABIs whose outputs
/// carry the context, the values set here go back to the host; on the seed
/// ABI (whose outputs carry none) they are visible to the current hook only.
///
/// ```
/// use bifrost_plugin_sdk::Context;
/// let mut ctx = Context::new();
/// ctx.set("from-pre-hook", "789");
/// ctx.set("attempt", 2);
/// assert_eq!(ctx.get_str("from-pre-hook"), Some("789"));
/// assert_eq!(ctx.get_as::<u32>("attempt"), Some(2));
/// assert_eq!(ctx.request_id(), None);
/// ```
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Context {
    values: JsonObject,
    /// Whether `values` are still the host's, as it sent them: an output
    /// then carries the host's own text back, unwritten.
    #[serde(skip)]
    as_sent: bool,
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("values", &self.values)
            .finish()
    }
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context::default()
    }

    /// Reads the context buffer: empty, `null` and `{}` all mean "no values".
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, InputError> {
        if super::is_absent(bytes) {
            return Ok(Context::new());
        }
        check_object(bytes, "context")?;
        Ok(Context {
            values: JsonObject::from_checked(bytes),
            as_sent: true,
        })
    }

    /// Reads a context the caller has checked as part of a larger value:
    /// only its kind is looked at.
    pub(crate) fn from_checked(bytes: &[u8]) -> Result<Self, InputError> {
        match Kind::of(bytes) {
            Kind::Object => Ok(Context {
                values: JsonObject::from_checked(bytes),
                as_sent: true,
            }),
            kind => Err(InputError::wrong_kind("context", kind)),
        }
    }

    /// The context as JSON: the host's values as sent, the plugin's written
    /// by serde_json.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.values
            .write_json(&mut out, Some(super::object::write_value));
        out
    }

    /// The context for an output whose input carried `sent` (the host's
    /// context, checked, or `{}` for none): `sent` itself while the hook
    /// has set and removed nothing (nothing to write, and it goes back byte
    /// for byte), else [`Context::to_json`].
    pub(crate) fn json_over<'a>(&self, sent: &'a [u8]) -> Cow<'a, [u8]> {
        match self.as_sent {
            true => Cow::Borrowed(sent),
            false => Cow::Owned(self.to_json()),
        }
    }

    /// The values, to change: from now on they are written out.
    fn values_mut(&mut self) -> &mut JsonObject {
        self.as_sent = false;
        &mut self.values
    }

    /// The request id, under the documented key `request_id` (or the native
    /// key `request-id`).
    pub fn request_id(&self) -> Option<&str> {
        self.get_str("request_id")
            .or_else(|| self.get_str("request-id"))
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// The value under `key` if it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(Value::as_str)
    }

    /// The value under `key` converted to `T`; `None` if absent or of another
    /// shape.
    pub fn get_as<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        T::deserialize(self.values.get(key)?).ok()
    }

    /// Sets `key` to `value`. (Use [`Context::remove`] first for the value
    /// it replaces: setting does not parse it.)
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.values_mut().set(key.into(), value.into());
    }

    /// Sets `key` to any serialisable value (a struct, a map, …). Fails only for values JSON cannot hold, such as a
    /// map with non-string keys; the error converts into the hook's error.
    ///
    /// ```
    /// use bifrost_plugin_sdk::{Context, PluginError};
    /// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    /// struct Quota { used: u32, limit: u32 }
    ///
    /// let mut ctx = Context::new();
    /// ctx.set_as("quota", &Quota { used: 3, limit: 10 })?;
    /// assert_eq!(ctx.get_as::<Quota>("quota"), Some(Quota { used: 3, limit: 10 }));
    /// # Ok::<(), PluginError>(())
    /// ```
    pub fn set_as<T: Serialize + ?Sized>(
        &mut self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), PluginError> {
        let key = key.into();
        let value = serde_json::to_value(value)
            .map_err(|e| PluginError::new(format!("context value `{key}`: {e}")))?;
        self.values_mut().set(key, value);
        Ok(())
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.values_mut().remove(key)
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// All entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_as_stores_structs_and_refuses_what_json_cannot_hold() {
        let mut ctx = Context::new();
        ctx.set_as("pair", &(1, "two")).unwrap();
        assert_eq!(ctx.get("pair"), Some(&serde_json::json!([1, "two"])));
        let bad: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let err = ctx.set_as("bad", &bad).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("context value `bad`: key must be a string"),
            "{err}"
        );
        assert!(!ctx.contains("bad"));
    }

    #[test]
    fn empty_null_and_empty_object_are_all_an_empty_context() {
        for input in [&b""[..], b"  ", b"null", b"{}", b" {} "] {
            assert!(Context::from_bytes(input).unwrap().is_empty(), "{input:?}");
        }
    }

    #[test]
    fn keeps_every_key_and_finds_the_request_id_under_either_spelling() {
        let ctx = Context::from_bytes(br#"{"request_id":"r1","x":{"y":[1]}}"#).unwrap();
        assert_eq!(ctx.request_id(), Some("r1"));
        assert_eq!(ctx.get("x"), Some(&serde_json::json!({"y": [1]})));
        let native = Context::from_bytes(br#"{"request-id":"r2"}"#).unwrap();
        assert_eq!(native.request_id(), Some("r2"));
    }

    #[test]
    fn rejects_non_objects_with_a_reason() {
        let err = Context::from_bytes(b"[1]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "context must be a JSON object, got an array"
        );
        assert!(Context::from_bytes(b"{\"a\":").is_err());
    }
}
