//! `tars archive` and `tars restore`: a data directory as one gzipped
//! tarball with a manifest of every file's size and SHA-256, for the seeds'
//! backup cron. The archive is written atomically; a restore checks every
//! checksum before anything appears at the destination.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Name of the manifest inside the archive.
pub const MANIFEST: &str = "MANIFEST.json";

/// What an archive holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub tool_version: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Relative path → size and SHA-256 (hex).
    pub files: BTreeMap<String, FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub bytes: u64,
    pub sha256: String,
}

/// Files that are not data: the watch's lock, lock files of shared files,
/// and temporaries of interrupted writes.
fn skipped(name: &str) -> bool {
    name == ".tars-watch.lock" || name.ends_with(".lock") || name.contains(".tmp.")
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let e = e.map_err(|e| Error::io(&d, e))?;
            let p = e.path();
            let kind = e.file_type().map_err(|e| Error::io(&p, e))?;
            if kind.is_dir() {
                stack.push(p);
            } else if kind.is_file() && !skipped(&e.file_name().to_string_lossy()) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn rel(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Writes `data_dir` to the gzipped tarball `out`; returns its manifest.
pub fn archive(data_dir: &Path, out: &Path) -> Result<Manifest> {
    if !data_dir.is_dir() {
        return Err(Error::Missing {
            path: data_dir.to_path_buf(),
            hint: " (expected the data directory to archive)".into(),
        });
    }
    let mut manifest = Manifest {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now(),
        files: BTreeMap::new(),
    };
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for p in files_under(data_dir)? {
        let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
        let name = rel(data_dir, &p);
        manifest.files.insert(
            name.clone(),
            FileEntry {
                bytes: bytes.len() as u64,
                sha256: sha256_hex(&bytes),
            },
        );
        append(&mut tar, &name, &bytes, out)?;
    }
    let m = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Render(e.to_string()))?;
    append(&mut tar, MANIFEST, &m, out)?;
    let gz = tar.into_inner().map_err(|e| Error::io(out, e))?;
    let bytes = gz.finish().map_err(|e| Error::io(out, e))?;
    crate::io::write_atomic(out, &bytes)?;
    Ok(manifest)
}

fn append<W: Write>(tar: &mut tar::Builder<W>, name: &str, bytes: &[u8], out: &Path) -> Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, name, bytes)
        .map_err(|e| Error::io(out, e))
}

/// Restores `archive` into `dest`, which must not exist or be empty. Every
/// file is checked against the manifest in memory first; the tree is built
/// next to `dest` and renamed into place, so a bad archive leaves nothing.
pub fn restore(archive: &Path, dest: &Path) -> Result<Manifest> {
    let non_empty = dest.is_dir()
        && std::fs::read_dir(dest)
            .map_err(|e| Error::io(dest, e))?
            .next()
            .is_some();
    if non_empty || dest.is_file() {
        return Err(Error::Usage(format!(
            "{}: exists and is not empty; restore into a new directory",
            dest.display()
        )));
    }
    let raw = crate::io::read_bounded(archive, "a tars archive")?;
    let (manifest, files) = unpack(&raw).map_err(|m| Error::bad(archive, m))?;
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".tars-restore.")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    for (name, bytes) in &files {
        let p = staging.path().join(name);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
        }
        std::fs::write(&p, bytes).map_err(|e| Error::io(&p, e))?;
    }
    if dest.is_dir() {
        std::fs::remove_dir(dest).map_err(|e| Error::io(dest, e))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, dest).map_err(|e| Error::io(dest, e))?;
    Ok(manifest)
}

/// The manifest and the files of an archive, each checked against it.
fn unpack(raw: &[u8]) -> std::result::Result<(Manifest, BTreeMap<String, Vec<u8>>), String> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(raw));
    let mut files = BTreeMap::new();
    let mut manifest: Option<Manifest> = None;
    for entry in tar
        .entries()
        .map_err(|e| format!("not a tars archive: {e}"))?
    {
        let mut entry = entry.map_err(|e| format!("damaged archive: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("bad entry name: {e}"))?
            .into_owned();
        if path
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "entry '{}' leaves the data directory",
                path.display()
            ));
        }
        let name = path.to_string_lossy().replace('\\', "/");
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("damaged archive: {e}"))?;
        if name == MANIFEST {
            manifest =
                Some(serde_json::from_slice(&bytes).map_err(|e| format!("{MANIFEST}: {e}"))?);
        } else {
            files.insert(name, bytes);
        }
    }
    let manifest = manifest.ok_or_else(|| format!("no {MANIFEST}: not made by tars archive"))?;
    for (name, want) in &manifest.files {
        let got = files
            .get(name)
            .ok_or_else(|| format!("{name} is listed but missing"))?;
        if got.len() as u64 != want.bytes || sha256_hex(got) != want.sha256 {
            return Err(format!("{name} does not match its checksum"));
        }
    }
    if let Some(extra) = files.keys().find(|n| !manifest.files.contains_key(*n)) {
        return Err(format!("{extra} is not in the manifest"));
    }
    Ok((manifest, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(dir: &Path) -> PathBuf {
        let d = dir.join("data");
        std::fs::create_dir_all(d.join("health")).unwrap();
        std::fs::write(d.join("health/day_01_HEALTH.json"), b"{\"a\":1}").unwrap();
        std::fs::write(d.join("ga.json"), b"{}").unwrap();
        std::fs::write(d.join(".tars-watch.lock"), b"").unwrap();
        std::fs::write(d.join("health/.x.json.tmp.1.abc"), b"half").unwrap();
        d
    }

    #[test]
    fn an_archive_restores_to_the_same_files_without_locks_or_temporaries() {
        let t = tempfile::tempdir().unwrap();
        let d = data(t.path());
        let out = t.path().join("backup.tar.gz");
        let m = archive(&d, &out).unwrap();
        assert_eq!(m.files.len(), 2, "{m:?}");
        let back = t.path().join("restored");
        restore(&out, &back).unwrap();
        assert_eq!(
            std::fs::read(back.join("health/day_01_HEALTH.json")).unwrap(),
            b"{\"a\":1}"
        );
        assert!(!back.join(".tars-watch.lock").exists());
        // A restore never writes over data.
        assert!(matches!(restore(&out, &back), Err(Error::Usage(_))));
    }

    #[test]
    fn a_damaged_archive_restores_nothing() {
        let t = tempfile::tempdir().unwrap();
        let d = data(t.path());
        let out = t.path().join("backup.tar.gz");
        archive(&d, &out).unwrap();
        // Rebuild the archive with one file changed but the old manifest.
        let raw = std::fs::read(&out).unwrap();
        let (m, mut files) = unpack(&raw).unwrap();
        files.insert("ga.json".into(), b"{\"x\":2}".to_vec());
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for (n, b) in &files {
            append(&mut tar, n, b, &out).unwrap();
        }
        append(&mut tar, MANIFEST, &serde_json::to_vec(&m).unwrap(), &out).unwrap();
        std::fs::write(&out, tar.into_inner().unwrap().finish().unwrap()).unwrap();
        let back = t.path().join("restored");
        let err = restore(&out, &back).unwrap_err().to_string();
        assert!(err.contains("ga.json does not match its checksum"), "{err}");
        assert!(!back.exists());
    }

    #[test]
    fn not_an_archive_is_named() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("x.tar.gz");
        std::fs::write(&out, b"hello").unwrap();
        let err = restore(&out, &t.path().join("r")).unwrap_err().to_string();
        assert!(
            err.contains("x.tar.gz") && err.contains("not a tars archive")
                || err.contains("damaged"),
            "{err}"
        );
    }
}
