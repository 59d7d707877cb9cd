//! What a `FILE|JSON` argument (`--config`, `--request`, …) holds, and where
//! it came from. One rule for every command:
//!
//! - `@path` is a file, whatever its name (`@null` reads a file called
//!   `null`);
//! - `-` is stdin;
//! - any JSON value is itself (`{…}`, `[…]`, `null`, `42`, `"text"`, `true`);
//! - text starting with `{` or `[` that is not JSON is sent as it is, with a
//!   warning (how a plugin takes bad input is worth trying);
//! - anything else is a file path, as `@path` would be.

use std::io::Read;
use std::path::PathBuf;

use crate::failure::{warn, Failure};

/// Where an argument's bytes came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Written on the command line.
    Inline,
    /// Read from this file.
    File(PathBuf),
    /// Read from stdin.
    Stdin,
}

/// An argument's bytes and their source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgValue {
    /// Sent to the plugin byte for byte.
    pub bytes: Vec<u8>,
    /// Where they came from.
    pub source: Source,
}

impl ArgValue {
    /// `inline JSON null (4 bytes)`, `file cfg.json (120 bytes)`, `stdin
    /// (12 bytes)`: what a user needs to see which one was read.
    pub fn describe(&self) -> String {
        let size = format!("{} bytes", self.bytes.len());
        match &self.source {
            Source::Inline if self.bytes.len() <= 60 => format!(
                "inline JSON {} ({size})",
                String::from_utf8_lossy(&self.bytes)
            ),
            Source::Inline => format!("inline JSON ({size})"),
            Source::File(path) => format!("file {} ({size})", path.display()),
            Source::Stdin => format!("stdin ({size})"),
        }
    }
}

/// Where `value` says to read from, before anything is read.
pub fn source_of(value: &str) -> Source {
    if let Some(path) = value.strip_prefix('@') {
        Source::File(PathBuf::from(path))
    } else if value == "-" {
        Source::Stdin
    } else if value.starts_with(['{', '['])
        || serde_json::from_str::<serde::de::IgnoredAny>(value).is_ok()
    {
        Source::Inline
    } else {
        Source::File(PathBuf::from(value))
    }
}

/// Reads `--flag value`. Bytes that are not JSON are sent anyway, with a
/// warning.
pub fn read(flag: &str, value: &str) -> Result<ArgValue, Failure> {
    let source = source_of(value);
    let bytes = match &source {
        Source::Inline => value.as_bytes().to_vec(),
        Source::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| Failure::new(format!("cannot read --{flag} from stdin: {e}")))?;
            bytes
        }
        Source::File(path) => std::fs::read(path).map_err(|e| {
            Failure::new(format!(
                "cannot read --{flag} file {}: {e} (inline JSON is given as is, a file as @path)",
                path.display()
            ))
        })?,
    };
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        warn(format!(
            "--{flag} is not valid JSON ({e}); sending it as is"
        ));
    }
    Ok(ArgValue { bytes, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_inline_at_is_a_file_and_dash_is_stdin() {
        for inline in [
            "null",
            "{}",
            r#"{"limit": 2}"#,
            "[1]",
            "42",
            r#""text""#,
            "true",
            "{oops",
        ] {
            assert_eq!(source_of(inline), Source::Inline, "{inline}");
        }
        assert_eq!(source_of("@null"), Source::File("null".into()));
        assert_eq!(source_of("@cfg.json"), Source::File("cfg.json".into()));
        assert_eq!(source_of("cfg.json"), Source::File("cfg.json".into()));
        assert_eq!(source_of("-"), Source::Stdin);
    }

    #[test]
    fn each_source_says_what_it_read() {
        let inline = read("config", "null").unwrap();
        assert_eq!(inline.bytes, b"null");
        assert_eq!(inline.describe(), "inline JSON null (4 bytes)");
        let long = format!(r#"{{"k":"{}"}}"#, "x".repeat(80));
        assert_eq!(
            read("config", &long).unwrap().describe(),
            "inline JSON (88 bytes)"
        );
        let file = std::env::temp_dir().join(format!("arg-value-{}.json", std::process::id()));
        std::fs::write(&file, "{}").unwrap();
        let at = format!("@{}", file.display());
        let from_file = read("config", &at).unwrap();
        assert_eq!(from_file.bytes, b"{}");
        assert_eq!(
            from_file.describe(),
            format!("file {} (2 bytes)", file.display())
        );
        std::fs::remove_file(&file).unwrap();
        let missing = read("config", "@no-such-file").unwrap_err();
        assert!(format!("{missing:?}").contains("cannot read --config file no-such-file"));
    }
}
