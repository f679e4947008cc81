//! Typed parsing of Prometheus API answers. Sample values are parsed from
//! their strings straight into `f64` by serde visitors, so a 600 MB
//! `query_range` export never becomes a generic JSON tree or a string per
//! sample.

use std::collections::BTreeMap;
use std::fmt;
use std::io::BufReader;
use std::path::Path;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use tars_core::model::Series;
use tars_core::source::SourceError;

/// A sample value: Prometheus sends `"1.5"`, `"NaN"`, `"+Inf"`; some exports
/// write plain numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Value(pub f64);

pub(crate) fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "+Inf" | "Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok(),
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sample value (a number or a string like \"1.5\" or \"NaN\")")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
                parse_value(s)
                    .map(Value)
                    .ok_or_else(|| E::custom(format!("bad sample value {s:?}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value(v as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// A timestamp in seconds; Prometheus sends floats (`1700000000.123`).
struct Ts(f64);

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Ts;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a unix timestamp in seconds")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ts, E> {
                Ok(Ts(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ts, E> {
                Ok(Ts(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ts, E> {
                Ok(Ts(v as f64))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Ts, E> {
                s.parse::<f64>()
                    .map(Ts)
                    .map_err(|_| E::custom(format!("bad timestamp {s:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

fn to_secs<E: de::Error>(t: f64) -> Result<i64, E> {
    if t.is_finite() && t.abs() < 1e13 {
        Ok(t.round() as i64)
    } else {
        Err(E::custom(format!("timestamp {t} out of range")))
    }
}

/// `[ts, "value"]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point(pub i64, pub f64);

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Point;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a [timestamp, \"value\"] pair")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Point, A::Error> {
                let Ts(t) = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let Value(v) = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(Point(to_secs(t)?, v))
            }
        }
        d.deserialize_seq(V)
    }
}

/// The `values` array of a matrix series.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Points(pub Vec<(i64, f64)>);

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Points;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of [timestamp, \"value\"] pairs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Points, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(Point(t, v)) = seq.next_element()? {
                    out.push((t, v));
                }
                Ok(Points(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// One series of a vector or matrix answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct RawSeries {
    #[serde(default)]
    pub metric: BTreeMap<String, String>,
    /// Matrix answers.
    #[serde(default)]
    pub values: Points,
    /// Vector answers.
    #[serde(default)]
    pub value: Option<Point>,
}

/// An element of `result`: a series, or half of a scalar `[ts, "v"]`.
enum Elem {
    Series(RawSeries),
    Num(f64),
    Str(String),
}

impl<'de> Deserialize<'de> for Elem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Elem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a series object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Elem, A::Error> {
                RawSeries::deserialize(de::value::MapAccessDeserializer::new(map)).map(Elem::Series)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Elem, E> {
                Ok(Elem::Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Elem, E> {
                Ok(Elem::Num(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Elem, E> {
                Ok(Elem::Num(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Elem, E> {
                Ok(Elem::Str(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `data.result`, whatever the result type.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ResultList(pub Vec<RawSeries>);

impl<'de> Deserialize<'de> for ResultList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ResultList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the result array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ResultList, A::Error> {
                let mut series = Vec::new();
                let mut scalar: Vec<Elem> = Vec::new();
                while let Some(e) = seq.next_element::<Elem>()? {
                    match e {
                        Elem::Series(s) => series.push(s),
                        other => scalar.push(other),
                    }
                }
                // A scalar answer is one unlabelled point.
                if let [Elem::Num(t), Elem::Str(v)] = scalar.as_slice() {
                    let v = parse_value(v)
                        .ok_or_else(|| de::Error::custom(format!("bad sample value {v:?}")))?;
                    series.push(RawSeries {
                        value: Some(Point(to_secs(*t)?, v)),
                        ..RawSeries::default()
                    });
                } else if !scalar.is_empty() {
                    return Err(de::Error::custom("result mixes series and scalars"));
                }
                Ok(ResultList(series))
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct Data {
    #[serde(rename = "resultType", default)]
    pub result_type: String,
    #[serde(default)]
    pub result: ResultList,
}

/// The API envelope. Also accepts a bare `data` object or a bare `result`
/// array, which is what some tools export.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Envelope {
    pub status: String,
    pub data: Option<Data>,
    pub error_type: Option<String>,
    pub error: Option<String>,
    pub warnings: Vec<String>,
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Envelope;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Prometheus API answer ({\"status\": ..., \"data\": ...})")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
                let mut env = Envelope::default();
                let mut bare = Data::default();
                let mut saw_bare = false;
                let mut saw_any = false;
                while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    saw_any = true;
                    match k.as_ref() {
                        "status" => env.status = map.next_value()?,
                        "data" => env.data = Some(map.next_value()?),
                        "errorType" => env.error_type = map.next_value()?,
                        "error" => env.error = map.next_value()?,
                        "warnings" => env
                            .warnings
                            .extend(map.next_value::<Option<Vec<String>>>()?.unwrap_or_default()),
                        "resultType" => {
                            saw_bare = true;
                            bare.result_type = map.next_value()?;
                        }
                        "result" => {
                            saw_bare = true;
                            bare.result = map.next_value()?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                if !saw_any {
                    return Err(de::Error::custom("empty object"));
                }
                if env.data.is_none() && saw_bare {
                    env.data = Some(bare);
                }
                if env.status.is_empty() && env.data.is_some() {
                    env.status = "success".into();
                }
                Ok(env)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Envelope, A::Error> {
                let result = ResultList::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Envelope {
                    status: "success".into(),
                    data: Some(Data {
                        result_type: "matrix".into(),
                        result,
                    }),
                    ..Envelope::default()
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `name{a="b",c="d"}`: the compact rendering used when a series lacks the
/// group label.
pub(crate) fn render_labels(metric: &BTreeMap<String, String>) -> String {
    let name = metric.get("__name__").map(String::as_str).unwrap_or("");
    let rest: Vec<String> = metric
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    if rest.is_empty() && !name.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", rest.join(","))
    }
}

/// The service a series belongs to: its group label, else its label set.
pub(crate) fn service_name(metric: &BTreeMap<String, String>, group: &str) -> String {
    match metric.get(group) {
        Some(v) if !v.is_empty() => v.clone(),
        _ => render_labels(metric),
    }
}

/// Reads a saved `query_range` answer (any tool's export of
/// `/api/v1/query_range`) as KPI series. The service of a series is its
/// `service` label, else the compact rendering of its label set; use
/// [`read_query_range_file_grouped`] for another group label.
pub fn read_query_range_file(path: &Path) -> Result<Vec<Series>, SourceError> {
    read_query_range_file_grouped(path, &super::PromConfig::default().group_label)
}

/// [`read_query_range_file`] with the group label given (`[prometheus]
/// group_label`).
pub fn read_query_range_file_grouped(
    path: &Path,
    group_label: &str,
) -> Result<Vec<Series>, SourceError> {
    let file = open_answer(path)?;
    query_range_from_reader(BufReader::with_capacity(1 << 20, file), path, group_label)
}

/// [`read_query_range_file_grouped`] on an answer already in memory (`path`
/// names it in errors): the same parse and checks, without the file.
pub fn query_range_from_bytes(
    bytes: &[u8],
    path: &Path,
    group_label: &str,
) -> Result<Vec<Series>, SourceError> {
    query_range_from_reader(bytes, path, group_label)
}

fn query_range_from_reader(
    reader: impl std::io::Read,
    path: &Path,
    group_label: &str,
) -> Result<Vec<Series>, SourceError> {
    let env: Envelope = serde_json::from_reader(reader)
        .map_err(|e| replay_error(path, format!("not a query_range answer: {e}")))?;
    let data = answer_data(path, env)?;
    Ok(to_series(data.result.0, group_label))
}

pub(crate) fn replay_error(path: &Path, msg: String) -> SourceError {
    SourceError::Replay {
        path: path.display().to_string(),
        msg,
    }
}

/// Opens a saved answer for reading.
pub(crate) fn open_answer(path: &Path) -> Result<std::fs::File, SourceError> {
    let err = |msg: String| replay_error(path, msg);
    // A FIFO would hang the run and a device never end: only regular files.
    // (No size limit: a week of a big fleet is hundreds of MB, and it streams.)
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if !meta.is_file() {
        return Err(err(
            "not a regular file (expected a saved query_range answer)".into(),
        ));
    }
    std::fs::File::open(path).map_err(|e| err(e.to_string()))
}

/// The data of a parsed answer, refused when it is an error or not a range.
pub(crate) fn answer_data(path: &Path, env: Envelope) -> Result<Data, SourceError> {
    let err = |msg: String| replay_error(path, msg);
    if env.status != "success" {
        return Err(err(super::client::one_line(&format!(
            "the saved answer is an error: {} {}",
            env.error_type.unwrap_or_default(),
            env.error.unwrap_or_default()
        ))));
    }
    let data = env
        .data
        .ok_or_else(|| err("the saved answer has no data".into()))?;
    if !matches!(data.result_type.as_str(), "matrix" | "vector" | "") {
        return Err(err(format!(
            "expected a matrix (query_range) answer, found {}",
            data.result_type
        )));
    }
    Ok(data)
}

/// Names series by the group label; a name seen twice (e.g. one series per
/// instance) falls back to the full label set so nothing is merged silently.
pub(crate) fn to_series(raw: Vec<RawSeries>, group_label: &str) -> Vec<Series> {
    let names = service_names(raw.iter().map(|r| &r.metric), group_label);
    raw.into_iter()
        .zip(names)
        .map(|(r, service)| Series {
            service,
            points: r.into_points(),
        })
        .collect()
}

/// The service name of each label set, in order (see [`to_series`]).
pub(crate) fn service_names<'a>(
    metrics: impl Iterator<Item = &'a BTreeMap<String, String>> + Clone,
    group_label: &str,
) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for m in metrics.clone() {
        *seen.entry(service_name(m, group_label)).or_default() += 1;
    }
    metrics
        .map(|m| {
            let name = service_name(m, group_label);
            if seen.get(&name).copied().unwrap_or(0) > 1 {
                render_labels(m)
            } else {
                name
            }
        })
        .collect()
}

impl RawSeries {
    /// The matrix points plus a vector answer's point, in time order.
    pub(crate) fn into_points(self) -> Vec<(i64, f64)> {
        let mut points = self.values.0;
        if let Some(Point(t, v)) = self.value {
            points.push((t, v));
        }
        if !points.windows(2).all(|w| w[0].0 <= w[1].0) {
            points.sort_by_key(|p| p.0);
        }
        points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_matrix_vector_scalar_and_bare_exports() {
        let m = r#"{"status":"success","warnings":["w1"],"data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","service":"a"},"values":[[1700000000,"1"],[1700000060.0,"NaN"],[1700000120,"+Inf"]]},
            {"metric":{"job":"x"},"values":[[1,"2.5e3"]]}]}}"#;
        let e: Envelope = serde_json::from_str(m).unwrap();
        assert_eq!(e.warnings, vec!["w1"]);
        let s = to_series(e.data.unwrap().result.0, "service");
        assert_eq!(s[0].service, "a");
        assert_eq!(s[0].points[0], (1_700_000_000, 1.0));
        assert!(s[0].points[1].1.is_nan());
        assert_eq!(s[0].points[2].1, f64::INFINITY);
        assert_eq!(s[1].service, r#"{job="x"}"#);
        assert_eq!(s[1].points, vec![(1, 2500.0)]);

        let v = r#"{"status":"success","data":{"resultType":"scalar","result":[5.5,"7"]}}"#;
        let e: Envelope = serde_json::from_str(v).unwrap();
        assert_eq!(e.data.unwrap().result.0[0].value, Some(Point(6, 7.0)));

        let bare = r#"{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}"#;
        let e: Envelope = serde_json::from_str(bare).unwrap();
        assert_eq!(e.status, "success");
        let arr = r#"[{"metric":{"service":"b"},"values":[[1,"1"]]}]"#;
        let e: Envelope = serde_json::from_str(arr).unwrap();
        assert_eq!(e.data.unwrap().result.0.len(), 1);

        let err = r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        let e: Envelope = serde_json::from_str(err).unwrap();
        assert_eq!(e.error.as_deref(), Some("parse error"));

        for bad in [
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}"#,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1]]}]}}"#,
            "<html>",
            "{}",
        ] {
            assert!(serde_json::from_str::<Envelope>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn duplicate_group_values_keep_their_label_sets() {
        let m = r#"[{"metric":{"service":"a","instance":"1"},"values":[]},
                    {"metric":{"service":"a","instance":"2"},"values":[]}]"#;
        let e: Envelope = serde_json::from_str(m).unwrap();
        let s = to_series(e.data.unwrap().result.0, "service");
        assert_eq!(s[0].service, r#"{instance="1",service="a"}"#);
    }
}
