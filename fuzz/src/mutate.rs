//! Inputs a host could send, good and bad: realistic seeds, then byte-level
//! and JSON-aware mutations of them.

use crate::rng::Rng;

/// Largest input the fuzzer builds: big enough to cross allocator size
/// classes, small enough for an interpreter.
pub const MAX_INPUT: usize = 64 * 1024;

/// The conformance tests' fixtures, as the host sends them.
pub const CONTEXT: &[u8] = include_bytes!("../../host/tests/fixtures/context.json");
pub const HTTP_REQUEST: &[u8] = include_bytes!("../../host/tests/fixtures/http_request.json");
pub const HTTP_RESPONSE: &[u8] = include_bytes!("../../host/tests/fixtures/http_response.json");
pub const CHAT_REQUEST: &[u8] = include_bytes!("../../host/tests/fixtures/chat_request_flat.json");
pub const CHAT_RESPONSE: &[u8] = include_bytes!("../../host/tests/fixtures/chat_response.json");
pub const CHAT_CHUNK: &[u8] = include_bytes!("../../host/tests/fixtures/chat_chunk.json");
pub const BIFROST_ERROR: &[u8] = include_bytes!("../../host/tests/fixtures/bifrost_error.json");

/// Realistic inputs: requests, responses, errors, chunks and contexts as the
/// host sends them.
pub const SEEDS: &[&[u8]] = &[
    CONTEXT,
    HTTP_REQUEST,
    HTTP_RESPONSE,
    CHAT_REQUEST,
    include_bytes!("../../host/tests/fixtures/chat_request_snake.json"),
    include_bytes!("../../host/tests/fixtures/chat_request_union.json"),
    CHAT_RESPONSE,
    CHAT_CHUNK,
    BIFROST_ERROR,
    b"{}",
    b"null",
    b"",
];

/// Fragments that tend to break JSON handling.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\\",
    b":",
    b",",
    b"null",
    b"true",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"\\u0000",
    b"\\ud800",
    b"\\uDFFF",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\"body\":\"@@@\"",
    b"\"headers\":[1]",
    b"\"model\":{}",
    b"\"ChatRequest\":7",
    b"\x00",
];

/// A seed, mutated zero or more times.
pub fn input(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = rng.pick(SEEDS).trim_ascii_end().to_vec();
    let rounds = rng.below(4);
    for _ in 0..rounds {
        mutate(rng, &mut bytes);
    }
    bytes.truncate(MAX_INPUT);
    bytes
}

/// One random mutation of `bytes`.
pub fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let at = |rng: &mut Rng, bytes: &Vec<u8>| rng.below(bytes.len() + 1);
    match rng.below(9) {
        0 if !bytes.is_empty() => {
            let i = rng.below(bytes.len());
            bytes[i] ^= 1 << rng.below(8);
        }
        1 => {
            let i = at(rng, bytes);
            let token = rng.pick(TOKENS);
            bytes.splice(i..i, token.iter().copied());
        }
        2 if !bytes.is_empty() => {
            let start = rng.below(bytes.len());
            let end = (start + rng.below(16)).min(bytes.len());
            bytes.drain(start..end);
        }
        3 => bytes.truncate(at(rng, bytes)),
        4 if !bytes.is_empty() => {
            let start = rng.below(bytes.len());
            let end = (start + rng.below(64)).min(bytes.len());
            let copy = bytes[start..end].to_vec();
            let i = at(rng, bytes);
            bytes.splice(i..i, copy);
        }
        5 => {
            // Deep nesting, valid or not.
            let depth = 100 + rng.below(200);
            let mut nested = b"{\"a\":".to_vec();
            nested.extend(std::iter::repeat_n(b'[', depth));
            if rng.one_in(2) {
                nested.extend(std::iter::repeat_n(b']', depth));
                nested.push(b'}');
            }
            *bytes = nested;
        }
        6 => {
            // A big, valid payload.
            let pad = "x".repeat(rng.below(MAX_INPUT / 2));
            *bytes = format!(r#"{{"model":"m","input":[],"padding":"{pad}"}}"#).into_bytes();
        }
        7 => {
            let i = at(rng, bytes);
            let noise: Vec<u8> = (0..rng.below(8)).map(|_| rng.next() as u8).collect();
            bytes.splice(i..i, noise);
        }
        _ => {
            // Another type where an object belongs.
            *bytes = rng
                .pick(&[&b"[1,2]"[..], b"\"s\"", b"42", b"true", b"null"])
                .to_vec();
        }
    }
}

/// A single-input ABI envelope `{"context": …, "request": …, …}` whose
/// fields are mutated seeds, or a mutated envelope as a whole.
pub fn envelope(rng: &mut Rng) -> Vec<u8> {
    let keys = [
        "context",
        "request",
        "response",
        "error",
        "chunk",
        "has_error",
    ];
    let mut out = b"{".to_vec();
    let mut first = true;
    for key in keys {
        if rng.one_in(3) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(format!("\"{key}\":").as_bytes());
        let value = match key {
            "has_error" => rng
                .pick(&[&b"true"[..], b"false", b"null", b"\"yes\""])
                .to_vec(),
            _ => input(rng),
        };
        out.extend_from_slice(if value.is_empty() { b"null" } else { &value });
    }
    out.push(b'}');
    if rng.one_in(4) {
        mutate(rng, &mut out);
    }
    out.truncate(MAX_INPUT);
    out
}

/// Configuration bytes for `init`: valid JSON of any type, mutated JSON, or
/// arbitrary bytes.
pub fn config(rng: &mut Rng) -> Vec<u8> {
    match rng.below(4) {
        0 => rng
            .pick(&[
                &b""[..],
                b"null",
                b" null ",
                b"{}",
                b"[]",
                b"42",
                b"\"s\"",
                b"\t\n",
            ])
            .to_vec(),
        1 => (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
        _ => input(rng),
    }
}
