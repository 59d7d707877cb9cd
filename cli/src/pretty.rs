//! Pretty-prints JSON text by re-indenting it, token by token. Going through
//! `serde_json::Value` would sort the keys and re-format numbers; a plugin
//! author comparing output with input wants neither.

/// Re-indents `json`, which must already be valid JSON (two spaces per
/// level, `"key": value`, empty `{}`/`[]` kept on one line).
pub fn pretty(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => copy_string(&mut chars, &mut out),
            '{' | '[' => {
                out.push(c);
                skip_whitespace(&mut chars);
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.push(chars.next().unwrap_or_default());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Copies a string literal whose opening quote was just read, escapes
/// included, up to and including its closing quote.
fn copy_string(chars: &mut impl Iterator<Item = char>, out: &mut String) {
    out.push('"');
    while let Some(c) = chars.next() {
        out.push(c);
        match c {
            '\\' => out.extend(chars.next()),
            '"' => return,
            _ => {}
        }
    }
}

fn skip_whitespace(chars: &mut std::iter::Peekable<impl Iterator<Item = char>>) {
    while chars.next_if(|c| c.is_whitespace()).is_some() {}
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    out.extend(std::iter::repeat_n("  ", depth));
}

#[cfg(test)]
mod tests {
    use super::pretty;

    #[test]
    fn keeps_key_order_and_number_text() {
        let json = r#"{"z":1.50,"a":[1,{"b":null}],"e":{},"l":[ ]}"#;
        assert_eq!(
            pretty(json),
            "{\n  \"z\": 1.50,\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \
             \"e\": {},\n  \"l\": []\n}"
        );
    }

    #[test]
    fn leaves_strings_alone_escapes_included() {
        let json = r#"{"k": "a, b: {c} [d] \" \\"}"#;
        assert_eq!(pretty(json), "{\n  \"k\": \"a, b: {c} [d] \\\" \\\\\"\n}");
    }

    #[test]
    fn is_what_serde_json_pretty_prints_when_keys_are_sorted() {
        let json = r#"{"a":[1,2,{"b":"x"}],"c":{"d":true,"e":-1e5}}"#;
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let serde = serde_json::to_string_pretty(&value).unwrap();
        // serde_json writes -1e5 as -100000.0; compare the structure otherwise.
        assert_eq!(pretty(json).replace("-1e5", "-100000.0"), serde);
    }
}
