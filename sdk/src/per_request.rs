//! State kept per request, bounded.
//!
//! A plugin that remembers something in `pre_hook` for its `post_hook` (a
//! start time, a cache key) keys it by the context's `request_id`. Bifrost
//! does not promise a `post_hook` for every `pre_hook` (a request another
//! plugin answers, a client that goes away), so a plain map keeps what it
//! never hears about again, and grows for as long as the plugin runs.
//! [`RequestMap`] holds at most `capacity` requests and, where the plugin has
//! a clock, none older than an age limit: each insert makes room by dropping
//! the oldest.
//!
//! ```
//! use std::time::Duration;
//! use bifrost_plugin_sdk::per_request::RequestMap;
//!
//! // At most 10,000 requests in flight, none older than five minutes.
//! let mut started: RequestMap<&str> = RequestMap::new(10_000)
//!     .with_max_age(Duration::from_secs(300));
//! started.insert("r1", "gpt-4o-mini");                       // pre_hook
//! assert_eq!(started.remove("r1"), Some("gpt-4o-mini"));     // post_hook
//! assert_eq!(started.remove("r1"), None);
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use crate::collections::HashMap;
use crate::time;

/// A map from request id to `V` that holds at most `capacity` entries, and
/// (with [`with_max_age`](RequestMap::with_max_age)) none older than an age
/// limit. An [`insert`](RequestMap::insert) makes room by dropping the oldest
/// entries (the ones inserted first); inserting an id again replaces its
/// value and makes it the newest.
///
/// Ages are read from [`time::monotonic`]. Without a clock (a
/// `wasm32-unknown-unknown` build) the age limit is not applied and the
/// capacity alone bounds the map.
///
/// ```
/// use std::time::Duration;
/// use bifrost_plugin_sdk::per_request::RequestMap;
///
/// let mut pending = RequestMap::new(2);
/// pending.insert("r1", 1);
/// pending.insert("r2", 2);
/// pending.insert("r3", 3); // r1 is dropped: the map is full
/// assert_eq!(pending.get("r1"), None);
/// assert_eq!(pending.len(), 2);
///
/// // With explicit times (seconds on a monotonic clock), as a test does:
/// let mut aged = RequestMap::new(100).with_max_age(Duration::from_secs(60));
/// aged.insert_at("old", (), Duration::from_secs(0));
/// aged.insert_at("new", (), Duration::from_secs(61));
/// assert!(!aged.contains("old"), "older than 60 s when `new` came");
/// assert!(aged.contains("new"));
/// ```
#[derive(Debug, Clone)]
pub struct RequestMap<V> {
    entries: HashMap<String, Entry<V>>,
    /// Ids in insertion order, each with the insertion it stands for: an id
    /// removed or inserted again leaves a stale item here, skipped when it
    /// comes to the front (and swept when they outnumber the entries).
    order: VecDeque<(u64, String)>,
    capacity: usize,
    max_age: Option<Duration>,
    inserted: u64,
}

#[derive(Debug, Clone)]
struct Entry<V> {
    value: V,
    /// The monotonic time of the insert, when there was a clock.
    at: Option<Duration>,
    /// Which insert this is, to tell its item in `order` from stale ones.
    serial: u64,
}

impl<V> RequestMap<V> {
    /// An empty map that will hold at most `capacity` requests (0 holds
    /// none). Nothing is reserved up front: memory grows with the entries.
    pub fn new(capacity: usize) -> Self {
        RequestMap {
            entries: HashMap::default(),
            order: VecDeque::new(),
            capacity,
            max_age: None,
            inserted: 0,
        }
    }

    /// Drops, at each insert, entries older than `max_age` (when the plugin
    /// has a monotonic clock).
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// The most requests the map holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The age limit, if any.
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age
    }

    /// Remembers `value` for request `id`, now (by [`time::monotonic`],
    /// read only when there is an age limit); returns the value it replaces. Then drops entries past the age limit
    /// and, while there are more than `capacity`, the oldest.
    pub fn insert(&mut self, id: &str, value: V) -> Option<V> {
        // Without an age limit the time is not needed: no clock call.
        let now = self.max_age.and_then(|_| time::monotonic().ok());
        self.insert_with_time(id, value, now)
    }

    /// [`insert`](RequestMap::insert) at the monotonic time `now`, for a
    /// test or a plugin that reads the clock itself. Times should not go
    /// back between inserts: the age limit looks at the oldest entries only.
    pub fn insert_at(&mut self, id: &str, value: V, now: Duration) -> Option<V> {
        self.insert_with_time(id, value, Some(now))
    }

    fn insert_with_time(&mut self, id: &str, value: V, now: Option<Duration>) -> Option<V> {
        self.inserted += 1;
        let serial = self.inserted;
        let entry = Entry {
            value,
            at: now,
            serial,
        };
        let replaced = self.entries.insert(id.to_string(), entry);
        self.order.push_back((serial, id.to_string()));
        self.make_room(now);
        replaced.map(|entry| entry.value)
    }

    /// Drops expired entries and the oldest beyond capacity, from the front
    /// of `order`, then sweeps stale items if they have piled up.
    fn make_room(&mut self, now: Option<Duration>) {
        while let Some((serial, id)) = self.order.front() {
            let expired = |at: Option<Duration>| match (now, at, self.max_age) {
                (Some(now), Some(at), Some(max)) => now.saturating_sub(at) > max,
                _ => false,
            };
            let drop = match self.entries.get(id) {
                Some(entry) if entry.serial == *serial => {
                    self.entries.len() > self.capacity || expired(entry.at)
                }
                _ => true, // stale: removed or inserted again since
            };
            if !drop {
                break;
            }
            if let Some((serial, id)) = self.order.pop_front() {
                if self.entries.get(&id).is_some_and(|e| e.serial == serial) {
                    self.entries.remove(&id);
                }
            }
        }
        // Removals leave stale items behind; keep them from outgrowing the
        // entries (amortised: a sweep halves the queue at least).
        if self.order.len() > 2 * self.entries.len() + 16 {
            let entries = &self.entries;
            self.order
                .retain(|(serial, id)| entries.get(id).is_some_and(|e| e.serial == *serial));
        }
    }

    /// The value remembered for `id`.
    pub fn get(&self, id: &str) -> Option<&V> {
        self.entries.get(id).map(|entry| &entry.value)
    }

    /// The value remembered for `id`, to change in place.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut V> {
        self.entries.get_mut(id).map(|entry| &mut entry.value)
    }

    /// Whether a value is remembered for `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.entries.contains_key(id)
    }

    /// Forgets `id`, returning its value (a `post_hook` takes what its
    /// `pre_hook` left).
    pub fn remove(&mut self, id: &str) -> Option<V> {
        let value = self.entries.remove(id).map(|entry| entry.value);
        if value.is_some() {
            self.make_room(None);
        }
        value
    }

    /// How many requests are remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every request.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_post_hook_takes_what_its_pre_hook_left_once() {
        let mut map = RequestMap::new(4);
        assert_eq!(map.insert_at("r1", "a", secs(0)), None);
        assert_eq!(map.get("r1"), Some(&"a"));
        *map.get_mut("r1").unwrap() = "b";
        assert_eq!(map.remove("r1"), Some("b"));
        assert_eq!(map.remove("r1"), None);
        assert!(map.is_empty());
    }

    #[test]
    fn a_full_map_drops_the_oldest_and_a_reinsert_makes_an_id_the_newest() {
        let mut map = RequestMap::new(2);
        map.insert_at("r1", 1, secs(0));
        map.insert_at("r2", 2, secs(1));
        assert_eq!(map.insert_at("r1", 10, secs(2)), Some(1), "replaced");
        map.insert_at("r3", 3, secs(3));
        assert_eq!(
            (map.get("r1"), map.get("r2"), map.get("r3")),
            (Some(&10), None, Some(&3))
        );
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn entries_past_the_age_limit_go_at_the_next_insert() {
        let mut map = RequestMap::new(100).with_max_age(secs(60));
        map.insert_at("r1", (), secs(0));
        map.insert_at("r2", (), secs(30));
        map.insert_at("r3", (), secs(60));
        assert_eq!(map.len(), 3, "60 s old is not past the limit");
        map.insert_at("r4", (), secs(91));
        assert!(!map.contains("r1") && !map.contains("r2"));
        assert!(map.contains("r3") && map.contains("r4"));
    }

    #[test]
    fn without_a_clock_only_the_capacity_bounds_the_map() {
        let mut map = RequestMap::new(3).with_max_age(secs(1));
        for i in 0..10 {
            map.insert_with_time(&i.to_string(), i, None);
        }
        assert_eq!(map.len(), 3);
        assert!(map.contains("9"));
    }

    #[test]
    fn a_zero_capacity_holds_nothing() {
        let mut map = RequestMap::new(0);
        map.insert_at("r1", (), secs(0));
        assert!(map.is_empty());
    }

    #[test]
    fn inserting_and_removing_forever_keeps_the_queue_small() {
        let mut map = RequestMap::new(1_000);
        for i in 0..100_000u64 {
            let id = i.to_string();
            map.insert_at(&id, i, secs(i));
            map.insert_at(&id, i, secs(i)); // a stale item too
            assert_eq!(map.remove(&id), Some(i));
        }
        assert!(map.is_empty());
        assert!(map.order.len() <= 16, "{}", map.order.len());
    }

    /// What a request map must hold: the last `capacity` distinct ids by
    /// their latest insert, minus those removed or past the age limit at
    /// the latest insert.
    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u64),
        Remove(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u8..12, 0u64..30).prop_map(|(id, step)| Op::Insert(id, step)),
            1 => (0u8..12).prop_map(Op::Remove),
        ]
    }

    proptest! {
        #[test]
        fn it_behaves_like_a_list_of_the_newest_inserts(
            capacity in 0usize..6,
            max_age in proptest::option::of(0u64..40),
            ops in proptest::collection::vec(op(), 0..200),
        ) {
            let mut map = RequestMap::new(capacity);
            if let Some(age) = max_age {
                map = map.with_max_age(secs(age));
            }
            // The model: (id, value, time), oldest first.
            let mut model: Vec<(String, u64, u64)> = Vec::new();
            let mut now = 0;
            for (n, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert(id, step) => {
                        now += step;
                        let id = id.to_string();
                        let old = model.iter().position(|(i, _, _)| *i == id).map(|at| model.remove(at).1);
                        prop_assert_eq!(map.insert_at(&id, n as u64, secs(now)), old);
                        model.push((id, n as u64, now));
                        if let Some(age) = max_age {
                            model.retain(|(_, _, at)| now - at <= age);
                        }
                        while model.len() > capacity {
                            model.remove(0);
                        }
                    }
                    Op::Remove(id) => {
                        let id = id.to_string();
                        let old = model.iter().position(|(i, _, _)| *i == id).map(|at| model.remove(at).1);
                        prop_assert_eq!(map.remove(&id), old);
                    }
                }
                prop_assert_eq!(map.len(), model.len());
                prop_assert!(map.len() <= capacity);
                for (id, value, _) in &model {
                    prop_assert_eq!(map.get(id), Some(value));
                }
            }
        }
    }
}
