//! The hooks a plugin does not define (abi-spec 3.8). The trait's default
//! would parse the input into typed values (an HTTP body decoded from
//! base64, headers into a map) only to write the same bytes back; here the
//! input gets the envelope's one check and goes back as it came, unread.
//! What a host sees differs from the default's in one way only: the values
//! are not typed, so a body that is not base64, say, is passed on without
//! an error (no code of the plugin reads it). A failed `init` is still
//! reported first, and nothing the host sent is dropped in silence.

use super::{
    chunk_echo, envelope, http_post_echo, http_pre_echo, post_echo, pre_echo, raw, Envelope,
};
use crate::abi::{first_reason, required, run, Input};
use crate::types::document::{check_object, check_value};
use crate::Plugin;

/// `http_pre_hook` / `http_intercept` of a plugin without `http_pre_hook`.
pub fn http_pre_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input, true);
    let checked = parsed.and_then(|()| request_checked(&env, "http request"));
    http_pre_echo(&env, &reason::<P>(checked))
}

/// `http_post_hook` of a plugin without `http_post_hook`.
pub fn http_post_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input, true);
    let checked = parsed.and_then(|()| request_checked(&env, "http request"));
    http_post_echo(&env, &reason::<P>(checked))
}

/// `http_stream_chunk_hook` of a plugin without `http_stream_chunk_hook`.
pub fn http_stream_chunk_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input, true);
    let checked = parsed.and_then(|()| {
        let chunk = required(Ok(raw(env.chunk)), "chunk")?;
        if !env.checked {
            check_value(chunk, "chunk")?;
        }
        checked_apart(&env, &[])
    });
    chunk_echo(&env, &reason::<P>(checked))
}

/// `pre_hook` of a plugin without `pre_hook`.
pub fn pre_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input, false);
    let checked = parsed.and_then(|()| request_checked(&env, "request"));
    pre_echo(&env, &reason::<P>(checked))
}

/// `post_hook` of a plugin without `post_hook`.
pub fn post_hook<P: Plugin>(input: Input<'_>) -> Vec<u8> {
    let (env, parsed) = envelope(input, false);
    let error = match env.has_error {
        Some(false) => None,
        _ => env.error,
    };
    let checked =
        parsed.and_then(|()| checked_apart(&env, &[(env.response, "response"), (error, "error")]));
    post_echo(&env, &reason::<P>(checked))
}

/// The request is there, and checked as `what` (with the context) where
/// the envelope could check for syntax only.
fn request_checked(env: &Envelope<'_>, what: &'static str) -> Result<(), String> {
    let request = required(Ok(raw(env.request)), "request")?;
    checked_apart(env, &[(Some(request), what)])
}

/// An input the envelope could check for syntax only (a value the SDK
/// cannot take somewhere in it) has each value the output echoes checked
/// on its own, the context too, as the hook would have: a broken one is
/// the error (and goes back as null), never dropped without a word.
fn checked_apart(
    env: &Envelope<'_>,
    values: &[(Option<&[u8]>, &'static str)],
) -> Result<(), String> {
    if env.checked {
        return Ok(());
    }
    let context = [(env.context, "context")];
    for (value, what) in context.iter().chain(values) {
        if let Some(text) = value {
            check_object(text, what)?;
        }
    }
    Ok(())
}

/// The error the output carries: the plugin's unavailability (a failed
/// `init`) first, then the input's problem, else none.
fn reason<P: Plugin>(checked: Result<(), String>) -> String {
    checked
        .and_then(|()| run::<P, _>(|_| Ok(())))
        .map_err(first_reason::<P>)
        .err()
        .unwrap_or_default()
}
