//! The catalogue's table: the files, the commands that read each, the
//! mutations every file gets and the cases they make.

use std::path::Path;

use serde_json::{json, Value};

use super::special::{config_cases, specific_cases, week_cases};

pub(crate) const GA_FILE: &str = "ga_kpis/ga_kpi_summary.json";
pub(crate) const DAY_FILE: &str = "stability/day_03_summary.json";
pub(crate) const HEALTH_FILE: &str = "health/day_03_HEALTH.json";
pub(crate) const REG_FILE: &str = "regression/regression_summary.json";
pub(crate) const EVENTS_FILE: &str = "anomalies/anomaly_events.json";
pub(crate) const CONFIG_FILE: &str = "tars.toml";

/// How a case breaks the data directory before the run.
pub(crate) enum Mutation {
    /// The file's bytes replaced.
    Bytes(Vec<u8>),
    /// The file's text edited.
    Text(Box<dyn Fn(&str) -> String>),
    /// The file's JSON edited and written back.
    Json(Box<dyn Fn(&mut Value)>),
    /// A FIFO in place of the file (reading it would hang).
    Fifo,
    /// A directory in place of the file.
    Dir,
    /// A symbolic link to /dev/zero in place of the file.
    DevZero,
    /// The file removed.
    Remove,
    /// Anything else, on the data directory.
    Tree(Box<dyn Fn(&Path)>),
}

pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) file: &'static str,
    pub(crate) mutation: std::rc::Rc<Mutation>,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(&'static str, &'static str)>,
    pub(crate) code: i32,
    /// What stderr must contain: the file named (`NAME: `) and the rule's
    /// fragment, or one fragment naming both.
    pub(crate) needles: Vec<String>,
}

/// The commands that read `file`, with `{D}` for the data directory.
pub(crate) fn readers(file: &str) -> Vec<Vec<&'static str>> {
    let stability = vec!["stability-monitor", "--source", "sim", "--day-number", "2"];
    let regression = vec!["regression-analyzer"];
    let retro = vec!["retro", "--auto"];
    let health = vec!["health-report", "--day-number", "3"];
    let anomaly = vec![
        "anomaly-detector",
        "--once",
        "--source",
        "sim",
        "--baseline",
        "{D}/ga_kpis/ga_kpi_summary.json",
        "--since",
        "2025-11-19T00:00:00Z",
        "--until",
        "2025-11-19T01:00:00Z",
    ];
    match file {
        GA_FILE => vec![stability, regression, retro, anomaly],
        DAY_FILE => vec![health, regression, retro],
        HEALTH_FILE | REG_FILE => vec![retro],
        EVENTS_FILE => vec![health, retro, anomaly],
        CONFIG_FILE => vec![retro, health, stability],
        _ => vec![],
    }
}

pub(crate) fn text(f: impl Fn(&str) -> String + 'static) -> Mutation {
    Mutation::Text(Box::new(f))
}

pub(crate) fn edit(f: impl Fn(&mut Value) + 'static) -> Mutation {
    Mutation::Json(Box::new(f))
}

/// Sets the field at JSON pointer `ptr` (which must exist) to `v`.
pub(crate) fn set(ptr: &'static str, v: Value) -> Mutation {
    edit(move |doc| *doc.pointer_mut(ptr).unwrap_or_else(|| panic!("{ptr}")) = v.clone())
}

/// Removes the field `key` of the object at `ptr`.
pub(crate) fn remove(ptr: &'static str, key: &'static str) -> Mutation {
    edit(move |doc| {
        doc.pointer_mut(ptr)
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("{ptr}"))
            .remove(key)
            .unwrap_or_else(|| panic!("{ptr}/{key}"));
    })
}

/// The first `"key": <number>` of the text with the number replaced by `token`.
pub(crate) fn number_token(key: &'static str, token: &'static str) -> Mutation {
    text(move |s| {
        let at = format!("\"{key}\": ");
        let i = s.find(&at).unwrap_or_else(|| panic!("{key}")) + at.len();
        let end = i + s[i..].find([',', '\n', '}']).unwrap();
        format!("{}{token}{}", &s[..i], &s[end..])
    })
}

/// Mutations every JSON file gets, with the fragment each must produce.
#[rustfmt::skip]
pub(crate) fn common_mutations(array: bool) -> Vec<(&'static str, Mutation, &'static str)> {
    let wrong_shape = if array {
        json!({"a": 1})
    } else {
        json!([1, 2])
    };
    let mut deep = String::new();
    for _ in 0..200 {
        deep.push('[');
    }
    vec![
        ("empty", Mutation::Bytes(vec![]), "file is empty"),
        ("blank", Mutation::Bytes(b" \n\t\n".to_vec()), "file is empty"),
        ("not json", Mutation::Bytes(b"hello, world".to_vec()), "not valid JSON"),
        ("binary", Mutation::Bytes(vec![0, 159, 146, 150, 255]), "not valid JSON"),
        ("utf-8 bom", text(|s| format!("\u{feff}{s}")), "not valid JSON"),
        ("truncated half", text(|s| s[..s.len() / 2].to_string()), "not valid JSON"),
        ("truncated last byte", text(|s| s.trim_end()[..s.trim_end().len() - 1].to_string()), "not valid JSON"),
        ("trailing garbage", text(|s| format!("{s}}}")), "not valid JSON: trailing characters"),
        ("two documents", text(|s| format!("{s}{s}")), "not valid JSON: trailing characters"),
        ("recursion bomb", Mutation::Bytes(deep.into_bytes()), "not valid JSON: recursion limit exceeded"),
        ("null", Mutation::Bytes(b"null".to_vec()), "not a valid"),
        ("a number", Mutation::Bytes(b"42".to_vec()), "not a valid"),
        ("a string", Mutation::Bytes(b"\"ga\"".to_vec()), "not a valid"),
        ("wrong shape", Mutation::Bytes(wrong_shape.to_string().into_bytes()), "not a valid"),
        ("wrapped in an object", edit(|v| *v = json!({ "data": v.clone() })), "not a valid"),
        ("wrapped in an array", edit(|v| *v = json!([v.clone()])), "not a valid"),
        ("a directory", Mutation::Dir, "a directory"),
        ("a fifo", Mutation::Fifo, "not a regular file"),
        ("a link to /dev/zero", Mutation::DevZero, "not a regular file"),
    ]
}

/// Mutations of an artifact with the metadata block.
#[rustfmt::skip]
pub(crate) fn meta_mutations(kind: &'static str) -> Vec<(&'static str, Mutation, String)> {
    let wrong = if kind == "ga_kpi_summary" {
        "stability_summary"
    } else {
        "ga_kpi_summary"
    };
    vec![
        ("schema_version 99", set("/schema_version", json!(99)), "unsupported schema_version 99".into()),
        ("schema_version 1", set("/schema_version", json!(1)), "unsupported schema_version 1".into()),
        ("schema_version string", set("/schema_version", json!("2")), "unsupported schema_version \"2\"".into()),
        ("schema_version negative", set("/schema_version", json!(-2)), "unsupported schema_version -2".into()),
        ("wrong kind", set("/kind", json!(wrong)), format!("field `kind`: is \"{wrong}\", expected \"{kind}\"")),
        ("unknown kind", set("/kind", json!("weekly")), format!("field `kind`: is \"weekly\", expected \"{kind}\"")),
        ("kind missing", remove("", "kind"), "missing field `kind`".into()),
        ("kind a number", set("/kind", json!(7)), "invalid type: integer `7`, expected a string".into()),
        ("window missing", remove("", "window"), "missing field `window`".into()),
        ("window end before start", set("/window/end", json!("2025-11-01T00:00:00Z")), "field `window.end`".into()),
        ("window in 2099", set("/window/end", json!("2099-01-01T00:00:00Z")), "field `window.end`: 2099-01-01T00:00:00+00:00 is in the future".into()),
        ("window in 1970", set("/window/start", json!("1970-01-01T00:00:00Z")), "field `window.start`: 1970-01-01T00:00:00+00:00 is before 2000".into()),
        ("generated in 2099", set("/generated_at", json!("2099-01-01T00:00:00Z")), "field `generated_at`: 2099-01-01T00:00:00+00:00 is in the future".into()),
        ("generated_at not a time", set("/generated_at", json!("yesterday")), "not a valid".into()),
        ("source empty", set("/source", json!("")), "field `source`: is empty".into()),
    ]
}

/// Mutations of the KPI body a baseline and a day share.
#[rustfmt::skip]
pub(crate) fn kpi_mutations() -> Vec<(&'static str, Mutation, &'static str)> {
    vec![
        ("availability 100.5", set("/overall_availability", json!(100.5)), "field `availability`: 100.5 is out of range (must be 0 to 100 %)"),
        ("availability negative", set("/overall_availability", json!(-1.0)), "field `availability`: -1 is out of range"),
        ("error rate 250", set("/error_rate", json!(250.0)), "field `error_rate`: 250 is out of range"),
        ("p99 1e308", set("/p99_latency_ms", json!(1e308)), "field `p99_latency_ms`: 1e308 is out of range"),
        ("p50 negative", set("/p50_latency_ms", json!(-3.5)), "field `p50_latency_ms`: -3.5 is out of range"),
        ("memory negative", set("/memory_bytes", json!(-1.0)), "field `memory_bytes`: -1 is out of range"),
        ("service p99 1e308", set("/services/0/kpis/p99_latency_ms", json!(1e308)), "field `services[0].kpis.p99_latency_ms`: 1e308 is out of range"),
        ("service error rate negative", set("/services/1/kpis/error_rate", json!(-0.5)), "field `services[1].kpis.error_rate`: -0.5 is out of range"),
        ("sample negative", set("/services/0/samples/p95_latency_ms/3", json!(-7.0)), "field `services[0].samples.p95_latency_ms[3]`: -7 is out of range"),
        ("service cost negative", set("/services/2/cost_per_day_usd", json!(-1.0)), "field `services[2].cost_per_day_usd`: -1 is out of range"),
        ("fleet cost 1e300", set("/cost_per_day_usd", json!(1e300)), "field `cost_per_day_usd`: 1e300 is out of range"),
        ("service name empty", set("/services/1/service", json!("")), "field `services[1].service`: \"\" is not a service name"),
        ("service twice", edit(|v| { let s = v["services"][0].clone(); v["services"].as_array_mut().unwrap().push(s); }), "appears twice"),
        ("p99 NaN token", number_token("p99_latency_ms", "NaN"), "not valid JSON"),
        ("availability Infinity token", number_token("overall_availability", "Infinity"), "not valid JSON"),
        ("error rate -Infinity token", number_token("error_rate", "-Infinity"), "not valid JSON"),
        ("p99 1e400", number_token("p99_latency_ms", "1e400"), "not valid JSON"),
        ("p99 \"NaN\" string", set("/p99_latency_ms", json!("NaN")), "invalid type: string \"NaN\", expected f64"),
        ("p99 \"Infinity\" string", set("/services/0/kpis/p99_latency_ms", json!("Infinity")), "invalid type: string \"Infinity\", expected f64"),
        ("p99 null", set("/p99_latency_ms", Value::Null), "invalid type: null, expected f64"),
        ("unknown KPI", edit(|v| { v["services"][0]["kpis"]["apdex"] = json!(0.9); }), "unknown variant `apdex`"),
        ("services missing", remove("", "services"), "missing field `services`"),
        ("p99 missing", remove("", "p99_latency_ms"), "missing field `p99_latency_ms`"),
        ("services an object", set("/services", json!({"a": 1})), "invalid type: map, expected a sequence"),
    ]
}

pub(crate) fn case(
    file: &'static str,
    name: &str,
    m: Mutation,
    needles: &[String],
    code: i32,
) -> Vec<Case> {
    let m = std::rc::Rc::new(m);
    readers(file)
        .into_iter()
        .map(|args| Case {
            name: format!("{file} {name}: {}", args[0]),
            file,
            mutation: m.clone(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: vec![],
            code,
            needles: needles.to_vec(),
        })
        .collect()
}

/// The file's name as a message starts with it, and the fragment.
pub(crate) fn at(file: &str, needle: &str) -> Vec<String> {
    let name = Path::new(file).file_name().unwrap().to_string_lossy();
    vec![format!("{name}: "), needle.to_string()]
}

pub(crate) fn artifact_cases() -> Vec<Case> {
    let mut out = Vec::new();
    let files = [
        (GA_FILE, Some("ga_kpi_summary")),
        (DAY_FILE, Some("stability_summary")),
        (HEALTH_FILE, Some("health_report")),
        (REG_FILE, Some("regression_summary")),
        (EVENTS_FILE, None),
    ];
    for (file, kind) in files {
        for (name, m, needle) in common_mutations(kind.is_none()) {
            out.extend(case(file, name, m, &at(file, needle), 1));
        }
        if let Some(kind) = kind {
            for (name, m, needle) in meta_mutations(kind) {
                out.extend(case(file, name, m, &at(file, &needle), 1));
            }
        }
        if matches!(file, GA_FILE | DAY_FILE) {
            for (name, m, needle) in kpi_mutations() {
                out.extend(case(file, name, m, &at(file, needle), 1));
            }
        }
        // Over the input limit, and a file that is not there.
        // (Every demo artifact is far under the limit set.)
        let mut big = case(
            file,
            "over TARS_MAX_INPUT_BYTES",
            Mutation::Bytes(vec![b' '; 1_000_001]),
            &at(file, "1000001 bytes, over the limit of 1000000"),
            1,
        );
        big.iter_mut()
            .for_each(|c| c.env.push(("TARS_MAX_INPUT_BYTES", "1000000")));
        out.extend(big);
        // A missing health report, regression summary or events file is
        // not an error (the retrospective says so, or computes it).
        // A missing day in a week: see `week_cases`.
        let mut missing = case(file, "missing", Mutation::Remove, &at(file, "not found"), 1);
        missing.retain(|c| file == GA_FILE || (file == DAY_FILE && c.args[0] == "health-report"));
        out.extend(missing);
    }
    out
}

pub(crate) fn all_cases() -> Vec<Case> {
    let mut all = artifact_cases();
    all.extend(specific_cases());
    all.extend(week_cases());
    all.extend(config_cases());
    all
}
