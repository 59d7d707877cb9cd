//! Reading checked JSON text without building a tree: the members of an
//! object as `(key, value text)` pairs, and string tokens decoded.
//!
//! Everything here takes text [`validate`](super::validate) accepted, so it
//! does not check again: on such text it cannot fail.

use std::ops::Range;

use super::validate::skip_plain_ascii;

/// The members of the object `text` (checked JSON whose value is an
/// object), in order: the decoded key and the value's exact text.
pub(crate) fn members(text: &[u8]) -> Members<'_> {
    let mut at = skip_whitespace(text, 0);
    at += 1; // `{`
    Members { text, at }
}

/// Iterator returned by [`members`].
pub(crate) struct Members<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (String, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let mut at = skip_whitespace(text, self.at);
        if text.get(at) == Some(&b',') {
            at = skip_whitespace(text, at + 1);
        }
        if text.get(at) != Some(&b'"') {
            self.at = text.len();
            return None; // `}`
        }
        let key_end = skip_value(text, at);
        let key = decode_string(&text[at..key_end]);
        let value_start = skip_whitespace(text, skip_whitespace(text, key_end) + 1); // past `:`
        let value_end = skip_value(text, value_start);
        self.at = value_end;
        Some((key, &text[value_start..value_end]))
    }
}

/// The items of the array `text` (checked JSON whose value is an array), as
/// their exact texts.
pub(crate) fn elements(text: &[u8]) -> Elements<'_> {
    let at = skip_whitespace(text, 0) + 1; // `[`
    Elements { text, at }
}

/// Iterator returned by [`elements`].
pub(crate) struct Elements<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let mut at = skip_whitespace(text, self.at);
        if text.get(at) == Some(&b',') {
            at = skip_whitespace(text, at + 1);
        }
        if matches!(text.get(at), None | Some(b']')) {
            self.at = text.len();
            return None;
        }
        let end = skip_value(text, at);
        self.at = end;
        Some(&text[at..end])
    }
}

/// The members of the object that starts at `start` in checked `text`
/// (whitespace before it allowed), as where each key token (quotes
/// included) and each value's text are in `text`: what an edit made on the
/// text needs to know ([`members`] decodes them instead).
pub(crate) fn member_ranges(text: &[u8], start: usize) -> MemberRanges<'_> {
    let at = skip_whitespace(text, start) + 1; // `{`
    MemberRanges { text, at }
}

/// Iterator returned by [`member_ranges`].
pub(crate) struct MemberRanges<'a> {
    text: &'a [u8],
    at: usize,
}

impl Iterator for MemberRanges<'_> {
    type Item = (Range<usize>, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let key = skip_separator(text, self.at);
        if text.get(key) != Some(&b'"') {
            self.at = text.len();
            return None; // `}`
        }
        let key_end = skip_value(text, key);
        let value = skip_whitespace(text, skip_whitespace(text, key_end) + 1); // past `:`
        let value_end = skip_value(text, value);
        self.at = value_end;
        Some((key..key_end, value..value_end))
    }
}

/// Where the items of the array that starts at `start` in checked `text`
/// are ([`elements`] lends their texts instead).
pub(crate) fn element_ranges(text: &[u8], start: usize) -> ElementRanges<'_> {
    let at = skip_whitespace(text, start) + 1; // `[`
    ElementRanges { text, at }
}

/// Iterator returned by [`element_ranges`].
pub(crate) struct ElementRanges<'a> {
    text: &'a [u8],
    at: usize,
}

impl Iterator for ElementRanges<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        let text = self.text;
        let item = skip_separator(text, self.at);
        if matches!(text.get(item), None | Some(b']')) {
            self.at = text.len();
            return None;
        }
        let end = skip_value(text, item);
        self.at = end;
        Some(item..end)
    }
}

/// Past the whitespace and the `,` (if any) before the next member or item.
fn skip_separator(text: &[u8], at: usize) -> usize {
    let at = skip_whitespace(text, at);
    match text.get(at) {
        Some(b',') => skip_whitespace(text, at + 1),
        _ => at,
    }
}

fn skip_whitespace(text: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = text.get(at) {
        at += 1;
    }
    at
}

/// The end of the value starting at `at`.
fn skip_value(text: &[u8], mut at: usize) -> usize {
    match text.get(at) {
        Some(b'"') => string_end(text, at + 1),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            while let Some(&byte) = text.get(at) {
                at += 1;
                match byte {
                    b'"' => at = string_end(text, at),
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            at
        }
        _ => {
            // A number or literal runs up to the next delimiter.
            while let Some(byte) = text.get(at) {
                if matches!(byte, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                    break;
                }
                at += 1;
            }
            at
        }
    }
}

/// Most keys one object may have for [`repeats_a_key`] to compare them
/// (pairwise): an object with more counts as repeating one.
const MAX_KEYS_COMPARED: usize = 64;

/// Whether an object anywhere in `text` (checked JSON) gives a key twice
/// (as decoded), or has more than [`MAX_KEYS_COMPARED`] keys: where the text
/// and the value parsed from it may say different things. One pass, strings
/// skipped a word at a time; the keys of the open objects are kept on one
/// stack.
pub(crate) fn repeats_a_key(text: &[u8]) -> bool {
    let mut keys: Vec<Range<usize>> = Vec::new();
    // For each open container, where its keys start on `keys` (`None`: a list).
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut key_next = false;
    let mut at = 0;
    while let Some(&byte) = text.get(at) {
        at += 1;
        match byte {
            b'{' => {
                open.push(Some(keys.len()));
                key_next = true;
            }
            b'[' => open.push(None),
            b'}' | b']' => {
                if let Some(Some(first)) = open.pop() {
                    keys.truncate(first);
                }
            }
            b',' => key_next = matches!(open.last(), Some(Some(_))),
            b'"' => {
                let key = at - 1..string_end(text, at);
                at = key.end;
                if !std::mem::take(&mut key_next) {
                    continue;
                }
                let first = match open.last() {
                    Some(Some(first)) => *first,
                    _ => 0,
                };
                let siblings = &keys[first..];
                if siblings.len() == MAX_KEYS_COMPARED
                    || siblings.iter().any(|other| same_key(text, other, &key))
                {
                    return true;
                }
                keys.push(key);
            }
            _ => {}
        }
    }
    false
}

/// Whether the key tokens at `a` and `b` stand for the same key.
pub(crate) fn same_key(text: &[u8], a: &Range<usize>, b: &Range<usize>) -> bool {
    let (a, b) = (&text[a.clone()], &text[b.clone()]);
    match a.contains(&b'\\') || b.contains(&b'\\') {
        false => a == b,
        true => decode_string(a) == decode_string(b),
    }
}

/// Just past the closing quote of the string whose content starts at `at`.
/// Plain runs are skipped a word at a time, as the check skips them: a
/// long string (a base64 body) costs no more here than there.
pub(crate) fn string_end(text: &[u8], mut at: usize) -> usize {
    loop {
        at = skip_plain_ascii(text, at);
        loop {
            let Some(&byte) = text.get(at) else {
                return at;
            };
            at += 1;
            match byte {
                b'"' => return at,
                b'\\' => at += 1,
                _ if byte < 0x80 => continue,
                _ => {}
            }
            break; // after an escape or a non-ASCII byte: words again
        }
    }
}

/// The value of a checked string token (quotes included).
pub(crate) fn decode_string(token: &[u8]) -> String {
    let inner = token
        .get(1..token.len().saturating_sub(1))
        .unwrap_or_default();
    let mut out = Vec::with_capacity(inner.len());
    let mut at = 0;
    while let Some(&byte) = inner.get(at) {
        if byte != b'\\' {
            out.push(byte);
            at += 1;
            continue;
        }
        let (decoded, used) = escape(&inner[at..]);
        out.extend_from_slice(decoded.encode_utf8(&mut [0; 4]).as_bytes());
        at += used;
    }
    // Checked text is UTF-8 and escapes decode to whole characters.
    String::from_utf8(out).unwrap_or_default()
}

/// The character an escape at the start of `text` stands for, and its length.
fn escape(text: &[u8]) -> (char, usize) {
    let simple = match text.get(1) {
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let high = hex4(text.get(2..).unwrap_or_default());
            let low = match text.get(6..8) {
                Some(b"\\u") => hex4(text.get(8..).unwrap_or_default()),
                _ => 0,
            };
            if (0xD800..0xDC00).contains(&high) && (0xDC00..0xE000).contains(&low) {
                let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                return (char::from_u32(code).unwrap_or('\u{FFFD}'), 12);
            }
            // A lone surrogate (only in text checked for syntax alone).
            return (char::from_u32(high).unwrap_or('\u{FFFD}'), 6);
        }
        Some(&other) => other as char, // `"`, `\`, `/`
        None => '\u{FFFD}',
    };
    (simple, 2)
}

fn hex4(text: &[u8]) -> u32 {
    text.iter().take(4).fold(0, |unit, &digit| {
        unit * 16 + (digit as char).to_digit(16).unwrap_or(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        assert!(super::super::validate(text.as_bytes()).is_ok(), "{text}");
        members(text.as_bytes())
            .map(|(k, v)| (k, String::from_utf8(v.to_vec()).unwrap()))
            .collect()
    }

    #[test]
    fn members_are_the_keys_and_exact_value_texts_in_order() {
        let text = r#" { "b" : 1.50 , "a":[1, {"x":"}"}] ,"s":"q\"}","n":null,"t":true,"o":{} } "#;
        let expected = [
            ("b", "1.50"),
            ("a", r#"[1, {"x":"}"}]"#),
            ("s", r#""q\"}""#),
            ("n", "null"),
            ("t", "true"),
            ("o", "{}"),
        ];
        let found = pairs(text);
        let found: Vec<(&str, &str)> = found
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(found, expected);
        assert!(pairs("{}").is_empty());
        let items: Vec<&[u8]> = elements(br#" [ 1 ,"a]" , [2,[]], {"k":[]},null ] "#).collect();
        assert_eq!(
            items,
            [&b"1"[..], br#""a]""#, b"[2,[]]", br#"{"k":[]}"#, b"null"]
        );
        assert_eq!(elements(b"[ ]").count(), 0);
        assert!(pairs(" {\n} ").is_empty());
    }

    #[test]
    fn keys_and_strings_are_decoded_as_serde_json_decodes_them() {
        for token in [
            r#""plain""#,
            r#""""#,
            r#""\"\\\/\b\f\n\r\t""#,
            r#""\u00e9\u65E5 \ud83d\ude00 end""#,
            r#""é日😀""#,
        ] {
            let expected: String = serde_json::from_str(token).unwrap();
            assert_eq!(decode_string(token.as_bytes()), expected, "{token}");
        }
        assert_eq!(pairs(r#"{"a\nb":1}"#)[0].0, "a\nb");
        // Text checked for syntax only may hold lone surrogates.
        assert_eq!(
            decode_string(br#""a\ud800b\udc00\ud83d\u0041\ud83d""#),
            "a\u{FFFD}b\u{FFFD}\u{FFFD}A\u{FFFD}"
        );
    }

    proptest::proptest! {
        /// The members of any object serde_json writes, compact or pretty,
        /// are its keys, decoded, and texts that parse to its values.
        #[test]
        fn reads_every_member_serde_json_writes(
            map in proptest::collection::btree_map(".*", super::super::test_values::any_value(), 0..8)
        ) {
            let object = serde_json::Value::Object(map.clone().into_iter().collect());
            for text in [serde_json::to_string(&object).unwrap(), serde_json::to_string_pretty(&object).unwrap()] {
                let read: Vec<(String, serde_json::Value)> = members(text.as_bytes())
                    .map(|(key, value)| (key, serde_json::from_slice(value).unwrap()))
                    .collect();
                let expected: Vec<(String, serde_json::Value)> = map.clone().into_iter().collect();
                proptest::prop_assert_eq!(read, expected, "{}", text);
            }
        }
    }
}
