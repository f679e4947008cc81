//! The one way a secret is loaded (Prometheus credentials, the Slack webhook,
//! the GitHub token): from a file named by a flag, else from an environment
//! variable; never from a flag's value, which `ps` would show. Trimmed, and
//! never empty. (The Docker proxy loads its token itself: it depends on no
//! crate of ours.)

use std::path::{Path, PathBuf};

/// Why a secret could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file or variable is there but holds nothing.
    #[error("{0} is empty")]
    Empty(String),
}

/// The secret in `file` if given, else in `$env`; `Ok(None)` when neither
/// is set (an empty variable counts as unset, as compose passes one).
pub fn load(file: Option<&Path>, env: &str) -> Result<Option<String>, SecretError> {
    let (value, from) = match file {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|source| SecretError::Read {
                path: p.to_path_buf(),
                source,
            })?,
            p.display().to_string(),
        ),
        None => match std::env::var(env) {
            Ok(v) if !v.trim().is_empty() => (v, format!("${env}")),
            _ => return Ok(None),
        },
    };
    let v = value.trim();
    if v.is_empty() {
        return Err(SecretError::Empty(from));
    }
    Ok(Some(v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_wins_and_is_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("token");
        std::fs::write(&f, "  s3cret\n").unwrap();
        assert_eq!(
            load(Some(&f), "TARS_TEST_SECRET_UNSET").unwrap().as_deref(),
            Some("s3cret")
        );
    }

    #[test]
    fn an_empty_file_and_a_missing_file_are_errors_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("empty");
        std::fs::write(&f, "\n").unwrap();
        let e = load(Some(&f), "X").unwrap_err().to_string();
        assert!(e.ends_with("empty is empty"), "{e}");
        let missing = dir.path().join("nope");
        let e = load(Some(&missing), "X").unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
    }

    #[test]
    fn neither_file_nor_variable_is_none() {
        assert!(load(None, "TARS_TEST_SECRET_SURELY_UNSET")
            .unwrap()
            .is_none());
    }
}
