//! When each request in flight started, so its response can say how long it
//! took. Bounded: a request whose response never comes is forgotten once
//! [`MAX_PENDING`] newer ones are waiting.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Requests remembered at most.
pub const MAX_PENDING: usize = 10_000;

/// Start times by request id, oldest first.
#[derive(Debug, Default)]
pub struct Pending {
    started: HashMap<String, Duration>,
    order: VecDeque<String>,
}

impl Pending {
    /// Remembers that request `id` started at `at`.
    pub fn start(&mut self, id: &str, at: Duration) {
        if self.started.insert(id.to_string(), at).is_none() {
            self.order.push_back(id.to_string());
        }
        while self.started.len() > MAX_PENDING {
            match self.order.pop_front() {
                Some(oldest) => self.started.remove(&oldest),
                None => break,
            };
        }
    }

    /// How long ago (at `now`) request `id` started, forgetting it; `None`
    /// if it is not remembered.
    pub fn finish(&mut self, id: &str, now: Duration) -> Option<Duration> {
        let started = self.started.remove(id)?;
        if let Some(at) = self.order.iter().position(|o| o == id) {
            self.order.remove(at);
        }
        Some(now.saturating_sub(started))
    }

    /// Requests remembered.
    pub fn len(&self) -> usize {
        self.started.len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.started.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_response_gets_the_time_since_its_request_once() {
        let mut pending = Pending::default();
        pending.start("r1", secs(10));
        assert_eq!(pending.finish("r1", secs(13)), Some(secs(3)));
        assert_eq!(pending.finish("r1", secs(14)), None);
        assert!(pending.is_empty());
    }

    #[test]
    fn unanswered_requests_are_forgotten_oldest_first() {
        let mut pending = Pending::default();
        for i in 0..MAX_PENDING + 3 {
            pending.start(&i.to_string(), secs(i as u64));
        }
        assert_eq!(pending.len(), MAX_PENDING);
        assert_eq!(pending.finish("0", secs(0)), None);
        assert_eq!(pending.finish("3", secs(5)), Some(secs(2)));
    }
}
