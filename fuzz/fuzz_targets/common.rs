//! What the targets share. `file_with` is for the one reader without an
//! in-memory entry point (`query_range`: tars-prom streams a saved answer
//! from its file); the others call the product's `*_from_bytes` functions.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Writes `data` to one file per process and returns its path.
#[allow(dead_code)]
pub fn file_with(data: &[u8], name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("tars-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    });
    let p = dir.join(name);
    std::fs::write(&p, data).expect("write input");
    p
}

/// A reader's error must be one line. (Not every target reads errors.)
#[allow(dead_code)]
pub fn one_line<T>(r: Result<T, tars::Error>) {
    if let Err(e) = r {
        assert!(!e.to_string().contains('\n'), "not one line: {e}");
    }
}
