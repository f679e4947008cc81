//! What the week's and the day's pages share: the chart value the template
//! lays out, health bands, display units, and the anomaly timeline.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::svg::{self, esc, marker, palette, severity_style, Frame, Scale, Svg};
use crate::health::HealthStatus;
use crate::model::{Kpi, Severity};
use tars_core::thresholds::Thresholds;

/// One chart with its text alternative: the template shows `svg` in a
/// `<figure>` and `rows` as a table in a `<details>`.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    /// How to read it: what the shapes, lines and bands mean.
    pub caption: String,
    pub svg: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Chart {
    /// A chart with its table's columns and nothing drawn yet.
    pub fn new(id: &str, title: &str, caption: &str, columns: &[&str]) -> Chart {
        Chart {
            id: id.to_string(),
            title: title.to_string(),
            caption: caption.to_string(),
            svg: String::new(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }
}

/// A number for a table cell: "no data" for NaN, never "NaN".
pub fn cell(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "no data".to_string()
    }
}

/// A signed percentage for a table cell or label.
pub fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{v:+.1} %")
    } else {
        "no data".into()
    }
}

/// The factor and unit a KPI is charted in (memory in MiB, not bytes).
pub fn display_unit(kpi: Kpi) -> (f64, &'static str) {
    match kpi {
        Kpi::MemoryBytes => (1.0 / 1_048_576.0, "MiB"),
        k => (1.0, k.unit()),
    }
}

/// Decimals that show a KPI's day-to-day differences.
pub fn kpi_decimals(kpi: Kpi) -> usize {
    match kpi {
        Kpi::Availability | Kpi::ErrorRate => 3,
        Kpi::CpuCores => 2,
        Kpi::MemoryBytes => 0,
        _ => 1,
    }
}

/// The health bands of `health::status_for`, highest first: status, lower
/// limit, upper limit, tint. The limits come from the thresholds in use.
pub fn health_bands(t: &Thresholds) -> [(HealthStatus, f64, f64, &'static str); 4] {
    [
        (
            HealthStatus::Excellent,
            t.health_excellent,
            100.0,
            "#D5EFE6",
        ),
        (
            HealthStatus::Good,
            t.health_good,
            t.health_excellent,
            "#DCEEF9",
        ),
        (HealthStatus::Fair, t.health_fair, t.health_good, "#FAF6C8"),
        (HealthStatus::Poor, 0.0, t.health_fair, "#F6DCCB"),
    ]
}

/// Marker shape and fill of a health band, so the band reads without colour.
pub fn band_marker(s: HealthStatus) -> (svg::Shape, &'static str) {
    match s {
        HealthStatus::Excellent => (svg::Shape::Circle, palette::GREEN),
        HealthStatus::Good => (svg::Shape::Square, palette::SKY),
        HealthStatus::Fair => (svg::Shape::Triangle, palette::YELLOW),
        HealthStatus::Poor => (svg::Shape::Diamond, palette::VERMILLION),
    }
}

/// Draws the health bands across the plot area and names each in the right
/// margin, where no data point can cover the name.
pub fn draw_bands_y(s: &mut Svg, f: &Frame, y: &Scale, t: &Thresholds) {
    for (status, lo, hi, tint) in health_bands(t) {
        let (a, b) = (y.map_clamped(lo), y.map_clamped(hi));
        s.rect((f.left, a), (f.w - f.right + 4.0, b), tint, "");
        s.text(
            f.w - f.right + 8.0,
            (a + b) / 2.0 + 4.0,
            "start",
            &crate::model::serde_name(&status),
        );
    }
}

/// The legend of severity markers, one line at `(x, y)`.
pub fn severity_legend(s: &mut Svg, x: f64, y: f64) {
    let mut px = x;
    for sev in [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ] {
        let (shape, fill, _) = severity_style(sev);
        s.push(&marker(shape, px, y - 4.0, 5.0, fill));
        let name = sev.to_string();
        s.text(px + 9.0, y, "start", &name);
        px += 24.0 + 10.0 * name.len() as f64;
    }
}

/// One anomaly incident on a timeline: the signals of one service that the
/// detector grouped, from the first start to the last end.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub service: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub severity: Severity,
    pub kpis: Vec<String>,
    /// Every signal is explained by a process restart (not counted as an incident).
    pub restart: bool,
}

/// Height of one service's row on a timeline, pixels.
const ROW: f64 = 36.0;

/// The time axis of a timeline: the span shown, labelled ticks, the label.
#[derive(Debug, Clone)]
pub struct TimeAxis {
    pub span: (DateTime<Utc>, DateTime<Utc>),
    pub ticks: Vec<(DateTime<Utc>, String)>,
    pub label: String,
}

/// Incidents as bars on a time axis, one row per service; severity is the
/// marker's shape and letter, restart-explained ones are hollow and dashed.
pub fn timeline(id: &str, title: &str, axis: &TimeAxis, incidents: &[Incident]) -> Chart {
    let mut services: Vec<&str> = incidents.iter().map(|i| i.service.as_str()).collect();
    services.sort_unstable();
    services.dedup();
    let mut f = Frame::new(640.0, 86.0 + ROW * services.len().max(1) as f64);
    f.left = 120.0;
    f.right = 28.0;
    f.top = 30.0;
    let columns = [
        "start (UTC)",
        "service",
        "severity",
        "signals",
        "minutes",
        "restart",
    ];
    let rows = incidents
        .iter()
        .map(|i| {
            vec![
                i.start.format("%Y-%m-%d %H:%M").to_string(),
                i.service.clone(),
                i.severity.to_string(),
                i.kpis.join(", "),
                format!("{}", (i.end - i.start).num_minutes()),
                if i.restart {
                    "explained by a restart"
                } else {
                    "-"
                }
                .to_string(),
            ]
        })
        .collect();
    let caption = "Each bar is one anomaly incident (signals of one service grouped by the detector); the marker's shape and letter give its severity. Hollow markers (and dashed bars) are explained by a process restart and are not counted as incidents.";
    let svg = if incidents.is_empty() {
        svg::no_data(id, title, &f)
    } else {
        draw_timeline(id, title, &f, axis, &services, incidents)
    };
    Chart {
        id: id.to_string(),
        title: title.to_string(),
        caption: caption.to_string(),
        svg,
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

fn draw_timeline(
    id: &str,
    title: &str,
    f: &Frame,
    axis: &TimeAxis,
    services: &[&str],
    incidents: &[Incident],
) -> String {
    let span = axis.span;
    let secs = |t: DateTime<Utc>| t.timestamp() as f64;
    let x = Scale::new((secs(span.0), secs(span.1)), f.xr());
    let desc = format!(
        "{} incident(s) across {} service(s) between {} and {}.",
        incidents.len(),
        services.len(),
        span.0.format("%Y-%m-%d %H:%M"),
        span.1.format("%Y-%m-%d %H:%M")
    );
    let mut s = Svg::open(id, title, &desc, f);
    severity_legend(&mut s, f.left, 16.0);
    s.push(&marker(
        svg::Shape::Circle,
        f.w - f.right - 150.0,
        12.0,
        5.0,
        "white",
    ));
    s.text(f.w - f.right - 140.0, 16.0, "start", "hollow: restart");
    for (row, name) in services.iter().enumerate() {
        let cy = f.top + ROW / 2.0 + ROW * row as f64;
        s.line((f.left, cy), (f.w - f.right, cy), "#E4E4E4", None);
        s.text(f.left - 8.0, cy + 4.0, "end", name);
    }
    let at: Vec<(f64, String)> = axis
        .ticks
        .iter()
        .map(|(t, l)| (secs(*t), l.clone()))
        .collect();
    for (v, _) in &at {
        let px = x.map(*v);
        s.line((px, f.top), (px, f.h - f.bottom), "#E4E4E4", None);
    }
    svg::x_axis(&mut s, f, &x, &at, &axis.label);
    for i in incidents {
        let row = services.iter().position(|n| *n == i.service).unwrap_or(0);
        let cy = f.top + ROW / 2.0 + ROW * row as f64;
        let x0 = x.map_clamped(secs(i.start));
        let x1 = x.map_clamped(secs(i.end)).max(x0 + 3.0);
        let (shape, fill, letter) = severity_style(i.severity);
        let style = if i.restart {
            format!(r#"stroke="{}" stroke-dasharray="3 2""#, palette::BLACK)
        } else {
            format!(r#"stroke="{}""#, palette::BLACK)
        };
        let bar_fill = if i.restart { "white" } else { fill };
        let mut tip = String::new();
        let _ = write!(
            tip,
            "<title>{} {} {} ({})</title>",
            esc(&i.service),
            i.severity,
            i.start.format("%Y-%m-%d %H:%M"),
            esc(&i.kpis.join(", "))
        );
        s.push(&format!(
            r#"<g><rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="10" fill="{bar_fill}" {style}/>{tip}</g>"#,
            cy - 5.0,
            x1 - x0
        ));
        s.push(&marker(shape, x0, cy, 5.0, bar_fill));
        s.text(x0 + 7.0, cy - 8.0, "start", letter);
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_763_424_000 + h * 3600, 0).unwrap()
    }

    fn day_axis() -> TimeAxis {
        TimeAxis {
            span: (at(0), at(24)),
            ticks: vec![(at(0), "00".into()), (at(12), "12".into())],
            label: "hours".into(),
        }
    }

    #[test]
    fn empty_timeline_says_no_data() {
        let c = timeline("t", "Incidents", &day_axis(), &[]);
        assert!(c.svg.contains("no data"));
        assert!(c.rows.is_empty());
    }

    #[test]
    fn timeline_draws_one_bar_per_incident_and_marks_restarts() {
        let inc = |svc: &str, h: i64, restart: bool| Incident {
            service: svc.into(),
            start: at(h),
            end: at(h + 1),
            severity: Severity::High,
            kpis: vec!["error_rate".into()],
            restart,
        };
        let incidents = [
            inc("api", 2, false),
            inc("db", 5, true),
            inc("api", 9, false),
        ];
        let c = timeline("t", "Incidents", &day_axis(), &incidents);
        assert_eq!(c.svg.matches("<g><rect").count(), 3);
        assert_eq!(
            c.svg
                .matches(r##"fill="white" stroke="#000000" stroke-dasharray"##)
                .count(),
            1,
            "the restart bar is dashed"
        );
        assert!(c.svg.contains("hollow: restart"));
        assert_eq!(c.rows.len(), 3);
        assert_eq!(c.rows[1][5], "explained by a restart");
        // Two services, two row labels.
        assert!(c.svg.contains(">api</text>") && c.svg.contains(">db</text>"));
    }

    #[test]
    fn cells_never_print_nan() {
        assert_eq!(cell(f64::NAN, 2), "no data");
        assert_eq!(cell(1.234, 1), "1.2");
    }
}
