//! kill -9 at random moments: `tars demo` into one data directory, killed
//! again and again part-way through, never leaves a torn artifact, and the
//! next whole run leaves no temp file behind and a directory `tars doctor`
//! calls healthy. `scripts/kill_loop.sh N` is the long version.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

/// Kills in the test; `TARS_KILL_LOOP_N` asks for more.
const KILLS: usize = 200;

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

/// What says a file is the one already checked.
type Stamp = (u64, u64, SystemTime);

/// Artifacts that exist but do not parse (JSON) or are empty (the rest).
/// A file unchanged (same inode, length and modification time) since
/// `seen` checked it is not read again: the scan after each kill reads only
/// what that run wrote (an atomic write is a new inode).
fn torn(dir: &Path, seen: &mut HashMap<PathBuf, Stamp>) -> Vec<PathBuf> {
    let mut bad = Vec::new();
    for p in files(dir) {
        if is_temp(&p) || p.to_string_lossy().ends_with(".lock") {
            continue;
        }
        let Ok(meta) = fs::metadata(&p) else { continue };
        let stamp = (
            meta.ino(),
            meta.len(),
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        );
        if seen.get(&p) == Some(&stamp) {
            continue;
        }
        let bytes = fs::read(&p).unwrap_or_default();
        let ok = match p.extension().and_then(|e| e.to_str()) {
            Some("json") => serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(),
            _ => !bytes.is_empty(),
        };
        if ok {
            seen.insert(p, stamp);
        } else {
            seen.remove(&p);
            bad.push(p);
        }
    }
    bad
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

/// What one worker saw.
#[derive(Default)]
struct Tally {
    killed: usize,
    finished: usize,
    temps_left: usize,
}

/// `kills` runs of `tars demo` into `d`, each killed at a random moment of
/// a whole run's length; panics at the first torn artifact. Then one whole
/// run, which must mend everything.
fn kill_loop(d: &Path, kills: usize, seed: u64) -> Tally {
    let demo = |c: &mut Command| {
        c.args(["demo", "-q", "--data-dir"]).arg(d);
    };
    // How long a whole run takes here (under the other workers' load), to
    // spread the kills over it.
    let t0 = Instant::now();
    let mut first = tars();
    demo(&mut first);
    assert!(first.status().unwrap().success());
    let whole = t0.elapsed();
    eprintln!("kill loop: worker with seed {seed}: {kills} kills, a whole run takes {whole:?}");
    let mut rng = Lcg(seed);
    let mut seen = HashMap::new();
    let mut tally = Tally::default();
    for _ in 0..kills {
        let mut c = tars();
        demo(&mut c);
        let mut child = c.spawn().unwrap();
        std::thread::sleep(whole.mul_f64(rng.next() * 0.95));
        match child.try_wait().unwrap() {
            Some(_) => tally.finished += 1,
            None => {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                tally.killed += 1;
            }
        }
        let bad = torn(d, &mut seen);
        assert!(
            bad.is_empty(),
            "torn artifacts after a kill (seed {seed}): {bad:?}"
        );
    }
    tally.temps_left = files(d).into_iter().filter(|p| is_temp(p)).count();
    let mut again = tars();
    demo(&mut again);
    assert!(
        again.status().unwrap().success(),
        "the run after the kills failed (seed {seed})"
    );
    let temps: Vec<PathBuf> = files(d).into_iter().filter(|p| is_temp(p)).collect();
    assert!(
        temps.is_empty(),
        "orphan temp files after the next run (seed {seed}): {temps:?}"
    );
    assert!(torn(d, &mut HashMap::new()).is_empty());
    let ok = tars().arg("doctor").arg(d).status().unwrap();
    assert!(
        ok.success(),
        "tars doctor finds problems after the next run (seed {seed})"
    );
    tally
}

#[test]
fn kill_9_at_random_moments_then_one_run_mends_everything() {
    let kills: usize = std::env::var("TARS_KILL_LOOP_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(KILLS);
    let seed = std::env::var("TARS_KILL_LOOP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |t| t.as_nanos() as u64)
        });
    // Most of a kill's cost is waiting for its moment, so workers with a
    // data directory each share the kills; worker i uses seed + i.
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 4);
    eprintln!("kill loop: {kills} kills over {workers} workers, seed {seed}");
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|i| {
                let d = dir.path().join(format!("data{i}"));
                let n = kills / workers + usize::from(i < kills % workers);
                s.spawn(move || kill_loop(&d, n, seed.wrapping_add(i as u64)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let killed: usize = tallies.iter().map(|t| t.killed).sum();
    let finished: usize = tallies.iter().map(|t| t.finished).sum();
    let temps_left: usize = tallies.iter().map(|t| t.temps_left).sum();
    eprintln!(
        "kill loop: {killed} killed, {finished} finished before their kill, {temps_left} temp files left by the kills, 0 after the next run, 0 torn, doctor healthy; {:?}",
        started.elapsed()
    );
    assert!(killed >= kills / 2, "too few runs were killed: {killed}");
}
