//! Snapshots of what people read: the retrospective's Markdown for the
//! simulated weeks. A change to a sentence, a table or a number shows up as a
//! reviewable diff (`cargo insta review`), not as a silent drift.

use chrono::{DateTime, Utc};
use tars::config::Config;
use tars::pipeline::{self, layout};
use tars::source::sim::parse_spec;

fn markdown(spec: &str) -> String {
    let ga: DateTime<Utc> = "2025-11-18T00:00:00Z".parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sim = parse_spec(spec).unwrap().build(ga);
    pipeline::run_all(&sim, ga, dir.path(), &Config::default()).unwrap();
    std::fs::read_to_string(dir.path().join(layout::OUTPUT_DIR).join(layout::RETRO_MD)).unwrap()
}

#[test]
fn retrospective_markdown_of_the_regressions_week() {
    insta::assert_snapshot!(markdown("sim:regressions"));
}

#[test]
fn retrospective_markdown_of_a_healthy_week_on_a_fleet_at_its_slos() {
    insta::assert_snapshot!(markdown("sim:realistic"));
}

/// The terminal summaries of the regressions week, with the data directory
/// written as `DATA` so the snapshot does not depend on where it ran.
fn terminal(term: tars::render::terminal::Term) -> String {
    use tars::render::terminal as t;
    let ga: DateTime<Utc> = "2025-11-18T00:00:00Z".parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sim = parse_spec("sim:regressions").unwrap().build(ga);
    let o = pipeline::run_all(&sim, ga, d, &Config::default()).unwrap();
    let read = |p: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let ga_path = d.join(layout::GA_DIR).join(layout::GA_FILE);
    let day5 = d.join(layout::STABILITY_DIR).join(layout::day_summary(5));
    let health5 = d.join(layout::HEALTH_DIR).join(layout::day_health(5));
    let reg = d.join(layout::REGRESSION_DIR).join(layout::REGRESSION_FILE);
    let out = d.join(layout::OUTPUT_DIR);
    let mut text = String::new();
    text += &t::ga_kpi(
        &ga_path,
        &serde_json::from_value(read(ga_path.clone())).unwrap(),
    );
    text += &t::stability(
        &term,
        &day5,
        &serde_json::from_value(read(day5.clone())).unwrap(),
    );
    text += &t::health(
        &term,
        &health5,
        &serde_json::from_value(read(health5.clone())).unwrap(),
    );
    text += &t::regression(
        &term,
        &reg,
        &serde_json::from_value(read(reg.clone())).unwrap(),
    );
    let retro = serde_json::from_value(read(out.join(layout::RETRO_JSON))).unwrap();
    let files = [
        out.join(layout::RETRO_MD),
        out.join(layout::RETRO_JSON),
        out.join(layout::RETRO_HTML),
    ];
    text += &t::retro(&term, [&files[0], &files[1], &files[2]], &retro);
    text += &t::demo(&term, "Simulated release 'regressions'", &o, d);
    text.replace(&d.display().to_string(), "DATA")
}

#[test]
fn terminal_summaries_in_a_pipe() {
    insta::assert_snapshot!(terminal(tars::render::terminal::Term {
        color: false,
        tty: false
    }));
}

#[test]
fn terminal_summaries_on_a_colour_terminal() {
    insta::assert_snapshot!(terminal(tars::render::terminal::Term {
        color: true,
        tty: true
    }));
}
