//! Offline evaluation entry point: score a `timestamp,value` CSV (NAB format) and
//! write `timestamp,anomaly_score` for every row, in order.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::detector::{DetectorConfig, StreamingDetector};

/// Why a CSV could not be scored. Messages name the file and, for content errors, the line.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: expected 2 fields 'timestamp,value', found {found}", path.display())]
    FieldCount {
        path: PathBuf,
        line: usize,
        found: usize,
    },
    #[error("{}:{line}: timestamp '{text}' is not a date-time (YYYY-MM-DD HH:MM:SS, RFC 3339 or epoch seconds)", path.display())]
    Timestamp {
        path: PathBuf,
        line: usize,
        text: String,
    },
    #[error("{}:{line}: value '{text}' is not a number", path.display())]
    Value {
        path: PathBuf,
        line: usize,
        text: String,
    },
}

/// Parses the timestamp forms found in metric exports into epoch seconds (UTC).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(secs) = t.parse::<i64>() {
        return Some(secs);
    }
    if let Ok(secs) = t.parse::<f64>() {
        // Fractional epoch seconds: the detector works at one-second resolution.
        return (secs.is_finite() && secs.abs() < 9.0e15).then(|| secs.floor() as i64);
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(t, fmt) {
            return Some(dt.and_utc().timestamp());
        }
    }
    None
}

/// Missing markers become NaN (the detector skips them); anything else must be a number.
fn parse_value(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty()
        || t.eq_ignore_ascii_case("nan")
        || t.eq_ignore_ascii_case("null")
        || t.eq_ignore_ascii_case("na")
    {
        return Some(f64::NAN);
    }
    t.parse::<f64>().ok()
}

fn unquote(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(f)
}

/// Reads `input` (`timestamp,value`, header optional), scores every row with a fresh
/// detector and atomically writes `timestamp,anomaly_score` to `output`, keeping the
/// timestamps verbatim. Returns the number of data rows.
pub fn scores_csv(input: &Path, output: &Path, cfg: &DetectorConfig) -> Result<usize, EvalError> {
    let read_err = |source| EvalError::Read {
        path: input.to_path_buf(),
        source,
    };
    let reader = BufReader::new(File::open(input).map_err(read_err)?);
    let mut rows: Vec<(String, f64)> = Vec::new();
    let mut det = StreamingDetector::new(*cfg);
    for (idx, line) in reader.lines().enumerate() {
        let line_no = idx + 1;
        let line = line.map_err(read_err)?;
        // Spreadsheet exports often start with a byte-order mark and end lines with CR.
        let line = line.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 2 {
            return Err(EvalError::FieldCount {
                path: input.to_path_buf(),
                line: line_no,
                found: fields.len(),
            });
        }
        let ts_text = unquote(fields[0]);
        let value_text = unquote(fields[1]);
        let Some(ts) = parse_timestamp(ts_text) else {
            if rows.is_empty() && line_no == 1 && parse_value(value_text).is_none() {
                continue; // header
            }
            return Err(EvalError::Timestamp {
                path: input.to_path_buf(),
                line: line_no,
                text: ts_text.to_string(),
            });
        };
        let Some(value) = parse_value(value_text) else {
            return Err(EvalError::Value {
                path: input.to_path_buf(),
                line: line_no,
                text: value_text.to_string(),
            });
        };
        let verdict = det.update(ts, value);
        rows.push((fields[0].trim().to_string(), verdict.score));
    }
    write_atomically(output, &rows)?;
    Ok(rows.len())
}

fn write_atomically(output: &Path, rows: &[(String, f64)]) -> Result<(), EvalError> {
    let write_err = |source| EvalError::Write {
        path: output.to_path_buf(),
        source,
    };
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scores".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        let mut w = BufWriter::new(file);
        w.write_all(b"timestamp,anomaly_score\n")?;
        for (ts, score) in rows {
            writeln!(w, "{ts},{score}")?;
        }
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&tmp, output)?;
        // The rename is only durable once the directory entry is; not every platform allows this.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(write_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(content: &str) -> (Result<usize, EvalError>, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("data.csv");
        fs::write(&input, content).expect("write input");
        let out = dir.path().join("out.csv");
        (scores_csv(&input, &out, &DetectorConfig::default()), dir)
    }

    #[test]
    fn timestamps_in_all_accepted_forms() {
        assert_eq!(parse_timestamp("2014-02-14 14:30:00"), Some(1_392_388_200));
        assert_eq!(
            parse_timestamp("2014-02-14 14:30:00.000000"),
            Some(1_392_388_200)
        );
        assert_eq!(parse_timestamp("2014-02-14T14:30:00Z"), Some(1_392_388_200));
        assert_eq!(
            parse_timestamp("2014-02-14T15:30:00+01:00"),
            Some(1_392_388_200)
        );
        assert_eq!(parse_timestamp("1392388200"), Some(1_392_388_200));
        assert_eq!(parse_timestamp("1392388200.7"), Some(1_392_388_200));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("inf"), None);
    }

    #[test]
    fn writes_one_score_per_row_with_verbatim_timestamps() {
        let mut csv = String::from("timestamp,value\n");
        for i in 0..500 {
            csv.push_str(&format!(
                "2014-02-14 {:02}:{:02}:00,{}\n",
                (i / 60) % 24,
                i % 60,
                (i % 7) as f64
            ));
        }
        csv.push_str("2014-02-15 00:00:00,\n");
        let (res, dir) = run(&csv);
        assert_eq!(res.expect("scored"), 501);
        let out = fs::read_to_string(dir.path().join("out.csv")).expect("output");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "timestamp,anomaly_score");
        assert_eq!(lines.len(), 502);
        assert!(lines[1].starts_with("2014-02-14 00:00:00,"));
        assert!(lines[501].starts_with("2014-02-15 00:00:00,"));
        for l in &lines[1..] {
            let s: f64 = l
                .split(',')
                .nth(1)
                .and_then(|v| v.parse().ok())
                .expect("score");
            assert!((0.0..=1.0).contains(&s), "{l}");
        }
        // No temp file left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn bad_value_names_file_and_line() {
        let (res, _dir) = run("timestamp,value\n2014-02-14 14:30:00,1\n2014-02-14 14:35:00,abc\n");
        let msg = res.expect_err("must fail").to_string();
        assert!(
            msg.ends_with("data.csv:3: value 'abc' is not a number"),
            "{msg}"
        );
    }

    #[test]
    fn bad_timestamp_names_file_and_line() {
        let (res, _dir) = run("timestamp,value\n2014-02-14 14:30:00,1\nnot-a-time,2\n");
        let msg = res.expect_err("must fail").to_string();
        assert!(msg.contains("data.csv:3: timestamp 'not-a-time'"), "{msg}");
    }

    #[test]
    fn wrong_field_count_is_reported() {
        let (res, _dir) = run("timestamp,value\n2014-02-14 14:30:00,1,2\n");
        let msg = res.expect_err("must fail").to_string();
        assert!(msg.contains("data.csv:2: expected 2 fields"), "{msg}");
        let (res, _dir) = run("2014-02-14 14:30:00\n");
        assert!(matches!(
            res,
            Err(EvalError::FieldCount {
                line: 1,
                found: 1,
                ..
            })
        ));
    }

    #[test]
    fn failed_run_leaves_no_output() {
        let (res, dir) = run("timestamp,value\n2014-02-14 14:30:00,x\n");
        assert!(res.is_err());
        assert!(!dir.path().join("out.csv").exists());
    }

    #[test]
    fn missing_input_is_a_read_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let res = scores_csv(
            &dir.path().join("nope.csv"),
            &dir.path().join("o.csv"),
            &DetectorConfig::default(),
        );
        let msg = res.expect_err("must fail").to_string();
        assert!(msg.contains("nope.csv: cannot read"), "{msg}");
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        // Headerless, so the mark sits on a data row's timestamp.
        let (res, dir) = run("\u{feff}2014-02-14 14:30:00,1\r\n2014-02-14 14:35:00,2\r\n");
        assert_eq!(res.expect("scored"), 2);
        let out = fs::read_to_string(dir.path().join("out.csv")).expect("output");
        assert_eq!(
            out,
            "timestamp,anomaly_score\n2014-02-14 14:30:00,0\n2014-02-14 14:35:00,0\n"
        );
    }

    #[test]
    fn headerless_and_epoch_input_is_accepted() {
        let (res, dir) = run("1392388200,1.5\n1392388500,nan\n1392388800,2\n");
        assert_eq!(res.expect("scored"), 3);
        let out = fs::read_to_string(dir.path().join("out.csv")).expect("output");
        assert_eq!(out.lines().nth(2), Some("1392388500,0"));
    }
}
