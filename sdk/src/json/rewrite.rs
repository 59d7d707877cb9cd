//! Writing an edited value over the text it was read from.
//!
//! A plugin edits the parsed object (a text set, a choice appended to, a
//! field set through `json_mut()`), but the host's text is what it should
//! get back wherever the plugin changed nothing: its key order, its
//! whitespace, its escapes and above all its numbers (`1.50`, a seed beyond
//! 64 bits, which a parsed `f64` would change). So the edited object is
//! written by walking the host's text alongside it: every value that is
//! still what the text says is copied from the text, and only the values
//! that differ are written anew.
//!
//! Where the text and the object disagree:
//! - a member the object no longer has is left out (with its comma), one it
//!   gained goes after the host's members;
//! - a key the text gives twice is written once, where the text gives it
//!   last (the parsed object kept that one);
//! - a list whose length changed keeps its unchanged items at both ends as
//!   text, and the items between are compared pairwise (an insertion or a
//!   removal costs only the item inserted);
//! - a value of another type is written anew.

use std::borrow::Cow;
use std::ops::Range;

use serde_json::{Map, Value};

use super::members::{decode_string, element_ranges, member_ranges};
use super::write::write_string;

/// `value` as JSON text, taking from `host` (checked JSON: the object
/// `value` was read from) every part of it that is unchanged.
pub(crate) fn write_over(host: &[u8], value: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(host.len() + 64);
    let start = host.len() - host.trim_ascii_start().len();
    let end = host.trim_ascii_end().len();
    out.extend_from_slice(&host[..start]);
    if host.get(start) == Some(&b'{') {
        object(host, start..end, value, &mut out);
    } else {
        // Not an object (never so for a document's checked text).
        super::write::write_object(&mut out, value);
    }
    out.extend_from_slice(&host[end..]);
    out
}

/// Writes `new` where `host[range]` was.
fn value(host: &[u8], range: Range<usize>, new: &Value, out: &mut Vec<u8>) {
    match (host[range.start], new) {
        (b'{', Value::Object(map)) => object(host, range, map, out),
        (b'[', Value::Array(items)) => array(host, range, items, out),
        _ if scalar_same(&host[range.clone()], new) => out.extend_from_slice(&host[range]),
        _ => write_new(new, out),
    }
}

fn write_new(value: &Value, out: &mut Vec<u8>) {
    super::write::write_value(out, value);
}

/// One item (or member) of the output list: the host's item `index`,
/// rewritten to `Some` value or copied as it is (`None`), or a new item.
enum Slot<'v> {
    Host(usize, Option<&'v Value>),
    New(Option<&'v str>, &'v Value),
}

/// An item of a host list, or a member of a host object: where it starts
/// (its key token, for a member) and where its value is.
type Item = (usize, Range<usize>);

/// Writes the items of a list or object: `items` are the host's,
/// `inside` the text between its brackets. Separators and whitespace come
/// from the host wherever the host's neighbours are kept.
fn write_slots(
    host: &[u8],
    inside: Range<usize>,
    items: &[Item],
    slots: &[Slot<'_>],
    out: &mut Vec<u8>,
) {
    let lead_end = items.first().map_or(inside.end, |item| item.0);
    let tail_start = items.last().map_or(lead_end, |item| item.1.end);
    out.push(host[inside.start - 1]);
    out.extend_from_slice(&host[inside.start..lead_end]);
    let mut written = false;
    for slot in slots {
        match *slot {
            Slot::Host(index, rewrite) => {
                if written {
                    match index {
                        0 => out.push(b','),
                        _ => out.extend_from_slice(&host[items[index - 1].1.end..items[index].0]),
                    }
                }
                let (start, item) = items[index].clone();
                match rewrite {
                    Some(new) => {
                        out.extend_from_slice(&host[start..item.start]);
                        value(host, item, new, out);
                    }
                    None => out.extend_from_slice(&host[start..item.end]),
                }
            }
            Slot::New(key, new) => {
                if written {
                    out.push(b',');
                }
                if let Some(key) = key {
                    write_string(out, key);
                    out.push(b':');
                }
                write_new(new, out);
            }
        }
        written = true;
    }
    out.extend_from_slice(&host[tail_start..inside.end]);
    out.push(host[inside.end]);
}

fn object(host: &[u8], range: Range<usize>, map: &Map<String, Value>, out: &mut Vec<u8>) {
    let members: Vec<(Range<usize>, Range<usize>)> = member_ranges(host, range.start).collect();
    let keys: Vec<Cow<'_, str>> = members.iter().map(|(key, _)| key_of(host, key)).collect();
    let (sorted, repeated) = sorted_keys(keys.iter().map(|key| key.as_ref()));
    let mut slots = Vec::with_capacity(map.len());
    for (index, key) in keys.iter().enumerate() {
        // A repeated key is written where the text gives it last.
        if repeated && keys[index + 1..].contains(key) {
            continue;
        }
        if let Some(new) = map.get(key.as_ref()) {
            slots.push(Slot::Host(index, Some(new)));
        }
    }
    if slots.len() < map.len() {
        for (key, new) in map {
            if sorted.binary_search(&key.as_str()).is_err() {
                slots.push(Slot::New(Some(key), new));
            }
        }
    }
    let items: Vec<Item> = members
        .into_iter()
        .map(|(key, value)| (key.start, value))
        .collect();
    write_slots(host, range.start + 1..range.end - 1, &items, &slots, out);
}

fn array(host: &[u8], range: Range<usize>, new: &[Value], out: &mut Vec<u8>) {
    let items: Vec<Item> = element_ranges(host, range.start)
        .map(|item| (item.start, item))
        .collect();
    let shorter = items.len().min(new.len());
    let (prefix, suffix) = match items.len() == new.len() {
        // Same length: every item is rewritten over its host text.
        true => (0, 0),
        false => {
            let prefix = (0..shorter)
                .take_while(|&i| same(host, items[i].1.clone(), &new[i]))
                .count();
            let suffix = (0..shorter - prefix)
                .take_while(|&j| {
                    same(
                        host,
                        items[items.len() - 1 - j].1.clone(),
                        &new[new.len() - 1 - j],
                    )
                })
                .count();
            (prefix, suffix)
        }
    };
    let mut slots = Vec::with_capacity(new.len());
    slots.extend((0..prefix).map(|i| Slot::Host(i, None)));
    let (host_middle, new_middle) = (
        prefix..items.len() - suffix,
        &new[prefix..new.len() - suffix],
    );
    for (offset, item) in new_middle.iter().enumerate() {
        match offset < host_middle.len() {
            true => slots.push(Slot::Host(host_middle.start + offset, Some(item))),
            false => slots.push(Slot::New(None, item)),
        }
    }
    slots.extend((items.len() - suffix..items.len()).map(|i| Slot::Host(i, None)));
    write_slots(host, range.start + 1..range.end - 1, &items, &slots, out);
}

/// Whether the host's value at `range` is `new`, as the parser reads it.
fn same(host: &[u8], range: Range<usize>, new: &Value) -> bool {
    match (host[range.start], new) {
        (b'{', Value::Object(map)) => {
            let mut keys = Vec::with_capacity(map.len());
            for (key, value) in member_ranges(host, range.start) {
                let key = key_of(host, &key);
                match map.get(key.as_ref()) {
                    Some(new) if same(host, value, new) => keys.push(key),
                    _ => return false,
                }
            }
            let (distinct, repeated) = sorted_keys(keys.iter().map(|key| key.as_ref()));
            !repeated && distinct.len() == map.len()
        }
        (b'[', Value::Array(items)) => {
            let mut host_items = element_ranges(host, range.start);
            items
                .iter()
                .all(|item| host_items.next().is_some_and(|r| same(host, r, item)))
                && host_items.next().is_none()
        }
        (b'{' | b'[', _) => false,
        _ => scalar_same(&host[range], new),
    }
}

/// `keys` in sorted order, each once, and whether one was given twice.
/// Built by binary-search insertion rather than a sort: the slice sorts
/// would add ~10 KB of .wasm to every plugin that edits a value.
fn sorted_keys<'k>(keys: impl Iterator<Item = &'k str>) -> (Vec<&'k str>, bool) {
    let mut sorted: Vec<&str> = Vec::new();
    let mut repeated = false;
    for key in keys {
        match sorted.binary_search(&key) {
            Ok(_) => repeated = true,
            Err(at) => sorted.insert(at, key),
        }
    }
    (sorted, repeated)
}

/// Whether the scalar token `token` reads as `new`.
fn scalar_same(token: &[u8], new: &Value) -> bool {
    match new {
        Value::String(text) => token.first() == Some(&b'"') && string_is(token, text),
        // Numbers compared as numbers (a `Value` comparison would bring
        // the comparison of maps and lists into every plugin that edits).
        Value::Number(number) => {
            matches!(token.first(), Some(b'-' | b'0'..=b'9'))
                && matches!(read(token), Value::Number(read) if read == *number)
        }
        Value::Bool(true) => token == b"true",
        Value::Bool(false) => token == b"false",
        Value::Null => token == b"null",
        _ => false,
    }
}

/// Whether the string token `token` (quotes included) stands for `text`.
fn string_is(token: &[u8], text: &str) -> bool {
    let inner = &token[1..token.len() - 1];
    match inner.contains(&b'\\') {
        false => inner == text.as_bytes(),
        true => decode_string(token) == text,
    }
}

/// A key token's text.
fn key_of<'a>(host: &'a [u8], token: &Range<usize>) -> Cow<'a, str> {
    let quoted = &host[token.clone()];
    match quoted.contains(&b'\\') {
        true => Cow::Owned(decode_string(quoted)),
        false => Cow::Borrowed(std::str::from_utf8(&quoted[1..quoted.len() - 1]).unwrap_or("")),
    }
}

/// A number token read by the reader the document was read with, so that
/// an unchanged number compares equal to what the plugin saw.
fn read(token: &[u8]) -> Value {
    if cfg!(feature = "compact-reader") {
        super::de::value_from_checked(token)
    } else {
        serde_json::from_slice(token).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// `host` read, changed by `edit`, written over `host`.
    fn edited(host: &str, edit: impl FnOnce(&mut Map<String, Value>)) -> String {
        let mut map: Map<String, Value> = serde_json::from_str(host).unwrap();
        edit(&mut map);
        String::from_utf8(write_over(host.as_bytes(), &map)).unwrap()
    }

    const HOST: &str = r#" {"zeta":1, "id":"x","seed":123456789012345678901234567890,"price":1.50,
        "choices":[{"index":0,"message":{"role":"assistant","content":"mail bob@example.com"}}],
        "alpha":{"b":1,"a":2e0,"u":"\u00e9\/"}} "#;

    #[test]
    fn an_unchanged_object_is_written_as_the_host_wrote_it() {
        assert_eq!(edited(HOST, |_| {}), HOST);
    }

    #[test]
    fn only_the_changed_value_is_written_anew() {
        let out = edited(HOST, |map| {
            map["choices"][0]["message"]["content"] = json!("mail [email]");
        });
        assert_eq!(out, HOST.replace("bob@example.com", "[email]"));
    }

    #[test]
    fn members_removed_and_added_keep_the_rest_in_place() {
        let out = edited(HOST, |map| {
            map.remove("zeta");
            map.remove("price");
            map.insert("new".into(), json!([1, "two"]));
        });
        let expected = HOST
            .replace(r#""zeta":1, "#, "")
            .replace(r#""price":1.50,"#, "")
            .replace(r#""\u00e9\/"}}"#, r#""\u00e9\/"},"new":[1,"two"]}"#);
        assert_eq!(out, expected);
        let emptied = edited(r#"{ "a" : 1 , "b":[ ] }"#, |map| map.clear());
        assert_eq!(emptied, "{  }", "the whitespace at both ends stays");
    }

    #[test]
    fn an_item_inserted_or_removed_costs_only_that_item() {
        let host = r#"[ {"n":1.0}, {"n":2.0} ,{"n":3.0} ]"#;
        let wrapped = format!(r#"{{"list":{host}}}"#);
        let out = edited(&wrapped, |map| {
            map["list"]
                .as_array_mut()
                .unwrap()
                .insert(1, json!({"n": 9}));
        });
        assert_eq!(
            out,
            r#"{"list":[ {"n":1.0},{"n":9}, {"n":2.0} ,{"n":3.0} ]}"#
        );
        let out = edited(&wrapped, |map| {
            map["list"].as_array_mut().unwrap().remove(1);
        });
        assert_eq!(out, r#"{"list":[ {"n":1.0} ,{"n":3.0} ]}"#);
        let out = edited(&wrapped, |map| {
            map["list"].as_array_mut().unwrap().insert(0, json!(0));
        });
        assert_eq!(out, r#"{"list":[ 0,{"n":1.0}, {"n":2.0} ,{"n":3.0} ]}"#);
        let out = edited(r#"{"list":[]}"#, |map| {
            map["list"].as_array_mut().unwrap().push(json!(1.5));
        });
        assert_eq!(out, r#"{"list":[1.5]}"#);
    }

    #[test]
    fn a_key_given_twice_is_written_once_where_it_was_last() {
        let out = edited(r#"{"a":1.50,"b":1,"a":2.50,"c":3}"#, |map| {
            map.insert("c".into(), json!(4));
        });
        assert_eq!(out, r#"{"b":1,"a":2.50,"c":4}"#);
    }

    #[test]
    fn a_value_of_another_type_is_written_anew() {
        let out = edited(r#"{"a":{"x":1.50},"b":[1.50]}"#, |map| {
            map.insert("a".into(), json!([1.5]));
            map.insert("b".into(), json!(null));
        });
        assert_eq!(out, r#"{"a":[1.5],"b":null}"#);
    }

    /// A JSON value as a host may spell it.
    #[derive(Debug, Clone)]
    enum Tree {
        /// A number or literal, as spelt.
        Scalar(String),
        /// A string's text, and for each character whether it is escaped.
        Str(Vec<(char, bool)>),
        List(Vec<Tree>),
        Object(Vec<(String, Tree)>),
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("123456789012345678901234567890".to_string()),
            Just("-98765432109876543210987".to_string()),
            Just("1.50".to_string()),
            Just("1e2".to_string()),
            Just("1E+2".to_string()),
            Just("-0".to_string()),
            Just("-0.0".to_string()),
            Just("2.5e-3".to_string()),
            Just("0.1000".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            (any::<i32>(), 0..40u32).prop_map(|(m, e)| format!("{m}.{e}0E-{e}")),
            Just("true".to_string()),
            Just("false".to_string()),
            Just("null".to_string()),
        ]
    }

    fn string() -> impl Strategy<Value = Vec<(char, bool)>> {
        proptest::collection::vec(
            (
                prop_oneof![
                    Just('é'),
                    Just('/'),
                    Just('"'),
                    Just('\\'),
                    Just('\n'),
                    "[a-z ]".prop_map(|s| s.chars().next().unwrap_or('a'))
                ],
                any::<bool>(),
            ),
            0..8,
        )
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            number().prop_map(Tree::Scalar),
            string().prop_map(Tree::Str)
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Tree::List),
                proptest::collection::btree_map("[a-z]{1,3}", inner, 0..5)
                    .prop_map(|members| Tree::Object(members.into_iter().collect())),
            ]
        })
    }

    /// A key order shuffled by `seed`.
    fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
        let mut items = items.to_vec();
        let mut state = seed | 1;
        for i in (1..items.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            items.swap(i, (state % (i as u64 + 1)) as usize);
        }
        items
    }

    /// Where a leaf is: its path and its span in the text.
    type Leaf = (Vec<Value>, Range<usize>);

    fn render(
        tree: &Tree,
        seed: u64,
        path: &mut Vec<Value>,
        out: &mut String,
        leaves: &mut Vec<Leaf>,
    ) {
        let space = ["", " ", "\n  ", "\t"][(seed % 4) as usize];
        match tree {
            Tree::Scalar(spelling) => {
                leaves.push((path.clone(), out.len()..out.len() + spelling.len()));
                out.push_str(spelling);
            }
            Tree::Str(chars) => {
                let start = out.len();
                out.push('"');
                for &(c, escaped) in chars {
                    match (c, escaped) {
                        ('"', _) => out.push_str("\\\""),
                        ('\\', _) => out.push_str("\\\\"),
                        ('\n', _) => out.push_str("\\n"),
                        ('/', true) => out.push_str("\\/"),
                        (c, true) => out.push_str(&format!("\\u{:04x}", c as u32)),
                        (c, false) => out.push(c),
                    }
                }
                out.push('"');
                leaves.push((path.clone(), start..out.len()));
            }
            Tree::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(space);
                    path.push(json!(i));
                    render(item, seed.rotate_left(7) ^ i as u64, path, out, leaves);
                    path.pop();
                }
                out.push_str(space);
                out.push(']');
            }
            Tree::Object(members) => {
                out.push('{');
                for (i, (key, value)) in shuffled(members, seed).iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(space);
                    out.push_str(&format!("\"{key}\"{space}:"));
                    path.push(json!(key));
                    render(value, seed.rotate_left(11) ^ i as u64, path, out, leaves);
                    path.pop();
                }
                out.push_str(space);
                out.push('}');
            }
        }
    }

    fn at<'a>(value: &'a mut Value, path: &[Value]) -> &'a mut Value {
        path.iter().fold(value, |value, step| match step {
            Value::String(key) => &mut value[key.as_str()],
            step => &mut value[step.as_u64().unwrap() as usize],
        })
    }

    proptest! {
        /// Changing some leaves of any host text gives back that text with
        /// exactly those leaves' spans replaced.
        #[test]
        fn only_the_edited_spans_change(
            members in proptest::collection::btree_map("[a-z]{1,3}", tree(), 0..6),
            seed in any::<u64>(),
            picks in proptest::collection::vec((any::<prop::sample::Index>(), ".{0,5}"), 0..4),
        ) {
            let tree = Tree::Object(members.into_iter().collect());
            let (mut text, mut leaves) = (String::new(), Vec::new());
            render(&tree, seed, &mut Vec::new(), &mut text, &mut leaves);
            let mut value: Value = serde_json::from_str(&text).unwrap();
            let mut edits = Vec::new();
            if !leaves.is_empty() {
                for (pick, new) in picks {
                    let (path, span) = leaves[pick.index(leaves.len())].clone();
                    let new = format!("new:{new}");
                    *at(&mut value, &path) = json!(new);
                    edits.retain(|(other, _): &(Range<usize>, String)| *other != span);
                    edits.push((span, serde_json::to_string(&new).unwrap()));
                }
            }
            edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
            let mut expected = text.clone();
            for (span, new) in edits {
                expected.replace_range(span, &new);
            }
            let Value::Object(map) = value else { unreachable!() };
            let out = write_over(text.as_bytes(), &map);
            prop_assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }
}
