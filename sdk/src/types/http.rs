//! HTTP requests and responses as the host encodes them: single-valued
//! header and query maps, and bodies as standard, padded base64.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Map;

use super::document::{check_object, OUTPUT_ROOM};
use super::{InputError, JsonObject, StringMap};
use crate::base64;
use crate::json::members::{decode_string, members};
use crate::json::write::write_string;
use crate::PluginError;

/// Reads `body` as JSON into `T`, with the SDK's own checker and reader
/// (the ones that read a plugin's `Config`), so a plugin that reads JSON
/// bodies does not link serde_json's parser.
fn read_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, PluginError> {
    crate::json::validate_nested(body, crate::json::CONFIG_MAX_DEPTH)
        .map_err(|e| PluginError::new(format!("body {e}")))?;
    crate::json::de::from_checked(body)
        .map_err(|e| PluginError::new(format!("body is not the expected JSON: {e}")))
}

/// An incoming HTTP request, as seen by the HTTP transport hook.
///
/// `body` holds the decoded bytes. Fields this type does not model (such as
/// `path_params`) are kept in [`HttpRequest::extra`].
///
/// ```
/// use bifrost_plugin_sdk::HttpRequest;
/// let mut req = HttpRequest::default();
/// req.headers.insert("Content-Type", "application/json");
/// assert_eq!(req.header("content-type"), Some("application/json"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HttpRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The request path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Headers, with the client's casing; see [`HttpRequest::header`].
    pub headers: StringMap,
    /// Query parameters.
    pub query: StringMap,
    /// The decoded body.
    #[serde(serialize_with = "base64_body")]
    pub body: Vec<u8>,
    /// Every other field the host sent, kept for the way back.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl HttpRequest {
    /// Reads the request buffer of the HTTP hook.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, InputError> {
        Self::from_input(bytes, false, false)
    }

    /// Reads the request of an HTTP hook: `checked` when the bytes passed
    /// the SDK's check already (as part of the single-input envelope: then
    /// only their kind is looked at, not every byte again, which every
    /// streamed chunk would pay for); `to_echo` for a request the hook's
    /// output carries back, whose body is then decoded into a buffer as large
    /// as the request's text and [`OUTPUT_ROOM`] more, which
    /// [`HttpRequest::into_json_with_body`] writes the output into, so the
    /// input, the decoded body and the output are never three buffers at once.
    pub(crate) fn from_input(
        bytes: &[u8],
        checked: bool,
        to_echo: bool,
    ) -> Result<Self, InputError> {
        match checked {
            true if bytes.first() != Some(&b'{') => {
                return Err(InputError::not_object("http request", bytes))
            }
            true => {}
            false => check_object(bytes, "http request")?,
        }
        let body_capacity = if to_echo {
            bytes.len() + OUTPUT_ROOM
        } else {
            0
        };
        Self::from_checked(bytes, body_capacity)
            .map_err(|e| InputError::new(format!("http request is not valid: {e}")))
    }

    /// Takes the modelled fields out of a checked object; the rest become
    /// `extra`, unparsed.
    fn from_checked(bytes: &[u8], body_capacity: usize) -> Result<Self, String> {
        let (mut object, body) = JsonObject::from_checked_without(bytes, Some("body"));
        Ok(HttpRequest {
            method: field::string(&mut object, "method")?,
            path: field::string(&mut object, "path")?,
            headers: field::string_map(&mut object, "headers")?,
            query: field::string_map(&mut object, "query")?,
            body: field::base64(body, "body", body_capacity)?,
            extra: object,
        })
    }

    /// Reads an optional request ([`HttpRequest::from_input`]): empty and
    /// `null` are an empty request.
    pub(crate) fn from_optional_input(bytes: &[u8], checked: bool) -> Result<Self, InputError> {
        match super::is_absent(bytes) {
            true => Ok(HttpRequest::default()),
            false => Self::from_input(bytes, checked, false),
        }
    }

    /// The value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get_ignore_case(name)
    }

    /// The request as the JSON the host reads: `method`, `path`, `headers`,
    /// `query`, `body` (base64), then the other fields.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        self.write_json(Vec::with_capacity(256), None)
    }

    /// The request as JSON with `base64_body` (text the host sent that
    /// encodes `body`) in place of its body, written into the body's own
    /// buffer (see [`HttpRequest::from_input`]).
    pub(crate) fn into_json_with_body(mut self, base64_body: &[u8]) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.body);
        out.clear();
        self.write_json(out, Some(base64_body))
    }

    /// Appends the request's JSON to `out`: the body is `base64_body` (text
    /// the host sent that encodes it) when given, else `body` encoded.
    fn write_json(&self, mut out: Vec<u8>, base64_body: Option<&[u8]>) -> Vec<u8> {
        out.extend_from_slice(b"{\"method\":");
        write_string(&mut out, &self.method);
        out.extend_from_slice(b",\"path\":");
        write_string(&mut out, &self.path);
        let body = match base64_body {
            Some(text) => Body::Base64(text),
            None => Body::Bytes(&self.body),
        };
        write_tail(
            &mut out,
            &self.headers,
            Some(&self.query),
            body,
            &self.extra,
        );
        out
    }

    /// The body as UTF-8 text, if it is.
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }

    /// The body read as JSON into `T` (any `Deserialize` type, e.g. a struct
    /// of the fields you need). The error says whether the body is not JSON
    /// or not the JSON `T` expects.
    ///
    /// ```
    /// use bifrost_plugin_sdk::HttpRequest;
    /// #[derive(serde::Deserialize)]
    /// #[derive(Debug)]
    /// struct Body { model: String, stream: Option<bool> }
    ///
    /// let mut req = HttpRequest::default();
    /// req.body = br#"{"model":"gpt-4o","messages":[]}"#.to_vec();
    /// let body: Body = req.body_json().unwrap();
    /// assert_eq!((body.model.as_str(), body.stream), ("gpt-4o", None));
    ///
    /// req.body = b"not json".to_vec();
    /// assert!(req.body_json::<Body>().unwrap_err().message().starts_with("body is not valid JSON"));
    /// ```
    pub fn body_json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        read_json(&self.body)
    }

    /// Replaces the body with `value` written as JSON. Headers are left as
    /// they are. (Writing only fails for a map with non-string keys; the body
    /// is then left unchanged.)
    ///
    /// ```
    /// use bifrost_plugin_sdk::HttpRequest;
    /// #[derive(serde::Serialize)]
    /// struct Body<'a> { model: &'a str }
    ///
    /// let mut req = HttpRequest::default();
    /// req.set_body_json(&Body { model: "gpt-4o-mini" });
    /// assert_eq!(req.body_text(), Some(r#"{"model":"gpt-4o-mini"}"#));
    /// ```
    pub fn set_body_json<T: Serialize + ?Sized>(&mut self, value: &T) {
        if let Ok(body) = serde_json::to_vec(value) {
            self.body = body;
        }
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
    pub headers: StringMap,
    /// The body bytes (base64 on the wire).
    #[serde(serialize_with = "base64_body")]
    pub body: Vec<u8>,
    /// Every other field, kept for the way back.
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl HttpResponse {
    /// An empty response with `status_code`.
    #[must_use]
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
    #[must_use]
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
        check_object(bytes, "http response")?;
        Self::from_checked(bytes)
            .map_err(|e| InputError::new(format!("http response is not valid: {e}")))
    }

    /// Takes the modelled fields out of a checked object; the rest become
    /// `extra`, unparsed.
    fn from_checked(bytes: &[u8]) -> Result<Self, String> {
        let (mut object, body) = JsonObject::from_checked_without(bytes, Some("body"));
        Ok(HttpResponse {
            status_code: field::status_code(&mut object, "status_code")?,
            headers: field::string_map(&mut object, "headers")?,
            body: field::base64(body, "body", 0)?,
            extra: object,
        })
    }

    /// The response as the JSON the host reads: `status_code`, `headers`,
    /// `body` (base64), then the other fields.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"{\"status_code\":");
        out.extend_from_slice(self.status_code.to_string().as_bytes());
        write_tail(
            &mut out,
            &self.headers,
            None,
            Body::Bytes(&self.body),
            &self.extra,
        );
        out
    }

    /// A JSON error response `{"error": message}` with `status_code` and
    /// `Content-Type: application/json`, in one call.
    ///
    /// ```
    /// use bifrost_plugin_sdk::HttpResponse;
    /// let resp = HttpResponse::json_error(401, "missing \"x-api-key\" header");
    /// assert_eq!(resp.status_code, 401);
    /// assert_eq!(resp.header("content-type"), Some("application/json"));
    /// assert_eq!(resp.body, br#"{"error":"missing \"x-api-key\" header"}"#);
    /// ```
    #[must_use]
    pub fn json_error(status_code: u16, message: &str) -> Self {
        // Written by the SDK's string writer: no serde_json needed for it.
        let mut body = Vec::with_capacity(message.len() + 12);
        body.extend_from_slice(b"{\"error\":");
        write_string(&mut body, message);
        body.push(b'}');
        HttpResponse::new(status_code)
            .with_header("Content-Type", "application/json")
            .with_body(body)
    }

    /// The body read as JSON into `T`; see [`HttpRequest::body_json`].
    ///
    /// ```
    /// use bifrost_plugin_sdk::HttpResponse;
    /// #[derive(serde::Deserialize)]
    /// struct Error { error: String }
    /// let resp = HttpResponse::json_error(403, "no");
    /// assert_eq!(resp.body_json::<Error>().unwrap().error, "no");
    /// ```
    pub fn body_json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        read_json(&self.body)
    }

    /// Replaces the body with `value` written as JSON and sets
    /// `Content-Type: application/json`. (Writing only fails for a map with
    /// non-string keys; the response is then left unchanged.)
    ///
    /// ```
    /// use bifrost_plugin_sdk::HttpResponse;
    /// let mut resp = HttpResponse::new(200);
    /// resp.set_body_json(&["a", "b"]);
    /// assert_eq!(resp.body, br#"["a","b"]"#);
    /// ```
    pub fn set_body_json<T: Serialize + ?Sized>(&mut self, value: &T) {
        if let Ok(body) = serde_json::to_vec(value) {
            self.body = body;
            let stale: Vec<String> = (self.headers.keys())
                .filter(|name| name.eq_ignore_ascii_case("content-type"))
                .map(str::to_owned)
                .collect();
            for name in stale {
                self.headers.remove(&name);
            }
            self.headers.insert("Content-Type", "application/json");
        }
    }

    /// Adds (or replaces) a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get_ignore_case(name)
    }
}

/// `,"headers":{…}[,"query":{…}],"body":"…"` and the other fields, then the
/// closing `}`.
/// A body to write: bytes to encode, or base64 text that encodes them.
enum Body<'a> {
    Bytes(&'a [u8]),
    Base64(&'a [u8]),
}

fn write_tail(
    out: &mut Vec<u8>,
    headers: &StringMap,
    query: Option<&StringMap>,
    body: Body<'_>,
    extra: &JsonObject,
) {
    out.extend_from_slice(b",\"headers\":");
    write_string_map(out, headers);
    if let Some(query) = query {
        out.extend_from_slice(b",\"query\":");
        write_string_map(out, query);
    }
    let mut fields = Vec::new();
    extra.write_json(&mut fields, None);
    // Grown once, with room for what an output writes around it: a large
    // body is written once and the buffer can become the hook's output.
    let body_len = match body {
        Body::Bytes(bytes) => bytes.len().div_ceil(3) * 4,
        Body::Base64(text) => text.len(),
    };
    out.reserve(body_len + fields.len() + 512);
    out.extend_from_slice(b",\"body\":\"");
    match body {
        Body::Bytes(bytes) => base64::encode_into(bytes, out),
        Body::Base64(text) => out.extend_from_slice(text),
    }
    out.push(b'"');
    if fields.len() > 2 {
        out.push(b',');
        out.extend_from_slice(&fields[1..fields.len() - 1]);
    }
    out.push(b'}');
}

fn write_string_map(out: &mut Vec<u8>, map: &StringMap) {
    out.push(b'{');
    for (i, (name, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, name);
        out.push(b':');
        write_string(out, value);
    }
    out.push(b'}');
}

// Both types are read from a parsed object by hand rather than by a derived
// `Deserialize` with `#[serde(flatten)]`: flatten buffers every value in
// serde's `Content` tree first, which costs ~12 KB of .wasm and a copy of the
// whole request.
impl<'de> Deserialize<'de> for HttpRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        HttpRequest::from_checked(&checked_text(deserializer)?, 0).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for HttpResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        HttpResponse::from_checked(&checked_text(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// Any object a deserializer holds, as checked JSON text: the one form the
/// fields are read from.
fn checked_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let map = Map::deserialize(deserializer)?;
    let mut text = Vec::new();
    crate::json::write::write_object(&mut text, &map);
    crate::json::validate(&text).map_err(serde::de::Error::custom)?;
    Ok(text)
}

/// Go's `[]byte` in JSON: standard base64 with padding.
fn base64_body<S: Serializer>(body: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&base64::encode(body))
}

/// Reading the modelled fields out of the host's object. Go encodes nil
/// maps, slices and strings as `null`, so a missing or `null` field reads as
/// empty.
mod field {
    use super::*;

    /// The text of `key`'s value, taken out of `object`; `None` if absent or
    /// `null`.
    fn take(object: &mut JsonObject, key: &str) -> Option<Box<[u8]>> {
        object
            .take_host_text(key)
            .filter(|text| &text[..] != b"null")
    }

    pub(super) fn string(object: &mut JsonObject, key: &str) -> Result<String, String> {
        match take(object, key) {
            None => Ok(String::new()),
            Some(text) => as_string(&text).ok_or_else(|| wrong(key, &text, "a string")),
        }
    }

    fn as_string(text: &[u8]) -> Option<String> {
        (text.first() == Some(&b'"')).then(|| decode_string(text))
    }

    pub(super) fn string_map(object: &mut JsonObject, key: &str) -> Result<StringMap, String> {
        let Some(text) = take(object, key) else {
            return Ok(StringMap::new());
        };
        if text.first() != Some(&b'{') {
            return Err(wrong(key, &text, "an object"));
        }
        let mut map = StringMap::new();
        for (name, value) in members(&text) {
            match as_string(value) {
                Some(value) => map.insert(name, value),
                None => return Err(wrong(&format!("{key}.{name}"), value, "a string")),
            };
        }
        Ok(map)
    }

    /// Decodes the string `text` (`None` or `null`: empty) straight from
    /// the host's bytes, into a buffer of at least `capacity` bytes: only a
    /// string written with escapes is unescaped into a copy first.
    pub(super) fn base64(
        text: Option<&[u8]>,
        key: &str,
        capacity: usize,
    ) -> Result<Vec<u8>, String> {
        let text = match text {
            None | Some(b"null") => return Ok(Vec::new()),
            Some(text) if text.first() != Some(&b'"') => return Err(wrong(key, text, "a string")),
            Some(text) => text,
        };
        let unescaped;
        let chars = match text.contains(&b'\\') {
            true => {
                unescaped = decode_string(text);
                unescaped.as_bytes()
            }
            false => &text[1..text.len() - 1],
        };
        base64::decode_with_capacity(chars, capacity)
            .map_err(|e| format!("{key} is not valid base64 ({e})"))
    }

    pub(super) fn status_code(object: &mut JsonObject, key: &str) -> Result<u16, String> {
        let Some(text) = take(object, key) else {
            return Ok(0);
        };
        let digits = std::str::from_utf8(&text).unwrap_or_default();
        match text.first() {
            Some(b'0'..=b'9') if digits.bytes().all(|b| b.is_ascii_digit()) => digits
                .parse()
                .map_err(|_| wrong(key, &text, "a status code (0 to 65535)")),
            Some(b'-' | b'0'..=b'9') => Err(wrong(key, &text, "a status code (0 to 65535)")),
            _ => Err(wrong(key, &text, "a number")),
        }
    }

    /// "`name` is <what the text is>, expected <expected>"; a number is
    /// quoted as sent.
    fn wrong(name: &str, text: &[u8], expected: &str) -> String {
        let found = match text.first() {
            Some(b'n') => "null",
            Some(b't' | b'f') => "a boolean",
            Some(b'"') => "a string",
            Some(b'[') => "an array",
            Some(b'{') => "an object",
            _ if expected.starts_with("a status") => std::str::from_utf8(text).unwrap_or_default(),
            _ => "a number",
        };
        format!("`{name}` is {found}, expected {expected}")
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
