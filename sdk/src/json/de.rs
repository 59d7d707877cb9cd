//! A serde `Deserializer` over checked JSON text: how a plugin's `Config`
//! is read.
//!
//! The text has passed [`validate`](super::validate), so this only walks
//! it. It exists so that reading a configuration does not link serde_json's
//! parser into every plugin: a `Config` that ignores its input
//! (`serde::de::IgnoredAny`) costs nothing, and a struct costs what its
//! fields need.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::members::{decode_string, elements, members, Members};

/// Deserialises `T` from `text`, which must be checked JSON.
pub(crate) fn from_checked<T: de::DeserializeOwned>(text: &[u8]) -> Result<T, Error> {
    T::deserialize(Value(text.trim_ascii()))
}

/// The `serde_json::Value` of `text`, which must be checked JSON, built
/// directly rather than through serde: going through `Value`'s `Deserialize`
/// would link serde_json's parser anyway (its map visitor parses raw values
/// with it, feature `raw_value`). A key given twice keeps its last value, and
/// numbers are read as serde_json reads them (integers as `u64`/`i64`, the
/// rest as the nearest `f64`).
pub(crate) fn value_from_checked(text: &[u8]) -> serde_json::Value {
    Tree { text, at: 0 }.value()
}

/// Builds a `serde_json::Value` in one pass over checked text. The text is
/// trusted to be valid JSON (it passed [`super::validate`]), so nothing is
/// re-checked; every index is still bounded, so text that is not valid gives
/// some value, never a panic.
struct Tree<'a> {
    text: &'a [u8],
    at: usize,
}

impl Tree<'_> {
    fn peek(&mut self) -> u8 {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.text.get(self.at) {
            self.at += 1;
        }
        self.text.get(self.at).copied().unwrap_or(b'}')
    }

    fn value(&mut self) -> serde_json::Value {
        use serde_json::Value as V;
        let start = self.at;
        match self.peek() {
            b'{' => {
                self.at += 1;
                let mut map = serde_json::Map::new();
                while self.at < self.text.len() {
                    match self.peek() {
                        b'}' => break,
                        b',' => self.at += 1,
                        _ => {
                            let key = self.string();
                            self.peek();
                            self.at += 1; // the colon
                            let value = self.value();
                            map.insert(key, value);
                        }
                    }
                }
                self.at += 1;
                V::Object(map)
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                while self.at < self.text.len() {
                    match self.peek() {
                        b']' => break,
                        b',' => self.at += 1,
                        _ => items.push(self.value()),
                    }
                }
                self.at += 1;
                V::Array(items)
            }
            b'"' => V::String(self.string()),
            b't' => self.word(4, V::Bool(true)),
            b'f' => self.word(5, V::Bool(false)),
            b'n' => self.word(4, V::Null),
            _ => {
                let from = self.at.max(start);
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') =
                    self.text.get(self.at)
                {
                    self.at += 1;
                }
                if self.at == from {
                    self.at += 1; // not a value: step over it
                    return V::Null;
                }
                number_value(&self.text[from..self.at])
            }
        }
    }

    fn word(&mut self, len: usize, value: serde_json::Value) -> serde_json::Value {
        self.at += len;
        value
    }

    /// The string starting at the current `"`, decoded.
    fn string(&mut self) -> String {
        let start = self.at;
        self.at += 1;
        let mut escaped = false;
        loop {
            // Eight plain ASCII bytes at a time, as the validator scans.
            self.at = super::validate::skip_plain_ascii(self.text, self.at);
            let Some(&b) = self.text.get(self.at) else {
                break;
            };
            self.at += 1;
            match b {
                b'\\' => {
                    escaped = true;
                    self.at += 1;
                }
                b'"' => break,
                _ => {}
            }
        }
        let quoted = &self.text[start..self.at.min(self.text.len())];
        match escaped {
            true => decode_string(quoted),
            false => {
                let inner = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or(b"");
                String::from_utf8_lossy(inner).into_owned()
            }
        }
    }
}

fn number_value(text: &[u8]) -> serde_json::Value {
    match read_number(text) {
        Number::Unsigned(n) => n.into(),
        Number::Signed(n) => n.into(),
        // Checked text is a number within f64's range.
        Number::Float(n) => {
            serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, Into::into)
        }
    }
}

/// A number as serde_json reads it: an integer as `u64` or `i64` when it
/// fits, anything else as the nearest `f64`.
enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

/// Not generic, so that every type a plugin reads numbers into shares one
/// copy.
fn read_number(text: &[u8]) -> Number {
    let text = std::str::from_utf8(text).unwrap_or("");
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(n) = text.parse::<u64>() {
            return Number::Unsigned(n);
        }
        match text.parse::<i64>() {
            // serde_json reads `-0` as the float -0.0.
            Ok(0) => return Number::Float(-0.0),
            Ok(n) => return Number::Signed(n),
            Err(_) => {}
        }
    }
    Number::Float(super::float::parse_f64(text.as_bytes()))
}

/// Why the text does not fit the type.
#[derive(Debug)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error(message.to_string())
    }

    // serde's default messages repeat the unexpected value (printed with
    // `Debug` escaping and float formatting, ~35 KB of .wasm in every plugin
    // with a typed `Config`). These name its type alone: a mistyped value
    // may be a secret (an API key where a list of them was expected, or
    // where a mode was), and this text reaches the host in every hook's
    // `error`.
    fn invalid_type(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Error(format!(
            "invalid type: {}, expected {expected}",
            Unexpected(unexpected)
        ))
    }

    fn invalid_value(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Error(format!(
            "invalid value: {}, expected {expected}",
            Unexpected(unexpected)
        ))
    }

    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Self {
        Error(format!(
            "unknown variant: string, expected {}",
            OneOf(expected)
        ))
    }
}

/// The names a value may take, as serde lists them: "`a`", "`a` or `b`",
/// "one of `a`, `b`, `c`".
struct OneOf(&'static [&'static str]);

impl fmt::Display for OneOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("there are no variants"),
            [only] => write!(f, "`{only}`"),
            [a, b] => write!(f, "`{a}` or `{b}`"),
            names => {
                f.write_str("one of ")?;
                for (i, name) in names.iter().enumerate() {
                    let comma = if i == 0 { "" } else { ", " };
                    write!(f, "{comma}`{name}`")?;
                }
                Ok(())
            }
        }
    }
}

/// The type of serde's `Unexpected`, in serde's words, without its value.
struct Unexpected<'a>(de::Unexpected<'a>);

impl fmt::Display for Unexpected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use de::Unexpected as U;
        f.write_str(match self.0 {
            U::Bool(_) => "boolean",
            U::Unsigned(_) | U::Signed(_) => "integer",
            U::Float(_) => "floating point number",
            U::Char(_) => "character",
            U::Str(_) => "string",
            U::Bytes(_) => "byte array",
            U::Unit => "null", // as serde_json says
            U::Option => "Option value",
            U::NewtypeStruct => "newtype struct",
            U::Seq => "sequence",
            U::Map => "map",
            U::Enum => "enum",
            U::UnitVariant => "unit variant",
            U::NewtypeVariant => "newtype variant",
            U::TupleVariant => "tuple variant",
            U::StructVariant => "struct variant",
            U::Other(other) => other,
        })
    }
}

/// One checked JSON value.
#[derive(Clone, Copy)]
struct Value<'a>(&'a [u8]);

impl Value<'_> {
    fn is_null(&self) -> bool {
        self.0 == b"null"
    }

    fn number<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match read_number(self.0) {
            Number::Unsigned(n) => visitor.visit_u64(n),
            Number::Signed(n) => visitor.visit_i64(n),
            Number::Float(n) => visitor.visit_f64(n),
        }
    }
}

impl<'de> de::Deserializer<'de> for Value<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.first() {
            Some(b'n') => visitor.visit_unit(),
            Some(b't') => visitor.visit_bool(true),
            Some(b'f') => visitor.visit_bool(false),
            Some(b'"') => visitor.visit_string(decode_string(self.0)),
            Some(b'[') => visitor.visit_seq(Seq(elements(self.0))),
            Some(b'{') => visitor.visit_map(Map {
                members: members(self.0),
                value: None,
            }),
            _ => self.number(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == RAW_VALUE_TOKEN {
            return visitor.visit_map(Raw(Some(self.0)));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0.first() {
            // A unit variant: "Name".
            Some(b'"') => visitor.visit_enum(decode_string(self.0).into_deserializer()),
            // Any other variant: {"Name": value}.
            Some(b'{') => {
                let mut entries = members(self.0);
                match (entries.next(), entries.next()) {
                    (Some((variant, value)), None) => visitor.visit_enum(Enum {
                        variant,
                        value: Value(value),
                    }),
                    _ => Err(de::Error::custom(
                        "expected an enum variant: an object with exactly one key",
                    )),
                }
            }
            _ => Err(de::Error::custom(
                "expected an enum variant: a string or an object with one key",
            )),
        }
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match std::str::from_utf8(self.0)
            .ok()
            .and_then(|t| t.parse().ok())
        {
            Some(n) => visitor.visit_i128(n),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match std::str::from_utf8(self.0)
            .ok()
            .and_then(|t| t.parse().ok())
        {
            Some(n) => visitor.visit_u128(n),
            None => self.deserialize_any(visitor),
        }
    }

    /// A float is read straight to `f32`, and one beyond `f32` is refused,
    /// as serde_json does (with `float_roundtrip`, which the SDK's
    /// serde_json has): `1e39` is "number out of range", not infinity.
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let text = std::str::from_utf8(self.0).unwrap_or("");
        let is_number = matches!(self.0.first(), Some(b'-' | b'0'..=b'9'));
        let is_integer = text.parse::<u64>().is_ok() || text.parse::<i64>().is_ok();
        if !is_number || is_integer {
            return self.deserialize_any(visitor);
        }
        match text.parse::<f32>() {
            Ok(n) if n.is_finite() => visitor.visit_f64(f64::from(n)),
            _ => Err(de::Error::custom("number out of range")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 u8 u16 u32 u64 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier
    }
}

struct Seq<'a>(super::members::Elements<'a>);

impl<'de> de::SeqAccess<'de> for Seq<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|item| seed.deserialize(Value(item)))
            .transpose()
    }
}

struct Map<'a> {
    members: Members<'a>,
    /// The member whose value is read next: its key names it in errors.
    value: Option<(String, &'a [u8])>,
}

impl<'de> de::MapAccess<'de> for Map<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.members.next() else {
            return Ok(None);
        };
        self.value = Some((key.clone(), value));
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    /// An error in the value names the field: "`limit`: invalid type: …".
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (key, value) = self.value.take().unwrap_or_default();
        let value = if value.is_empty() {
            &b"null"[..]
        } else {
            value
        };
        seed.deserialize(Value(value))
            .map_err(|Error(message)| Error(format!("`{key}`: {message}")))
    }
}

/// The name under which serde_json's `RawValue` asks a deserializer for a
/// value's text, as a newtype struct. serde_json's own deserializers answer
/// with a one-member map, `{TOKEN: "<the text>"}`, and so does this one
/// ([`Raw`]): the SDK's request, response, chunk and error types keep the
/// host's text through `RawValue`, so a plugin can read them from a body
/// with [`HttpRequest::body_json`](crate::HttpRequest::body_json).
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// The one-member map that hands a value's text to `RawValue`.
struct Raw<'a>(Option<&'a [u8]>);

impl<'de> de::MapAccess<'de> for Raw<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.0 {
            Some(_) => seed
                .deserialize(de::value::BorrowedStrDeserializer::new(RAW_VALUE_TOKEN))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        // Checked text is UTF-8.
        let text = String::from_utf8_lossy(self.0.take().unwrap_or(b"null")).into_owned();
        seed.deserialize(text.into_deserializer())
    }
}

struct Enum<'a> {
    variant: String,
    value: Value<'a>,
}

impl<'de, 'a> de::EnumAccess<'de> for Enum<'a> {
    type Error = Error;
    type Variant = Value<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Value<'a>), Error> {
        let variant = seed.deserialize(self.variant.into_deserializer())?;
        Ok((variant, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for Value<'_> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Config {
        name: String,
        limit: u32,
        ratio: f64,
        offset: i64,
        tags: Vec<String>,
        nested: Option<Box<Config>>,
        mode: Mode,
        #[serde(default)]
        labels: BTreeMap<String, serde_json::Value>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Mode {
        Off,
        Fixed(u8),
        Pair(u8, u8),
        Span { from: u8, to: u8 },
    }

    /// What serde_json makes of `text`, and what we make of it, agree.
    fn agree<T: de::DeserializeOwned + PartialEq + fmt::Debug>(text: &str) -> Option<T> {
        assert!(super::super::validate(text.as_bytes()).is_ok(), "{text}");
        let ours = from_checked::<T>(text.as_bytes()).ok();
        let theirs = serde_json::from_str::<T>(text).ok();
        assert_eq!(ours, theirs, "{text}");
        ours
    }

    #[test]
    fn reads_structs_options_enums_maps_and_numbers_as_serde_json_does() {
        let text = r#" {"name":"a\"b","limit":7,"ratio":-0.25e1,"offset":-3,"tags":["x","\u00e9"],
            "nested":{"name":"n","limit":0,"ratio":1,"offset":9,"tags":[],"nested":null,"mode":"Off"},
            "mode":{"Span":{"from":1,"to":2}},"labels":{"k":[1,{"z":null}]}} "#;
        let config = agree::<Config>(text).expect("parses");
        assert_eq!(config.ratio, -2.5);
        assert_eq!(config.nested.unwrap().mode, Mode::Off);
        for mode in [
            r#""Off""#,
            r#"{"Fixed":3}"#,
            r#"{"Pair":[1,2]}"#,
            r#""Fixed""#,
            r#"{"Off":null}"#,
        ] {
            agree::<Mode>(mode);
        }
        for wrong in [
            r#"{"name":1}"#,
            r#"{"name":"n","limit":-1,"ratio":1,"offset":0,"tags":[],"nested":null,"mode":"Off"}"#,
            r#"{"name":"n","limit":1,"ratio":1,"offset":0,"tags":[],"nested":null,"mode":"Off","extra":1}"#,
            r#"{"Fixed":3,"Off":null}"#,
            "[]",
        ] {
            assert!(agree::<Config>(wrong).is_none());
        }
        assert_eq!(agree::<u8>("255"), Some(255));
        assert_eq!(agree::<u8>("256"), None);
        assert_eq!(
            agree::<i128>("-170141183460469231731687303715884105728"),
            Some(i128::MIN)
        );
        assert_eq!(
            agree::<u128>("340282366920938463463374607431768211455"),
            Some(u128::MAX)
        );
        assert_eq!(agree::<f32>("1e-3"), Some(0.001));
        assert_eq!(agree::<f32>("3.4028235e38"), Some(f32::MAX));
        assert_eq!(
            agree::<(bool, char, ())>(r#"[true,"c",null]"#),
            Some((true, 'c', ()))
        );
    }

    #[test]
    fn f32_fields_refuse_what_f32_cannot_hold_as_serde_json_does() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Ratio {
            ratio: f32,
        }
        let huge = format!("1{}", "0".repeat(40));
        for number in [
            "1e39",
            "-1e39",
            "3.5e38",
            "1e38",
            "-0.0",
            "1e-50",
            "0.1",
            "16777217",
            "16777217.0",
            "1.00000005960464477539062",
            "-2147483649",
            "18446744073709551616",
            &huge,
        ] {
            agree::<f32>(number);
            agree::<Option<f32>>(number);
            agree::<Ratio>(&format!(r#"{{"ratio":{number}}}"#));
            agree::<f64>(number);
        }
        assert!(agree::<f32>("1e39").is_none());
        let error = from_checked::<Ratio>(br#"{"ratio":1e39}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(error, "`ratio`: number out of range");
    }

    #[test]
    fn type_errors_say_what_serde_json_says_but_the_value() {
        for text in [
            r#"["x","s",true]"#,
            r#"[-1,"s",true]"#,
            "[1,2,true]",
            r#"[1,"s",null]"#,
            r#"[2.5,"s",true]"#,
            r#"[1,{},true]"#,
            "[256,\"s\",true]",
        ] {
            let ours = from_checked::<(u8, String, bool)>(text.as_bytes())
                .unwrap_err()
                .to_string();
            let theirs = serde_json::from_str::<(u8, String, bool)>(text)
                .unwrap_err()
                .to_string();
            // serde_json's, with the value in backticks or quotes taken out.
            let theirs = theirs
                .replace(r#"string "x""#, "string")
                .replace("integer `-1`", "integer")
                .replace("integer `2`", "integer")
                .replace("integer `256`", "integer")
                .replace("floating point `2.5`", "floating point number");
            assert!(theirs.starts_with(&ours), "{text}: {ours} / {theirs}");
        }
    }

    /// Config errors never repeat the value they are about (it may be a
    /// secret): they name the field, the type expected and the type found.
    #[test]
    fn config_errors_never_repeat_a_value_of_any_type() {
        #[derive(Debug, Deserialize, Default)]
        #[serde(default, deny_unknown_fields)]
        #[allow(dead_code)]
        struct Secrets {
            key: String,
            keys: Vec<String>,
            limit: u8,
            on: bool,
            ratio: f32,
            letter: Option<char>,
            mode: Option<Mode>,
            inner: Inner,
        }
        #[derive(Debug, Deserialize, Default)]
        #[allow(dead_code)]
        struct Inner {
            count: u32,
        }
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Mode {
            Block,
            Tag,
        }
        for (text, message) in [
            (
                r#"{"limit":"sk-secret-key"}"#,
                "`limit`: invalid type: string, expected u8",
            ),
            (
                r#"{"key":12345678}"#,
                "`key`: invalid type: integer, expected a string",
            ),
            (
                r#"{"key":-12345678}"#,
                "`key`: invalid type: integer, expected a string",
            ),
            (
                r#"{"key":1234.5678}"#,
                "`key`: invalid type: floating point number, expected a string",
            ),
            (
                r#"{"key":12345678.0}"#,
                "`key`: invalid type: floating point number, expected a string",
            ),
            (
                r#"{"key":true}"#,
                "`key`: invalid type: boolean, expected a string",
            ),
            (
                r#"{"key":{"sk-secret-key":1}}"#,
                "`key`: invalid type: map, expected a string",
            ),
            (
                r#"{"keys":["a",12345678]}"#,
                "`keys`: invalid type: integer, expected a string",
            ),
            (
                r#"{"keys":"sk-secret-key"}"#,
                "`keys`: invalid type: string, expected a sequence",
            ),
            (
                r#"{"limit":12345678}"#,
                "`limit`: invalid value: integer, expected u8",
            ),
            (
                r#"{"limit":-12345678}"#,
                "`limit`: invalid value: integer, expected u8",
            ),
            (
                r#"{"on":"sk-secret-key"}"#,
                "`on`: invalid type: string, expected a boolean",
            ),
            (
                r#"{"ratio":"sk-secret-key"}"#,
                "`ratio`: invalid type: string, expected f32",
            ),
            (
                r#"{"letter":"sk-secret-key"}"#,
                "`letter`: invalid value: string, expected a character",
            ),
            (
                r#"{"mode":"sk-secret-key"}"#,
                "`mode`: unknown variant: string, expected `block` or `tag`",
            ),
            (
                r#"{"mode":{"sk-secret-key":1}}"#,
                "`mode`: unknown variant: string, expected `block` or `tag`",
            ),
            (
                r#"{"mode":12345678}"#,
                "`mode`: expected an enum variant: a string or an object with one key",
            ),
            (
                r#"{"inner":{"count":false}}"#,
                "`inner`: `count`: invalid type: boolean, expected u32",
            ),
            (
                r#"{"inner":{"count":12345678901234}}"#,
                "`inner`: `count`: invalid value: integer, expected u32",
            ),
        ] {
            let error = from_checked::<Secrets>(text.as_bytes())
                .unwrap_err()
                .to_string();
            assert_eq!(error, message, "{text}");
            for value in ["sk-secret-key", "1234", "true", "false"] {
                assert!(!error.contains(value), "{text}: {error}");
            }
        }
    }

    #[test]
    fn the_names_a_value_may_take_are_listed_as_serde_lists_them() {
        for (names, listed) in [
            (&[][..], "there are no variants"),
            (&["a"][..], "`a`"),
            (&["a", "b"][..], "`a` or `b`"),
            (&["a", "b", "c"][..], "one of `a`, `b`, `c`"),
        ] {
            assert_eq!(OneOf(names).to_string(), listed);
        }
    }

    #[test]
    fn errors_name_the_field_they_are_in() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            inner: Inner,
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            limit: u32,
        }
        let error = from_checked::<Outer>(br#"{"inner":{"limit":"ten"}}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "`inner`: `limit`: invalid type: string, expected u32"
        );
    }

    proptest::proptest! {
        /// Any float text, read as `f32`, is accepted and valued as
        /// serde_json does.
        #[test]
        fn f32_agrees_with_serde_json(mantissa in -1_000_000i64..1_000_000, exponent in -60i32..60) {
            let text = format!("{mantissa}e{exponent}");
            agree::<f32>(&text);
        }
    }

    #[test]
    fn ignored_any_accepts_every_value_without_reading_it() {
        for text in ["{}", "[1,2]", "\"s\"", "1e300", "null", "true"] {
            assert!(from_checked::<de::IgnoredAny>(text.as_bytes()).is_ok());
        }
    }

    proptest::proptest! {
        /// Any value serde_json writes is built back equal by
        /// [`value_from_checked`].
        #[test]
        fn builds_back_everything_serde_json_writes(value in super::super::test_values::any_value()) {
            let text = serde_json::to_string_pretty(&value).unwrap();
            proptest::prop_assert_eq!(value_from_checked(text.as_bytes()), value, "{}", text);
        }

        /// Text that is not valid JSON (which the SDK never passes) gives
        /// some value, never a panic.
        #[test]
        fn never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let _ = value_from_checked(&bytes);
        }
    }

    #[test]
    fn builds_values_as_serde_json_parses_them() {
        assert!(matches!(from_checked::<f64>(b"-0"), Ok(z) if z == 0.0 && z.is_sign_negative()));
        assert_eq!(agree::<i32>("-0"), None);
        for text in [
            r#"{"a":1,"a":2,"b":[-0,1.5e3,18446744073709551616,-9223372036854775809,1e-400]}"#,
            r#" [ "\u00e9\ud83d\ude00" , null , true , false , {} ] "#,
            "-1",
            "0.1",
        ] {
            let ours = value_from_checked(text.as_bytes());
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    proptest::proptest! {
        /// Read into a `serde_json::Value`, any value serde_json writes comes
        /// back equal: the deserializer visits every kind as serde_json does.
        #[test]
        fn reads_back_everything_serde_json_writes(value in super::super::test_values::any_value()) {
            let text = serde_json::to_string_pretty(&value).unwrap();
            let read: serde_json::Value = from_checked(text.as_bytes()).unwrap();
            proptest::prop_assert_eq!(read, value, "{}", text);
        }
    }
}
