//! abi-spec 1.2: a module built with the SDK carries a custom section,
//! `bifrost-plugin-sdk`, that says whether the opt-in `unchecked-echo` was
//! built in; a host reads it without instantiating the module. (The
//! unchecked-echo build itself is checked in
//! `examples/hello-world/tests/in_the_host.rs`.)

mod common;

use common::*;
use serde_json::{json, Value};

/// The content of every custom section called `name`, read as a host
/// would: from the bytes, with a wasm parser.
fn custom_sections(wasm: &[u8], name: &str) -> Vec<Vec<u8>> {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .filter_map(|payload| match payload.expect("a valid module") {
            wasmparser::Payload::CustomSection(section) if section.name() == name => {
                Some(section.data().to_vec())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn both_default_builds_say_they_check_what_they_echo() {
    for path in [wasm_path(), single_input_wasm_path()] {
        let wasm = std::fs::read(&path).unwrap();
        let sections = custom_sections(&wasm, "bifrost-plugin-sdk");
        assert_eq!(sections.len(), 1, "{}: one marker", path.display());
        let marker: Value = serde_json::from_slice(&sections[0]).unwrap();
        // The host crate shares the workspace's version with the SDK.
        assert_eq!(
            marker,
            json!({"sdk": env!("CARGO_PKG_VERSION"), "unchecked_echo": false}),
            "{}",
            path.display()
        );
    }
}

#[test]
fn a_module_without_the_sdk_has_no_marker() {
    // An empty module, and one with another custom section.
    assert!(custom_sections(b"\0asm\x01\0\0\0", "bifrost-plugin-sdk").is_empty());
    let other = b"\0asm\x01\0\0\0\x00\x03\x02hi";
    assert_eq!(custom_sections(other, "hi"), [b""]);
    assert!(custom_sections(other, "bifrost-plugin-sdk").is_empty());
}
