//! `tars anomaly-detector`: the detector over a metrics source, continuously
//! or once, or over a file (a saved query_range response or a labelled CSV).

use std::path::Path;
use std::time::Duration as StdDuration;

use chrono::Utc;
use serde_json::json;

use super::{ga_from, load_config, open_source, parse_time, say, AnomalyArgs, ColorChoice, Output};
use crate::anomaly::detector::DetectorConfig;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::pipeline::{self, layout};
use crate::render::terminal::{self, AnomalyPass};

fn detector_config(cfg: &Config, z: Option<f64>, alpha: Option<f64>) -> Result<DetectorConfig> {
    let mut d = cfg.detector;
    if let Some(z) = z {
        if !(z.is_finite() && z > 0.0) {
            return Err(Error::Usage(format!(
                "--z-threshold must be a positive number, got {z}"
            )));
        }
        d.z_threshold = z;
    }
    if let Some(a) = alpha {
        if !(a.is_finite() && a > 0.0 && a <= 1.0) {
            return Err(Error::Usage(format!(
                "--ewma-alpha (EWMA_ALPHA) must be in (0, 1], got {a}"
            )));
        }
        d.alpha = a;
    }
    Ok(d)
}

/// The seeds' `Z_THRESHOLD` is a z-score on their scale, where 3.0 is the
/// standard sensitivity; the same standard on this detector's scale is
/// [`crate::config::WATCH_Z_THRESHOLD`] (6), so the seeds' value is read as half of ours.
pub const SEEDS_Z_SCALE: f64 = crate::config::WATCH_Z_THRESHOLD / 3.0;

/// `--z-threshold`, else the seeds' `Z_THRESHOLD` scaled to this detector.
fn z_from(flag: Option<f64>) -> Result<Option<f64>> {
    if flag.is_some() {
        return Ok(flag);
    }
    let Some(raw) = std::env::var("Z_THRESHOLD")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(None);
    };
    let z: f64 = raw
        .trim()
        .parse()
        .map_err(|_| Error::Usage(format!("Z_THRESHOLD: '{raw}' is not a number")))?;
    if !(z.is_finite() && z > 0.0) {
        return Err(Error::Usage(format!(
            "Z_THRESHOLD must be a positive number, got {raw}"
        )));
    }
    Ok(Some(z * SEEDS_Z_SCALE))
}

pub(super) fn anomaly(a: AnomalyArgs, color: ColorChoice) -> Result<()> {
    let print = Output::new(a.output, color);
    let cfg = load_config(a.common.config.as_deref())?;
    let z = z_from(a.z_threshold)?;
    let det = detector_config(&cfg, z, a.ewma_alpha)?;
    let d = &a.common.data_dir;
    let out = a
        .output_file
        .clone()
        .unwrap_or_else(|| d.join(layout::ANOMALY_DIR).join(layout::ANOMALY_FILE));
    if let Some(input) = &a.input {
        // A labelled CSV is scored one series at a time, as NAB is: start from the
        // detector's own default sensitivity rather than the watch's.
        let is_csv = input
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let det = if is_csv {
            let mut base = cfg.clone();
            base.detector = cfg.csv_detector();
            detector_config(&base, z, a.ewma_alpha)?
        } else {
            det
        };
        return anomaly_input(input, a.scores_csv.as_deref(), &out, &det, &print);
    }
    if a.scores_csv.is_some() {
        return Err(Error::Usage("--scores-csv needs a CSV --input".into()));
    }
    let default_baseline = d.join(layout::GA_DIR).join(layout::GA_FILE);
    let baseline = a
        .baseline
        .clone()
        .or_else(|| default_baseline.is_file().then_some(default_baseline));
    let (ga, inputs) = match (&baseline, &a.ga_timestamp) {
        (Some(b), _) => (
            pipeline::read_baseline(b)?.ga_timestamp,
            vec![b.display().to_string()],
        ),
        (None, t) => (ga_from(t.as_deref())?, vec![]),
    };
    let since = a
        .since
        .as_deref()
        .map(|s| parse_time(s, "--since"))
        .transpose()?;
    let until = a
        .until
        .as_deref()
        .map(|s| parse_time(s, "--until"))
        .transpose()?;
    let source = open_source(&a.source, &cfg, ga)?;
    loop {
        let window = pipeline::anomaly_window(ga, since, until, Utc::now());
        let res = pipeline::run_anomaly_once(
            source.as_ref(),
            Some(ga),
            &window,
            &out,
            inputs.clone(),
            &det,
        );
        match res {
            Ok(o) => print_pass(
                &print,
                &AnomalyPass {
                    command: "anomaly-detector",
                    input: None,
                    artifact: &out,
                    window,
                    series_evaluated: o.run.series_evaluated,
                    points_evaluated: o.run.points_evaluated,
                    incidents_in_window: o.new_events.len(),
                    incidents_total: o.total_events,
                },
            )?,
            Err(e) if !a.once => say(format!(
                "tars anomaly-detector: {e} (retrying in {} s)",
                a.interval_secs
            )),
            Err(e) => return Err(e),
        }
        if a.once {
            return Ok(());
        }
        std::thread::sleep(StdDuration::from_secs(a.interval_secs.max(1)));
    }
}

fn anomaly_input(
    input: &Path,
    scores: Option<&Path>,
    out: &Path,
    det: &DetectorConfig,
    print: &Output,
) -> Result<()> {
    let is_csv = input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let Some(scores) = scores else {
            return Err(Error::Usage(
                "a CSV --input needs --scores-csv OUT.csv".into(),
            ));
        };
        let file = std::fs::File::open(input).map_err(|e| Error::io(input, e))?;
        let scored = crate::anomaly::eval::score_csv(std::io::BufReader::new(file), det)
            .map_err(|e| Error::bad(input, e.to_string()))?;
        crate::io::write_atomic(
            scores,
            crate::anomaly::eval::scores_text(&scored).as_bytes(),
        )?;
        let rows = scored.len();
        return print.summary(
            |_| terminal::anomaly_scores(input, scores, rows),
            || json!({ "command": "anomaly-detector", "input": input, "scores_csv": scores, "rows": rows }),
        );
    }
    if scores.is_some() {
        return Err(Error::Usage(
            "--scores-csv needs a CSV --input (timestamp,value)".into(),
        ));
    }
    let workers = crate::anomaly::stream::default_workers();
    let run = crate::anomaly::stream::detect_file(input, det, workers)?;
    let Some(window) = run.window else {
        return Err(Error::bad(input, "the response holds no samples"));
    };
    let n = run.events.len();
    // Only the exported series are replaced: other services' events stay.
    let total = crate::anomaly::events::merge_series_into_file(
        out,
        &window,
        Some(&run.analysed),
        run.events,
    )?;
    print_pass(
        print,
        &AnomalyPass {
            command: "anomaly-detector",
            input: Some(input),
            artifact: out,
            window,
            series_evaluated: run.series,
            points_evaluated: run.points,
            incidents_in_window: n,
            incidents_total: total,
        },
    )
}

fn print_pass(print: &Output, pass: &AnomalyPass) -> Result<()> {
    print.summary(
        |_| terminal::anomaly_pass(pass),
        || serde_json::to_value(pass).unwrap_or_default(),
    )
}
