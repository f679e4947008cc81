//! The day's charts: the score on the health bands, each service's KPIs
//! against the drift thresholds, and the error budget the day spent.

use super::charts::{band_marker, cell, health_bands, pct, Chart};
use super::svg::{self, marker, palette, severity_style, Frame, Scale, Svg};
use crate::drift::MetricComparison;
use crate::health::HealthStatus;
use crate::model::serde_name;
use tars_core::thresholds::Thresholds;

/// The day's score as a marker on a 0-100 bar split into the health bands.
pub fn health_gauge(id: &str, score: f64, status: HealthStatus, t: &Thresholds) -> Chart {
    let title = "Health score on the health bands";
    let caption = "The day's score (solid line, marker shaped by its band, and number) on the bands of the health report; the dashed line is the rollback line.";
    let f = Frame {
        left: 16.0,
        right: 16.0,
        top: 26.0,
        bottom: 40.0,
        ..Frame::new(480.0, 110.0)
    };
    let mut c = Chart::new(id, title, caption, &["band", "from", "to", "this day"]);
    c.rows = health_bands(t)
        .iter()
        .map(|(s, lo, hi, _)| {
            let here = if *s == status {
                cell(score, 1)
            } else {
                String::new()
            };
            vec![serde_name(s), cell(*lo, 0), cell(*hi, 0), here]
        })
        .collect();
    if !score.is_finite() {
        c.svg = svg::no_data(id, title, &f);
        return c;
    }
    let x = Scale::new((0.0, 100.0), f.xr());
    let desc = format!("Score {score:.1} of 100: {}.", serde_name(&status));
    let mut s = Svg::open(id, title, &desc, &f);
    let (top, base) = (f.top, f.h - f.bottom);
    for (band, lo, hi, tint) in health_bands(t) {
        s.rect(
            (x.map(lo), top),
            (x.map(hi), base),
            tint,
            r##"stroke="#FFFFFF""##,
        );
        // Names above the bar: the excellent band is too narrow to hold one.
        s.text(
            (x.map(lo) + x.map(hi)) / 2.0,
            top - 6.0,
            "middle",
            &serde_name(&band),
        );
    }
    let rx = x.map(t.health_rollback);
    s.line((rx, top), (rx, base + 4.0), palette::BLACK, Some("4 3"));
    let at: Vec<(f64, String)> = (0..=10)
        .map(|i| (f64::from(i * 10), (i * 10).to_string()))
        .collect();
    svg::x_axis(&mut s, &f, &x, &at, "health score (0-100)");
    let px = x.map_clamped(score);
    let cy = (top + base) / 2.0;
    let (shape, fill) = band_marker(status);
    s.line((px, top), (px, base), palette::BLACK, None);
    s.push(&marker(shape, px, cy, 7.0, fill));
    // The number beside the marker, on whichever side has room.
    let (lx, anchor) = if score > 60.0 {
        (px - 12.0, "end")
    } else {
        (px + 12.0, "start")
    };
    s.text(
        lx,
        cy + 4.0,
        anchor,
        &format!("{score:.1} ({})", serde_name(&status)),
    );
    c.svg = s.finish();
    c
}

/// One service's KPIs as their degradation against GA (percent, positive =
/// worse), over the band where no change is drift and the severity lines.
pub fn degradations(id: &str, service: &str, rows: &[&MetricComparison], t: &Thresholds) -> Chart {
    let title = format!("{service}: change vs GA");
    // How to read it is said once above the charts; each says what it found.
    let found: Vec<String> = rows
        .iter()
        .filter_map(|m| m.severity.map(|s| format!("{} {s}", m.kpi)))
        .collect();
    let caption = if found.is_empty() {
        "No finding.".to_string()
    } else {
        format!("Findings: {}.", found.join(", "))
    };
    let mut f = Frame::new(640.0, 64.0 + 22.0 * rows.len().max(1) as f64);
    f.left = 150.0;
    f.top = 24.0;
    let mut c = Chart::new(
        id,
        &title,
        &caption,
        &["KPI", "GA", "this day", "change (worse +)", "status"],
    );
    c.rows = rows
        .iter()
        .map(|m| {
            vec![
                m.kpi.to_string(),
                m.kpi.format(m.baseline),
                m.kpi.format(m.current),
                pct(m.degradation_percent),
                m.severity.map_or(serde_name(&m.status), |s| {
                    format!("{} ({s})", serde_name(&m.status))
                }),
            ]
        })
        .collect();
    let Some((lo, hi)) = svg::extent(rows.iter().map(|m| m.degradation_percent)) else {
        c.svg = svg::no_data(id, &title, &f);
        return c;
    };
    // A +1000 % spike would squash every other KPI against zero: the axis
    // stops at twice the critical level and such a point sits on the edge,
    // its value printed beside it.
    let x = Scale::new(
        (
            lo.min(-2.0 * t.drift_low_pct).max(-100.0),
            hi.max(t.drift_critical_pct * 1.1)
                .min(t.drift_critical_pct * 2.0),
        ),
        f.xr(),
    );
    let desc = format!("{} KPI(s) of {service} against GA.", rows.len());
    let mut s = Svg::open(id, &title, &desc, &f);
    let (top, base) = (f.top, f.h - f.bottom);
    s.rect(
        (x.map(-t.drift_low_pct), top),
        (x.map(t.drift_low_pct), base),
        "#E3EEF6",
        "",
    );
    for (name, v) in [
        ("medium", t.drift_medium_pct),
        ("high", t.drift_high_pct),
        ("critical", t.drift_critical_pct),
    ] {
        s.line(
            (x.map(v), top),
            (x.map(v), base),
            palette::GREY,
            Some("2 3"),
        );
        s.text(x.map(v), top - 6.0, "middle", name);
    }
    let (ts, dec) = svg::ticks(x.domain().0, x.domain().1, 6);
    let at: Vec<(f64, String)> = ts.iter().map(|v| (*v, svg::fmt_tick(*v, dec))).collect();
    svg::x_axis(&mut s, &f, &x, &at, "degradation vs GA (%)");
    s.line((x.map(0.0), top), (x.map(0.0), base), palette::BLACK, None);
    for (i, m) in rows.iter().enumerate() {
        let cy = top + 14.0 + 22.0 * i as f64;
        s.text(f.left - 8.0, cy + 4.0, "end", m.kpi.name());
        degradation_point(&mut s, &f, &x, cy, m);
    }
    c.svg = s.finish();
    c
}

/// One KPI's marker (and, for a finding or a value past the axis, its
/// label) on the degradation chart's row at `cy`.
fn degradation_point(s: &mut Svg, f: &Frame, x: &Scale, cy: f64, m: &MetricComparison) {
    let (d0, d1) = x.domain();
    if !m.degradation_percent.is_finite() {
        s.text(x.map(0.0) + 6.0, cy + 4.0, "start", "no data");
        return;
    }
    let v = m.degradation_percent;
    let px = x.map_clamped(v);
    let off_axis = v < d0 || v > d1;
    let mut label = if off_axis { pct(v) } else { String::new() };
    match m.severity {
        Some(sev) => {
            let (shape, fill, letter) = severity_style(sev);
            s.push(&marker(shape, px, cy, 5.5, fill));
            label = format!("{letter} {}", pct(v));
        }
        None => s.push(&svg::hollow(px, cy, 3.5)),
    }
    // Near the right edge a label goes left of its point, to stay on the chart.
    let (lx, anchor) = if px > f.w - f.right - 90.0 {
        (px - 10.0, "end")
    } else {
        (px + 10.0, "start")
    };
    if !label.is_empty() {
        s.text(lx, cy + 4.0, anchor, &label);
    }
}

/// Share of the week's availability budget each service spent on the day,
/// against the even pace of 1/7 of it per day.
pub fn budget_day(id: &str, spent: &[(String, f64)]) -> Chart {
    let title = "Availability error budget spent this day";
    let pace = 100.0 / crate::slo::HORIZON_DAYS;
    let caption = format!(
        "Percent of the week's availability error budget each service spent on the day; the dashed line is the even pace ({pace:.1} % a day). Bars over the pace are labelled \"over pace\"."
    );
    let mut f = Frame::new(640.0, 60.0 + 26.0 * spent.len().max(1) as f64);
    f.left = 120.0;
    f.right = 120.0;
    f.top = 12.0;
    let mut c = Chart::new(
        id,
        title,
        &caption,
        &["service", "budget spent (%)", "vs pace"],
    );
    let over = |v: f64| if v > pace { "over pace" } else { "within pace" };
    c.rows = spent
        .iter()
        .map(|(n, v)| {
            vec![
                n.clone(),
                cell(*v, 1),
                if v.is_finite() { over(*v) } else { "no data" }.into(),
            ]
        })
        .collect();
    let Some((_, hi)) = svg::extent(spent.iter().map(|p| p.1)) else {
        c.svg = svg::no_data(id, title, &f);
        return c;
    };
    let x = Scale::new((0.0, hi.max(pace) * 1.1), f.xr());
    let mut s = Svg::open(id, title, &format!("{} service(s).", spent.len()), &f);
    let (ts, dec) = svg::ticks(0.0, x.domain().1, 6);
    let at: Vec<(f64, String)> = ts.iter().map(|v| (*v, svg::fmt_tick(*v, dec))).collect();
    svg::x_axis(&mut s, &f, &x, &at, "budget spent (% of the week's)");
    for (i, (name, v)) in spent.iter().enumerate() {
        let cy = f.top + 14.0 + 26.0 * i as f64;
        s.text(f.left - 8.0, cy + 4.0, "end", name);
        if !v.is_finite() {
            s.text(f.left + 6.0, cy + 4.0, "start", "no data");
            continue;
        }
        let fill = if *v > pace {
            palette::VERMILLION
        } else {
            palette::BLUE
        };
        s.rect(
            (x.map(0.0), cy - 8.0),
            (x.map_clamped(*v), cy + 8.0),
            fill,
            "",
        );
        s.text(
            x.map_clamped(*v) + 6.0,
            cy + 4.0,
            "start",
            &format!("{v:.1} % {}", over(*v)),
        );
    }
    let px = x.map(pace);
    s.line(
        (px, f.top),
        (px, f.h - f.bottom),
        palette::BLACK,
        Some("6 3"),
    );
    c.svg = s.finish();
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::DriftStatus;
    use crate::model::{BadDirection, Kpi, Severity};

    fn cmp(kpi: Kpi, degradation: f64, severity: Option<Severity>) -> MetricComparison {
        MetricComparison {
            service: "api".into(),
            kpi,
            unit: kpi.unit().into(),
            bad_direction: BadDirection::Increase,
            baseline: 100.0,
            current: 100.0 + degradation,
            drift_percent: degradation,
            degradation_percent: degradation,
            p_value: None,
            shift: None,
            shift_ci: None,
            late_degradation_percent: None,
            status: if severity.is_some() {
                DriftStatus::Drift
            } else {
                DriftStatus::Ok
            },
            severity,
            explanation: String::new(),
        }
    }

    #[test]
    fn gauge_of_nan_score_says_no_data() {
        let t = Thresholds::default();
        assert!(health_gauge("g", f64::NAN, HealthStatus::Poor, &t)
            .svg
            .contains("no data"));
        let c = health_gauge("g", 75.0, HealthStatus::Good, &t);
        assert!(c.svg.contains("75.0 (good)"));
        assert_eq!(
            c.rows[1][3], "75.0",
            "the score sits in the good band's row"
        );
    }

    #[test]
    fn degradations_keep_a_spike_on_the_axis_and_print_its_value() {
        let t = Thresholds::default();
        let rows = [
            cmp(Kpi::ErrorRate, 1000.0, Some(Severity::Critical)),
            cmp(Kpi::P99LatencyMs, 2.0, None),
            cmp(Kpi::CpuCores, f64::NAN, None),
        ];
        let refs: Vec<&MetricComparison> = rows.iter().collect();
        let c = degradations("d", "api", &refs, &t);
        assert!(c.svg.contains(">C +1000.0 %</text>"), "{}", c.svg);
        assert!(c.svg.contains(">no data</text>"));
        assert!(!c.svg.contains("NaN"));
        assert!(degradations("d", "api", &[], &t).svg.contains("no data"));
    }

    #[test]
    fn budget_day_says_over_pace_in_words() {
        let c = budget_day("b", &[("api".into(), 30.0), ("db".into(), 1.0)]);
        assert!(c.svg.contains("30.0 % over pace"));
        assert!(c.svg.contains("1.0 % within pace"));
        assert!(budget_day("b", &[]).svg.contains("no data"));
    }
}
