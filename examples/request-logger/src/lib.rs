//! request-logger: a Bifrost WASM plugin that logs one structured line per
//! request and one per response, built for `wasm32-wasip1` (where the SDK's
//! logger writes to stderr, which the host collects):
//!
//! ```text
//! INFO request-logger: request id=r1 model=gpt-4o-mini provider=openai messages=2
//! INFO request-logger: response id=r1 model=gpt-4o-mini prompt_tokens=12 completion_tokens=30 total_tokens=42 elapsed_ms=840
//! ```
//!
//! A value that is missing is `-`. `elapsed_ms` (the time since the request's
//! `pre_hook`, by the monotonic clock) is there when the clock allows and the
//! request was seen (the last 10,000 requests, for 10 minutes at most);
//! an error response logs `error="…"` instead of the token counts. Every
//! request and response passes through unchanged. No configuration.
//!
//! Built for `wasm32-unknown-unknown` it passes everything through and logs
//! nothing (that target has nowhere to write).

// The SDK's generated exports are the only unsafe code, and they live in the SDK.
#![deny(unsafe_code)]

use std::fmt::Write as _;
use std::time::Duration;

use bifrost_plugin_sdk::log::info;
use bifrost_plugin_sdk::prelude::*;
use bifrost_plugin_sdk::serde::de::IgnoredAny;
use bifrost_plugin_sdk::{time, RequestMap};

/// Requests in flight remembered at most (the oldest are forgotten first).
pub const MAX_PENDING: usize = 10_000;
/// A request unanswered for this long is forgotten.
pub const MAX_WAIT: Duration = Duration::from_secs(600);

/// The logger: when each request in flight started, by the monotonic
/// clock (a latency must not jump with the time of day).
pub struct RequestLogger {
    started: RequestMap<Duration>,
}

/// The line of a request.
pub fn request_line(id: &str, req: &LlmRequest) -> String {
    format!(
        "request id={id} model={} provider={} messages={}",
        req.model().unwrap_or("-"),
        req.provider().unwrap_or("-"),
        req.message_count()
    )
}

/// The line of a response (or of the error in its place).
pub fn response_line(
    id: &str,
    response: Option<&LlmResponse>,
    error: Option<&LlmError>,
    elapsed: Option<std::time::Duration>,
) -> String {
    let model = response.and_then(LlmResponse::model).unwrap_or("-");
    let mut line = format!("response id={id} model={model}");
    if let Some(error) = error {
        line.push_str(" error=");
        quote(&mut line, error.message().unwrap_or("-"));
    } else if let Some(usage) = response.and_then(LlmResponse::usage) {
        let _ = write!(
            line,
            " prompt_tokens={} completion_tokens={} total_tokens={}",
            usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
        );
    }
    if let Some(elapsed) = elapsed {
        // As a u64 (584 million years): u128's formatting is 1.5 KB more.
        let millis = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let _ = write!(line, " elapsed_ms={millis}");
    }
    line
}

/// Appends `text` to `line` in double quotes, as `{:?}` would write a
/// string: `"` and `\\` escaped, `\n`, `\r` and `\t` by name, other control
/// characters as `\u{…}` (but characters `{:?}` also escapes as not
/// printable, such as U+200B, which go as they are). Written out rather
/// than `{:?}`, whose escaping brings the Unicode tables: 7 KB of the
/// wasm32-wasip1 build.
pub fn quote(line: &mut String, text: &str) {
    line.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                line.push('\\');
                line.push(c);
            }
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\t' => line.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(line, "\\u{{{:x}}}", u32::from(c));
            }
            c => line.push(c),
        }
    }
    line.push('"');
}

#[bifrost_plugin(name = "request-logger")]
impl Plugin for RequestLogger {
    type Config = IgnoredAny;

    fn init(_config: IgnoredAny) -> Result<Self, PluginError> {
        Ok(RequestLogger {
            started: RequestMap::new(MAX_PENDING).with_max_age(MAX_WAIT),
        })
    }

    fn pre_hook(&mut self, ctx: &mut Context, req: LlmRequest) -> Result<PreHook, PluginError> {
        let id = ctx.request_id().unwrap_or("-");
        info!("{}", request_line(id, &req));
        if let (Some(id), Ok(now)) = (ctx.request_id(), time::monotonic()) {
            self.started.insert_at(id, now, now);
        }
        Ok(PreHook::Continue(req))
    }

    fn post_hook(
        &mut self,
        ctx: &mut Context,
        response: Option<LlmResponse>,
        error: Option<LlmError>,
    ) -> Result<PostHook, PluginError> {
        let id = ctx.request_id().unwrap_or("-");
        let elapsed = self
            .started
            .remove(id)
            .and_then(|start| time::elapsed_since(start).ok());
        info!(
            "{}",
            response_line(id, response.as_ref(), error.as_ref(), elapsed)
        );
        Ok(PostHook::new(response, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bifrost_plugin_sdk::ChatMessage;
    use std::time::Duration;

    #[test]
    fn a_request_line_has_model_provider_and_message_count() {
        let req = LlmRequest::chat(
            "openai",
            "gpt-4o",
            vec![ChatMessage::user("a"), ChatMessage::user("b")],
        );
        assert_eq!(
            request_line("r1", &req),
            "request id=r1 model=gpt-4o provider=openai messages=2"
        );
    }

    #[test]
    fn an_error_message_is_quoted_as_debug_would_quote_it() {
        for text in [
            "plain",
            "say \"hi\"",
            "back\\slash",
            "a\nb\r\tc",
            "bell\u{7}",
            "é ✓",
        ] {
            let mut line = String::new();
            quote(&mut line, text);
            assert_eq!(line, format!("{text:?}"));
        }
    }

    #[test]
    fn a_response_line_has_what_is_known() {
        let response = LlmResponse::chat("gpt-4o", "hi");
        assert_eq!(
            response_line(
                "r1",
                Some(&response),
                None,
                Some(Duration::from_millis(840))
            ),
            "response id=r1 model=gpt-4o elapsed_ms=840"
        );
        let error = LlmError::new("upstream \"timeout\"");
        assert_eq!(
            response_line("r2", None, Some(&error), None),
            r#"response id=r2 model=- error="upstream \"timeout\"""#
        );
    }
}
