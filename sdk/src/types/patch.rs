//! A request's simplest edits made on its text: setting the model or the
//! provider, adding a message. Each replaces or inserts a few bytes of the
//! host's checked text in place ([`Document::text_edit`]), found through the
//! top-level members the check recorded, so a hook that makes them pays for
//! the check and a move of the bytes after the edit, about what a
//! pass-through pays, and nothing is parsed or re-serialised.
//!
//! Every function returns `false`, changing nothing, where the text alone
//! does not say what the parsed object would (a key given twice, more than
//! one object that could be the union's variant, a message list that is
//! missing or not a list): the caller then makes the edit on the parsed
//! object, which is parsed from the text as edited so far. Either way the
//! result is the same object (a property test below pins that).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::Range;

use super::document::{Document, TextEdit};
use super::kind::names_variant;
use crate::json::members::{decode_string, element_ranges, member_ranges};
use crate::json::validate::Member;
use crate::json::write::write_string;

/// Sets member `key` of the inner object (the union's variant named by
/// `suffix`, or the root) to the string `value`.
pub(crate) fn set_string(doc: &mut Document, suffix: &str, key: &str, value: &str) -> bool {
    let Some(mut edit) = doc.text_edit() else {
        return false;
    };
    let Some(inner) = inner_object(&edit, suffix) else {
        return false;
    };
    let (start, lookup) = (inner.start, one_member(edit.text(), &inner.members, key));
    let empty = inner.members.is_empty();
    let mut json = Vec::with_capacity(value.len() + 2);
    write_string(&mut json, value);
    match lookup {
        Lookup::One(range) => edit.splice(range, &json),
        Lookup::Absent => {
            let mut token = Vec::with_capacity(key.len() + 2);
            write_string(&mut token, key);
            match start {
                None => edit.insert_first_member(&token, &json),
                Some(start) => {
                    let mut member = [&token[..], b":", &json].concat();
                    if !empty {
                        member.push(b',');
                    }
                    edit.splice(start + 1..start + 1, &member);
                }
            }
        }
        Lookup::Unclear => return false,
    }
    true
}

/// Inserts a message (`write_item` writes its JSON, called only when the
/// edit can be made on the text) into the inner object's message list
/// (`input`, or `messages` when only that is there) before the message at
/// `index`, or last when `index` is past the end (`usize::MAX`: last,
/// without counting).
pub(crate) fn insert_message(
    doc: &mut Document,
    suffix: &str,
    index: usize,
    write_item: impl FnOnce(&mut Vec<u8>),
) -> bool {
    let Some(mut edit) = doc.text_edit() else {
        return false;
    };
    let Some(inner) = inner_object(&edit, suffix) else {
        return false;
    };
    let text = edit.text();
    let list = match (
        one_member(text, &inner.members, "input"),
        one_member(text, &inner.members, "messages"),
    ) {
        (Lookup::One(list), _) | (Lookup::Absent, Lookup::One(list)) => list,
        _ => return false,
    };
    if text[list.start] != b'[' {
        return false;
    }
    // Where the first item starts (the list's `]` when it is empty): found
    // without passing over any item, so that appending to a list whose first
    // message holds a large image costs no pass over it.
    let first = list.start
        + 1
        + text[list.start + 1..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
    // Where it goes, and on which side of it the comma is.
    let (at, comma_after) = match (text[first] == b']', index) {
        (true, _) => (list.start + 1, None),
        (false, 0) => (first, Some(true)),
        (false, usize::MAX) => (list.end - 1, Some(false)),
        (false, _) => match element_ranges(text, list.start).nth(index) {
            Some(before) => (before.start, Some(true)),
            None => (list.end - 1, Some(false)),
        },
    };
    let mut json = Vec::with_capacity(64);
    if comma_after == Some(false) {
        json.push(b',');
    }
    write_item(&mut json);
    if comma_after == Some(true) {
        json.push(b',');
    }
    edit.splice(at..at, &json);
    true
}

/// The object a request's or response's fields are in: the union's
/// variant (`start` is where it is) or the root (`start` is `None`, and
/// its members are the document's own, borrowed).
struct Inner<'a> {
    start: Option<usize>,
    members: Cow<'a, [Member]>,
}

fn inner_object<'a>(edit: &'a TextEdit<'_>, suffix: &str) -> Option<Inner<'a>> {
    let (text, root) = (edit.text(), edit.members());
    // Plain loops here and below: under a wasm runtime, which inlines
    // nothing, each closure of an iterator adaptor would be a call per key.
    let mut variant = None;
    for (key, value) in root {
        if text[value.start] == b'{' && names_variant(&key_bytes(text, key), suffix) {
            if variant.is_some() {
                return None;
            }
            variant = Some(value.start);
        }
    }
    if has_duplicate_keys(text, root) {
        return None;
    }
    Some(match variant {
        Some(start) => Inner {
            start: Some(start),
            members: Cow::Owned(member_ranges(text, start).collect()),
        },
        None => Inner {
            start: None,
            members: Cow::Borrowed(root),
        },
    })
}

enum Lookup {
    One(Range<usize>),
    Absent,
    /// Given more than once.
    Unclear,
}

/// Where the value of member `key` is, when there is exactly one.
fn one_member(text: &[u8], members: &[Member], key: &str) -> Lookup {
    let mut found = None;
    for (name, value) in members {
        if key_is(text, name, key) {
            if found.is_some() {
                return Lookup::Unclear;
            }
            found = Some(value.clone());
        }
    }
    found.map_or(Lookup::Absent, Lookup::One)
}

/// Whether the key token at `token` in `text` stands for `key` (a plain
/// key, as the SDK's are). An escape always stands for fewer bytes than it
/// is written with, so only a token longer than `key` can stand for it
/// through escapes, and only such a token is decoded.
fn key_is(text: &[u8], token: &Range<usize>, key: &str) -> bool {
    let written = unquoted(text, token);
    match written.len().cmp(&key.len()) {
        Ordering::Less => false,
        Ordering::Equal => written == key.as_bytes(),
        Ordering::Greater => has_escape(written) && *key_bytes(text, token) == *key.as_bytes(),
    }
}

/// The key token at `token` without its quotes, as written.
#[inline]
fn unquoted<'a>(text: &'a [u8], token: &Range<usize>) -> &'a [u8] {
    &text[token.start + 1..token.end - 1]
}

/// Whether a key as written holds an escape. A loop, not `contains`: the
/// latter calls a `memchr` that costs more than the few bytes of a key.
#[allow(clippy::manual_contains)]
fn has_escape(written: &[u8]) -> bool {
    written.iter().any(|&b| b == b'\\')
}

/// The UTF-8 bytes of the key whose token is at `token`: borrowed from the
/// text unless it is written with escapes (which a host's keys never are).
/// Bytes, not a `str`: checking them as UTF-8 again would cost more than
/// the whole lookup (measured under wasmi).
fn key_bytes<'a>(text: &'a [u8], token: &Range<usize>) -> Cow<'a, [u8]> {
    let written = unquoted(text, token);
    match has_escape(written) {
        false => Cow::Borrowed(written),
        true => Cow::Owned(decode_string(&text[token.clone()]).into_bytes()),
    }
}

/// Whether two members share a key (the parsed object keeps the last).
fn has_duplicate_keys(text: &[u8], members: &[Member]) -> bool {
    // A handful of keys written without escapes (a host's request): compared
    // pair by pair as written, without allocating.
    let plain = members.len() <= 8;
    let plain = plain
        && !members
            .iter()
            .any(|(key, _)| has_escape(unquoted(text, key)));
    if plain {
        for (i, (key, _)) in members.iter().enumerate() {
            for (earlier, _) in &members[..i] {
                // (Tokens of different lengths, most pairs, are different keys.)
                if key.len() == earlier.len() && unquoted(text, key) == unquoted(text, earlier) {
                    return true;
                }
            }
        }
        return false;
    }
    // Binary-search insertion, not a sort: the slice sorts would add ~5 KB
    // of .wasm to every plugin that edits a request.
    let mut keys: Vec<Cow<'_, [u8]>> = Vec::with_capacity(members.len());
    for (key, _) in members {
        let key = key_bytes(text, key);
        match keys.binary_search(&key) {
            Ok(_) => return true,
            Err(at) => keys.insert(at, key),
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use crate::types::{ChatMessage, LlmRequest};

    #[derive(Debug, Clone)]
    enum Edit {
        Model(String),
        Provider(String),
        Push(String),
        Insert(usize, String),
    }

    fn apply(req: &mut LlmRequest, edit: &Edit) {
        match edit {
            Edit::Model(model) => req.set_model(model.as_str()),
            Edit::Provider(provider) => req.set_provider(provider.as_str()),
            Edit::Push(text) => req.push_message(ChatMessage::user(text)),
            Edit::Insert(index, text) => req.insert_message(*index, ChatMessage::system(text)),
        }
    }

    /// The request after `edits` made on its text, and after the same
    /// edits made on the parsed object (read first, so no splice is made).
    fn both_ways(text: &str, edits: &[Edit]) -> (LlmRequest, LlmRequest) {
        let mut spliced = LlmRequest::deferred(text.as_bytes()).unwrap();
        let mut parsed = LlmRequest::deferred(text.as_bytes()).unwrap();
        let _ = parsed.json();
        for edit in edits {
            apply(&mut spliced, edit);
            apply(&mut parsed, edit);
        }
        (spliced, parsed)
    }

    fn written(req: &LlmRequest) -> String {
        String::from_utf8(req.to_json().expect("writable").into_owned()).unwrap()
    }

    #[test]
    fn setting_the_model_replaces_its_value_and_keeps_every_other_byte() {
        let text = "{ \"provider\" : \"openai\",\n  \"model\":  \"gpt-4o-mini\" , \"params\":{\"temperature\":0.50} }";
        let mut req = LlmRequest::deferred(text.as_bytes()).unwrap();
        req.set_model("gpt-4o \"quoted\"");
        assert!(!req.is_unchanged());
        assert_eq!(
            written(&req),
            text.replace("\"gpt-4o-mini\"", r#""gpt-4o \"quoted\"""#)
        );
        assert_eq!(
            req.model(),
            Some("gpt-4o \"quoted\""),
            "read back from the text"
        );
    }

    #[test]
    fn a_message_is_appended_before_the_lists_closing_bracket() {
        let text =
            r#"{"chat_request":{"model":"m","input":[ {"role":"user","content":"Hi"} ] },"x":1}"#;
        let mut req = LlmRequest::deferred(text.as_bytes()).unwrap();
        req.insert_message(0, ChatMessage::system("first"));
        req.push_message(ChatMessage::user("again"));
        req.push_message(ChatMessage::user("and again"));
        assert_eq!(
            written(&req),
            r#"{"chat_request":{"model":"m","input":[ {"content":"first","role":"system"},{"role":"user","content":"Hi"} ,{"content":"again","role":"user"},{"content":"and again","role":"user"}] },"x":1}"#
        );
        // Indices count the messages inserted already.
        req.insert_message(3, ChatMessage::user("third"));
        assert!(!req.doc.was_parsed(), "every edit was made on the text");
        let texts: Vec<_> = req.messages().map(|m| m.text().unwrap()).collect();
        assert_eq!(texts, ["first", "Hi", "again", "third", "and again"]);
    }

    #[test]
    fn missing_members_and_messages_are_added_first() {
        let (mut spliced, parsed) = both_ways(
            r#"{"input":[]}"#,
            &[Edit::Model("a".into()), Edit::Provider("p".into())],
        );
        assert_eq!(
            serde_json::to_value(&spliced).unwrap(),
            json!({"model": "a", "provider": "p", "input": []})
        );
        assert_eq!(spliced, parsed);
        spliced.set_model("b");
        assert_eq!(spliced.model(), Some("b"));
        let mut empty = LlmRequest::deferred(br#" { "chat_request" : { } } "#).unwrap();
        empty.set_model("m");
        empty.set_provider("p");
        assert_eq!(
            written(&empty),
            r#" { "chat_request" : {"provider":"p","model":"m" } } "#
        );
        // No message list: the parsed object makes one.
        empty.push_message(ChatMessage::user("Hi"));
        assert_eq!(
            serde_json::to_value(&empty).unwrap(),
            json!({"chat_request": {"provider": "p", "model": "m",
                "input": [{"role": "user", "content": "Hi"}]}})
        );
    }

    #[test]
    fn where_the_text_is_unclear_the_parsed_object_decides() {
        for text in [
            r#"{"model":"a","model":"b","input":[{"role":"user"}]}"#,
            r#"{"chat_request":{"model":"a"},"ChatRequest":{"model":"b"}}"#,
            r#"{"chat_request":{"model":"a"},"chat_request":null}"#,
            r#"{"input":[{"role":"user"}],"input":[]}"#,
            r#"{"input":"not a list","messages":[{"role":"user"}]}"#,
            r#"{"messages":[{"role":"user"}]}"#,
            r#"{"m\u006fdel":"escaped key","input":[1,{"role":"user"}]}"#,
        ] {
            let edits = [
                Edit::Model("new".into()),
                Edit::Push("p".into()),
                Edit::Insert(1, "i".into()),
                Edit::Model("newer".into()),
            ];
            let (spliced, parsed) = both_ways(text, &edits);
            assert_eq!(
                serde_json::to_value(&spliced).unwrap(),
                serde_json::to_value(&parsed).unwrap(),
                "{text}"
            );
        }
    }

    fn message() -> impl Strategy<Value = Value> {
        prop_oneof![
            ".{0,8}".prop_map(|text| json!({"role": "user", "content": text})),
            Just(json!({"role": "assistant", "content": [{"type": "text", "text": "t"}]})),
            Just(json!("not an object")),
        ]
    }

    /// Requests in each shape the host may use, with or without a model,
    /// provider and messages, and with extra fields, compact or pretty; and
    /// whether it has a message list.
    fn request() -> impl Strategy<Value = (String, bool)> {
        let inner = (
            proptest::option::of(".{0,6}"),
            proptest::option::of(".{0,6}"),
            proptest::option::of(proptest::collection::vec(message(), 0..4)),
            any::<bool>(),
            proptest::option::of(any::<i32>()),
        )
            .prop_map(|(model, provider, list, messages_key, extra)| {
                let mut map = serde_json::Map::new();
                if let Some(model) = model {
                    map.insert("model".into(), model.into());
                }
                if let Some(provider) = provider {
                    map.insert("provider".into(), provider.into());
                }
                if let Some(list) = list {
                    let key = if messages_key { "messages" } else { "input" };
                    map.insert(key.into(), Value::Array(list));
                }
                if let Some(extra) = extra {
                    map.insert("params".into(), json!({"seed": extra, "stop": ["]", "}"]}));
                }
                Value::Object(map)
            });
        (inner, 0..3usize, any::<bool>()).prop_map(|(inner, shape, pretty)| {
            let has_list = inner.get("input").or(inner.get("messages")).is_some();
            let value = match shape {
                0 => inner,
                1 => json!({"chat_request": inner, "id": "r"}),
                _ => json!({"RequestType": "chat", "TextCompletionRequest": null, "ChatRequest": inner}),
            };
            let text = match pretty {
                true => serde_json::to_string_pretty(&value).unwrap(),
                false => serde_json::to_string(&value).unwrap(),
            };
            (text, has_list)
        })
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            ".{0,6}".prop_map(Edit::Model),
            ".{0,6}".prop_map(Edit::Provider),
            ".{0,6}".prop_map(Edit::Push),
            (0..5usize, ".{0,6}").prop_map(|(i, t)| Edit::Insert(i, t)),
        ]
    }

    proptest! {
        /// Edits made on the text give the object the same edits made on
        /// the parsed object give, written as valid JSON the SDK accepts.
        #[test]
        fn edits_on_the_text_match_edits_on_the_parsed_object(
            (text, has_list) in request(),
            edits in proptest::collection::vec(edit(), 0..5),
        ) {
            let (spliced, parsed) = both_ways(&text, &edits);
            let adds_messages = edits.iter().any(|e| matches!(e, Edit::Push(_) | Edit::Insert(..)));
            // These requests leave nothing unclear: only a missing list
            // sends an edit to the parsed object.
            prop_assert_eq!(spliced.doc.was_parsed(), adds_messages && !has_list);
            let out = spliced.to_json().expect("writable").into_owned();
            prop_assert!(crate::json::validate(&out).is_ok(), "{}", String::from_utf8_lossy(&out));
            let value: Value = serde_json::from_slice(&out).unwrap();
            prop_assert_eq!(&value, &serde_json::to_value(&parsed).unwrap());
            prop_assert_eq!(spliced.model(), parsed.model());
            prop_assert_eq!(spliced.message_count(), parsed.message_count());
            prop_assert_eq!(spliced.is_unchanged(), edits.is_empty());
        }
    }
}
