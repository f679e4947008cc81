//! kill -9 at random moments: `tars demo` into one data directory, killed
//! again and again part-way through, never leaves a torn artifact, and the
//! next whole run leaves no temp file behind and a directory `tars doctor`
//! calls healthy. `scripts/kill_loop.sh N` is the long version.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Kills in the test; `TARS_KILL_LOOP_N` asks for more.
const KILLS: usize = 50;

fn tars() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("tars"));
    c.stdout(Stdio::null()).stderr(Stdio::null());
    c
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn is_temp(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().contains(".tmp."))
}

/// Artifacts that exist but do not parse (JSON) or are empty (the rest).
fn torn(dir: &Path) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|p| !is_temp(p) && !p.to_string_lossy().ends_with(".lock"))
        .filter(|p| {
            let bytes = fs::read(p).unwrap_or_default();
            match p.extension().and_then(|e| e.to_str()) {
                Some("json") => serde_json::from_slice::<serde_json::Value>(&bytes).is_err(),
                _ => bytes.is_empty(),
            }
        })
        .collect()
}

/// A small deterministic generator: the seed is printed, so a failing
/// sequence of kill moments can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn kill_9_at_random_moments_then_one_run_mends_everything() {
    let kills: usize = std::env::var("TARS_KILL_LOOP_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(KILLS);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let demo = |c: &mut Command| {
        c.args(["demo", "-q", "--data-dir"]).arg(&d);
    };
    // How long a whole run takes here, to spread the kills over it.
    let t0 = Instant::now();
    let mut first = tars();
    demo(&mut first);
    assert!(first.status().unwrap().success());
    let whole = t0.elapsed();
    let seed = std::env::var("TARS_KILL_LOOP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |t| t.as_nanos() as u64)
        });
    eprintln!("kill loop: {kills} kills, seed {seed}, a whole run takes {whole:?}");
    let mut rng = Lcg(seed);
    let (mut killed, mut finished) = (0, 0);
    for _ in 0..kills {
        let mut c = tars();
        demo(&mut c);
        let mut child = c.spawn().unwrap();
        std::thread::sleep(whole.mul_f64(rng.next() * 0.95));
        match child.try_wait().unwrap() {
            Some(_) => finished += 1,
            None => {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                killed += 1;
            }
        }
        let bad = torn(&d);
        assert!(bad.is_empty(), "torn artifacts after a kill: {bad:?}");
    }
    let temps_before = files(&d).into_iter().filter(|p| is_temp(p)).count();
    let mut again = tars();
    demo(&mut again);
    assert!(
        again.status().unwrap().success(),
        "the run after the kills failed"
    );
    let temps: Vec<PathBuf> = files(&d).into_iter().filter(|p| is_temp(p)).collect();
    eprintln!(
        "kill loop: {killed} killed, {finished} finished before their kill, {temps_before} temp files left by the kills, {} after the next run",
        temps.len()
    );
    assert!(killed >= kills / 2, "too few runs were killed: {killed}");
    assert!(
        temps.is_empty(),
        "orphan temp files after the next run: {temps:?}"
    );
    assert!(torn(&d).is_empty());
    let ok = tars().arg("doctor").arg(&d).status().unwrap();
    assert!(
        ok.success(),
        "tars doctor finds problems after the next run"
    );
}
