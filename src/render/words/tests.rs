use tars_core::facts::{CompVerdict, Fact, LimitKind, TestNumbers, Words};
use tars_core::model::{Kpi, Severity};

use super::English;

fn cmp(verdict: CompVerdict, test: Option<TestNumbers>) -> String {
    English.word(&Fact::Comparison {
        service: "checkout".into(),
        kpi: Kpi::ErrorRate,
        baseline: 0.1,
        current: 6.2,
        drift_percent: 6000.0,
        test,
        verdict,
    })
}

#[test]
fn a_limit_names_its_value_the_limit_and_ga() {
    let s = cmp(
        CompVerdict::Limit {
            kind: LimitKind::ErrorRateRollback,
            limit: 5.0,
        },
        None,
    );
    assert_eq!(
        s,
        "checkout error_rate: 6.200 % vs 0.100 % at GA (+6000.0 %), no test: \
         error rate 6.20 % is at or above the 5 % rollback limit (it was 0.100 % at GA)."
    );
}

#[test]
fn a_drift_carries_its_test_numbers() {
    let s = cmp(
        CompVerdict::Drift(Severity::High),
        Some(TestNumbers {
            p_value: 0.0001,
            shift: 5.9,
            ci: [5.5, 6.3],
        }),
    );
    assert!(
        s.ends_with("shift +5.900 % [+5.500, +6.300], p < 0.001: high drift."),
        "{s}"
    );
}

#[test]
fn insufficient_data_says_how_little_there_was() {
    let s = cmp(
        CompVerdict::InsufficientData {
            requests: 12.0,
            baseline_samples: 3,
            current_samples: 96,
        },
        None,
    );
    assert!(
        s.ends_with("insufficient data to judge (12 requests, 3 baseline and 96 current samples)."),
        "{s}"
    );
}

#[test]
fn the_rollback_headline_quotes_the_first_reason_or_says_why_not() {
    let quoted = English.word(&Fact::HeadlineRollback {
        first_reason: Some("day 7: x.".into()),
    });
    assert_eq!(quoted, "Roll back: day 7: x.");
    let bare = English.word(&Fact::HeadlineRollback { first_reason: None });
    assert_eq!(bare, "Roll back: the regression analysis recommends it.");
}

#[test]
fn daily_and_week_facts_both_reach_their_wording() {
    // One fact of each catalogue half: neither may fall through to the other
    // half's empty default.
    let daily = English.word(&Fact::Restarts {
        service: "auth".into(),
        restarts: 4,
    });
    assert_eq!(daily, "auth restarted 4 times this day.");
    let week = English.word(&Fact::KeepRelease);
    assert!(week.starts_with("Keep the release"), "{week}");
}
