//! A hook's output as a chain reads it: the payloads it carries on (a
//! request, a response, a chunk) kept as the plugin's JSON text, found but
//! not parsed, so that the next plugin is sent those bytes without the host
//! building a tree and writing it again for every hook. The flags and the
//! context are read as [`TypedOutput`] reads them; an output this quick
//! reading refuses (a key given twice, say) is read the full way, so a
//! chain accepts and rejects exactly what [`HookOutput::parse`] does, with
//! its messages.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::abi::Abi;
use crate::error::Result;
use crate::hook::Hook;
use crate::output::HookOutput;
use crate::typed::{zero_if_null, TypedOutput};

/// JSON text of one value, as the plugin wrote it (no space around it).
pub(crate) type Text = Vec<u8>;

/// What a chain takes from any hook's output. A payload field is `None`
/// when the output has none (absent or `null`), or when the ABI says it is
/// not set (`has_response: false`, …).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Passed {
    /// The context sent back (single-input only), an object's text.
    pub context: Option<Text>,
    /// The plugin's error message, if not empty.
    pub plugin_error: Option<String>,
    /// The HTTP or LLM request the hook passes on.
    pub request: Option<Text>,
    /// The response: the HTTP pre hook's answer, the LLM post hook's
    /// response.
    pub response: Option<Text>,
    /// The short circuit of an LLM pre hook (`{"response"}` / `{"error"}`).
    pub short_circuit: Option<Text>,
    /// The LLM post hook's error.
    pub error: Option<Text>,
    /// The stream chunk hook's chunk.
    pub chunk: Option<Text>,
    /// The stream chunk hook dropped its chunk.
    pub skip: bool,
    /// The HTTP pre hook answered: a seed `response` that is not `null`, or
    /// a single-input `has_response` (with or without a response).
    pub answered: bool,
}

impl Passed {
    /// Reads `raw`, the output of `export` for `hook` in `abi`: quickly when
    /// it can, else as [`HookOutput::parse`] does (whose error it returns).
    pub fn read(abi: Abi, hook: Hook, export: &'static str, raw: Vec<u8>) -> Result<Self> {
        match quick(abi, hook, &raw) {
            Some(passed) => Ok(passed),
            None => HookOutput::parse(abi, hook, export, raw).map(|full| Passed::from_full(&full)),
        }
    }

    /// The same fields from a fully parsed output.
    pub fn from_full(output: &HookOutput) -> Self {
        let text = |value: &Option<Value>| {
            value
                .as_ref()
                .filter(|v| !v.is_null())
                .map(|v| serde_json::to_vec(v).unwrap_or_default())
        };
        let mut passed = Passed {
            context: output
                .context()
                .map(|context| serde_json::to_vec(context).unwrap_or_default()),
            plugin_error: output.plugin_error().map(str::to_string),
            ..Passed::default()
        };
        match output.typed() {
            TypedOutput::SeedHttp(o) => {
                passed.response = text(&o.response);
                passed.answered = passed.response.is_some();
            }
            TypedOutput::SeedPre(o) => {
                passed.request = text(&o.request);
                passed.short_circuit = text(&o.short_circuit);
            }
            TypedOutput::SeedPost(o) => {
                passed.response = text(&o.response);
                passed.error = text(&o.bifrost_error);
            }
            TypedOutput::HttpPre(o) => {
                passed.request = text(&o.request);
                passed.answered = o.has_response;
                passed.response = text(&o.response).filter(|_| o.has_response);
            }
            TypedOutput::HttpPost(_) => {}
            TypedOutput::StreamChunk(o) => {
                passed.chunk = text(&o.chunk).filter(|_| o.has_chunk);
                passed.skip = o.skip;
            }
            TypedOutput::Pre(o) => {
                passed.request = text(&o.request);
                passed.short_circuit = text(&o.short_circuit).filter(|_| o.has_short_circuit);
            }
            TypedOutput::Post(o) => {
                passed.response = text(&o.response);
                passed.error = text(&o.error).filter(|_| o.has_error);
            }
        }
        passed
    }
}

/// Every field any hook's output has, payloads as text: one struct for all
/// hooks, so a field a hook does not have is read (and ignored) only if
/// present, as the full reading ignores unknown fields. `None` when the
/// output is not what this reading takes.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Fields<'a> {
    #[serde(borrow)]
    context: Option<&'a RawValue>,
    #[serde(borrow)]
    request: Option<&'a RawValue>,
    #[serde(borrow)]
    response: Option<&'a RawValue>,
    #[serde(borrow)]
    short_circuit: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    #[serde(borrow)]
    bifrost_error: Option<&'a RawValue>,
    #[serde(borrow)]
    chunk: Option<&'a RawValue>,
    #[serde(borrow)]
    hook_error: Option<&'a RawValue>,
    #[serde(deserialize_with = "zero_if_null")]
    has_response: bool,
    #[serde(deserialize_with = "zero_if_null")]
    has_short_circuit: bool,
    #[serde(deserialize_with = "zero_if_null")]
    has_error: bool,
    #[serde(deserialize_with = "zero_if_null")]
    has_chunk: bool,
    #[serde(deserialize_with = "zero_if_null")]
    skip: bool,
}

/// The quick reading, or `None` to take the full one.
fn quick(abi: Abi, hook: Hook, raw: &[u8]) -> Option<Passed> {
    let text = std::str::from_utf8(raw).ok()?;
    // A struct is also read from an array of its fields: not an output.
    if !text.trim_start().starts_with('{') || !plain(raw) {
        return None;
    }
    let fields: Fields<'_> = serde_json::from_str(text).ok()?;
    let payload = |value: Option<&RawValue>| value.map(|v| v.get().as_bytes().to_vec());
    // A message is a string (or null: none); any other kind is the full
    // reading's error to word.
    let message = |value: Option<&RawValue>| -> Option<Option<String>> {
        match value {
            None => Some(None),
            Some(value) => serde_json::from_str::<String>(value.get())
                .ok()
                .map(|m| Some(m).filter(|m| !m.is_empty())),
        }
    };
    let single = abi == Abi::SingleInput;
    let context = match (single, fields.context) {
        (true, Some(context)) if context.get().starts_with('{') => Some(payload(Some(context))?),
        (true, Some(_)) => return None,
        _ => None,
    };
    let mut passed = Passed {
        context,
        ..Passed::default()
    };
    match (abi, hook) {
        (Abi::Seed, Hook::HttpPreHook) => {
            passed.plugin_error = message(fields.error)?;
            passed.response = payload(fields.response);
            passed.answered = passed.response.is_some();
        }
        (Abi::Seed, Hook::PreHook) => {
            passed.plugin_error = message(fields.error)?;
            passed.request = payload(fields.request);
            passed.short_circuit = payload(fields.short_circuit);
        }
        (Abi::Seed, Hook::PostHook) => {
            passed.plugin_error = message(fields.error)?;
            passed.response = payload(fields.response);
            passed.error = payload(fields.bifrost_error);
        }
        (Abi::Seed, _) => return None,
        (_, Hook::HttpPreHook) => {
            passed.plugin_error = message(fields.error)?;
            passed.request = payload(fields.request);
            passed.answered = fields.has_response;
            passed.response = payload(fields.response).filter(|_| fields.has_response);
        }
        (_, Hook::HttpPostHook) => passed.plugin_error = message(fields.error)?,
        (_, Hook::HttpStreamChunkHook) => {
            passed.plugin_error = message(fields.error)?;
            passed.chunk = payload(fields.chunk).filter(|_| fields.has_chunk);
            passed.skip = fields.skip;
        }
        (_, Hook::PreHook) => {
            passed.plugin_error = message(fields.error)?;
            passed.request = payload(fields.request);
            passed.short_circuit =
                payload(fields.short_circuit).filter(|_| fields.has_short_circuit);
        }
        (_, Hook::PostHook) => {
            passed.plugin_error = message(fields.hook_error)?;
            passed.response = payload(fields.response);
            passed.error = payload(fields.error).filter(|_| fields.has_error);
        }
    }
    Some(passed)
}

/// Nesting that stays well inside the full reading's limit (128).
const PLAIN_DEPTH: usize = 100;

/// Whether the full reading would surely take every value in `raw` that is
/// JSON: the quick one only checks syntax, not what a tree of values needs.
/// So no deep nesting, no number with an exponent or of more than 300
/// digits (a float beyond `f64`), no `\uD800`–`\uDFFF` escape (a lone
/// surrogate); outputs with any of these are read the full way.
fn plain(raw: &[u8]) -> bool {
    let (mut depth, mut digits, mut previous) = (0usize, 0usize, 0u8);
    let mut at = 0;
    while let Some(&byte) = raw.get(at) {
        at += 1;
        if byte == b'"' {
            // A string: only its escapes matter, so its other bytes are
            // skipped eight at a time.
            loop {
                at += ordinary_run(raw.get(at..).unwrap_or_default());
                match raw.get(at) {
                    None => return true,
                    Some(b'"') => break,
                    Some(_) => {
                        let escaped = raw.get(at + 1);
                        at += 2;
                        if escaped == Some(&b'u') && matches!(raw.get(at), Some(b'd' | b'D')) {
                            at += 1;
                            if matches!(raw.get(at), Some(b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F'))
                            {
                                return false;
                            }
                        }
                    }
                }
            }
            at += 1;
            (digits, previous) = (0, b'"');
            continue;
        }
        match byte {
            b'{' | b'[' => {
                depth += 1;
                if depth > PLAIN_DEPTH {
                    return false;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'e' | b'E' if previous.is_ascii_digit() || previous == b'.' => return false,
            _ => {}
        }
        digits = if byte.is_ascii_digit() { digits + 1 } else { 0 };
        if digits > 300 {
            return false;
        }
        previous = byte;
    }
    true
}

/// How many bytes `bytes` starts with that are neither `"` nor `\`: eight
/// at a time while no word of eight holds one.
fn ordinary_run(bytes: &[u8]) -> usize {
    let mut run = 0;
    while let Some(word) = bytes.get(run..run + 8) {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        if holds(word, b'"') || holds(word, b'\\') {
            break;
        }
        run += 8;
    }
    run + bytes[run..]
        .iter()
        .take_while(|b| !matches!(b, b'"' | b'\\'))
        .count()
}

/// Whether one of the eight bytes of `word` is `byte` (a byte that is 0
/// after the XOR borrows in the subtraction and sets its high bit).
fn holds(word: u64, byte: u8) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGHS != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `passed` with its payloads and context parsed, to compare readings
    /// (the full one writes them again, in its own key order).
    fn parsed(passed: Passed) -> (Passed, Vec<Option<Value>>) {
        let mut passed = passed;
        let parse = |text: &mut Option<Text>| {
            text.take()
                .map(|t| serde_json::from_slice::<Value>(&t).unwrap())
        };
        let payloads = vec![
            parse(&mut passed.context),
            parse(&mut passed.request),
            parse(&mut passed.response),
            parse(&mut passed.short_circuit),
            parse(&mut passed.error),
            parse(&mut passed.chunk),
        ];
        (passed, payloads)
    }

    /// The quick and the full reading of `raw` (the full one as `Passed`).
    fn both(abi: Abi, hook: Hook, raw: &str) -> (Option<Passed>, Result<Passed>) {
        let full =
            HookOutput::parse(abi, hook, "export", raw.into()).map(|o| Passed::from_full(&o));
        (quick(abi, hook, raw.as_bytes()), full)
    }

    #[test]
    fn the_quick_reading_takes_what_the_full_one_takes_and_keeps_the_plugins_text() {
        let cases = [
            (
                Abi::SingleInput,
                Hook::PreHook,
                r#"{"context":{"a":1},"request":{"model":"m","input":[]},"short_circuit":null,"has_short_circuit":false,"error":""}"#,
            ),
            (
                Abi::SingleInput,
                Hook::PreHook,
                r#"{"context":{},"request":null,"short_circuit":{"error":{"status_code":403}},"has_short_circuit":true,"error":null}"#,
            ),
            (
                Abi::SingleInput,
                Hook::PreHook,
                r#"{"short_circuit":{"response":{}},"has_short_circuit":false}"#,
            ),
            (
                Abi::SingleInput,
                Hook::PostHook,
                r#"{"context":{},"response":{"id":"x"},"error":{"error":{}},"has_error":false,"hook_error":"boom"}"#,
            ),
            (
                Abi::SingleInput,
                Hook::HttpPreHook,
                r#"{"context":{},"request":{"method":"GET","body":"eA=="},"response":{"status_code":200},"has_response":false,"error":""}"#,
            ),
            (
                Abi::SingleInput,
                Hook::HttpPreHook,
                r#"{"context":{},"response":null,"has_response":true,"error":""}"#,
            ),
            (
                Abi::SingleInput,
                Hook::HttpPostHook,
                r#"{"context":{"k":"v"},"error":""}"#,
            ),
            (
                Abi::SingleInput,
                Hook::HttpPostHook,
                r#"{"context":{ "b" : [1, 2], "a" : {} },"error":""}"#,
            ),
            (
                Abi::SingleInput,
                Hook::HttpStreamChunkHook,
                r#"{"context":{},"chunk":{"id":"c"},"has_chunk":true,"skip":false,"error":""}"#,
            ),
            (
                Abi::Seed,
                Hook::HttpPreHook,
                r#"{"response":{"status_code":401},"error":""}"#,
            ),
            (
                Abi::Seed,
                Hook::PreHook,
                r#"{"context":{"ignored":true},"request":{"model":"m"},"short_circuit":null,"error":""}"#,
            ),
            (
                Abi::Seed,
                Hook::PostHook,
                r#"{"response":{"id":"r"},"bifrost_error":null,"error":"no"}"#,
            ),
        ];
        for (abi, hook, raw) in cases {
            let (quick, full) = both(abi, hook, raw);
            let (quick, full) = (quick.expect(raw), full.unwrap());
            assert_eq!(parsed(quick), parsed(full), "{abi:?} {hook}: {raw}");
        }
        let (quick, _) = both(
            Abi::SingleInput,
            Hook::PreHook,
            r#"{"request":{ "model" : 1 }}"#,
        );
        assert_eq!(quick.unwrap().request.unwrap(), br#"{ "model" : 1 }"#);
    }

    #[test]
    fn what_the_quick_reading_refuses_is_read_the_full_way_with_its_message() {
        // A key twice: the full reading keeps the last; the quick one passes.
        let raw = r#"{"request":{"a":1},"request":{"b":2},"error":""}"#;
        assert_eq!(quick(Abi::SingleInput, Hook::PreHook, raw.as_bytes()), None);
        let passed = Passed::read(Abi::SingleInput, Hook::PreHook, "pre_hook", raw.into());
        assert_eq!(passed.unwrap().request.unwrap(), br#"{"b":2}"#);
        // Wrong types and broken text: the full reading's error.
        for raw in [
            r#"{"error":5}"#,
            r#"{"context":[1],"error":""}"#,
            r#"{"context":"text","error":""}"#,
            r#"{"has_short_circuit":"yes"}"#,
            "{",
            "[]",
        ] {
            let passed = Passed::read(Abi::SingleInput, Hook::PreHook, "pre_hook", raw.into());
            let full = HookOutput::parse(Abi::SingleInput, Hook::PreHook, "pre_hook", raw.into());
            assert_eq!(passed.unwrap_err(), full.unwrap_err(), "{raw}");
        }
        // A field the hook does not have is ignored whatever its type.
        let raw = r#"{"skip":"no","has_response":3,"error":""}"#;
        let passed = Passed::read(Abi::Seed, Hook::PreHook, "pre_hook", raw.into());
        assert_eq!(passed.unwrap(), Passed::default());
    }

    #[test]
    fn values_a_tree_of_values_cannot_hold_are_read_the_full_way() {
        let nested = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let long = "9".repeat(400);
        for value in [
            r#""\ud800""#,
            r#""\uDC00x""#,
            "1e400",
            "1.5E3",
            &nested,
            &long,
        ] {
            let raw = format!(r#"{{"request":{{"x":{value}}},"error":""}}"#);
            assert_eq!(
                quick(Abi::SingleInput, Hook::PreHook, raw.as_bytes()),
                None,
                "{value}"
            );
        }
        // Letters `e` in literals, strings and escapes are no exponent.
        let raw = r#"{"request":{"t":true,"f":false,"s":"1e400 \ud7ff \"e","n":-0.5},"error":""}"#;
        assert!(quick(Abi::SingleInput, Hook::PreHook, raw.as_bytes()).is_some());
    }

    /// The first `plain`, one byte at a time: the oracle of the quick one.
    fn plain_byte_by_byte(raw: &[u8]) -> bool {
        let (mut depth, mut digits, mut in_string) = (0usize, 0usize, false);
        let mut bytes = raw.iter().copied().peekable();
        let mut previous = 0u8;
        while let Some(byte) = bytes.next() {
            if in_string {
                match byte {
                    b'"' => in_string = false,
                    b'\\' => {
                        let escaped = bytes.next();
                        if escaped == Some(b'u') && matches!(bytes.peek(), Some(b'd' | b'D')) {
                            bytes.next();
                            if matches!(bytes.peek(), Some(b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F'))
                            {
                                return false;
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > PLAIN_DEPTH {
                        return false;
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                b'e' | b'E' if previous.is_ascii_digit() || previous == b'.' => return false,
                _ => {}
            }
            digits = if byte.is_ascii_digit() { digits + 1 } else { 0 };
            if digits > 300 {
                return false;
            }
            previous = byte;
        }
        true
    }

    #[test]
    fn the_scan_for_plain_values_skips_string_bytes_without_changing_its_answer() {
        let mut texts = vec![
            r#"{"s":"\ud800"}"#.to_string(),
            r#"{"s":"x\"\\","n":1e5}"#.to_string(),
            r#"{"s":"1e5","n":12}"#.to_string(),
            r#"{"unterminated":"abc"#.to_string(),
            r#"{"escape at the end":"\"#.to_string(),
        ];
        // Every place of a quote, an escape and a surrogate against the
        // words of eight, in strings of every length up to 40.
        for len in 0..40 {
            for at in 0..=len {
                for mark in [r#"\""#, r#"\\"#, r#"\uD834"#, r#"\ud7ff"#, r"\"] {
                    let mut text = "a".repeat(len);
                    text.insert_str(at, mark);
                    texts.push(format!(r#"{{"s":"{text}","n":2e{len}}}"#));
                    texts.push(format!(r#"["{text}"]"#));
                }
            }
        }
        for text in &texts {
            let raw = text.as_bytes();
            assert_eq!(plain(raw), plain_byte_by_byte(raw), "{text}");
        }
        assert!(texts.iter().any(|t| plain(t.as_bytes())));
        assert!(texts.iter().any(|t| !plain(t.as_bytes())));
    }
}
