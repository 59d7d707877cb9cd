//! What a hook decides: continue (possibly with changes) or answer the
//! request itself.

use crate::types::{HttpRequest, HttpResponse, LlmError, LlmRequest, LlmResponse, StreamChunk};

/// The outcome of [`Plugin::http_pre_hook`](crate::Plugin::http_pre_hook).
///
/// ```
/// use bifrost_plugin_sdk::{HttpPreHook, HttpRequest, HttpResponse};
/// fn check(req: HttpRequest) -> HttpPreHook {
///     match req.header("authorization") {
///         Some(_) => HttpPreHook::Continue(req),
///         None => HttpPreHook::Respond(HttpResponse::new(401).with_body("missing credentials")),
///     }
/// }
/// assert!(matches!(check(HttpRequest::default()), HttpPreHook::Respond(_)));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HttpPreHook {
    /// Let the request through (with any changes, on ABIs that carry them).
    Continue(HttpRequest),
    /// Answer the client with this response; Bifrost does not process the
    /// request further.
    Respond(HttpResponse),
}

/// The outcome of [`Plugin::pre_hook`](crate::Plugin::pre_hook).
///
/// ```
/// use bifrost_plugin_sdk::{LlmError, LlmResponse, PreHook};
/// let cached = PreHook::Respond(LlmResponse::chat("gpt-4o-mini", "cached answer"));
/// let limited = PreHook::Fail(LlmError::new("rate limited").with_status(429));
/// assert!(cached.is_short_circuit() && limited.is_short_circuit());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PreHook {
    /// Send this request to the provider (the one received, possibly changed).
    Continue(LlmRequest),
    /// Skip the provider and answer with this response.
    Respond(LlmResponse),
    /// Skip the provider and answer with this error.
    Fail(LlmError),
}

impl PreHook {
    /// Whether the provider is skipped.
    pub fn is_short_circuit(&self) -> bool {
        !matches!(self, PreHook::Continue(_))
    }
}

/// The outcome of [`Plugin::post_hook`](crate::Plugin::post_hook): the
/// response and error that go on to the next plugin and the client.
///
/// Return what you received to change nothing; replace the response to
/// rewrite it, or swap an error for a response to recover from it.
///
/// ```
/// use bifrost_plugin_sdk::{LlmError, LlmResponse, PostHook};
/// let recovered = PostHook::respond(LlmResponse::chat("fallback", "Sorry, try again later."));
/// assert!(recovered.error.is_none());
/// let failed = PostHook::fail(LlmError::new("blocked by policy").with_status(403));
/// assert!(failed.response.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct PostHook {
    /// The response, if any.
    pub response: Option<LlmResponse>,
    /// The error, if any.
    pub error: Option<LlmError>,
}

impl PostHook {
    /// Passes on `response` and `error` as they are (or as the hook changed
    /// them): what a post hook that only observes returns.
    ///
    /// ```
    /// use bifrost_plugin_sdk::{LlmResponse, PostHook};
    /// let response = Some(LlmResponse::chat("gpt-4o-mini", "Hi"));
    /// let outcome = PostHook::new(response.clone(), None);
    /// assert_eq!(outcome.response, response);
    /// ```
    pub fn new(response: Option<LlmResponse>, error: Option<LlmError>) -> Self {
        PostHook { response, error }
    }

    /// Answer with `response` and no error.
    pub fn respond(response: LlmResponse) -> Self {
        PostHook {
            response: Some(response),
            error: None,
        }
    }

    /// Answer with `error` and no response.
    pub fn fail(error: LlmError) -> Self {
        PostHook {
            response: None,
            error: Some(error),
        }
    }
}

/// The outcome of
/// [`Plugin::http_stream_chunk_hook`](crate::Plugin::http_stream_chunk_hook).
///
/// ```
/// use bifrost_plugin_sdk::{StreamChunk, StreamChunkHook};
/// fn redact(mut chunk: StreamChunk) -> StreamChunkHook {
///     if chunk.text() == Some("secret") {
///         return StreamChunkHook::Skip;
///     }
///     StreamChunkHook::Continue(chunk)
/// }
/// let chunk = StreamChunk::from_json(serde_json::json!({"choices": [{"delta": {"content": "secret"}}]}));
/// assert_eq!(redact(chunk), StreamChunkHook::Skip);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamChunkHook {
    /// Send this chunk to the client (the one received, possibly changed).
    Continue(StreamChunk),
    /// Drop the chunk: the client never sees it.
    Skip,
}
