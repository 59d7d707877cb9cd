//! The texts of a request, response or chunk found in the host's checked
//! text instead of a parsed value, for `texts_mut()`: where each string
//! token is and where it stands. A text the plugin changes is written over
//! its token when the value is next used ([`splice`]); nothing else is
//! parsed or written, so editing one text of a large response costs a check
//! and a walk over the text, not a parse and a rewrite.
//!
//! The walk is the one of types/text.rs over text instead of a map, visiting
//! members in the map's order (sorted by key, or as written when serde_json's
//! `preserve_order` is on); where an object gives a key twice it sees the
//! last (as the parsed map keeps it). A property test holds the two walks to
//! the same texts in the same places, and the output to the one the writer
//! over the host's text (json/rewrite.rs) gives for the same edits on the
//! parsed value: so a key given twice is written once, where the text gives
//! it last, once any text is set ([`repeated_members`]).

use std::borrow::Cow;
use std::cell::Cell;
use std::ops::Range;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::document::Document;
use super::kind::names_variant;
use super::text::{
    block_text_key, event_part, main_part, role_from, Location, Part, Place, Role, TextMut,
};
use crate::json::members::{
    decode_string, element_ranges, member_ranges, repeats_a_key, same_key, string_end,
};
use crate::json::write::write_string;

/// A text found in the host's text: its string token, where it stands, and
/// what the plugin set it to (if it did).
pub(crate) struct HostText {
    token: Range<usize>,
    location: Location,
    new: Cell<Option<String>>,
}

/// The texts of `shape` in `doc`'s host text, lent for editing there: each
/// [`TextMut`] hands what it was set to back to the [`Lender`] when it is
/// dropped, and the lender writes them all into the text when the last of
/// them is ([`Document::splice_texts`]). None when the text does not check
/// (the hook then reports why).
#[inline(never)]
pub(crate) fn lend(doc: &mut Document, shape: Shape) -> std::vec::IntoIter<TextMut<'_>> {
    let Some(text) = doc.text_to_lend() else {
        return Vec::new().into_iter();
    };
    let texts = find(text, shape);
    let current: Vec<(String, Location)> = texts
        .iter()
        .map(|found| (text_of(text, &found.token).into_owned(), found.location))
        .collect();
    let lender = Rc::new(Lender { doc, texts });
    let lent: Vec<TextMut<'_>> = current
        .into_iter()
        .enumerate()
        .map(|(index, (text, location))| TextMut::host(text, location, index, lender.clone()))
        .collect();
    lent.into_iter()
}

/// The document texts were lent from, and the texts: what they were set to
/// is written into its text when the last [`TextMut`] holding it is dropped.
pub(crate) struct Lender<'a> {
    doc: &'a mut Document,
    texts: Vec<HostText>,
}

impl Lender<'_> {
    /// Text `index` was set to `text`.
    pub(crate) fn set(&self, index: usize, text: String) {
        if let Some(found) = self.texts.get(index) {
            found.new.set(Some(text));
        }
    }
}

impl Drop for Lender<'_> {
    #[inline(never)]
    fn drop(&mut self) {
        self.doc.splice_texts(&mut self.texts);
    }
}

/// Which walk of types/text.rs to make.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    /// A request: its variant (`…_request`) or the root.
    Request,
    /// A response: its variant (`…_response`) or the root.
    Response,
    /// A stream chunk: the root, walked as a response.
    Chunk,
}

/// The texts of `text` (checked JSON, an object whose keys are never
/// repeated) as `shape` has them, in the order `texts()` gives them.
fn find(text: &[u8], shape: Shape) -> Vec<HostText> {
    let mut walk = Walk {
        text,
        ends: Ends::of(text),
        sorted: maps_sort_keys(),
        out: Vec::new(),
    };
    let root = 0..text.len();
    if let Some(root) = walk.object(&root) {
        match shape {
            Shape::Request => walk.request(&walk.variant(root, "Request")),
            Shape::Response => walk.response(&walk.variant(root, "Response")),
            Shape::Chunk => walk.response(&root),
        }
    }
    walk.out
}

/// The text of the string token at `token` in `text` (checked JSON):
/// borrowed when it has no escapes.
#[inline(never)]
pub(crate) fn text_of<'t>(text: &'t [u8], token: &Range<usize>) -> Cow<'t, str> {
    let quoted = &text[token.clone()];
    let inner = &quoted[1..quoted.len() - 1];
    match inner.contains(&b'\\') {
        false => Cow::Borrowed(std::str::from_utf8(inner).unwrap_or_default()),
        true => Cow::Owned(decode_string(quoted)),
    }
}

/// `host` with the token of each text that was set replaced by its new
/// text, written as serde_json writes a string (a text set to what its
/// token already says keeps the token, its escapes), and every member whose
/// key its object gives again later left out ([`repeated_members`]), as the
/// writer over the host's text writes an edited value. `room` spare bytes
/// are reserved after it. `None` when no text was set.
pub(crate) fn splice(host: &[u8], texts: &mut [HostText], room: usize) -> Option<Vec<u8>> {
    // What changes, in the order of the text (the walk's order is the
    // map's): a new text for a token, or nothing for a member left out.
    let mut changes: Vec<(Range<usize>, Option<&str>)> = Vec::new();
    for text in texts.iter_mut() {
        if let Some(new) = text.new.get_mut() {
            changes.push((text.token.clone(), Some(new)));
        }
    }
    if changes.is_empty() {
        return None;
    }
    if repeats_a_key(host) {
        let mut left_out = Vec::new();
        repeated_members(host, 0, &mut left_out);
        changes.extend(left_out.into_iter().map(|span| (span, None)));
    }
    let mut sorted: Vec<(Range<usize>, Option<&str>)> = Vec::with_capacity(changes.len());
    for change in changes {
        let at = sorted.partition_point(|(span, _)| span.start < change.0.start);
        sorted.insert(at, change);
    }
    let grown: usize = sorted
        .iter()
        .map(|(_, new)| new.map_or(0, str::len) + 2)
        .sum();
    let mut out = Vec::with_capacity(host.len() + grown + room);
    let mut copied = 0;
    for (span, new) in sorted {
        // A member left out inside one left out already.
        if span.start < copied {
            continue;
        }
        out.extend_from_slice(&host[copied..span.start]);
        match new {
            Some(new) if text_of(host, &span) == *new => out.extend_from_slice(&host[span.clone()]),
            Some(new) => write_string(&mut out, new),
            None => {}
        }
        copied = span.end;
    }
    out.extend_from_slice(&host[copied..]);
    Some(out)
}

/// The spans of `text` (checked JSON) to leave out so that each object in
/// the value at `start` gives each key once, where it gives it last: an
/// earlier member with the separator before it, or, when no member before it
/// stays, with the separator after it (so the object reads as the writer over
/// the host's text writes it). Objects inside a member left out are not
/// looked into. Recursive; only called on text that repeats a key.
fn repeated_members(text: &[u8], start: usize, out: &mut Vec<Range<usize>>) {
    match text[start] {
        b'{' => {
            let members: Vec<(Range<usize>, Range<usize>)> = member_ranges(text, start).collect();
            let mut kept_before = false;
            for (index, (key, value)) in members.iter().enumerate() {
                let later = members[index + 1..]
                    .iter()
                    .any(|(other, _)| same_key(text, key, other));
                if !later {
                    kept_before = true;
                    repeated_members(text, value.start, out);
                } else if kept_before {
                    out.push(members[index - 1].1.end..value.end);
                } else {
                    // A later member with the same key always stays.
                    out.push(key.start..members[index + 1].0.start);
                }
            }
        }
        b'[' => {
            for item in element_ranges(text, start) {
                repeated_members(text, item.start, out);
            }
        }
        _ => {}
    }
}

/// Whether a serde_json map iterates in key order (the default) rather
/// than in insertion order (`preserve_order`, which any crate of a plugin
/// may turn on).
fn maps_sort_keys() -> bool {
    let mut map = Map::new();
    map.insert("b".into(), Value::Null);
    map.insert("a".into(), Value::Null);
    map.keys().next().is_some_and(|key| key == "a")
}

/// The members of one object: each key (decoded) and where its value is,
/// in the map's order.
struct Object<'t> {
    members: Vec<(Cow<'t, [u8]>, Range<usize>)>,
}

impl Object<'_> {
    /// Where the value of `key` is (each key is there once).
    fn get(&self, key: &str) -> Option<&Range<usize>> {
        self.members
            .iter()
            .find(|(name, _)| **name == *key.as_bytes())
            .map(|(_, value)| value)
    }
}

/// Where each string and container of a text ends, by where it starts,
/// found in one pass: the walk steps over a value without scanning it again
/// at every level it is nested in (a message's text under a response's
/// choice would otherwise be passed over four times).
struct Ends(Vec<(usize, usize)>);

impl Ends {
    fn of(text: &[u8]) -> Ends {
        let (mut ends, mut open) = (Vec::new(), Vec::new());
        let mut at = 0;
        while let Some(&byte) = text.get(at) {
            match byte {
                b'"' => {
                    let end = string_end(text, at + 1);
                    ends.push((at, end));
                    at = end;
                    continue;
                }
                b'{' | b'[' => {
                    open.push(ends.len());
                    ends.push((at, at));
                }
                b'}' | b']' => {
                    if let Some(index) = open.pop() {
                        ends[index].1 = at + 1;
                    }
                }
                _ => {}
            }
            at += 1;
        }
        Ends(ends)
    }

    /// The end of the token or value that starts at `start` in `text`.
    fn end(&self, text: &[u8], start: usize) -> usize {
        match self.0.binary_search_by_key(&start, |&(from, _)| from) {
            Ok(index) => self.0[index].1,
            // A number or literal runs up to the next delimiter.
            Err(_) => text[start..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                .map_or(text.len(), |len| start + len),
        }
    }
}

/// Past the whitespace at `at`.
fn skip_whitespace(text: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = text.get(at) {
        at += 1;
    }
    at
}

/// The walk over `text`, collecting texts into `out`.
struct Walk<'t> {
    text: &'t [u8],
    ends: Ends,
    sorted: bool,
    out: Vec<HostText>,
}

impl<'t> Walk<'t> {
    #[inline(never)]
    fn push(&mut self, location: Location, token: &Range<usize>) {
        self.out.push(HostText {
            token: token.clone(),
            location,
            new: Cell::new(None),
        });
    }

    /// The value at `value` is a string.
    fn is_string(&self, value: &Range<usize>) -> bool {
        self.text[value.start] == b'"'
    }

    /// The members (key token and value) or items (no key) of the object
    /// or list that starts at `start`.
    #[inline(never)]
    fn entries(&self, start: usize) -> Vec<(Option<Range<usize>>, Range<usize>)> {
        let text = self.text;
        let object = text[start] == b'{';
        let mut entries = Vec::new();
        let mut at = skip_whitespace(text, start + 1);
        loop {
            if text.get(at) == Some(&b',') {
                at = skip_whitespace(text, at + 1);
            }
            if matches!(text.get(at), None | Some(b'}' | b']')) {
                return entries;
            }
            let key = object.then(|| {
                let key = at..self.ends.end(text, at);
                at = skip_whitespace(text, skip_whitespace(text, key.end) + 1); // past `:`
                key
            });
            let end = self.ends.end(text, at);
            entries.push((key, at..end));
            at = skip_whitespace(text, end);
        }
    }

    /// The object at `value`, if it is one.
    #[inline(never)]
    fn object(&self, value: &Range<usize>) -> Option<Object<'t>> {
        let text = self.text;
        let start =
            value.start + text[value.clone()].len() - text[value.clone()].trim_ascii_start().len();
        if text.get(start) != Some(&b'{') {
            return None;
        }
        let mut members: Vec<(Cow<'t, [u8]>, Range<usize>)> = Vec::new();
        for (key, value) in self.entries(start) {
            let Some(key) = key else { continue };
            let quoted = &text[key];
            let key = match quoted.contains(&b'\\') {
                false => Cow::Borrowed(&quoted[1..quoted.len() - 1]),
                true => Cow::Owned(decode_string(quoted).into_bytes()),
            };
            // A key given again replaces the value where the map keeps it
            // (sorted, or where it was first given).
            match members.iter_mut().find(|(name, _)| *name == key) {
                Some((_, earlier)) => *earlier = value,
                None => {
                    let at = match self.sorted {
                        true => members.partition_point(|(name, _)| *name < key),
                        false => members.len(),
                    };
                    members.insert(at, (key, value));
                }
            }
        }
        Some(Object { members })
    }

    /// The items of the list at `value`, if it is one.
    #[inline(never)]
    fn items(&self, value: &Range<usize>) -> Vec<Range<usize>> {
        match self.text[value.start] {
            b'[' => self
                .entries(value.start)
                .into_iter()
                .map(|(_, item)| item)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The string member `key` of `object`, decoded.
    #[inline(never)]
    fn string(&self, object: &Object<'_>, key: &str) -> Option<Cow<'t, str>> {
        let value = object.get(key)?;
        self.is_string(value).then(|| text_of(self.text, value))
    }

    /// The union's variant of `root` (the first object-valued member, in
    /// the map's order, named `…_request`/`…Request` for `suffix`), or the
    /// root itself.
    fn variant(&self, root: Object<'t>, suffix: &str) -> Object<'t> {
        let variant =
            root.members
                .iter()
                .find_map(|(key, value)| match names_variant(key, suffix) {
                    true => self.object(value),
                    false => None,
                });
        variant.unwrap_or(root)
    }

    /// A message's (or item's, or delta's) `content`: a string or blocks.
    #[inline(never)]
    fn content(&mut self, content: &Range<usize>, at: Location) {
        if self.is_string(content) {
            return self.push(at, content);
        }
        for block in self.items(content) {
            if let Some(block) = self.object(&block) {
                self.block_text(&block, at);
            }
        }
    }

    /// A content block's text (text and refusal blocks).
    #[inline(never)]
    fn block_text(&mut self, block: &Object<'_>, at: Location) {
        let block_type = self.string(block, "type");
        let Some((key, at)) = block_text_key(block_type.as_deref(), at) else {
            return;
        };
        if let Some(text) = block.get(key).filter(|value| self.is_string(value)) {
            self.push(at, text);
        }
    }

    /// A message, a Responses API item or a delta, at `place`.
    #[inline(never)]
    fn message(&mut self, message: &Object<'_>, place: Place, delta: bool) {
        let item_type = self.string(message, "type");
        let role = role_from(
            self.string(message, "role").as_deref(),
            item_type.as_deref(),
        );
        let main = main_part(role, item_type.as_deref());
        let at = Location {
            delta,
            ..Location::new(place, role, main)
        };
        for (key, value) in &message.members {
            let string = self.is_string(value);
            match &**key {
                b"content" | b"summary" => self.content(value, at),
                b"output" if main == Part::ToolResult => self.content(value, at),
                b"refusal" if string => self.push(at.with_part(Part::Refusal), value),
                b"reasoning" if string => self.push(at.with_part(Part::Reasoning), value),
                b"arguments" if string => self.push(at.with_part(Part::ToolArguments), value),
                b"function_call" => {
                    if let Some(call) = self.object(value) {
                        self.arguments(&call, at);
                    }
                }
                b"tool_calls" => {
                    for call in self.items(value) {
                        let function = self.object(&call).and_then(|call| {
                            let function = call.get("function")?;
                            self.object(function)
                        });
                        if let Some(function) = function {
                            self.arguments(&function, at);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// A tool call's `arguments`.
    #[inline(never)]
    fn arguments(&mut self, call: &Object<'_>, at: Location) {
        if let Some(text) = call.get("arguments").filter(|value| self.is_string(value)) {
            self.push(at.with_part(Part::ToolArguments), text);
        }
    }

    /// A request's `input`/`messages`/`prompt` value.
    #[inline(never)]
    fn input(&mut self, input: &Range<usize>) {
        let prompt = |index| Location::new(Place::Prompt(index), None, Part::Content);
        if self.is_string(input) {
            return self.push(prompt(0), input);
        }
        for (index, item) in self.items(input).iter().enumerate() {
            if self.is_string(item) {
                self.push(prompt(index), item);
            } else if let Some(message) = self.object(item) {
                self.message(&message, Place::Message(index), false);
            }
        }
    }

    /// The variant object of a request.
    #[inline(never)]
    fn request(&mut self, inner: &Object<'_>) {
        let instructions = Location::new(Place::Instructions, Some(Role::System), Part::Content);
        for (key, value) in &inner.members {
            match &**key {
                b"input" | b"messages" | b"prompt" => self.input(value),
                b"instructions" if self.is_string(value) => self.push(instructions, value),
                b"params" => {
                    let params = self.object(value);
                    let text = params
                        .as_ref()
                        .and_then(|params| params.get("instructions"));
                    if let Some(text) = text.filter(|value| self.is_string(value)) {
                        self.push(instructions, text);
                    }
                }
                _ => {}
            }
        }
    }

    /// The variant object of a response, or a chunk.
    #[inline(never)]
    fn response(&mut self, inner: &Object<'_>) {
        // A Responses API event: what its `delta` or `text` is.
        let event = event_part(self.string(inner, "type").as_deref());
        let at = Location::new(Place::Event, Some(Role::Assistant), Part::Content);
        for (key, value) in &inner.members {
            match (&**key, event) {
                (b"delta" | b"text", Some(part)) if self.is_string(value) => {
                    let delta = **key == *b"delta";
                    self.push(
                        Location {
                            delta,
                            ..at.with_part(part)
                        },
                        value,
                    );
                }
                (b"choices", _) => {
                    for (index, choice) in self.items(value).iter().enumerate() {
                        if let Some(choice) = self.object(choice) {
                            self.choice(&choice, index);
                        }
                    }
                }
                (b"output", _) => {
                    for (index, item) in self.items(value).iter().enumerate() {
                        if let Some(item) = self.object(item) {
                            self.message(&item, Place::Output(index), false);
                        }
                    }
                }
                (b"item", _) => {
                    if let Some(item) = self.object(value) {
                        self.message(&item, Place::Event, false);
                    }
                }
                (b"part", _) => {
                    if let Some(part) = self.object(value) {
                        self.block_text(&part, at);
                    }
                }
                (b"response", _) => {
                    if let Some(nested) = self.object(value) {
                        self.response(&nested);
                    }
                }
                _ => {}
            }
        }
    }

    /// One choice (at `index` in its list): `text`, `message`, `delta`.
    #[inline(never)]
    fn choice(&mut self, choice: &Object<'_>, index: usize) {
        let place = Place::Choice(index);
        for (key, value) in &choice.members {
            match &**key {
                b"text" if self.is_string(value) => {
                    let at = Location::new(place, Some(Role::Assistant), Part::Content);
                    self.push(at, value);
                }
                b"message" | b"delta" => {
                    if let Some(message) = self.object(value) {
                        self.message(&message, place, **key == *b"delta");
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;
    use crate::types::document::Document;
    use crate::types::kind::variant_key;
    use crate::types::text::{self, TextMut};

    /// Strings as a host may write them: escapes, non-ASCII, long runs.
    fn string() -> BoxedStrategy<Value> {
        prop_oneof![
            Just(json!("")),
            Just(json!("plain text")),
            Just(json!("é \"quoted\" \\ / 😀\n")),
            Just(json!(
                "a long run of plain text that takes several words to pass over"
            )),
            "[a-z ]{0,12}".prop_map(Value::from),
        ]
        .boxed()
    }

    /// A member's value that is not what the walk looks for.
    fn other() -> BoxedStrategy<Value> {
        prop_oneof![
            Just(json!(1.5)),
            Just(json!(null)),
            Just(json!({"k": [1, "s"]})),
            Just(json!(["x"]))
        ]
        .boxed()
    }

    /// An object holding some of `members` (each `None` left out).
    fn object(members: Vec<(&'static str, Option<Value>)>) -> Value {
        Value::Object(
            members
                .into_iter()
                .filter_map(|(key, value)| Some((key.to_string(), value?)))
                .collect(),
        )
    }

    fn block() -> BoxedStrategy<Value> {
        let kind = prop_oneof![
            Just("text"),
            Just("input_text"),
            Just("output_text"),
            Just("summary_text"),
            Just("refusal"),
            Just("image_url"),
        ];
        (
            proptest::option::of(kind),
            proptest::option::of(string()),
            proptest::option::of(string()),
        )
            .prop_map(|(kind, text, refusal)| {
                object(vec![
                    ("type", kind.map(Value::from)),
                    ("text", text),
                    ("refusal", refusal),
                ])
            })
            .boxed()
    }

    fn content() -> BoxedStrategy<Value> {
        prop_oneof![
            string(),
            proptest::collection::vec(block(), 0..3).prop_map(Value::Array),
            other()
        ]
        .boxed()
    }

    fn message() -> BoxedStrategy<Value> {
        let role = prop_oneof![
            Just(json!("user")),
            Just(json!("system")),
            Just(json!("developer")),
            Just(json!("assistant")),
            Just(json!("tool")),
            Just(json!("function")),
            Just(json!(7)),
        ];
        let item_type = prop_oneof![
            Just("message"),
            Just("function_call"),
            Just("function_call_output"),
            Just("custom_tool_call_output"),
            Just("reasoning"),
        ];
        let call = prop_oneof![
            string().prop_map(|a| json!({"id": "c", "function": {"name": "f", "arguments": a}})),
            Just(json!({"function": 3})),
            Just(json!("not a call")),
        ];
        (
            (
                proptest::option::of(role),
                proptest::option::of(item_type),
                proptest::option::of(content()),
            ),
            (
                proptest::option::of(content()),
                proptest::option::of(content()),
            ),
            (
                proptest::option::of(prop_oneof![string(), other()]),
                proptest::option::of(string()),
            ),
            (
                proptest::option::of(string()),
                proptest::option::of(string()),
            ),
            proptest::option::of(proptest::collection::vec(call, 0..3)),
        )
            .prop_map(
                |(
                    (role, kind, content),
                    (summary, output),
                    (refusal, reasoning),
                    (arguments, call),
                    calls,
                )| {
                    object(vec![
                        ("role", role),
                        ("type", kind.map(Value::from)),
                        ("content", content),
                        ("summary", summary),
                        ("output", output),
                        ("refusal", refusal),
                        ("reasoning", reasoning),
                        ("arguments", arguments),
                        (
                            "function_call",
                            call.map(|a| json!({"name": "f", "arguments": a})),
                        ),
                        ("tool_calls", calls.map(Value::Array)),
                        ("name", Some(json!("n"))),
                    ])
                },
            )
            .boxed()
    }

    fn choice() -> BoxedStrategy<Value> {
        (
            proptest::option::of(string()),
            proptest::option::of(message()),
            proptest::option::of(message()),
        )
            .prop_map(|(text, message, delta)| {
                object(vec![
                    ("index", Some(json!(0))),
                    ("text", text),
                    ("message", message),
                    ("delta", delta),
                ])
            })
            .boxed()
    }

    /// A response, chunk or Responses API event (nested once).
    fn response() -> BoxedStrategy<Value> {
        (inner_response(), proptest::option::of(inner_response()))
            .prop_map(|(mut outer, nested)| {
                if let (Value::Object(map), Some(nested)) = (&mut outer, nested) {
                    map.insert("response".into(), nested);
                }
                outer
            })
            .boxed()
    }

    /// A response's variant object, without a nested response.
    fn inner_response() -> BoxedStrategy<Value> {
        let event = prop_oneof![
            Just("response.output_text.delta"),
            Just("response.refusal.done"),
            Just("response.function_call_arguments.delta"),
            Just("response.reasoning_summary_text.delta"),
            Just("response.created"),
            Just("chat.completion"),
        ];
        (
            (
                proptest::option::of(event),
                proptest::option::of(string()),
                proptest::option::of(string()),
            ),
            proptest::option::of(proptest::collection::vec(choice(), 0..3)),
            proptest::option::of(proptest::collection::vec(message(), 0..3)),
            (
                proptest::option::of(message()),
                proptest::option::of(block()),
            ),
        )
            .prop_map(|((kind, delta, text), choices, output, (item, part))| {
                object(vec![
                    ("type", kind.map(Value::from)),
                    ("delta", delta),
                    ("text", text),
                    ("choices", choices.map(Value::Array)),
                    ("output", output.map(Value::Array)),
                    ("item", item),
                    ("part", part),
                    (
                        "usage",
                        Some(json!({"total_tokens": 12345678901234567890u64})),
                    ),
                ])
            })
            .boxed()
    }

    fn request() -> BoxedStrategy<Value> {
        let input = prop_oneof![
            string(),
            proptest::collection::vec(prop_oneof![string(), message(), other()], 0..4)
                .prop_map(Value::Array),
            other(),
        ];
        (
            proptest::option::of(input.clone()),
            proptest::option::of(input),
            proptest::option::of(string()),
            proptest::option::of(string()),
        )
            .prop_map(|(input, prompt, instructions, params)| {
                object(vec![
                    ("model", Some(json!("m"))),
                    ("input", input),
                    ("prompt", prompt),
                    ("instructions", instructions),
                    (
                        "params",
                        params.map(|i| json!({"instructions": i, "top_p": 1.0})),
                    ),
                ])
            })
            .boxed()
    }

    /// `value` as a host may write it: keys in an order `seed` picks,
    /// whitespace, some characters escaped; with `repeat`, one object (the
    /// `repeat`-th written) gives its first key twice.
    fn write(value: &Value, seed: &mut u64, repeat: &mut Repeat, out: &mut String) {
        let next = |seed: &mut u64| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed
        };
        match value {
            Value::Object(map) => {
                let mut members: Vec<(&String, &Value)> = map.iter().collect();
                for i in (1..members.len()).rev() {
                    members.swap(i, (next(seed) % (i as u64 + 1)) as usize);
                }
                let space = [" ", "", "\n "][(next(seed) % 3) as usize];
                out.push('{');
                if repeat.objects_before == Some(0) && !members.is_empty() {
                    let key = Value::from(members[0].0.as_str());
                    out.push_str(&format!("{key}:\"earlier\","));
                    repeat.done = true;
                }
                repeat.objects_before = repeat.objects_before.and_then(|n| n.checked_sub(1));
                for (i, (key, value)) in members.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(space);
                    out.push_str(&Value::from(key.as_str()).to_string());
                    out.push(':');
                    write(value, seed, repeat, out);
                }
                out.push_str(space);
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(item, seed, repeat, out);
                }
                out.push(']');
            }
            Value::String(text) => {
                out.push('"');
                for c in text.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '/' if next(seed) % 2 == 0 => out.push_str("\\/"),
                        c if next(seed) % 4 == 0 => {
                            for unit in c.encode_utf16(&mut [0; 2]) {
                                out.push_str(&format!("\\u{unit:04x}"));
                            }
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            other => out.push_str(&other.to_string()),
        }
    }

    /// Which object written gives its first key twice (none when `None`),
    /// and whether one did.
    struct Repeat {
        objects_before: Option<usize>,
        done: bool,
    }

    /// A value of each shape, wrapped in a union's variant or not.
    fn host() -> BoxedStrategy<(Shape, Value)> {
        let wrap = |suffix: &'static str| {
            move |(inner, wrapped): (Value, bool)| match wrapped {
                true => json!({"extra": 1, suffix: inner, "z": {"q": "r"}}),
                false => inner,
            }
        };
        prop_oneof![
            (request(), any::<bool>())
                .prop_map(wrap("chat_request"))
                .prop_map(|v| (Shape::Request, v)),
            (response(), any::<bool>())
                .prop_map(wrap("chat_response"))
                .prop_map(|v| (Shape::Response, v)),
            response().prop_map(|v| (Shape::Chunk, v)),
        ]
        .boxed()
    }

    /// The texts and their edits through the parsed object (the walk of
    /// types/text.rs), as `texts_mut()` made them before texts were lent.
    fn through_the_map(
        text: &str,
        shape: Shape,
        edits: &[(usize, String)],
    ) -> (Vec<(String, Location)>, Vec<u8>) {
        let mut doc = Document::from_bytes(text.as_bytes(), "value").unwrap();
        let (root, edited) = doc.map_mut_lazily();
        let suffix = match shape {
            Shape::Request => Some("Request"),
            Shape::Response => Some("Response"),
            Shape::Chunk => None,
        };
        let key = suffix
            .and_then(|suffix| variant_key(root, suffix))
            .map(str::to_owned);
        let inner = match key {
            Some(key) => root.get_mut(&key).and_then(Value::as_object_mut).unwrap(),
            None => root,
        };
        let walk = match shape {
            Shape::Request => text::write::request,
            _ => text::write::response,
        };
        let texts: Vec<TextMut<'_>> = text::texts_mut(inner, Some(edited), walk).collect();
        let (found, _) = apply(texts, edits);
        (found, doc.into_json().unwrap())
    }

    /// What the texts read, with `edits` (index, new text) made.
    fn apply(texts: Vec<TextMut<'_>>, edits: &[(usize, String)]) -> (Vec<(String, Location)>, ()) {
        let mut texts = texts;
        let found = texts
            .iter()
            .map(|t| (t.to_string(), t.location()))
            .collect();
        for (index, new) in edits {
            if let Some(text) = texts.get_mut(*index) {
                text.set(new.as_str());
            }
        }
        (found, ())
    }

    proptest! {
        /// The texts found in the text are those of the parsed object, in
        /// the same order and places, and any edits of them give the same
        /// bytes as edits of the parsed object written over the text, also
        /// where an object gives a key twice.
        #[test]
        fn the_walk_over_text_finds_and_edits_what_the_walk_over_the_map_does(
            (shape, value) in host(),
            mut seed in any::<u64>(),
            repeat in proptest::option::weighted(0.2, 0usize..6),
            edits in proptest::collection::vec((0usize..8, prop_oneof![string(), Just(json!("é \"quoted\" \\ / 😀\n"))]), 0..4),
        ) {
            let mut text = String::new();
            let mut repeat = Repeat { objects_before: repeat, done: false };
            seed |= 1;
            write(&value, &mut seed, &mut repeat, &mut text);
            let repeated = repeat.done;
            let edits: Vec<(usize, String)> = edits.into_iter().map(|(i, t)| (i, t.as_str().unwrap().to_string())).collect();
            prop_assert_eq!(crate::json::members::repeats_a_key(text.as_bytes()), repeated, "{}", text);
            let (expected_texts, expected) = through_the_map(&text, shape, &edits);
            let mut doc = Document::from_bytes(text.as_bytes(), "value").unwrap();
            let (found, _) = apply(lend(&mut doc, shape).collect(), &edits);
            prop_assert_eq!(found, expected_texts, "{}", text);
            let ours = String::from_utf8(doc.into_json().unwrap()).unwrap();
            prop_assert_eq!(ours, String::from_utf8(expected).unwrap(), "{}", text);
        }
    }

    #[test]
    fn an_edited_or_built_value_lends_the_texts_it_would_be_written_with() {
        let text = r#"{"choices":[{"text":"a"}],"n":1.50}"#;
        let mut doc = Document::from_bytes(text.as_bytes(), "response").unwrap();
        doc.map_mut().insert("added".into(), json!("x"));
        for mut found in lend(&mut doc, Shape::Response) {
            found.set("A");
        }
        let written = String::from_utf8(doc.into_json().unwrap()).unwrap();
        assert_eq!(
            written,
            r#"{"choices":[{"text":"A"}],"n":1.50,"added":"x"}"#
        );
        let built = serde_json::from_str(r#"{"choices":[{"text":"a"}],"id":"i"}"#).unwrap();
        let mut doc = Document::from_map(built);
        for mut found in lend(&mut doc, Shape::Response) {
            found.set("B");
        }
        assert!(!doc.is_verbatim());
        let written = String::from_utf8(doc.into_json().unwrap()).unwrap();
        assert_eq!(written, r#"{"choices":[{"text":"B"}],"id":"i"}"#);
    }

    #[test]
    fn text_that_does_not_check_lends_nothing_and_says_why() {
        let _ = crate::types::document::take_deferred_error();
        let mut doc = Document::deferred(br#"{"choices":[{"text":"a"}],}"#, "response").unwrap();
        assert_eq!(lend(&mut doc, Shape::Response).count(), 0);
        let error = crate::types::document::take_deferred_error().unwrap();
        assert!(
            error.to_string().starts_with("response is not valid JSON"),
            "{error}"
        );
        assert!(doc.ensure_valid().is_err());
    }

    #[test]
    fn a_key_given_twice_is_written_once_where_it_is_given_last_after_an_edit() {
        let text = r#"{"choices":[{"text":"a","text":"b"}], "id":1, "x":{"k":1,"k":[2]}, "id":2}"#;
        let mut doc = Document::from_bytes(text.as_bytes(), "response").unwrap();
        let texts: Vec<String> = lend(&mut doc, Shape::Response)
            .map(|t| t.to_string())
            .collect();
        assert_eq!(texts, ["b"], "the text the parsed value keeps");
        assert!(doc.is_verbatim(), "nothing set: nothing changes");
        for mut found in lend(&mut doc, Shape::Response) {
            found.set("B");
        }
        let written = String::from_utf8(doc.into_json().unwrap()).unwrap();
        assert_eq!(
            written,
            r#"{"choices":[{"text":"B"}], "x":{"k":[2]}, "id":2}"#
        );
    }

    #[test]
    fn a_text_set_back_to_what_it_was_keeps_its_escapes() {
        let text = r#"{"choices":[{"message":{"role":"assistant","content":"caf\u00e9 \/ x"}}]}"#;
        let mut doc = Document::from_bytes(text.as_bytes(), "response").unwrap();
        for mut found in lend(&mut doc, Shape::Response) {
            assert_eq!(found, "café / x");
            found.set("other");
            found.set("café / x");
        }
        assert!(!doc.is_verbatim(), "set, though to the same text");
        assert_eq!(doc.into_json().unwrap(), text.as_bytes());
    }

    #[test]
    fn texts_set_are_in_the_text_once_the_texts_are_dropped() {
        let text =
            r#"{"choices":[{"message":{"role":"assistant","content":"a"}},{"text":"b"}],"n":1.50}"#;
        let mut doc = Document::from_bytes(text.as_bytes(), "response").unwrap();
        let _ = doc.map(); // parsed before: parsed again after
        for mut found in lend(&mut doc, Shape::Response) {
            let upper = found.to_uppercase();
            found.set(upper);
        }
        assert_eq!(doc.map()["choices"][1]["text"], "B");
        let expected = text.replace(r#""a""#, r#""A""#).replace(r#""b""#, r#""B""#);
        assert_eq!(doc.to_json().unwrap().as_ref(), expected.as_bytes());
        let _ = doc.map_mut();
        assert_eq!(doc.into_json().unwrap(), expected.as_bytes());
    }

    #[test]
    fn a_text_kept_after_the_others_are_dropped_is_written_when_it_is() {
        let text = r#"{"choices":[{"text":"a"},{"text":"b"}]}"#;
        let mut doc = Document::from_bytes(text.as_bytes(), "response").unwrap();
        let mut texts: Vec<TextMut<'_>> = lend(&mut doc, Shape::Response).collect();
        let mut last = texts.pop().unwrap();
        drop(texts);
        last.set("B");
        drop(last);
        assert_eq!(
            doc.into_json().unwrap(),
            text.replace("\"b\"", "\"B\"").as_bytes()
        );
    }
}
