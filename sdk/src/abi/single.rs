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

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{required, run, Input};
use crate::hooks::{HttpPreHook, PostHook, PreHook, StreamChunkHook};
use crate::types::document::{check_object, check_value, expect_object};
use crate::types::{
    Context, HttpRequest, HttpResponse, LlmError, LlmRequest, LlmResponse, StreamChunk,
};
use crate::Plugin;

/// The input object of every hook; each hook reads the fields it needs.
/// Values stay raw (borrowed) until a hook parses them.
#[derive(Deserialize, Default)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    context: Option<&'a RawValue>,
    #[serde(borrow, default)]
    request: Option<&'a RawValue>,
    #[serde(borrow, default)]
    response: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    chunk: Option<&'a RawValue>,
    #[serde(default)]
    has_error: Option<bool>,
}

/// The input's envelope, or an empty one and the reason the input is
/// unusable (the failure output then echoes nothing).
fn envelope(input: Input<'_>) -> (Envelope<'_>, Result<(), String>) {
    match parse_envelope(input) {
        Ok(env) => (env, Ok(())),
        Err(reason) => (Envelope::default(), Err(reason)),
    }
}

fn parse_envelope(input: Input<'_>) -> Result<Envelope<'_>, String> {
    let bytes = required(input, "input")?;
    let text = std::str::from_utf8(bytes).map_err(|e| format!("input is not valid UTF-8: {e}"))?;
    expect_object(text, "input").map_err(|e| e.to_string())?;
    serde_json::from_str(text).map_err(|e| format!("input is not valid JSON: {e}"))
}

fn raw(value: Option<&RawValue>) -> &[u8] {
    value.map_or(&[], |v| v.get().as_bytes())
}

/// A field written either as the host sent it or from the plugin's value.
#[derive(Serialize)]
#[serde(untagged)]
enum Field<'a, T: Serialize> {
    Echo(&'a RawValue),
    Value(T),
}

/// The context to send back when the hook could not run: the input's, or
/// `{}` when there was none (or it was unreadable).
fn echo_context<'a>(env: &Envelope<'a>) -> Field<'a, Context> {
    match echo(env.context) {
        Some(ctx) => ctx,
        None => Field::Value(Context::new()),
    }
}

/// Echoes an input value only if it is an object the SDK would have
/// accepted: anything else (a wrong type, nesting too deep for a host's
/// parser) becomes null rather than being sent back.
fn echo<'a, T: Serialize>(value: Option<&'a RawValue>) -> Option<Field<'a, T>> {
    value
        .filter(|raw| check_object(raw.get().as_bytes(), "echo").is_ok())
        .map(Field::Echo)
}

fn write<T: Serialize>(output: &T) -> Vec<u8> {
    // Cannot fail: every field is a JSON object, string or bool.
    serde_json::to_vec(output).unwrap_or_else(|_| b"{}".to_vec())
}

fn context(env: &Envelope<'_>) -> Result<Context, String> {
    Context::from_bytes(raw(env.context)).map_err(|e| e.to_string())
}

fn http_request(env: &Envelope<'_>) -> Result<HttpRequest, String> {
    HttpRequest::from_bytes(required(Ok(raw(env.request)), "request")?).map_err(|e| e.to_string())
}

/// `{"context", "request", "response", "has_response", "error"}`
#[derive(Serialize)]
struct HttpPreOutput<'a, C: Serialize> {
    context: C,
    request: Option<Field<'a, &'a HttpRequest>>,
    response: Option<&'a HttpResponse>,
    has_response: bool,
    error: &'a str,
}

/// `http_pre_hook` / `http_intercept`: runs [`Plugin::http_pre_hook`].
pub fn http_pre_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input);
    let outcome = parsed.and_then(|()| {
        let mut ctx = context(&env)?;
        let req = http_request(&env)?;
        let decision = run::<P, _>(|plugin| plugin.http_pre_hook(&mut ctx, req))?;
        Ok((ctx, decision))
    });
    match outcome {
        Ok((ctx, HttpPreHook::Continue(request))) => write(&HttpPreOutput {
            context: &ctx,
            request: Some(Field::Value(&request)),
            response: None,
            has_response: false,
            error: "",
        }),
        Ok((ctx, HttpPreHook::Respond(response))) => write(&HttpPreOutput {
            context: &ctx,
            request: None,
            response: Some(&response),
            has_response: true,
            error: "",
        }),
        Err(error) => http_pre_failed(&env, &error),
    }
}

fn http_pre_failed(env: &Envelope<'_>, error: &str) -> Vec<u8> {
    write(&HttpPreOutput {
        context: echo_context(env),
        request: echo(env.request),
        response: None,
        has_response: false,
        error,
    })
}

/// `{"context", "error"}`
#[derive(Serialize)]
struct HttpPostOutput<'a, C: Serialize> {
    context: C,
    error: &'a str,
}

/// `http_post_hook`: runs [`Plugin::http_post_hook`].
pub fn http_post_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input);
    let outcome = parsed.and_then(|()| {
        let env = &env;
        let mut ctx = context(env)?;
        let req = http_request(env)?;
        let resp =
            HttpResponse::from_optional_bytes(raw(env.response)).map_err(|e| e.to_string())?;
        run::<P, _>(|plugin| plugin.http_post_hook(&mut ctx, &req, &resp))?;
        Ok(ctx)
    });
    match outcome {
        Ok(ctx) => write(&HttpPostOutput {
            context: &ctx,
            error: "",
        }),
        Err(error) => {
            let env = &env;
            write(&HttpPostOutput {
                context: echo_context(env),
                error: &error,
            })
        }
    }
}

/// `{"context", "chunk", "has_chunk", "skip", "error"}`
#[derive(Serialize)]
struct ChunkOutput<'a, C: Serialize> {
    context: C,
    chunk: Option<Field<'a, &'a StreamChunk>>,
    has_chunk: bool,
    skip: bool,
    error: &'a str,
}

/// `http_stream_chunk_hook`: runs [`Plugin::http_stream_chunk_hook`].
pub fn http_stream_chunk_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input);
    let outcome = parsed.and_then(|()| {
        let env = &env;
        let mut ctx = context(env)?;
        let req = HttpRequest::from_optional_bytes(raw(env.request)).map_err(|e| e.to_string())?;
        let chunk = StreamChunk::from_bytes(required(Ok(raw(env.chunk)), "chunk")?)
            .map_err(|e| e.to_string())?;
        let decision = run::<P, _>(|plugin| plugin.http_stream_chunk_hook(&mut ctx, &req, chunk))?;
        Ok((ctx, decision))
    });
    match &outcome {
        Ok((ctx, StreamChunkHook::Continue(chunk))) => write(&ChunkOutput {
            context: ctx,
            chunk: Some(Field::Value(chunk)),
            has_chunk: true,
            skip: false,
            error: "",
        }),
        Ok((ctx, StreamChunkHook::Skip)) => write(&ChunkOutput {
            context: ctx,
            chunk: None,
            has_chunk: false,
            skip: true,
            error: "",
        }),
        Err(error) => {
            // The chunk goes back whatever its type (a host may send one the
            // SDK cannot type, e.g. a base64 string): with the error logged,
            // the stream keeps flowing under every reading of the pair.
            let chunk = env
                .chunk
                .filter(|raw| check_value(raw.get().as_bytes(), "echo").is_ok())
                .map(Field::Echo);
            write(&ChunkOutput {
                context: echo_context(&env),
                has_chunk: chunk.is_some(),
                chunk,
                skip: false,
                error,
            })
        }
    }
}

/// `{"context", "request", "short_circuit", "has_short_circuit", "error"}`
#[derive(Serialize)]
struct PreOutput<'a, C: Serialize> {
    context: C,
    request: Option<Field<'a, &'a LlmRequest>>,
    short_circuit: Option<ShortCircuit<'a>>,
    has_short_circuit: bool,
    error: &'a str,
}

#[derive(Serialize)]
struct ShortCircuit<'a> {
    response: Option<&'a LlmResponse>,
    error: Option<&'a LlmError>,
}

/// `pre_hook`: runs [`Plugin::pre_hook`].
pub fn pre_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input);
    let outcome = parsed.and_then(|()| {
        let env = &env;
        let mut ctx = context(env)?;
        let req = LlmRequest::deferred(required(Ok(raw(env.request)), "request")?)
            .map_err(|e| e.to_string())?;
        let decision = run::<P, _>(|plugin| plugin.pre_hook(&mut ctx, req))?;
        if let PreHook::Continue(request) = &decision {
            request.ensure_valid().map_err(|e| e.to_string())?;
        }
        Ok((ctx, decision))
    });
    let (ctx, decision) = match &outcome {
        Ok(ok) => ok,
        Err(error) => {
            let env = &env;
            return write(&PreOutput {
                context: echo_context(env),
                request: echo(env.request),
                short_circuit: None,
                has_short_circuit: false,
                error,
            });
        }
    };
    let (request, short_circuit) = match decision {
        PreHook::Continue(request) => (Some(Field::Value(request)), None),
        PreHook::Respond(response) => (
            None,
            Some(ShortCircuit {
                response: Some(response),
                error: None,
            }),
        ),
        PreHook::Fail(failure) => (
            None,
            Some(ShortCircuit {
                response: None,
                error: Some(failure),
            }),
        ),
    };
    write(&PreOutput {
        context: ctx,
        request,
        has_short_circuit: short_circuit.is_some(),
        short_circuit,
        error: "",
    })
}

/// `{"context", "response", "error", "has_error", "hook_error"}`
#[derive(Serialize)]
struct PostOutput<'a, C: Serialize> {
    context: C,
    response: Option<Field<'a, &'a LlmResponse>>,
    error: Option<Field<'a, &'a LlmError>>,
    has_error: bool,
    hook_error: &'a str,
}

/// `post_hook`: runs [`Plugin::post_hook`]. `has_error: false` means no
/// error whatever `error` holds; `null`, absent and `{}` errors are no error.
pub fn post_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input);
    let outcome = parsed.and_then(|()| {
        let env = &env;
        let mut ctx = context(env)?;
        let response =
            LlmResponse::from_optional_bytes(raw(env.response)).map_err(|e| e.to_string())?;
        let error = match env.has_error {
            Some(false) => None,
            _ => LlmError::from_optional_bytes(raw(env.error)).map_err(|e| e.to_string())?,
        };
        let result = run::<P, _>(|plugin| plugin.post_hook(&mut ctx, response, error))?;
        if let Some(response) = &result.response {
            response.ensure_valid().map_err(|e| e.to_string())?;
        }
        Ok((ctx, result))
    });
    match &outcome {
        Ok((ctx, PostHook { response, error })) => write(&PostOutput {
            context: ctx,
            response: response.as_ref().map(Field::Value),
            error: error.as_ref().map(Field::Value),
            has_error: error.is_some(),
            hook_error: "",
        }),
        Err(hook_error) => {
            let env = &env;
            let error = match env.has_error {
                Some(false) => None,
                _ => env.error.filter(|e| {
                    e.get().trim() != "{}" && check_object(e.get().as_bytes(), "echo").is_ok()
                }),
            };
            write(&PostOutput {
                context: echo_context(env),
                response: echo(env.response),
                has_error: error.is_some(),
                error: echo(error),
                hook_error,
            })
        }
    }
}

/// The single-input ABI's exports over pointers; `#[bifrost_plugin]` calls
/// these when the `single-input-abi` feature is on.
#[cfg(target_arch = "wasm32")]
pub mod exports {
    use crate::abi::exports::{finish, with_input};
    use crate::Plugin;

    macro_rules! single_input_exports {
        ($($name:ident),*) => {$(
            #[doc = concat!("`", stringify!($name), "(input_ptr, input_len) -> i64`.")]
            pub fn $name<P: Plugin>(ptr: u32, len: u32) -> u64 {
                finish(with_input(ptr, len, "input", super::$name::<P>))
            }
        )*};
    }

    single_input_exports!(
        http_pre_hook,
        http_post_hook,
        http_stream_chunk_hook,
        pre_hook,
        post_hook
    );
}
