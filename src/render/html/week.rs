//! The week's charts: daily health against its bands, each KPI's days
//! against the GA value and the drift band, error budget remaining, and the
//! day-7 trend with its projection.

use std::collections::BTreeMap;

use super::charts::{band_marker, cell, display_unit, draw_bands_y, kpi_decimals, pct, Chart};
use super::svg::{self, marker, palette, severity_style, Frame, Scale, Svg};
use crate::health::status_for;
use crate::model::{BadDirection, Kpi, Severity};
use crate::regression::KpiTrend;
use tars_core::thresholds::Thresholds;

/// Day ticks `day 1` .. for an x axis.
fn day_ticks(days: impl IntoIterator<Item = u32>) -> Vec<(f64, String)> {
    days.into_iter()
        .map(|d| {
            let l = if d == 0 {
                "GA".to_string()
            } else {
                d.to_string()
            };
            (f64::from(d), l)
        })
        .collect()
}

/// The daily health score (one point per day) over the health bands of the
/// thresholds in use, with the rollback line.
pub fn health_week(id: &str, scores: &[(u32, f64)], t: &Thresholds) -> Chart {
    let title = "Daily health score";
    let caption = format!(
        "Score 0-100 per release day against the health bands (excellent from {}, good from {}, fair from {}, poor below). The marker's shape is the day's band. Two consecutive days under {} recommend a rollback (dashed line).",
        t.health_excellent, t.health_good, t.health_fair, t.health_rollback
    );
    let f = Frame {
        right: 96.0,
        top: 26.0,
        ..Frame::new(640.0, 290.0)
    };
    let mut c = Chart::new(id, title, &caption, &["day", "score", "band"]);
    c.rows = scores
        .iter()
        .map(|(d, s)| {
            let band = if s.is_finite() {
                crate::model::serde_name(&status_for(*s, t))
            } else {
                "no data".into()
            };
            vec![d.to_string(), cell(*s, 1), band]
        })
        .collect();
    if !scores.iter().any(|(_, s)| s.is_finite()) {
        c.svg = svg::no_data(id, title, &f);
        return c;
    }
    let last = scores.iter().map(|(d, _)| *d).max().unwrap_or(7).max(7);
    let x = Scale::new((0.5, f64::from(last) + 0.5), f.xr());
    let y = Scale::new((0.0, 100.0), f.yr());
    let desc = format!(
        "Health score for days {}: {}.",
        scores.first().map_or(0, |s| s.0),
        c.rows
            .iter()
            .map(|r| format!("day {} {} ({})", r[0], r[1], r[2]))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut s = Svg::open(id, title, &desc, &f);
    draw_bands_y(&mut s, &f, &y, t);
    svg::y_axis(&mut s, &f, &y, "health score (0-100)");
    svg::x_axis(&mut s, &f, &x, &day_ticks(1..=last), "release day");
    s.hline(
        &f,
        y.map(t.health_rollback),
        palette::BLACK,
        Some("6 4"),
        &format!("rollback line {}", t.health_rollback),
    );
    let pts: Vec<(f64, f64)> = scores.iter().map(|(d, v)| (f64::from(*d), *v)).collect();
    s.push(&format!(
        r#"<path d="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
        svg::line_path(&pts, &x, &y),
        palette::BLUE
    ));
    for (d, v) in pts.iter().filter(|p| p.1.is_finite()) {
        let (shape, fill) = band_marker(status_for(*v, t));
        s.push(&marker(shape, x.map(*d), y.map(*v), 6.0, fill));
        s.text(x.map(*d), y.map(*v) - 10.0, "middle", &format!("{v:.1}"));
    }
    c.svg = s.finish();
    c
}

/// One KPI of one service over the week: the daily values, the GA value
/// (dashed) and the band within `drift_low_pct` of it where a change is never
/// called drift; flagged days carry their severity's marker and letter.
pub fn kpi_week(id: &str, tr: &KpiTrend, ga: Option<f64>, t: &Thresholds) -> Chart {
    let (k, unit) = display_unit(tr.kpi);
    let dec = kpi_decimals(tr.kpi);
    let title = format!("{} {}", tr.service, tr.kpi);
    // How to read it is said once above the charts; each says what it found.
    let caption = format!("Flagged: {}.", flagged_list(&tr.flagged_days));
    let f = Frame::new(360.0, 210.0);
    let mut c = Chart::new(id, &title, &caption, &["day", unit, "vs GA", "flag"]);
    let ga = ga.filter(|v| v.is_finite()).map(|v| v * k);
    let pts = scaled_points(tr, k);
    c.rows = pts
        .iter()
        .map(|(d, v)| {
            let flag = tr.flagged_days.get(&(*d as u32));
            vec![
                format!("{d}"),
                cell(*v, dec),
                ga.map_or("-".into(), |g| pct(crate::drift::relative_change(g, *v))),
                flag.map_or("-".into(), |s| s.to_string()),
            ]
        })
        .collect();
    let band = ga.map(|g| {
        let w = g.abs() * t.drift_low_pct / 100.0;
        (g - w, g + w)
    });
    let ys = pts.iter().map(|p| p.1);
    let Some(ext) = svg::extent(ys.chain(band.map_or(vec![], |b| vec![b.0, b.1]))) else {
        c.svg = svg::no_data(id, &title, &f);
        return c;
    };
    let pad = (ext.1 - ext.0) * 0.08;
    let x = Scale::new((-0.5, 7.5), f.xr());
    let y = Scale::new((ext.0 - pad, ext.1 + pad), f.yr());
    let desc = format!(
        "{title} per day in {unit}; GA value {}; flagged days: {}.",
        ga.map_or("unknown".into(), |g| cell(g, dec)),
        flagged_list(&tr.flagged_days)
    );
    let mut s = Svg::open(id, &title, &desc, &f);
    if let (Some(g), Some((lo, hi))) = (ga, band) {
        s.rect(
            (f.left, y.map(lo)),
            (f.w - f.right, y.map(hi)),
            "#E3EEF6",
            "",
        );
        s.line(
            (f.left, y.map(g)),
            (f.w - f.right, y.map(g)),
            palette::GREY,
            Some("5 3"),
        );
        draw_drift_levels(&mut s, &f, &y, g, tr.kpi, t);
    }
    svg::y_axis(&mut s, &f, &y, unit);
    svg::x_axis(
        &mut s,
        &f,
        &x,
        &day_ticks(0..=7),
        "release day (GA = day 0)",
    );
    s.push(&format!(
        r#"<path d="{}" fill="none" stroke="{}" stroke-width="1.5"/>"#,
        svg::line_path(&pts, &x, &y),
        palette::BLUE
    ));
    for (d, v) in pts.iter().filter(|p| p.1.is_finite()) {
        let (px, py) = (x.map(*d), y.map(*v));
        match tr.flagged_days.get(&(*d as u32)) {
            Some(sev) => {
                let (shape, fill, letter) = severity_style(*sev);
                s.push(&marker(shape, px, py, 5.0, fill));
                s.text(px, py - 9.0, "middle", letter);
            }
            None => s.push(&svg::hollow(px, py, 2.5)),
        }
    }
    c.svg = s.finish();
    c
}

fn flagged_list(f: &BTreeMap<u32, Severity>) -> String {
    if f.is_empty() {
        return "none".into();
    }
    f.iter()
        .map(|(d, s)| format!("day {d} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Error budget remaining per service, percent of the week's availability
/// budget, day 0 = 100 %. Lines differ in colour and marker, and each ends in
/// its service's name.
pub fn budget_week(id: &str, series: &[(String, Vec<(u32, f64)>)]) -> Chart {
    let title = "Availability error budget remaining";
    let caption = "Share of the week's availability error budget left after each day (100 % before day 1), per service; under 0 % the budget is exhausted.";
    let f = Frame {
        right: 110.0,
        ..Frame::new(640.0, 300.0)
    };
    let mut cols = vec!["service".to_string()];
    let days: Vec<u32> = {
        let mut d: Vec<u32> = series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.0))
            .collect();
        d.sort_unstable();
        d.dedup();
        d
    };
    cols.extend(days.iter().map(|d| format!("after day {d} (%)")));
    let mut c = Chart::new(id, title, caption, &[]);
    c.columns = cols;
    c.rows = series
        .iter()
        .map(|(name, pts)| {
            let mut r = vec![name.clone()];
            r.extend(days.iter().map(|d| {
                pts.iter()
                    .find(|p| p.0 == *d)
                    .map_or("no data".into(), |p| cell(p.1, 1))
            }));
            r
        })
        .collect();
    let Some((lo, _)) = svg::extent(series.iter().flat_map(|s| s.1.iter().map(|p| p.1))) else {
        c.svg = svg::no_data(id, title, &f);
        return c;
    };
    let x = Scale::new((-0.3, 7.3), f.xr());
    let y = Scale::new((lo.min(0.0) - 5.0, 105.0), f.yr());
    let desc = format!(
        "{} service(s); remaining budget after each day.",
        series.len()
    );
    let mut s = Svg::open(id, title, &desc, &f);
    svg::y_axis(&mut s, &f, &y, "budget remaining (%)");
    svg::x_axis(&mut s, &f, &x, &day_ticks(0..=7), "release day");
    s.hline(
        &f,
        y.map(0.0),
        palette::VERMILLION,
        Some("6 3"),
        "exhausted (0 %)",
    );
    let shapes = [
        svg::Shape::Circle,
        svg::Shape::Square,
        svg::Shape::Triangle,
        svg::Shape::Diamond,
    ];
    let mut labels: Vec<(f64, f64, &str)> = Vec::new();
    for (i, (name, pts)) in series.iter().enumerate() {
        let colour = palette::SERIES[i % palette::SERIES.len()];
        let mut line: Vec<(f64, f64)> = vec![(0.0, 100.0)];
        line.extend(pts.iter().map(|(d, v)| (f64::from(*d), *v)));
        s.push(&format!(
            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            svg::line_path(&line, &x, &y)
        ));
        for (d, v) in line.iter().filter(|p| p.1.is_finite()) {
            s.push(&marker(shapes[i % 4], x.map(*d), y.map(*v), 4.0, colour));
        }
        if let Some((d, v)) = line.iter().rev().find(|p| p.1.is_finite()) {
            labels.push((x.map(*d) + 8.0, y.map(*v) + 4.0, name));
        }
    }
    // Names at the line ends, spread apart so they do not overprint.
    labels.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut ys: Vec<f64> = labels.iter().map(|l| l.1).collect();
    svg::spread(&mut ys, 17.0, (f.top + 4.0, f.h - f.bottom - 4.0));
    for ((lx, _, name), ly) in labels.iter().zip(ys) {
        s.text(*lx, ly, "start", name);
    }
    c.svg = s.finish();
    c
}

/// A regression's daily values with the Theil-Sen slope projected from the
/// last day (the interval of the slope as a fan), and for a leak the limit
/// and the day it is reached.
pub fn trend(id: &str, tr: &KpiTrend, limit: Option<f64>) -> Chart {
    let (k, unit) = display_unit(tr.kpi);
    let dec = kpi_decimals(tr.kpi);
    let title = format!(
        "{} {}: {} {}",
        tr.service,
        tr.kpi,
        tr.severity.map_or(String::new(), |s| s.to_string()),
        crate::model::serde_name(&tr.pattern)
    );
    // How to read it is said once above the charts; each carries its finding.
    let caption = &tr.explanation;
    let f = Frame {
        right: 24.0,
        ..Frame::new(640.0, 290.0)
    };
    let mut c = Chart::new(id, &title, caption, &["day", unit, "kind"]);
    let pts = scaled_points(tr, k);
    c.rows = pts
        .iter()
        .map(|(d, v)| vec![format!("{d}"), cell(*v, dec), "observed".into()])
        .collect();
    let last = pts.iter().rev().find(|p| p.1.is_finite()).copied();
    let slope = [tr.slope_per_day * k, tr.slope_ci[0] * k, tr.slope_ci[1] * k];
    let (Some((ld, lv)), true) = (last, slope.iter().all(|v| v.is_finite())) else {
        c.svg = svg::no_data(id, &title, &f);
        return c;
    };
    // Project to the limit when there is one (at most four weeks out), else a week on.
    let dtl = tr.days_to_limit.filter(|d| d.is_finite());
    let horizon = ld + dtl.map_or(7.0, |d| d.clamp(1.0, 28.0));
    let at = |sl: f64, d: f64| lv + sl * (d - ld);
    let limit = limit.filter(|_| dtl.is_some()).map(|l| l * k);
    c.rows.push(vec![
        format!("{horizon:.1}"),
        format!(
            "{} [{}, {}]",
            cell(at(slope[0], horizon), dec),
            cell(at(slope[1], horizon), dec),
            cell(at(slope[2], horizon), dec)
        ),
        "projection [interval]".into(),
    ]);
    let ys = pts
        .iter()
        .map(|p| p.1)
        .chain([at(slope[1], horizon), at(slope[2], horizon)])
        .chain(limit);
    let (lo, hi) = svg::extent(ys).unwrap_or((0.0, 1.0));
    let pad = (hi - lo) * 0.06;
    let x = Scale::new((-0.5, horizon + 0.5), f.xr());
    let y = Scale::new((lo - pad, hi + pad), f.yr());
    let desc = format!(
        "{title}: slope {} {unit}/day [{}, {}]{}.",
        cell(slope[0], dec + 1),
        cell(slope[1], dec + 1),
        cell(slope[2], dec + 1),
        dtl.map_or(String::new(), |d| format!(", limit reached in {d:.1} days"))
    );
    let mut s = Svg::open(id, &title, &desc, &f);
    svg::y_axis(&mut s, &f, &y, unit);
    let step = if horizon > 14.0 { 7 } else { 1 };
    let ticks: Vec<u32> = (0..=(horizon + 0.5).floor() as u32).step_by(step).collect();
    svg::x_axis(
        &mut s,
        &f,
        &x,
        &day_ticks(ticks),
        "release day (GA = day 0)",
    );
    let p = Projection {
        from: (ld, lv),
        slope,
        horizon,
        limit: limit.zip(dtl),
    };
    draw_projection(&mut s, &f, (&x, &y), &p, unit);
    if let Some(cp) = tr.changepoint_day {
        let px = x.map(f64::from(cp) - 0.5);
        s.line(
            (px, f.top),
            (px, f.h - f.bottom),
            palette::GREY,
            Some("2 3"),
        );
        s.text(
            px + 4.0,
            f.top + 12.0,
            "start",
            &format!("step from day {cp}"),
        );
    }
    s.push(&format!(
        r#"<path d="{}" fill="none" stroke="{}" stroke-width="1.5"/>"#,
        svg::line_path(&pts, &x, &y),
        palette::BLUE
    ));
    for (d, v) in pts.iter().filter(|p| p.1.is_finite()) {
        s.push(&marker(
            svg::Shape::Circle,
            x.map(*d),
            y.map(*v),
            3.5,
            palette::BLUE,
        ));
    }
    c.svg = s.finish();
    c
}

/// Dotted lines at the medium, high and critical drift levels on the KPI's
/// bad side of the GA value `g`, each labelled with its percentage; only
/// those inside the chart's range (so the data keeps its scale) and clear of
/// the previous one (so labels do not overprint).
fn draw_drift_levels(s: &mut Svg, f: &Frame, y: &Scale, g: f64, kpi: Kpi, t: &Thresholds) {
    let sign = match kpi.bad_direction() {
        BadDirection::Increase => 1.0,
        BadDirection::Decrease => -1.0,
    };
    let (lo, hi) = y.domain();
    let mut last = y.map(g);
    for pct in [t.drift_medium_pct, t.drift_high_pct, t.drift_critical_pct] {
        let level = g + sign * g.abs() * pct / 100.0;
        let py = y.map(level);
        if level > lo && level < hi && (py - last).abs() >= 14.0 {
            // Named at the left, where the GA day sits at its baseline.
            s.hline(
                f,
                py,
                palette::GREY,
                Some("1 3"),
                &format!("{:+} %", sign * pct),
            );
            last = py;
        }
    }
}

/// A slope projected forward from the last observed day.
struct Projection {
    /// The last day and its value.
    from: (f64, f64),
    /// Slope per day, then the low and high ends of its interval.
    slope: [f64; 3],
    /// Last day drawn.
    horizon: f64,
    /// The limit and the days until the slope reaches it.
    limit: Option<(f64, f64)>,
}

impl Projection {
    fn at(&self, which: usize, day: f64) -> f64 {
        self.from.1 + self.slope[which] * (day - self.from.0)
    }
}

/// The fan of the slope's interval, the slope itself (dashed) and, for a
/// leak, the limit line with the day it is reached.
fn draw_projection(s: &mut Svg, f: &Frame, (x, y): (&Scale, &Scale), p: &Projection, unit: &str) {
    let (ld, lv) = p.from;
    let horizon = p.horizon;
    let at = |i: usize, d: f64| p.at(i, d);
    let fan = format!(
        "M{:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z",
        x.map(ld),
        y.map(lv),
        x.map(horizon),
        y.map(at(1, horizon)),
        x.map(horizon),
        y.map(at(2, horizon)),
    );
    s.push(&format!(
        r#"<path d="{fan}" fill="{}" fill-opacity="0.25" stroke="none"/>"#,
        palette::ORANGE
    ));
    s.line(
        (x.map(ld), y.map(lv)),
        (x.map(horizon), y.map(at(0, horizon))),
        palette::VERMILLION,
        Some("6 3"),
    );
    if let Some((l, d)) = p.limit {
        let label = format!("limit {} {unit}", cell(l, 0));
        s.hline(f, y.map(l), palette::BLACK, None, &label);
        let cross = ld + d;
        if cross <= horizon {
            s.push(&marker(
                svg::Shape::Diamond,
                x.map(cross),
                y.map(l),
                6.0,
                palette::VERMILLION,
            ));
            s.text(
                x.map(cross) - 8.0,
                y.map(l) + 18.0,
                "end",
                &format!("reached in {d:.1} days (day {cross:.1})"),
            );
        } else {
            s.text(
                f.w - f.right,
                y.map(l) + 16.0,
                "end",
                &format!("reached in {d:.1} days, beyond this chart"),
            );
        }
    }
}

/// A trend's days and values as chart points, values times `k`.
fn scaled_points(tr: &KpiTrend, k: f64) -> Vec<(f64, f64)> {
    tr.days
        .iter()
        .zip(&tr.values)
        .map(|(d, v)| (f64::from(*d), v * k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kpi;
    use crate::regression::Pattern;

    fn leak(values: Vec<f64>, flagged: &[(u32, Severity)]) -> KpiTrend {
        KpiTrend {
            service: "api".into(),
            kpi: Kpi::MemoryBytes,
            unit: "bytes".into(),
            days: (0..values.len() as u32).collect(),
            values,
            slope_per_day: 100.0 * 1_048_576.0,
            slope_ci: [90.0 * 1_048_576.0, 110.0 * 1_048_576.0],
            worsening_pct_per_day: 10.0,
            trend_significant: true,
            changepoint_day: None,
            comparisons: Vec::new(),
            flagged_days: flagged.iter().copied().collect(),
            pattern: Pattern::Trend,
            severity: Some(Severity::High),
            confidence: crate::regression::Confidence::High,
            days_to_limit: Some(10.0),
            explanation: String::new(),
        }
    }

    const MIB: f64 = 1_048_576.0;

    #[test]
    fn health_week_without_scores_says_no_data() {
        let t = Thresholds::default();
        let c = health_week("h", &[(1, f64::NAN), (2, f64::NAN)], &t);
        assert!(c.svg.contains("no data"));
        assert_eq!(c.rows[0][1], "no data");
        assert!(health_week("h", &[], &t).svg.contains("no data"));
    }

    #[test]
    fn health_week_marks_each_day_with_its_band_shape() {
        let t = Thresholds::default();
        let c = health_week("h", &[(1, 95.0), (2, f64::NAN), (3, 30.0)], &t);
        // Excellent is a circle, poor a diamond (a path); the NaN day is a gap.
        assert!(c.svg.contains("<circle"));
        assert_eq!(c.svg.matches(">95.0</text>").count(), 1);
        assert_eq!(c.rows[2][2], "poor");
        assert_eq!(c.rows[1][2], "no data");
        assert!(!c.svg.contains("NaN"));
    }

    #[test]
    fn kpi_week_marks_flagged_days_and_survives_nan() {
        let t = Thresholds::default();
        let tr = leak(
            vec![100.0 * MIB, f64::NAN, 130.0 * MIB],
            &[(2, Severity::High)],
        );
        let c = kpi_week("k", &tr, Some(100.0 * MIB), &t);
        assert_eq!(c.svg.matches(">H</text>").count(), 1, "one flagged day");
        assert!(!c.svg.contains("NaN"));
        assert_eq!(c.rows[1][1], "no data");
        assert_eq!(c.rows[2][2], "+30.0 %");
        // The drift levels inside the range are drawn, the one above it is not.
        assert!(c.svg.contains(">+15 %</text>") && c.svg.contains(">+30 %</text>"));
        assert!(!c.svg.contains(">+50 %</text>"));
        let empty = kpi_week("k", &leak(vec![], &[]), None, &t);
        assert!(empty.svg.contains("no data"));
    }

    #[test]
    fn trend_projects_a_leak_to_its_limit() {
        let tr = leak(vec![100.0 * MIB, 200.0 * MIB, 300.0 * MIB], &[]);
        let c = super::trend("t", &tr, Some(1300.0 * MIB));
        assert!(
            c.svg.contains("reached in 10.0 days (day 12.0)"),
            "{}",
            c.svg
        );
        assert!(c.svg.contains("limit 1300 MiB"));
        let mut bad = tr.clone();
        bad.slope_per_day = f64::NAN;
        assert!(super::trend("t", &bad, None).svg.contains("no data"));
    }

    #[test]
    fn budget_week_draws_one_labelled_line_per_service() {
        let series = vec![
            ("api".to_string(), vec![(1, 90.0), (2, f64::NAN), (3, -5.0)]),
            ("db".to_string(), vec![(1, 99.0)]),
        ];
        let c = budget_week("b", &series);
        assert!(c.svg.contains(">api</text>") && c.svg.contains(">db</text>"));
        assert_eq!(c.rows[0], vec!["api", "90.0", "no data", "-5.0"]);
        assert_eq!(c.rows[1][2], "no data", "db has no day 2");
        assert!(budget_week("b", &[]).svg.contains("no data"));
    }
}
