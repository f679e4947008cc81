//! The floor `tars anomaly-detector --input` is measured against (issue 16):
//! the simplest streaming serde_json program that parses every label and
//! value of a `query_range` answer and runs one EWMA pass per series, one
//! series in memory at a time, on one thread. Values are parsed from their
//! strings without allocating, so the floor is not a straw man.
//!
//!   cargo bench --bench floor -- FILE.json
//!   /usr/bin/time -v target/release/deps/floor-HASH FILE.json
//!
//! Write FILE.json with `cargo bench --bench stream_input -- gen FILE.json`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::BufReader;
use std::time::Instant;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// What the pass computes: enough to keep the optimiser from dropping it.
#[derive(Default)]
struct Totals {
    series: usize,
    points: usize,
    /// Sum of each series' final EWMA.
    ewma_sum: f64,
}

/// One `[ts, "value"]` pair.
struct Sample(f64);

impl<'de> Deserialize<'de> for Sample {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Sample;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("[ts, \"value\"]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Sample, A::Error> {
                let _ts: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let v: Str = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                Ok(Sample(v.0))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A value string parsed in place (serde_json hands a borrowed `&str`).
struct Str(f64);

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Str, E> {
                s.parse().map(Str).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Deserialize)]
struct Series {
    #[allow(dead_code)]
    metric: BTreeMap<String, String>,
    values: Vec<Sample>,
}

/// `result`: each series is parsed, passed over once and dropped.
struct ResultSeed<'a>(&'a mut Totals);

impl<'de> DeserializeSeed<'de> for ResultSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ResultSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the result array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(s) = seq.next_element::<Series>()? {
            let mut ewma = s.values.first().map_or(0.0, |v| v.0);
            for v in &s.values {
                ewma += 0.1 * (v.0 - ewma);
            }
            self.0.series += 1;
            self.0.points += s.values.len();
            self.0.ewma_sum += ewma;
        }
        Ok(())
    }
}

/// An object whose `result` (at any depth, through `data`) is streamed.
struct ObjectSeed<'a>(&'a mut Totals);

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a query_range answer")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "data" => map.next_value_seed(ObjectSeed(&mut *self.0))?,
                "result" => map.next_value_seed(ResultSeed(&mut *self.0))?,
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: floor FILE.json (a query_range answer)");
        std::process::exit(2);
    };
    let t0 = Instant::now();
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    let mut totals = Totals::default();
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, file));
    if let Err(e) = ObjectSeed(&mut totals).deserialize(&mut de) {
        eprintln!("{path}: {e}");
        std::process::exit(1);
    }
    println!(
        "floor: {} series, {} points, EWMA sum {:.3}: {:.2} s",
        totals.series,
        totals.points,
        totals.ewma_sum,
        t0.elapsed().as_secs_f64()
    );
}
