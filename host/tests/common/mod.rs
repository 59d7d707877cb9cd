//! Shared by the conformance tests: the built plugin, fixtures, and checks of
//! output shapes.
#![allow(dead_code)] // each test file uses a different subset

use std::path::PathBuf;

use bifrost_plugin_host::{ExportType, FreeMode, Guest, Hook};
use serde_json::Value;

/// The hello-world plugin built by `make build` (override with
/// `HELLO_WORLD_WASM`).
pub fn wasm_path() -> PathBuf {
    match std::env::var_os("HELLO_WORLD_WASM") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build/hello-world.wasm"),
    }
}

/// The hello-world plugin built for the single-input ABI (override with
/// `HELLO_WORLD_SINGLE_INPUT_WASM`).
pub fn single_input_wasm_path() -> PathBuf {
    match std::env::var_os("HELLO_WORLD_SINGLE_INPUT_WASM") {
        Some(path) => PathBuf::from(path),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build/hello-world-single-input.wasm")
        }
    }
}

/// A fresh instance of the hello-world plugin (seed ABI).
pub fn guest(free_mode: FreeMode) -> Guest {
    load(wasm_path(), free_mode)
}

/// A fresh instance of the hello-world plugin built for the single-input ABI.
pub fn single_input_guest(free_mode: FreeMode) -> Guest {
    load(single_input_wasm_path(), free_mode)
}

fn load(path: PathBuf, free_mode: FreeMode) -> Guest {
    Guest::load(&wasm(&path), free_mode).expect("the plugin loads")
}

/// The bytes of a built plugin, or a panic naming the make target that
/// builds it (`make build` for `build/`, `make build-test-plugins` for
/// `build/test/`; `make test` runs both).
pub fn wasm(path: &std::path::Path) -> Vec<u8> {
    let target = match path.parent().is_some_and(|dir| dir.ends_with("test")) {
        true => "make build-test-plugins",
        false => "make build",
    };
    std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): run `{target}` first (`make test` does)",
            path.display()
        )
    })
}

/// Where the plugins that exist only for tests are, `build/test/`.
pub fn test_plugin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build/test")
}

/// A plugin that exists only for tests, `build/test/<file>`.
pub fn test_plugin_wasm(file: &str) -> Vec<u8> {
    wasm(&test_plugin_dir().join(file))
}

/// A fixture from `tests/fixtures`, without its trailing newline.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    text.trim_end().as_bytes().to_vec()
}

/// Parses an output and checks it is one JSON object with exactly `keys`.
pub fn output_object(output: &[u8], keys: &[&str]) -> serde_json::Map<String, Value> {
    let text = std::str::from_utf8(output).expect("output is UTF-8");
    let value: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("output is not JSON ({e}): {text}"));
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("output is not an object: {text}"));
    let mut found: Vec<&str> = object.keys().map(String::as_str).collect();
    found.sort_unstable();
    let mut expected = keys.to_vec();
    expected.sort_unstable();
    assert_eq!(found, expected, "output keys of {text}");
    object.clone()
}

/// The `error` text of an output that failed, checking the other fields are
/// null ("unchanged").
pub fn failed(output: &[u8], keys: &[&str]) -> String {
    let object = output_object(output, keys);
    for key in keys.iter().filter(|k| **k != "error") {
        assert_eq!(
            object[*key],
            Value::Null,
            "`{key}` must be null when the hook fails"
        );
    }
    let error = object["error"]
        .as_str()
        .expect("error is a string")
        .to_string();
    assert!(!error.is_empty(), "a failed hook must say why");
    error
}

pub const INTERCEPT_KEYS: &[&str] = &["response", "error"];
pub const PRE_HOOK_KEYS: &[&str] = &["request", "short_circuit", "error"];
pub const POST_HOOK_KEYS: &[&str] = &["response", "bifrost_error", "error"];

pub const HTTP_PRE_KEYS: &[&str] = &["context", "request", "response", "has_response", "error"];
pub const HTTP_POST_KEYS: &[&str] = &["context", "error"];
pub const CHUNK_KEYS: &[&str] = &["context", "chunk", "has_chunk", "skip", "error"];
pub const SINGLE_PRE_KEYS: &[&str] = &[
    "context",
    "request",
    "short_circuit",
    "has_short_circuit",
    "error",
];
pub const SINGLE_POST_KEYS: &[&str] = &["context", "response", "error", "has_error", "hook_error"];

/// `{"key": <raw>, …}` from raw JSON texts, so values keep their exact bytes.
pub fn object(fields: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"{".to_vec();
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(format!("{key:?}:").as_bytes());
        out.extend_from_slice(value);
    }
    out.push(b'}');
    out
}

/// Every single-input hook export with the hook it implements, its output
/// keys and the key that carries the plugin's own error.
pub const SINGLE_INPUT_HOOKS: &[(&str, Hook, &[&str], &str)] = &[
    ("http_pre_hook", Hook::HttpPreHook, HTTP_PRE_KEYS, "error"),
    ("http_intercept", Hook::HttpPreHook, HTTP_PRE_KEYS, "error"),
    (
        "http_post_hook",
        Hook::HttpPostHook,
        HTTP_POST_KEYS,
        "error",
    ),
    (
        "http_stream_chunk_hook",
        Hook::HttpStreamChunkHook,
        CHUNK_KEYS,
        "error",
    ),
    ("pre_hook", Hook::PreHook, SINGLE_PRE_KEYS, "error"),
    ("post_hook", Hook::PostHook, SINGLE_POST_KEYS, "hook_error"),
];

/// Allocates a buffer with the host's allocator, writes `bytes` into it and
/// returns `(ptr, len)`, as the host does for an input; nothing frees it.
pub fn put(guest: &mut Guest, bytes: &[u8]) -> (u32, u32) {
    let len = bytes.len() as u32;
    let ptr = guest.malloc(len).unwrap();
    assert_ne!(ptr, 0, "allocating {len} bytes failed");
    guest.write(ptr, bytes).unwrap();
    (ptr, len)
}

/// `(ptr, len)` of a packed `(ptr << 32) | len` result.
pub fn unpack(packed: i64) -> (u32, u32) {
    ((packed as u64 >> 32) as u32, packed as u32)
}

/// The `i32` arguments of a hook call over `(ptr, len)` buffers.
pub fn args(buffers: &[(u32, u32)]) -> Vec<i32> {
    buffers
        .iter()
        .flat_map(|&(ptr, len)| [ptr as i32, len as i32])
        .collect()
}

/// Whether `[a, a + a_len)` and `[b, b + b_len)` share a byte.
pub fn overlaps((a, a_len): (u32, u32), (b, b_len): (u32, u32)) -> bool {
    let (a, b) = (a as u64, b as u64);
    a < b + b_len as u64 && b < a + a_len as u64
}

/// Whether `haystack` contains `needle` verbatim.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether `export` is a function that returns nothing, read from its type
/// (a call's result cannot show it: the host reads "no result" as 0).
pub fn returns_nothing(guest: &Guest, export: &str) -> bool {
    matches!(guest.info().export(export), Some(ExportType::Func(_, results)) if results.is_empty())
}

/// `wasm` with one more export, `stack_pointer`: the module's first global,
/// which Rust's wasm32 code uses as its stack pointer. Lets a test watch the
/// stack a trapped call leaves behind (the plugin's code is unchanged).
pub fn export_stack_pointer(wasm: &[u8]) -> Vec<u8> {
    fn leb(bytes: &[u8], at: &mut usize) -> u32 {
        let (mut value, mut shift) = (0u32, 0);
        loop {
            let byte = bytes[*at];
            *at += 1;
            value |= u32::from(byte & 0x7f) << shift;
            shift += 7;
            if byte < 0x80 {
                return value;
            }
        }
    }
    fn put_leb(out: &mut Vec<u8>, mut value: u32) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut out = wasm[..8].to_vec();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb(wasm, &mut at) as usize;
        let body = &wasm[at..at + size];
        at += size;
        let mut section = body.to_vec();
        if id == 7 {
            let mut inner = 0;
            let count = leb(body, &mut inner);
            section = Vec::new();
            put_leb(&mut section, count + 1);
            section.extend_from_slice(&body[inner..]);
            put_leb(&mut section, "stack_pointer".len() as u32);
            section.extend_from_slice(b"stack_pointer");
            section.extend_from_slice(&[3, 0]); // a global, index 0
        }
        out.push(id);
        put_leb(&mut out, section.len() as u32);
        out.extend_from_slice(&section);
    }
    out
}
