//! Edits through the typed API change exactly the values edited: a response
//! the host spelt in any way (keys in any order, numbers of every spelling,
//! escapes, nesting, whitespace) goes back with each edited text's span
//! replaced and every other byte as it came.

use std::ops::Range;

use bifrost_plugin_sdk::{LlmRequest, LlmResponse, Place};
use proptest::prelude::*;

/// Number spellings a parsed `f64` or `i64` would not give back.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("123456789012345678901234567890".to_string()),
        Just("-98765432109876543210".to_string()),
        Just("1.50".to_string()),
        Just("1e2".to_string()),
        Just("1E+2".to_string()),
        Just("-0".to_string()),
        Just("-0.0".to_string()),
        Just("2.5e-3".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        (any::<i32>(), 1..30u32).prop_map(|(m, e)| format!("{m}.{e}0e-{e}")),
    ]
}

/// A string's characters, each with whether the host escapes it.
fn chars() -> impl Strategy<Value = Vec<(char, bool)>> {
    let char = prop_oneof![
        Just('é'),
        Just('/'),
        Just('"'),
        Just('\\'),
        Just('\n'),
        Just('😀'),
        proptest::char::range('a', 'z'),
        Just(' '),
    ];
    proptest::collection::vec((char, any::<bool>()), 0..10)
}

/// A string token as a host might write it.
fn token(chars: &[(char, bool)]) -> String {
    let mut out = String::from("\"");
    for &(c, escaped) in chars {
        match (c, escaped) {
            ('"', _) => out.push_str("\\\""),
            ('\\', _) => out.push_str("\\\\"),
            ('\n', _) => out.push_str("\\n"),
            ('/', true) => out.push_str("\\/"),
            (c, true) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            (c, false) => out.push(c),
        }
    }
    out.push('"');
    out
}

fn decoded(chars: &[(char, bool)]) -> String {
    chars.iter().map(|&(c, _)| c).collect()
}

/// Members written in the order `order` gives (a permutation seed), with
/// whitespace `space` around them; `member` writes one and may record
/// spans (it gets the text so far).
fn object(
    out: &mut String,
    count: usize,
    order: u64,
    space: &str,
    mut member: impl FnMut(usize, &mut String),
) {
    let mut indices: Vec<usize> = (0..count).collect();
    let mut state = order | 1;
    for i in (1..count).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        indices.swap(i, (state % (i as u64 + 1)) as usize);
    }
    out.push('{');
    for (n, index) in indices.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(space);
        member(index, out);
    }
    out.push_str(space);
    out.push('}');
}

/// One choice's content as generated.
#[derive(Debug, Clone)]
struct Content {
    chars: Vec<(char, bool)>,
}

/// A chat response as a host might spell it, and where each choice's
/// content token is.
fn response() -> impl Strategy<Value = (String, Vec<(String, Range<usize>)>)> {
    (
        proptest::collection::vec(chars().prop_map(|chars| Content { chars }), 1..5),
        proptest::collection::vec(number(), 4),
        chars(),
        any::<u64>(),
        prop_oneof![Just(""), Just(" "), Just("\n  ")],
        any::<bool>(),
    )
        .prop_map(|(contents, numbers, id, order, space, wrapped)| {
            let mut out = String::new();
            let mut spans = Vec::new();
            if wrapped {
                out.push_str(&format!("{{{space}\"chat_response\"{space}:{space}"));
            }
            object(&mut out, 6, order, space, |member, out| match member {
                0 => out.push_str(&format!("\"id\":{}", token(&id))),
                1 => out.push_str(&format!("\"seed\":{}", numbers[0])),
                2 => out.push_str(&format!("\"price\" : {}", numbers[1])),
                3 => out.push_str(&format!(
                    "\"alpha\":{{\"b\":[{}, {{\"deep\":[[{}]]}}],\"a\":null,\"\\u0061\\/\":true}}",
                    numbers[2], numbers[3]
                )),
                4 => out.push_str("\"object\":\"chat.completion\""),
                _ => {
                    out.push_str("\"choices\":[");
                    for (i, content) in contents.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        object(
                            out,
                            3,
                            order.rotate_left(i as u32 + 1),
                            space,
                            |m, out| match m {
                                0 => out.push_str(&format!("\"index\":{i}")),
                                1 => out.push_str("\"finish_reason\":\"stop\""),
                                _ => {
                                    out.push_str(
                                        "\"message\":{\"role\":\"assistant\",\"content\":",
                                    );
                                    let start = out.len();
                                    out.push_str(&token(&content.chars));
                                    spans.push((decoded(&content.chars), start..out.len()));
                                    out.push('}');
                                }
                            },
                        );
                    }
                    out.push(']');
                }
            });
            if wrapped {
                out.push_str(space);
                out.push('}');
            }
            (out, spans)
        })
}

#[derive(Debug, Clone)]
enum Edit {
    /// Through `texts_mut()`, the text of choice i.
    SetText(usize, String),
    /// Through `choices_mut()`.
    SetChoice(usize, String),
    AppendChoice(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let text = "[a-z é\"\\\\/\n😀]{0,6}";
    prop_oneof![
        (0..5usize, text).prop_map(|(i, t)| Edit::SetText(i, t)),
        (0..5usize, text).prop_map(|(i, t)| Edit::SetChoice(i, t)),
        (0..5usize, text).prop_map(|(i, t)| Edit::AppendChoice(i, t)),
    ]
}

fn apply(resp: &mut LlmResponse, edit: &Edit) {
    match edit {
        Edit::SetText(i, new) => {
            for mut text in resp.texts_mut() {
                if text.location().place == Place::Choice(*i) {
                    text.set(new.as_str());
                }
            }
        }
        Edit::SetChoice(i, new) => {
            if let Some(mut choice) = resp.choices_mut().nth(*i) {
                choice.set_text(new.as_str());
            }
        }
        Edit::AppendChoice(i, new) => {
            if let Some(mut choice) = resp.choices_mut().nth(*i) {
                choice.append_text(new);
            }
        }
    }
}

proptest! {
    #[test]
    fn typed_edits_change_exactly_the_edited_spans(
        (text, spans) in response(),
        edits in proptest::collection::vec(edit(), 0..5),
    ) {
        let mut resp: LlmResponse = serde_json::from_str(&text).unwrap();
        let mut finals: Vec<String> = spans.iter().map(|(text, _)| text.clone()).collect();
        for edit in &edits {
            apply(&mut resp, edit);
            match edit {
                Edit::SetText(i, new) | Edit::SetChoice(i, new) if *i < finals.len() => {
                    finals[*i] = new.clone()
                }
                Edit::AppendChoice(i, new) if *i < finals.len() => finals[*i].push_str(new),
                _ => {}
            }
        }
        let mut expected = text.clone();
        for ((original, span), new) in spans.iter().zip(&finals).rev() {
            if new != original {
                expected.replace_range(span.clone(), &serde_json::to_string(new).unwrap());
            }
        }
        prop_assert_eq!(serde_json::to_string(&resp).unwrap(), expected);
        let unchanged = spans.iter().zip(&finals).all(|((original, _), new)| original == new);
        if !unchanged {
            prop_assert!(!resp.is_unchanged());
        }
    }
}

#[test]
fn a_removed_message_takes_its_comma_and_nothing_else() {
    let text = r#"{"model":"m","input":[{"role":"system","content":"s"}, {"role":"user","content":"u"}],"params":{"seed":123456789012345678901234567890,"top_p":1.50}}"#;
    let mut req: LlmRequest = serde_json::from_str(text).unwrap();
    assert_eq!(req.remove_message(0).unwrap().role(), Some("system"));
    assert_eq!(
        serde_json::to_string(&req).unwrap(),
        text.replace(r#"{"role":"system","content":"s"}, "#, "")
    );
}
