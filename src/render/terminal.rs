//! Terminal renderer: the short summaries the commands print for a person.
//!
//! Each function takes the report value a stage returned (and the paths it
//! wrote) and returns the text; the command line decides whether it is
//! printed, replaced by JSON, or dropped (`--quiet`). Colour is only ever
//! added to words that also say the same thing, so nothing depends on it.

use std::path::Path;

use comfy_table::{presets, Cell, Color, Table};
use serde::Serialize;

use crate::baseline::GaKpiSummary;
use crate::drift::StabilitySummary;
use crate::health::HealthReport;
use crate::model::{serde_name, Window};
use crate::pipeline::DemoOutcome;
use crate::regression::RegressionSummary;
use crate::retro::Retrospective;

/// What the terminal on the other end can take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Term {
    /// Colour with ANSI escapes.
    pub color: bool,
    /// Draw tables with box lines; a pipe gets aligned plain columns, which
    /// `awk` and `grep` read without stripping line-drawing characters.
    pub tty: bool,
}

/// How good or bad a word is, which picks its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
}

impl Tone {
    fn ansi(self) -> &'static str {
        match self {
            Tone::Good => "32",
            Tone::Warn => "33",
            Tone::Bad => "1;31",
        }
    }

    fn table_color(self) -> Color {
        match self {
            Tone::Good => Color::Green,
            Tone::Warn => Color::Yellow,
            Tone::Bad => Color::Red,
        }
    }
}

impl Term {
    /// `text` in the colour of `tone` when colour is on.
    pub fn paint(&self, text: &str, tone: Tone) -> String {
        if self.color {
            format!("\x1b[{}m{text}\x1b[0m", tone.ansi())
        } else {
            text.to_string()
        }
    }

    fn yes_no(&self, rollback: bool) -> String {
        if rollback {
            self.paint("YES", Tone::Bad)
        } else {
            "no".to_string()
        }
    }
}

/// The tone of a health band or verdict name (`excellent` .. `poor`,
/// `healthy`, `drifting`, `rollback`).
pub fn tone_of(status: &str) -> Tone {
    match status {
        "excellent" | "good" | "healthy" => Tone::Good,
        "fair" | "drifting" => Tone::Warn,
        _ => Tone::Bad,
    }
}

/// One pass of the anomaly detector: what it read and what it found. It is
/// also the `--json` object, so both summaries say the same.
#[derive(Debug, Serialize)]
pub struct AnomalyPass<'a> {
    /// `anomaly-detector`.
    pub command: &'static str,
    /// The file analysed, when not a metrics source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<&'a Path>,
    /// The events file.
    pub artifact: &'a Path,
    pub window: Window,
    pub series_evaluated: usize,
    pub points_evaluated: usize,
    pub incidents_in_window: usize,
    pub incidents_total: usize,
}

pub fn anomaly_pass(p: &AnomalyPass) -> String {
    let from = match p.input {
        Some(input) => format!("from {}", input.display()),
        None => format!("over {} .. {}", p.window.start, p.window.end),
    };
    format!(
        "Evaluated {} series ({} points) {from}: {} incident(s) in the window, {} in {}.\n",
        p.series_evaluated,
        p.points_evaluated,
        p.incidents_in_window,
        p.incidents_total,
        p.artifact.display()
    )
}

/// A labelled CSV scored row by row (`--input X.csv --scores-csv Y.csv`).
pub fn anomaly_scores(input: &Path, scores: &Path, rows: usize) -> String {
    format!(
        "Scored {rows} rows of {} into {}.\n",
        input.display(),
        scores.display()
    )
}

pub fn ga_kpi(path: &Path, s: &GaKpiSummary) -> String {
    format!(
        "GA baseline written to {}: availability {:.3} %, error rate {:.3} %, p99 {:.1} ms over {} services.\n",
        path.display(),
        s.summary.overall_availability,
        s.summary.error_rate,
        s.summary.p99_latency_ms,
        s.summary.services.len()
    )
}

pub fn stability(t: &Term, path: &Path, s: &StabilitySummary) -> String {
    let rb = &s.rollback_recommendation;
    let mut out = format!(
        "Day {} summary written to {}: {} of {} KPIs drifted, rollback recommended: {}.\n",
        s.day_number,
        path.display(),
        s.drift_analysis.drifted_metrics,
        s.drift_analysis.total_metrics,
        t.yes_no(rb.recommended)
    );
    for r in &rb.reasons {
        out.push_str(&format!("  {}: {r}\n", t.paint("rollback", Tone::Bad)));
    }
    out
}

pub fn health(t: &Term, path: &Path, h: &HealthReport) -> String {
    let status = serde_name(&h.status);
    format!(
        "Day {} health {:.1} ({}) written to {} and {}: {} degradation(s), rollback recommended: {}.\n",
        h.day_number,
        h.health_score,
        t.paint(&status, tone_of(&status)),
        path.display(),
        path.with_extension("html").display(),
        h.degradations.len(),
        t.yes_no(h.rollback_recommendation.recommended)
    )
}

pub fn regression(t: &Term, path: &Path, r: &RegressionSummary) -> String {
    let mut out = format!(
        "Regression summary written to {}: {} regression(s), {} transient issue(s), rollback recommended: {}.\n",
        path.display(),
        r.regressions.len(),
        r.transient_issues.len(),
        t.yes_no(r.rollback_recommendation.recommended)
    );
    for x in &r.regressions {
        out.push_str(&format!("  {}\n", x.explanation));
    }
    out
}

pub fn retro(t: &Term, files: [&Path; 3], r: &Retrospective) -> String {
    let verdict = serde_name(&r.executive_summary.verdict);
    format!(
        "{} {}\nRetrospective: {}, {} and {}\n",
        t.paint(&verdict.to_uppercase(), tone_of(&verdict)),
        r.executive_summary.headline,
        files[0].display(),
        files[1].display(),
        files[2].display()
    )
}

/// The demo's week: a table of days, then the verdict and where the report is.
/// `title` names the simulated release.
pub fn demo(t: &Term, title: &str, o: &DemoOutcome, data_dir: &Path) -> String {
    let mut table = Table::new();
    if t.tty {
        table.load_preset(presets::UTF8_FULL_CONDENSED);
    } else {
        table.load_preset(presets::NOTHING);
    }
    // comfy-table decides on colour by itself from the terminal; the choice
    // made from --color and NO_COLOR wins.
    if t.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(vec![
        "day",
        "health",
        "status",
        "degradations",
        "worst",
        "rollback",
    ]);
    for d in &o.days {
        let tone = tone_of(&d.status);
        let rollback = if d.rollback {
            Cell::new("YES").fg(Tone::Bad.table_color())
        } else {
            Cell::new("no")
        };
        table.add_row(vec![
            Cell::new(d.day),
            Cell::new(format!("{:.1}", d.health_score)),
            Cell::new(&d.status).fg(tone.table_color()),
            Cell::new(d.degradations),
            Cell::new(d.worst.as_deref().unwrap_or("-")),
            rollback,
        ]);
    }
    format!(
        "{title}:\n{table}\n{} anomaly incident(s), {} regression(s) on day 7; verdict: {}.\nReport: {}\n        {}\n        {}\nAll artifacts under {}.\n",
        o.anomaly_incidents,
        o.regressions,
        t.paint(&o.verdict.to_uppercase(), tone_of(&o.verdict)),
        o.report_html.display(),
        o.report_md.display(),
        o.report_json.display(),
        data_dir.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_adds_escapes_only_with_colour() {
        let on = Term {
            color: true,
            tty: true,
        };
        let off = Term::default();
        assert_eq!(off.paint("poor", Tone::Bad), "poor");
        let painted = on.paint("poor", Tone::Bad);
        assert!(painted.starts_with("\x1b[") && painted.contains("poor"));
    }

    #[test]
    fn bands_and_verdicts_have_tones() {
        assert_eq!(tone_of("excellent"), Tone::Good);
        assert_eq!(tone_of("healthy"), Tone::Good);
        assert_eq!(tone_of("fair"), Tone::Warn);
        assert_eq!(tone_of("drifting"), Tone::Warn);
        assert_eq!(tone_of("poor"), Tone::Bad);
        assert_eq!(tone_of("rollback"), Tone::Bad);
    }
}
