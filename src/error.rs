//! The library's error type. Messages are lowercase fragments that name the
//! file, flag or query at fault; the binary prints them once, prefixed.

use std::path::PathBuf;

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
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Exit code: 2 for usage errors, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
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
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
