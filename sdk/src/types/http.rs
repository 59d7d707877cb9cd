//! HTTP requests and responses as the host encodes them: single-valued
//! header and query maps, and bodies as standard, padded base64.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::document::Document;
use super::InputError;

/// An incoming HTTP request, as seen by the HTTP transport hook.
///
/// `body` holds the decoded bytes. Fields this type does not model (such as
/// `path_params`) are kept in [`HttpRequest::extra`].
///
/// ```
/// use bifrost_plugin_sdk::HttpRequest;
/// let mut req = HttpRequest::default();
/// req.headers.insert("Content-Type".into(), "application/json".into());
/// assert_eq!(req.header("content-type"), Some("application/json"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HttpRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The request path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Headers, with the client's casing; see [`HttpRequest::header`].
    pub headers: BTreeMap<String, String>,
    /// Query parameters.
    pub query: BTreeMap<String, String>,
    /// The decoded body.
    #[serde(serialize_with = "base64_body")]
    pub body: Vec<u8>,
    /// Every other field the host sent, kept for the way back.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HttpRequest {
    /// Reads the request buffer of the HTTP hook.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, InputError> {
        let map = Document::from_bytes(bytes, "http request")?.into_map();
        Self::from_map(map).map_err(|e| InputError::new(format!("http request is not valid: {e}")))
    }

    /// Takes the modelled fields out of `map`; the rest become `extra`.
    fn from_map(mut map: Map<String, Value>) -> Result<Self, String> {
        Ok(HttpRequest {
            method: field::string(&mut map, "method")?,
            path: field::string(&mut map, "path")?,
            headers: field::string_map(&mut map, "headers")?,
            query: field::string_map(&mut map, "query")?,
            body: field::base64(&mut map, "body")?,
            extra: map,
        })
    }

    /// Reads an optional request buffer: empty and `null` are an empty
    /// request.
    pub(crate) fn from_optional_bytes(bytes: &[u8]) -> Result<Self, InputError> {
        match super::is_absent(bytes) {
            true => Ok(HttpRequest::default()),
            false => Self::from_bytes(bytes),
        }
    }

    /// The value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as UTF-8 text, if it is.
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

/// An HTTP response the plugin sends instead of forwarding the request.
///
/// ```
/// use bifrost_plugin_sdk::HttpResponse;
/// let resp = HttpResponse::new(401)
///     .with_header("Content-Type", "application/json")
///     .with_body(r#"{"error":"unauthorized"}"#);
/// assert_eq!(resp.status_code, 401);
/// assert_eq!(resp.header("content-type"), Some("application/json"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status_code: u16,
    /// Response headers.
    pub headers: BTreeMap<String, String>,
    /// The body bytes (base64 on the wire).
    #[serde(serialize_with = "base64_body")]
    pub body: Vec<u8>,
    /// Every other field, kept for the way back.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HttpResponse {
    /// An empty response with `status_code`.
    pub fn new(status_code: u16) -> Self {
        HttpResponse {
            status_code,
            ..HttpResponse::default()
        }
    }

    /// A JSON response: serialises `body` and sets `Content-Type`.
    ///
    /// ```
    /// use bifrost_plugin_sdk::HttpResponse;
    /// let resp = HttpResponse::json(429, &serde_json::json!({"error": "slow down"}));
    /// assert_eq!(resp.body, br#"{"error":"slow down"}"#);
    /// ```
    pub fn json<T: Serialize + ?Sized>(status_code: u16, body: &T) -> Self {
        // Serialising to memory only fails for maps with non-string keys;
        // the body is then left empty rather than failing the hook.
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        HttpResponse::new(status_code)
            .with_header("Content-Type", "application/json")
            .with_body(bytes)
    }

    /// Reads an optional response buffer: empty and `null` are an empty
    /// response.
    pub(crate) fn from_optional_bytes(bytes: &[u8]) -> Result<Self, InputError> {
        if super::is_absent(bytes) {
            return Ok(HttpResponse::default());
        }
        let map = Document::from_bytes(bytes, "http response")?.into_map();
        Self::from_map(map).map_err(|e| InputError::new(format!("http response is not valid: {e}")))
    }

    /// Takes the modelled fields out of `map`; the rest become `extra`.
    fn from_map(mut map: Map<String, Value>) -> Result<Self, String> {
        Ok(HttpResponse {
            status_code: field::status_code(&mut map, "status_code")?,
            headers: field::string_map(&mut map, "headers")?,
            body: field::base64(&mut map, "body")?,
            extra: map,
        })
    }

    /// Adds (or replaces) a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

// Both types are read from a parsed object by hand rather than by a derived
// `Deserialize` with `#[serde(flatten)]`: flatten buffers every value in
// serde's `Content` tree first, which costs ~12 KB of .wasm and a copy of the
// whole request.
impl<'de> Deserialize<'de> for HttpRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::deserialize(deserializer)?;
        HttpRequest::from_map(map).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for HttpResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = Map::deserialize(deserializer)?;
        HttpResponse::from_map(map).map_err(serde::de::Error::custom)
    }
}

/// Go's `[]byte` in JSON: standard base64 with padding.
fn base64_body<S: Serializer>(body: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&STANDARD.encode(body))
}

/// Reading the modelled fields out of the host's object. Go encodes nil
/// maps, slices and strings as `null`, so a missing or `null` field reads as
/// empty.
mod field {
    use super::*;

    fn take(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
        map.remove(key).filter(|value| !value.is_null())
    }

    pub(super) fn string(map: &mut Map<String, Value>, key: &str) -> Result<String, String> {
        match take(map, key) {
            None => Ok(String::new()),
            Some(Value::String(text)) => Ok(text),
            Some(other) => Err(format!("`{key}` is {}, expected a string", kind(&other))),
        }
    }

    pub(super) fn string_map(
        map: &mut Map<String, Value>,
        key: &str,
    ) -> Result<BTreeMap<String, String>, String> {
        let object = match take(map, key) {
            None => return Ok(BTreeMap::new()),
            Some(Value::Object(object)) => object,
            Some(other) => return Err(format!("`{key}` is {}, expected an object", kind(&other))),
        };
        object
            .into_iter()
            .map(|(name, value)| match value {
                Value::String(text) => Ok((name, text)),
                other => Err(format!(
                    "`{key}.{name}` is {}, expected a string",
                    kind(&other)
                )),
            })
            .collect()
    }

    pub(super) fn base64(map: &mut Map<String, Value>, key: &str) -> Result<Vec<u8>, String> {
        STANDARD
            .decode(string(map, key)?)
            .map_err(|e| format!("{key} is not valid base64 ({e})"))
    }

    pub(super) fn status_code(map: &mut Map<String, Value>, key: &str) -> Result<u16, String> {
        match take(map, key) {
            None => Ok(0),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .ok_or_else(|| format!("`{key}` is {n}, expected a status code (0 to 65535)")),
            Some(other) => Err(format!("`{key}` is {}, expected a number", kind(&other))),
        }
    }

    /// What a JSON value is, for error messages.
    fn kind(value: &Value) -> &'static str {
        match value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_documented_request() {
        let req = HttpRequest::from_bytes(
            br#"{"method":"POST","path":"/v1/chat/completions",
                "headers":{"Content-Type":"application/json"},"query":{},
                "body":"eyJhIjoxfQ==","path_params":{"id":"7"}}"#,
        )
        .unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.body, br#"{"a":1}"#);
        assert_eq!(req.extra["path_params"], serde_json::json!({"id": "7"}));
    }

    #[test]
    fn go_nulls_read_as_empty() {
        let req = HttpRequest::from_bytes(
            br#"{"method":null,"path":"/","headers":null,"query":null,"body":null}"#,
        )
        .unwrap();
        assert!(req.method.is_empty() && req.headers.is_empty() && req.body.is_empty());
    }

    #[test]
    fn bad_base64_is_a_clear_error() {
        let err = HttpRequest::from_bytes(br#"{"body":"not base64!"}"#).unwrap_err();
        assert!(
            err.to_string().contains("body is not valid base64"),
            "{err}"
        );
    }

    #[test]
    fn responses_read_status_headers_body_and_keep_the_rest() {
        let text = br#"{"status_code":201,"headers":{"X-A":"1"},"body":"aGk=","extra":{"n":0.1}}"#;
        let resp = HttpResponse::from_optional_bytes(text).unwrap();
        assert_eq!(resp.status_code, 201);
        assert_eq!(resp.header("x-a"), Some("1"));
        assert_eq!(resp.body, b"hi");
        assert_eq!(
            serde_json::to_string(&resp).unwrap(),
            std::str::from_utf8(text).unwrap(),
            "unmodelled fields come back, floats with their value"
        );
    }

    #[test]
    fn fields_of_the_wrong_type_are_named_in_the_error() {
        let cases: [(&[u8], &str); 5] = [
            (
                br#"{"method":5}"#,
                "`method` is a number, expected a string",
            ),
            (
                br#"{"headers":[]}"#,
                "`headers` is an array, expected an object",
            ),
            (
                br#"{"query":{"q":1}}"#,
                "`query.q` is a number, expected a string",
            ),
            (br#"{"body":{}}"#, "`body` is an object, expected a string"),
            (
                br#"{"path":true}"#,
                "`path` is a boolean, expected a string",
            ),
        ];
        for (input, expected) in cases {
            let err = HttpRequest::from_bytes(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
        for status in ["-1", "65536", "2.5", "\"200\""] {
            let input = format!(r#"{{"status_code":{status}}}"#);
            let err = HttpResponse::from_optional_bytes(input.as_bytes()).unwrap_err();
            assert!(
                err.to_string().contains("`status_code` is"),
                "{status}: {err}"
            );
        }
    }

    #[test]
    fn deserialize_matches_reading_from_bytes() {
        let req: HttpRequest =
            serde_json::from_str(r#"{"method":"GET","path":"/","x":[1]}"#).unwrap();
        assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/"));
        assert_eq!(req.extra["x"], serde_json::json!([1]));
        let err = serde_json::from_str::<HttpResponse>(r#"{"status_code":"x"}"#).unwrap_err();
        assert!(
            err.to_string().contains("`status_code` is a string"),
            "{err}"
        );
    }

    #[test]
    fn responses_encode_bodies_as_padded_base64() {
        let resp = HttpResponse::new(200).with_body("hi");
        let json = serde_json::to_value(&resp).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"status_code": 200, "headers": {}, "body": "aGk="})
        );
    }
}
