//! A structural scan of a `query_range` answer that cuts out each series
//! object of `data.result` as its own byte slice, without parsing it, and
//! keeps everything else (the "skeleton": status, error, warnings,
//! resultType and any scalar elements) in a small buffer.
//!
//! Why: serde_json over a `Read` walks a 600 MB answer byte by byte through
//! one thread and the analysis has to wait for it. Cut into slices, each
//! series is parsed with `from_slice` (borrowed strings, no per-byte reader
//! calls) on whichever core is free, and only a few series are ever held at
//! once. The scan only tracks strings, nesting and the keys that lead to the
//! result array; every byte it does not hand out goes into the skeleton,
//! which the ordinary envelope parser then checks, so an answer the scan
//! misreads is still refused by serde.

use std::io::Read;

/// Where the result array is: the keys and containers leading to it.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Object,
    Array,
}

/// One open container, with the key being read in it (objects) when the
/// key is one of the few the result path needs.
struct Level {
    kind: Kind,
    key: Key,
}

#[derive(Clone, Copy, PartialEq)]
enum Key {
    None,
    Data,
    Result,
    Other,
}

/// Separator state inside the result array: the scan drops the commas
/// between series, so it checks them itself.
#[derive(Clone, Copy, PartialEq)]
enum Sep {
    Start,
    AfterElem,
    AfterComma,
    InScalar,
}

/// What a scan reports for each byte run.
pub(crate) trait Sink {
    /// One complete series object (`{...}`) of the result array.
    fn series(&mut self, bytes: Vec<u8>) -> Result<(), String>;
}

/// The scanner's state between buffers.
pub(crate) struct Scanner {
    stack: Vec<Level>,
    in_string: bool,
    escaped: bool,
    /// The current string's first bytes, to recognise `data` and `result`.
    string: Vec<u8>,
    last_string: Key,
    /// Depth of the result array (containers open inside it excluded).
    result_depth: Option<usize>,
    sep: Sep,
    /// The series being cut out, when inside one.
    capture: Option<Vec<u8>>,
    pub(crate) skeleton: Vec<u8>,
    kept_scalars: usize,
    pub(crate) series: usize,
    /// How many arrays were taken for the result: more than one (`data`
    /// twice, or a bare `result` beside `data`) is left to the whole-file
    /// parser, which knows which one the envelope keeps.
    pub(crate) result_arrays: usize,
}

fn key_of(s: &[u8]) -> Key {
    match s {
        b"data" => Key::Data,
        b"result" => Key::Result,
        _ => Key::Other,
    }
}

impl Scanner {
    pub(crate) fn new() -> Scanner {
        Scanner {
            stack: Vec::new(),
            in_string: false,
            escaped: false,
            string: Vec::new(),
            last_string: Key::None,
            result_depth: None,
            sep: Sep::Start,
            capture: None,
            skeleton: Vec::new(),
            kept_scalars: 0,
            series: 0,
            result_arrays: 0,
        }
    }

    /// Whether an array opened now (with the stack as it is) is the result
    /// array: the root array (a bare export), `result` in the root object (a
    /// bare `data` export), or `data.result`.
    fn opens_result(&self) -> bool {
        if self.result_depth.is_some() {
            return false;
        }
        match self.stack.as_slice() {
            [] => true,
            [root] => root.kind == Kind::Object && root.key == Key::Result,
            [root, data] => {
                root.kind == Kind::Object
                    && root.key == Key::Data
                    && data.kind == Kind::Object
                    && data.key == Key::Result
            }
            _ => false,
        }
    }

    /// Checks, once the answer has ended, that no series was left open.
    pub(crate) fn finish(&self) -> Result<(), String> {
        if self.capture.is_some() || self.in_string {
            return Err("the answer ends inside a series".into());
        }
        Ok(())
    }

    /// Feeds the next bytes of the answer.
    pub(crate) fn feed(&mut self, buf: &[u8], sink: &mut dyn Sink) -> Result<(), String> {
        let mut i = 0;
        while i < buf.len() {
            if self.capture.is_some() {
                i = self.capture_bytes(buf, i, sink)?;
            } else if self.in_string {
                i = self.string_bytes(buf, i);
            } else {
                self.structural(buf[i])?;
                i += 1;
            }
        }
        Ok(())
    }

    /// Inside a string of the skeleton: copies up to and including its
    /// closing quote.
    fn string_bytes(&mut self, buf: &[u8], start: usize) -> usize {
        let mut i = start;
        while i < buf.len() {
            let b = buf[i];
            i += 1;
            if self.escaped {
                self.escaped = false;
            } else if b == b'"' {
                self.in_string = false;
                break;
            } else {
                // An escape is kept as a backslash: `res\\ult` is not `result`.
                self.escaped = b == b'\\';
                if self.string.len() < 8 {
                    self.string.push(b);
                }
            }
        }
        self.skeleton.extend_from_slice(&buf[start..i]);
        if !self.in_string {
            self.last_string = key_of(&self.string);
            self.string.clear();
        }
        i
    }

    /// Inside a series object: copies bytes until the object closes (nesting
    /// counted outside strings), then hands the object out. Strings are
    /// followed here too, in one tight loop, because a series is nearly all
    /// short value strings.
    fn capture_bytes(
        &mut self,
        buf: &[u8],
        start: usize,
        sink: &mut dyn Sink,
    ) -> Result<usize, String> {
        let base = self.result_depth.unwrap_or(0);
        let mut i = start;
        let mut done = false;
        while i < buf.len() {
            let b = buf[i];
            i += 1;
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'"' {
                    self.in_string = false;
                } else {
                    self.escaped = b == b'\\';
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.stack.push(Level {
                    kind: if b == b'{' { Kind::Object } else { Kind::Array },
                    key: Key::None,
                }),
                b'}' | b']' => {
                    self.stack.pop();
                    if self.stack.len() == base {
                        done = true;
                        break;
                    }
                }
                _ => {}
            }
        }
        if let Some(c) = self.capture.as_mut() {
            c.extend_from_slice(&buf[start..i]);
        }
        if done {
            if let Some(c) = self.capture.take() {
                self.series += 1;
                self.sep = Sep::AfterElem;
                sink.series(c)?;
            }
        }
        Ok(i)
    }

    /// One byte outside strings and series objects.
    fn structural(&mut self, b: u8) -> Result<(), String> {
        let in_result = self.result_depth == Some(self.stack.len());
        if in_result {
            if self.sep == Sep::InScalar && !matches!(b, b',' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            {
                self.skeleton.push(b);
                return Ok(());
            }
            if self.sep == Sep::InScalar {
                self.sep = Sep::AfterElem;
            }
            match b {
                b' ' | b'\n' | b'\r' | b'\t' => return Ok(()),
                b',' => {
                    if self.sep != Sep::AfterElem {
                        return Err("unexpected ',' in the result array".into());
                    }
                    self.sep = Sep::AfterComma;
                    return Ok(());
                }
                b']' => {
                    if self.sep == Sep::AfterComma {
                        return Err("trailing ',' in the result array".into());
                    }
                    self.result_depth = None;
                }
                _ => {
                    if self.sep == Sep::AfterElem {
                        return Err("expected ',' between the result's elements".into());
                    }
                    if b == b'{' {
                        self.stack.push(Level {
                            kind: Kind::Object,
                            key: Key::None,
                        });
                        self.capture = Some(vec![b'{']);
                        return Ok(());
                    }
                    // A scalar answer's number or string, or anything else:
                    // kept for the envelope parser to judge.
                    if self.kept_scalars > 0 {
                        self.skeleton.push(b',');
                    }
                    self.kept_scalars += 1;
                    self.sep = Sep::InScalar;
                }
            }
        }
        self.skeleton.push(b);
        match b {
            b'"' => {
                self.in_string = true;
                if in_result {
                    self.sep = Sep::AfterElem;
                }
            }
            b':' => {
                if let Some(top) = self.stack.last_mut() {
                    top.key = self.last_string;
                }
            }
            b'{' | b'[' => {
                if b == b'[' && self.opens_result() {
                    self.result_depth = Some(self.stack.len() + 1);
                    self.result_arrays += 1;
                    self.sep = Sep::Start;
                } else if in_result {
                    self.sep = Sep::AfterElem;
                }
                self.stack.push(Level {
                    kind: if b == b'{' { Kind::Object } else { Kind::Array },
                    key: Key::None,
                });
            }
            b'}' | b']' => {
                self.stack.pop();
            }
            _ => {}
        }
        Ok(())
    }
}

/// Scans `reader` to its end, handing each series to `sink`; returns the
/// scanner (its skeleton and series count).
pub(crate) fn scan(reader: &mut dyn Read, sink: &mut dyn Sink) -> Result<Scanner, String> {
    let mut sc = Scanner::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        };
        sc.feed(&buf[..n], sink)?;
    }
    sc.finish()?;
    Ok(sc)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Vec<String>);
    impl Sink for Collect {
        fn series(&mut self, bytes: Vec<u8>) -> Result<(), String> {
            self.0
                .push(String::from_utf8(bytes).map_err(|e| e.to_string())?);
            Ok(())
        }
    }

    fn split(doc: &str, chunk: usize) -> Result<(Vec<String>, String), String> {
        let mut sink = Collect(Vec::new());
        let mut sc = Scanner::new();
        for part in doc.as_bytes().chunks(chunk) {
            sc.feed(part, &mut sink)?;
        }
        Ok((sink.0, String::from_utf8(sc.skeleton).unwrap_or_default()))
    }

    #[test]
    fn cuts_each_series_out_whatever_the_buffer_size() {
        let doc = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"a":"x]}\"{"},"values":[[1,"1"]]} ,
            {"metric":{},"values":[]}]},"warnings":["result"]}"#;
        for chunk in [1, 2, 3, 7, 1 << 20] {
            let (series, skeleton) = split(doc, chunk).expect("scan");
            assert_eq!(series.len(), 2, "chunk {chunk}");
            assert_eq!(series[0], r#"{"metric":{"a":"x]}\"{"},"values":[[1,"1"]]}"#);
            assert_eq!(series[1], r#"{"metric":{},"values":[]}"#);
            let skel = skeleton.split_whitespace().collect::<String>();
            assert_eq!(
                skel,
                r#"{"status":"success","data":{"resultType":"matrix","result":[]},"warnings":["result"]}"#
            );
        }
    }

    #[test]
    fn scalars_and_bare_exports_stay_in_the_skeleton() {
        let (s, skel) = split(r#"{"data":{"result":[5.5, "7"]}}"#, 3).expect("scan");
        assert!(s.is_empty());
        assert_eq!(skel, r#"{"data":{"result":[5.5,"7"]}}"#);
        let (s, skel) = split(r#"[{"metric":{}},{"values":[]}]"#, 4).expect("scan");
        assert_eq!(s.len(), 2);
        assert_eq!(skel, "[]");
        let (s, _) = split(r#"{"resultType":"matrix","result":[{}]}"#, 5).expect("scan");
        assert_eq!(s, ["{}"]);
        // A `result` deeper down is not the answer's.
        let (s, _) = split(r#"{"x":{"result":[{}]}}"#, 5).expect("scan");
        assert!(s.is_empty());
    }

    #[test]
    fn refuses_what_serde_would_refuse_between_series() {
        for bad in [r#"[{} {}]"#, r#"[{},]"#, r#"[,{}]"#, r#"[{},,{}]"#] {
            assert!(split(bad, 2).is_err(), "{bad}");
        }
    }
}
