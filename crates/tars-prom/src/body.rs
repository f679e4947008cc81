//! A live answer's body parsed as its chunks arrive, so the raw JSON of a
//! large `query_range` answer is never held whole: the scan in
//! [`crate::split`] cuts each series out of the chunks and it is parsed at
//! once, leaving only the parsed points (about half the bytes of their
//! JSON) and the small skeleton.
//!
//! What is accepted and what an error says must not depend on how the
//! body was read. A body up to [`KEEP_WHOLE`] bytes is therefore also kept
//! whole, and any answer the stream cannot take is judged by serde over
//! those bytes, exactly as before. Only a broken answer larger than that
//! gets the stream's own message (same form, another position).

use crate::parse::{Envelope, RawSeries};
use crate::split::{Scanner, Sink};

/// Bodies up to this size are also kept whole, for the exact error of a
/// broken answer. Prometheus' error answers are a few hundred bytes.
pub(crate) const KEEP_WHOLE: usize = 4 << 20;

/// How much of a body error messages quote from.
pub(crate) const HEAD: usize = 4096;

/// A body parsed while it was read.
#[derive(Debug)]
pub(crate) struct Streamed {
    /// The answer with every series, or why it is not a Prometheus answer.
    pub envelope: Result<Envelope, String>,
    /// The body's first [`HEAD`] bytes.
    pub head: Vec<u8>,
    /// The envelope holds series a tap was already given: serde judged the
    /// whole body after the stream could not take it.
    pub retaken: bool,
}

/// Takes each series of a streamed answer as soon as it is parsed, in
/// place of the envelope (a lock so that it can be lent to each attempt of
/// a request).
pub(crate) type Tap<'a> = std::sync::Mutex<&'a mut (dyn FnMut(RawSeries) + Send)>;

struct Collect<'a, 't> {
    series: Vec<RawSeries>,
    tap: Option<&'a Tap<'t>>,
    seen: usize,
}

impl Sink for Collect<'_, '_> {
    fn series(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        let n = self.seen;
        let raw = crate::stream::raw_series(&bytes).map_err(|e| format!("series {n}: {e}"))?;
        self.seen += 1;
        match self.tap {
            Some(tap) => (tap.lock().map_err(|_| "the series tap panicked")?)(raw),
            None => self.series.push(raw),
        }
        Ok(())
    }
}

/// Takes a body chunk by chunk.
pub(crate) struct Reader<'a, 't> {
    scanner: Scanner,
    sink: Collect<'a, 't>,
    /// The first error of the scan; later chunks are still counted and kept.
    failed: Option<String>,
    whole: Option<Vec<u8>>,
    head: Vec<u8>,
}

impl<'a, 't> Reader<'a, 't> {
    pub(crate) fn new(tap: Option<&'a Tap<'t>>) -> Reader<'a, 't> {
        Reader {
            scanner: Scanner::new(),
            sink: Collect {
                series: Vec::new(),
                tap,
                seen: 0,
            },
            failed: None,
            whole: Some(Vec::new()),
            head: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, chunk: &[u8]) {
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        if let Some(w) = &mut self.whole {
            if w.len() + chunk.len() <= KEEP_WHOLE {
                w.extend_from_slice(chunk);
            } else {
                self.whole = None;
            }
        }
        if self.failed.is_none() {
            if let Err(e) = self.scanner.feed(chunk, &mut self.sink) {
                self.failed = Some(e);
            }
        }
    }

    pub(crate) fn finish(self) -> Streamed {
        let Reader {
            scanner,
            sink,
            failed,
            whole,
            head,
        } = self;
        let streamed = match failed {
            Some(e) => Err(e),
            None => assemble(&scanner, sink.series),
        };
        let tapped = sink.tap.is_some() && sink.seen > 0;
        let (envelope, retaken) = match (streamed, whole) {
            (Ok(env), _) => (Ok(env), false),
            (Err(_), Some(w)) => (
                serde_json::from_slice(&w).map_err(|e| e.to_string()),
                tapped,
            ),
            (Err(e), None) => (Err(e), false),
        };
        Streamed {
            envelope,
            head,
            retaken,
        }
    }
}

/// The envelope of the skeleton with the streamed series put back in front
/// of what the skeleton kept (a scalar's point), in answer order.
fn assemble(scanner: &Scanner, series: Vec<RawSeries>) -> Result<Envelope, String> {
    scanner.finish()?;
    if scanner.result_arrays > 1 {
        // Which array the envelope keeps is the whole-body parser's call.
        return Err("more than one result array in the answer".into());
    }
    let mut env: Envelope = serde_json::from_slice(&scanner.skeleton).map_err(|e| e.to_string())?;
    match &mut env.data {
        Some(d) => {
            let kept = std::mem::replace(&mut d.result.0, series);
            d.result.0.extend(kept);
        }
        None if !series.is_empty() => return Err("series outside the answer's data".into()),
        None => {}
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(doc: &[u8]) -> Result<Envelope, String> {
        serde_json::from_slice(doc).map_err(|e| e.to_string())
    }

    fn chunked(doc: &[u8], size: usize) -> Streamed {
        let mut r = Reader::new(None);
        for c in doc.chunks(size) {
            r.push(c);
        }
        r.finish()
    }

    #[test]
    fn chunks_of_any_size_give_what_the_whole_body_gives() {
        let docs: [&[u8]; 9] = [
            br#"{"status":"success","warnings":["w"],"data":{"resultType":"matrix","result":[
                {"metric":{"service":"a"},"values":[[1,"1"],[2,"NaN"]]},
                {"metric":{"service":"b","x":"\"y"},"values":[[1.5,"2e3"]]}]}}"#,
            br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"]}]}}"#,
            br#"{"status":"success","data":{"resultType":"scalar","result":[5.5,"7"]}}"#,
            br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
            br#"{"result":[{"metric":{"service":"bare"},"values":[]}],"data":{"result":[]}}"#,
            br#"{"status":"success","data":{"result":[{"metric":{},"values":[[1,"x"]]}]}}"#,
            br#"{"status":"success","data":{"result":[{"metric":{},"values":[[1,"1"]]}"#,
            b"<html>",
            b"",
        ];
        for doc in docs {
            let want = whole(doc);
            for size in [1, 3, 64, 1 << 20] {
                let got = chunked(doc, size);
                assert_eq!(
                    format!("{:?}", got.envelope),
                    format!("{want:?}"),
                    "{} in chunks of {size}",
                    String::from_utf8_lossy(doc)
                );
                assert_eq!(got.head, &doc[..doc.len().min(HEAD)]);
            }
        }
    }

    #[test]
    fn a_broken_answer_too_big_to_keep_still_gets_an_error() {
        let mut doc = br#"{"status":"success","data":{"result":["#.to_vec();
        let series = br#"{"metric":{},"values":[[1,"1"]]},"#;
        while doc.len() <= KEEP_WHOLE {
            doc.extend_from_slice(series);
        }
        doc.extend_from_slice(br#"{"metric":{},"values":[[1,"x"]]}]}}"#);
        let got = chunked(&doc, 1 << 16);
        let e = got.envelope.expect_err("bad sample");
        assert!(e.contains("series") && e.contains("x"), "{e}");
        // The same answer, mended, streams whole.
        let x = doc.iter().rposition(|&b| b == b'x').expect("the bad value");
        doc[x] = b'2';
        let got = chunked(&doc, 1 << 16).envelope.expect("good answer");
        assert_eq!(got, whole(&doc).expect("good answer"));
    }
}
