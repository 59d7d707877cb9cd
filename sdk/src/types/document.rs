//! A JSON object from the host, kept verbatim until someone changes it.
//!
//! Most hooks look at a request (if at all) and pass it on. Re-serialising a
//! parsed request costs time and changes its bytes, so a [`Document`] keeps the
//! exact text it was given and parses it only when a typed accessor needs
//! the fields. It is written back verbatim unless it was mutated.
//!
//! A few edits (a request's model, a message added) are made on the text
//! itself ([`Document::text_edit`], types/patch.rs): the rest of the text is
//! kept as it is, never parsed.
//!
//! The LLM request and response go further ([`Document::deferred`]): they are
//! not even checked until used. Reading one parses it (serde_json's parser
//! checks it on the way); echoing an unedited one scans it once; an edited
//! one is parsed and written, never scanned. Either way a broken input is
//! reported in the hook's error and never echoed.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::fmt;
use std::ops::Range;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::host_texts::{self, HostText};
use super::kind::names_variant;
use crate::json::validate::Member;
use crate::json::{self, Kind};
use crate::types::InputError;

#[cfg(test)]
use crate::json::MAX_DEPTH;

/// A JSON object, parsed lazily; see the module docs.
#[derive(Clone)]
pub(crate) struct Document {
    /// The host's bytes while they are still the truth (nothing edited), and
    /// what they are called in errors.
    host: Option<(Vec<u8>, &'static str)>,
    /// Whether `host` has been checked ([`Document::deferred`] waits).
    checked: Cell<bool>,
    /// The parsed object, on first access.
    parsed: OnceCell<Map<String, Value>>,
    /// The text could not be checked or parsed: reads see an empty object,
    /// edits are dropped, and it is never echoed unchecked.
    opaque: Cell<bool>,
    /// How an edited object is written. Set by the code that edits or builds
    /// one, so a plugin that never does carries no JSON writer for objects.
    write_edited: Option<WriteObject>,
    /// Set by an edit made through [`Document::map_mut_lazily`]: from then on
    /// the host's text is stale, as if [`Document::map_mut`] had been called.
    edited: Cell<bool>,
    /// Where the top-level members of `host` are, kept once an edit made on
    /// the text ([`Document::text_edit`]) needed them.
    members: Option<Vec<Member>>,
    /// Whether `host` has been edited as text: still checked JSON, no longer
    /// the host's exact bytes.
    spliced: bool,
}

/// An edit of a document's text, lent by [`Document::text_edit`]: the text
/// (checked JSON) and its top-level members, kept true by [`TextEdit::splice`].
pub(crate) struct TextEdit<'a> {
    text: &'a mut Vec<u8>,
    members: &'a mut Vec<Member>,
    spliced: &'a mut bool,
}

impl TextEdit<'_> {
    /// The text as it is now.
    pub(crate) fn text(&self) -> &[u8] {
        self.text
    }

    /// Where its top-level members are.
    pub(crate) fn members(&self) -> &[Member] {
        self.members
    }

    /// Replaces `range` of the text with `with`, which keeps it valid JSON
    /// (a value in place of a value; an item or a member inside a list or an
    /// object, with its comma): the members after it move with it.
    pub(crate) fn splice(&mut self, range: Range<usize>, with: &[u8]) {
        let (end, grown) = (range.end, with.len() as isize - range.len() as isize);
        // One move of the bytes after `range` (`Vec::splice` goes through an
        // iterator, several times slower under an interpreter).
        let text = &mut *self.text;
        let old_len = text.len();
        if with.len() > range.len() {
            text.resize(old_len + with.len() - range.len(), 0);
        }
        text.copy_within(end..old_len, range.start + with.len());
        text[range.start..range.start + with.len()].copy_from_slice(with);
        text.truncate(old_len - range.len() + with.len());
        let moved = |at: &mut usize| {
            if *at >= end {
                *at = at.wrapping_add_signed(grown);
            }
        };
        for (key, value) in self.members.iter_mut() {
            for range in [key, value] {
                moved(&mut range.start);
                moved(&mut range.end);
            }
        }
        *self.spliced = true;
    }

    /// Inserts the member `key` (a key token) with `value` (a value's text)
    /// first in the top-level object.
    pub(crate) fn insert_first_member(&mut self, key: &[u8], value: &[u8]) {
        let at = self
            .text
            .iter()
            .position(|&b| b == b'{')
            .map_or(0, |at| at + 1);
        let mut member = [key, b":", value].concat();
        if !self.members.is_empty() {
            member.push(b',');
        }
        self.splice(at..at, &member);
        let value_start = at + key.len() + 1;
        let inserted = (at..at + key.len(), value_start..value_start + value.len());
        self.members.insert(0, inserted);
    }
}

/// Writes an edited object, over the host's text when there is one.
type WriteObject = fn(Option<&[u8]>, &Map<String, Value>) -> Option<Vec<u8>>;

/// Spare bytes after a copy of host text, for the fields an output writes
/// around it (`{"context":…,"request":` before it, flags after it).
pub(crate) const OUTPUT_ROOM: usize = 512;

/// Writes an object the plugin edited: over the host's text when there is
/// one.
fn write_object(host: Option<&[u8]>, map: &Map<String, Value>) -> Option<Vec<u8>> {
    match host {
        Some(host) => Some(json::rewrite::write_over(host, map)),
        None => write_built(None, map),
    }
}

/// Writes an object the plugin built (no host text): a plugin that only
/// builds values does not carry the writer over host text.
fn write_built(_: Option<&[u8]>, map: &Map<String, Value>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    crate::json::write::write_object(&mut out, map);
    Some(out)
}

crate::global::global! {
    /// Why a deferred document failed when the plugin first read it.
    static DEFERRED_ERROR: Cell<Option<InputError>> = Cell::new(None);
}

/// Takes the reason a deferred document failed when the plugin read it (since
/// the last call): the ABI layer then reports it instead of the hook's result,
/// which was computed from an empty view.
pub(crate) fn take_deferred_error() -> Option<InputError> {
    DEFERRED_ERROR.with(Cell::take)
}

impl Document {
    /// The host's `bytes`, kept verbatim; `checked` says whether they have
    /// passed [`check_object`] already.
    fn host(bytes: &[u8], what: &'static str, checked: bool) -> Self {
        // Room for the output's other fields after the copy: passed on
        // unread, this buffer becomes the hook's output (see `into_json`),
        // so a pass-through holds the input and one copy, not two.
        let mut copy = Vec::with_capacity(bytes.len() + OUTPUT_ROOM);
        copy.extend_from_slice(bytes);
        Document {
            host: Some((copy, what)),
            checked: Cell::new(checked),
            parsed: OnceCell::new(),
            opaque: Cell::new(false),
            write_edited: None,
            edited: Cell::new(false),
            members: None,
            spliced: false,
        }
    }

    /// Checks `bytes` as one UTF-8 JSON object now and keeps them.
    pub(crate) fn from_bytes(bytes: &[u8], what: &'static str) -> Result<Self, InputError> {
        check_object(bytes, what)?;
        Ok(Document::host(bytes, what, true))
    }

    /// Keeps `bytes` and checks them only when needed, once: a document the
    /// plugin edits is parsed (which checks it) and never scanned, and one it
    /// does not touch is scanned only to be echoed ([`Document::ensure_valid`]).
    /// An O(1) look at the ends runs now, so a wrong type or a truncated
    /// buffer is still reported before the hook runs.
    pub(crate) fn deferred(bytes: &[u8], what: &'static str) -> Result<Self, InputError> {
        let trimmed = bytes.trim_ascii();
        if !trimmed.starts_with(b"{") {
            // Not an object: the whole check says whether it is another
            // kind of JSON value or not JSON at all (`hello`). Only failing
            // inputs pay for it.
            return Err(match check_object(bytes, what) {
                Err(error) => error,
                Ok(()) => InputError::not_object(what, trimmed),
            });
        }
        if !trimmed.ends_with(b"}") {
            return Err(InputError::new(format!(
                "{what} is not a complete JSON object"
            )));
        }
        Ok(Document::host(bytes, what, false))
    }

    /// Keeps `bytes`, which the caller has checked (as part of a larger
    /// value): only the kind is looked at.
    pub(crate) fn from_checked(bytes: &[u8], what: &'static str) -> Result<Self, InputError> {
        if bytes.first() != Some(&b'{') {
            return Err(InputError::not_object(what, bytes));
        }
        Ok(Document::host(bytes, what, true))
    }

    /// The document, knowing where its top-level members are (found by the
    /// check of a larger value it was part of).
    pub(crate) fn with_members(mut self, members: Vec<Member>) -> Self {
        self.members = Some(members);
        self
    }

    /// A document built by the plugin.
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Document {
            host: None,
            checked: Cell::new(true),
            parsed: OnceCell::from(map),
            opaque: Cell::new(false),
            write_edited: Some(write_built),
            edited: Cell::new(false),
            members: None,
            spliced: false,
        }
    }

    /// The object's fields (parsed on first call).
    pub(crate) fn map(&self) -> &Map<String, Value> {
        self.parsed.get_or_init(|| {
            let parsed = match &self.host {
                Some((bytes, _)) if self.checked.get() => read_checked(bytes).ok_or(None),
                Some((bytes, what)) => {
                    let parsed = parse(bytes, what).map_err(Some);
                    self.checked.set(parsed.is_ok());
                    parsed
                }
                None => Ok(Map::new()),
            };
            parsed.unwrap_or_else(|error| {
                self.opaque.set(true);
                if let Some(error) = error {
                    DEFERRED_ERROR.with(|e| e.set(Some(error)));
                }
                Map::new()
            })
        })
    }

    /// The object's fields for writing: from now on the document is written
    /// from the parsed object, over the host's text (json/rewrite.rs: what
    /// the plugin did not change keeps the host's bytes).
    pub(crate) fn map_mut(&mut self) -> &mut Map<String, Value> {
        self.map();
        if !self.opaque.get() {
            self.edited.set(true);
            self.members = None;
            self.write_edited = Some(write_object);
        }
        self.parsed.get_mut().expect("initialised by map()")
    }

    /// The host's text for an edit made on the text itself, checked now if
    /// it was not yet (the check an echo would make anyway, which records
    /// the top-level members in the same pass). `None` when the edit must be
    /// made on the parsed object instead: the document has been read or
    /// edited through it already, or its text does not check (the parse then
    /// reports why).
    pub(crate) fn text_edit(&mut self) -> Option<TextEdit<'_>> {
        let (bytes, _) = self.host.as_mut()?;
        if self.parsed.get().is_some() || self.opaque.get() || self.edited.get() {
            return None;
        }
        if self.members.is_none() {
            let members = if self.checked.get() {
                json::members::member_ranges(bytes, 0).collect()
            } else {
                match json::validate_members(bytes, json::MAX_DEPTH, false) {
                    Ok((Kind::Object, members)) => members,
                    _ => return None,
                }
            };
            self.checked.set(true);
            self.members = Some(members);
        }
        Some(TextEdit {
            text: bytes,
            members: self.members.as_mut()?,
            spliced: &mut self.spliced,
        })
    }

    /// The object's fields for edits that may not happen (visiting texts
    /// that are set only where they change): the document stays verbatim
    /// until the caller sets the returned flag.
    pub(crate) fn map_mut_lazily(&mut self) -> (&mut Map<String, Value>, &Cell<bool>) {
        self.map();
        if !self.opaque.get() {
            self.write_edited = Some(write_object);
        }
        let map = self.parsed.get_mut().expect("initialised by map()");
        (map, &self.edited)
    }

    /// The text of member `key` of the host's object, or of its union
    /// variant for `suffix` (the one [`variant_key`](super::kind::variant_key)
    /// finds), read from the host's checked text without parsing it:
    /// `Some(None)` when there is no such member. `None` when the text alone
    /// cannot tell, and the caller reads the parsed map instead: the
    /// document has been parsed, edited or built, is not checked yet, or
    /// writes a key with escapes or gives a key that matters twice.
    pub(crate) fn host_member(&self, suffix: &str, key: &str) -> Option<Option<&[u8]>> {
        let (bytes, _) = self.host.as_ref()?;
        if !self.checked.get() || self.parsed.get().is_some() || self.edited.get() {
            return None;
        }
        let variant = only_member(bytes, 0, &|name, value| {
            value.starts_with(b"{") && names_variant(name, suffix)
        })?;
        let start = variant.map_or(0, |value| value.start);
        let found = only_member(bytes, start, &|name, _| name == key.as_bytes())?;
        Some(found.map(|value| &bytes[value]))
    }

    /// [`Document::host_member`] for a string member, as `Value::as_str`
    /// reads it (`Some(None)`: absent or not a string); `None` also when the
    /// string is written with escapes (it must be decoded: read the map).
    #[inline(never)]
    pub(crate) fn host_str(&self, suffix: &str, key: &str) -> Option<Option<&str>> {
        match self.host_member(suffix, key)? {
            Some([b'"', inner @ .., b'"']) => match inner.contains(&b'\\') {
                true => None,
                false => std::str::from_utf8(inner).ok().map(Some),
            },
            _ => Some(None),
        }
    }

    /// Whether the object has been parsed (edits are then made on it).
    #[cfg(test)]
    pub(crate) fn was_parsed(&self) -> bool {
        self.parsed.get().is_some()
    }

    /// Whether the document still holds the host's exact text.
    pub(crate) fn is_verbatim(&self) -> bool {
        self.host.is_some() && !self.edited.get() && !self.spliced
    }

    /// The text texts are found and edited in ([`host_texts`]): the host's,
    /// checked now if it was not yet. An object the plugin edited or built
    /// is written first (as it would be written out) and is text from then
    /// on. `None` when the text does not check: the reason is recorded for
    /// the hook to report, as a read records it.
    #[inline(never)]
    pub(crate) fn text_to_lend(&mut self) -> Option<&[u8]> {
        if self.opaque.get() {
            return None;
        }
        if self.host.is_none() || self.edited.get() {
            let written = self.write_edited_object()?;
            let what = self.host.as_ref().map_or("value", |(_, what)| *what);
            self.host = Some((written, what));
            self.edited.set(false);
            self.parsed = OnceCell::new();
            self.members = None;
            self.spliced = true;
            self.checked.set(true);
        }
        let (bytes, what) = self.host.as_ref()?;
        if !self.checked.get() {
            if let Err(error) = check_object(bytes, what) {
                self.opaque.set(true);
                DEFERRED_ERROR.with(|e| e.set(Some(error)));
                return None;
            }
            self.checked.set(true);
        }
        Some(bytes)
    }

    /// Writes the texts lent from the host's text that were set into it
    /// ([`host_texts::splice`]): from then on it is edited text.
    pub(crate) fn splice_texts(&mut self, texts: &mut [HostText]) {
        let Some((bytes, _)) = &mut self.host else {
            return;
        };
        if let Some(spliced) = host_texts::splice(bytes, texts, OUTPUT_ROOM) {
            *bytes = spliced;
            self.members = None;
            self.spliced = true;
            // A parse made before the edit no longer says what the text does.
            self.parsed = OnceCell::new();
        }
    }

    /// Makes sure the document can be written back: text the host sent is
    /// checked now if it was not yet (the one pass a pass-through pays).
    pub(crate) fn ensure_valid(&self) -> Result<(), InputError> {
        self.echo().map(|_| ())
    }

    /// The checked host text to echo, `None` once edited.
    pub(crate) fn echo(&self) -> Result<Option<&[u8]>, InputError> {
        let Some((bytes, what)) = &self.host else {
            return Ok(None);
        };
        // (An opaque document has no fields to edit: its text stays.)
        if self.edited.get() && !self.opaque.get() {
            return Ok(None);
        }
        // With the opt-in feature `unchecked-echo` the host's bytes go back
        // as they came, unchecked: a malformed value is echoed malformed.
        if !self.checked.get() && !cfg!(feature = "unchecked-echo") {
            check_object(bytes, what)?;
            self.checked.set(true);
        }
        Ok(Some(bytes))
    }

    /// [`Document::to_json`] that gives up the document: the host's text is
    /// handed over in its own buffer (with [`OUTPUT_ROOM`] spare), not copied.
    pub(crate) fn into_json(self) -> Option<Vec<u8>> {
        match self.echo() {
            Ok(Some(_)) => self.host.map(|(bytes, _)| bytes),
            Ok(None) => self.write_edited_object(),
            Err(_) => None,
        }
    }

    /// The edited object written over the host's text (if any).
    fn write_edited_object(&self) -> Option<Vec<u8>> {
        let host = self.host.as_ref().map(|(bytes, _)| bytes.as_slice());
        (self.write_edited?)(host, self.parsed.get()?)
    }

    /// The document as JSON text: the host's, or the edited object serialised.
    /// `None` for host text that does not check (the ABI layer reports why
    /// from [`Document::ensure_valid`]).
    pub(crate) fn to_json(&self) -> Option<Cow<'_, [u8]>> {
        match self.echo() {
            Ok(Some(text)) => Some(Cow::Borrowed(text)),
            Ok(None) => self.write_edited_object().map(Cow::Owned),
            Err(_) => None,
        }
    }
}

/// Checks `bytes` as [`check_object`] does, then reads them (feature
/// `compact-reader`).
#[cfg(feature = "compact-reader")]
fn parse(bytes: &[u8], what: &'static str) -> Result<Map<String, Value>, InputError> {
    check_object(bytes, what)?;
    Ok(read_checked(bytes).unwrap_or_default())
}

/// Parses `bytes` as one UTF-8 JSON object, with the limits of
/// [`check_object`]: serde_json's parser itself refuses lone surrogates and
/// numbers beyond `f64`; the depth is checked on the tree.
#[cfg(not(feature = "compact-reader"))]
fn parse(bytes: &[u8], what: &'static str) -> Result<Map<String, Value>, InputError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| InputError::new(format!("{what} is not valid UTF-8: {e}")))?;
    if !text.trim_start().starts_with('{') {
        return Err(InputError::not_object(what, text.as_bytes()));
    }
    let map: Map<String, Value> = serde_json::from_str(text)
        .map_err(|e| InputError::new(format!("{what} is not valid JSON: {e}")))?;
    if map
        .values()
        .any(|value| deeper_than(value, crate::json::MAX_DEPTH - 1))
    {
        return Err(InputError::new(format!(
            "{what} is nested deeper than {} levels",
            crate::json::MAX_DEPTH
        )));
    }
    Ok(map)
}

/// Whether `value` nests more than `levels` arrays or objects.
#[cfg(not(feature = "compact-reader"))]
fn deeper_than(value: &Value, levels: usize) -> bool {
    match value {
        Value::Array(items) => levels == 0 || items.iter().any(|v| deeper_than(v, levels - 1)),
        Value::Object(map) => levels == 0 || map.values().any(|v| deeper_than(v, levels - 1)),
        _ => false,
    }
}

/// The one member of the object at `start` in `text` (checked JSON) whose
/// key and value `matches`: its value's range, `Some(None)` when none does;
/// `None` when two do or a key is written with escapes (then only the
/// parsed map can tell which one counts). One loop for both of
/// [`Document::host_member`]'s lookups, so the member scan is in the
/// `.wasm` once.
#[inline(never)]
fn only_member(
    text: &[u8],
    start: usize,
    matches: &dyn Fn(&[u8], &[u8]) -> bool,
) -> Option<Option<Range<usize>>> {
    let mut found = None;
    for (key, value) in json::members::member_ranges(text, start) {
        let name = &text[key.start + 1..key.end - 1];
        if name.contains(&b'\\') {
            return None;
        }
        if matches(name, &text[value.clone()]) && found.replace(value).is_some() {
            return None;
        }
    }
    Some(found)
}

/// Reads checked object text. By default with serde_json's parser (the
/// fastest); with the feature `compact-reader` with the SDK's own reader,
/// which builds the same values (a property test pins that) and spares a
/// plugin that reads LLM values serde_json's parser (~85 KB of .wasm), at
/// about 1.5x the time of a typed edit under wasmi (see the guide, docs/src/building.md).
pub(crate) fn read_checked(bytes: &[u8]) -> Option<Map<String, Value>> {
    if cfg!(feature = "compact-reader") {
        match crate::json::de::value_from_checked(bytes) {
            Value::Object(map) => Some(map),
            _ => None,
        }
    } else {
        serde_json::from_slice(bytes).ok()
    }
}

impl PartialEq for Document {
    fn eq(&self, other: &Self) -> bool {
        self.map() == other.map()
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Some((bytes, _)) if !self.edited.get() => f.write_str(&String::from_utf8_lossy(bytes)),
            _ => write!(f, "{}", Value::Object(self.map().clone())),
        }
    }
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Host text that does not check is never written out; the ABI layer
        // calls `ensure_valid` first and reports the reason instead.
        match self.echo().map_err(serde::ser::Error::custom)? {
            Some(text) => {
                let text = std::str::from_utf8(text).map_err(serde::ser::Error::custom)?;
                let raw =
                    RawValue::from_string(text.to_owned()).map_err(serde::ser::Error::custom)?;
                raw.serialize(serializer)
            }
            None => match self.host.as_ref().and(self.write_edited_object()) {
                // Written over the host's text, as the ABI layer writes it.
                Some(text) => {
                    let text = String::from_utf8(text).map_err(serde::ser::Error::custom)?;
                    let raw = RawValue::from_string(text).map_err(serde::ser::Error::custom)?;
                    raw.serialize(serializer)
                }
                None => self.map().serialize(serializer),
            },
        }
    }
}

/// Checks that `bytes` are one JSON object the SDK can parse and echo: valid
/// UTF-8 and syntax, no deeper than [`crate::json::MAX_DEPTH`], no unpaired surrogate
/// escape, no number beyond `f64`.
pub(crate) fn check_object(bytes: &[u8], what: &'static str) -> Result<(), InputError> {
    match check_value(bytes, what)? {
        Kind::Object => Ok(()),
        kind => Err(InputError::wrong_kind(what, kind)),
    }
}

/// The limits of [`check_object`] for a value of any kind; says which kind.
pub(crate) fn check_value(bytes: &[u8], what: &'static str) -> Result<Kind, InputError> {
    json::validate(bytes).map_err(|invalid| InputError::invalid(what, invalid))
}

/// Gives a view type with a `doc: Document` field what every such view
/// has: reading from the host's bytes, the whole object for reading and
/// editing, whether it is still verbatim, and serialisation.
macro_rules! document_view {
    ($view:ident, $what:literal) => {
        impl $view {
            #[allow(dead_code)] // not every view is read eagerly
            pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, $crate::types::InputError> {
                Ok($view {
                    doc: $crate::types::document::Document::from_bytes(bytes, $what)?,
                })
            }

            /// Keeps host bytes already checked as part of a larger value.
            #[allow(dead_code)] // used by the single-input ABI only
            pub(crate) fn from_checked(bytes: &[u8]) -> Result<Self, $crate::types::InputError> {
                Ok($view {
                    doc: $crate::types::document::Document::from_checked(bytes, $what)?,
                })
            }

            /// Keeps the host's bytes, checked only when read or echoed.
            #[allow(dead_code)] // not every view is deferred
            pub(crate) fn deferred(bytes: &[u8]) -> Result<Self, $crate::types::InputError> {
                Ok($view {
                    doc: $crate::types::document::Document::deferred(bytes, $what)?,
                })
            }

            /// Checks host text not checked yet, before it is echoed.
            #[allow(dead_code)] // not every view is deferred
            pub(crate) fn ensure_valid(&self) -> Result<(), $crate::types::InputError> {
                self.doc.ensure_valid()
            }

            /// The JSON text to write out: the host's, or the edited object
            /// serialised; `None` for host text that does not check.
            #[allow(dead_code)] // not every view is written by every ABI
            pub(crate) fn to_json(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
                self.doc.to_json()
            }

            /// [`Self::to_json`], handing over the host's text without a copy.
            #[allow(dead_code)] // not every view is written by every ABI
            pub(crate) fn into_json(self) -> Option<Vec<u8>> {
                self.doc.into_json()
            }

            /// The whole object, as the host sent it (or as edited).
            pub fn json(&self) -> &serde_json::Map<String, serde_json::Value> {
                self.doc.map()
            }

            /// The whole object, for edits the accessors do not cover. From
            /// then on it is written back from the parsed value.
            pub fn json_mut(&mut self) -> &mut serde_json::Map<String, serde_json::Value> {
                self.doc.map_mut()
            }

            /// Whether it is still exactly the host's text (nothing edited), in
            /// which case it goes back byte for byte.
            pub fn is_unchanged(&self) -> bool {
                self.doc.is_verbatim()
            }
        }

        impl serde::Serialize for $view {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.doc.serialize(serializer)
            }
        }
    };
}
pub(crate) use document_view;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_documents_are_written_back_byte_for_byte() {
        let text = r#"{ "b" : 1.50, "a":[1, 2] ,"u":"\u00e9"}"#;
        let doc = Document::from_bytes(text.as_bytes(), "request").unwrap();
        assert_eq!(doc.map()["b"], 1.5);
        assert_eq!(serde_json::to_string(&doc).unwrap(), text);
    }

    #[test]
    fn mutated_documents_keep_every_other_field() {
        let mut doc = Document::from_bytes(br#"{"keep":{"x":[1]},"n":1}"#, "request").unwrap();
        doc.map_mut().insert("n".into(), 2.into());
        let out: Value = serde_json::from_str(&serde_json::to_string(&doc).unwrap()).unwrap();
        assert_eq!(out, serde_json::json!({"keep": {"x": [1]}, "n": 2}));
    }

    #[test]
    fn rejects_what_is_not_one_json_object() {
        for bad in [
            &b""[..],
            b"{",
            b"[1]",
            b"\"s\"",
            b"null",
            b"{} {}",
            b"{\"a\":\xff}",
        ] {
            assert!(Document::from_bytes(bad, "request").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unpaired_surrogate_escapes_are_rejected_and_pairs_accepted() {
        let pair = Document::from_bytes(br#"{"s":"\ud83d\ude00 \\ud800 \u00e9"}"#, "x").unwrap();
        assert_eq!(pair.map()["s"], "\u{1F600} \\ud800 \u{e9}");
        for lone in [
            r#"{"s":"\uDFFF"}"#,
            r#"{"s":"\ud800"}"#,
            r#"{"s":"\ud800\u0041"}"#,
            r#"{"s":"a\udbff"}"#,
        ] {
            let err = Document::from_bytes(lone.as_bytes(), "request").unwrap_err();
            assert!(
                err.to_string().contains("unpaired UTF-16 surrogate"),
                "{lone}: {err}"
            );
        }
    }

    #[test]
    fn numbers_beyond_f64_are_rejected_and_the_rest_kept_exactly() {
        let big = format!("1{}", "0".repeat(400));
        for bad in ["1e999", "-1E+309", big.as_str()] {
            let err =
                Document::from_bytes(format!(r#"{{"n":{bad}}}"#).as_bytes(), "x").unwrap_err();
            assert!(
                err.to_string().contains("number out of range"),
                "{bad}: {err}"
            );
        }
        let text = r#"{"a":-0,"b":1e-400,"c":18446744073709551616,"d":1.5E+3,"s":"1e999"}"#;
        let doc = Document::from_bytes(text.as_bytes(), "x").unwrap();
        assert_eq!(doc.map().len(), 5);
        assert_eq!(serde_json::to_string(&doc).unwrap(), text);
    }

    #[test]
    #[cfg(not(feature = "compact-reader"))]
    fn a_document_that_cannot_be_parsed_goes_back_unchanged_rather_than_empty() {
        // Bypasses validation, which makes this impossible for host input.
        let text = r#"{"keep":"me","s":"\udc00"}"#;
        let mut doc = Document {
            host: Some((text.as_bytes().into(), "x")),
            checked: Cell::new(true),
            parsed: OnceCell::new(),
            opaque: Cell::new(false),
            write_edited: None,
            edited: Cell::new(false),
            members: None,
            spliced: false,
        };
        assert!(doc.map().is_empty());
        doc.map_mut().insert("edit".into(), 1.into());
        assert_eq!(serde_json::to_string(&doc).unwrap(), text);
    }

    #[test]
    fn a_deferred_document_is_checked_only_to_be_echoed() {
        let text = r#"{ "model" : "m", "n": 1.50 }"#;
        let doc = Document::deferred(text.as_bytes(), "request").unwrap();
        assert!(doc.is_verbatim());
        assert_eq!(doc.ensure_valid(), Ok(()));
        assert_eq!(serde_json::to_string(&doc).unwrap(), text);

        let broken = Document::deferred(br#"{"model": "m", "x": [1,}"#, "request").unwrap();
        let err = broken.ensure_valid().unwrap_err().to_string();
        assert!(err.starts_with("request is not valid JSON"), "{err}");
        let err = serde_json::to_string(&broken).unwrap_err().to_string();
        assert!(
            err.starts_with("request is not valid JSON"),
            "never echoed: {err}"
        );
        assert_eq!(take_deferred_error(), None, "nothing was read");
    }

    #[test]
    fn reading_a_deferred_document_parses_it_and_reports_what_is_wrong() {
        let doc = Document::deferred(br#"{"model":"m"}"#, "request").unwrap();
        assert_eq!(doc.map()["model"], "m");
        assert_eq!(take_deferred_error(), None);

        let cases: [(&[u8], &str); 3] = [
            (b"{\"m\": \"\xff\"}", "request is not valid UTF-8"),
            (
                br#"{"m": "\udc00"}"#,
                if cfg!(feature = "compact-reader") {
                    "request has an unpaired UTF-16 surrogate escape at byte 7"
                } else {
                    "request is not valid JSON: lone"
                },
            ),
            (
                br#"{"n": 1e999}"#,
                if cfg!(feature = "compact-reader") {
                    "request has a number out of range at byte 6"
                } else {
                    "request is not valid JSON: number out of range"
                },
            ),
        ];
        for (bytes, expected) in cases {
            let doc = Document::deferred(bytes, "request").unwrap();
            assert!(doc.map().is_empty());
            let err = take_deferred_error().expect("reported").to_string();
            assert!(err.starts_with(expected), "{err}");
            assert!(doc.ensure_valid().is_err(), "nor echoed");
        }
    }

    #[test]
    fn a_deferred_document_keeps_the_depth_limit() {
        let nested = |levels: usize| {
            let inner = "[".repeat(levels) + &"]".repeat(levels);
            Document::deferred(format!(r#"{{"a":{inner}}}"#).as_bytes(), "request").unwrap()
        };
        assert!(nested(MAX_DEPTH - 1).map().contains_key("a"));
        assert_eq!(take_deferred_error(), None);
        assert!(nested(MAX_DEPTH).map().is_empty());
        let err = take_deferred_error().unwrap().to_string();
        assert!(err.contains("nested deeper than 100"), "{err}");
        assert!(nested(MAX_DEPTH).ensure_valid().is_err(), "the scan agrees");
    }

    #[test]
    fn a_deferred_document_rejects_a_wrong_type_or_truncation_at_once() {
        let err = |bytes: &[u8]| {
            Document::deferred(bytes, "request")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err(b" [1] "), "request must be a JSON object, got an array");
        assert_eq!(err(b"null"), "request must be a JSON object, got null");
        assert_eq!(err(br#"{"a":1"#), "request is not a complete JSON object");
        // Text that is no JSON value at all is said to be so, not taken
        // for a number.
        for text in ["hello", "x", "Hello}", "-"] {
            assert!(
                err(text.as_bytes()).starts_with("request is not valid JSON: "),
                "{text}: {}",
                err(text.as_bytes())
            );
        }
        assert_eq!(err(b"12"), "request must be a JSON object, got a number");
    }

    #[test]
    fn an_edited_deferred_document_is_written_over_the_host_text() {
        let mut doc = Document::deferred(br#"{"b": 1.50, "a": 2}"#, "request").unwrap();
        doc.map_mut().insert("c".into(), 3.into());
        assert!(!doc.is_verbatim());
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            r#"{"b": 1.50, "a": 2,"c":3}"#
        );
        assert_eq!(doc.to_json().unwrap(), &br#"{"b": 1.50, "a": 2,"c":3}"#[..]);
    }

    #[test]
    fn quotes_escapes_and_surrogates_are_found_at_every_offset_of_a_word() {
        for pad in 0..24 {
            let x = "x".repeat(pad);
            // An escaped quote, then brackets still inside the string.
            let inside = format!(r#"{{"s":"{x}\"[[[[{x}","t":1}}"#);
            let doc = Document::from_bytes(inside.as_bytes(), "x").unwrap();
            assert_eq!(doc.map()["t"], 1, "pad {pad}");
            let lone = format!(r#"{{"s":"{x}\udc00{x}"}}"#);
            assert!(
                Document::from_bytes(lone.as_bytes(), "x").is_err(),
                "pad {pad}"
            );
            let deep = format!(
                r#"{{"s":"{x}","d":{}{}}}"#,
                "[".repeat(MAX_DEPTH),
                "]".repeat(MAX_DEPTH)
            );
            assert!(
                Document::from_bytes(deep.as_bytes(), "x").is_err(),
                "pad {pad}"
            );
        }
    }

    #[test]
    fn depth_limit_counts_only_brackets_outside_strings() {
        let ok = "[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1);
        let doc = Document::from_bytes(
            format!("{{\"a\":{ok},\"s\":\"[[[[\\\"[\"}}").as_bytes(),
            "x",
        );
        assert!(doc.unwrap().map().contains_key("a"));
        let deep = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        let err = Document::from_bytes(format!("{{\"a\":{deep}}}").as_bytes(), "x").unwrap_err();
        assert!(err.to_string().contains("nested deeper"), "{err}");
    }
}
