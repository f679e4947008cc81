use chrono::TimeZone;

use super::*;

fn ga() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 18, 0, 0, 0).unwrap()
}

fn day(sim: &Simulator, d: u32) -> WindowKpis {
    sim.window_kpis(&Window::day(sim.ga(), d)).unwrap()
}

fn kpi(w: &WindowKpis, service: &str, k: Kpi) -> f64 {
    w.services[service][&k]
}

/// Fingerprints of the original scenarios at seed 42, and the Healthy fleet's
/// day-1 availability (99.955516812864047 %), measured before the realistic
/// fleet was added.
const HEALTHY_FP: u64 = 0xd574_9a80_9fa9_e4a5;
const REGRESSIONS_FP: u64 = 0x5bb4_824c_e2ad_d753;
const ROLLBACK_FP: u64 = 0x8453_fbc7_56d1_f332;
const HEALTHY_DAY1_AVAILABILITY_BITS: u64 = 4_636_734_161_128_620_511;

/// Services of the realistic fleet that run right at the 99.9 % SLO, and
/// those over the 200 ms p99 SLO.
const AT_SLO: [&str; 2] = ["api-gateway", "checkout"];
const SLOW: [&str; 2] = ["checkout", "search"];

/// FNV-1a over every field of every minute: any change to what a seed
/// produces changes it.
fn fingerprint(sim: &Simulator) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (_, mins) in &sim.services {
        for m in mins {
            let restarted = if m.restarted { 1.0 } else { 0.0 };
            for x in [
                m.requests,
                m.errors,
                m.mu,
                m.sigma,
                m.cpu_cores,
                m.memory_bytes,
                restarted,
            ] {
                h ^= x.to_bits();
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
    h
}

#[test]
fn original_scenarios_are_unchanged() {
    let expected = [
        (Scenario::Healthy, HEALTHY_FP),
        (Scenario::Regressions, REGRESSIONS_FP),
        (Scenario::Rollback, ROLLBACK_FP),
    ];
    for (scenario, fp) in expected {
        let sim = Simulator::new(scenario, 42, ga());
        assert_eq!(fingerprint(&sim), fp, "{}", scenario.name());
    }
    let sim = Simulator::new(Scenario::Healthy, 42, ga());
    let a = day(&sim, 1).overall[&Kpi::Availability];
    assert_eq!(a.to_bits(), HEALTHY_DAY1_AVAILABILITY_BITS, "{a}");
}

#[test]
fn describe_keeps_the_original_form_at_a_minute() {
    let sim = Simulator::new(Scenario::Healthy, 42, ga());
    assert_eq!(sim.describe(), "sim:healthy:42");
    assert_eq!(sim.with_resolution(60).describe(), "sim:healthy:42");
    let sim = Simulator::new(Scenario::Realistic, 42, ga()).with_resolution(300);
    assert_eq!(sim.describe(), "sim:realistic:42:300");
    let sim = Simulator::new(Scenario::RealisticRollback, 7, ga()).with_resolution(3600);
    assert_eq!(sim.describe(), "sim:realistic-rollback:7:3600");
}

#[test]
fn scenario_names_agree_everywhere() {
    for s in Scenario::ALL {
        assert_eq!(Scenario::from_name(s.name()), Some(s));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, format!("\"{}\"", s.name()));
        assert!(Scenario::names().contains(s.name()));
    }
    assert_eq!(Scenario::from_name("realistic_regressions"), None);
    assert_eq!(Scenario::from_name("Healthy"), None);
    let realistic: Vec<_> = Scenario::ALL
        .into_iter()
        .filter(|s| s.is_realistic())
        .collect();
    assert_eq!(realistic.len(), 3);
}

#[test]
fn realistic_availability_sits_at_the_slo() {
    let sim = Simulator::new(Scenario::Realistic, 42, ga());
    assert!(sim.ground_truth().is_empty());
    for svc in AT_SLO {
        let days: Vec<f64> = (0..=7)
            .map(|d| kpi(&day(&sim, d), svc, Kpi::Availability))
            .collect();
        assert!(
            days.iter().all(|a| (99.85..=99.95).contains(a)),
            "{svc}: {days:?}"
        );
        assert!(days.iter().any(|&a| a < 99.9), "{svc}: {days:?}");
    }
    for svc in ["search", "auth"] {
        for d in 0..=7 {
            let a = kpi(&day(&sim, d), svc, Kpi::Availability);
            assert!(a > 99.92 && a < 99.99, "{svc} day {d}: {a}");
        }
    }
}

#[test]
fn realistic_p99_is_over_the_slo_on_two_services() {
    let sim = Simulator::new(Scenario::Realistic, 42, ga());
    for d in 0..=7 {
        let w = day(&sim, d);
        for svc in SLOW {
            let p99 = kpi(&w, svc, Kpi::P99LatencyMs);
            assert!((230.0..=360.0).contains(&p99), "{svc} day {d}: {p99}");
        }
        for svc in ["api-gateway", "auth"] {
            let p99 = kpi(&w, svc, Kpi::P99LatencyMs);
            assert!(p99 < 200.0, "{svc} day {d}: {p99}");
        }
    }
}

#[test]
fn realistic_traffic_swings_threefold_and_cpu_follows() {
    let sim = Simulator::new(Scenario::Realistic, 42, ga());
    for d in 0..=7 {
        let w = Window::day(ga(), d);
        let rps = sim.kpi_series(Kpi::ThroughputRps, &w, 3600).unwrap();
        let cpu = sim.kpi_series(Kpi::CpuCores, &w, 3600).unwrap();
        for (r, c) in rps.iter().zip(&cpu) {
            let v: Vec<f64> = r.points.iter().map(|p| p.1).collect();
            assert_eq!(v.len(), 24);
            let max = v.iter().copied().fold(f64::MIN, f64::max);
            let min = v.iter().copied().fold(f64::MAX, f64::min);
            let ratio = max / min;
            assert!(
                (2.4..=3.6).contains(&ratio),
                "{} day {d}: {ratio}",
                r.service
            );
            let c: Vec<f64> = c.points.iter().map(|p| p.1).collect();
            let corr = correlation(&v, &c);
            assert!(
                corr > 0.9,
                "{} day {d}: cpu/load correlation {corr}",
                r.service
            );
        }
    }
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn realistic_latency_rises_with_load() {
    let sim = Simulator::new(Scenario::Realistic, 42, ga());
    // Days 1-7 at the traffic peak (14-16 h) against the trough (2-4 h).
    let at = |h0: i64, h1: i64| -> f64 {
        (1..=7)
            .map(|d| {
                let start = ga() + Duration::days(d) + Duration::hours(h0);
                let w = Window {
                    start,
                    end: start + Duration::hours(h1 - h0),
                };
                kpi(&sim.window_kpis(&w).unwrap(), "checkout", Kpi::P50LatencyMs)
            })
            .sum::<f64>()
            / 7.0
    };
    let (peak, trough) = (at(14, 16), at(2, 4));
    assert!(
        peak > 1.05 * trough && peak < 1.25 * trough,
        "{peak} vs {trough}"
    );
}

#[test]
fn realistic_restarts_about_daily_with_cold_starts() {
    let sim = Simulator::new(Scenario::Realistic, 42, ga());
    let w = Window {
        start: Window::day(ga(), 1).start,
        end: Window::day(ga(), 7).end,
    };
    let k = sim.window_kpis(&w).unwrap();
    for svc in sim.service_names() {
        let n = k.restarts[&svc];
        assert!((5..=10).contains(&n), "{svc}: {n} restarts over days 1-7");
        let mins = sim.minutes(&svc, w.start_secs(), w.end_secs());
        for (i, _) in mins.iter().enumerate().filter(|(_, m)| m.restarted) {
            // The heap starts small and warms up; the first minutes run slow.
            if let (Some(before), Some(after)) = (i.checked_sub(1), mins.get(i + 30)) {
                let (b, m, a) = (&mins[before], &mins[i], after);
                assert!(m.memory_bytes < 0.9 * b.memory_bytes, "{svc} minute {i}");
                assert!(a.memory_bytes > 0.9 * b.memory_bytes, "{svc} minute {i}");
                assert!(m.mu > b.mu + 0.1, "{svc} minute {i}");
            }
        }
    }
    // A leaking service is never restarted: the trend is the ground truth.
    let sim = Simulator::new(Scenario::RealisticRegressions, 42, ga());
    let k = sim.window_kpis(&w).unwrap();
    assert_eq!(k.restarts["auth"], 0);
    assert!(k.restarts["checkout"] >= 5);
}

#[test]
fn realistic_memory_wanders_without_trend() {
    let sim = Simulator::new(Scenario::Realistic, 42, ga());
    let mem = |d: u32, svc: &str| kpi(&day(&sim, d), svc, Kpi::MemoryBytes);
    for (svc, base) in [("api-gateway", 384.0), ("search", 1536.0)] {
        let days: Vec<f64> = (0..=7).map(|d| mem(d, svc) / MIB).collect();
        assert!(
            days.iter().all(|m| (m / base - 1.0).abs() < 0.1),
            "{svc}: {days:?}"
        );
        let spread = days.iter().copied().fold(f64::MIN, f64::max)
            - days.iter().copied().fold(f64::MAX, f64::min);
        assert!(spread > 0.005 * base, "{svc} does not wander: {days:?}");
    }
}

#[test]
fn realistic_regressions_inject_the_same_problems() {
    let sim = Simulator::new(Scenario::RealisticRegressions, 42, ga());
    let classic = Simulator::new(Scenario::Regressions, 42, ga());
    assert_eq!(sim.ground_truth(), classic.ground_truth());
    let d = |n| day(&sim, n);
    // Latency step on checkout, already over the SLO, from day 3 10:00.
    let before = kpi(&d(1), "checkout", Kpi::P99LatencyMs);
    let after = kpi(&d(4), "checkout", Kpi::P99LatencyMs);
    assert!(
        before > 200.0 && after > 1.4 * before,
        "{before} -> {after}"
    );
    // 45 minutes at 8 % on search near the traffic peak: about 0.4 % of the
    // day's requests.
    let a = kpi(&d(2), "search", Kpi::Availability);
    assert!((99.4..99.8).contains(&a), "search day 2: {a}");
    // Six minutes of full outage on api-gateway, which sits at 99.9 %.
    let a = kpi(&d(5), "api-gateway", Kpi::Availability);
    assert!((99.3..99.75).contains(&a), "api-gateway day 5: {a}");
    // 8 MiB/h leak on auth from day 1: 192 MiB a day.
    let grown = kpi(&d(7), "auth", Kpi::MemoryBytes) - kpi(&d(1), "auth", Kpi::MemoryBytes);
    assert!((1000.0..1300.0).contains(&(grown / MIB)), "{}", grown / MIB);
}

#[test]
fn realistic_rollback_is_severe_from_day_1() {
    let sim = Simulator::new(Scenario::RealisticRollback, 42, ga());
    let truth = sim.ground_truth();
    assert_eq!(truth.len(), 1);
    assert_eq!(truth[0].kind, InjectionKind::SevereRegression);
    assert_eq!(truth[0].days(ga()), (1..=7).collect::<Vec<_>>());
    let p0 = kpi(&day(&sim, 0), "checkout", Kpi::P99LatencyMs);
    for d in 1..=7 {
        let w = day(&sim, d);
        let err = kpi(&w, "checkout", Kpi::ErrorRate);
        assert!((5.8..6.2).contains(&err), "day {d}: {err}");
        let p99 = kpi(&w, "checkout", Kpi::P99LatencyMs);
        assert!(p99 > 2.2 * p0, "day {d}: {p99} vs {p0}");
    }
}

#[test]
fn realistic_is_deterministic_from_the_seed() {
    let a = Simulator::new(Scenario::RealisticRegressions, 9, ga());
    let b = Simulator::new(Scenario::RealisticRegressions, 9, ga());
    let c = Simulator::new(Scenario::RealisticRegressions, 10, ga());
    assert_eq!(fingerprint(&a), fingerprint(&b));
    assert_ne!(fingerprint(&a), fingerprint(&c));
    // The realistic fleet is not the original one with another name.
    let h = Simulator::new(Scenario::Healthy, 9, ga());
    assert_ne!(fingerprint(&a), fingerprint(&h));
}

#[test]
fn coarse_resolution_answers_on_its_grid() {
    for (r, per_day) in [(300u32, 288usize), (3600, 24)] {
        let sim = Simulator::new(Scenario::Realistic, 42, ga()).with_resolution(r);
        let w = Window::day(ga(), 1);
        for step in [0, 60, 90, r] {
            let series = sim.kpi_series(Kpi::ThroughputRps, &w, step).unwrap();
            assert_eq!(series.len(), 4);
            for s in &series {
                assert_eq!(s.points.len(), per_day, "resolution {r} step {step}");
                assert!(s.points.iter().all(|p| p.0 % i64::from(r) == 0));
                assert_eq!(s.points.last().map(|p| p.0), Some(w.end_secs()));
                // Each point aggregates the R seconds that end at it.
                let (t, v) = s.points[5];
                let mins = sim.minutes(&s.service, t - i64::from(r), t);
                let rps = mins.iter().map(|m| m.requests).sum::<f64>() / f64::from(r);
                assert!((v - rps).abs() < 1e-9, "{v} vs {rps}");
            }
        }
        // A longer step stays on the grid: rounded up to a multiple of R.
        let s = &sim.kpi_series(Kpi::ThroughputRps, &w, r + 1).unwrap()[0];
        assert_eq!(s.points.len(), per_day / 2);
        assert!(s.points.iter().all(|p| p.0 % i64::from(2 * r) == 0));
        // An unaligned window gets only the rollups that lie inside it.
        let start = w.start + Duration::seconds(130);
        let odd = Window { start, end: w.end };
        let s = &sim.kpi_series(Kpi::ThroughputRps, &odd, 60).unwrap()[0];
        assert_eq!(s.points.len(), per_day - 1);
        assert!(s.points.iter().all(|p| p.0 % i64::from(r) == 0));
        assert!(s.points[0].0 - i64::from(r) >= start.timestamp());
        // Day aggregates do not depend on the resolution.
        let fine = Simulator::new(Scenario::Realistic, 42, ga());
        assert_eq!(day(&sim, 3), day(&fine, 3));
    }
}

#[test]
fn minute_resolution_keeps_the_original_grid() {
    let sim = Simulator::new(Scenario::Healthy, 42, ga());
    let start = ga() + Duration::seconds(30);
    let w = Window {
        start,
        end: start + Duration::hours(1),
    };
    let s = &sim.kpi_series(Kpi::ThroughputRps, &w, 90).unwrap()[0];
    assert_eq!(s.points[0].0, start.timestamp() + 90);
    assert_eq!(s.points.len(), 40);
    let again = sim.clone().with_resolution(60);
    assert_eq!(again.kpi_series(Kpi::ThroughputRps, &w, 90).unwrap()[0], *s);
}

#[test]
fn with_resolution_keeps_whole_minutes() {
    let sim = Simulator::new(Scenario::Healthy, 42, ga());
    let r = |secs| sim.clone().with_resolution(secs).resolution_secs();
    assert_eq!(r(0), 60);
    assert_eq!(r(60), 60);
    assert_eq!(r(90), 120);
    assert_eq!(r(300), 300);
    assert_eq!(r(3600), 3600);
    assert_eq!(r(u32::MAX), 86_400);
}

#[test]
fn parse_spec_accepts_every_documented_form() {
    let spec = |scenario, seed, resolution_secs| SimSpec {
        scenario,
        seed,
        resolution_secs,
    };
    let ok = [
        ("sim", spec(Scenario::Healthy, DEFAULT_SEED, 60)),
        ("sim:", spec(Scenario::Healthy, DEFAULT_SEED, 60)),
        ("sim:realistic", spec(Scenario::Realistic, DEFAULT_SEED, 60)),
        (
            "sim:realistic-regressions:7",
            spec(Scenario::RealisticRegressions, 7, 60),
        ),
        ("sim:realistic:42:300", spec(Scenario::Realistic, 42, 300)),
        ("sim:rollback:0:3600", spec(Scenario::Rollback, 0, 3600)),
        ("sim:healthy:1:60", spec(Scenario::Healthy, 1, 60)),
        (
            "sim:realistic-rollback:3:1m",
            spec(Scenario::RealisticRollback, 3, 60),
        ),
        ("sim:regressions:3:5m", spec(Scenario::Regressions, 3, 300)),
        ("sim:realistic:3:1h", spec(Scenario::Realistic, 3, 3600)),
        ("sim:realistic:3:300s", spec(Scenario::Realistic, 3, 300)),
        (
            "sim:healthy:18446744073709551615",
            spec(Scenario::Healthy, u64::MAX, 60),
        ),
    ];
    for (s, want) in ok {
        assert_eq!(parse_spec(s), Ok(want), "{s}");
    }
    // What describe() writes parses back to the same simulator.
    for scenario in Scenario::ALL {
        for r in RESOLUTIONS {
            let want = spec(scenario, 5, r);
            let sim = want.build(ga());
            assert_eq!(sim.scenario(), scenario);
            assert_eq!(sim.resolution_secs(), r);
            assert_eq!(parse_spec(&sim.describe()), Ok(want));
        }
    }
}

#[test]
fn parse_spec_rejects_with_one_line_naming_the_fault() {
    let bad = [
        ("", "expected sim[:SCENARIO[:SEED[:STEP]]]"),
        ("simulator", "expected sim[:SCENARIO[:SEED[:STEP]]]"),
        ("prometheus", "expected sim[:SCENARIO[:SEED[:STEP]]]"),
        ("SIM:healthy", "expected sim[:SCENARIO[:SEED[:STEP]]]"),
        (
            "sim:nope",
            "healthy, regressions, rollback, realistic, realistic-regressions, realistic-rollback",
        ),
        (
            "sim:realistic_regressions",
            "unknown scenario 'realistic_regressions'",
        ),
        ("sim:healthy:", "seed ''"),
        ("sim:healthy:x", "seed 'x'"),
        ("sim:healthy:-1", "whole number"),
        ("sim:healthy:+1", "whole number"),
        ("sim:healthy:18446744073709551616", "whole number"),
        ("sim:healthy:42:", "60, 300, 3600 (seconds) or 1m, 5m, 1h"),
        ("sim:healthy:42:120", "step '120'"),
        ("sim:healthy:42:2m", "step '2m'"),
        ("sim:healthy:42:5M", "step '5M'"),
        ("sim:healthy:42:m", "step 'm'"),
        ("sim:healthy:42:1d", "step '1d'"),
        ("sim:healthy:42:-60", "step '-60'"),
        ("sim:healthy:42:300:x", "too many parts"),
    ];
    for (s, needle) in bad {
        let err = parse_spec(s).unwrap_err();
        assert!(err.contains(needle), "{s}: {err}");
        assert!(!err.contains('\n'), "{s}: {err}");
    }
}

#[test]
fn restart_times_match_the_restarted_minutes() {
    let sim = Simulator::new(Scenario::Realistic, 42, ga());
    let w = Window::day(ga(), 3);
    let times = sim.restart_times(&w).unwrap();
    let counts = day(&sim, 3).restarts;
    assert_eq!(times.len(), 4);
    for (svc, ts) in &times {
        assert_eq!(ts.len() as u64, counts[svc], "{svc}");
        for &t in ts {
            assert!(t >= w.start_secs() && t < w.end_secs() && t % 60 == 0);
            assert!(sim.minutes(svc, t, t + 60)[0].restarted, "{svc} at {t}");
        }
    }
    let total: usize = times.values().map(Vec::len).sum();
    assert!(total >= 3, "{times:?}");
    // Outside the simulation the source cannot tell.
    let far = Window::day(ga() + Duration::days(30), 0);
    assert!(sim.restart_times(&far).unwrap().is_empty());
}
