//! One pass over host bytes that decides whether they are a JSON value the
//! SDK may echo: UTF-8, RFC 8259 syntax, nesting no deeper than
//! [`MAX_DEPTH`], no unpaired `\u` surrogate escapes, no number beyond `f64`.
//!
//! This is what a pass-through costs, so it is written for an interpreter:
//! one loop, no recursion, no allocation, and the bulk of a chat request
//! (message text) is skipped eight bytes per iteration.

use std::fmt;
use std::ops::Range;

/// Deepest nesting accepted. Below serde_json's limit (128) when building
/// values, so a document accepted here can always be parsed later, with room
/// for the levels an output adds around it (`{"short_circuit":{"response":…}}`)
/// so a host with that limit can read what the plugin echoes.
pub(crate) const MAX_DEPTH: usize = 100;

/// What is wrong with the bytes, and at which byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// A byte sequence that is not UTF-8.
    Utf8(usize),
    /// A byte that cannot come here; `expected` says what could.
    Unexpected { at: usize, expected: &'static str },
    /// The bytes end inside a value.
    Truncated { expected: &'static str },
    /// More than whitespace after the value.
    Trailing(usize),
    /// A control character (below U+0020) inside a string.
    ControlCharacter(usize),
    /// A `\u` escape of half a UTF-16 surrogate pair without the other half.
    Surrogate(usize),
    /// A number too large for `f64`.
    NumberOutOfRange(usize),
    /// Nesting deeper than the limit (levels).
    TooDeep(usize),
}

/// What is wrong, as the rest of a sentence about the value: "is not valid
/// JSON: expected `:` at byte 5".
impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (phrase, detail, number) = match *self {
            Invalid::Utf8(at) => ("is not valid UTF-8: invalid byte at ", "", at),
            Invalid::Unexpected { at, expected } => ("is not valid JSON: expected ", expected, at),
            Invalid::Truncated { expected } => {
                return write!(
                    f,
                    "is not valid JSON: input ends where {expected} was expected"
                )
            }
            Invalid::Trailing(at) => ("is not valid JSON: trailing characters at byte ", "", at),
            Invalid::ControlCharacter(at) => (
                "is not valid JSON: control character in a string at byte ",
                "",
                at,
            ),
            Invalid::Surrogate(at) => ("has an unpaired UTF-16 surrogate escape at byte ", "", at),
            Invalid::NumberOutOfRange(at) => ("has a number out of range at byte ", "", at),
            Invalid::TooDeep(limit) => return write!(f, "is nested deeper than {limit} levels"),
        };
        match detail {
            "" => write!(f, "{phrase}{number}"),
            _ => write!(f, "{phrase}{detail} at byte {number}"),
        }
    }
}

impl Invalid {
    /// The problem as seen from a value that starts `start` bytes into the
    /// text it was found in: its offset counted from that value instead.
    pub(crate) fn within(self, start: usize) -> Invalid {
        let from = |at: usize| at.saturating_sub(start);
        match self {
            Invalid::Utf8(at) => Invalid::Utf8(from(at)),
            Invalid::Unexpected { at, expected } => Invalid::Unexpected {
                at: from(at),
                expected,
            },
            Invalid::Trailing(at) => Invalid::Trailing(from(at)),
            Invalid::ControlCharacter(at) => Invalid::ControlCharacter(from(at)),
            Invalid::Surrogate(at) => Invalid::Surrogate(from(at)),
            Invalid::NumberOutOfRange(at) => Invalid::NumberOutOfRange(from(at)),
            Invalid::Truncated { .. } | Invalid::TooDeep(_) => self,
        }
    }

    /// The byte the problem is at, when it has one.
    fn offset(self) -> Option<usize> {
        match self {
            Invalid::Utf8(at)
            | Invalid::Unexpected { at, .. }
            | Invalid::Trailing(at)
            | Invalid::ControlCharacter(at)
            | Invalid::Surrogate(at)
            | Invalid::NumberOutOfRange(at) => Some(at),
            Invalid::Truncated { .. } | Invalid::TooDeep(_) => None,
        }
    }
}

/// The kind of the top-level value, for "must be an object, got …" errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

impl Kind {
    /// The kind of the JSON value starting at the first non-whitespace byte
    /// of `text` (which must be one).
    pub(crate) fn of(text: &[u8]) -> Kind {
        match text.trim_ascii_start().first() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'n') => Kind::Null,
            _ => Kind::Number,
        }
    }

    /// "an object", "an array", …
    pub(crate) fn described(self) -> &'static str {
        match self {
            Kind::Object => "an object",
            Kind::Array => "an array",
            Kind::String => "a string",
            Kind::Number => "a number",
            Kind::Bool => "a boolean",
            Kind::Null => "null",
        }
    }
}

/// Checks that `bytes` hold exactly one JSON value (whitespace around it
/// allowed) within the SDK's limits, and says what kind it is.
pub(crate) fn validate(bytes: &[u8]) -> Result<Kind, Invalid> {
    validate_nested(bytes, MAX_DEPTH)
}

/// Deepest nesting serde_json parses (its 128th level fails): what a
/// plugin's configuration may use, since no output carries it.
pub(crate) const CONFIG_MAX_DEPTH: usize = 127;

/// [`validate`], with nesting limited to `max_depth` (at most 128) levels.
pub(crate) fn validate_nested(bytes: &[u8], max_depth: usize) -> Result<Kind, Invalid> {
    let mut scan = Scanner {
        bytes,
        at: 0,
        max_depth: max_depth.min(128),
        syntax_only: false,
        members: None,
        nested: None,
    };
    scan.document::<false>()
}

/// One member of a top-level object: where its key token (quotes included)
/// and its value's text are in the input.
pub(crate) type Member = (Range<usize>, Range<usize>);

/// [`validate_nested`] that also returns the members of the top-level
/// object, found in the same pass: a caller that needs both (the
/// single-input envelope) reads the bytes once. With `syntax_only` it checks
/// UTF-8 and syntax alone (nesting up to 128 levels): what any JSON parser
/// accepts, though a value inside may still break the SDK's limits (a lone
/// surrogate escape, a number beyond `f64`, deep nesting).
/// The list is empty when the value is not an object.
pub(crate) fn validate_members(
    bytes: &[u8],
    max_depth: usize,
    syntax_only: bool,
) -> Result<(Kind, Vec<Member>), Invalid> {
    validate_nested_members(bytes, max_depth, syntax_only, false)
        .map(|(kind, members, _)| (kind, members))
}

/// [`validate_members`] that, with `nested`, also returns the members of
/// the objects that are top-level values (the single-input envelope's
/// request), so that an edit made on that text need not find them again.
pub(crate) fn validate_nested_members(
    bytes: &[u8],
    max_depth: usize,
    syntax_only: bool,
    nested: bool,
) -> Result<(Kind, Vec<Member>, Vec<Member>), Invalid> {
    let (mut members, mut inner) = (Vec::new(), Vec::new());
    let mut scan = Scanner {
        bytes,
        at: 0,
        max_depth: if syntax_only { 128 } else { max_depth.min(128) },
        syntax_only,
        members: Some(&mut members),
        nested: nested.then_some(&mut inner),
    };
    let kind = scan.document::<true>()?;
    Ok((kind, members, inner))
}

/// The top-level member whose value holds `invalid`, the problem
/// [`validate_nested_members`] found in `bytes` with these `max_depth` and
/// `syntax_only`: its key token and where its value starts. `None` when the
/// problem lies outside every member's value (in a key, between members,
/// after the object) or has no offset (the text ends too early). Scans the
/// text again: only a failed check calls it.
pub(crate) fn member_at_fault(
    bytes: &[u8],
    max_depth: usize,
    syntax_only: bool,
    invalid: Invalid,
) -> Option<(Range<usize>, usize)> {
    let fault = invalid.offset()?;
    let max_depth = if syntax_only { 128 } else { max_depth.min(128) };
    let mut members = Vec::new();
    // The same problem again, with the members before it recorded.
    let _ = Scanner {
        bytes,
        at: 0,
        max_depth,
        syntax_only,
        members: Some(&mut members),
        nested: None,
    }
    .document::<true>();
    // The member after the last whole one: `{` or `,`, then its key.
    let mut scan = Scanner {
        bytes,
        at: members.last().map_or(0, |(_, value)| value.end),
        max_depth,
        syntax_only,
        members: None,
        nested: None,
    };
    scan.skip_whitespace();
    match scan.next_byte("").ok()? {
        b'{' if members.is_empty() => {}
        b',' if !members.is_empty() => {}
        _ => return None,
    }
    let key = scan.key().ok()?;
    scan.skip_whitespace();
    (scan.at <= fault).then_some((key, scan.at))
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    max_depth: usize,
    /// Skip the value checks (surrogates, number range).
    syntax_only: bool,
    /// Where the top-level object's members are, when asked for.
    /// (Borrowed, so that the scanner has nothing to drop.)
    members: Option<&'a mut Vec<Member>>,
    /// Where the members of objects one level down are, when asked for.
    nested: Option<&'a mut Vec<Member>>,
}

/// The containers open around the scanner: how many, and one bit each,
/// innermost lowest, 1 = object (MAX_DEPTH levels fit in a `u128`).
struct Nesting {
    depth: usize,
    open: u128,
}

impl Nesting {
    /// Whether the innermost open container is an object.
    #[inline(always)]
    fn in_object(&self) -> bool {
        self.open & 1 == 1
    }
}

/// A position in the bytes, kept in locals by the loops that read on from
/// it byte by byte (see [`Scanner::value`]).
#[derive(Clone, Copy)]
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    #[inline(always)]
    fn next_byte(&mut self, expected: &'static str) -> Result<u8, Invalid> {
        let byte = self.peek().ok_or(Invalid::Truncated { expected })?;
        self.at += 1;
        Ok(byte)
    }

    /// The error for the byte at `at`: not UTF-8 is reported as such.
    fn unexpected(&self, at: usize, expected: &'static str) -> Invalid {
        if self.bytes[at] >= 0x80 {
            Invalid::Utf8(at)
        } else {
            Invalid::Unexpected { at, expected }
        }
    }

    #[inline(always)]
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    /// Opens the container whose `{` or `[` was just read, below
    /// `max_depth` levels: `Ok(true)` when a member or an element follows,
    /// `Ok(false)` when it closes at once.
    #[inline(always)]
    fn open(
        &mut self,
        nest: &mut Nesting,
        object: bool,
        max_depth: usize,
    ) -> Result<bool, Invalid> {
        if nest.depth == max_depth {
            return Err(Invalid::TooDeep(max_depth));
        }
        self.skip_whitespace();
        let close = if object { b'}' } else { b']' };
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(false);
        }
        nest.depth += 1;
        nest.open = (nest.open << 1) | object as u128;
        Ok(true)
    }

    /// What follows a value in the innermost open container: `Ok(true)` at
    /// a `,` (another member or element), `Ok(false)` at the container's
    /// close, which closes it.
    #[inline(always)]
    fn after_value(&mut self, nest: &mut Nesting) -> Result<bool, Invalid> {
        self.skip_whitespace();
        let in_object = nest.in_object();
        let expected = if in_object {
            "`,` or `}`"
        } else {
            "`,` or `]`"
        };
        match self.next_byte(expected)? {
            b',' => return Ok(true),
            b'}' if in_object => {}
            b']' if !in_object => {}
            _ => return Err(self.unexpected(self.at - 1, expected)),
        }
        nest.depth -= 1;
        nest.open >>= 1;
        Ok(false)
    }
}

impl<'a> Scanner<'a> {
    /// The input: one value with whitespace around it, recording members
    /// when `RECORD`.
    fn document<const RECORD: bool>(&mut self) -> Result<Kind, Invalid> {
        // The kind of the value, if it is one (else the scan reports why).
        let kind = Kind::of(self.bytes);
        match RECORD {
            true => self.recorded_value()?,
            false => self.value(0)?,
        }
        self.skip_whitespace();
        match self.peek() {
            None => Ok(kind),
            Some(_) => Err(Invalid::Trailing(self.at)),
        }
    }

    /// One value, inside `outer` open containers: the loop that checks
    /// every byte, without recursion or recording (the bulk of a request
    /// lies below the levels whose members are recorded). Keys and string
    /// values are passed over by the same code: under an interpreter a call
    /// costs more than the bytes of a short string.
    fn value(&mut self, outer: usize) -> Result<(), Invalid> {
        // The position lives in a local cursor, not in `self.at`: behind
        // `&mut self`, and with calls in the loop, the compiler would store
        // it and load it back (with the slice) at every token. It goes back
        // to `self` only around the calls that read on from it.
        let mut cur = self.cursor();
        let mut nest = Nesting {
            depth: outer,
            open: 0,
        };
        // Whether what comes next is an object's key.
        let mut key = false;
        'value: loop {
            cur.skip_whitespace();
            let expected = if key { "a string key" } else { "a value" };
            let byte = cur.next_byte(expected)?;
            match byte {
                b'"' => {
                    match plain_run(cur.bytes, cur.at) {
                        Ok(end) => cur.at = end,
                        Err(at) => {
                            self.at = at;
                            self.string_slow()?;
                            cur.at = self.at;
                        }
                    }
                    if key {
                        key = false;
                        cur.skip_whitespace();
                        match cur.next_byte("`:`")? {
                            b':' => continue 'value,
                            _ => return Err(cur.unexpected(cur.at - 1, "`:`")),
                        }
                    }
                }
                _ if key => return Err(cur.unexpected(cur.at - 1, "a string key")),
                b'{' | b'[' => {
                    let object = byte == b'{';
                    if cur.open(&mut nest, object, self.max_depth)? {
                        key = object;
                        continue 'value;
                    }
                }
                b't' | b'f' | b'n' | b'-' | b'0'..=b'9' => {
                    self.at = cur.at;
                    match byte {
                        b't' => self.literal(b"rue")?,
                        b'f' => self.literal(b"alse")?,
                        b'n' => self.literal(b"ull")?,
                        _ => self.number(cur.at - 1)?,
                    }
                    cur.at = self.at;
                }
                _ => return Err(cur.unexpected(cur.at - 1, "a value")),
            }
            // A value ended: what follows depends on the container it is in.
            while nest.depth > outer {
                if cur.after_value(&mut nest)? {
                    key = nest.in_object();
                    continue 'value;
                }
            }
            self.at = cur.at;
            return Ok(());
        }
    }

    /// The top-level value, recording the members of the top-level object
    /// (and, when asked, of the objects that are its values). A value below
    /// the recorded levels is passed to [`Scanner::value`] whole.
    fn recorded_value(&mut self) -> Result<(), Invalid> {
        let plain_from = if self.nested.is_some() { 2 } else { 1 };
        let mut nest = Nesting { depth: 0, open: 0 };
        // Whether a member's key comes next.
        let mut pending_key = false;
        // The key of the top-level member being read, and where its value
        // starts; the same one level down.
        let (mut key, mut value_start) = (0..0, 0);
        let (mut inner_key, mut inner_start) = (0..0, 0);
        'value: loop {
            if pending_key {
                let token = self.key()?;
                match nest.depth {
                    1 => key = token,
                    _ => inner_key = token,
                }
            }
            // A value starts here.
            self.skip_whitespace();
            match nest.depth {
                1 => value_start = self.at,
                2 => inner_start = self.at,
                _ => {}
            }
            let opens = nest.depth < plain_from && matches!(self.peek(), Some(b'{' | b'['));
            if opens {
                let object = self.bytes[self.at] == b'{';
                self.at += 1;
                let mut cur = self.cursor();
                let opened = cur.open(&mut nest, object, self.max_depth);
                self.at = cur.at;
                if opened? {
                    pending_key = object;
                    continue 'value;
                }
            } else {
                // A scalar, or a value below the recorded levels.
                self.value(nest.depth)?;
            }
            // A value ended: what follows depends on the container it is in.
            loop {
                // Each pass at depth 1 follows the end of one top-level member.
                if nest.depth == 1 && nest.in_object() {
                    if let Some(members) = &mut self.members {
                        members.push((key.clone(), value_start..self.at));
                    }
                } else if nest.depth == 2 && nest.open & 3 == 3 {
                    if let Some(nested) = &mut self.nested {
                        nested.push((inner_key.clone(), inner_start..self.at));
                    }
                }
                if nest.depth == 0 {
                    return Ok(());
                }
                let mut cur = self.cursor();
                let another = cur.after_value(&mut nest);
                self.at = cur.at;
                if another? {
                    pending_key = nest.in_object();
                    continue 'value;
                }
            }
        }
    }

    /// An object key and its `:`; returns where the key's token is.
    fn key(&mut self) -> Result<Range<usize>, Invalid> {
        self.skip_whitespace();
        let start = self.at;
        match self.next_byte("a string key")? {
            b'"' => self.string()?,
            _ => return Err(self.unexpected(self.at - 1, "a string key")),
        }
        let token = start..self.at;
        self.skip_whitespace();
        match self.next_byte("`:`")? {
            b':' => Ok(token),
            _ => Err(self.unexpected(self.at - 1, "`:`")),
        }
    }

    /// The position, as a cursor to read on from.
    #[inline(always)]
    fn cursor(&self) -> Cursor<'a> {
        Cursor {
            bytes: self.bytes,
            at: self.at,
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.cursor().peek()
    }

    #[inline(always)]
    fn next_byte(&mut self, expected: &'static str) -> Result<u8, Invalid> {
        let mut cur = self.cursor();
        let byte = cur.next_byte(expected)?;
        self.at = cur.at;
        Ok(byte)
    }

    /// See [`Cursor::unexpected`].
    fn unexpected(&self, at: usize, expected: &'static str) -> Invalid {
        self.cursor().unexpected(at, expected)
    }

    #[inline(always)]
    fn skip_whitespace(&mut self) {
        let mut cur = self.cursor();
        cur.skip_whitespace();
        self.at = cur.at;
    }

    fn literal(&mut self, rest: &'static [u8]) -> Result<(), Invalid> {
        for &want in rest {
            match self.peek() {
                Some(byte) if byte == want => self.at += 1,
                Some(_) => return Err(self.unexpected(self.at, "a value")),
                None => {
                    return Err(Invalid::Truncated {
                        expected: "a value",
                    })
                }
            }
        }
        Ok(())
    }

    /// The rest of a string whose opening quote was just read. A plain
    /// ASCII string (every key, most text) is passed over by [`plain_run`],
    /// inlined: under an interpreter a call would cost more than a key's
    /// bytes. Anything else goes on in [`Self::string_slow`].
    #[inline(always)]
    fn string(&mut self) -> Result<(), Invalid> {
        match plain_run(self.bytes, self.at) {
            Ok(end) => {
                self.at = end;
                Ok(())
            }
            Err(at) => {
                self.at = at;
                self.string_slow()
            }
        }
    }

    /// The rest of a string from a byte that is not plain ASCII (or its
    /// end): each such byte checked, the plain runs between them skipped.
    #[inline(never)]
    fn string_slow(&mut self) -> Result<(), Invalid> {
        loop {
            let Some(&byte) = self.bytes.get(self.at) else {
                return Err(Invalid::Truncated {
                    expected: "the end of a string",
                });
            };
            self.at += 1;
            match byte {
                b'"' => return Ok(()),
                b'\\' => self.escape()?,
                0..=0x1F => return Err(Invalid::ControlCharacter(self.at - 1)),
                0x80.. => self.utf8_sequence(byte)?,
                _ => {}
            }
            match plain_run(self.bytes, self.at) {
                Ok(end) => {
                    self.at = end;
                    return Ok(());
                }
                Err(at) => self.at = at,
            }
        }
    }

    /// An escape whose `\` was just read.
    fn escape(&mut self) -> Result<(), Invalid> {
        let start = self.at - 1;
        match self.next_byte("an escape")? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => match self.hex4()? {
                _ if self.syntax_only => Ok(()),
                0xD800..=0xDBFF => {
                    // A high surrogate needs a low one right after it.
                    if self.bytes.get(self.at..self.at + 2) != Some(b"\\u") {
                        return Err(Invalid::Surrogate(start));
                    }
                    self.at += 2;
                    match self.hex4()? {
                        0xDC00..=0xDFFF => Ok(()),
                        _ => Err(Invalid::Surrogate(start)),
                    }
                }
                0xDC00..=0xDFFF => Err(Invalid::Surrogate(start)),
                _ => Ok(()),
            },
            _ => Err(self.unexpected(self.at - 1, "an escape")),
        }
    }

    fn hex4(&mut self) -> Result<u32, Invalid> {
        let mut unit = 0;
        for _ in 0..4 {
            let digit = match self.next_byte("a hex digit")? {
                byte @ b'0'..=b'9' => byte - b'0',
                byte @ b'a'..=b'f' => byte - b'a' + 10,
                byte @ b'A'..=b'F' => byte - b'A' + 10,
                _ => return Err(self.unexpected(self.at - 1, "a hex digit")),
            };
            unit = unit * 16 + digit as u32;
        }
        Ok(unit)
    }

    /// The continuation bytes of a UTF-8 sequence whose lead byte was just
    /// read (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
    fn utf8_sequence(&mut self, lead: u8) -> Result<(), Invalid> {
        let start = self.at - 1;
        let (continuations, second) = match lead {
            0xC2..=0xDF => (1, 0x80..=0xBF),
            0xE0 => (2, 0xA0..=0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80..=0xBF),
            0xED => (2, 0x80..=0x9F),
            0xF0 => (3, 0x90..=0xBF),
            0xF1..=0xF3 => (3, 0x80..=0xBF),
            0xF4 => (3, 0x80..=0x8F),
            _ => return Err(Invalid::Utf8(start)),
        };
        for i in 0..continuations {
            let range = if i == 0 { second.clone() } else { 0x80..=0xBF };
            match self.peek() {
                Some(byte) if range.contains(&byte) => self.at += 1,
                _ => return Err(Invalid::Utf8(start)),
            }
        }
        Ok(())
    }

    /// A number starting at `start` (its first byte was just read).
    fn number(&mut self, start: usize) -> Result<(), Invalid> {
        self.at = start;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let integer = self.at;
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.unexpected_or_truncated("a digit")),
        }
        let integer_end = self.at;
        let mut fraction = integer_end..integer_end;
        if self.peek() == Some(b'.') {
            self.at += 1;
            fraction.start = self.at;
            self.require_digits()?;
            fraction.end = self.at;
        }
        let mut exponent: i64 = 0;
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            let negative = match self.peek() {
                Some(b'-') => {
                    self.at += 1;
                    true
                }
                Some(b'+') => {
                    self.at += 1;
                    false
                }
                _ => false,
            };
            let digits = self.at;
            self.require_digits()?;
            for &d in &self.bytes[digits..self.at] {
                // Saturates far beyond any exponent that could matter.
                exponent = (exponent * 10 + (d - b'0') as i64).min(1 << 40);
            }
            if negative {
                exponent = -exponent;
            }
        }
        // Without an exponent, fewer than 309 integer digits cannot reach
        // f64::MAX (~1.8e308): the common case skips the exact check.
        let may_overflow = exponent != 0 || integer_end - integer > 308;
        if may_overflow && !self.syntax_only {
            let fraction = &self.bytes[fraction];
            if overflows_f64(&self.bytes[integer..integer_end], fraction, exponent) {
                return Err(Invalid::NumberOutOfRange(start));
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn require_digits(&mut self) -> Result<(), Invalid> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            _ => Err(self.unexpected_or_truncated("a digit")),
        }
    }

    fn unexpected_or_truncated(&self, expected: &'static str) -> Invalid {
        match self.peek() {
            Some(_) => self.unexpected(self.at, expected),
            None => Invalid::Truncated { expected },
        }
    }
}

/// From `at` inside a string: `Ok` just past its closing quote when every
/// byte up to it is plain ASCII, else `Err` where the first byte that is not
/// (`\`, a control character, a non-ASCII byte) is, or where fewer than
/// [`BLOCK`] bytes are left (the caller goes on byte by byte). The word that
/// holds the first special byte also says where it is: a short string (a
/// key, a role) costs one word test, inlined, not a loop over its bytes or
/// a call; a longer one goes on in [`long_plain_run`].
#[inline(always)]
pub(crate) fn plain_run(bytes: &[u8], at: usize) -> Result<usize, usize> {
    match bytes.get(at..at + 8) {
        Some(chunk) => match special_bytes(word(chunk, 0)) {
            0 => long_plain_run(bytes, at + 8),
            hits => run_end(bytes, at, hits),
        },
        None => Err(at),
    }
}

/// [`plain_run`] a [`BLOCK`] (eight words) per iteration, from `at`: under
/// an interpreter the loop's own instructions cost as much as the test, and
/// a compiled loop spends them on the branch and the block's address, so
/// message text is passed over in an eighth of the iterations that words
/// would take, and the block that holds a special byte is looked into word
/// by word. Stops short of the last `BLOCK - 1` bytes of `bytes`.
#[inline(never)]
fn long_plain_run(bytes: &[u8], at: usize) -> Result<usize, usize> {
    let mut block_at = at;
    for block in bytes[at.min(bytes.len())..].chunks_exact(BLOCK) {
        // Two halves, each tested apart when a flag is found: the search
        // for the special byte starts in the half that holds it, and the
        // ORs make two short chains, not one long one.
        let low = unmasked_special_bytes(word(block, 0))
            | unmasked_special_bytes(word(block, 8))
            | unmasked_special_bytes(word(block, 16))
            | unmasked_special_bytes(word(block, 24));
        let high = unmasked_special_bytes(word(block, 32))
            | unmasked_special_bytes(word(block, 40))
            | unmasked_special_bytes(word(block, 48))
            | unmasked_special_bytes(word(block, 56));
        if (low | high) & HIGHS != 0 {
            // The first word with a flag holds the first special byte.
            let from = if low & HIGHS != 0 { 0 } else { BLOCK / 2 };
            let mut word_at = block_at + from;
            for chunk in block[from..].chunks_exact(8) {
                let hits = special_bytes(word(chunk, 0));
                if hits != 0 {
                    return run_end(bytes, word_at, hits);
                }
                word_at += 8;
            }
        }
        block_at += BLOCK;
    }
    Err(block_at)
}

/// The bytes [`long_plain_run`] tests per iteration: 64, in two halves,
/// passes over a 20 KB message list about 5% faster per call than 32 (the
/// hook's whole call, in alternating timings, under wasmtime and wasmi),
/// and over ~200-byte messages no slower, for ~170 B of .wasm.
const BLOCK: usize = 64;

/// Where the plain run ends, given the flags `hits` of the word at
/// `word_at`: the lowest flagged byte is a special one (see
/// [`special_bytes`]); `Ok` past it when it is the closing quote. (`get`,
/// not an index: the byte is always there, and the index's panic path
/// costs .wasm at every inlined copy.)
#[inline(always)]
fn run_end(bytes: &[u8], word_at: usize, hits: u64) -> Result<usize, usize> {
    let at = word_at + (hits.trailing_zeros() / 8) as usize;
    match bytes.get(at) {
        Some(b'"') => Ok(at + 1),
        _ => Err(at),
    }
}

/// The eight bytes of `chunk` from `at`, as a little-endian word (one
/// 8-byte load once inlined).
#[inline(always)]
fn word(chunk: &[u8], at: usize) -> u64 {
    u64::from_le_bytes([
        chunk[at],
        chunk[at + 1],
        chunk[at + 2],
        chunk[at + 3],
        chunk[at + 4],
        chunk[at + 5],
        chunk[at + 6],
        chunk[at + 7],
    ])
}

/// The high bit of each byte of `word` (little-endian) that may end the
/// plain run of a string: `"`, `\`, a control character or a non-ASCII
/// byte. The "has a byte below n" test: `x - n * ONES` sets the high bit of
/// each byte of `x` below `n`. XOR with 0x02 maps `"` (0x22) to 0x20 and
/// the control characters onto themselves, and every other ASCII byte to
/// 0x21 or above, so one test below 0x21 finds both; XOR with `\` maps it
/// to zero, found below 0x01. A borrow only flags bytes above a true hit,
/// so `0` means "none" exactly and the lowest flagged byte is a true hit.
/// A byte of 0x80 and above is flagged too, with no test of its own: XOR
/// keeps its high bit, so `byte ^ '\\'` is 0x80 or more and stays so less 1,
/// except for 0xDC, which `(byte ^ 0x02) - 0x21` (0xBD) flags; and it lends
/// no borrow to the byte above it.
#[inline(always)]
fn special_bytes(word: u64) -> u64 {
    unmasked_special_bytes(word) & HIGHS
}

/// The high bit of every byte.
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// [`special_bytes`] before the mask: the high bits are the flags (the
/// other bits are noise), so several words can be ORed and masked once.
#[inline(always)]
fn unmasked_special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let quote_or_control = (word ^ (ONES * 0x02)).wrapping_sub(ONES * 0x21);
    let backslash = (word ^ (ONES * b'\\' as u64)).wrapping_sub(ONES);
    quote_or_control | backslash
}

/// From `at`, skips [`BLOCK`] bytes at a time while none of them ends the
/// plain run of a string (`"`, `\`, a control character or a non-ASCII
/// byte), and returns where byte-wise scanning must resume: at the first
/// special byte, or short of the last `BLOCK - 1` bytes. (One shared copy: a
/// call costs less than a long string's bytes.)
pub(crate) fn skip_plain_ascii(bytes: &[u8], at: usize) -> usize {
    match long_plain_run(bytes, at) {
        Ok(end) => end - 1,
        Err(stop) => stop,
    }
}

/// The smallest decimal that parses to infinity: the halfway point between
/// `f64::MAX` and 2^1024 (ties round to even, away from `f64::MAX`'s odd
/// mantissa), i.e. 2^1024 - 2^970, 309 digits.
const F64_OVERFLOW: &[u8] = b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// Whether the number `integer.fraction e exponent` (digits only) rounds to
/// infinity as an `f64`, which serde_json refuses to parse.
fn overflows_f64(integer: &[u8], fraction: &[u8], exponent: i64) -> bool {
    // Digit `i` of the integer part followed by the fraction.
    let digit = |i: usize| match integer.get(i) {
        Some(&d) => Some(d),
        None => fraction.get(i - integer.len()).copied(),
    };
    // The first significant digit, and its power of ten.
    let mut first = 0;
    while digit(first) == Some(b'0') {
        first += 1;
    }
    if digit(first).is_none() {
        return false; // zero
    }
    let magnitude = integer.len() as i64 - 1 - first as i64 + exponent;
    match magnitude {
        ..308 => false,
        309.. => true,
        // Same magnitude as the limit: compare digit by digit; a number
        // with more digits than the limit, equal so far, is at least it.
        308 => {
            for (k, &limit) in F64_OVERFLOW.iter().enumerate() {
                match digit(first + k) {
                    Some(d) if d == limit => continue,
                    Some(d) => return d > limit,
                    None => return false,
                }
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Kind, Invalid> {
        validate(text.as_bytes())
    }

    #[test]
    fn accepts_every_kind_of_value_with_whitespace_around() {
        assert_eq!(
            check(" {\"a\": [1, -2.5e+3, true, false, null, \"x\"]} "),
            Ok(Kind::Object)
        );
        assert_eq!(check("[]"), Ok(Kind::Array));
        assert_eq!(check("\"\\u00e9\\ud83d\\ude00\\n\""), Ok(Kind::String));
        assert_eq!(check("-0"), Ok(Kind::Number));
        assert_eq!(check("true"), Ok(Kind::Bool));
        assert_eq!(check("null"), Ok(Kind::Null));
        assert_eq!(check("{\"é\":\"日本語 😀\"}"), Ok(Kind::Object));
    }

    #[test]
    fn refuses_broken_syntax_with_the_offending_byte() {
        assert_eq!(
            check("{\"a\" 1}"),
            Err(Invalid::Unexpected {
                at: 5,
                expected: "`:`"
            })
        );
        assert_eq!(
            check("[1,]"),
            Err(Invalid::Unexpected {
                at: 3,
                expected: "a value"
            })
        );
        assert_eq!(check("{} {}"), Err(Invalid::Trailing(3)));
        assert_eq!(
            check("{\"a\":1"),
            Err(Invalid::Truncated {
                expected: "`,` or `}`"
            })
        );
        assert_eq!(
            check(""),
            Err(Invalid::Truncated {
                expected: "a value"
            })
        );
        assert_eq!(check("01"), Err(Invalid::Trailing(1)));
        assert_eq!(
            check("1."),
            Err(Invalid::Truncated {
                expected: "a digit"
            })
        );
        assert_eq!(
            check("[1}"),
            Err(Invalid::Unexpected {
                at: 2,
                expected: "`,` or `]`"
            })
        );
        assert_eq!(
            check("tru"),
            Err(Invalid::Truncated {
                expected: "a value"
            })
        );
        assert_eq!(check("\"a\tb\""), Err(Invalid::ControlCharacter(2)));
        assert_eq!(
            check("\"\\x\""),
            Err(Invalid::Unexpected {
                at: 2,
                expected: "an escape"
            })
        );
    }

    #[test]
    fn refuses_bytes_that_are_not_utf8_inside_and_outside_strings() {
        assert_eq!(validate(b"\"a\xffb\""), Err(Invalid::Utf8(2)));
        assert_eq!(validate(b"\"\xed\xa0\x80\""), Err(Invalid::Utf8(1))); // a surrogate
        assert_eq!(validate(b"\"\xc0\xaf\""), Err(Invalid::Utf8(1))); // overlong
        assert_eq!(validate(b"\"\xe6\x97\""), Err(Invalid::Utf8(1))); // cut short
        assert_eq!(validate(b"\xef\xbb\xbf{}"), Err(Invalid::Utf8(0)));
    }

    #[test]
    fn refuses_unpaired_surrogate_escapes() {
        assert_eq!(check("\"\\ud83d\""), Err(Invalid::Surrogate(1)));
        assert_eq!(check("\"x\\ude00\""), Err(Invalid::Surrogate(2)));
        assert_eq!(check("\"\\ud83d\\u0041\""), Err(Invalid::Surrogate(1)));
        let syntax = |text: &[u8]| validate_members(text, MAX_DEPTH, true).map(|(kind, _)| kind);
        assert_eq!(syntax(b"[\"\\ud83d\", 1e999]"), Ok(Kind::Array));
        assert!(syntax(b"[\"\\ud83d\", 1e999").is_err());
    }

    #[test]
    fn nesting_is_limited_to_max_depth() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(check(&nested(MAX_DEPTH)), Ok(Kind::Array));
        assert_eq!(
            check(&nested(MAX_DEPTH + 1)),
            Err(Invalid::TooDeep(MAX_DEPTH))
        );
        let objects = format!("{}1{}", "{\"k\":".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert_eq!(check(&objects), Ok(Kind::Object));
        let config = nested(CONFIG_MAX_DEPTH);
        assert!(serde_json::from_str::<serde_json::Value>(&config).is_ok());
        assert_eq!(
            validate_nested(config.as_bytes(), CONFIG_MAX_DEPTH),
            Ok(Kind::Array)
        );
        let deeper = nested(CONFIG_MAX_DEPTH + 1);
        assert!(serde_json::from_str::<serde_json::Value>(&deeper).is_err());
        assert_eq!(
            validate_nested(deeper.as_bytes(), CONFIG_MAX_DEPTH),
            Err(Invalid::TooDeep(CONFIG_MAX_DEPTH))
        );
    }

    #[test]
    fn numbers_beyond_f64_are_refused_exactly_where_f64_parsing_overflows() {
        let limit = std::str::from_utf8(F64_OVERFLOW).unwrap();
        assert_eq!(limit.parse::<f64>(), Ok(f64::INFINITY));
        let below = format!("{}1", &limit[..limit.len() - 1]); // the limit ends in 2
        assert_eq!(below.parse::<f64>(), Ok(f64::MAX));
        for (text, overflows) in [
            (limit.to_string(), true),
            (below.clone(), false),
            (format!("{below}.99999"), false),
            (format!("{limit}.0"), true),
            (format!("0.{below}e309"), false),
            (format!("0.000{limit}e312"), true),
            ("1e308".into(), false),
            ("1.8e308".into(), true),
            ("1e309".into(), true),
            ("-1e999999999999".into(), true),
            ("1e-999999999999".into(), false),
            ("0e999999".into(), false),
            (format!("1{}", "0".repeat(308)), false),
            (format!("1{}", "0".repeat(309)), true),
        ] {
            let expected = text.parse::<f64>().unwrap().is_infinite();
            assert_eq!(expected, overflows, "{text}");
            assert_eq!(check(&text).is_err(), overflows, "{text}");
        }
    }

    #[test]
    fn the_block_skip_stops_at_every_special_byte() {
        for special in [b'"', b'\\', 0x1F, 0x00, 0x80, 0xFF] {
            for at in 0..16 {
                let mut bytes = vec![b'a'; 24];
                bytes[at] = special;
                assert!(skip_plain_ascii(&bytes, 0) <= at, "{special:#x} at {at}");
            }
        }
        assert_eq!(skip_plain_ascii(&[b' '; BLOCK + 8], 0), BLOCK);
        assert_eq!(skip_plain_ascii(&[b'~'; BLOCK + 8], 3), BLOCK + 3);
        for special in [b'"', b'\\', 0x1F, 0x00, 0x80, 0xFF] {
            for at in 0..64 {
                let mut bytes = vec![b'a'; 100];
                bytes[at] = special;
                assert_eq!(skip_plain_ascii(&bytes, 0), at, "{special:#x} at {at}");
            }
        }
    }

    /// Whether `byte` ends the plain run of a string, by definition.
    fn is_special(byte: u8) -> bool {
        matches!(byte, b'"' | b'\\' | 0..=0x1F | 0x80..)
    }

    #[test]
    fn every_byte_value_is_flagged_exactly_when_it_is_special() {
        for byte in 0..=255u8 {
            for at in 0..8 {
                for filler in [b'a', b' ', b'!', b'#', b'~', 0x7F] {
                    let mut bytes = [filler; 8];
                    bytes[at] = byte;
                    let hits = special_bytes(u64::from_le_bytes(bytes));
                    match is_special(byte) {
                        true => {
                            assert_eq!(hits.trailing_zeros() / 8, at as u32, "{byte:#x} at {at}")
                        }
                        false => assert_eq!(hits, 0, "{byte:#x} at {at} among {filler:#x}"),
                    }
                }
            }
        }
    }

    #[test]
    fn of_any_two_bytes_in_a_word_the_first_special_one_is_the_lowest_flagged() {
        // Two bytes can interact only through a borrow, which runs upwards
        // from a flagged byte: every pair of values, next to each other and
        // apart, at either end of the word and inside it.
        for low in 0..=255u8 {
            for high in 0..=255u8 {
                for (a, b) in [(0, 1), (0, 7), (3, 4), (2, 6), (6, 7)] {
                    let mut bytes = [b'a'; 8];
                    (bytes[a], bytes[b]) = (low, high);
                    let hits = special_bytes(u64::from_le_bytes(bytes));
                    let first = bytes.iter().position(|&byte| is_special(byte));
                    let lowest = (hits != 0).then(|| hits.trailing_zeros() as usize / 8);
                    assert_eq!(first, lowest, "{low:#x} at {a}, {high:#x} at {b}");
                }
            }
        }
    }

    proptest::proptest! {
        /// In any eight bytes, the lowest flagged byte is the first special
        /// one, and none is flagged when none is special.
        #[test]
        fn the_lowest_flagged_byte_is_the_first_special_one(bytes in proptest::prelude::any::<[u8; 8]>()) {
            let hits = special_bytes(u64::from_le_bytes(bytes));
            let first = bytes.iter().position(|&b| is_special(b));
            proptest::prop_assert_eq!(first, (hits != 0).then(|| hits.trailing_zeros() as usize / 8));
        }

        /// A plain run ends where the first special byte is, whatever the
        /// bytes around it (checked against a byte-by-byte scan).
        #[test]
        fn a_plain_run_agrees_with_a_byte_by_byte_scan(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![12 => b'a'..=b'z', 1 => proptest::prelude::any::<u8>()], 0..300),
            start in 0usize..300,
        ) {
            let start = start.min(bytes.len());
            let first = bytes[start..].iter().position(|&b| is_special(b)).map(|i| start + i);
            match plain_run(&bytes, start) {
                Ok(end) => proptest::prop_assert!(first == Some(end - 1) && bytes[end - 1] == b'"'),
                Err(stop) => proptest::prop_assert!(match first {
                    Some(at) => stop == at && bytes[at] != b'"' || stop <= at && stop + BLOCK > bytes.len(),
                    None => stop <= bytes.len() && stop + BLOCK > bytes.len(),
                }, "{:?} from {}: {}", bytes, start, stop),
            }
            // The skip resumes at the first special byte or near the end.
            let skipped = skip_plain_ascii(&bytes, start);
            proptest::prop_assert!(
                Some(skipped) == first || skipped <= first.unwrap_or(bytes.len()) && skipped + BLOCK > bytes.len(),
                "{:?} from {}: {}", bytes, start, skipped
            );
        }
    }

    #[test]
    fn a_plain_run_ends_exactly_at_the_first_special_byte() {
        for special in [b'"', b'\\', 0x1F, 0x00, 0x80, 0xFF] {
            for len in 0..BLOCK + 16 {
                for at in 0..=len {
                    // `special` at `at` (none when `at == len`), and
                    // special bytes after it, which change nothing.
                    let mut bytes = vec![b'a'; len];
                    if at < len {
                        bytes[at] = special;
                        bytes[len - 1] = if at + 1 < len { b'"' } else { special };
                    }
                    for start in 0..=at {
                        match plain_run(&bytes, start) {
                            Ok(end) => assert!(
                                special == b'"' && end == at + 1,
                                "{special:#x} at {at} of {len} from {start}: Ok({end})"
                            ),
                            // Where the special byte is, or before it with
                            // fewer than `BLOCK` bytes left.
                            Err(stop) => assert!(
                                stop <= at
                                    && ((stop == at && special != b'"') || stop + BLOCK > len),
                                "{special:#x} at {at} of {len} from {start}: {stop}"
                            ),
                        }
                    }
                }
            }
        }
    }

    /// Soups of JSON tokens, some well formed and most not.
    fn soup() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let token = prop_oneof![
            Just(&b"{"[..]),
            Just(&b"}"[..]),
            Just(&b"["[..]),
            Just(&b"]"[..]),
            Just(&b","[..]),
            Just(&b":"[..]),
            Just(&b" "[..]),
            Just(&b"\"k\""[..]),
            Just(&b"\"\\ud83d\\ude00\""[..]),
            Just(&b"\"\\ud83d\""[..]),
            Just(&b"\"\\n\\u00e9\""[..]),
            Just(&b"\"\xc3\xa9\""[..]),
            Just(&b"\"\xff\""[..]),
            Just(&b"\"\x01\""[..]),
            Just(&b"\""[..]),
            Just(&b"-0.5e-3"[..]),
            Just(&b"12"[..]),
            Just(&b"01"[..]),
            Just(&b"1e400"[..]),
            Just(&b"-"[..]),
            Just(&b"1."[..]),
            Just(&b"true"[..]),
            Just(&b"nul"[..]),
            Just(&b"null"[..]),
            Just(&b"\"abcdefghijklmnopq\""[..]),
        ];
        proptest::collection::vec(token, 0..24).prop_map(|tokens| tokens.concat())
    }

    #[test]
    fn nested_members_are_those_of_the_top_level_objects_values() {
        let text = br#"{"a":{"x":1,"y":[{"z":2}]},"b":[{"w":3}],"c":{}}"#;
        let (_, members, nested) = validate_nested_members(text, MAX_DEPTH, false, true).unwrap();
        assert_eq!(members.len(), 3);
        let found: Vec<(&[u8], &[u8])> = nested
            .iter()
            .map(|(key, value)| (&text[key.clone()], &text[value.clone()]))
            .collect();
        assert_eq!(
            found,
            [(&b"\"x\""[..], &b"1"[..]), (b"\"y\"", br#"[{"z":2}]"#)]
        );
        let (_, _, none) = validate_nested_members(text, MAX_DEPTH, false, false).unwrap();
        assert!(none.is_empty());
    }

    proptest::proptest! {
        /// Where nesting stays far below both limits, the check accepts
        /// exactly what serde_json builds a value from.
        #[test]
        fn agrees_with_serde_json_on_what_is_json(bytes in soup()) {
            let ours = validate(&bytes).is_ok();
            let theirs = serde_json::from_slice::<serde_json::Value>(&bytes).is_ok();
            proptest::prop_assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(&bytes));
        }
    }

    proptest::proptest! {
        /// The recording scan (its own loop down to the recorded levels)
        /// accepts and refuses exactly what the plain check does, for the
        /// same reason at the same byte.
        #[test]
        fn recording_members_changes_no_verdict(bytes in soup(), depth in 1usize..6) {
            let plain = validate_nested(&bytes, depth).map(|_| ());
            for nested in [false, true] {
                let recorded = validate_nested_members(&bytes, depth, false, nested).map(|_| ());
                proptest::prop_assert_eq!(recorded, plain, "{}", String::from_utf8_lossy(&bytes));
            }
        }
    }

    proptest::proptest! {
        /// A problem inside a member's value is found in that member, at
        /// the offset a check of the value alone finds it; a problem
        /// elsewhere in no member. Never a panic, whatever the bytes.
        #[test]
        fn the_member_at_fault_holds_the_problem_where_the_value_alone_has_it(
            value in soup(),
            syntax_only in proptest::prelude::any::<bool>(),
        ) {
            // A value text that is one whole value with more after it (`null,"k":…`)
            // writes members of its own: a problem there is not in this member.
            let mut values = serde_json::Deserializer::from_slice(&value).into_iter::<serde_json::Value>();
            let more_after_one = matches!(values.next(), Some(Ok(_)))
                && values.byte_offset() < value.trim_ascii_end().len();
            if more_after_one {
                return Ok(());
            }
            let text = [&b"{\"a\":1, \"k\": "[..], &value, b"}"].concat();
            let Err(invalid) = validate_members(&text, MAX_DEPTH, syntax_only) else {
                return Ok(());
            };
            let fault = member_at_fault(&text, MAX_DEPTH, syntax_only, invalid);
            // The value's own text starts after the whitespace before it.
            let value = value.trim_ascii_start();
            if let Some((key, start)) = &fault {
                proptest::prop_assert_eq!(&text[key.clone()], b"\"k\"");
                proptest::prop_assert_eq!(*start, text.len() - 1 - value.len());
            }
            let alone = validate_members(value, MAX_DEPTH - 1, syntax_only);
            if let Err(Invalid::Unexpected { .. } | Invalid::Utf8(_) | Invalid::ControlCharacter(_)
                | Invalid::Surrogate(_) | Invalid::NumberOutOfRange(_)) = alone
            {
                proptest::prop_assert_eq!(fault.map(|(_, start)| invalid.within(start)), alone.err(),
                    "{}", String::from_utf8_lossy(&text));
            }
        }
    }

    proptest::proptest! {
        /// Whatever serde_json writes, compact or pretty, is JSON to the
        /// check, of the kind it is.
        #[test]
        fn accepts_everything_serde_json_writes(value in super::super::test_values::any_value()) {
            let kind = match &value {
                serde_json::Value::Null => Kind::Null,
                serde_json::Value::Bool(_) => Kind::Bool,
                serde_json::Value::Number(_) => Kind::Number,
                serde_json::Value::String(_) => Kind::String,
                serde_json::Value::Array(_) => Kind::Array,
                serde_json::Value::Object(_) => Kind::Object,
            };
            for text in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
                proptest::prop_assert_eq!(validate(text.as_bytes()), Ok(kind), "{}", text);
            }
        }
    }

    #[test]
    fn the_members_of_the_top_level_object_come_with_the_check() {
        let text = br#" { "a" : [1, {"k": "}"}] , "b\"":{} ,"c":"x", "d": -1.5e3 ,"e":{"f":{}}} "#;
        let (kind, found) = validate_members(text, MAX_DEPTH, false).unwrap();
        assert_eq!(kind, Kind::Object);
        let texts: Vec<(&[u8], &[u8])> = found
            .iter()
            .map(|(k, v)| (&text[k.clone()], &text[v.clone()]))
            .collect();
        let expected: [(&[u8], &[u8]); 5] = [
            (br#""a""#, br#"[1, {"k": "}"}]"#),
            (br#""b\"""#, b"{}"),
            (br#""c""#, br#""x""#),
            (br#""d""#, b"-1.5e3"),
            (br#""e""#, br#"{"f":{}}"#),
        ];
        assert_eq!(texts, expected);
        assert_eq!(
            validate_members(b" [1, {\"a\": 2}] ", MAX_DEPTH, false)
                .unwrap()
                .1,
            []
        );
        assert_eq!(validate_members(b"{}", MAX_DEPTH, false).unwrap().1, []);
        let lone = br#"{"s":"\udc00","t":1}"#;
        assert!(validate_members(lone, MAX_DEPTH, false).is_err());
        assert_eq!(validate_members(lone, MAX_DEPTH, true).unwrap().1.len(), 2);
    }

    proptest::proptest! {
        /// The members the check finds are those the member reader finds
        /// (itself held to serde_json), in any object serde_json writes.
        #[test]
        fn members_found_while_checking_are_the_member_readers(
            map in proptest::collection::btree_map(".*", super::super::test_values::any_value(), 0..8)
        ) {
            let object = serde_json::Value::Object(map.into_iter().collect());
            for text in [serde_json::to_string(&object).unwrap(), serde_json::to_string_pretty(&object).unwrap()] {
                let bytes = text.as_bytes();
                let (_, found) = validate_members(bytes, MAX_DEPTH, false).unwrap();
                let ours: Vec<(String, &[u8])> = found
                    .into_iter()
                    .map(|(k, v)| (super::super::members::decode_string(&bytes[k]), &bytes[v]))
                    .collect();
                let reader: Vec<(String, &[u8])> = super::super::members::members(bytes).collect();
                proptest::prop_assert_eq!(&ours, &reader, "{}", text);
                // One level down: the members of each value that is an object.
                let (_, _, nested) = validate_nested_members(bytes, MAX_DEPTH, false, true).unwrap();
                let ours: Vec<(String, &[u8])> = nested
                    .into_iter()
                    .map(|(k, v)| (super::super::members::decode_string(&bytes[k]), &bytes[v]))
                    .collect();
                let reader: Vec<(String, &[u8])> = reader
                    .iter()
                    .filter(|(_, value)| value.starts_with(b"{"))
                    .flat_map(|(_, value)| super::super::members::members(value))
                    .collect();
                proptest::prop_assert_eq!(ours, reader, "{}", text);
            }
        }
    }
}
