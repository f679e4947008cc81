//! Slack incoming-webhook message (Block Kit) built from tars artifacts.

use serde_json::{json, Value};

use super::{artifact, client, runtime, secret, NotifyError, SlackArgs, What};
use crate::health::HealthReport;
use crate::inputs;
use crate::pipeline::layout;
use crate::retro::Retrospective;
use crate::text::{one_line, truncate};

/// Slack rejects section texts longer than 3000 characters.
const SECTION_MAX: usize = 2900;
const TOP_ITEMS: usize = 5;

pub(super) fn run(a: SlackArgs) -> Result<(), NotifyError> {
    let payload = match a.what {
        What::Retro => {
            let path = a.data_dir.join(layout::OUTPUT_DIR).join(layout::RETRO_JSON);
            retro_payload(&artifact(inputs::read_retro(&path))?)
        }
        What::Health => {
            let day = a.day_number.ok_or_else(|| {
                NotifyError::Usage("--what health needs --day-number (or DAY_NUMBER)".into())
            })?;
            if !(1..=7).contains(&day) {
                return Err(NotifyError::Usage(format!(
                    "--day-number must be 1-7, got {day}"
                )));
            }
            let dir = a.data_dir.join(layout::HEALTH_DIR);
            let path = layout::find_day(&dir, day, "HEALTH.json")
                .unwrap_or_else(|| dir.join(layout::day_health(day)));
            health_payload(&artifact(inputs::read_health(&path))?)
        }
    };
    if a.dry_run {
        println!(
            "{}",
            serde_json::to_string_pretty(&payload).unwrap_or_default()
        );
        return Ok(());
    }
    let url = secret(
        a.webhook_url_file.as_deref(),
        "SLACK_WEBHOOK_URL",
        "Slack webhook URL",
    )?;
    post(&url, &payload)?;
    println!("Posted the {} summary to Slack.", what_name(a.what));
    Ok(())
}

fn what_name(w: What) -> &'static str {
    match w {
        What::Retro => "retrospective",
        What::Health => "health",
    }
}

/// The webhook path is the secret; keep only scheme and host for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "(unparsable URL)".into(),
    }
}

pub(super) fn post(url: &str, payload: &Value) -> Result<(), NotifyError> {
    let shown = redact(url);
    let err = |detail: String| NotifyError::Slack {
        url: shown.clone(),
        detail,
    };
    if url::Url::parse(url).is_err() {
        return Err(err("not a valid URL".into()));
    }
    let client = client()?;
    runtime()?.block_on(async {
        let resp = client
            .post(url)
            .json(payload)
            .send()
            .await
            .map_err(|e| err(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let body = resp.text().await.unwrap_or_default();
        Err(err(format!(
            "HTTP {}: {}",
            status.as_u16(),
            one_line(&body, 200)
        )))
    })
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_MAX)}})
}

/// Block Kit message for the retrospective.
pub fn retro_payload(r: &Retrospective) -> Value {
    let es = &r.executive_summary;
    let verdict = crate::model::serde_name(&es.verdict).to_uppercase();
    let icon = match verdict.as_str() {
        "HEALTHY" => ":white_check_mark:",
        "DRIFTING" => ":warning:",
        _ => ":rotating_light:",
    };
    let scores = es
        .health_scores
        .iter()
        .map(|d| format!("d{} {:.0}", d.day, d.score))
        .collect::<Vec<_>>()
        .join(" · ");
    let regressions: usize = es.regressions_by_severity.values().sum();
    let fmt_opt = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |x| format!("{x:.1}"));
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": "tars: GA + 7 days retrospective"}}),
        section(&format!("{icon} *Verdict: {verdict}*\n{}", es.headline)),
        json!({"type": "section", "fields": [
            {"type": "mrkdwn", "text": format!("*Average health*\n{}", fmt_opt(es.average_health))},
            {"type": "mrkdwn", "text": format!("*Lowest health*\n{}", fmt_opt(es.lowest_health))},
            {"type": "mrkdwn", "text": format!("*Regressions*\n{regressions}")},
            {"type": "mrkdwn", "text": format!("*Anomaly incidents*\n{}", es.anomaly_incidents)},
        ]}),
    ];
    if !scores.is_empty() {
        blocks.push(section(&format!("*Daily health:* {scores}")));
    }
    if !r.action_items.is_empty() {
        let items = r
            .action_items
            .iter()
            .take(TOP_ITEMS)
            .map(|a| format!("• *{}* {}", a.priority, a.description))
            .collect::<Vec<_>>()
            .join("\n");
        let more = r.action_items.len().saturating_sub(TOP_ITEMS);
        let tail = if more > 0 {
            format!("\n_…and {more} more_")
        } else {
            String::new()
        };
        blocks.push(section(&format!("*Top action items*\n{items}{tail}")));
    }
    push_rollback(&mut blocks, &r.rollback_recommendation.reasons);
    json!({
        "text": format!("tars retrospective: {verdict}: {}", truncate(&es.headline, 200)),
        "blocks": blocks,
    })
}

/// Block Kit message for one day's health report.
pub fn health_payload(h: &HealthReport) -> Value {
    let status = crate::model::serde_name(&h.status).to_uppercase();
    let icon = if h.rollback_recommendation.recommended {
        ":rotating_light:"
    } else if h.health_score >= 75.0 {
        ":white_check_mark:"
    } else {
        ":warning:"
    };
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": format!("tars: day {} health", h.day_number)}}),
        section(&format!(
            "{icon} *Health {:.1}/100 ({status})*, rollback recommended: {}",
            h.health_score,
            if h.rollback_recommendation.recommended {
                "YES"
            } else {
                "no"
            }
        )),
        json!({"type": "section", "fields": [
            {"type": "mrkdwn", "text": format!("*Degradations*\n{}", h.degradations.len())},
            {"type": "mrkdwn", "text": format!("*Anomaly incidents*\n{}", h.anomaly_summary.total)},
        ]}),
    ];
    if !h.degradations.is_empty() {
        let lines = h
            .degradations
            .iter()
            .take(TOP_ITEMS)
            .map(|d| format!("• *{}* {}", d.severity, d.description))
            .collect::<Vec<_>>()
            .join("\n");
        blocks.push(section(&format!("*Top degradations*\n{lines}")));
    }
    if !h.mitigation_plan.is_empty() {
        let lines = h
            .mitigation_plan
            .iter()
            .take(TOP_ITEMS)
            .map(|m| format!("• *{}* {}: {}", m.priority, m.service, m.action))
            .collect::<Vec<_>>()
            .join("\n");
        blocks.push(section(&format!("*Mitigation plan*\n{lines}")));
    }
    push_rollback(&mut blocks, &h.rollback_recommendation.reasons);
    json!({
        "text": format!("tars day {} health: {:.1} ({status})", h.day_number, h.health_score),
        "blocks": blocks,
    })
}

fn push_rollback(blocks: &mut Vec<Value>, reasons: &[String]) {
    if reasons.is_empty() {
        return;
    }
    let lines = reasons
        .iter()
        .map(|r| format!("• {r}"))
        .collect::<Vec<_>>()
        .join("\n");
    blocks.push(section(&format!("*Rollback reasons*\n{lines}")));
}
