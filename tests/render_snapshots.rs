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
