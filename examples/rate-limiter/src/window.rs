//! The sliding one-minute window: for each key, the times of the requests it
//! let through in the last minute, at most the limit of them.

use std::collections::VecDeque;
use std::time::Duration;

// The SDK's map, not std's: std's seeds itself from WASI in a way that adds
// ~14 KB to a wasm32-wasip1 build and traps if the host's random source fails.
use bifrost_plugin_sdk::collections::HashMap;

/// How long a request counts against its key.
pub const WINDOW: Duration = Duration::from_secs(60);

/// At most this many keys are tracked; past it, keys whose window is empty
/// are forgotten, then new keys share one overflow counter, so memory stays
/// bounded whatever keys clients send.
pub const MAX_KEYS: usize = 10_000;

/// The key that requests without a key of their own (and overflow) count
/// against.
const SHARED: &str = "";

/// Requests let through in the last [`WINDOW`], per key.
#[derive(Debug)]
pub struct Windows {
    limit: usize,
    seen: HashMap<String, VecDeque<Duration>>,
}

impl Windows {
    /// Windows allowing `limit` requests per key per minute.
    pub fn new(limit: usize) -> Self {
        Windows {
            limit,
            seen: HashMap::default(),
        }
    }

    /// Counts a request of `key` (`None`: the shared counter) at `now`
    /// (time since the Unix epoch): `Ok` if it is within the limit, else
    /// `Err` with how long until the oldest counted request leaves the window.
    pub fn admit(&mut self, key: Option<&str>, now: Duration) -> Result<(), Duration> {
        let key = self.tracked(key.unwrap_or(SHARED), now);
        let times = self.seen.entry(key).or_default();
        while times
            .front()
            .is_some_and(|&t| now.saturating_sub(t) >= WINDOW)
        {
            times.pop_front();
        }
        match times.front() {
            Some(&oldest) if times.len() >= self.limit => Err(WINDOW - now.saturating_sub(oldest)),
            _ => {
                times.push_back(now);
                Ok(())
            }
        }
    }

    /// `key`, or the shared key when `key` is new and [`MAX_KEYS`] keys with
    /// requests in the window are tracked already.
    fn tracked(&mut self, key: &str, now: Duration) -> String {
        if self.seen.len() >= MAX_KEYS && !self.seen.contains_key(key) {
            self.seen.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|&t| now.saturating_sub(t) < WINDOW)
            });
            if self.seen.len() >= MAX_KEYS {
                return SHARED.to_string();
            }
        }
        key.to_string()
    }

    /// Number of keys tracked.
    pub fn keys(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Duration = Duration::from_secs(1_700_000_000);

    fn at(seconds: u64) -> Duration {
        T0 + Duration::from_secs(seconds)
    }

    #[test]
    fn the_limit_holds_within_a_minute_and_frees_up_as_requests_age() {
        let mut windows = Windows::new(2);
        assert_eq!(windows.admit(None, at(0)), Ok(()));
        assert_eq!(windows.admit(None, at(10)), Ok(()));
        assert_eq!(windows.admit(None, at(15)), Err(Duration::from_secs(45)));
        assert_eq!(windows.admit(None, at(59)), Err(Duration::from_secs(1)));
        assert_eq!(
            windows.admit(None, at(60)),
            Ok(()),
            "the first left the window"
        );
        assert_eq!(windows.admit(None, at(61)), Err(Duration::from_secs(9)));
    }

    #[test]
    fn each_key_has_its_own_window() {
        let mut windows = Windows::new(1);
        assert_eq!(windows.admit(Some("a"), at(0)), Ok(()));
        assert_eq!(windows.admit(Some("b"), at(0)), Ok(()));
        assert!(windows.admit(Some("a"), at(1)).is_err());
        assert_eq!(windows.admit(None, at(1)), Ok(()));
    }

    #[test]
    fn refused_requests_do_not_count() {
        let mut windows = Windows::new(1);
        assert_eq!(windows.admit(None, at(0)), Ok(()));
        for s in 1..60 {
            assert!(windows.admit(None, at(s)).is_err());
        }
        assert_eq!(windows.admit(None, at(60)), Ok(()));
    }

    #[test]
    fn a_clock_going_backwards_does_not_panic() {
        let mut windows = Windows::new(1);
        assert_eq!(windows.admit(None, at(100)), Ok(()));
        assert_eq!(windows.admit(None, at(50)), Err(WINDOW));
    }

    #[test]
    fn keys_stay_bounded() {
        let mut windows = Windows::new(1);
        for i in 0..MAX_KEYS + 5 {
            let _ = windows.admit(Some(&i.to_string()), at(0));
        }
        assert_eq!(
            windows.keys(),
            MAX_KEYS + 1,
            "the overflow shares one counter"
        );
        // A minute later the old keys are forgotten to make room.
        assert_eq!(windows.admit(Some("new"), at(61)), Ok(()));
        assert!(windows.keys() <= 2, "{}", windows.keys());
    }
}
