//! The seed ABI (the TinyGo hello-world README's): multi-buffer hooks
//! `http_transport_intercept(ctx, req)`, `pre_hook(ctx, req)` and
//! `post_hook(ctx, resp, err)`, whose outputs carry no context.
//!
//! The functions here are the byte layer: input bytes in, output JSON out.
//! They never panic and always return one JSON object of the hook's output
//! shape; input problems and plugin errors go to its `error` field, with
//! `request`/`response` null meaning "unchanged".

use std::borrow::Cow;

use super::{first_reason, past_recovery_error, required, run, short_circuit, Input, UNWRITABLE};
use crate::hooks::{HttpPreHook, PostHook, PreHook};
use crate::json::write::ObjectWriter;
use crate::types::{Context, HttpRequest, HttpResponse, LlmError, LlmRequest, LlmResponse};
use crate::Plugin;

/// Each hook's whole output once the heap is untrusted (abi-spec 4.5).
pub(crate) const INTERCEPT_PAST_RECOVERY: &str = concat!(
    r#"{"response":null,"error":""#,
    past_recovery_error!(),
    r#""}"#
);
/// See [`INTERCEPT_PAST_RECOVERY`].
pub(crate) const PRE_HOOK_PAST_RECOVERY: &str = concat!(
    r#"{"request":null,"short_circuit":null,"error":""#,
    past_recovery_error!(),
    r#""}"#
);
/// See [`INTERCEPT_PAST_RECOVERY`].
pub(crate) const POST_HOOK_PAST_RECOVERY: &str = concat!(
    r#"{"response":null,"bifrost_error":null,"error":""#,
    past_recovery_error!(),
    r#""}"#
);

/// `{"response": null | HttpResponse, "error": ""}`
fn intercept_output(response: Option<&HttpResponse>, error: &str) -> Vec<u8> {
    let json = response.map(HttpResponse::to_json);
    ObjectWriter::with_capacity(json.as_ref().map_or(0, Vec::len))
        .raw_or_null("response", json.as_deref())
        .string("error", error)
        .finish()
}

/// `{"request": …, "short_circuit": null | {"response", "error"}, "error": ""}`.
/// A request passed on is moved into the output, not copied.
fn pre_hook_output(outcome: Result<PreHook, &str>) -> Vec<u8> {
    let written = match outcome {
        Ok(PreHook::Continue(request)) => request.into_json().map(|r| (Some(r), None)),
        Ok(PreHook::Respond(response)) => response
            .to_json()
            .map(|r| (None, Some(short_circuit(Some(&r), None)))),
        Ok(PreHook::Fail(failure)) => failure
            .to_json()
            .map(|f| (None, Some(short_circuit(None, Some(&f))))),
        Err(error) => return pre_hook_fields(None, None, error),
    };
    match written {
        Some((request, short_circuit)) => pre_hook_fields(request, short_circuit, ""),
        None => pre_hook_fields(None, None, UNWRITABLE),
    }
}

fn pre_hook_fields(request: Option<Vec<u8>>, short: Option<Vec<u8>>, error: &str) -> Vec<u8> {
    ObjectWriter::with_capacity(short.as_ref().map_or(0, Vec::len) + error.len())
        .value_or_null("request", request.map(Cow::Owned))
        .raw_or_null("short_circuit", short.as_deref())
        .string("error", error)
        .finish()
}

/// `{"response": …, "bifrost_error": …, "error": ""}`; a response passed on
/// is moved into the output, not copied.
fn post_hook_output(outcome: Result<PostHook, &str>) -> Vec<u8> {
    let (response, failure, error) = match outcome {
        Ok(PostHook { response, error }) => (
            response.map(LlmResponse::into_json),
            error.map(LlmError::into_json),
            "",
        ),
        Err(error) => (None, None, error),
    };
    if matches!(response, Some(None)) || matches!(failure, Some(None)) {
        return post_hook_output(Err(UNWRITABLE));
    }
    let (response, failure) = (response.flatten(), failure.flatten());
    ObjectWriter::with_capacity(error.len())
        .value_or_null("response", response.map(Cow::Owned))
        .value_or_null("bifrost_error", failure.map(Cow::Owned))
        .string("error", error)
        .finish()
}

/// `http_transport_intercept`: runs [`Plugin::http_pre_hook`].
pub fn http_transport_intercept<P: Plugin>(ctx: Input<'_>, req: Input<'_>) -> Vec<u8> {
    let outcome = (|| {
        let mut ctx = Context::from_bytes(ctx?).map_err(String::from)?;
        let req = HttpRequest::from_bytes(required(req, "request")?).map_err(String::from)?;
        run::<P, _>(|plugin| plugin.http_pre_hook(&mut ctx, req))
    })();
    match outcome {
        Ok(HttpPreHook::Respond(response)) => intercept_output(Some(&response), ""),
        Ok(HttpPreHook::Continue(_)) => intercept_output(None, ""),
        Err(error) => intercept_output(None, &first_reason::<P>(error)),
    }
}

/// The hooks a plugin does not define (abi-spec 3.8): checked, not read.
pub mod passes {
    use super::intercept_output;
    use crate::abi::{first_reason, required, run, Input};
    use crate::types::document::check_object;
    use crate::types::Context;
    use crate::Plugin;

    /// `http_transport_intercept` of a plugin without `http_pre_hook`: the
    /// context and the request are checked as JSON objects, the body is not
    /// decoded; a failed `init` is still reported first.
    pub fn http_transport_intercept<P: Plugin>(ctx: Input<'_>, req: Input<'_>) -> Vec<u8> {
        let outcome = (|| {
            Context::from_bytes(ctx?).map_err(String::from)?;
            check_object(required(req, "request")?, "request")?;
            run::<P, _>(|_| Ok(()))
        })();
        let error = outcome.map_err(first_reason::<P>).err();
        intercept_output(None, &error.unwrap_or_default())
    }
}

/// `pre_hook`: runs [`Plugin::pre_hook`].
pub fn pre_hook<P: Plugin>(ctx: Input<'_>, req: Input<'_>) -> Vec<u8> {
    let outcome = (|| {
        let mut ctx = Context::from_bytes(ctx?).map_err(String::from)?;
        let req = LlmRequest::deferred(required(req, "request")?).map_err(String::from)?;
        let decision = run::<P, _>(|plugin| plugin.pre_hook(&mut ctx, req))?;
        if let PreHook::Continue(request) = &decision {
            request.ensure_valid().map_err(String::from)?;
        }
        Ok::<_, String>(decision)
    })();
    match outcome {
        Ok(decision) => pre_hook_output(Ok(decision)),
        Err(error) => pre_hook_output(Err(&first_reason::<P>(error))),
    }
}

/// `post_hook`: runs [`Plugin::post_hook`]. An empty, `null` or absent
/// response or error buffer means "none"; so does an `{}` error.
pub fn post_hook<P: Plugin>(ctx: Input<'_>, resp: Input<'_>, err: Input<'_>) -> Vec<u8> {
    let outcome = (|| {
        let mut ctx = Context::from_bytes(ctx?).map_err(String::from)?;
        let response = LlmResponse::from_optional_bytes(resp?).map_err(String::from)?;
        let error = LlmError::from_optional_bytes(err?).map_err(String::from)?;
        let result = run::<P, _>(|plugin| plugin.post_hook(&mut ctx, response, error))?;
        if let Some(response) = &result.response {
            response.ensure_valid().map_err(String::from)?;
        }
        if let Some(error) = &result.error {
            error.ensure_valid().map_err(String::from)?;
        }
        Ok::<_, String>(result)
    })();
    match outcome {
        Ok(result) => post_hook_output(Ok(result)),
        Err(error) => post_hook_output(Err(&first_reason::<P>(error))),
    }
}
