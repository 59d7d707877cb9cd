//! Go's `[]byte` in JSON: standard base64 (RFC 4648 alphabet) with padding,
//! read strictly (canonical padding, no stray bits), as Go's
//! `base64.StdEncoding` writes it.
//!
//! Ours rather than a crate's: HTTP bodies are the only base64 a plugin
//! sees, and a general-purpose engine costs ~6 KB of every `.wasm`.

use std::fmt;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Why a text is not canonical, padded standard base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base64Error {
    /// The length is not a multiple of 4 (padding missing or cut).
    Length(usize),
    /// A byte outside the alphabet (or `=` where no padding can be).
    Symbol { byte: u8, offset: usize },
    /// The last symbol carries bits the decoded bytes do not use.
    TrailingBits(usize),
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, at) = match *self {
            Base64Error::Length(len) => ("length not a multiple of 4:", len),
            Base64Error::Symbol { offset, .. } => ("invalid symbol at offset", offset),
            Base64Error::TrailingBits(offset) => ("bits set past the data at offset", offset),
        };
        write!(f, "{what} {at}")
    }
}

/// `bytes` as padded standard base64.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    encode_into(bytes, &mut out);
    // The alphabet is ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends `bytes` as padded standard base64 to `out` (which, in a JSON
/// string, needs no escaping).
pub(crate) fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        out.extend_from_slice(&quad(group));
    }
}

/// The four symbols of one group of one to three bytes.
fn quad(group: &[u8]) -> [u8; 4] {
    let b = [
        group[0],
        *group.get(1).unwrap_or(&0),
        *group.get(2).unwrap_or(&0),
    ];
    let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
    let mut symbols = [b'='; 4];
    for (i, symbol) in symbols.iter_mut().enumerate().take(group.len() + 1) {
        *symbol = ALPHABET[(n >> (18 - 6 * i) & 63) as usize];
    }
    symbols
}

/// Whether `text` is exactly `bytes` encoded, found without encoding them
/// into memory.
pub(crate) fn encodes_to(bytes: &[u8], text: &[u8]) -> bool {
    text.len() == bytes.len().div_ceil(3) * 4
        && bytes
            .chunks(3)
            .zip(text.chunks_exact(4))
            .all(|(group, symbols)| quad(group) == symbols)
}

/// The value of one alphabet symbol.
fn value(byte: u8) -> Option<u32> {
    let value = match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(value as u32)
}

/// Decodes padded standard base64.
#[cfg(test)]
fn decode(text: &[u8]) -> Result<Vec<u8>, Base64Error> {
    decode_with_capacity(text, 0)
}

/// Decodes padded standard base64 into a buffer of at least `capacity`
/// bytes (for a caller that will reuse it for more than the decoded bytes).
pub(crate) fn decode_with_capacity(text: &[u8], capacity: usize) -> Result<Vec<u8>, Base64Error> {
    if text.len() % 4 != 0 {
        return Err(Base64Error::Length(text.len()));
    }
    let mut out = Vec::with_capacity((text.len() / 4 * 3).max(capacity));
    let quads = text.len() / 4;
    for (q, quad) in text.chunks_exact(4).enumerate() {
        let last = q + 1 == quads;
        // Padding: only in the last quad, as `xx==` or `xxx=`.
        let padding = match quad {
            [_, _, b'=', b'='] if last => 2,
            [_, _, _, b'='] if last => 1,
            _ => 0,
        };
        let mut n = 0u32;
        for (i, &byte) in quad[..4 - padding].iter().enumerate() {
            let offset = q * 4 + i;
            n |= value(byte).ok_or(Base64Error::Symbol { byte, offset })? << (18 - 6 * i);
        }
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let used = 3 - padding;
        if n << (8 * used) & 0xFF_FFFF != 0 {
            return Err(Base64Error::TrailingBits(q * 4 + 3 - padding));
        }
        out.extend_from_slice(&decoded[..used]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::base64::engine::general_purpose::STANDARD;
    use ::base64::Engine as _;
    use proptest::prelude::*;

    #[test]
    fn the_rfc_4648_test_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded.as_bytes()).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn refuses_what_is_not_canonical_padded_base64() {
        assert_eq!(decode(b"Zg"), Err(Base64Error::Length(2)));
        assert_eq!(
            decode(b"Zm9v!A=="),
            Err(Base64Error::Symbol {
                byte: b'!',
                offset: 4
            })
        );
        assert_eq!(
            decode(b"Zg==Zg=="),
            Err(Base64Error::Symbol {
                byte: b'=',
                offset: 2
            })
        );
        assert_eq!(
            decode(b"Z==="),
            Err(Base64Error::Symbol {
                byte: b'=',
                offset: 1
            })
        );
        assert_eq!(decode(b"Zh=="), Err(Base64Error::TrailingBits(1)));
        assert_eq!(decode(b"Zm9="), Err(Base64Error::TrailingBits(2)));
        assert_eq!(decode(b"Zm9v\n"), Err(Base64Error::Length(5)));
    }

    proptest! {
        #[test]
        fn encodes_as_the_base64_crate_does(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(encode(&bytes), STANDARD.encode(&bytes));
            let text = STANDARD.encode(&bytes);
            prop_assert!(encodes_to(&bytes, text.as_bytes()));
            let longer = [&bytes[..], &[0]].concat();
            prop_assert!(!encodes_to(&longer, text.as_bytes()));
            if let Some((first, rest)) = bytes.split_first() {
                let changed = [&[first ^ 1], rest].concat();
                prop_assert!(!encodes_to(&changed, text.as_bytes()));
            }
        }

        #[test]
        fn accepts_exactly_what_the_base64_crate_accepts(
            text in proptest::collection::vec(
                prop_oneof![Just(b'='), Just(b'A'), Just(b'h'), Just(b'/'), Just(b'!'), any::<u8>()],
                0..16,
            )
        ) {
            prop_assert_eq!(decode(&text).ok(), STANDARD.decode(&text).ok());
        }
    }
}
