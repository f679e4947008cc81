//! [`MetricsSource`] over the Prometheus HTTP API: blocking methods on the
//! outside, concurrent async requests inside.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use futures::stream::{self, StreamExt};

use super::body::{Tap, HEAD};
use super::client::{one_line, Body, GetError, Reply, Transport};
use super::parse::{service_name, to_series, Envelope, RawSeries};
use super::PromConfig;
use tars_core::model::{Kpi, Series, Window};
use tars_core::source::{MetricsSource, SourceError, Visit, WindowKpis};

pub(crate) struct PromSource {
    transport: Transport,
    cfg: PromConfig,
    runtime: tokio::runtime::Runtime,
    concurrency: usize,
    total_timeout: Duration,
}

/// What one query is for, for error messages.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    Kpi(Kpi),
    Restarts,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Kpi(k) => k.name(),
            Target::Restarts => "restarts",
        }
    }
}

struct Answer {
    series: Vec<RawSeries>,
    warnings: Vec<String>,
    /// A tap was given series that `series` holds again.
    retaken: bool,
}

/// The requests of a range query and the step grid its answers fill.
struct Plan {
    what: String,
    query: String,
    step: i64,
    first: i64,
    n: usize,
    chunks: Vec<(i64, i64)>,
}

impl Plan {
    /// One series' points on the grid (missing and non-finite values NaN),
    /// or `None` when no point is finite.
    fn row(&self, points: Vec<(i64, f64)>) -> Option<Vec<(i64, f64)>> {
        let mut row = vec![f64::NAN; self.n];
        fill_row(&mut row, points, self.first, self.step);
        row.iter().any(|v| v.is_finite()).then(|| {
            row.into_iter()
                .enumerate()
                .map(|(i, v)| (self.first + i as i64 * self.step, v))
                .collect()
        })
    }
}

fn fill_row(row: &mut [f64], points: Vec<(i64, f64)>, first: i64, step: i64) {
    for (t, v) in points {
        let off = t - first;
        // Off-grid points would belong to another step's window.
        if off >= 0 && off % step == 0 && ((off / step) as usize) < row.len() {
            row[(off / step) as usize] = if v.is_finite() { v } else { f64::NAN };
        }
    }
}

impl PromSource {
    pub fn new(transport: Transport, cfg: &PromConfig) -> Result<PromSource, SourceError> {
        if cfg.group_label.trim().is_empty() {
            return Err(SourceError::Config(
                "[prometheus] group_label must not be empty".into(),
            ));
        }
        if cfg.max_points_per_request < 2 {
            return Err(SourceError::Config(
                "[prometheus] max_points_per_request must be at least 2".into(),
            ));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SourceError::Config(format!("cannot start the async runtime: {e}")))?;
        Ok(PromSource {
            transport,
            cfg: cfg.clone(),
            runtime,
            concurrency: cfg.max_concurrency.max(1),
            total_timeout: Duration::from_secs(cfg.total_timeout_secs.max(1)),
        })
    }

    fn server(&self) -> String {
        self.transport.describe().to_string()
    }

    /// Runs `fut` to completion under the overall timeout. Works when the
    /// caller is itself inside a tokio runtime (block_on would panic there).
    fn block<T: Send, F: Future<Output = Result<T, SourceError>>>(
        &self,
        what: &str,
        make: impl FnOnce() -> F + Send,
    ) -> Result<T, SourceError> {
        let total = self.total_timeout;
        let run = move || async move {
            match tokio::time::timeout(total, make()).await {
                Ok(r) => r,
                Err(_) => Err(SourceError::Request {
                    server: self.server(),
                    what: what.to_string(),
                    msg: format!("gave up after {}s (--total-timeout-secs)", total.as_secs()),
                }),
            }
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| self.runtime.block_on(run()))
                    .join()
                    .unwrap_or_else(|_| {
                        Err(SourceError::Config("the query thread panicked".into()))
                    })
            })
        } else {
            self.runtime.block_on(run())
        }
    }

    /// Sends one API request and turns every way it can go wrong into one
    /// line naming the KPI, the query and the server.
    async fn call(
        &self,
        target: Target,
        query: &str,
        path: &str,
        params: Vec<(&'static str, String)>,
        tap: Option<&Tap<'_>>,
    ) -> Result<Answer, SourceError> {
        let server = self.server();
        let what = format!("KPI {} (query `{}`)", target.name(), query);
        let reply = match self.transport.get(path, &params, tap).await {
            Ok(r) => r,
            Err(GetError::Request(msg)) => return Err(SourceError::Request { server, what, msg }),
            Err(GetError::Replay { path, msg }) => {
                let from = self
                    .transport
                    .recorded_from()
                    .map(|r| format!(" (recorded from {r})"))
                    .unwrap_or_default();
                return Err(SourceError::Replay {
                    path,
                    msg: format!("{what}: {msg}{from}"),
                });
            }
        };
        interpret(reply, server, what)
    }

    async fn instant(
        &self,
        target: Target,
        query: String,
        time: Option<i64>,
    ) -> Result<Answer, SourceError> {
        let mut params = vec![("query", query.clone())];
        if let Some(t) = time {
            params.push(("time", t.to_string()));
        }
        params.push((
            "timeout",
            format!("{}s", self.cfg.query_timeout_secs.max(1)),
        ));
        self.call(target, &query, "api/v1/query", params, None)
            .await
    }

    async fn window_async(&self, window: &Window) -> Result<WindowKpis, SourceError> {
        let range = window.duration_secs();
        if range <= 0 {
            return Err(SourceError::Config(format!(
                "empty window {} .. {}",
                window.start, window.end
            )));
        }
        let range = range as u64;
        let end = window.end_secs();
        let mut jobs: Vec<(Target, bool, String)> = Vec::new();
        for kpi in Kpi::ALL {
            for by in [true, false] {
                jobs.push((
                    Target::Kpi(kpi),
                    by,
                    self.cfg.expand(self.cfg.queries.template(kpi), by, range),
                ));
            }
        }
        jobs.push((
            Target::Restarts,
            true,
            self.cfg.expand(&self.cfg.queries.restarts, true, range),
        ));
        let answers: Vec<Result<Answer, SourceError>> = stream::iter(jobs.iter())
            .map(|(t, _, q)| self.instant(*t, q.clone(), Some(end)))
            .buffered(self.concurrency)
            .collect()
            .await;

        let server = self.server();
        let mut out = WindowKpis::default();
        for ((target, by, query), answer) in jobs.iter().zip(answers) {
            let answer = answer?;
            for w in &answer.warnings {
                out.warnings.push(format!(
                    "{server}: warning for KPI {}: {}",
                    target.name(),
                    one_line(w)
                ));
            }
            let values: Vec<(String, f64)> = answer
                .series
                .iter()
                .filter_map(|s| {
                    s.value
                        .map(|p| (service_name(&s.metric, &self.cfg.group_label), p.1))
                })
                .collect();
            let Target::Kpi(kpi) = *target else {
                if values.is_empty() {
                    out.warnings.push(format!(
                        "{server}: no restart data (query `{query}`); restarts unknown"
                    ));
                }
                for (svc, v) in values {
                    if v.is_finite() && v >= 0.0 {
                        out.restarts.insert(svc, v.round() as u64);
                    }
                }
                continue;
            };
            if values.is_empty() {
                return Err(SourceError::NoData {
                    server,
                    what: format!(
                        "KPI {kpi}{} in {} .. {} (query `{query}`)",
                        if *by { "" } else { " (fleet-wide)" },
                        window.start,
                        window.end
                    ),
                });
            }
            for (svc, v) in values {
                if !v.is_finite() {
                    out.warnings.push(format!(
                        "{server}: KPI {kpi} is {v} for {} (query `{query}`); left out",
                        if *by { svc.as_str() } else { "the fleet" }
                    ));
                    continue;
                }
                if *by {
                    out.services.entry(svc).or_default().insert(kpi, v);
                } else {
                    out.overall.insert(kpi, v);
                }
            }
        }
        Ok(out)
    }

    async fn series_async(
        &self,
        kpi: Kpi,
        window: &Window,
        step_secs: u32,
    ) -> Result<Vec<Series>, SourceError> {
        let target = Target::Kpi(kpi);
        let plan = self.plan(target, self.cfg.queries.template(kpi), window, step_secs, 1)?;
        self.range_async(target, &plan, window).await
    }

    /// The requests and grid of a range query of `template` per service,
    /// one point per step; each point looks back `range_steps` steps.
    fn plan(
        &self,
        target: Target,
        template: &str,
        window: &Window,
        step_secs: u32,
        range_steps: u64,
    ) -> Result<Plan, SourceError> {
        let what = match target {
            Target::Kpi(k) => format!("KPI {k}"),
            Target::Restarts => "restarts".to_string(),
        };
        let step = i64::from(step_secs.max(self.cfg.min_step_secs).max(1));
        let first = window.start_secs() + step;
        let last = window.end_secs();
        let query = self
            .cfg
            .expand(template, true, step as u64 * range_steps.max(1));
        if first > last {
            return Err(SourceError::Config(format!(
                "{what}: step {step}s is longer than the window {} .. {}",
                window.start, window.end
            )));
        }
        let n = ((last - first) / step + 1) as usize;
        // Prometheus rejects answers over 11,000 points per series.
        let per = i64::from(self.cfg.max_points_per_request);
        let mut chunks = Vec::new();
        let mut s = first;
        while s <= last {
            let e = (s + (per - 1) * step).min(last);
            chunks.push((s, e));
            s = e + step;
        }
        Ok(Plan {
            what,
            query,
            step,
            first,
            n,
            chunks,
        })
    }

    fn range_params(&self, plan: &Plan, (s, e): (i64, i64)) -> Vec<(&'static str, String)> {
        vec![
            ("query", plan.query.clone()),
            ("start", s.to_string()),
            ("end", e.to_string()),
            ("step", plan.step.to_string()),
            (
                "timeout",
                format!("{}s", self.cfg.query_timeout_secs.max(1)),
            ),
        ]
    }

    fn no_data(&self, plan: &Plan, window: &Window) -> SourceError {
        SourceError::NoData {
            server: self.server(),
            what: format!(
                "{} in {} .. {} (query `{}`)",
                plan.what, window.start, window.end, plan.query
            ),
        }
    }

    /// The series of a planned range query, read whole.
    async fn range_async(
        &self,
        target: Target,
        plan: &Plan,
        window: &Window,
    ) -> Result<Vec<Series>, SourceError> {
        let answers: Vec<Result<Answer, SourceError>> = stream::iter(plan.chunks.iter())
            .map(|&chunk| {
                let params = self.range_params(plan, chunk);
                self.call(target, &plan.query, "api/v1/query_range", params, None)
            })
            .buffered(self.concurrency)
            .collect()
            .await;
        let mut grid: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for answer in answers {
            for s in to_series(answer?.series, &self.cfg.group_label) {
                let row = grid
                    .entry(s.service)
                    .or_insert_with(|| vec![f64::NAN; plan.n]);
                fill_row(row, s.points, plan.first, plan.step);
            }
        }
        grid.retain(|_, row| row.iter().any(|v| v.is_finite()));
        if grid.is_empty() {
            return Err(self.no_data(plan, window));
        }
        Ok(grid
            .into_iter()
            .map(|(service, row)| Series {
                service,
                points: row
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (plan.first + i as i64 * plan.step, v))
                    .collect(),
            })
            .collect())
    }

    /// Each series of a planned range query handed to `visit`: streamed when
    /// it takes one live request, else (or when the stream cannot name them
    /// for sure, after a [`Visit::Restart`]) read whole.
    fn each_series(
        &self,
        target: Target,
        plan: &Plan,
        window: &Window,
        visit: &mut (dyn FnMut(Visit) + Send),
    ) -> Result<(), SourceError> {
        let what = match target {
            Target::Kpi(k) => format!("KPI {k} series of {} .. {}", window.start, window.end),
            Target::Restarts => format!("restarts of {} .. {}", window.start, window.end),
        };
        // Pieces of one series come in several answers, and a recording or
        // a replay is read whole anyway: those go the whole-answer way.
        if plan.chunks.len() == 1 && self.transport.streams() {
            let visit_ref = &mut *visit;
            if self.block(&what, || self.visit_async(target, plan, window, visit_ref))? {
                return Ok(());
            }
            visit(Visit::Restart);
        }
        for s in self.block(&what, || self.range_async(target, plan, window))? {
            visit(Visit::Series(s));
        }
        Ok(())
    }

    /// A one-request range read as a stream: each series is put on the grid
    /// and handed to `visit` as soon as it is parsed, then dropped.
    /// `Ok(false)` when the answer must be read again whole: two of its
    /// series share a name (both are then named by their label sets, which
    /// only the whole answer tells), or serde had to judge the whole body.
    async fn visit_async(
        &self,
        target: Target,
        plan: &Plan,
        window: &Window,
        visit: &mut (dyn FnMut(Visit) + Send),
    ) -> Result<bool, SourceError> {
        let group = &self.cfg.group_label;
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let (mut shared, mut rows) = (false, 0usize);
        let mut take = |raw: RawSeries| {
            let service = service_name(&raw.metric, group);
            if shared || !seen.insert(service.clone()) {
                shared = true;
                return;
            }
            if let Some(points) = plan.row(raw.into_points()) {
                rows += 1;
                visit(Visit::Series(Series { service, points }));
            }
        };
        let tap: Tap = Mutex::new(&mut take);
        let params = self.range_params(plan, plan.chunks[0]);
        let answer = self
            .call(
                target,
                &plan.query,
                "api/v1/query_range",
                params,
                Some(&tap),
            )
            .await?;
        if answer.retaken {
            return Ok(false);
        }
        // What the stream did not hand over (a scalar's point).
        let take = tap
            .into_inner()
            .map_err(|_| SourceError::Config("the query thread panicked".into()))?;
        for raw in answer.series {
            take(raw);
        }
        if shared {
            return Ok(false);
        }
        if rows == 0 {
            return Err(self.no_data(plan, window));
        }
        Ok(true)
    }

    /// `tars kpi check`.
    pub fn check(&self) -> Result<String, SourceError> {
        let range = self.cfg.check_range_secs.max(1);
        let mut jobs: Vec<(Target, String)> = Kpi::ALL
            .iter()
            .map(|&k| {
                (
                    Target::Kpi(k),
                    self.cfg.expand(self.cfg.queries.template(k), true, range),
                )
            })
            .collect();
        jobs.push((
            Target::Restarts,
            self.cfg.expand(&self.cfg.queries.restarts, true, range),
        ));
        for (t, q) in &jobs {
            if let Err(e) = promql_parser::parser::parse(q) {
                return Err(SourceError::Config(format!(
                    "[prometheus.queries] {}: not valid PromQL: {} (query `{q}`)",
                    t.name(),
                    one_line(&e)
                )));
            }
        }
        let answers = self.block("kpi check", || async {
            Ok(stream::iter(jobs.iter())
                .map(|(t, q)| self.instant(*t, q.clone(), None))
                .buffered(self.concurrency)
                .collect::<Vec<_>>()
                .await)
        })?;
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::ASCII_MARKDOWN);
        table.set_header(vec!["kpi", "series", "status", "query"]);
        let mut ok = 0;
        for ((t, q), a) in jobs.iter().zip(answers) {
            let (n, status) = match a {
                Ok(a) => {
                    let finite = a
                        .series
                        .iter()
                        .filter(|s| s.value.is_some_and(|p| p.1.is_finite()))
                        .count();
                    let mut st = if a.series.is_empty() {
                        "NO DATA".to_string()
                    } else if finite < a.series.len() {
                        format!("ok, {} series NaN/Inf", a.series.len() - finite)
                    } else {
                        "ok".to_string()
                    };
                    if !a.series.is_empty() {
                        ok += 1;
                    }
                    for w in a.warnings {
                        st.push_str(&format!("; warning: {}", one_line(&w)));
                    }
                    (a.series.len().to_string(), st)
                }
                // The server is unusable: no table would help.
                Err(e @ SourceError::Request { .. }) => return Err(e),
                Err(e) => ("-".to_string(), format!("ERROR: {e}")),
            };
            table.add_row(vec![t.name().to_string(), n, status, q.clone()]);
        }
        // Error cells quote the server; the whole table goes out redacted.
        Ok(tars_core::redact::redact(&format!(
            "{table}\n{ok} of {} queries returned data at {} (ranges of {range}s ending now)\n",
            jobs.len(),
            self.server()
        )))
    }
}

/// Turns an HTTP answer into series or one clear error line.
fn interpret(reply: Reply, server: String, what: String) -> Result<Answer, SourceError> {
    let status = reply.status;
    let (parsed, head, retaken): (Result<Envelope, String>, Vec<u8>, bool) = match reply.body {
        Body::Raw(b) => (
            serde_json::from_slice(&b).map_err(|e| e.to_string()),
            b[..b.len().min(HEAD)].to_vec(),
            false,
        ),
        Body::Streamed(s) => (s.envelope, s.head, s.retaken),
    };
    let snippet = || {
        // Redacted before it is cut, so a cut never splits a secret from the
        // prefix that gives it away.
        let s = one_line(&String::from_utf8_lossy(&head));
        if s.is_empty() {
            "empty body".to_string()
        } else {
            format!("body starts {:?}", tars_core::text::truncate(&s, 120))
        }
    };
    let api_error = |env: &Envelope| {
        one_line(&format!(
            "{}{}",
            env.error_type
                .as_deref()
                .map(|t| format!("{t}: "))
                .unwrap_or_default(),
            env.error.as_deref().unwrap_or("(no message)")
        ))
    };
    match (status, parsed) {
        (401 | 403, _) => Err(SourceError::Response {
            server,
            what,
            msg: format!(
                "HTTP {status} {}: check --bearer-token-file/$PROMETHEUS_BEARER_TOKEN or \
                 --basic-auth-user",
                if status == 401 {
                    "unauthorized"
                } else {
                    "forbidden"
                }
            ),
        }),
        (500..=599, Ok(env)) if env.status == "error" => Err(SourceError::Request {
            server,
            what,
            msg: format!("HTTP {status} after retries: {}", api_error(&env)),
        }),
        (500..=599, _) => Err(SourceError::Request {
            server,
            what,
            msg: format!("HTTP {status} after retries ({})", snippet()),
        }),
        (_, Ok(env)) if env.status == "error" => Err(SourceError::Response {
            server,
            what,
            msg: format!("HTTP {status}: {}", api_error(&env)),
        }),
        (200..=299, Ok(env)) if env.status == "success" => match env.data {
            Some(d) => Ok(Answer {
                series: d.result.0,
                warnings: env.warnings,
                retaken,
            }),
            None => Err(SourceError::Response {
                server,
                what,
                msg: "answer has no data field".into(),
            }),
        },
        (200..=299, Ok(env)) => Err(SourceError::Response {
            server,
            what,
            msg: if env.status.is_empty() {
                format!(
                    "not a Prometheus API answer (no status or data; {})",
                    snippet()
                )
            } else {
                format!("unexpected status {:?} in the answer", env.status)
            },
        }),
        (200..=299, Err(e)) => Err(SourceError::Response {
            server,
            what,
            msg: format!(
                "not a Prometheus API answer ({}; {})",
                one_line(&e),
                snippet()
            ),
        }),
        (_, _) => Err(SourceError::Response {
            server,
            what,
            msg: format!("HTTP {status} ({})", snippet()),
        }),
    }
}

impl MetricsSource for PromSource {
    fn describe(&self) -> String {
        self.server()
    }

    fn window_kpis(&self, window: &Window) -> Result<WindowKpis, SourceError> {
        let what = format!("KPIs of {} .. {}", window.start, window.end);
        self.block(&what, || self.window_async(window))
    }

    fn kpi_series(
        &self,
        kpi: Kpi,
        window: &Window,
        step_secs: u32,
    ) -> Result<Vec<Series>, SourceError> {
        let what = format!("KPI {kpi} series of {} .. {}", window.start, window.end);
        self.block(&what, || self.series_async(kpi, window, step_secs))
    }

    fn for_each_kpi_series(
        &self,
        kpi: Kpi,
        window: &Window,
        step_secs: u32,
        visit: &mut (dyn FnMut(Visit) + Send),
    ) -> Result<(), SourceError> {
        let target = Target::Kpi(kpi);
        let plan = self.plan(target, self.cfg.queries.template(kpi), window, step_secs, 1)?;
        self.each_series(target, &plan, window, visit)
    }

    fn restart_times(
        &self,
        window: &Window,
    ) -> Result<std::collections::BTreeMap<String, Vec<i64>>, SourceError> {
        let template = &self.cfg.queries.restarts;
        // `changes()` needs two samples in its range: look back two steps,
        // so a restart shows on the one or two steps after it.
        let plan = self.plan(Target::Restarts, template, window, 60, 2)?;
        let mut out = std::collections::BTreeMap::new();
        let mut visit = |v: Visit| match v {
            Visit::Series(s) => {
                let mut times: Vec<i64> = Vec::new();
                for (t, v) in s.points {
                    // Two steps of look-back see each restart twice: keep the first.
                    if v.is_finite() && v > 0.0 && times.last().is_none_or(|last| t - last > 120) {
                        times.push(t - 60);
                    }
                }
                out.insert(s.service, times);
            }
            Visit::Restart => out.clear(),
        };
        match self.each_series(Target::Restarts, &plan, window, &mut visit) {
            Ok(()) => Ok(out),
            Err(SourceError::NoData { .. }) => Ok(Default::default()),
            Err(e) => Err(e),
        }
    }
}
