//! abi-spec.md's error texts are the plugin's, byte for byte.
//!
//! Reads the spec itself: every row of the examples table (5.5) is called on
//! the built plugin and its `error` (`hook_error`) must equal the row's text
//! exactly; and every reason text of the tables in 3.2, 5.1 and 5.2 must
//! describe (match, placeholders and all) at least one text the plugin
//! really wrote. A text the plugin changes, or a spec text no input
//! produces, fails here.

mod common;

use std::path::PathBuf;

use bifrost_plugin_host::{FreeMode, Guest};
use common::*;
use serde_json::Value;

fn spec() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../abi-spec.md");
    std::fs::read_to_string(path).expect("abi-spec.md is readable")
}

/// The lines of the section that starts with `heading` (up to the next
/// heading of any level).
fn section<'a>(spec: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = spec.lines().skip_while(|l| !l.starts_with(heading));
    let first = lines.next().unwrap_or_else(|| panic!("no `{heading}`"));
    std::iter::once(first)
        .chain(lines.take_while(|l| !l.starts_with('#')))
        .collect()
}

/// The cells of a table row (no cell in these tables holds a `|`).
fn cells(line: &str) -> Vec<&str> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(str::trim).collect()
}

/// The contents of the Markdown code spans in `text`, as CommonMark reads
/// them: a run of N backticks opens, the next run of exactly N closes, and
/// one space is stripped from each end when both have one.
fn code_spans(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let run = |at: usize| bytes[at..].iter().take_while(|&&b| b == b'`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let n = run(i);
        let start = i + n;
        let mut j = start;
        let end = loop {
            match bytes[j..].iter().position(|&b| b == b'`') {
                None => panic!("unclosed code span in {text}"),
                Some(k) if run(j + k) == n => break j + k,
                Some(k) => j += k + run(j + k),
            }
        };
        let mut span = &text[start..end];
        if span.len() > 2 && span.starts_with(' ') && span.ends_with(' ') {
            span = &span[1..span.len() - 1];
        }
        spans.push(span.to_string());
        i = end + n;
    }
    spans
}

/// One buffer of a row's inputs.
#[derive(Debug)]
enum Buffer {
    Bytes(Vec<u8>),
    Null(u32),
    PastTheEnd(u32),
    Stray(u32),
}

/// `\xNN` is the byte 0xNN; everything else is itself.
fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'\\' && tail.first() == Some(&b'x') && tail.len() >= 3 {
            let hex = std::str::from_utf8(&tail[1..3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("\\xNN"));
            rest = &tail[3..];
        } else {
            out.push(b);
            rest = tail;
        }
    }
    out
}

fn bytes_of(entry: &str) -> u32 {
    let number = entry
        .split(", ")
        .nth(1)
        .and_then(|n| n.strip_suffix(" bytes)"));
    number
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("`{entry}`: expected `(…, N bytes)`"))
}

/// A row's inputs: entries separated by ` · `; see 5.5.
fn buffers(cell: &str) -> Vec<Buffer> {
    cell.split(" · ")
        .map(|entry| match entry {
            "(empty)" => Buffer::Bytes(Vec::new()),
            _ if entry.starts_with("(null pointer, ") => Buffer::Null(bytes_of(entry)),
            _ if entry.starts_with("(past the end, ") => Buffer::PastTheEnd(bytes_of(entry)),
            _ if entry.starts_with("(stray, ") => Buffer::Stray(bytes_of(entry)),
            _ => Buffer::Bytes(
                entry
                    .split(" + ")
                    .flat_map(|piece| {
                        let spans = code_spans(piece);
                        assert_eq!(spans.len(), 1, "one code span per piece: {piece}");
                        let times = piece.rsplit_once('×').map_or(1, |(_, n)| {
                            n.parse().unwrap_or_else(|_| panic!("`×N` in {piece}"))
                        });
                        unescape(&spans[0]).repeat(times)
                    })
                    .collect(),
            ),
        })
        .collect()
}

/// A fresh instance of the plugin a row names.
fn plugin(abi: &str, plugin: &str) -> Guest {
    match (abi, plugin) {
        ("seed", "passes on") => guest(FreeMode::All),
        ("single-input", "passes on") => single_input_guest(FreeMode::All),
        ("seed", "reads") => {
            let wasm = common::test_plugin_wasm("panicking.wasm");
            Guest::load(&wasm, FreeMode::All).unwrap()
        }
        other => panic!("no plugin for {other:?}"),
    }
}

/// Puts each buffer where the row says and returns the `(ptr, len)` pairs.
fn place(guest: &mut Guest, buffers: &[Buffer]) -> Vec<(u32, u32)> {
    buffers
        .iter()
        .map(|buffer| match buffer {
            Buffer::Bytes(bytes) if bytes.is_empty() => (0, 0),
            Buffer::Bytes(bytes) => put(guest, bytes),
            Buffer::Null(len) => (0, *len),
            Buffer::PastTheEnd(len) => (guest.memory_size() as u32 - 2, *len),
            Buffer::Stray(len) => {
                // Memory the plugin handed out and took back: not a buffer.
                let ptr = guest.malloc(len + 4096).unwrap();
                assert_ne!(ptr, 0);
                guest.free(ptr).unwrap();
                (ptr + 64, *len)
            }
        })
        .collect()
}

/// The reason text of one output (`hook_error` for single-input
/// `post_hook`).
fn reason(output: &[u8]) -> String {
    let value: Value = serde_json::from_slice(output).expect("output is JSON");
    let field = if value.get("hook_error").is_some() {
        "hook_error"
    } else {
        "error"
    };
    value[field].as_str().expect("a string reason").to_string()
}

/// Runs one row and returns the reason the plugin gave, with the row's
/// range placeholders filled in from the call.
fn run(
    abi: &str,
    plugin_kind: &str,
    export: &str,
    inputs: &[Buffer],
    text: &str,
) -> (String, String) {
    let mut guest = plugin(abi, plugin_kind);
    let ranges = place(&mut guest, inputs);
    let memory = guest.memory_size();
    let next_hook = |guest: &mut Guest| match abi {
        "seed" => guest.pre_hook(b"{}", b"{}").unwrap(),
        _ => guest.hook("pre_hook", &[br#"{"request":{}}"#]).unwrap(),
    };
    let output = match export {
        "init" => {
            let status = guest.call("init", &args(&ranges)).unwrap();
            assert_ne!(status, 0, "init must fail for {text}");
            next_hook(&mut guest)
        }
        "cleanup" => {
            assert_eq!(guest.call("init", &args(&ranges)).unwrap(), 0);
            guest.call("cleanup", &[]).unwrap();
            next_hook(&mut guest)
        }
        _ => {
            let packed = guest.call(export, &args(&ranges)).unwrap();
            guest.read_packed(export, packed).unwrap()
        }
    };
    let mut expected = text.to_string();
    let odd_range = inputs
        .iter()
        .zip(&ranges)
        .find(|(b, _)| matches!(b, Buffer::PastTheEnd(_) | Buffer::Stray(_)));
    if let Some((_, &(p, len))) = odd_range {
        let e = p as u64 + len as u64;
        expected = expected.replace("[p, e)", &format!("[{p}, {e})"));
    }
    expected = expected.replace("N-byte memory", &format!("{memory}-byte memory"));
    (reason(&output), expected)
}

/// The rows of 5.5: (ABI, plugin, export, inputs, reason).
fn examples(spec: &str) -> Vec<(String, String, String, String, String)> {
    section(spec, "### 5.5")
        .into_iter()
        .filter(|l| l.starts_with("| seed ") || l.starts_with("| single-input "))
        .map(|line| {
            let c = cells(line);
            assert_eq!(c.len(), 5, "five cells: {line}");
            let one = |cell: &str| {
                let spans = code_spans(cell);
                assert_eq!(spans.len(), 1, "one code span: {cell}");
                spans[0].clone()
            };
            (c[0].into(), c[1].into(), one(c[2]), c[3].into(), one(c[4]))
        })
        .collect()
}

#[test]
fn every_example_text_of_the_spec_is_what_the_plugin_writes() {
    let spec = spec();
    let rows = examples(&spec);
    assert!(rows.len() > 50, "the table was read: {} rows", rows.len());
    let mut wrong = Vec::new();
    for (abi, plugin, export, inputs, text) in &rows {
        let (found, expected) = run(abi, plugin, export, &buffers(inputs), text);
        if found != expected {
            wrong.push(format!(
                "{abi} {export} {inputs}\n  spec:   {expected}\n  plugin: {found}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// One piece of a reason template.
#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    /// `N`: a decimal number.
    Number,
    /// `<what>`, `<kind>`: one of these words.
    OneOf(&'static [&'static str]),
    /// `…` and every other `<placeholder>`: any non-empty text.
    Any,
}

const WHAT: &[&str] = &[
    "context",
    "request",
    "response",
    "error",
    "input",
    "http request",
    "http response",
    "chunk",
    "config",
];
const KIND: &[&str] = &[
    "an array",
    "a string",
    "null",
    "a boolean",
    "a number",
    "an object",
];

/// A template of 5.1 as pieces: `N`, `p` and `e` standing alone are
/// numbers, `<what>` and `<kind>` the words 5.1 lists, `…` and any other
/// `<name>` any text.
fn template(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    let alone = |at: usize, len: usize| {
        let before = text[..at].chars().next_back();
        let after = text[at + len..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    };
    while let Some((at, c)) = chars.next() {
        let piece = match c {
            '…' => Some(Piece::Any),
            'N' | 'p' | 'e' if alone(at, 1) => Some(Piece::Number),
            '<' => {
                let end = text[at..].find('>').expect("closing >") + at;
                let name = &text[at + 1..end];
                while chars.peek().is_some_and(|&(i, _)| i <= end) {
                    chars.next();
                }
                Some(match name {
                    "what" => Piece::OneOf(WHAT),
                    "kind" => Piece::OneOf(KIND),
                    _ => Piece::Any,
                })
            }
            _ => None,
        };
        match piece {
            Some(piece) => {
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(piece);
            }
            None => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    pieces
}

fn matches(pieces: &[Piece], text: &str) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    match first {
        Piece::Text(literal) => text
            .strip_prefix(literal.as_str())
            .is_some_and(|tail| matches(rest, tail)),
        Piece::Number => {
            let digits = text.bytes().take_while(u8::is_ascii_digit).count();
            (1..=digits).any(|n| matches(rest, &text[n..]))
        }
        Piece::OneOf(words) => words
            .iter()
            .any(|w| text.strip_prefix(w).is_some_and(|tail| matches(rest, tail))),
        Piece::Any => text
            .char_indices()
            .skip(1)
            .map(|(i, _)| i)
            .chain([text.len()])
            .filter(|&i| i > 0)
            .any(|i| matches(rest, &text[i..])),
    }
}

/// The reason texts of the spec's reason tables: the last cell's code
/// spans of every table whose header names a reason, less lone
/// placeholders (`<kind>`), with the prefix the 5.2 table leaves out.
fn templates(spec: &str) -> Vec<String> {
    let mut found = Vec::new();
    for heading in ["### 3.2", "### 5.1", "### 5.2"] {
        let mut prefix = None;
        for line in section(spec, heading) {
            let line = line.trim();
            if !line.starts_with('|') {
                prefix = None;
                continue;
            }
            let c = cells(line);
            let last = *c.last().unwrap();
            if prefix.is_none() {
                prefix = match last {
                    "Reason text" => Some(""),
                    "`<reason>`" => Some("plugin is not initialised: "),
                    _ => Some("-"),
                };
                continue;
            }
            if prefix == Some("-") || last.starts_with("---") {
                continue;
            }
            for span in code_spans(last) {
                let lone = span.starts_with('<') && span.ends_with('>') && !span.contains(' ');
                if !lone {
                    found.push(format!("{}{span}", prefix.unwrap()));
                }
            }
        }
    }
    found
}

/// Texts only a state the tables cannot set up produces: memory exhausted
/// in the middle of a call, a value no serializer can write, a call stopped
/// inside the allocator (host/tests/soundness.rs and stops.rs stop calls
/// with fuel).
const NOT_PRODUCIBLE_ON_DEMAND: &[&str] = &[
    "out of memory copying N-byte <what>",
    "plugin could not write its output",
    "an earlier call was stopped inside the plugin's memory allocator: the host must instantiate \
     the plugin again",
];

#[test]
fn every_reason_text_of_the_spec_is_one_the_plugin_writes() {
    let spec = spec();
    let mut written: Vec<String> = examples(&spec)
        .iter()
        .map(|(abi, plugin, export, inputs, text)| {
            run(abi, plugin, export, &buffers(inputs), text).0
        })
        .collect();
    // And the texts a table row cannot show: after a panic, and once
    // panics have lost over half the stack (abi-spec 4.5).
    let mut guest = plugin("seed", "reads");
    let panic = guest.pre_hook(b"{}", br#"{"model":"panic"}"#);
    assert!(panic.is_err(), "the panic traps");
    written.push(reason(&guest.pre_hook(b"{}", b"{}").unwrap()));
    let mut panics = 0;
    let stack_short = loop {
        assert!(panics < 5_000, "the stack never ran short");
        assert!(guest.init(b"{}").unwrap() <= 2);
        // A panic traps, until the stack is short: then the hook says so.
        if let Ok(output) = guest.pre_hook(b"{}", br#"{"model":"panic"}"#) {
            break reason(&output);
        }
        panics += 1;
    };
    written.push(stack_short);

    let templates = templates(&spec);
    assert!(templates.len() > 25, "the tables were read: {templates:?}");
    let unmatched: Vec<&String> = templates
        .iter()
        .filter(|t| !NOT_PRODUCIBLE_ON_DEMAND.contains(&t.as_str()))
        .filter(|t| !written.iter().any(|w| matches(&template(t), w)))
        .collect();
    assert!(
        unmatched.is_empty(),
        "spec texts no input produced: {unmatched:#?}\nwritten: {written:#?}"
    );
    // And every text written is one the spec's tables describe.
    let undescribed: Vec<&String> = written
        .iter()
        .filter(|w| *w != "asked to fail")
        .filter(|w| !templates.iter().any(|t| matches(&template(t), w)))
        .collect();
    assert!(
        undescribed.is_empty(),
        "texts the spec does not describe: {undescribed:#?}"
    );
}

#[test]
fn the_template_reader_reads_placeholders() {
    let t = template("<what> buffer [p, e) lies outside the plugin's N-byte memory");
    assert!(matches(
        &t,
        "request buffer [8, 20) lies outside the plugin's 65536-byte memory"
    ));
    assert!(!matches(
        &t,
        "request buffer [8, x) lies outside the plugin's 65536-byte memory"
    ));
    assert!(!matches(
        &t,
        "nothing buffer [8, 20) lies outside the plugin's 1-byte memory"
    ));
    let t = template("<what> is not valid JSON: …");
    assert!(matches(
        &t,
        "input is not valid JSON: expected a value at byte 0"
    ));
    assert!(!matches(&t, "input is not valid JSON: "));
    assert_eq!(code_spans("`` a `b` `` and `c`"), ["a `b`", "c"]);
    assert_eq!(unescape(r"{\xff}"), b"{\xff}");
}
