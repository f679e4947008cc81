//! A saved `query_range` answer analysed series by series as it is read, on
//! several threads: the scan in [`crate::split`] cuts each series out, a
//! worker parses it and runs the caller's analysis over its points, and
//! only the analysis' result is kept. Peak memory is a few series plus the
//! results, not the answer, and the results come back in the answer's order
//! whatever the number of workers, so the output of a run does not depend
//! on how many cores it had.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Mutex;

use tars_core::source::SourceError;

use crate::parse::{answer_data, open_answer, replay_error, service_names, Envelope, RawSeries};
use crate::split::{self, Sink};

/// What the caller runs over each series' points (in time order).
pub type Analysis<'a, T> = dyn Fn(&[(i64, f64)]) -> T + Sync + 'a;

/// One series of an answer once analysed.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysed<T> {
    /// Its service name, as [`crate::read_query_range_file_grouped`] names it.
    pub service: String,
    /// How many points it had.
    pub points: usize,
    /// Its first and last timestamps (none when it had no point).
    pub span: Option<(i64, i64)>,
    /// What the analysis returned for it.
    pub out: T,
}

/// A series parsed and analysed, before the names (which depend on every
/// series' labels) are known.
struct Done<T> {
    metric: BTreeMap<String, String>,
    points: usize,
    span: Option<(i64, i64)>,
    out: T,
}

fn analyse_raw<T>(raw: RawSeries, analyse: &Analysis<'_, T>) -> Done<T> {
    let metric = raw.metric.clone();
    let points = raw.into_points();
    let span = points.first().zip(points.last()).map(|(a, b)| (a.0, b.0));
    Done {
        metric,
        points: points.len(),
        span,
        out: analyse(&points),
    }
}

/// One series object cut out by the scan, parsed: the fast parser when it
/// can, serde (which decides what is accepted) when it cannot.
pub(crate) fn raw_series(bytes: &[u8]) -> Result<RawSeries, String> {
    match crate::fast::series(bytes) {
        Some(raw) => Ok(raw),
        None => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
    }
}

fn analyse_bytes<T>(bytes: &[u8], analyse: &Analysis<'_, T>) -> Result<Done<T>, String> {
    Ok(analyse_raw(raw_series(bytes)?, analyse))
}

/// Everything on the scanning thread.
struct Inline<'a, T> {
    analyse: &'a Analysis<'a, T>,
    done: Vec<Done<T>>,
}

impl<T> Sink for Inline<'_, T> {
    fn series(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        let n = self.done.len();
        let d = analyse_bytes(&bytes, self.analyse).map_err(|e| format!("series {n}: {e}"))?;
        self.done.push(d);
        Ok(())
    }
}

/// Hands each series to the workers, numbered in answer order.
struct Pool {
    tx: mpsc::SyncSender<(usize, Vec<u8>)>,
    next: usize,
}

impl Sink for Pool {
    fn series(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        self.tx
            .send((self.next, bytes))
            .map_err(|_| "the analysis workers stopped".to_string())?;
        self.next += 1;
        Ok(())
    }
}

type Outcome<T> = (usize, Result<Done<T>, String>);

fn worker<T>(
    jobs: &Mutex<mpsc::Receiver<(usize, Vec<u8>)>>,
    results: &mpsc::Sender<Outcome<T>>,
    analyse: &Analysis<'_, T>,
) {
    loop {
        // The lock is held only to take the next job, not while analysing.
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((i, bytes)) = job else { return };
        if results.send((i, analyse_bytes(&bytes, analyse))).is_err() {
            return;
        }
    }
}

/// What a scan of the whole file leaves: the analysed series in answer
/// order, the skeleton and how many result arrays it held.
struct Scanned<T> {
    done: Vec<Done<T>>,
    skeleton: Vec<u8>,
    result_arrays: usize,
}

/// Scans the file, analysing series on `workers` threads (0: on this one).
fn scan_file<T: Send>(
    path: &Path,
    workers: usize,
    analyse: &Analysis<'_, T>,
) -> Result<Scanned<T>, String> {
    let mut file = open_answer(path).map_err(|e| e.to_string())?;
    if workers == 0 {
        let mut sink = Inline {
            analyse,
            done: Vec::new(),
        };
        let sc = split::scan(&mut file, &mut sink)?;
        return Ok(Scanned {
            done: sink.done,
            skeleton: sc.skeleton,
            result_arrays: sc.result_arrays,
        });
    }
    // Two series queued per worker keep them busy while bounding memory.
    let (tx, rx) = mpsc::sync_channel(2 * workers);
    let (res_tx, res_rx) = mpsc::channel();
    let jobs = Mutex::new(rx);
    let scanned = std::thread::scope(|s| {
        for _ in 0..workers {
            let res_tx = res_tx.clone();
            let jobs = &jobs;
            s.spawn(move || worker(jobs, &res_tx, analyse));
        }
        drop(res_tx);
        let mut pool = Pool { tx, next: 0 };
        let scanned = split::scan(&mut file, &mut pool);
        // Closing the queue lets the workers finish and the scope end.
        drop(pool);
        scanned
    })?;
    let mut outcomes: Vec<Outcome<T>> = res_rx.into_iter().collect();
    outcomes.sort_by_key(|o| o.0);
    let done = outcomes
        .into_iter()
        .map(|(i, r)| r.map_err(|e| format!("series {i}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if done.len() != scanned.series {
        return Err("an analysis worker stopped early".into());
    }
    Ok(Scanned {
        done,
        skeleton: scanned.skeleton,
        result_arrays: scanned.result_arrays,
    })
}

/// Reads a saved `query_range` answer and runs `analyse` over each series'
/// points (in time order) as soon as it is read, on `workers` threads
/// besides the reading one (0: all on the calling thread). The series come
/// back in answer order, named as [`crate::read_query_range_file_grouped`]
/// names them, with the same errors for a file it refuses.
pub fn analyse_query_range_file<T: Send>(
    path: &Path,
    group_label: &str,
    workers: usize,
    analyse: &Analysis<'_, T>,
) -> Result<Vec<Analysed<T>>, SourceError> {
    let bad = |e: String| replay_error(path, format!("not a query_range answer: {e}"));
    let Scanned {
        mut done,
        skeleton,
        result_arrays,
    } = scan_file(path, workers, analyse).map_err(bad)?;
    if result_arrays > 1 {
        return whole_file(path, group_label, analyse);
    }
    let env: Envelope = serde_json::from_slice(&skeleton).map_err(|e| bad(e.to_string()))?;
    // A scalar answer's point stays in the skeleton; it comes last, as the
    // whole-file parser puts it.
    let data = answer_data(path, env)?;
    done.extend(data.result.0.into_iter().map(|r| analyse_raw(r, analyse)));
    let names = service_names(done.iter().map(|d| &d.metric), group_label);
    Ok(done
        .into_iter()
        .zip(names)
        .map(|(d, service)| Analysed {
            service,
            points: d.points,
            span: d.span,
            out: d.out,
        })
        .collect())
}

/// An answer with two result arrays, read whole and analysed on this
/// thread: rare enough that its memory does not matter.
fn whole_file<T>(
    path: &Path,
    group_label: &str,
    analyse: &Analysis<'_, T>,
) -> Result<Vec<Analysed<T>>, SourceError> {
    let series = crate::read_query_range_file_grouped(path, group_label)?;
    Ok(series
        .into_iter()
        .map(|s| Analysed {
            points: s.points.len(),
            span: s
                .points
                .first()
                .zip(s.points.last())
                .map(|(a, b)| (a.0, b.0)),
            out: analyse(&s.points),
            service: s.service,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(doc: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(doc.as_bytes()).expect("write");
        f
    }

    type Named = Vec<(String, Vec<(i64, f64)>)>;

    /// Each series as the whole-file reader sees it and as the stream does.
    fn both(doc: &str, workers: usize) -> (Named, Named) {
        let f = file(doc);
        let whole = crate::read_query_range_file_grouped(f.path(), "service")
            .expect("whole")
            .into_iter()
            .map(|s| (s.service, s.points))
            .collect();
        let streamed = analyse_query_range_file(f.path(), "service", workers, &|p| p.to_vec())
            .expect("streamed")
            .into_iter()
            .map(|a| (a.service, a.out))
            .collect();
        (whole, streamed)
    }

    #[test]
    fn streams_the_same_series_as_the_whole_file_reader() {
        let docs = [
            r#"{"status":"success","data":{"resultType":"matrix","result":[
                {"metric":{"service":"a","i":"1"},"values":[[3,"3"],[1,"1"]]},
                {"metric":{"service":"a","i":"2"},"values":[[1,"NaN"]]},
                {"metric":{"service":"b"},"values":[[2,"+Inf"]],"value":[1,"0"]}]}}"#,
            r#"[{"metric":{"service":"c"},"values":[[1,"1"]]}]"#,
            r#"{"resultType":"vector","result":[{"metric":{"service":"d"},"value":[1,"2"]}]}"#,
            r#"{"status":"success","data":{"result":[5.5,"7"]}}"#,
            // Two result arrays: the envelope keeps `data`'s.
            r#"{"result":[{"metric":{"service":"bare"},"values":[[1,"1"]]}],
                "data":{"result":[{"metric":{"service":"e"},"values":[[1,"1"]]}]}}"#,
        ];
        for doc in docs {
            for workers in [0, 1, 3] {
                let (whole, streamed) = both(doc, workers);
                assert!(!whole.is_empty());
                assert_eq!(format!("{whole:?}"), format!("{streamed:?}"), "{doc}");
            }
        }
    }

    #[test]
    fn refuses_what_the_whole_file_reader_refuses() {
        for bad in [
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}"#,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}"#,
            r#"{"status":"success","data":{"resultType":"streams","result":[]}}"#,
            "<html>",
            "{}",
        ] {
            let f = file(bad);
            assert!(crate::read_query_range_file(f.path()).is_err(), "{bad}");
            for workers in [0, 2] {
                let got = analyse_query_range_file(f.path(), "service", workers, &|p| p.len());
                assert!(got.is_err(), "{bad} ({workers} workers)");
            }
        }
    }
}
