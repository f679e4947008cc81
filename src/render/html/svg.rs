//! Drawing primitives for the HTML report's inline SVG: a linear scale, nice
//! ticks, axes, gap-aware lines and marker shapes.
//!
//! Hand-written rather than a plotting crate so that the page needs no
//! dependency, and so that every chart carries exactly the accessibility
//! attributes we want (`role="img"`, `<title>`, `<desc>`) and nothing that
//! could reach the network. Nothing here panics on NaN or empty input: a
//! missing point is a gap, a chart without data says "no data".

use std::fmt::Write;

use crate::model::Severity;

/// The Okabe-Ito palette: distinguishable with the common colour-vision
/// deficiencies. Status is never shown by colour alone (see [`Shape`]).
pub mod palette {
    pub const BLACK: &str = "#000000";
    pub const ORANGE: &str = "#E69F00";
    pub const SKY: &str = "#56B4E9";
    pub const GREEN: &str = "#009E73";
    pub const YELLOW: &str = "#F0E442";
    pub const BLUE: &str = "#0072B2";
    pub const VERMILLION: &str = "#D55E00";
    pub const PURPLE: &str = "#CC79A7";
    pub const GREY: &str = "#6B6B6B";
    /// Series colours in the order lines are drawn.
    pub const SERIES: [&str; 6] = [BLUE, ORANGE, GREEN, PURPLE, VERMILLION, SKY];
}

/// Escapes text for SVG/HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Smallest and largest finite value, or `None` when there is none.
pub fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A linear map from data values to pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    /// Maps `domain` onto `range`. A single-valued domain is widened so that
    /// a flat series sits mid-chart instead of dividing by zero.
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Scale {
        let (mut d0, mut d1) = domain;
        if !d0.is_finite() || !d1.is_finite() {
            (d0, d1) = (0.0, 1.0);
        }
        if (d1 - d0).abs() < f64::EPSILON * d0.abs().max(1.0) {
            // 5 % of the value, but never a pad so small that it divides by zero.
            let pad = if d0.abs() > 1e-9 {
                d0.abs() * 0.05
            } else {
                1.0
            };
            (d0, d1) = (d0 - pad, d1 + pad);
        }
        Scale {
            d0,
            d1,
            r0: range.0,
            r1: range.1,
        }
    }

    /// The pixel of `v` (values outside the domain map outside the range).
    pub fn map(&self, v: f64) -> f64 {
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }

    /// The pixel of `v`, held inside the range.
    pub fn map_clamped(&self, v: f64) -> f64 {
        let (lo, hi) = (self.r0.min(self.r1), self.r0.max(self.r1));
        self.map(v).clamp(lo, hi)
    }

    pub fn domain(&self) -> (f64, f64) {
        (self.d0, self.d1)
    }
}

/// About `n` round tick values covering `[lo, hi]` (steps of 1, 2 or 5 times
/// a power of ten), with the decimals needed to print them.
pub fn ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, usize) {
    if !lo.is_finite() || !hi.is_finite() || hi <= lo || n == 0 {
        return (Vec::new(), 0);
    }
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    // A span too small for f64 steps (or a step lost to underflow) gets no
    // ticks rather than millions of them.
    if !(step.is_finite() && step > 0.0 && (hi - lo) / step <= 4.0 * n as f64) {
        return (Vec::new(), 0);
    }
    let decimals = (-step.log10().floor()).clamp(0.0, 6.0) as usize;
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let out = (first..=last.min(first.saturating_add(4 * n as i64)))
        .map(|i| i as f64 * step)
        .collect();
    (out, decimals)
}

/// The plot area of a chart: the canvas and its margins, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub w: f64,
    pub h: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Frame {
    pub fn new(w: f64, h: f64) -> Frame {
        Frame {
            w,
            h,
            left: 64.0,
            right: 16.0,
            top: 16.0,
            bottom: 44.0,
        }
    }

    /// Horizontal pixel range of the plot area.
    pub fn xr(&self) -> (f64, f64) {
        (self.left, self.w - self.right)
    }

    /// Vertical pixel range, bottom first (values grow upwards).
    pub fn yr(&self) -> (f64, f64) {
        (self.h - self.bottom, self.top)
    }
}

/// An SVG document under construction.
#[derive(Debug)]
pub struct Svg {
    buf: String,
}

impl Svg {
    /// Opens an `<svg role="img">` labelled by its `<title>` and `<desc>`.
    pub fn open(id: &str, title: &str, desc: &str, f: &Frame) -> Svg {
        let mut buf = String::new();
        // Wide charts shrink most on a phone; the page enlarges their text.
        let class = if f.w > 500.0 { "chart wide" } else { "chart" };
        let _ = write!(
            buf,
            r#"<svg class="{class}" id="{id}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" font-family="system-ui, sans-serif" font-size="12"><title id="{id}-t">{t}</title><desc id="{id}-d">{d}</desc>"#,
            id = esc(id),
            w = f.w,
            h = f.h,
            t = esc(title),
            d = esc(desc),
        );
        Svg { buf }
    }

    pub fn push(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    /// A text element (escaped), anchored `start`, `middle` or `end`.
    pub fn text(&mut self, x: f64, y: f64, anchor: &str, s: &str) {
        let _ = write!(
            self.buf,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" fill="{}">{}</text>"#,
            palette::BLACK,
            esc(s)
        );
    }

    pub fn line(&mut self, a: (f64, f64), b: (f64, f64), stroke: &str, dash: Option<&str>) {
        let dash = dash
            .map(|d| format!(r#" stroke-dasharray="{d}""#))
            .unwrap_or_default();
        let _ = write!(
            self.buf,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{stroke}"{dash}/>"#,
            a.0, a.1, b.0, b.1
        );
    }

    /// A rectangle between two corners in any order.
    pub fn rect(&mut self, a: (f64, f64), b: (f64, f64), fill: &str, extra: &str) {
        let _ = write!(
            self.buf,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" {extra}/>"#,
            a.0.min(b.0),
            a.1.min(b.1),
            (a.0 - b.0).abs(),
            (a.1 - b.1).abs()
        );
    }

    /// A reference line across the plot area at pixel `py`, named at its
    /// left end (a limit, a threshold: read without a legend).
    pub fn hline(&mut self, f: &Frame, py: f64, stroke: &str, dash: Option<&str>, label: &str) {
        self.line((f.left, py), (f.w - f.right, py), stroke, dash);
        self.text(f.left + 4.0, py - 4.0, "start", label);
    }

    pub fn finish(mut self) -> String {
        self.buf.push_str("</svg>");
        self.buf
    }
}

/// How a tick value is printed.
pub fn fmt_tick(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// Left axis with grid lines at round values and a rotated unit label.
pub fn y_axis(svg: &mut Svg, f: &Frame, y: &Scale, label: &str) {
    let (lo, hi) = y.domain();
    let (ts, dec) = ticks(lo, hi, 6);
    for t in ts {
        let py = y.map(t);
        svg.line((f.left, py), (f.w - f.right, py), "#DDDDDD", None);
        svg.text(f.left - 6.0, py + 4.0, "end", &fmt_tick(t, dec));
    }
    svg.line(
        (f.left, f.top),
        (f.left, f.h - f.bottom),
        palette::BLACK,
        None,
    );
    let cy = (f.top + f.h - f.bottom) / 2.0;
    let _ = write!(
        svg.buf,
        r#"<text x="14" y="{cy:.1}" text-anchor="middle" transform="rotate(-90 14 {cy:.1})" fill="{}">{}</text>"#,
        palette::BLACK,
        esc(label)
    );
}

/// Bottom axis with a tick at each of `at` (value, label) and a unit label.
pub fn x_axis(svg: &mut Svg, f: &Frame, x: &Scale, at: &[(f64, String)], label: &str) {
    let base = f.h - f.bottom;
    svg.line((f.left, base), (f.w - f.right, base), palette::BLACK, None);
    for (v, l) in at {
        let px = x.map(*v);
        svg.line((px, base), (px, base + 4.0), palette::BLACK, None);
        svg.text(px, base + 16.0, "middle", l);
    }
    svg.text((f.left + f.w - f.right) / 2.0, f.h - 6.0, "middle", label);
}

/// The `d` attribute of a polyline through `points`; a non-finite value
/// breaks the line, so a missing day shows as a gap rather than a slope.
pub fn line_path(points: &[(f64, f64)], x: &Scale, y: &Scale) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for (px, py) in points {
        if !px.is_finite() || !py.is_finite() {
            pen_down = false;
            continue;
        }
        let cmd = if pen_down { 'L' } else { 'M' };
        let _ = write!(d, "{cmd}{:.1},{:.1} ", x.map(*px), y.map(*py));
        pen_down = true;
    }
    d.trim_end().to_string()
}

/// Moves sorted label positions `ys` apart to at least `gap`, keeping them
/// within `(lo, hi)` when there is room: pushed down first, then back up
/// from the bottom edge.
pub fn spread(ys: &mut [f64], gap: f64, (lo, hi): (f64, f64)) {
    for i in 1..ys.len() {
        ys[i] = ys[i].max(ys[i - 1] + gap);
    }
    if let Some(last) = ys.last_mut() {
        *last = last.min(hi);
    }
    for i in (0..ys.len().saturating_sub(1)).rev() {
        ys[i] = ys[i].min(ys[i + 1] - gap);
    }
    if let Some(first) = ys.first_mut() {
        *first = first.max(lo);
    }
}

/// Marker shapes, so that a status reads without colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
}

/// Shape, colour and one-letter label of a severity.
pub fn severity_style(s: Severity) -> (Shape, &'static str, &'static str) {
    match s {
        Severity::Low => (Shape::Circle, palette::SKY, "L"),
        Severity::Medium => (Shape::Square, palette::ORANGE, "M"),
        Severity::High => (Shape::Triangle, palette::PURPLE, "H"),
        Severity::Critical => (Shape::Diamond, palette::VERMILLION, "C"),
    }
}

/// One marker of radius `r` centred on `(cx, cy)`.
pub fn marker(shape: Shape, cx: f64, cy: f64, r: f64, fill: &str) -> String {
    let stroke = format!(
        r#"fill="{fill}" stroke="{}" stroke-width="1""#,
        palette::BLACK
    );
    match shape {
        Shape::Circle => format!(r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}" {stroke}/>"#),
        Shape::Square => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" {stroke}/>"#,
            cx - r,
            cy - r,
            2.0 * r,
            2.0 * r
        ),
        Shape::Triangle => format!(
            r#"<path d="M{cx:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z" {stroke}/>"#,
            cy - r * 1.2,
            cx + r * 1.1,
            cy + r * 0.8,
            cx - r * 1.1,
            cy + r * 0.8
        ),
        Shape::Diamond => format!(
            r#"<path d="M{cx:.1},{:.1} L{:.1},{cy:.1} L{cx:.1},{:.1} L{:.1},{cy:.1} Z" {stroke}/>"#,
            cy - r * 1.3,
            cx + r * 1.3,
            cy + r * 1.3,
            cx - r * 1.3
        ),
    }
}

/// A small hollow circle: a point without a finding.
pub fn hollow(cx: f64, cy: f64, r: f64) -> String {
    format!(
        r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}" fill="white" stroke="{}"/>"#,
        palette::BLUE
    )
}

/// A chart that has nothing to draw: the frame and the words "no data".
pub fn no_data(id: &str, title: &str, f: &Frame) -> String {
    let mut svg = Svg::open(id, title, "No data to chart.", f);
    svg.rect(
        (0.5, 0.5),
        (f.w - 0.5, f.h - 0.5),
        "none",
        r##"stroke="#BBBBBB""##,
    );
    svg.text(f.w / 2.0, f.h / 2.0, "middle", "no data");
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_maps_domain_ends_to_plot_edges() {
        let f = Frame::new(400.0, 200.0);
        let x = Scale::new((1.0, 7.0), f.xr());
        assert_eq!(x.map(1.0), f.left);
        assert_eq!(x.map(7.0), f.w - f.right);
        let y = Scale::new((0.0, 100.0), f.yr());
        assert_eq!(y.map(0.0), f.h - f.bottom);
        assert_eq!(y.map(100.0), f.top);
        assert_eq!(y.map_clamped(150.0), f.top);
    }

    #[test]
    fn flat_or_non_finite_domain_stays_finite() {
        let y = Scale::new((5.0, 5.0), (100.0, 0.0));
        assert!(
            (y.map(5.0) - 50.0).abs() < 1e-9,
            "a flat series sits mid-chart"
        );
        let z = Scale::new((f64::NAN, 3.0), (100.0, 0.0));
        assert!(z.map(0.5).is_finite());
        let tiny = Scale::new((5e-324, 5e-324), (100.0, 0.0));
        assert!(tiny.map(5e-324).is_finite());
    }

    #[test]
    fn nan_breaks_the_line_into_two_segments() {
        let x = Scale::new((0.0, 4.0), (0.0, 400.0));
        let y = Scale::new((0.0, 10.0), (100.0, 0.0));
        let pts = [
            (0.0, 1.0),
            (1.0, 2.0),
            (2.0, f64::NAN),
            (3.0, 3.0),
            (4.0, 4.0),
        ];
        let d = line_path(&pts, &x, &y);
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 2, "{d}");
        assert!(!d.contains("NaN"), "{d}");
        assert_eq!(line_path(&[(0.0, f64::NAN)], &x, &y), "");
    }

    #[test]
    fn spread_keeps_labels_apart_and_inside() {
        let mut ys = [100.0, 101.0, 102.0];
        spread(&mut ys, 10.0, (0.0, 105.0));
        assert_eq!(
            ys,
            [85.0, 95.0, 105.0],
            "pushed back up from the bottom edge"
        );
        let mut one = [50.0];
        spread(&mut one, 10.0, (0.0, 100.0));
        assert_eq!(one, [50.0]);
        spread(&mut [], 10.0, (0.0, 1.0));
    }

    #[test]
    fn extent_skips_non_finite_and_empty_is_none() {
        assert_eq!(
            extent([f64::NAN, 2.0, -1.0, f64::INFINITY]),
            Some((-1.0, 2.0))
        );
        assert_eq!(extent(Vec::<f64>::new()), None);
        assert_eq!(extent([f64::NAN]), None);
    }

    #[test]
    fn ticks_are_round_and_inside_the_domain() {
        let (t, dec) = ticks(0.0, 100.0, 5);
        assert_eq!(t, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(dec, 0);
        let (t, dec) = ticks(0.031, 0.048, 4);
        assert!(t.iter().all(|v| (0.031..=0.048).contains(v)), "{t:?}");
        assert!(dec >= 3);
        assert!(ticks(f64::NAN, 1.0, 5).0.is_empty());
        assert!(ticks(1.0, 1.0, 5).0.is_empty());
        // Subnormal spans and huge offsets stay bounded.
        assert!(ticks(-1e-320, 1e-320, 5).0.len() <= 21);
        assert!(ticks(1e17, 1e17 + 16.0, 5).0.len() <= 21);
    }

    #[test]
    fn no_data_chart_says_so_and_is_labelled() {
        let s = no_data("c1", "Health <week>", &Frame::new(300.0, 100.0));
        assert!(s.contains(">no data</text>"));
        assert!(s.contains(r#"role="img""#));
        assert!(s.contains("<title id=\"c1-t\">Health &lt;week&gt;</title>"));
    }

    #[test]
    fn severities_differ_by_shape_and_label_not_only_colour() {
        let all = [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ];
        let styles: Vec<_> = all.iter().map(|s| severity_style(*s)).collect();
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert!(a.0 != b.0 && a.2 != b.2);
            }
        }
    }
}
