//! `tars archive` and `tars restore`: backups of a data directory.

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;

#[derive(Debug, Args)]
#[command(
    after_help = "Example (the seeds' nightly backup):\n  tars archive --data-dir /data --out /backup/tars-$(date +%F).tar.gz"
)]
pub struct ArchiveArgs {
    /// The data directory to archive.
    #[arg(long, env = "TARS_DATA_DIR", default_value = "/data")]
    pub data_dir: PathBuf,
    /// The tarball to write (gzipped; replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  tars restore /backup/tars-2025-11-25.tar.gz --data-dir /data-restored"
)]
pub struct RestoreArgs {
    /// An archive written by `tars archive`.
    pub archive: PathBuf,
    /// Where to restore; must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

pub fn archive(a: ArchiveArgs) -> Result<()> {
    let m = crate::archive::archive(&a.data_dir, &a.out)?;
    let total: u64 = m.files.values().map(|f| f.bytes).sum();
    crate::io::print_text(&format!(
        "Archived {} files ({total} bytes) of {} into {}.\n",
        m.files.len(),
        a.data_dir.display(),
        a.out.display()
    ))
}

pub fn restore(a: RestoreArgs) -> Result<()> {
    let m = crate::archive::restore(&a.archive, &a.data_dir)?;
    crate::io::print_text(&format!(
        "Restored {} files, every checksum verified, into {}.\n",
        m.files.len(),
        a.data_dir.display()
    ))
}
