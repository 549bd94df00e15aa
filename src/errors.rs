//! The one error type of the crate; the Python layer maps each variant to a class of
//! `chromeguard.errors` at the boundary.

use std::fmt;
use std::time::Duration;

/// Why a launch failed, as reported in `BrowserLaunchError.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchFailure {
    ExecutableNotFound,
    ProfileInUse,
    Sandbox,
    Crashed,
    Timeout,
    Unknown,
}

impl LaunchFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExecutableNotFound => "executable_not_found",
            Self::ProfileInUse => "profile_in_use",
            Self::Sandbox => "sandbox",
            Self::Crashed => "crashed",
            Self::Timeout => "timeout",
            Self::Unknown => "unknown",
        }
    }

    /// A missing binary, a held profile or a sandbox refusal fail the same way every time;
    /// crashes and time-outs under load are the transient failures worth another attempt.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Crashed | Self::Timeout | Self::Unknown)
    }
}

/// What timed out; each maps to its own Python exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// A single DevTools call or script.
    Operation,
    /// A page load in `Browser.get`.
    Navigation,
    /// A whole scrape.
    Scrape,
    /// Waiting for a free browser of a pool.
    Pool,
}

#[derive(Debug)]
pub enum Error {
    Launch {
        reason: LaunchFailure,
        message: String,
        attempts: u32,
        stderr_tail: String,
    },
    InvalidOption(String),
    InvalidUrl(String),
    BrowserClosed(String),
    /// The current page (window) was closed.
    NoPage(String),
    Navigation {
        url: String,
        error_text: String,
    },
    Timeout {
        kind: TimeoutKind,
        what: String,
        after: Duration,
    },
    Javascript(String),
    Protocol {
        method: String,
        code: i64,
        message: String,
    },
    Interrupted,
    /// The caller cancelled the call (an asyncio task was cancelled).
    Cancelled,
    Io(std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Launch {
                message, attempts, ..
            } => write!(f, "{message} (after {attempts} attempt(s))"),
            Self::InvalidOption(msg) | Self::InvalidUrl(msg) => f.write_str(msg),
            Self::BrowserClosed(msg) | Self::NoPage(msg) => f.write_str(msg),
            Self::Navigation { url, error_text } => write!(
                f,
                "navigation to {url} failed with {error_text}; check that the host is reachable from this machine"
            ),
            Self::Timeout { what, after, .. } => write!(
                f,
                "{what} did not finish within {:.1} s; raise the timeout or check that the page loads",
                after.as_secs_f64()
            ),
            Self::Javascript(msg) => write!(f, "script raised: {msg}"),
            Self::Protocol {
                method,
                code,
                message,
            } => write!(f, "Chrome rejected {method}: {message} (code {code})"),
            Self::Interrupted => f.write_str("interrupted by a signal"),
            Self::Cancelled => f.write_str("cancelled by the caller"),
            Self::Io(err) => write!(f, "I/O error: {err}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Self::Io(err)
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Self::Protocol {
            method: "(decode)".into(),
            code: -1,
            message: err.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_failures_are_retried() {
        assert!(LaunchFailure::Crashed.is_retryable());
        assert!(LaunchFailure::Timeout.is_retryable());
        assert!(!LaunchFailure::ExecutableNotFound.is_retryable());
        assert!(!LaunchFailure::ProfileInUse.is_retryable());
        assert!(!LaunchFailure::Sandbox.is_retryable());
    }

    #[test]
    fn launch_error_names_the_attempts() {
        let err = Error::Launch {
            reason: LaunchFailure::Crashed,
            message: "Chrome exited".into(),
            attempts: 3,
            stderr_tail: String::new(),
        };
        assert_eq!(err.to_string(), "Chrome exited (after 3 attempt(s))");
    }
}
