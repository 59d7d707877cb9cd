//! The baseline `make bench` measures the SDK against: a plugin written the
//! way Bifrost's public Rust example is written, without this SDK. Every
//! hook parses each input into a `serde_json::Value`, builds its output as
//! another `Value`, and serialises that. It behaves like hello-world (every
//! value passed through, the same context marks), so both do the same job.
//!
//! Initialised with `{"edit": true}`, its `pre_hook` makes the bench's typed
//! edit instead (sets the model to `gpt-4o`, appends a user message), and
//! its `post_hook` the texts edit (`SECRET` becomes `[hidden]` in the choice
//! content that holds it), as `bench-guest` does with the SDK.
//!
//! It is written to be fair to that approach: inputs are parsed in place
//! (not copied into a `String` first), values are moved into the output, not
//! cloned. Allocation is `malloc(size)` / `free(ptr, size)` over Rust's
//! global allocator, as in the public example; both ABIs' hosts fall back to
//! those names. Build with `--features single-input-abi` for the
//! single-input ABI; the seed ABI is the default.
//!
//! A baseline for measurement only: it does not check what the SDK checks
//! (a malformed input gets an error text and no echo, like the original).
//! wasm32 only: natively its `malloc`/`free` would stand in for libc's.
#![cfg(target_arch = "wasm32")]

use std::alloc::{alloc, dealloc, Layout};
use std::cell::Cell;

use serde_json::{json, Map, Value};

thread_local! {
    /// Whether `pre_hook` makes the typed edit (set by `init`).
    static EDIT: Cell<bool> = const { Cell::new(false) };
}

const NAME: &str = "public-example-approach";

/// `malloc(size) -> ptr`: `size` bytes from the global allocator.
#[no_mangle]
pub extern "C" fn malloc(size: u32) -> u32 {
    match Layout::from_size_align(size.max(1) as usize, 1) {
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { alloc(layout) as u32 },
        Err(_) => 0,
    }
}

/// `free(ptr, size)`: releases a buffer from `malloc` or a hook output.
#[no_mangle]
pub extern "C" fn free(ptr: u32, size: u32) {
    if ptr == 0 {
        return;
    }
    if let Ok(layout) = Layout::from_size_align(size.max(1) as usize, 1) {
        // SAFETY: the host passes back a buffer this module allocated with
        // this size (the benchmark host always does).
        unsafe { dealloc(ptr as *mut u8, layout) }
    }
}

/// The `len` bytes at `ptr`.
fn input<'a>(ptr: u32, len: u32) -> &'a [u8] {
    if ptr == 0 || len == 0 {
        return &[];
    }
    // SAFETY: the host wrote `len` bytes at `ptr`, in a buffer from `malloc`
    // that it frees only after the call.
    unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) }
}

/// Parses one input; an empty buffer is `null`.
fn parse(bytes: &[u8]) -> Result<Value, String> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// Serialises `output` into a buffer from `malloc` and packs `(ptr << 32) | len`.
fn output(output: &Value) -> u64 {
    let bytes = serde_json::to_vec(output).unwrap_or_default();
    let ptr = malloc(bytes.len() as u32);
    if ptr == 0 {
        return 0;
    }
    // SAFETY: `ptr` is a fresh buffer of `bytes.len()` bytes.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr as *mut u8, bytes.len()) };
    (ptr as u64) << 32 | bytes.len() as u64
}

/// `get_name() -> (ptr << 32) | len`.
#[no_mangle]
pub extern "C" fn get_name() -> u64 {
    (NAME.as_ptr() as u64) << 32 | NAME.len() as u64
}

/// `init(config_ptr, config_len) -> status`: `{"edit": true}` turns on the edit.
#[no_mangle]
pub extern "C" fn init(ptr: u32, len: u32) -> i32 {
    match parse(input(ptr, len)) {
        Ok(config) => {
            EDIT.set(config.get("edit") == Some(&Value::Bool(true)));
            0
        }
        Err(_) => 1,
    }
}

/// `cleanup() -> status`.
#[no_mangle]
pub extern "C" fn cleanup() -> i32 {
    0
}

/// Marks the context as hello-world does (the seed ABI drops it afterwards).
fn mark(context: &mut Value, key: &str, value: &str) {
    if !context.is_object() {
        *context = Value::Object(Map::new());
    }
    context[key] = Value::String(value.into());
}

/// The post-hook's response after the hook: unchanged, or the texts edit.
fn post_hook_response(mut response: Value) -> Value {
    if EDIT.get() {
        let choices = response.get_mut("choices").and_then(Value::as_array_mut);
        for choice in choices.into_iter().flatten() {
            if let Some(Value::String(text)) = choice.pointer_mut("/message/content") {
                if text.contains("SECRET") {
                    *text = text.replace("SECRET", "[hidden]");
                }
            }
        }
    }
    response
}

/// The pre-hook's request after the hook: unchanged, or the typed edit.
fn pre_hook_request(mut request: Value) -> Value {
    if EDIT.get() {
        request["model"] = "gpt-4o".into();
        if let Some(input) = request.get_mut("input").and_then(Value::as_array_mut) {
            input.push(json!({"role": "user", "content": "benchmark"}));
        }
    }
    request
}

#[cfg(not(feature = "single-input-abi"))]
mod seed {
    use super::*;

    /// The hook's inputs, parsed; the output `{"error": …}` when one fails.
    fn parse_all<const N: usize>(buffers: [(u32, u32); N]) -> Result<[Value; N], u64> {
        let mut values = [const { Value::Null }; N];
        for (value, (ptr, len)) in values.iter_mut().zip(buffers) {
            *value = parse(input(ptr, len)).map_err(|e| output(&json!({ "error": e })))?;
        }
        Ok(values)
    }

    #[no_mangle]
    pub extern "C" fn http_transport_intercept(cp: u32, cl: u32, rp: u32, rl: u32) -> u64 {
        let [mut context, _request] = match parse_all([(cp, cl), (rp, rl)]) {
            Ok(values) => values,
            Err(out) => return out,
        };
        mark(&mut context, "from-http", "123");
        output(&json!({"response": null, "error": ""}))
    }

    #[no_mangle]
    pub extern "C" fn pre_hook(cp: u32, cl: u32, rp: u32, rl: u32) -> u64 {
        let [mut context, request] = match parse_all([(cp, cl), (rp, rl)]) {
            Ok(values) => values,
            Err(out) => return out,
        };
        mark(&mut context, "from-pre-hook", "789");
        let request = pre_hook_request(request);
        output(&json!({"request": request, "short_circuit": null, "error": ""}))
    }

    #[no_mangle]
    pub extern "C" fn post_hook(cp: u32, cl: u32, rp: u32, rl: u32, ep: u32, el: u32) -> u64 {
        let [mut context, response, error] = match parse_all([(cp, cl), (rp, rl), (ep, el)]) {
            Ok(values) => values,
            Err(out) => return out,
        };
        mark(&mut context, "from-post-hook", "456");
        let response = post_hook_response(response);
        output(&json!({"response": response, "bifrost_error": error, "error": ""}))
    }
}

#[cfg(feature = "single-input-abi")]
mod single {
    use super::*;

    /// The hook's input object, parsed; the output `{"error": …}` when it fails.
    fn parse_input(ptr: u32, len: u32) -> Result<Value, u64> {
        parse(input(ptr, len)).map_err(|e| output(&json!({ "error": e })))
    }

    /// Takes field `key` out of the input object (`null` when absent).
    fn take(input: &mut Value, key: &str) -> Value {
        input.get_mut(key).map(Value::take).unwrap_or(Value::Null)
    }

    fn http_pre(ptr: u32, len: u32) -> u64 {
        let mut input = match parse_input(ptr, len) {
            Ok(input) => input,
            Err(out) => return out,
        };
        let (mut context, request) = (take(&mut input, "context"), take(&mut input, "request"));
        mark(&mut context, "from-http", "123");
        output(&json!({
            "context": context, "request": request, "response": null,
            "has_response": false, "error": ""
        }))
    }

    #[no_mangle]
    pub extern "C" fn http_pre_hook(ptr: u32, len: u32) -> u64 {
        http_pre(ptr, len)
    }

    #[no_mangle]
    pub extern "C" fn http_intercept(ptr: u32, len: u32) -> u64 {
        http_pre(ptr, len)
    }

    #[no_mangle]
    pub extern "C" fn http_post_hook(ptr: u32, len: u32) -> u64 {
        let mut input = match parse_input(ptr, len) {
            Ok(input) => input,
            Err(out) => return out,
        };
        // hello-world leaves this hook to the SDK's default: no mark.
        let context = take(&mut input, "context");
        output(&json!({"context": context, "error": ""}))
    }

    #[no_mangle]
    pub extern "C" fn http_stream_chunk_hook(ptr: u32, len: u32) -> u64 {
        let mut input = match parse_input(ptr, len) {
            Ok(input) => input,
            Err(out) => return out,
        };
        let (mut context, chunk) = (take(&mut input, "context"), take(&mut input, "chunk"));
        mark(&mut context, "from-stream-chunk", "wasm-plugin");
        output(&json!({
            "context": context, "chunk": chunk, "has_chunk": true, "skip": false, "error": ""
        }))
    }

    #[no_mangle]
    pub extern "C" fn pre_hook(ptr: u32, len: u32) -> u64 {
        let mut input = match parse_input(ptr, len) {
            Ok(input) => input,
            Err(out) => return out,
        };
        let (mut context, request) = (take(&mut input, "context"), take(&mut input, "request"));
        mark(&mut context, "from-pre-hook", "789");
        let request = pre_hook_request(request);
        output(&json!({
            "context": context, "request": request, "short_circuit": null,
            "has_short_circuit": false, "error": ""
        }))
    }

    #[no_mangle]
    pub extern "C" fn post_hook(ptr: u32, len: u32) -> u64 {
        let mut input = match parse_input(ptr, len) {
            Ok(input) => input,
            Err(out) => return out,
        };
        let mut context = take(&mut input, "context");
        let (response, error) = (take(&mut input, "response"), take(&mut input, "error"));
        mark(&mut context, "from-post-hook", "456");
        let response = post_hook_response(response);
        let has_error = !error.is_null();
        output(&json!({
            "context": context, "response": response, "error": error,
            "has_error": has_error, "hook_error": ""
        }))
    }
}
