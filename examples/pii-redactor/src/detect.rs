//! Finding e-mail addresses, phone numbers and card numbers in text, by
//! hand-written scanners (a regex engine would triple the plugin's size).
//!
//! - An e-mail address is `local@domain.tld`: a local part of letters,
//!   digits and `._%+-`, a domain of at least two dot-separated labels whose
//!   last is two or more letters.
//! - A card number is 13 to 19 digits, alone or grouped by single spaces or
//!   dashes, that pass the Luhn check.
//! - A phone number is 7 to 15 digits written with a leading `+` or with
//!   separators (spaces, `-`, `.`, parentheses), such as `+1 (555) 010-0199`
//!   or `555-0100`; every group after the first has two digits or more.
//!   Dates (`2024-01-15`), IPv4 addresses, decimals and bare digit runs
//!   (order numbers, timestamps) are not phone numbers.

use std::ops::Range;

/// Byte ranges of everything to redact in `text`, sorted, not overlapping.
pub fn find(text: &str) -> Vec<Range<usize>> {
    // Each scanner finds its spans in order: the numbers are inserted among
    // the addresses (a slice sort would add ~4 KB to the plugin).
    let mut spans = emails(text);
    for span in numbers(text) {
        let at = spans.partition_point(|other| other.start <= span.start);
        spans.insert(at, span);
    }
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start < last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

/// `text` with everything [`find`] finds replaced by `replacement`; `None`
/// when there is nothing to redact.
pub fn redact(text: &str, replacement: &str) -> Option<String> {
    let spans = find(text);
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for span in spans {
        out.push_str(text.get(copied..span.start).unwrap_or_default());
        out.push_str(replacement);
        copied = span.end;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    Some(out)
}

fn is_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._%+-".contains(&b)
}

fn is_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'.'
}

fn emails(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut taken = 0; // where the last address ended
    for at in (0..bytes.len()).filter(|&i| bytes[i] == b'@') {
        if at < taken {
            continue;
        }
        let mut start = at;
        while start > taken && is_local(bytes[start - 1]) {
            start -= 1;
        }
        while start < at && bytes[start] == b'.' {
            start += 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain(bytes[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        if start < at && text.get(at + 1..end).is_some_and(is_domain_name) {
            spans.push(start..end);
            taken = end;
        }
    }
    spans
}

fn is_domain_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let top = labels.last().copied().unwrap_or("");
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
        && top.len() >= 2
        && top.bytes().all(|b| b.is_ascii_alphabetic())
}

const SEPARATORS: &[u8] = b" -.()";

/// Runs of digits and separators that are card or phone numbers.
fn numbers(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next_is_digit = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        let starts = c.is_ascii_digit() || (matches!(c, b'+' | b'(') && next_is_digit);
        if !starts {
            i += 1;
            continue;
        }
        // The run: digits, and at most two separators in a row.
        let (mut k, mut end, mut gap) = (i + 1, i + usize::from(c.is_ascii_digit()), 0);
        while k < bytes.len() {
            let d = bytes[k];
            if d.is_ascii_digit() {
                end = k + 1;
                gap = 0;
            } else if SEPARATORS.contains(&d) && gap < 2 {
                gap += 1;
            } else {
                break;
            }
            k += 1;
        }
        // Part of a word or code (`abc123`, `abc-555-0100`) is not a number.
        let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
        let glued_before = i > 0
            && (word(&bytes[i - 1])
                || (matches!(bytes[i - 1], b'-' | b'.') && i > 1 && word(&bytes[i - 2])));
        let glued_after = bytes.get(end).is_some_and(word);
        if !glued_before && !glued_after && text.get(i..end).is_some_and(is_card_or_phone) {
            spans.push(i..end);
        }
        i = end.max(i + 1);
    }
    spans
}

fn is_card_or_phone(run: &str) -> bool {
    let digits: Vec<u8> = run
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    let groups: Vec<&str> = run
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let separators: Vec<u8> = run.bytes().filter(|b| !b.is_ascii_digit()).collect();
    let card_like = separators.iter().all(|b| matches!(b, b' ' | b'-'))
        && !run.as_bytes().windows(2).any(|w| w == b"  " || w == b"--");
    if (13..=19).contains(&digits.len()) && card_like && luhn(&digits) {
        return true;
    }
    is_phone(run, &digits, &groups, &separators)
}

fn is_phone(run: &str, digits: &[u8], groups: &[&str], separators: &[u8]) -> bool {
    if !(7..=15).contains(&digits.len()) || (separators.is_empty() && !run.starts_with('+')) {
        return false;
    }
    if groups.iter().skip(1).any(|g| g.len() < 2) {
        return false;
    }
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let only_dots = separators.iter().all(|b| *b == b'.');
    let date = matches!(lengths.as_slice(), [4, 2, 2] | [2, 2, 4])
        && separators.iter().all(|b| matches!(b, b'-' | b'.'));
    let ipv4 = only_dots && lengths.len() == 4 && lengths.iter().all(|l| *l <= 3);
    let decimal = only_dots && lengths.len() == 2;
    !(date || ipv4 || decimal)
}

/// The Luhn checksum of card numbers.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            match i % 2 {
                1 if d * 2 > 9 => d * 2 - 9,
                1 => d * 2,
                _ => d,
            }
        })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(text: &str) -> String {
        redact(text, "[x]").unwrap_or_else(|| text.to_string())
    }

    #[test]
    fn email_addresses_are_redacted_with_their_whole_domain() {
        assert_eq!(redacted("mail jane.doe+ai@example.co.uk."), "mail [x].");
        assert_eq!(redacted("a@b.io, c_d@e-f.org"), "[x], [x]");
        assert_eq!(redacted("<ops@corp.example.com>"), "<[x]>");
    }

    #[test]
    fn at_signs_that_are_not_addresses_stay() {
        for text in [
            "@mention",
            "a@b",
            "user@localhost",
            "x@y.c",
            "email@123.45",
            "@@",
        ] {
            assert_eq!(redact(text, "[x]"), None, "{text}");
        }
    }

    #[test]
    fn phone_numbers_in_common_notations_are_redacted() {
        assert_eq!(redacted("call +1 (555) 010-0199 now"), "call [x] now");
        assert_eq!(redacted("call 555-0100."), "call [x].");
        assert_eq!(redacted("+442079460958"), "[x]");
        assert_eq!(redacted("030 1234 5678 or 555.010.0199"), "[x] or [x]");
    }

    #[test]
    fn numbers_that_are_not_phones_stay() {
        for text in [
            "order 1234567890",
            "on 2024-01-15",
            "host 192.168.100.200",
            "pi is 3.14159265",
            "version 1.2.3.4.5.6.7",
            "in 1999 and 2024",
            "id abc-555-0100",
            "sku 555-0100x",
        ] {
            assert_eq!(redact(text, "[x]"), None, "{text}");
        }
    }

    #[test]
    fn card_numbers_must_pass_luhn() {
        assert_eq!(redacted("card 4111 1111 1111 1111 ok"), "card [x] ok");
        assert_eq!(redacted("4111-1111-1111-1111"), "[x]");
        assert_eq!(redacted("5500005555555559"), "[x]");
        // One digit off: fails Luhn, and 16 digits is too long for a phone.
        assert_eq!(redact("4111 1111 1111 1112", "[x]"), None);
        assert!(luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
    }

    #[test]
    fn several_kinds_in_one_text_and_non_ascii_around_them() {
        assert_eq!(
            redacted("Jürgen: jürgen@例.de? nein: j@example.de, ☎ +49 30 1234567"),
            "Jürgen: jürgen@例.de? nein: [x], ☎ [x]"
        );
        assert_eq!(
            redacted("5551234567@example.com"),
            "[x]",
            "overlapping finds merge"
        );
    }
}
