//! The hooks a host calls, what each takes, and how its inputs are laid out
//! for each ABI (separate buffers for seed, one JSON object for
//! single-input).

use std::fmt;
use std::str::FromStr;

use crate::abi::Abi;

/// A hook, whatever the ABI calls its export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    /// Request interception at the HTTP layer: seed `http_transport_intercept`,
    /// single-input `http_pre_hook` (docs) or `http_intercept` (examples).
    HttpPreHook,
    /// After the HTTP response (single-input only).
    HttpPostHook,
    /// Each chunk of a streamed response (single-input only).
    HttpStreamChunkHook,
    /// Before the LLM call.
    PreHook,
    /// After the LLM call.
    PostHook,
}

/// One named input of a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The request context.
    Context,
    /// The HTTP or LLM request.
    Request,
    /// The HTTP or LLM response.
    Response,
    /// The LLM error (the `err` buffer, or single-input `error`).
    Error,
    /// The stream chunk.
    Chunk,
}

impl Field {
    /// The field's JSON key (single-input) and buffer name (seed).
    pub fn name(self) -> &'static str {
        match self {
            Field::Context => "context",
            Field::Request => "request",
            Field::Response => "response",
            Field::Error => "error",
            Field::Chunk => "chunk",
        }
    }
}

impl Hook {
    /// Every hook, in the order Bifrost calls them.
    pub const ALL: [Hook; 5] = [
        Hook::HttpPreHook,
        Hook::PreHook,
        Hook::PostHook,
        Hook::HttpStreamChunkHook,
        Hook::HttpPostHook,
    ];

    /// `http_pre_hook`, `pre_hook`, ...: the single-input export names.
    pub fn name(self) -> &'static str {
        match self {
            Hook::HttpPreHook => "http_pre_hook",
            Hook::HttpPostHook => "http_post_hook",
            Hook::HttpStreamChunkHook => "http_stream_chunk_hook",
            Hook::PreHook => "pre_hook",
            Hook::PostHook => "post_hook",
        }
    }

    /// The exports that implement the hook in `abi`, the host's first choice
    /// first; empty if the ABI has no such hook.
    pub fn exports(self, abi: Abi) -> &'static [&'static str] {
        match (abi, self) {
            (Abi::Seed, Hook::HttpPreHook) => &["http_transport_intercept"],
            (Abi::Seed, Hook::HttpPostHook | Hook::HttpStreamChunkHook) => &[],
            (Abi::SingleInput, Hook::HttpPreHook) => &["http_pre_hook", "http_intercept"],
            (_, hook) => match hook {
                Hook::HttpPostHook => &["http_post_hook"],
                Hook::HttpStreamChunkHook => &["http_stream_chunk_hook"],
                Hook::PreHook => &["pre_hook"],
                _ => &["post_hook"],
            },
        }
    }

    /// The inputs the host sends to the hook (the same in both ABIs), in
    /// the seed ABI's buffer order.
    pub fn fields(self) -> &'static [Field] {
        use Field::*;
        match self {
            Hook::HttpPreHook | Hook::PreHook => &[Context, Request],
            Hook::PostHook => &[Context, Response, Error],
            Hook::HttpPostHook => &[Context, Request, Response],
            Hook::HttpStreamChunkHook => &[Context, Request, Chunk],
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a hook or export name, with `_` or `-`: `pre_hook`, `pre-hook`,
/// and the HTTP pre-hook's other export names `http_intercept` and
/// `http_transport_intercept`.
impl FromStr for Hook {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let name = s.replace('-', "_");
        match name.as_str() {
            "http_intercept" | "http_transport_intercept" => return Ok(Hook::HttpPreHook),
            "stream_chunk" | "chunk" => return Ok(Hook::HttpStreamChunkHook),
            _ => {}
        }
        Hook::ALL
            .into_iter()
            .find(|hook| hook.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Hook::ALL.iter().map(|h| h.name()).collect();
                format!("unknown hook `{s}` (expected one of {})", names.join(", "))
            })
    }
}

/// A hook's inputs as raw JSON texts, sent exactly as given. Absent fields
/// are empty buffers (pointer 0, length 0) for the seed ABI and absent keys
/// for the single-input ABI; fields the hook does not take are not sent.
///
/// ```
/// use bifrost_plugin_host::HookInput;
/// let input = HookInput::new()
///     .with_context(r#"{"request_id":"1"}"#)
///     .with_request(r#"{"model":"gpt-4o-mini"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookInput {
    context: Option<Vec<u8>>,
    request: Option<Vec<u8>>,
    response: Option<Vec<u8>>,
    error: Option<Vec<u8>>,
    chunk: Option<Vec<u8>>,
    has_error: Option<bool>,
}

impl HookInput {
    /// No inputs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one field.
    pub fn with(mut self, field: Field, json: impl Into<Vec<u8>>) -> Self {
        *self.slot(field) = Some(json.into());
        self
    }

    /// Sets the context.
    pub fn with_context(self, json: impl Into<Vec<u8>>) -> Self {
        self.with(Field::Context, json)
    }

    /// Sets the request.
    pub fn with_request(self, json: impl Into<Vec<u8>>) -> Self {
        self.with(Field::Request, json)
    }

    /// Sets the response.
    pub fn with_response(self, json: impl Into<Vec<u8>>) -> Self {
        self.with(Field::Response, json)
    }

    /// Sets the LLM error.
    pub fn with_error(self, json: impl Into<Vec<u8>>) -> Self {
        self.with(Field::Error, json)
    }

    /// Sets the stream chunk.
    pub fn with_chunk(self, json: impl Into<Vec<u8>>) -> Self {
        self.with(Field::Chunk, json)
    }

    /// Sets the single-input post-hook's `has_error` (by default: whether an
    /// error other than `null` or `{}` is given).
    pub fn with_has_error(mut self, has_error: bool) -> Self {
        self.has_error = Some(has_error);
        self
    }

    /// One field's JSON, if set.
    pub fn get(&self, field: Field) -> Option<&[u8]> {
        self.inputs().get(field)
    }

    /// The same inputs, borrowed.
    pub(crate) fn inputs(&self) -> Inputs<'_> {
        Inputs {
            context: self.context.as_deref(),
            request: self.request.as_deref(),
            response: self.response.as_deref(),
            error: self.error.as_deref(),
            chunk: self.chunk.as_deref(),
            has_error: self.has_error,
        }
    }

    fn slot(&mut self, field: Field) -> &mut Option<Vec<u8>> {
        match field {
            Field::Context => &mut self.context,
            Field::Request => &mut self.request,
            Field::Response => &mut self.response,
            Field::Error => &mut self.error,
            Field::Chunk => &mut self.chunk,
        }
    }

    /// The seed ABI's buffers for `hook`, in parameter order.
    pub fn buffers(&self, hook: Hook) -> Vec<&[u8]> {
        self.inputs().buffers(hook)
    }

    /// The single-input ABI's one JSON object for `hook`: each field spliced
    /// in verbatim (so the plugin sees the caller's exact bytes), plus
    /// `has_error` for the post-hook.
    pub fn envelope(&self, hook: Hook) -> Vec<u8> {
        let mut out = Vec::new();
        self.inputs().write_envelope(hook, &mut out);
        out
    }
}

/// A hook's inputs borrowed, as [`HookInput`] holds them: a chain sends the
/// texts it carries without copying them into a `HookInput` first.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Inputs<'a> {
    pub context: Option<&'a [u8]>,
    pub request: Option<&'a [u8]>,
    pub response: Option<&'a [u8]>,
    pub error: Option<&'a [u8]>,
    pub chunk: Option<&'a [u8]>,
    pub has_error: Option<bool>,
}

impl<'a> Inputs<'a> {
    /// One field's JSON, if set.
    pub fn get(&self, field: Field) -> Option<&'a [u8]> {
        match field {
            Field::Context => self.context,
            Field::Request => self.request,
            Field::Response => self.response,
            Field::Error => self.error,
            Field::Chunk => self.chunk,
        }
    }

    /// The seed ABI's buffers for `hook`, in parameter order.
    pub fn buffers(&self, hook: Hook) -> Vec<&'a [u8]> {
        hook.fields()
            .iter()
            .map(|f| self.get(*f).unwrap_or(&[]))
            .collect()
    }

    /// Writes the single-input envelope for `hook` into `out` (emptied
    /// first, its room kept: a chain writes every call's into one buffer).
    pub fn write_envelope(&self, hook: Hook, out: &mut Vec<u8>) {
        out.clear();
        out.push(b'{');
        for field in hook.fields() {
            if let Some(json) = self.get(*field) {
                push_key(out, field.name());
                out.extend_from_slice(json);
            }
        }
        if hook == Hook::PostHook {
            let has_error = self.has_error.unwrap_or_else(|| {
                self.error
                    .is_some_and(|error| !matches!(trim(error), b"" | b"null" | b"{}"))
            });
            push_key(out, "has_error");
            out.extend_from_slice(if has_error { b"true" } else { b"false" });
        }
        out.push(b'}');
    }
}

fn push_key(out: &mut Vec<u8>, key: &str) {
    if out.len() > 1 {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace());
    match (start, end) {
        (Some(start), Some(end)) => &bytes[start..=end],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_with_either_separator_and_the_aliases() {
        assert_eq!("pre-hook".parse(), Ok(Hook::PreHook));
        assert_eq!("post_hook".parse(), Ok(Hook::PostHook));
        assert_eq!("http-intercept".parse(), Ok(Hook::HttpPreHook));
        assert_eq!("http_transport_intercept".parse(), Ok(Hook::HttpPreHook));
        assert_eq!("chunk".parse(), Ok(Hook::HttpStreamChunkHook));
        let err = "prehook".parse::<Hook>().unwrap_err();
        assert!(err.starts_with("unknown hook `prehook` (expected one of http_pre_hook"));
    }

    #[test]
    fn the_envelope_splices_fields_verbatim_and_derives_has_error() {
        let input = HookInput::new()
            .with_context("{}")
            .with_request("{ \"model\" : 1 }")
            .with_chunk("{}");
        assert_eq!(
            input.envelope(Hook::PreHook),
            br#"{"context":{},"request":{ "model" : 1 }}"#,
            "the chunk is not a pre_hook field"
        );
        let post = |error: &str| HookInput::new().with_error(error).envelope(Hook::PostHook);
        assert_eq!(post(" {} "), br#"{"error": {} ,"has_error":false}"#);
        assert_eq!(post("null"), br#"{"error":null,"has_error":false}"#);
        assert_eq!(
            post(r#"{"error":{}}"#),
            br#"{"error":{"error":{}},"has_error":true}"#
        );
        let forced = HookInput::new()
            .with_has_error(true)
            .envelope(Hook::PostHook);
        assert_eq!(forced, br#"{"has_error":true}"#);
    }

    #[test]
    fn seed_buffers_are_in_parameter_order_and_empty_when_absent() {
        let input = HookInput::new().with_error("e").with_context("c");
        assert_eq!(
            input.buffers(Hook::PostHook),
            [&b"c"[..], &b""[..], &b"e"[..]]
        );
    }
}
