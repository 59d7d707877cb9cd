//! Shared by the conformance tests: the built plugin, fixtures, and checks of
//! output shapes.
#![allow(dead_code)] // each test file uses a different subset

use std::path::PathBuf;

use bifrost_plugin_host::{FreeMode, Guest};
use serde_json::Value;

/// The hello-world plugin built by `make build` (override with
/// `HELLO_WORLD_WASM`).
pub fn wasm_path() -> PathBuf {
    match std::env::var_os("HELLO_WORLD_WASM") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build/hello-world.wasm"),
    }
}

/// A fresh instance of the hello-world plugin.
pub fn guest(free_mode: FreeMode) -> Guest {
    let path = wasm_path();
    let wasm = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): run `make build` first (`make test` does)",
            path.display()
        )
    });
    Guest::load(&wasm, free_mode).expect("the plugin loads")
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
