//! Logging: plugins use the [`log`] crate's macros, and the SDK
//! installs the logger, at the first export call, without the plugin doing
//! anything.
//!
//! ```
//! use bifrost_plugin_sdk::log;
//! # fn hook(model: &str) {
//! log::info!("routing {model}");
//! # }
//! ```
//!
//! What a record becomes depends on the target:
//! - **`wasm32-wasip1`**: one line on stderr per record, written with one
//!   `fd_write`: `LEVEL plugin: message`, where `plugin` is the name given
//!   to `#[bifrost_plugin(name = …)]` (e.g. `INFO rate-limiter: 3 requests
//!   left`), or the plugin crate's name where none was given. Newlines in a
//!   message are written as `\n`, so a record is never split over lines, and
//!   a message over [`MAX_MESSAGE_BYTES`] is cut, the line ending with
//!   `…[cut N bytes]`. Levels up to `Info` are on; a plugin wanting more
//!   calls `log::set_max_level(log::LevelFilter::Debug)` in its `init`.
//!   A panic's message and location are logged at `ERROR` before the trap.
//! - **`wasm32-unknown-unknown`**: the module imports nothing, so there is
//!   nowhere to write. The calls compile and are dropped at compile time
//!   (the SDK turns on `log`'s `max_level_off` for that target): no code and
//!   no strings are added to the `.wasm`.
//! - **native** (unit tests): no logger is installed; records are dropped.

// Only the wasip1 logger writes lines; elsewhere only the tests call these.
#![cfg_attr(not(all(target_arch = "wasm32", target_os = "wasi")), allow(dead_code))]

use std::fmt::{self, Write as _};

/// The longest message a log line carries, in bytes (before escaping); the
/// rest is cut, and the line says how much was cut.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// One record as one line: `LEVEL plugin: message\n`, with `\n` and `\r`
/// escaped and the message cut after [`MAX_MESSAGE_BYTES`].
pub(crate) fn format_line(level: log::Level, plugin: &str, message: fmt::Arguments<'_>) -> String {
    let mut line = Line {
        text: format!("{level} {plugin}: "),
        room: MAX_MESSAGE_BYTES,
        cut: 0,
    };
    // `Line` never fails; an error from a plugin's Display impl just ends
    // the message early.
    let _ = line.write_fmt(message);
    if line.cut > 0 {
        let _ = write!(line.text, "…[cut {} bytes]", line.cut);
    }
    line.text.push('\n');
    line.text
}

/// A message being written into a line: at most `room` more bytes are kept,
/// the rest only counted, so a huge message costs no memory.
struct Line {
    text: String,
    room: usize,
    /// Bytes of the message not kept.
    cut: usize,
}

impl Line {
    fn push(&mut self, piece: &str) {
        if self.cut == 0 && piece.len() <= self.room {
            self.text.push_str(piece);
            self.room -= piece.len();
            return;
        }
        let mut keep = if self.cut == 0 { self.room } else { 0 };
        while !piece.is_char_boundary(keep) {
            keep -= 1;
        }
        self.text.push_str(piece.get(..keep).unwrap_or_default());
        self.room -= keep;
        self.cut += piece.len() - keep;
    }

    /// A line break of the message, written as the two characters `escape`
    /// (counted as the one byte it stands for when cut).
    fn push_escaped(&mut self, escape: &str) {
        if self.cut == 0 && self.room >= escape.len() {
            self.text.push_str(escape);
            self.room -= escape.len();
        } else {
            self.cut += 1;
        }
    }
}

impl fmt::Write for Line {
    // Bytes, not `str` patterns and slicing: on wasm32-wasip1 those bring
    // a substring searcher and panic texts with Unicode tables (~5 KB).
    fn write_str(&mut self, mut s: &str) -> fmt::Result {
        while let Some(at) = s.bytes().position(|b| b == b'\n' || b == b'\r') {
            let (before, after) = (s.get(..at), s.get(at + 1..));
            self.push(before.unwrap_or_default());
            self.push_escaped(if s.as_bytes()[at] == b'\n' {
                "\\n"
            } else {
                "\\r"
            });
            s = after.unwrap_or_default();
        }
        self.push(s);
        Ok(())
    }
}

#[cfg(all(target_arch = "wasm32", target_os = "wasi"))]
mod stderr {
    use std::cell::Cell;

    crate::global::global! {
        /// The plugin crate's name, once the logger is installed.
        static PLUGIN: Cell<Option<&'static str>> = Cell::new(None);
    }
    crate::global::global! {
        /// The plugin's `#[bifrost_plugin(name = …)]`, from its exports.
        static NAME: Cell<Option<&'static str>> = Cell::new(None);
    }

    pub(crate) fn name_plugin(name: &'static str) {
        NAME.with(|n| n.set(Some(name)));
    }

    struct StderrLogger;

    impl log::Log for StderrLogger {
        fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
            metadata.level() <= log::max_level()
        }

        fn log(&self, record: &log::Record<'_>) {
            if self.enabled(record.metadata()) {
                emit(record.level(), *record.args());
            }
        }

        fn flush(&self) {}
    }

    static LOGGER: StderrLogger = StderrLogger;

    pub(crate) fn install(plugin: &'static str) {
        if PLUGIN.with(|p| p.replace(Some(plugin))).is_none() && log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
    }

    /// Writes one record, whatever the level filter says. A failed write is
    /// dropped: logging must not fail a hook.
    pub(crate) fn emit(level: log::Level, message: std::fmt::Arguments<'_>) {
        let plugin = NAME
            .with(Cell::get)
            .or_else(|| PLUGIN.with(Cell::get))
            .unwrap_or("plugin");
        let line = super::format_line(level, plugin, message);
        write_stderr(line.as_bytes());
    }

    /// Writes `bytes` to fd 2 with as few `fd_write` calls as the host
    /// allows: one, unless it takes only part (then the rest follows at once,
    /// so the line still reaches the host whole and in order).
    fn write_stderr(mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let iovec = wasi::Ciovec {
                buf: bytes.as_ptr(),
                buf_len: bytes.len(),
            };
            // SAFETY: the iovec points at `bytes`, alive for the call.
            #[allow(unsafe_code)]
            match unsafe { wasi::fd_write(2, &[iovec]) } {
                Ok(written) if written > 0 => bytes = &bytes[written.min(bytes.len())..],
                _ => return, // no stderr, or a failed write: drop the line
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_os = "wasi"))]
pub(crate) use stderr::emit;

/// Records the plugin's `#[bifrost_plugin(name = …)]` for its log lines
/// (wasm32-wasip1 only; nothing elsewhere).
#[inline]
pub(crate) fn name_plugin(name: &'static str) {
    #[cfg(all(target_arch = "wasm32", target_os = "wasi"))]
    stderr::name_plugin(name);
    #[cfg(not(all(target_arch = "wasm32", target_os = "wasi")))]
    let _ = name;
}

/// Installs the stderr logger on wasm32-wasip1, once, naming the plugin
/// after the crate that defines `P`. Does nothing on other targets.
#[inline]
pub(crate) fn install<P: 'static>() {
    #[cfg(all(target_arch = "wasm32", target_os = "wasi"))]
    stderr::install(crate_of(std::any::type_name::<P>()));
}

/// `rate_limiter` of `rate_limiter::RateLimiter`.
fn crate_of(type_name: &'static str) -> &'static str {
    let end = type_name.bytes().position(|b| b == b':');
    end.and_then(|end| type_name.get(..end))
        .unwrap_or(type_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use log::Level;

    #[test]
    fn a_record_is_one_line_with_level_plugin_and_message() {
        let line = format_line(Level::Info, "rate_limiter", format_args!("{} left", 3));
        assert_eq!(line, "INFO rate_limiter: 3 left\n");
    }

    #[test]
    fn line_breaks_in_a_message_do_not_split_the_record() {
        let line = format_line(Level::Warn, "p", format_args!("a\nb\r\nc"));
        assert_eq!(line, "WARN p: a\\nb\\r\\nc\n");
        assert_eq!(line.matches('\n').count(), 1);
    }

    #[test]
    fn a_long_message_is_cut_with_a_marker_saying_how_much() {
        let long = "x".repeat(MAX_MESSAGE_BYTES + 10);
        let line = format_line(Level::Error, "p", format_args!("{long}"));
        let expected = format!(
            "ERROR p: {}…[cut 10 bytes]\n",
            "x".repeat(MAX_MESSAGE_BYTES)
        );
        assert_eq!(line, expected);
    }

    #[test]
    fn the_cut_falls_on_a_character_boundary_and_counts_escapes_as_one_byte() {
        // 4095 ASCII bytes, then "é" (2 bytes) does not fit whole.
        let message = format!("{}é\n!", "a".repeat(MAX_MESSAGE_BYTES - 1));
        let line = format_line(Level::Info, "p", format_args!("{message}"));
        assert!(line.ends_with("a…[cut 4 bytes]\n"), "{line}");
        assert!(line.is_char_boundary(line.len() - 1));
    }

    #[test]
    fn a_message_of_exactly_the_limit_is_not_cut() {
        let exact = "y".repeat(MAX_MESSAGE_BYTES);
        let line = format_line(Level::Debug, "p", format_args!("{exact}"));
        assert_eq!(line, format!("DEBUG p: {exact}\n"));
    }

    #[test]
    fn the_plugin_is_named_after_its_crate() {
        assert_eq!(crate_of("rate_limiter::RateLimiter"), "rate_limiter");
        assert_eq!(crate_of("a::b::C<d::E>"), "a");
        assert_eq!(crate_of("Bare"), "Bare");
    }
}
