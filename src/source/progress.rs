//! A progress bar on a terminal while a source answers: Prometheus can take
//! tens of seconds for a day of a large fleet, and a silent terminal looks
//! hung. Drawn on stderr, only when stderr is a terminal, and cleared when
//! the source is dropped, so pipes, logs and `--json` never see it.

use std::collections::BTreeMap;

use indicatif::{ProgressBar, ProgressStyle};

use super::{MetricsSource, SourceError, Visit, WindowKpis};
use crate::model::{Kpi, Series, Window};

/// `inner`, ticking a bar per query.
pub struct WithProgress {
    inner: Box<dyn MetricsSource>,
    bar: ProgressBar,
}

impl WithProgress {
    /// Wraps `inner` when `show` (stderr is a terminal), else returns it as is.
    pub fn wrap(inner: Box<dyn MetricsSource>, show: bool) -> Box<dyn MetricsSource> {
        if !show {
            return inner;
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({pos} queries, {elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Box::new(WithProgress { inner, bar })
    }

    fn step(&self, what: String) {
        self.bar.set_message(what);
        self.bar.inc(1);
    }
}

impl Drop for WithProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl MetricsSource for WithProgress {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn window_kpis(&self, window: &Window) -> Result<WindowKpis, SourceError> {
        self.step(format!("KPIs of {} .. {}", window.start, window.end));
        self.inner.window_kpis(window)
    }

    fn kpi_series(
        &self,
        kpi: Kpi,
        window: &Window,
        step_secs: u32,
    ) -> Result<Vec<Series>, SourceError> {
        self.step(format!("{kpi} series, {step_secs} s steps"));
        self.inner.kpi_series(kpi, window, step_secs)
    }

    fn for_each_kpi_series(
        &self,
        kpi: Kpi,
        window: &Window,
        step_secs: u32,
        visit: &mut (dyn FnMut(Visit) + Send),
    ) -> Result<(), SourceError> {
        self.step(format!("{kpi} series, {step_secs} s steps"));
        self.inner
            .for_each_kpi_series(kpi, window, step_secs, visit)
    }

    fn restart_times(&self, window: &Window) -> Result<BTreeMap<String, Vec<i64>>, SourceError> {
        self.step("process restarts".into());
        self.inner.restart_times(window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim() -> Box<dyn MetricsSource> {
        let ga = "2025-11-18T00:00:00Z".parse().unwrap();
        Box::new(
            crate::source::sim::parse_spec("sim:healthy")
                .unwrap()
                .build(ga),
        )
    }

    #[test]
    fn without_a_terminal_the_source_is_left_alone() {
        let s = WithProgress::wrap(sim(), false);
        assert_eq!(s.describe(), sim().describe());
    }

    #[test]
    fn each_query_ticks_and_answers_as_the_source_does() {
        let ga = "2025-11-18T00:00:00Z".parse().unwrap();
        let w = WithProgress {
            inner: sim(),
            bar: ProgressBar::hidden(),
        };
        let day = Window::day(ga, 1);
        let direct = sim().kpi_series(Kpi::CpuCores, &day, 900).unwrap();
        assert_eq!(w.kpi_series(Kpi::CpuCores, &day, 900).unwrap(), direct);
        w.window_kpis(&day).unwrap();
        assert_eq!(w.bar.position(), 2);
        assert_eq!(w.describe(), sim().describe());
    }
}
