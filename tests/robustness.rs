//! Random and mutated bytes fed to every reader of outside input: the
//! artifact readers, the events file, a saved `query_range` answer, the CSV
//! scorer and the configuration loader. Each must answer `Ok` or an error of
//! one line, never panic. (The same readers have cargo-fuzz targets in
//! `fuzz/`; this is the stable-toolchain version that runs with `cargo test`.)

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::collection::vec;
use proptest::prelude::*;

use tars::anomaly::detector::DetectorConfig;
use tars::anomaly::events::{self, AnomalyRun};
use tars::baseline::GaKpiSummary;
use tars::config::Config;
use tars::drift::StabilitySummary;
use tars::health::HealthReport;
use tars::regression::RegressionSummary;
use tars::retro::Retrospective;
use tars::{inputs, io, Error};

/// A simulated week's artifacts, written once in-process.
fn week() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ga = "2025-11-18T00:00:00Z".parse().unwrap();
        let sim = tars::source::sim::parse_spec("sim:regressions:42")
            .unwrap()
            .build(ga);
        tars::pipeline::run_all(&sim, ga, dir.path(), &Config::default()).unwrap();
        let p = dir.path().to_path_buf();
        (dir, p)
    })
    .1
}

const SEEDS: [&str; 7] = [
    "ga_kpis/ga_kpi_summary.json",
    "stability/day_03_summary.json",
    "health/day_03_HEALTH.json",
    "regression/regression_summary.json",
    "anomalies/anomaly_events.json",
    "anomalies/anomaly_run.json",
    "output/GA_7DAY_RETROSPECTIVE.json",
];

const QUERY_RANGE: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"service":"checkout","instance":"a:1"},"values":[[1763424000,"12.5"],[1763424060,"NaN"],[1763424120,"+Inf"],[1763424180,"3e2"]]},{"metric":{"__name__":"up"},"values":[[1763424000.5,"1"]]}]}}"#;

/// One edit of a byte string: flip, insert, delete, cut, or repeat a span.
fn mutate(mut b: Vec<u8>, ops: &[(u8, usize, u8)]) -> Vec<u8> {
    for (op, at, byte) in ops {
        let n = b.len();
        let i = if n == 0 { 0 } else { at % n };
        match op {
            0 if n > 0 => b[i] ^= byte | 1,
            1 => b.insert(i.min(n), *byte),
            2 if n > 0 => {
                b.remove(i);
            }
            3 => b.truncate(i),
            _ => {
                let end = (i + usize::from(*byte)).min(n);
                let span = b[i.min(end)..end].to_vec();
                b.splice(end..end, span);
            }
        }
    }
    b
}

/// An error must be one line.
fn one_line<T>(r: Result<T, Error>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        let msg = e.to_string();
        prop_assert!(!msg.contains('\n'), "not one line: {msg}");
    }
    Ok(())
}

/// Every artifact reader on the file at `p`.
fn read_every_way(p: &Path) -> Result<(), TestCaseError> {
    one_line(io::read_artifact::<GaKpiSummary>(p, "baseline"))?;
    one_line(io::read_artifact::<StabilitySummary>(p, "day"))?;
    one_line(io::read_artifact::<HealthReport>(p, "health"))?;
    one_line(io::read_artifact::<RegressionSummary>(p, "regression"))?;
    one_line(io::read_artifact::<Retrospective>(p, "retro"))?;
    one_line(io::read_artifact::<AnomalyRun>(p, "run"))?;
    one_line(inputs::read_day(p))?;
    one_line(inputs::read_health(p))?;
    one_line(events::read_events(p))?;
    one_line(Config::from_file(p))?;
    let _ = tars::prom::read_query_range_file(p);
    Ok(())
}

fn with_file(
    bytes: &[u8],
    f: impl FnOnce(&Path) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("day_03_summary.json");
    std::fs::write(&p, bytes).unwrap();
    f(&p)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_refused_in_one_line(bytes in vec(any::<u8>(), 0..1024)) {
        with_file(&bytes, read_every_way)?;
    }

    #[test]
    fn mutated_artifacts_are_read_or_refused_in_one_line(
        which in 0..SEEDS.len(),
        ops in vec((0u8..5, any::<usize>(), any::<u8>()), 1..6),
    ) {
        let seed = std::fs::read(week().join(SEEDS[which])).unwrap();
        with_file(&mutate(seed, &ops), read_every_way)?;
    }

    #[test]
    fn mutated_query_range_answers_never_panic(ops in vec((0u8..5, any::<usize>(), any::<u8>()), 0..6)) {
        let bytes = mutate(QUERY_RANGE.as_bytes().to_vec(), &ops);
        with_file(&bytes, |p| {
            let _ = tars::prom::read_query_range_file(p);
            Ok(())
        })?;
    }

    #[test]
    fn random_csv_is_scored_or_refused(text in "(timestamp,value\n)?([0-9:T Z.,e+-]{0,30}\n){0,40}") {
        let _ = tars::anomaly::eval::score_csv(text.as_bytes(), &DetectorConfig::default());
    }

    #[test]
    fn mutated_configuration_is_loaded_or_refused_in_one_line(ops in vec((0u8..5, any::<usize>(), any::<u8>()), 1..6)) {
        let text = include_str!("../tars.example.toml").as_bytes().to_vec();
        with_file(&mutate(text, &ops), |p| one_line(Config::from_file(p)))?;
    }
}
