//! The library's error type. Messages are lowercase fragments that name the
//! file, flag or query at fault; the binary prints them once, prefixed.

use std::path::PathBuf;

/// The exit codes of every tars command (docs/methods.md, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Done; with `--fail-on-rollback`, also: no rollback recommended.
    Ok = 0,
    /// The command could not do its work: source, file or artifact trouble.
    Failure = 1,
    /// A flag, environment value or configuration was wrong.
    Usage = 2,
    /// The artifact was written and recommends a rollback (`--fail-on-rollback`).
    Rollback = 3,
    /// The window asked for has not ended yet (see `--allow-partial`).
    WindowOpen = 4,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c as u8)
    }
}

/// Everything that can stop a tars command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag or environment value was wrong (exit code 2).
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not found{hint}")]
    Missing { path: PathBuf, hint: String },
    #[error("{path}: {msg}")]
    BadArtifact { path: PathBuf, msg: String },
    #[error("{0}")]
    Source(#[from] crate::source::SourceError),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Render(String),
    /// The analysis could not be done on the data it got.
    #[error("{0}")]
    Analysis(tars_core::CoreError),
    #[error("{0}")]
    Notify(#[from] crate::notify::NotifyError),
    #[error("docker-api: {0}")]
    DockerApi(#[from] crate::docker_api::DockerApiError),
    /// `tars probe`: the endpoint did not answer 2xx.
    #[error("{0}")]
    Probe(String),
    /// Another `tars watch` holds the data directory's lock.
    #[error("{}: another tars watch is running on this data directory", .0.display())]
    Locked(PathBuf),
    /// The analysed window ends after now.
    #[error("{0}")]
    WindowOpen(String),
    /// Not an error of the run: its verdict is a rollback and the caller asked
    /// to hear that through the exit code.
    #[error("rollback recommended ({0})")]
    RollbackRecommended(String),
}

impl Error {
    /// The exit code this error ends a command with.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) | Error::Config(_) => ExitCode::Usage,
            Error::Notify(crate::notify::NotifyError::Usage(_)) => ExitCode::Usage,
            Error::DockerApi(e) if e.is_usage() => ExitCode::Usage,
            Error::WindowOpen(_) => ExitCode::WindowOpen,
            Error::RollbackRecommended(_) => ExitCode::Rollback,
            _ => ExitCode::Failure,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn bad(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::BadArtifact {
            path: path.into(),
            msg: msg.into(),
        }
    }

    /// The message as the one line printed on stderr: secrets masked, and a
    /// CR, LF or other control character that came in with an input (a
    /// pasted timestamp, a file name) escaped, so it can neither split the
    /// line nor rewrite the terminal.
    pub fn display_line(&self) -> String {
        escape_controls(&tars_core::redact::redact(&self.to_string()))
    }
}

/// `s` with control characters written as escapes (`\r`, `\n`, `\t`,
/// `\u{1b}`).
pub fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The arguments with control characters escaped, to render a parse error
/// of the same command line (clap echoes the offending value raw).
pub fn escaped_args(args: &[std::ffi::OsString]) -> Vec<std::ffi::OsString> {
    args.iter()
        .map(|a| match a.to_str() {
            Some(s) => escape_controls(s).into(),
            None => a.clone(),
        })
        .collect()
}

impl From<tars_core::CoreError> for Error {
    fn from(e: tars_core::CoreError) -> Self {
        match e {
            tars_core::CoreError::Source(s) => Error::Source(s),
            other => Error::Analysis(other),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
