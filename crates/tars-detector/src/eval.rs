//! Offline evaluation: score a `timestamp,value` CSV (NAB format) and give
//! `timestamp,anomaly_score` for every row, in order. Reading the file and
//! writing the scores are the caller's (the command line writes atomically).

use std::io::Read;

use super::detector::{DetectorConfig, StreamingDetector};

/// Why a CSV could not be scored; each names the line. The caller adds the file.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("line {line}: {msg}")]
    Csv { line: u64, msg: String },
    #[error("line {line}: expected 2 fields 'timestamp,value', found {found}")]
    FieldCount { line: u64, found: usize },
    #[error("line {line}: timestamp '{text}' is not a date-time (YYYY-MM-DD HH:MM:SS, RFC 3339 or epoch seconds)")]
    Timestamp { line: u64, text: String },
    #[error("line {line}: value '{text}' is not a number")]
    Value { line: u64, text: String },
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

/// Scores every row of a `timestamp,value` CSV (header optional, quoted
/// fields, CRLF and a byte-order mark accepted) with a fresh detector, keeping
/// the timestamps verbatim.
pub fn score_csv<R: Read>(input: R, cfg: &DetectorConfig) -> Result<Vec<(String, f64)>, EvalError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut rows: Vec<(String, f64)> = Vec::new();
    let mut det = StreamingDetector::new(*cfg);
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| EvalError::Csv {
                line: e.position().map_or(0, |p| p.line()),
                msg: e.to_string(),
            })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        if record.len() != 2 {
            return Err(EvalError::FieldCount {
                line,
                found: record.len(),
            });
        }
        // Spreadsheet exports often start with a byte-order mark.
        let ts_text = record[0].trim_start_matches('\u{feff}');
        let value_text = &record[1];
        let Some(ts) = parse_timestamp(ts_text) else {
            if rows.is_empty() && line == 1 && parse_value(value_text).is_none() {
                continue; // header
            }
            return Err(EvalError::Timestamp {
                line,
                text: ts_text.to_string(),
            });
        };
        let Some(value) = parse_value(value_text) else {
            return Err(EvalError::Value {
                line,
                text: value_text.to_string(),
            });
        };
        rows.push((ts_text.to_string(), det.update(ts, value).score));
    }
    Ok(rows)
}

/// The scores as `timestamp,anomaly_score` CSV text, header first.
pub fn scores_text(rows: &[(String, f64)]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["timestamp", "anomaly_score"]);
    for (ts, score) in rows {
        let _ = w.write_record([ts.as_str(), &score.to_string()]);
    }
    // Writing into a Vec cannot fail.
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores `content`; the CSV text of the scores, or the error's message.
    fn run(content: &str) -> Result<String, String> {
        score_csv(content.as_bytes(), &DetectorConfig::default())
            .map(|rows| scores_text(&rows))
            .map_err(|e| e.to_string())
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
        let out = run(&csv).expect("scored");
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
    }

    #[test]
    fn bad_value_names_its_line() {
        let msg = run("timestamp,value\n2014-02-14 14:30:00,1\n2014-02-14 14:35:00,abc\n")
            .expect_err("must fail");
        assert_eq!(msg, "line 3: value 'abc' is not a number");
    }

    #[test]
    fn bad_timestamp_names_its_line() {
        let msg =
            run("timestamp,value\n2014-02-14 14:30:00,1\nnot-a-time,2\n").expect_err("must fail");
        assert!(msg.starts_with("line 3: timestamp 'not-a-time'"), "{msg}");
    }

    #[test]
    fn wrong_field_count_is_reported() {
        let msg = run("timestamp,value\n2014-02-14 14:30:00,1,2\n").expect_err("must fail");
        assert!(msg.starts_with("line 2: expected 2 fields"), "{msg}");
        let res = score_csv(
            "2014-02-14 14:30:00\n".as_bytes(),
            &DetectorConfig::default(),
        );
        assert!(matches!(
            res,
            Err(EvalError::FieldCount { line: 1, found: 1 })
        ));
    }

    #[test]
    fn a_quoted_field_may_hold_a_comma() {
        // A hand-split reader saw three fields here.
        let out = run("\"2014-02-14 14:30:00\",\"1\"\n\"2014-02-14, 14:35\",2\n")
            .expect_err("the second timestamp is not a date");
        assert!(out.contains("timestamp '2014-02-14, 14:35'"), "{out}");
        let ok = run("\"2014-02-14 14:30:00\",\"1.5\"\n").expect("scored");
        assert_eq!(ok, "timestamp,anomaly_score\n2014-02-14 14:30:00,0\n");
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        // Headerless, so the mark sits on a data row's timestamp.
        let out =
            run("\u{feff}2014-02-14 14:30:00,1\r\n2014-02-14 14:35:00,2\r\n").expect("scored");
        assert_eq!(
            out,
            "timestamp,anomaly_score\n2014-02-14 14:30:00,0\n2014-02-14 14:35:00,0\n"
        );
    }

    #[test]
    fn headerless_and_epoch_input_is_accepted() {
        let out = run("1392388200,1.5\n1392388500,nan\n1392388800,2\n").expect("scored");
        assert_eq!(out.lines().count(), 4);
        assert_eq!(out.lines().nth(2), Some("1392388500,0"));
    }
}
