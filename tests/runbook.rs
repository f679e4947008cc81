//! docs/runbook.md's jq queries, run with the real `jq` against the demo's
//! artifacts: each must succeed and answer something other than null.

use std::path::Path;
use std::process::Command;

#[path = "support/cli/mod.rs"]
mod support;

const MARK: &str = "<!-- checked -->";

/// The `jq` command lines of the runbook's checked blocks, and how many `jq`
/// lines the whole page has (every one must be checked).
fn runbook_queries() -> (Vec<String>, usize) {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/runbook.md")).unwrap();
    let mut queries = Vec::new();
    let mut marked = false;
    let mut in_block = false;
    let mut all = 0;
    for line in doc.lines() {
        let t = line.trim();
        if t == MARK {
            marked = true;
        } else if t.starts_with("```") {
            in_block = !in_block && t == "```bash" && marked;
            marked = false;
        } else if t.starts_with("jq ") {
            all += 1;
            if in_block {
                queries.push(t.to_string());
            }
        }
    }
    (queries, all)
}

/// Splits a shell line into words: single quotes group, as in the runbook.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            _ => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// Runs one runbook line in `dir`; panics with the query on any failure.
fn check(dir: &Path, line: &str) {
    let words = shell_words(line);
    assert_eq!(words[0], "jq", "{line}");
    let filter = words.iter().skip(1).find(|w| !w.starts_with('-')).unwrap();
    let out = Command::new("jq")
        .arg("-c")
        .args(&words[1..])
        .current_dir(dir)
        .output()
        .expect("jq is installed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{line}: {stderr}");
    assert!(stderr.is_empty(), "{line}: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.trim().is_empty(), "{line}: no answer");
    for answer in stdout.lines() {
        assert_ne!(answer.trim(), "null", "{line}: null");
        // An object the query builds must not have a null field: that is a
        // path the artifacts do not have (the old `.summary.…` query).
        if filter.contains('{') {
            if let Ok(serde_json::Value::Object(o)) = serde_json::from_str(answer) {
                for (k, v) in &o {
                    assert!(!v.is_null(), "{line}: `{k}` is null in {answer}");
                }
            }
        }
    }
}

#[test]
fn every_runbook_query_answers_on_the_demo() {
    let (queries, all) = runbook_queries();
    assert!(queries.len() >= 10, "found only {queries:?}");
    assert_eq!(
        queries.len(),
        all,
        "a jq query in docs/runbook.md is outside a block marked {MARK}"
    );
    let dir = support::demo();
    for q in &queries {
        check(dir, q);
    }
}

#[test]
fn the_status_aware_drift_query_leaves_out_what_tars_judged_ok() {
    let (queries, _) = runbook_queries();
    let run = |needle: &str| {
        let q = queries.iter().find(|q| q.contains(needle)).unwrap();
        let out = Command::new("jq")
            .arg("-c")
            .args(&shell_words(q)[1..])
            .current_dir(support::demo())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let seeds = run("select(.drift_percent > 30)");
    let judged = run("select(.status ==");
    assert!(seeds.contains("\"status\":\"ok\""), "{seeds}");
    assert!(!judged.contains("\"status\":\"ok\""), "{judged}");
    assert!(
        judged.contains("memory_bytes"),
        "the leak is missing: {judged}"
    );
}

#[test]
fn shell_words_keep_quoted_filters_whole() {
    assert_eq!(
        shell_words("jq -r '.a | \"\\(.b) x\"' f.json"),
        vec!["jq", "-r", ".a | \"\\(.b) x\"", "f.json"]
    );
}
