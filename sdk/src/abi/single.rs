//! The single-input ABI of Bifrost's public examples and current docs: every
//! hook takes one JSON object (`{"context", "request", …}`) and returns one
//! that carries the context back.
//!
//! Both of its published generations are served by one module: the
//! examples' `http_intercept` and the docs' `http_pre_hook` (same input and
//! output), `http_post_hook`, `http_stream_chunk_hook`, `pre_hook`,
//! `post_hook`. This file is the byte layer; see [`super`].
//!
//! On failure an output echoes what came in (context, request, response,
//! error, chunk) with the reason in `error`/`hook_error`: correct whether the
//! host reads a null field as "unchanged" or as "none".

pub mod passes;

use std::borrow::Cow;

use super::{first_reason, past_recovery_error, required, run, short_circuit, Input, UNWRITABLE};
use crate::base64;
use crate::hooks::{HttpPreHook, PostHook, PreHook, StreamChunkHook};
use crate::json::members::{decode_string, members};
use crate::json::validate::{member_at_fault, validate_nested_members, Member};
use crate::json::write::ObjectWriter;
use crate::json::{Invalid, Kind, MAX_DEPTH};
use crate::types::document::{check_object, check_value};
use crate::types::{
    is_empty_object, Context, HttpRequest, HttpResponse, InputError, LlmError, LlmRequest,
    LlmResponse, StreamChunk,
};
use crate::Plugin;

/// Each hook's whole output once the heap is untrusted (abi-spec 4.5): a
/// failure that read nothing, so the context is `{}` and nothing is echoed.
/// Named after the hooks, for the exports' macro.
#[allow(non_upper_case_globals)]
pub(crate) mod past_recovery {
    use super::past_recovery_error;

    pub const http_pre_hook: &str = concat!(
        r#"{"context":{},"request":null,"response":null,"has_response":false,"error":""#,
        past_recovery_error!(),
        r#""}"#
    );
    pub const http_post_hook: &str = concat!(
        r#"{"context":{},"error":""#,
        past_recovery_error!(),
        r#""}"#
    );
    pub const http_stream_chunk_hook: &str = concat!(
        r#"{"context":{},"chunk":null,"has_chunk":false,"skip":false,"error":""#,
        past_recovery_error!(),
        r#""}"#
    );
    pub const pre_hook: &str = concat!(
        r#"{"context":{},"request":null,"short_circuit":null,"has_short_circuit":false,"error":""#,
        past_recovery_error!(),
        r#""}"#
    );
    pub const post_hook: &str = concat!(
        r#"{"context":{},"response":null,"error":null,"has_error":false,"hook_error":""#,
        past_recovery_error!(),
        r#""}"#
    );
}

/// The fields of the input object every hook reads, as the host's text;
/// `null` reads as absent.
#[derive(Default)]
struct Envelope<'a> {
    context: Option<&'a [u8]>,
    request: Option<&'a [u8]>,
    response: Option<&'a [u8]>,
    error: Option<&'a [u8]>,
    chunk: Option<&'a [u8]>,
    has_error: Option<bool>,
    /// Whether every value passed the SDK's checks with the whole input;
    /// else each is checked when used, and only the broken one fails.
    checked: bool,
    /// Where the request's own members are in it, found by the same check:
    /// an edit made on its text starts from them.
    request_members: Vec<Member>,
}

/// The input's envelope and whether it is usable. An input that is not a
/// JSON object gives an empty envelope (the failure output then echoes
/// nothing); one that is an object but breaks the envelope's own rules (a
/// key read here given twice, a `has_error` that is not a boolean) gives
/// every value it holds once, so the failure output still echoes them.
fn envelope(input: Input<'_>, http: bool) -> (Envelope<'_>, Result<(), String>) {
    match parse_envelope(input, http) {
        Ok((env, None)) => (env, Ok(())),
        Ok((env, Some(reason))) => (env, Err(reason)),
        Err(reason) => (Envelope::default(), Err(reason)),
    }
}

/// Checks the whole input and finds its fields in one pass (its values may
/// nest [`MAX_DEPTH`] levels below it), with the first problem of the
/// envelope itself, if any. An input that is JSON but holds a value the SDK
/// cannot take (a lone surrogate escape, a number beyond `f64`, deep
/// nesting) is still read: that value fails when used, and the rest (the
/// context above all) is echoed.
fn parse_envelope(input: Input<'_>, http: bool) -> Result<(Envelope<'_>, Option<String>), String> {
    let bytes = required(input, "input")?;
    let scanned = match validate_nested_members(bytes, MAX_DEPTH + 1, false, true) {
        Ok((kind, members, nested)) => Ok((kind, members, nested, true)),
        Err(Invalid::Surrogate(_) | Invalid::NumberOutOfRange(_) | Invalid::TooDeep(_)) => {
            validate_nested_members(bytes, MAX_DEPTH + 1, true, false)
                .map(|(kind, m, _)| (kind, m, Vec::new(), false))
                .map_err(|invalid| (invalid, true))
        }
        Err(invalid) => Err((invalid, false)),
    };
    let (members, nested, checked) = match scanned {
        Ok((Kind::Object, members, nested, checked)) => (members, nested, checked),
        Ok((kind, ..)) => return Err(InputError::wrong_kind("input", kind).into()),
        Err((invalid, syntax_only)) => {
            return Err(invalid_input(bytes, invalid, syntax_only, http))
        }
    };
    let mut env = Envelope {
        checked,
        ..Envelope::default()
    };
    const KEYS: [&str; 6] = [
        "context",
        "request",
        "response",
        "error",
        "chunk",
        "has_error",
    ];
    let mut seen = [false; 6];
    let mut twice = [false; 6];
    let mut problem = None;
    for (key, value) in members {
        let key = key_text(&bytes[key]);
        let Some(i) = KEYS.iter().position(|k| k.as_bytes() == &*key) else {
            continue;
        };
        if std::mem::replace(&mut seen[i], true) {
            twice[i] = true;
            problem.get_or_insert_with(|| {
                format!("input is not valid JSON: duplicate field `{}`", KEYS[i])
            });
        }
        if i == 1 {
            // Its members, as offsets into its own text.
            let inside = |at: usize| value.start < at && at < value.end;
            let at =
                |range: &std::ops::Range<usize>| range.start - value.start..range.end - value.start;
            env.request_members = nested
                .iter()
                .filter(|(key, _)| inside(key.start))
                .map(|(key, value)| (at(key), at(value)))
                .collect();
        }
        let value = &bytes[value];
        let field = match i {
            0 => &mut env.context,
            1 => &mut env.request,
            2 => &mut env.response,
            3 => &mut env.error,
            4 => &mut env.chunk,
            _ => {
                env.has_error = match value {
                    b"true" => Some(true),
                    b"false" => Some(false),
                    b"null" => None,
                    _ => {
                        problem.get_or_insert_with(|| {
                            "input field `has_error` must be a boolean".into()
                        });
                        None
                    }
                };
                continue;
            }
        };
        *field = (value != b"null").then_some(value);
    }
    // Which of two values was meant is unknown: neither is echoed.
    for (i, field) in [
        &mut env.context,
        &mut env.request,
        &mut env.response,
        &mut env.error,
        &mut env.chunk,
    ]
    .into_iter()
    .enumerate()
    {
        if twice[i] {
            *field = None;
        }
    }
    if twice[5] {
        env.has_error = None;
    }
    Ok((env, problem))
}

/// A key token's text: decoded when written with escapes; a plain one
/// (every key a host writes) as it is.
fn key_text(token: &[u8]) -> Cow<'_, [u8]> {
    match token.contains(&b'\\') {
        true => Cow::Owned(decode_string(token).into_bytes()),
        false => Cow::Borrowed(&token[1..token.len() - 1]),
    }
}

/// Why the input is not JSON the SDK takes. A problem inside one of the
/// values a hook reads is reported as the seed ABI reports it in that
/// value's own buffer: named by it, at an offset counted from its start
/// (`request is not valid JSON: expected `:` at byte 5`); any other, by the
/// input.
fn invalid_input(bytes: &[u8], invalid: Invalid, syntax_only: bool, http: bool) -> String {
    let member = member_at_fault(bytes, MAX_DEPTH + 1, syntax_only, invalid);
    let what = member.and_then(|(key, start)| {
        let what = match &*key_text(&bytes[key]) {
            b"context" => "context",
            b"request" if http => "http request",
            b"request" => "request",
            b"response" if http => "http response",
            b"response" => "response",
            b"error" => "error",
            b"chunk" => "chunk",
            _ => return None,
        };
        Some((what, start))
    });
    match what {
        Some((what, start)) => InputError::invalid(what, invalid.within(start)),
        None => InputError::invalid("input", invalid),
    }
    .into()
}

fn raw(value: Option<&[u8]>) -> &[u8] {
    value.unwrap_or_default()
}

impl<'a> Envelope<'a> {
    /// An input value to echo, if it is an object the SDK would have
    /// accepted: anything else (a wrong type, a value a host's parser may
    /// refuse) becomes null rather than being sent back.
    fn echo(&self, value: Option<&'a [u8]>) -> Option<&'a [u8]> {
        value.filter(|text| match self.checked {
            true => text.first() == Some(&b'{'),
            false => check_object(text, "echo").is_ok(),
        })
    }

    /// [`Envelope::echo`] for a value of any kind.
    fn echo_any(&self, value: Option<&'a [u8]>) -> Option<&'a [u8]> {
        value.filter(|text| self.checked || check_value(text, "echo").is_ok())
    }

    /// The context to send back when the hook could not run: the input's,
    /// or `{}` when there was none (or it was unusable).
    fn echo_context(&self) -> &'a [u8] {
        self.echo(self.context).unwrap_or(b"{}")
    }

    /// The LLM request to hand the plugin.
    fn llm_request(&self) -> Result<LlmRequest, String> {
        let bytes = required(Ok(raw(self.request)), "request")?;
        match self.checked {
            true => LlmRequest::from_checked_members(bytes, self.request_members.clone()),
            // Checked when used, like the seed ABI's request.
            false => LlmRequest::deferred(bytes),
        }
        .map_err(String::from)
    }

    /// The stream chunk to hand the plugin.
    fn chunk(&self) -> Result<StreamChunk, String> {
        let bytes = required(Ok(raw(self.chunk)), "chunk")?;
        match self.checked {
            true => StreamChunk::from_checked(bytes),
            false => StreamChunk::from_bytes(bytes),
        }
        .map_err(String::from)
    }
}

/// The context: checked with the envelope already, unless that check had to
/// fall back to syntax alone.
fn context(env: &Envelope<'_>) -> Result<Context, String> {
    match env.context {
        Some(bytes) if env.checked => Context::from_checked(bytes),
        other => Context::from_bytes(raw(other)),
    }
    .map_err(String::from)
}

/// The HTTP request, `to_echo` for `http_pre_hook`, whose output carries
/// it back.
fn http_request(env: &Envelope<'_>, to_echo: bool) -> Result<HttpRequest, String> {
    let bytes = required(Ok(raw(env.request)), "request")?;
    HttpRequest::from_input(bytes, env.checked, to_echo).map_err(String::from)
}

/// The base64 text of an HTTP request's `body` (its last one), when it is a
/// string written without escapes.
fn base64_body(request: &[u8]) -> Option<&[u8]> {
    let (_, body) = members(request).filter(|(key, _)| key == "body").last()?;
    let text = body.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    (!text.contains(&b'\\')).then_some(text)
}

/// `{"context", "request", "response", "has_response", "error"}`
fn http_pre_output(
    context: &[u8],
    request: Option<Cow<'_, [u8]>>,
    response: Option<&[u8]>,
    error: &str,
) -> Vec<u8> {
    ObjectWriter::with_capacity(context.len() + response.map_or(0, <[u8]>::len))
        .raw("context", context)
        .value_or_null("request", request)
        .raw_or_null("response", response)
        .bool("has_response", response.is_some())
        .string("error", error)
        .finish()
}

/// `http_pre_hook` / `http_intercept`: runs [`Plugin::http_pre_hook`].
pub fn http_pre_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input, true);
    let outcome = parsed
        .and_then(|()| {
            let mut ctx = context(&env)?;
            let req = http_request(&env, true)?;
            let decision = run::<P, _>(|plugin| plugin.http_pre_hook(&mut ctx, req))?;
            Ok((ctx, decision))
        })
        .map_err(first_reason::<P>);
    match outcome {
        Ok((ctx, HttpPreHook::Continue(request))) => {
            // A body passed on unchanged is written from the host's base64
            // text, into the buffer the decoded body was in (reserved for
            // it): the input, the decoded body and the output are never
            // three buffers at once.
            let original = env.request.and_then(base64_body);
            let json = match original {
                Some(text) if base64::encodes_to(&request.body, text) => {
                    request.into_json_with_body(text)
                }
                _ => request.to_json(),
            };
            http_pre_output(
                &ctx.json_over(env.echo_context()),
                Some(Cow::Owned(json)),
                None,
                "",
            )
        }
        Ok((ctx, HttpPreHook::Respond(response))) => http_pre_output(
            &ctx.json_over(env.echo_context()),
            None,
            Some(&response.to_json()),
            "",
        ),
        Err(error) => http_pre_echo(&env, &error),
    }
}

/// The `http_pre_hook` output that sends back what came in, with `error`.
fn http_pre_echo(env: &Envelope<'_>, error: &str) -> Vec<u8> {
    let request = env.echo(env.request).map(Cow::Borrowed);
    http_pre_output(env.echo_context(), request, None, error)
}

/// `{"context", "error"}`
fn http_post_output(context: &[u8], error: &str) -> Vec<u8> {
    ObjectWriter::with_capacity(context.len())
        .raw("context", context)
        .string("error", error)
        .finish()
}

/// `http_post_hook`: runs [`Plugin::http_post_hook`].
pub fn http_post_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input, true);
    let outcome = parsed
        .and_then(|()| {
            let env = &env;
            let mut ctx = context(env)?;
            let req = http_request(env, false)?;
            let resp =
                HttpResponse::from_optional_bytes(raw(env.response)).map_err(String::from)?;
            run::<P, _>(|plugin| plugin.http_post_hook(&mut ctx, &req, &resp))?;
            Ok(ctx)
        })
        .map_err(first_reason::<P>);
    match outcome {
        Ok(ctx) => http_post_output(&ctx.json_over(env.echo_context()), ""),
        Err(error) => http_post_echo(&env, &error),
    }
}

/// The `http_post_hook` output that sends back the context, with `error`.
fn http_post_echo(env: &Envelope<'_>, error: &str) -> Vec<u8> {
    http_post_output(env.echo_context(), error)
}

/// `{"context", "chunk", "has_chunk", "skip", "error"}`
fn chunk_output(context: &[u8], chunk: Option<&[u8]>, skip: bool, error: &str) -> Vec<u8> {
    ObjectWriter::with_capacity(context.len() + chunk.map_or(0, <[u8]>::len))
        .raw("context", context)
        .raw_or_null("chunk", chunk)
        .bool("has_chunk", chunk.is_some())
        .bool("skip", skip)
        .string("error", error)
        .finish()
}

/// `http_stream_chunk_hook`: runs [`Plugin::http_stream_chunk_hook`].
pub fn http_stream_chunk_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input, true);
    let outcome = parsed
        .and_then(|()| {
            let env = &env;
            let mut ctx = context(env)?;
            let req = HttpRequest::from_optional_input(raw(env.request), env.checked)
                .map_err(String::from)?;
            let chunk = env.chunk()?;
            let decision =
                run::<P, _>(|plugin| plugin.http_stream_chunk_hook(&mut ctx, &req, chunk))?;
            Ok((ctx, decision))
        })
        .map_err(first_reason::<P>);
    match &outcome {
        Ok((ctx, StreamChunkHook::Continue(chunk))) => match chunk.to_json() {
            Some(json) => chunk_output(&ctx.json_over(env.echo_context()), Some(&json), false, ""),
            None => chunk_output(
                env.echo_context(),
                env.echo_any(env.chunk),
                false,
                UNWRITABLE,
            ),
        },
        Ok((ctx, StreamChunkHook::Skip)) => {
            chunk_output(&ctx.json_over(env.echo_context()), None, true, "")
        }
        // The chunk goes back whatever its type (a host may send one the
        // SDK cannot type, e.g. a base64 string): with the error logged,
        // the stream keeps flowing under every reading of the pair.
        Err(error) => chunk_echo(&env, error),
    }
}

/// The `http_stream_chunk_hook` output that sends back what came in, with
/// `error`.
fn chunk_echo(env: &Envelope<'_>, error: &str) -> Vec<u8> {
    chunk_output(env.echo_context(), env.echo_any(env.chunk), false, error)
}

/// `{"context", "request", "short_circuit", "has_short_circuit", "error"}`;
/// an owned request is moved into the output, not copied.
fn pre_output(
    context: &[u8],
    request: Option<Cow<'_, [u8]>>,
    short_circuit: Option<&[u8]>,
    error: &str,
) -> Vec<u8> {
    let size = context.len() + short_circuit.map_or(0, <[u8]>::len);
    ObjectWriter::with_capacity(size)
        .raw("context", context)
        .value_or_null("request", request)
        .raw_or_null("short_circuit", short_circuit)
        .bool("has_short_circuit", short_circuit.is_some())
        .string("error", error)
        .finish()
}

/// `pre_hook`: runs [`Plugin::pre_hook`].
pub fn pre_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input, false);
    let outcome = parsed
        .and_then(|()| {
            let env = &env;
            let mut ctx = context(env)?;
            let req = env.llm_request()?;
            let decision = run::<P, _>(|plugin| plugin.pre_hook(&mut ctx, req))?;
            if let PreHook::Continue(request) = &decision {
                request.ensure_valid().map_err(String::from)?;
            }
            Ok((ctx, decision))
        })
        .map_err(first_reason::<P>);
    let failed = |error: &str| pre_echo(&env, error);
    let (ctx, decision) = match outcome {
        Ok(ok) => ok,
        Err(error) => return failed(&error),
    };
    let written = match decision {
        PreHook::Continue(request) => request.into_json().map(|r| (Some(Cow::Owned(r)), None)),
        PreHook::Respond(response) => response
            .to_json()
            .map(|r| (None, Some(short_circuit(Some(&r), None)))),
        PreHook::Fail(failure) => failure
            .to_json()
            .map(|f| (None, Some(short_circuit(None, Some(&f))))),
    };
    match written {
        Some((request, short)) => pre_output(
            &ctx.json_over(env.echo_context()),
            request,
            short.as_deref(),
            "",
        ),
        None => failed(UNWRITABLE),
    }
}

/// The `pre_hook` output that sends back what came in, with `error`.
fn pre_echo(env: &Envelope<'_>, error: &str) -> Vec<u8> {
    let request = env.echo(env.request).map(Cow::Borrowed);
    pre_output(env.echo_context(), request, None, error)
}

/// `{"context", "response", "error", "has_error", "hook_error"}`; an owned
/// response is moved into the output, not copied.
fn post_output(
    context: &[u8],
    response: Option<Cow<'_, [u8]>>,
    error: Option<Cow<'_, [u8]>>,
    hook_error: &str,
) -> Vec<u8> {
    let has_error = error.is_some();
    ObjectWriter::with_capacity(context.len() + hook_error.len())
        .raw("context", context)
        .value_or_null("response", response)
        .value_or_null("error", error)
        .bool("has_error", has_error)
        .string("hook_error", hook_error)
        .finish()
}

/// `post_hook`: runs [`Plugin::post_hook`]. `has_error: false` means no
/// error whatever `error` holds; `null`, absent and `{}` errors are no error.
pub fn post_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input, false);
    let outcome = parsed
        .and_then(|()| {
            let env = &env;
            let mut ctx = context(env)?;
            let response = match env.checked {
                true => LlmResponse::from_optional_checked(raw(env.response)),
                false => LlmResponse::from_optional_bytes(raw(env.response)),
            }
            .map_err(String::from)?;
            let error = match env.has_error {
                Some(false) => None,
                _ => LlmError::from_optional_bytes(raw(env.error)).map_err(String::from)?,
            };
            let result = run::<P, _>(|plugin| plugin.post_hook(&mut ctx, response, error))?;
            if let Some(response) = &result.response {
                response.ensure_valid().map_err(String::from)?;
            }
            if let Some(error) = &result.error {
                error.ensure_valid().map_err(String::from)?;
            }
            Ok((ctx, result))
        })
        .map_err(first_reason::<P>);
    let failed = |hook_error: &str| post_echo(&env, hook_error);
    let (ctx, PostHook { response, error }) = match outcome {
        Ok(ok) => ok,
        Err(hook_error) => return failed(&hook_error),
    };
    let response = response.map(LlmResponse::into_json);
    let error = error.map(LlmError::into_json);
    if matches!(response, Some(None)) || matches!(error, Some(None)) {
        return failed(UNWRITABLE);
    }
    let (response, error) = (response.flatten(), error.flatten());
    post_output(
        &ctx.json_over(env.echo_context()),
        response.map(Cow::Owned),
        error.map(Cow::Owned),
        "",
    )
}

/// The `post_hook` output that sends back what came in (an error only if
/// `has_error` does not say there is none), with `hook_error`.
fn post_echo(env: &Envelope<'_>, hook_error: &str) -> Vec<u8> {
    let error = match env.has_error {
        Some(false) => None,
        _ => env.echo(env.error).filter(|e| !is_empty_object(e)),
    };
    post_output(
        env.echo_context(),
        env.echo(env.response).map(Cow::Borrowed),
        error.map(Cow::Borrowed),
        hook_error,
    )
}
