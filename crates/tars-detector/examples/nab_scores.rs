//! Scores every NAB data file with the detector, at one or several sensitivities.
//!
//! Usage: `cargo run --release -p tars-detector --example nab_scores -- DATA_DIR OUT_DIR [Z,Z,...]`
//! writes `OUT_DIR/<category>/<file>.csv` (`timestamp,anomaly_score`) for every
//! `DATA_DIR/<category>/<file>.csv`. With a list of `z_threshold` values it writes
//! one folder per value, `OUT_DIR/z<Z>/<category>/<file>.csv`, so that the
//! leave-one-category-out protocol can choose the sensitivity on the other
//! categories too. `Z_THRESHOLD` and `EWMA_ALPHA` override the defaults, as in
//! the CLI. It depends on this crate only, so it builds while the rest of the
//! workspace is being changed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tars_detector::detector::DetectorConfig;
use tars_detector::eval::{score_csv, scores_text};

fn env_f64(name: &str) -> Result<Option<f64>, String> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| format!("{name}='{v}' is not a number")),
        Err(_) => Ok(None),
    }
}

fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| keep(p))
        .collect();
    out.sort();
    Ok(out)
}

fn score_all(data: &Path, out: &Path, cfg: &DetectorConfig) -> Result<usize, String> {
    let mut files = 0;
    for cat in sorted_entries(data, |p| p.is_dir())? {
        let Some(cat_name) = cat.file_name() else {
            continue;
        };
        let target = out.join(cat_name);
        std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
        let csv = |p: &Path| p.extension().is_some_and(|x| x == "csv");
        for file in sorted_entries(&cat, csv)? {
            let Some(name) = file.file_name() else {
                continue;
            };
            let input =
                std::fs::File::open(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let rows = score_csv(std::io::BufReader::new(input), cfg)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let out = target.join(name);
            std::fs::write(&out, scores_text(&rows))
                .map_err(|e| format!("{}: {e}", out.display()))?;
            files += 1;
        }
    }
    Ok(files)
}

fn run(args: &[String]) -> Result<usize, String> {
    let (data, out) = (Path::new(&args[0]), Path::new(&args[1]));
    let mut cfg = DetectorConfig::default();
    if let Some(z) = env_f64("Z_THRESHOLD")? {
        cfg.z_threshold = z;
    }
    if let Some(a) = env_f64("EWMA_ALPHA")? {
        cfg.alpha = a;
    }
    let Some(list) = args.get(2) else {
        return score_all(data, out, &cfg);
    };
    let mut files = 0;
    for z in list.split(',') {
        cfg.z_threshold = z
            .trim()
            .parse()
            .map_err(|_| format!("z_threshold '{z}' is not a number"))?;
        files += score_all(data, &out.join(format!("z{}", z.trim())), &cfg)?;
    }
    Ok(files)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !(2..=3).contains(&args.len()) {
        eprintln!("usage: nab_scores DATA_DIR OUT_DIR [Z,Z,...]");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(n) => {
            eprintln!("scored {n} files into {}", args[1]);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nab_scores: {e}");
            ExitCode::FAILURE
        }
    }
}
