//! How a command ends when it cannot do its job: a message on stderr and an
//! exit code a script can tell apart.

use std::process::ExitCode;

/// Exit code: the plugin reported an error in its output (the output is
/// still printed: it is a valid answer).
pub const PLUGIN_ERROR: u8 = 3;
/// Exit code: the command line is wrong (clap uses it too).
pub const USAGE: u8 = 2;
/// Exit code: the module, an input file or the call failed.
pub const FAILED: u8 = 1;

/// A message for stderr and the exit code.
#[derive(Debug)]
pub struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// The module, an input or the call failed.
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: FAILED,
        }
    }

    /// The command line asks for something impossible.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: USAGE,
        }
    }

    /// The message, without `error: `.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prints `error: …` to stderr and gives the exit code.
    pub fn report(self) -> ExitCode {
        eprintln!("error: {}", self.message);
        ExitCode::from(self.code)
    }
}

/// A host error becomes a failure with its own (already precise) message.
impl From<bifrost_plugin_host::Error> for Failure {
    fn from(error: bifrost_plugin_host::Error) -> Self {
        Failure::new(error.to_string())
    }
}

/// What a command returns.
pub type Outcome = Result<ExitCode, Failure>;

/// Prints a warning to stderr.
pub fn warn(message: impl AsRef<str>) {
    eprintln!("warning: {}", message.as_ref());
}
