//! The wall clock, without traps.
//!
//! On `wasm32-unknown-unknown`, `std::time::SystemTime::now()` compiles but
//! **traps** at run time ("time not implemented on this platform"), and the
//! trap loses the plugin's state. Use [`now`] instead: it reads the host's
//! clock on `wasm32-wasip1` (WASI `clock_time_get`) and returns
//! [`Unavailable`] on `wasm32-unknown-unknown` (and when the host's clock
//! fails), so the plugin decides what to do without a clock. Natively (unit
//! tests) it is the system clock.
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
}
