//! Artifact files: atomic writes, locked appends and strict reads.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::SCHEMA_VERSION;

/// Writes `bytes` to `path` atomically: a temp file in the same directory is
/// written, fsynced and renamed over the target, then the directory is fsynced,
/// so readers see either the old or the new file, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("artifact");
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok::<(), std::io::Error>(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// Serialises `value` as pretty JSON (trailing newline) and writes it atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Render(format!("{}: cannot serialise: {e}", path.display())))?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Runs `f` while holding an exclusive lock on `<path>.lock`, so that several
/// writers of one shared file (the continuous detector and a one-shot run, say)
/// serialise their read-modify-write cycles.
pub fn with_lock<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let lock_path = lock_path(path);
    if let Some(dir) = lock_path.parent() {
        if !dir.as_os_str().is_empty() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
    }
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    let out = f();
    let _ = lock.unlock();
    out
}

fn lock_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Writes `text` to standard output. A reader that went away (`tars schema |
/// head -1`) is not an error: there is nobody left to tell.
pub fn print_text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("standard output", e))
        }
        _ => Ok(()),
    }
}

/// Reads a JSON artifact, checking that it exists, parses, and (when it
/// carries one) has the schema version this build understands.
pub fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Missing {
                path: path.to_path_buf(),
                hint: format!(" (expected {what})"),
            })
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::bad(path, format!("file is empty (expected {what})")));
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::bad(path, format!("not valid JSON: {e}")))?;
    if let Some(v) = value.get("schema_version") {
        match v.as_u64() {
            Some(n) if n == u64::from(SCHEMA_VERSION) => {}
            _ => {
                return Err(Error::bad(
                    path,
                    format!("unsupported schema_version {v} (this tars reads {SCHEMA_VERSION})"),
                ))
            }
        }
    }
    serde_json::from_value(value).map_err(|e| Error::bad(path, format!("not a valid {what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "temp files left behind: {names:?}");
    }

    #[test]
    fn read_rejects_wrong_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        fs::write(&p, br#"{"schema_version": 99}"#).unwrap();
        let err = read_json::<serde_json::Value>(&p, "thing")
            .unwrap_err()
            .to_string();
        assert!(err.contains("schema_version 99"), "{err}");
        assert!(err.contains("a.json"), "{err}");
    }
}
