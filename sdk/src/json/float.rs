//! Reading a JSON number as the nearest `f64`, without core's parser.
//!
//! `str::parse::<f64>` is exact and fast, but brings a 10 KB table of powers
//! of five and ~8 KB of code into every plugin that reads a value (about a
//! seventh of a typical example). This reader is exact too, by a simpler
//! route: a first guess from `f64` arithmetic (a couple of roundings, so
//! within a few units in the last place), then corrected by comparing the
//! decimal value with the halfway points around the guess in exact integer
//! arithmetic. Most numbers on the wire (up to 15 significant digits,
//! exponents up to 22) need no correction at all: their guess is already
//! exact.

use std::cmp::Ordering;

/// The powers of ten that are exact in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Significant digits kept: a halfway point between two `f64`s has at most
/// 767, so one more marks "more digits, not all zero" exactly enough.
const MAX_DIGITS: usize = 800;

/// The `f64` nearest to `text`, ties to even, as `str::parse` reads it.
/// `text` is a JSON number the validator passed (so within `f64`'s range);
/// anything else reads as some number, never a panic.
pub(crate) fn parse_f64(text: &[u8]) -> f64 {
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let decimal = Decimal::read(text);
    let magnitude = decimal.nearest();
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// A non-negative decimal number: `digits` (significant, no leading zero)
/// times ten to the `exponent`.
struct Decimal {
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    fn read(text: &[u8]) -> Decimal {
        let mut digits = Vec::new();
        let mut exponent: i64 = 0;
        let mut fraction = false;
        let mut at = 0;
        while let Some(&byte) = text.get(at) {
            match byte {
                b'0'..=b'9' => match digits.len() < MAX_DIGITS {
                    true => {
                        // A leading zero is no digit, but still moves a
                        // fraction's point.
                        if byte != b'0' || !digits.is_empty() {
                            digits.push(byte - b'0');
                        }
                        if fraction {
                            exponent -= 1;
                        }
                    }
                    false => {
                        // Dropped: an integer digit still counts in the
                        // exponent. A non-zero one makes the last kept digit
                        // odd: the value then lies on no halfway point
                        // (those have at most 767 digits) and on the same
                        // side of each as the full value.
                        if !fraction {
                            exponent += 1;
                        }
                        if byte != b'0' {
                            if let Some(last) = digits.last_mut() {
                                *last |= 1;
                            }
                        }
                    }
                },
                b'.' => fraction = true,
                b'e' | b'E' => {
                    exponent += read_exponent(&text[at + 1..]);
                    break;
                }
                _ => {}
            }
            at += 1;
        }
        // Trailing zeros say nothing: `1.500` is `15`e-1.
        while digits.last() == Some(&0) {
            digits.pop();
            exponent += 1;
        }
        Decimal { digits, exponent }
    }

    /// The nearest `f64`: the guess, moved one step at a time until the
    /// decimal lies between the halfway points around it.
    fn nearest(&self) -> f64 {
        // Below 10^-400 is nearer 0 than the least subnormal (4.9e-324);
        // beyond 10^310 is no finite number (the validator refuses it, but
        // bytes it did not pass must not loop for long).
        let magnitude = self.exponent + self.digits.len() as i64;
        if self.digits.is_empty() || magnitude < -400 {
            return 0.0;
        }
        if magnitude > 310 {
            return f64::INFINITY;
        }
        let mut guess = self.guess();
        if self.digits.len() <= 15 && (-22..=22).contains(&self.exponent) {
            return guess; // exact: exact significand, one exact power, one rounding
        }
        if guess.is_infinite() {
            guess = f64::MAX;
        }
        for _ in 0..4096 {
            let (mantissa, exp2) = parts(guess);
            // Above the halfway point to the next one up (at it: to even).
            let up = self.compare(2 * mantissa + 1, exp2 - 1);
            if up == Ordering::Greater || (up == Ordering::Equal && mantissa & 1 == 1) {
                if guess == f64::MAX {
                    return guess;
                }
                guess = f64::from_bits(guess.to_bits() + 1);
                continue;
            }
            if guess == 0.0 {
                return guess;
            }
            // Below the halfway point to the next one down, which is closer
            // when the guess is a power of two (the spacing halves below it).
            let narrower = mantissa == 1 << 52 && exp2 > -1074;
            let down = match narrower {
                true => self.compare(4 * mantissa - 1, exp2 - 2),
                false => self.compare(2 * mantissa - 1, exp2 - 1),
            };
            if down == Ordering::Less || (down == Ordering::Equal && mantissa & 1 == 1) {
                guess = f64::from_bits(guess.to_bits() - 1);
                continue;
            }
            return guess;
        }
        guess
    }

    /// Within a few units in the last place: the first 19 digits as an
    /// integer (one rounding), scaled by exact powers of ten.
    fn guess(&self) -> f64 {
        let kept = self.digits.len().min(19);
        let leading = self.digits[..kept]
            .iter()
            .fold(0u64, |n, &d| n * 10 + u64::from(d));
        let mut value = leading as f64;
        let mut exponent = self.exponent + (self.digits.len() - kept) as i64;
        while exponent > 22 {
            value *= POW10[22];
            exponent -= 22;
        }
        while exponent < -22 {
            value /= POW10[22];
            exponent += 22;
        }
        match exponent >= 0 {
            true => value * POW10[exponent as usize],
            false => value / POW10[exponent.unsigned_abs() as usize],
        }
    }

    /// The decimal against `k` × 2^`exp2`, exactly.
    fn compare(&self, k: u64, exp2: i64) -> Ordering {
        // digits × 10^e = digits × 5^e × 2^e: the powers of five go to the
        // side whose exponent is positive, the powers of two are shifts.
        let mut left = Big::from_digits(&self.digits);
        let mut right = Big::from_u64(k);
        match self.exponent >= 0 {
            true => left.mul_pow5(self.exponent as u64),
            false => right.mul_pow5(self.exponent.unsigned_abs()),
        }
        let shift = self.exponent - exp2;
        match shift >= 0 {
            true => left.shl(shift as u64),
            false => right.shl(shift.unsigned_abs()),
        }
        left.cmp(&right)
    }
}

/// `e-12`'s `-12`, saturated far beyond any exponent that matters.
fn read_exponent(text: &[u8]) -> i64 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let value = digits
        .iter()
        .filter(|d| d.is_ascii_digit())
        .fold(0i64, |n, &d| (n * 10 + i64::from(d - b'0')).min(1 << 40));
    if negative {
        -value
    } else {
        value
    }
}

/// A finite non-negative `f64` as mantissa × 2^exponent (mantissa below
/// 2^53; subnormals at the least exponent, -1074).
fn parts(value: f64) -> (u64, i64) {
    let bits = value.to_bits();
    let field = (bits >> 52) as i64 & 0x7ff;
    let fraction = bits & ((1 << 52) - 1);
    match field {
        0 => (fraction, -1074),
        _ => (fraction | 1 << 52, field - 1075),
    }
}

/// An unsigned integer of any size, 32-bit limbs, least significant first.
#[derive(PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(n: u64) -> Big {
        let mut big = Big(vec![n as u32, (n >> 32) as u32]);
        big.trim();
        big
    }

    fn from_digits(digits: &[u8]) -> Big {
        let mut big = Big(Vec::new());
        for chunk in digits.chunks(9) {
            let value = chunk.iter().fold(0u32, |n, &d| n * 10 + u32::from(d));
            big.mul_add(10u32.pow(chunk.len() as u32), value);
        }
        big
    }

    /// self = self × by + add.
    fn mul_add(&mut self, by: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.0 {
            let product = u64::from(*limb) * u64::from(by) + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow5(&mut self, mut n: u64) {
        // 5^13 is the largest power of five below 2^32.
        while n >= 13 {
            self.mul_add(1_220_703_125, 0);
            n -= 13;
        }
        self.mul_add(5u32.pow(n as u32), 0);
    }

    fn shl(&mut self, bits: u64) {
        let (limbs, bits) = ((bits / 32) as usize, (bits % 32) as u32);
        if bits > 0 {
            let mut carry = 0;
            for limb in &mut self.0 {
                let shifted = (u64::from(*limb) << bits) | carry;
                *limb = shifted as u32;
                carry = shifted >> 32;
            }
            if carry > 0 {
                self.0.push(carry as u32);
            }
        }
        if !self.0.is_empty() {
            self.0.splice(0..0, std::iter::repeat_n(0, limbs));
        }
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Big) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Big) -> Ordering {
        let (a, b) = (&self.0, &other.0);
        a.len()
            .cmp(&b.len())
            .then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same_as_core(text: &str) {
        let core: f64 = text.parse().unwrap();
        let ours = parse_f64(text.as_bytes());
        assert_eq!(
            ours.to_bits(),
            core.to_bits(),
            "{text}: {ours:e} / {core:e}"
        );
    }

    #[test]
    fn reads_the_hard_cases_as_core_does() {
        for text in [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1",
            "1.5",
            "1.50",
            "0.1",
            "0.3",
            "1e2",
            "1E+2",
            "1e-2",
            "100e-2",
            "9007199254740993",
            "9007199254740992",
            "9007199254740995",
            "18446744073709551616",
            "123456789012345678901234567890",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "2.2250738585072011e-308",
            "2.2250738585072014e-308",
            "2.2250738585072012e-308",
            "4.9e-324",
            "5e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "1e-400",
            "3e-324",
            "1.2345678901234567e-5",
            "0.000001",
            "123.456e-7",
            "7.2057594037927933e16",
            "8.98846567431158e307",
            "4.4501477170144023e-308",
            "1e23",
            "1e22",
            "8.5e-323",
            "0.30000000000000004",
            "2.00000000000000011102230246251565404236316680908203125",
            "2.00000000000000011102230246251565404236316680908203124",
            "2.00000000000000011102230246251565404236316680908203126",
            "1.00000000000000011102230246251565404236316680908203125",
        ] {
            same_as_core(text);
        }
        let long = format!("0.{}1e-300", "0".repeat(900));
        same_as_core(&long);
        let long = format!("1{}", "0".repeat(300));
        same_as_core(&long);
        let halfway = format!("9007199254740993{}1", "0".repeat(850));
        same_as_core(&halfway);
        let halfway = format!("9007199254740993{}", "0".repeat(850));
        same_as_core(&halfway);
    }

    proptest! {
        /// Any number core reads as finite, ours reads to the same bits.
        #[test]
        fn reads_every_number_as_core_does(
            integer in "[1-9][0-9]{0,24}|0",
            fraction in proptest::option::of("[0-9]{1,24}"),
            exponent in proptest::option::of(-345i32..310),
        ) {
            let mut text = integer;
            if let Some(fraction) = fraction {
                text = format!("{text}.{fraction}");
            }
            if let Some(exponent) = exponent {
                text = format!("{text}e{exponent}");
            }
            let core: f64 = text.parse().unwrap();
            if core.is_finite() {
                prop_assert_eq!(parse_f64(text.as_bytes()).to_bits(), core.to_bits(), "{}", text);
            }
        }

        /// Every `f64`, written shortest, reads back as itself.
        #[test]
        fn reads_back_every_f64(bits in any::<u64>()) {
            let value = f64::from_bits(bits);
            if value.is_finite() {
                for text in [format!("{value:e}"), format!("{value:?}")] {
                    prop_assert_eq!(parse_f64(text.as_bytes()).to_bits(), value.to_bits(), "{}", text);
                }
            }
        }
    }
}
