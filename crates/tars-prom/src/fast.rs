//! A hand-written parser for one series object of a `query_range` answer,
//! tuned for what Prometheus sends: `"values":[[1748822400,"1000.5"],...]`
//! with integer timestamps and plain value strings. It only ever accepts
//! that exact shape; for anything else (a float timestamp, an escape in a
//! value, a duplicate key, bad JSON) it gives up and the caller parses the
//! series with serde, so what is accepted and what the errors say stay
//! serde's. The labels and any other member are parsed by serde too: only
//! the samples, which are nearly all of the bytes, take the fast path.

use std::collections::BTreeMap;

use crate::parse::{parse_value, Point, Points, RawSeries};

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

fn expect(b: &[u8], i: usize, c: u8) -> Option<usize> {
    (b.get(i) == Some(&c)).then_some(i + 1)
}

/// The end of the JSON value starting at `i` (nesting counted outside
/// strings); serde checks the value itself afterwards.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    let (mut depth, mut j, mut in_str, mut esc) = (0usize, i, false, false);
    while j < b.len() {
        let c = b[j];
        j += 1;
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
                if depth == 0 {
                    return Some(j);
                }
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t' if depth == 0 => return Some(j - 1),
            _ => {}
        }
    }
    (depth == 0 && !in_str).then_some(j)
}

/// An integer timestamp of at most 13 digits (what `to_secs` accepts
/// unchanged); a float or anything longer is left to serde.
fn timestamp(b: &[u8], mut i: usize) -> Option<(i64, usize)> {
    let neg = b.get(i) == Some(&b'-');
    i += usize::from(neg);
    let start = i;
    let mut t: i64 = 0;
    while let Some(d) = b.get(i).filter(|c| c.is_ascii_digit()) {
        t = t * 10 + i64::from(d - b'0');
        i += 1;
        if i - start > 13 {
            return None;
        }
    }
    let digits = i - start;
    // JSON has no leading zeros; `.` and `e` make it a float.
    if digits == 0 || (digits > 1 && b[start] == b'0') {
        return None;
    }
    if matches!(b.get(i), Some(b'.' | b'e' | b'E')) {
        return None;
    }
    Some((if neg { -t } else { t }, i))
}

/// `[[ts,"v"],...]` exactly, else `None`.
#[cfg(test)]
fn samples(b: &[u8]) -> Option<Vec<(i64, f64)>> {
    let (out, end) = samples_at(b, ws(b, 0))?;
    (ws(b, end) == b.len()).then_some(out)
}

/// `[[ts,"v"],...]` starting at `i`, and the index just past its `]`; else
/// `None`. Parsed in place: finding the array's end first would be a second
/// pass over nearly all of a series' bytes.
fn samples_at(b: &[u8], i: usize) -> Option<(Vec<(i64, f64)>, usize)> {
    let mut out = Vec::with_capacity(b.len().saturating_sub(i) / 24);
    let mut i = expect(b, i, b'[')?;
    i = ws(b, i);
    if b.get(i) == Some(&b']') {
        return Some((out, i + 1));
    }
    loop {
        i = expect(b, i, b'[')?;
        let (t, j) = timestamp(b, ws(b, i))?;
        i = expect(b, ws(b, j), b',')?;
        i = expect(b, ws(b, i), b'"')?;
        let start = i;
        while let Some(&c) = b.get(i) {
            if c == b'"' {
                break;
            }
            // Escapes, control characters and non-ASCII go to serde.
            if c == b'\\' || !(0x20..0x80).contains(&c) {
                return None;
            }
            i += 1;
        }
        let s = std::str::from_utf8(&b[start..i]).ok()?;
        out.push((t, parse_value(s)?));
        i = expect(b, ws(b, expect(b, i, b'"')?), b']')?;
        i = ws(b, i);
        match b.get(i) {
            Some(b',') => i = ws(b, i + 1),
            Some(b']') => return Some((out, i + 1)),
            _ => return None,
        }
    }
}

/// A member of a series other than fast-parsed samples, parsed by serde;
/// `None` for a bad value or a repeated member (serde's error to report).
fn member(raw: &mut RawSeries, key: &[u8], v: &[u8], seen: [&mut bool; 3]) -> Option<()> {
    let [metric, values, value] = seen;
    match key {
        b"metric" if !std::mem::replace(metric, true) => {
            raw.metric = serde_json::from_slice::<BTreeMap<String, String>>(v).ok()?;
        }
        b"values" if !std::mem::replace(values, true) => {
            raw.values = serde_json::from_slice(v).ok()?;
        }
        b"value" if !std::mem::replace(value, true) => {
            raw.value = serde_json::from_slice::<Option<Point>>(v).ok()?;
        }
        b"metric" | b"values" | b"value" => return None,
        _ => {
            serde_json::from_slice::<serde::de::IgnoredAny>(v).ok()?;
        }
    }
    Some(())
}

/// One series object, or `None` when serde should parse it.
pub(crate) fn series(b: &[u8]) -> Option<RawSeries> {
    let mut raw = RawSeries::default();
    let (mut metric, mut values, mut value) = (false, false, false);
    let mut i = expect(b, ws(b, 0), b'{')?;
    i = ws(b, i);
    if b.get(i) == Some(&b'}') {
        return (ws(b, i + 1) == b.len()).then_some(raw);
    }
    loop {
        i = expect(b, i, b'"')?;
        let key_end = i + b[i..].iter().position(|&c| c == b'"' || c == b'\\')?;
        if b[key_end] != b'"' {
            return None;
        }
        let key = &b[i..key_end];
        i = ws(b, expect(b, ws(b, key_end + 1), b':')?);
        let fast = if key == b"values" && !values {
            samples_at(b, i)
        } else {
            None
        };
        let end = match fast {
            Some((s, end)) => {
                raw.values = Points(s);
                values = true;
                end
            }
            None => {
                let end = value_end(b, i)?;
                member(
                    &mut raw,
                    key,
                    &b[i..end],
                    [&mut metric, &mut values, &mut value],
                )?;
                end
            }
        };
        i = ws(b, end);
        match b.get(i) {
            Some(b',') => i = ws(b, i + 1),
            Some(b'}') => return (ws(b, i + 1) == b.len()).then_some(raw),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde(doc: &str) -> Option<RawSeries> {
        serde_json::from_str(doc).ok()
    }

    #[test]
    fn takes_the_common_shape_and_agrees_with_serde() {
        let docs = [
            r#"{"metric":{"service":"a","x":"\"q\""},"values":[[1700000000,"1.5"],[1700000060,"NaN"],[-3,"+Inf"]]}"#,
            r#" { "values" : [ [ 1 , "2e3" ] , [2,"-0.5"] ] , "metric" : { } , "extra" : [1,{"a":null}] } "#,
            r#"{"metric":{},"values":[]}"#,
            r#"{"metric":{},"value":[5,"7"]}"#,
            r#"{}"#,
        ];
        for doc in docs {
            let fast = series(doc.as_bytes());
            assert!(fast.is_some(), "{doc}");
            assert_eq!(format!("{fast:?}"), format!("{:?}", serde(doc)), "{doc}");
        }
        let s = samples(br#"[[1,"1"],[2,"2"]]"#).expect("samples");
        assert_eq!(s, [(1, 1.0), (2, 2.0)]);
    }

    #[test]
    fn leaves_everything_else_to_serde() {
        for values in [
            r#"[[1.5,"1"]]"#,
            r#"[[1,"1\u0030"]]"#,
            r#"[[01,"1"]]"#,
            r#"[[1,"x"]]"#,
            r#"[[1,"1"],]"#,
            r#"[[1,"1"]"#,
            r#"[[12345678901234,"1"]]"#,
            r#"[[1,"1",2]]"#,
        ] {
            assert!(samples(values.as_bytes()).is_none(), "{values}");
            let doc = format!(r#"{{"metric":{{}},"values":{values}}}"#);
            let fast = series(doc.as_bytes());
            assert_eq!(format!("{fast:?}"), format!("{:?}", serde(&doc)), "{doc}");
        }
        for doc in [
            r#"{"metric":{},"metric":{}}"#,
            r#"{"metric":{},"values":[[1,"1"]]"#,
            r#"{"metric":{},"values":[[1,"1"]]}x"#,
            r#"{"metric":{"a":1}}"#,
            r#"{"m\u0065tric":{}}"#,
        ] {
            assert!(series(doc.as_bytes()).is_none(), "{doc}");
        }
    }
}
