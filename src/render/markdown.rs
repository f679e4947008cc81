//! The retrospective as Markdown (`output/GA_7DAY_RETROSPECTIVE.md`): one
//! template over the [`Retrospective`] report value.

use crate::error::{Error, Result};
use crate::retro::Retrospective;

const TEMPLATE: &str = r#"# GA + 7 days retrospective

GA: {{ r.ga_timestamp }} · days covered: {{ r.days_covered | join(", ") }} · source: `{{ r.source }}` · tars {{ r.tool_version }}

## 1. Executive Summary

**Verdict: {{ r.executive_summary.verdict | upper }}.** {{ r.executive_summary.headline }}

| Day | Health | Status |
|---:|---:|---|
{% for h in r.executive_summary.health_scores %}| {{ h.day }} | {{ "%.1f" | format(h.score) }} | {{ h.status }} |
{% endfor %}
- Regressions: {% if r.executive_summary.regressions_by_severity %}{% for s, n in r.executive_summary.regressions_by_severity | items %}{{ n }} {{ s }}{% if not loop.last %}, {% endif %}{% endfor %}{% else %}none{% endif %}
- Anomaly incidents: {{ r.executive_summary.anomaly_incidents }}{% if r.executive_summary.restart_explained_events %} (and {{ r.executive_summary.restart_explained_events }} event(s) explained by process restarts){% endif %}
- Rollback recommended: {{ "yes" if r.executive_summary.rollback_recommended else "no" }}
{% for reason in r.rollback_recommendation.reasons %}  - {{ reason }}
{% endfor %}
## 2. What Went Well

{% for f in r.what_went_well %}- **{{ f.statement }}** {{ f.evidence }}
{% else %}- Nothing stood out as clearly healthy.
{% endfor %}
## 3. What Could Be Improved

{% for f in r.what_could_be_improved %}- **{{ f.statement }}** {{ f.evidence }}
{% else %}- No regression or incident to report.
{% endfor %}
## 4. Unexpected Drifts

{% for f in r.unexpected_drifts %}- **{{ f.statement }}** {{ f.evidence }}
{% else %}- None: every significant change is accounted for above.
{% endfor %}
## 5. Cost Analysis

{{ r.cost_analysis.statement }}

| Service | GA $/day | Last $/day | Change | Week $ |
|---|---:|---:|---:|---:|
{% for s in r.cost_analysis.services %}| {{ s.service }} | {{ "%.2f" | format(s.ga_cost_per_day_usd) }} | {{ "%.2f" | format(s.last_cost_per_day_usd) }} | {{ "%+.1f" | format(s.change_percent) }} % | {{ "%.2f" | format(s.week_cost_usd) }} |
{% endfor %}
## 6. SLO Compliance Summary

{{ r.slo_compliance_summary.statement }}

| Service | Availability met | Worst availability | Latency met | Error budget used |
|---|---:|---:|---:|---:|
{% for s in r.slo_compliance_summary.services %}| {{ s.service }} | {{ s.days_availability_met }}/{{ s.days }} | {{ "%.3f" | format(s.worst_availability) }} % | {{ s.days_latency_met }}/{{ s.days }} | {{ "%.1f" | format(s.error_budget_consumed_pct) }} % |
{% endfor %}{% if r.slo_compliance_summary.posture %}
### SLO posture before the release

Already at or past the objective on GA day and not made worse by the release: not scored against it.

| Service | SLI | Objective | Burn rate on GA day | Burn rate (latest day) | Status |
|---|---|---:|---:|---:|---|
{% for p in r.slo_compliance_summary.posture %}| {{ p.service }} | {{ p.sli }} | {% if p.percentile %}p{{ p.percentile }} <= {{ p.objective }} ms{% else %}{{ p.objective }} %{% endif %} | {{ "%.2f" | format(p.ga_burn_rate) }}x | {{ "%.2f" | format(p.burn_rate) }}x | {{ p.status }} |
{% endfor %}{% endif %}
## 7. Recommendations

{% for x in r.recommendations %}- {{ x }}
{% endfor %}
### Action items

| Priority | Action | Evidence |
|---|---|---|
{% for a in r.action_items %}| {{ a.priority }} | {{ a.description }} | {{ a.evidence | replace("|", "/") }} |
{% else %}| - | No action needed. | |
{% endfor %}
### Process improvements

{% for x in r.process_improvements %}- {{ x }}
{% endfor %}"#;

/// Renders the retrospective as Markdown.
pub fn render_markdown(r: &Retrospective) -> Result<String> {
    let mut env = minijinja::Environment::new();
    env.add_filter("format", |fmt: String, v: f64| -> String {
        match fmt.as_str() {
            "%.1f" => format!("{v:.1}"),
            "%.2f" => format!("{v:.2}"),
            "%.3f" => format!("{v:.3}"),
            "%+.1f" => format!("{v:+.1}"),
            _ => v.to_string(),
        }
    });
    env.add_template("retro", TEMPLATE)
        .map_err(|e| Error::Render(format!("retrospective template: {e}")))?;
    let tmpl = env
        .get_template("retro")
        .map_err(|e| Error::Render(e.to_string()))?;
    let ctx = serde_json::to_value(r).map_err(|e| Error::Render(e.to_string()))?;
    tmpl.render(minijinja::context! { r => ctx })
        .map_err(|e| Error::Render(format!("retrospective template: {e}")))
}
