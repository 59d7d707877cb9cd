//! The configured API keys, and a membership test that does not stop at the
//! first differing byte or the first matching key, so the time it takes says
//! little about how close a guess was.

/// The keys a request may present.
pub struct KeySet {
    keys: Vec<Vec<u8>>,
}

impl KeySet {
    /// The set of `keys`.
    pub fn new(keys: Vec<String>) -> Self {
        KeySet {
            keys: keys.into_iter().map(String::into_bytes).collect(),
        }
    }

    /// Whether `candidate` is one of the keys. Every key is compared, each
    /// over all of its bytes; only a key's length can end a comparison
    /// early (hiding it would cost padding every key to one length).
    pub fn contains(&self, candidate: &str) -> bool {
        let candidate = candidate.as_bytes();
        self.keys
            .iter()
            .fold(false, |found, key| found | same_bytes(key, candidate))
    }
}

/// `a == b`, without an early exit on the first differing byte.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(keys: &[&str]) -> KeySet {
        KeySet::new(keys.iter().map(|k| k.to_string()).collect())
    }

    #[test]
    fn a_configured_key_is_accepted_wherever_it_is_listed() {
        let keys = set(&["first", "second", "third"]);
        for key in ["first", "second", "third"] {
            assert!(keys.contains(key), "{key}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        let keys = set(&["secret-1"]);
        for guess in [
            "",
            "secret",
            "secret-2",
            "secret-10",
            "SECRET-1",
            " secret-1",
        ] {
            assert!(!keys.contains(guess), "{guess:?}");
        }
    }

    #[test]
    fn bytes_are_compared_exactly() {
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"ab"));
        assert!(same_bytes(b"", b""));
    }
}
