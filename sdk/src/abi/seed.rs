//! The seed ABI (the TinyGo hello-world README's): multi-buffer hooks
//! `http_transport_intercept(ctx, req)`, `pre_hook(ctx, req)` and
//! `post_hook(ctx, resp, err)`, whose outputs carry no context.
//!
//! The functions here are the byte layer: input bytes in, output JSON out.
//! They never panic and always return one JSON object of the hook's output
//! shape; input problems and plugin errors go to its `error` field, with
//! `request`/`response` null meaning "unchanged".

use serde::Serialize;

use super::{required, run, to_json, Input};
use crate::hooks::{HttpPreHook, PostHook, PreHook};
use crate::types::{Context, HttpRequest, HttpResponse, LlmError, LlmRequest, LlmResponse};
use crate::Plugin;

/// `{"response": null | HttpResponse, "error": ""}`
#[derive(Serialize)]
struct InterceptOutput<'a> {
    response: Option<&'a HttpResponse>,
    error: &'a str,
}

/// `{"request": …, "short_circuit": null | {"response", "error"}, "error": ""}`
#[derive(Serialize)]
struct PreHookOutput<'a> {
    request: Option<&'a LlmRequest>,
    short_circuit: Option<ShortCircuit<'a>>,
    error: &'a str,
}

#[derive(Serialize)]
struct ShortCircuit<'a> {
    response: Option<&'a LlmResponse>,
    error: Option<&'a LlmError>,
}

/// `{"response": …, "bifrost_error": …, "error": ""}`
#[derive(Serialize)]
struct PostHookOutput<'a> {
    response: Option<&'a LlmResponse>,
    bifrost_error: Option<&'a LlmError>,
    error: &'a str,
}

/// `http_transport_intercept`: runs [`Plugin::http_pre_hook`].
pub fn http_transport_intercept<P: Plugin>(ctx: Input<'_>, req: Input<'_>) -> Vec<u8> {
    let outcome = (|| {
        let mut ctx = Context::from_bytes(ctx?).map_err(|e| e.to_string())?;
        let req = HttpRequest::from_bytes(required(req, "request")?).map_err(|e| e.to_string())?;
        run::<P, _>(|plugin| plugin.http_pre_hook(&mut ctx, req))
    })();
    let error_output = |error: String| {
        let output = InterceptOutput {
            response: None,
            error: &error,
        };
        serde_json::to_vec(&output).unwrap_or_default()
    };
    match outcome {
        Ok(HttpPreHook::Respond(response)) => {
            let output = InterceptOutput {
                response: Some(&response),
                error: "",
            };
            to_json(&output, error_output)
        }
        Ok(HttpPreHook::Continue(_)) => error_output(String::new()),
        Err(error) => error_output(error),
    }
}

/// `pre_hook`: runs [`Plugin::pre_hook`].
pub fn pre_hook<P: Plugin>(ctx: Input<'_>, req: Input<'_>) -> Vec<u8> {
    let outcome = (|| {
        let mut ctx = Context::from_bytes(ctx?).map_err(|e| e.to_string())?;
        let req = LlmRequest::deferred(required(req, "request")?).map_err(|e| e.to_string())?;
        let decision = run::<P, _>(|plugin| plugin.pre_hook(&mut ctx, req))?;
        if let PreHook::Continue(request) = &decision {
            request.ensure_valid().map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(decision)
    })();
    let error_output = |error: String| {
        let output = PreHookOutput {
            request: None,
            short_circuit: None,
            error: &error,
        };
        serde_json::to_vec(&output).unwrap_or_default()
    };
    let output = match &outcome {
        Ok(PreHook::Continue(request)) => PreHookOutput {
            request: Some(request),
            short_circuit: None,
            error: "",
        },
        Ok(PreHook::Respond(response)) => PreHookOutput {
            request: None,
            short_circuit: Some(ShortCircuit {
                response: Some(response),
                error: None,
            }),
            error: "",
        },
        Ok(PreHook::Fail(failure)) => PreHookOutput {
            request: None,
            short_circuit: Some(ShortCircuit {
                response: None,
                error: Some(failure),
            }),
            error: "",
        },
        Err(error) => return error_output(error.clone()),
    };
    to_json(&output, error_output)
}

/// `post_hook`: runs [`Plugin::post_hook`]. An empty, `null` or absent
/// response or error buffer means "none"; so does an `{}` error.
pub fn post_hook<P: Plugin>(ctx: Input<'_>, resp: Input<'_>, err: Input<'_>) -> Vec<u8> {
    let outcome = (|| {
        let mut ctx = Context::from_bytes(ctx?).map_err(|e| e.to_string())?;
        let response = LlmResponse::from_optional_bytes(resp?).map_err(|e| e.to_string())?;
        let error = LlmError::from_optional_bytes(err?).map_err(|e| e.to_string())?;
        let result = run::<P, _>(|plugin| plugin.post_hook(&mut ctx, response, error))?;
        if let Some(response) = &result.response {
            response.ensure_valid().map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(result)
    })();
    let error_output = |error: String| {
        let output = PostHookOutput {
            response: None,
            bifrost_error: None,
            error: &error,
        };
        serde_json::to_vec(&output).unwrap_or_default()
    };
    match outcome {
        Ok(PostHook { response, error }) => {
            let output = PostHookOutput {
                response: response.as_ref(),
                bifrost_error: error.as_ref(),
                error: "",
            };
            to_json(&output, error_output)
        }
        Err(error) => error_output(error),
    }
}

/// The seed ABI's exports over pointers; `#[bifrost_plugin]` calls these.
#[cfg(target_arch = "wasm32")]
pub mod exports {
    use crate::abi::exports::{finish, with_input};
    use crate::Plugin;

    /// `http_transport_intercept(ctx_ptr, ctx_len, req_ptr, req_len) -> i64`.
    pub fn http_transport_intercept<P: Plugin>(cp: u32, cl: u32, rp: u32, rl: u32) -> u64 {
        let output = with_input(cp, cl, "context", |ctx| {
            with_input(rp, rl, "request", |req| {
                super::http_transport_intercept::<P>(ctx, req)
            })
        });
        finish(output)
    }

    /// `pre_hook(ctx_ptr, ctx_len, req_ptr, req_len) -> i64`.
    pub fn pre_hook<P: Plugin>(cp: u32, cl: u32, rp: u32, rl: u32) -> u64 {
        let output = with_input(cp, cl, "context", |ctx| {
            with_input(rp, rl, "request", |req| super::pre_hook::<P>(ctx, req))
        });
        finish(output)
    }

    /// `post_hook(ctx_ptr, ctx_len, resp_ptr, resp_len, err_ptr, err_len) -> i64`.
    pub fn post_hook<P: Plugin>(cp: u32, cl: u32, rp: u32, rl: u32, ep: u32, el: u32) -> u64 {
        let output = with_input(cp, cl, "context", |ctx| {
            with_input(rp, rl, "response", |resp| {
                with_input(ep, el, "error", |err| super::post_hook::<P>(ctx, resp, err))
            })
        });
        finish(output)
    }
}
