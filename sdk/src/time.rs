//! The wall clock and a monotonic clock, without traps.
//!
//! On `wasm32-unknown-unknown`, `std::time::SystemTime::now()` and
//! `Instant::now()` compile but **trap** at run time ("time not implemented
//! on this platform"), and the trap loses the plugin's state. Use [`now`]
//! (the time of day) and [`monotonic`] (for durations) instead: they read the
//! host's clocks on `wasm32-wasip1` (WASI `clock_time_get`) and return
//! [`Unavailable`] on `wasm32-unknown-unknown` (and when the host's clock
//! fails), so the plugin decides what to do without a clock. Natively (unit
//! tests) they are the system's clocks.
//!
//! ```
//! use bifrost_plugin_sdk::time;
//! use bifrost_plugin_sdk::PluginError;
//!
//! fn seconds_since_epoch() -> Result<u64, PluginError> {
//!     Ok(time::unix_time()?.as_secs())
//! }
//! # let _ = seconds_since_epoch();
//! ```

use std::time::{Duration, SystemTime};

pub use crate::unavailable::Unavailable;

/// The current time, from the host's real-time clock.
pub fn now() -> Result<SystemTime, Unavailable> {
    unix_time().map(|since| SystemTime::UNIX_EPOCH + since)
}

/// The time since the Unix epoch, from the host's real-time clock.
pub fn unix_time() -> Result<Duration, Unavailable> {
    #[cfg(all(target_arch = "wasm32", target_os = "wasi"))]
    {
        // SAFETY: clock_time_get only writes its result, which the binding
        // returns by value.
        #[allow(unsafe_code)]
        let nanos = unsafe { wasi::clock_time_get(wasi::CLOCKID_REALTIME, 1_000) };
        nanos
            .map(Duration::from_nanos)
            .map_err(|errno| Unavailable::host_failed("clock", errno.raw()))
    }
    #[cfg(all(target_arch = "wasm32", not(target_os = "wasi")))]
    {
        Err(Unavailable::on_this_target("clock"))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| Unavailable::host_failed("clock", 0))
    }
}

/// The time since a fixed point of the host's choosing, from its monotonic
/// clock: it never goes back, so the difference of two readings is the time
/// between them (a latency), whatever happens to the time of day. Natively
/// the fixed point is the first reading in the process.
///
/// ```
/// use bifrost_plugin_sdk::time;
///
/// let start = time::monotonic();
/// // … the work being timed …
/// if let Ok(start) = start {
///     let took = time::elapsed_since(start).unwrap_or_default();
///     println!("took {} µs", took.as_micros());
/// }
/// ```
pub fn monotonic() -> Result<Duration, Unavailable> {
    #[cfg(all(target_arch = "wasm32", target_os = "wasi"))]
    {
        // SAFETY: clock_time_get only writes its result, which the binding
        // returns by value.
        #[allow(unsafe_code)]
        let nanos = unsafe { wasi::clock_time_get(wasi::CLOCKID_MONOTONIC, 1_000) };
        nanos
            .map(Duration::from_nanos)
            .map_err(|errno| Unavailable::host_failed("monotonic clock", errno.raw()))
    }
    #[cfg(all(target_arch = "wasm32", not(target_os = "wasi")))]
    {
        Err(Unavailable::on_this_target("monotonic clock"))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        Ok(ORIGIN.get_or_init(std::time::Instant::now).elapsed())
    }
}

/// The time since `start`, an earlier [`monotonic`] reading (zero if
/// `start` is later).
pub fn elapsed_since(start: Duration) -> Result<Duration, Unavailable> {
    Ok(monotonic()?.saturating_sub(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natively_the_clock_is_the_system_clock() {
        let before = SystemTime::now();
        let now = now().unwrap();
        assert!(now >= before - Duration::from_secs(1), "{now:?}");
        assert!(unix_time().unwrap().as_secs() > 1_700_000_000);
    }

    #[test]
    fn natively_the_monotonic_clock_never_goes_back() {
        let first = monotonic().unwrap();
        let second = monotonic().unwrap();
        assert!(second >= first);
        assert!(elapsed_since(second).unwrap() < Duration::from_secs(60));
        assert_eq!(
            elapsed_since(second + Duration::from_secs(60)).unwrap(),
            Duration::ZERO
        );
    }
}
