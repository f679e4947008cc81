//! Artifact files: atomic writes, locked appends and strict reads.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::SCHEMA_VERSION;
use tars_core::validate::{self, Artifact};

/// Writes `bytes` to `path` atomically: a temp file in the same directory is
/// written, fsynced and renamed over the target, then the directory is fsynced,
/// so readers see either the old or the new file, never half of one.
///
/// The temp file is created with `O_EXCL` under a random name
/// (`.NAME.tmp.PID-PIDNS.RANDOM`), so a planted file or symbolic link is never
/// opened; the rename replaces a link at `path` instead of writing through it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_set(&[(path, bytes)])
}

/// Writes several files as one set: every temp file is written in full
/// first, then all are renamed. If a rename fails, the files already renamed
/// are put back (from hard links to the old versions), so the set on disk is
/// the old one or the new one, never a mix (a crash between the renames
/// aside).
pub fn write_set(files: &[(&Path, &[u8])]) -> Result<()> {
    let staged = files
        .iter()
        .map(|(path, bytes)| stage(path, bytes))
        .collect::<Result<Vec<_>>>()?;
    // A single file needs no backup: its rename either happens or not.
    let backups: Vec<Option<tempfile::TempPath>> = if files.len() > 1 {
        files.iter().map(|(path, _)| backup(path)).collect()
    } else {
        vec![None]
    };
    for (i, tmp) in staged.into_iter().enumerate() {
        let path = files[i].0;
        if let Err(e) = tmp.persist(path) {
            for (done, old) in files[..i].iter().zip(backups) {
                let _ = match old {
                    Some(old) => old.persist(done.0).map_err(|e| e.error),
                    None => fs::remove_file(done.0),
                };
            }
            return Err(Error::io(path, e.error));
        }
    }
    for (path, _) in files {
        // Make the rename itself durable.
        if let Ok(d) = File::open(dir_of(path)) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("artifact")
}

/// `bytes` in a fresh, synced temp file next to `path`.
fn stage(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    let dir = dir_of(path);
    ensure_dir(&dir)?;
    let name = file_name(path);
    remove_orphans(&dir, name);
    let prefix = temp_prefix(name);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // As `File::create` would: readable by others unless the umask says no.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(&dir).map_err(|e| Error::io(&dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(path, e))?;
    Ok(tmp)
}

/// A hard link to the current `path`, to put back if the set fails; `None`
/// when there is no file yet (or the filesystem has no hard links: the set
/// is then written without a way back).
fn backup(path: &Path) -> Option<tempfile::TempPath> {
    if !fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    tempfile::Builder::new()
        .prefix(&temp_prefix(file_name(path)))
        .make_in(dir_of(path), |p| fs::hard_link(path, p))
        .ok()
        .map(|f| f.into_temp_path())
}

/// Creates the output directory, or says in one line which part of it is a
/// file (`mkdir -p` on a file gives only "File exists").
pub fn ensure_dir(dir: &Path) -> Result<()> {
    match fs::create_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) => {
            let file = dir
                .ancestors()
                .find(|a| fs::metadata(a).is_ok_and(|m| !m.is_dir()));
            match file {
                Some(f) => Err(Error::bad(
                    f,
                    format!(
                        "is a file, not a directory (cannot write into {})",
                        dir.display()
                    ),
                )),
                None => Err(Error::io(dir, e)),
            }
        }
    }
}

/// The pid namespace of this process (the inode of `/proc/self/ns/pid`),
/// when there is one to read.
fn pid_namespace() -> Option<u64> {
    static NS: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *NS.get_or_init(|| {
        let link = fs::read_link("/proc/self/ns/pid").ok()?;
        let s = link.to_str()?;
        s.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
    })
}

/// `.NAME.tmp.PID-PIDNS.` (or `.NAME.tmp.PID.` without a namespace to read):
/// the writer's pid, and the namespace that pid means something in.
fn temp_prefix(name: &str) -> String {
    match pid_namespace() {
        Some(ns) => format!(".{name}.tmp.{}-{ns}.", std::process::id()),
        None => format!(".{name}.tmp.{}.", std::process::id()),
    }
}

/// The writer of a temp file from what follows `.NAME.tmp.`: its pid and,
/// when named, its pid namespace.
pub fn temp_writer(rest: &str) -> (Option<u32>, Option<u64>) {
    let id = rest.split('.').next().unwrap_or("");
    match id.split_once('-') {
        Some((pid, ns)) => (pid.parse().ok(), ns.parse().ok()),
        None => (id.parse().ok(), None),
    }
}

/// Temp files a killed run left behind for `name`: those of processes that
/// no longer exist (Linux) at once when they were of this pid namespace,
/// else once a minute old, and any older than an hour. A live writer's temp
/// file is left alone; the minute covers a writer in another container
/// sharing the directory, whose pid means nothing here.
fn remove_orphans(dir: &Path, name: &str) {
    use std::time::Duration;
    const GONE: Duration = Duration::from_secs(60);
    const STALE: Duration = Duration::from_secs(3600);
    let prefix = format!(".{name}.tmp.");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let (pid, ns) = temp_writer(rest);
        let dead = pid.is_some_and(|p| {
            p != std::process::id()
                && Path::new("/proc/self").exists()
                && !Path::new(&format!("/proc/{p}")).exists()
        });
        // `DirEntry::metadata` does not follow a link: its own age counts.
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default();
        let ours = ns.is_some() && ns == pid_namespace();
        if (dead && (ours || age > GONE)) || age > STALE {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Serialises `value` as pretty JSON (trailing newline) and writes it atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    write_atomic(path, &json_bytes(path, value)?)
}

/// `value` as the pretty JSON (trailing newline) an artifact at `path` holds.
pub fn json_bytes<T: Serialize>(path: &Path, value: &T) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Render(format!("{}: cannot serialise: {e}", path.display())))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Runs `f` while holding an exclusive lock on `<path>.lock`, so that several
/// writers of one shared file (the continuous detector and a one-shot run, say)
/// serialise their read-modify-write cycles.
pub fn with_lock<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let lock_path = lock_path(path);
    if let Some(dir) = lock_path.parent() {
        if !dir.as_os_str().is_empty() {
            ensure_dir(dir)?;
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
    json_from_bytes(path, what, &read_bounded(path, what)?)
}

/// [`read_json`] on the bytes of `path` already read (the fuzz targets
/// call this: it is all of [`read_json`] after the bounded read).
pub fn json_from_bytes<T: DeserializeOwned>(path: &Path, what: &str, bytes: &[u8]) -> Result<T> {
    typed(path, what, value_from_bytes(path, what, bytes)?)
}

/// `value` as a `T`; a mismatch names the field's path
/// (`metrics_comparison[3].baseline: invalid type ...`).
fn typed<T: DeserializeOwned>(path: &Path, what: &str, value: serde_json::Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        if at == "." {
            Error::bad(path, format!("not a valid {what}: {inner}"))
        } else {
            Error::bad(path, format!("not a valid {what}: field `{at}`: {inner}"))
        }
    })
}

/// Reads an artifact of kind `T::KIND` and checks what it means: as
/// [`read_json`], then its `kind` before its shape (a day's summary has
/// every field a baseline has, so only `kind` tells them apart), then every
/// rule of [`tars_core::validate`] that needs only the artifact. A broken
/// rule is one line naming the file, the field and the rule.
pub fn read_artifact<T: DeserializeOwned + Artifact>(path: &Path, what: &str) -> Result<T> {
    artifact_from_bytes(path, what, &read_bounded(path, what)?)
}

/// [`read_artifact`] on the bytes of `path` already read; `path` names the
/// file in errors. The fuzz targets call this: it is all of
/// [`read_artifact`] after the bounded read.
pub fn artifact_from_bytes<T: DeserializeOwned + Artifact>(
    path: &Path,
    what: &str,
    bytes: &[u8],
) -> Result<T> {
    let value = value_from_bytes(path, what, bytes)?;
    if let Some(kind) = value.get("kind").and_then(|k| k.as_str()) {
        validate::check_kind(kind, T::KIND).map_err(|v| Error::bad(path, v.to_string()))?;
    }
    let artifact: T = typed(path, what, value)?;
    artifact
        .check(chrono::Utc::now())
        .map_err(|v| Error::bad(path, v.to_string()))?;
    Ok(artifact)
}

/// The JSON of an artifact's bytes: not empty, valid JSON, a supported
/// `schema_version` when it has one.
fn value_from_bytes(path: &Path, what: &str, bytes: &[u8]) -> Result<serde_json::Value> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::bad(path, format!("file is empty (expected {what})")));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
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
    Ok(value)
}

/// Largest input file read, bytes, unless `TARS_MAX_INPUT_BYTES` says
/// otherwise: far above any artifact of a real release, far below memory.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

fn max_input_bytes() -> Result<u64> {
    match std::env::var("TARS_MAX_INPUT_BYTES") {
        Err(_) => Ok(MAX_INPUT_BYTES),
        Ok(v) if v.trim().is_empty() => Ok(MAX_INPUT_BYTES),
        Ok(v) => v.trim().parse().map_err(|_| {
            Error::Usage(format!(
                "TARS_MAX_INPUT_BYTES must be a number of bytes, got {:?}",
                v
            ))
        }),
    }
}

/// The bytes of an input file (`what` it should be, for messages). Only a
/// regular file up to the size limit is read: a FIFO would hang the run and
/// `/dev/zero` would fill memory, so both are refused before reading.
pub fn read_bounded(path: &Path, what: &str) -> Result<Vec<u8>> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Missing {
                path: path.to_path_buf(),
                hint: format!(" (expected {what})"),
            })
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(Error::bad(path, format!("{kind} (expected {what})")));
    }
    let max = max_input_bytes()?;
    let too_big = |len: u64| {
        Error::bad(
            path,
            format!("{len} bytes, over the limit of {max} (TARS_MAX_INPUT_BYTES)"),
        )
    };
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::io(path, e))?;
    // It may have grown since it was measured.
    if bytes.len() as u64 > max {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_wrong_field_is_named_by_its_path() {
        #[derive(Debug, serde::Deserialize)]
        struct Row {
            #[allow(dead_code)]
            baseline: f64,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Doc {
            #[allow(dead_code)]
            rows: Vec<Row>,
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        std::fs::write(&p, r#"{"rows": [{"baseline": 1}, {"baseline": "x"}]}"#).unwrap();
        let e = read_json::<Doc>(&p, "thing").unwrap_err().to_string();
        assert!(e.contains("field `rows[1].baseline`: invalid type"), "{e}");
    }

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

    #[cfg(unix)]
    #[test]
    fn planted_links_are_not_followed_out_of_the_directory() {
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        fs::write(&victim, b"keep").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.json");
        // At the target, and at the temp name the old writer used.
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        let old_tmp = dir
            .path()
            .join(format!(".a.json.tmp.{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &old_tmp).unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
        assert!(fs::symlink_metadata(&target).unwrap().is_file());
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn orphans_of_dead_runs_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let aged = |p: &Path, secs: u64| {
            fs::write(p, b"half").unwrap();
            let then = std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
            let f = File::options().write(true).open(p).unwrap();
            f.set_modified(then).unwrap();
        };
        // Pids above Linux's largest are surely dead; pid 1 is alive.
        let ns = pid_namespace().map_or("x".to_string(), |n| n.to_string());
        let dead_here = format!(".a.json.tmp.4194308-{ns}.x6");
        let files = [
            (".a.json.tmp.4194305.x1", 120),
            (".a.json.tmp.4194306", 120),
            (".a.json.tmp.4194307.x2", 0),
            (&*format!(".a.json.tmp.{}.x3", std::process::id()), 120),
            (".b.json.tmp.4194305.x4", 120),
            (".a.json.tmp.1.x5", 7200),
            (&*dead_here, 0),
        ];
        for (name, secs) in files {
            aged(&d.join(name), secs);
        }
        write_atomic(&d.join("a.json"), b"x").unwrap();
        let left: Vec<bool> = files.iter().map(|(n, _)| d.join(n).exists()).collect();
        let dead_gone = !Path::new("/proc/self").exists();
        // Dead and a minute old (new and old names), dead but fresh (a writer
        // in another pid namespace?), ours, another file's, an hour old, dead
        // in this pid namespace however fresh.
        let here_left = dead_gone || pid_namespace().is_none();
        assert_eq!(
            left,
            [dead_gone, dead_gone, true, true, true, false, here_left]
        );
    }

    #[test]
    fn a_failed_set_leaves_the_old_set_whole() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("r.json");
        let md = dir.path().join("r.md");
        write_set(&[(&json, b"old json"), (&md, b"old md")]).unwrap();
        // The Markdown cannot be replaced: a directory took its place.
        fs::remove_file(&md).unwrap();
        fs::create_dir(&md).unwrap();
        fs::write(md.join("x"), b"").unwrap();
        let err = write_set(&[(&json, b"new json"), (&md, b"new md")]).unwrap_err();
        assert!(err.to_string().contains("r.md"), "{err}");
        assert_eq!(fs::read(&json).unwrap(), b"old json");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(names.is_empty(), "temp files left behind: {names:?}");
    }

    #[test]
    fn an_output_dir_that_is_a_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out");
        fs::write(&file, b"").unwrap();
        let err = write_atomic(&file.join("sub/a.json"), b"x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("out: is a file, not a directory"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_huge_files_are_refused_before_reading() {
        let err = |p: &Path| read_json::<serde_json::Value>(p, "thing").unwrap_err();
        let zero = err(Path::new("/dev/zero")).to_string();
        assert_eq!(zero, "/dev/zero: not a regular file (expected thing)");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Opening it would block forever: it must not be opened.
            assert!(err(&fifo).to_string().contains("fifo: not a regular file"));
        }
        let big = dir.path().join("big.json");
        File::create(&big)
            .unwrap()
            .set_len(MAX_INPUT_BYTES + 1)
            .unwrap();
        let msg = err(&big).to_string();
        assert!(
            msg.contains("big.json: 67108865 bytes, over the limit"),
            "{msg}"
        );
        assert_eq!(msg.lines().count(), 1);
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
