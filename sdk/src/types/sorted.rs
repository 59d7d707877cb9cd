//! Entries kept sorted by a string key, keys unique: the storage behind
//! [`JsonObject`](super::JsonObject) and [`StringMap`](super::StringMap).
//!
//! The maps that cross the boundary are small (a context, a request's
//! headers): a sorted list is faster to build than a tree and much smaller in
//! the `.wasm`, and iterates in key order as a Go host writes them.

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Sorted<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for Sorted<V> {
    fn default() -> Self {
        Sorted {
            entries: Vec::new(),
        }
    }
}

impl<V> Sorted<V> {
    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        let i = self.position(key).ok()?;
        Some(&self.entries[i].1)
    }

    /// Sets `key`, returning the value it replaces.
    pub(crate) fn put(&mut self, key: String, value: V) -> Option<V> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.position(key).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// Removes `key` if its value passes `take`.
    pub(crate) fn remove_if(&mut self, key: &str, take: impl FnOnce(&V) -> bool) -> Option<V> {
        let i = self.position(key).ok()?;
        take(&self.entries[i].1).then(|| self.entries.remove(i).1)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn into_entries(self) -> Vec<(String, V)> {
        self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_sorted_and_unique() {
        let mut sorted = Sorted::default();
        for (k, v) in [("b", 1), ("a", 2), ("c", 3), ("b", 4)] {
            sorted.put(k.to_string(), v);
        }
        let entries: Vec<_> = sorted.iter().map(|(k, v)| (k, *v)).collect();
        assert_eq!(entries, [("a", 2), ("b", 4), ("c", 3)]);
        assert_eq!(sorted.remove_if("a", |v| *v > 5), None);
        assert_eq!(sorted.remove_if("a", |v| *v == 2), Some(2));
        assert_eq!((sorted.get("c"), sorted.len()), (Some(&3), 2));
    }
}
