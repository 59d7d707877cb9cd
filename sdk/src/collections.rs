//! Hash maps for plugin state, seeded through the SDK.
//!
//! `std::collections::HashMap::new()` seeds its hasher (`RandomState`) from
//! the target's random source. On `wasm32-wasip1` that costs about 14 KB of
//! `.wasm` (std's path for a failed WASI call formats the error with `Debug`,
//! which brings `str` escaping and Unicode tables) and traps the call when
//! the host's random source fails. [`HashMap`] and [`HashSet`] here are std's
//! own, with the hasher [`Seeded`]: std's SipHash (`DefaultHasher`), its state
//! first fed 128 bits from [`random`](crate::random), drawn once per
//! instance, so a map keyed by what clients send (header values, ids) still
//! hashes in a way no client can predict. Where there is no random source
//! (`wasm32-unknown-unknown`, native tests, a host whose `random_get` fails)
//! the seed is fixed, as std's own is on `wasm32-unknown-unknown`.
//!
//! Make one with `default()` (`new()` belongs to std's `RandomState` maps):
//!
//! ```
//! use bifrost_plugin_sdk::collections::HashMap;
//!
//! let mut seen: HashMap<String, u32> = HashMap::default();
//! *seen.entry("user-1".to_string()).or_default() += 1;
//! assert_eq!(seen["user-1"], 1);
//! ```

use std::cell::Cell;
use std::hash::{BuildHasher, DefaultHasher, Hasher};

/// std's `HashMap`, hashed with [`Seeded`]. Make one with `default()`.
pub type HashMap<K, V> = std::collections::HashMap<K, V, Seeded>;

/// std's `HashSet`, hashed with [`Seeded`]. Make one with `default()`.
pub type HashSet<T> = std::collections::HashSet<T, Seeded>;

/// A `BuildHasher` whose hashers start from the instance's seed (see the
/// [module docs](self)). Every `Seeded` of one instance hashes alike.
#[derive(Clone, Debug)]
pub struct Seeded(DefaultHasher);

crate::global::global! {
    /// The instance's seed, drawn at the first map made.
    static SEED: Cell<Option<[u8; 16]>> = Cell::new(None);
}

impl Default for Seeded {
    fn default() -> Self {
        let seed = SEED.with(|seed| {
            let drawn = seed.get().unwrap_or_else(|| {
                let mut bytes = [0; 16];
                // No random source: the fixed (zero) seed.
                if crate::random::fill(&mut bytes).is_err() {
                    bytes = [0; 16];
                }
                bytes
            });
            seed.set(Some(drawn));
            drawn
        });
        let mut hasher = DefaultHasher::new();
        hasher.write(&seed);
        Seeded(hasher)
    }
}

impl BuildHasher for Seeded {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_of_one_instance_hash_alike() {
        let (a, b) = (Seeded::default(), Seeded::default());
        assert_eq!(a.hash_one("x-api-key"), b.hash_one("x-api-key"));
        assert_ne!(a.hash_one("a"), a.hash_one("b"));
    }

    #[test]
    fn a_seeded_map_is_a_hash_map() {
        let mut map: HashMap<&str, u32> = HashMap::default();
        map.insert("a", 1);
        map.insert("b", 2);
        assert_eq!(map.get("a"), Some(&1));
        let set: HashSet<u8> = [1, 2, 2].into_iter().collect();
        assert_eq!(set.len(), 2);
    }
}
