//! GitHub Issues for retrospective action items, created at most once each.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

use super::{artifact, client, runtime, secret, GithubArgs, NotifyError};
use crate::model::Priority;
use crate::pipeline::layout;
use crate::retro::{ActionItem, Retrospective};
use crate::text::one_line;
use crate::text::truncate;

const TITLE_MAX: usize = 100;
/// Rate-limit retries per request; each waits Retry-After (capped), so the
/// whole run stays bounded.
const MAX_RETRIES: u32 = 3;
const MAX_WAIT_SECS: u64 = 60;
/// Pagination guard against a server whose Link header loops.
const MAX_PAGES: usize = 100;
const MARKER: &str = "<!-- tars:action-item -->";

/// One issue to create.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuePlan {
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
}

/// Deterministic title, so a rerun finds the issue it created before.
pub fn issue_title(item: &ActionItem) -> String {
    let desc = one_line(&item.description, TITLE_MAX);
    format!("[tars {}] {desc}", item.priority)
}

fn plan(r: &Retrospective, min: Priority, label: &str) -> Vec<IssuePlan> {
    r.action_items
        .iter()
        .filter(|a| a.priority <= min)
        .map(|a| {
            let service = a.service.as_deref().unwrap_or("(fleet-wide)");
            let body = format!(
                "{}\n\n**Priority:** {}\n**Service:** {service}\n**Verdict:** {}\n\n### Evidence\n\n{}\n\n---\nFiled by `tars notify github` from the GA + 7 days retrospective ({}).\n{MARKER}\n",
                a.description,
                a.priority,
                crate::model::serde_name(&r.executive_summary.verdict),
                a.evidence,
                r.ga_timestamp.to_rfc3339(),
            );
            IssuePlan {
                title: issue_title(a),
                body,
                labels: vec![label.to_string(), a.priority.to_string()],
            }
        })
        .collect()
}

pub(super) fn run(a: GithubArgs) -> Result<(), NotifyError> {
    let min: Priority = a
        .min_priority
        .parse()
        .map_err(|e| NotifyError::Usage(format!("--min-priority: {e}")))?;
    let valid_repo = a
        .repo
        .split_once('/')
        .is_some_and(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'));
    if !valid_repo {
        return Err(NotifyError::Usage(format!(
            "--repo: '{}' is not OWNER/NAME",
            a.repo
        )));
    }
    if a.label.trim().is_empty() {
        return Err(NotifyError::Usage("--label must not be empty".into()));
    }
    let path = a.data_dir.join(layout::OUTPUT_DIR).join(layout::RETRO_JSON);
    let retro: Retrospective = artifact(crate::inputs::read_retro(&path))?;
    let plans = plan(&retro, min, &a.label);
    if a.dry_run {
        for p in &plans {
            println!(
                "would create: {} (labels: {})",
                p.title,
                p.labels.join(", ")
            );
        }
        println!("{} issue(s) at or above {min}.", plans.len());
        return Ok(());
    }
    let target = GithubTarget {
        repo: a.repo.clone(),
        api_url: a.api_url.clone(),
        token: secret(a.token_file.as_deref(), "GITHUB_TOKEN", "GitHub token")?,
        label: a.label.clone(),
    };
    let (created, skipped) = file_plans(&target, &plans)?;
    for (url, title) in &created {
        println!("created {url}: {title}");
    }
    println!(
        "{}: {} issue(s) created, {skipped} already open.",
        a.repo,
        created.len()
    );
    Ok(())
}

/// Where issues are filed, with the token already loaded.
#[derive(Clone)]
pub struct GithubTarget {
    pub repo: String,
    pub api_url: String,
    pub token: String,
    /// Put on every issue; also how earlier issues are found.
    pub label: String,
}

impl std::fmt::Debug for GithubTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GithubTarget {{ repo: {}, token: *** }}", self.repo)
    }
}

/// Files one issue per action item of `retro` at or above `min` that is not
/// open already (by title): the watch's step after day 7.
pub fn file_issues(
    target: &GithubTarget,
    retro: &Retrospective,
    min: Priority,
) -> Result<usize, NotifyError> {
    file_plans(target, &plan(retro, min, &target.label)).map(|(c, _)| c.len())
}

/// Creates the plans whose titles are not open yet; returns (URL, title) of
/// each created and how many were open already.
fn file_plans(
    target: &GithubTarget,
    plans: &[IssuePlan],
) -> Result<(Vec<(String, String)>, usize), NotifyError> {
    let gh = Gh {
        client: client()?,
        api: target.api_url.trim_end_matches('/').to_string(),
        repo: target.repo.clone(),
        token: target.token.clone(),
    };
    runtime()?.block_on(async {
        let existing = gh.open_titles(&target.label).await?;
        let (mut created, mut skipped) = (Vec::new(), 0usize);
        for p in plans {
            if existing.contains(&p.title) {
                skipped += 1;
                continue;
            }
            let url = gh.create(p).await?;
            created.push((url, p.title.clone()));
        }
        Ok::<_, NotifyError>((created, skipped))
    })
}

struct Gh {
    client: reqwest::Client,
    api: String,
    repo: String,
    token: String,
}

impl Gh {
    fn err(&self, method: &Method, url: &str, detail: String) -> NotifyError {
        let path = url
            .strip_prefix(&self.api)
            .unwrap_or(url)
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        NotifyError::GitHub {
            repo: self.repo.clone(),
            method: method.to_string(),
            path,
            detail,
        }
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.client
            .request(method, url)
            .bearer_auth(&self.token)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    }

    /// Sends with bounded retries on rate limiting; any other non-2xx is an error.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Response, NotifyError> {
        // Only rate limiting is retried, after the wait GitHub asks for.
        let policy = tars_http::Retry {
            retries: MAX_RETRIES,
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(MAX_WAIT_SECS),
        };
        let (sent, attempt) = tars_http::retry(&policy, |_| async {
            let mut req = self.request(method.clone(), url);
            if let Some(b) = body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(resp) if resp.status().is_success() => (Ok(resp), None),
                Ok(resp) => {
                    let wait = rate_limit_wait(&resp);
                    (Ok(resp), wait)
                }
                Err(e) => (Err(e), None),
            }
        })
        .await;
        let resp = sent.map_err(|e| self.err(&method, url, e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let text = resp.text().await.unwrap_or_default();
        let msg = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(String::from))
            .unwrap_or(text);
        let retried = if attempt > 0 {
            format!(
                " after {attempt} retr{}",
                if attempt == 1 { "y" } else { "ies" }
            )
        } else {
            String::new()
        };
        Err(self.err(
            &method,
            url,
            format!("HTTP {}{retried}: {}", status.as_u16(), one_line(&msg, 200)),
        ))
    }

    async fn open_titles(&self, label: &str) -> Result<HashSet<String>, NotifyError> {
        let mut url = url::Url::parse(&format!("{}/repos/{}/issues", self.api, self.repo))
            .map_err(|e| NotifyError::Usage(format!("--api-url: {e}")))?;
        url.query_pairs_mut()
            .append_pair("labels", label)
            .append_pair("state", "open")
            .append_pair("per_page", "100");
        let mut next = Some(url.to_string());
        let mut titles = HashSet::new();
        let mut pages = 0;
        while let Some(u) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                break;
            }
            let resp = self.send(Method::GET, &u, None).await?;
            next = resp
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let items: Vec<Value> = resp.json().await.map_err(|e| {
                self.err(&Method::GET, &u, format!("bad JSON: {}", e.without_url()))
            })?;
            titles.extend(
                items
                    .iter()
                    .filter_map(|i| i.get("title").and_then(Value::as_str))
                    .map(String::from),
            );
        }
        Ok(titles)
    }

    async fn create(&self, p: &IssuePlan) -> Result<String, NotifyError> {
        let url = format!("{}/repos/{}/issues", self.api, self.repo);
        let body = json!({"title": p.title, "body": p.body, "labels": p.labels});
        let resp = self.send(Method::POST, &url, Some(&body)).await?;
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        Ok(v.get("html_url")
            .and_then(Value::as_str)
            .map_or_else(|| truncate(&p.title, 40), String::from))
    }
}

/// How long to wait before retrying, if the response is a rate limit.
fn rate_limit_wait(resp: &Response) -> Option<Duration> {
    let h = resp.headers();
    let status = resp.status();
    let retry_after = h
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let exhausted = h
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0");
    let limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN && (retry_after.is_some() || exhausted));
    if !limited {
        return None;
    }
    let secs = match retry_after {
        Some(s) => s,
        None => {
            let reset = h
                .get("x-ratelimit-reset")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok());
            let now = chrono::Utc::now().timestamp();
            reset.map_or(MAX_WAIT_SECS, |r| (r - now).max(1) as u64)
        }
    };
    Some(Duration::from_secs(secs.clamp(1, MAX_WAIT_SECS)))
}

/// The `rel="next"` target of an RFC 8288 Link header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        if !is_next {
            return None;
        }
        target
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .map(String::from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let h = r#"<https://x/r?page=1>; rel="prev", <https://x/r?page=3>; rel="next", <https://x/r?page=9>; rel="last""#;
        assert_eq!(next_link(h).as_deref(), Some("https://x/r?page=3"));
        assert_eq!(next_link(r#"<https://x/r?page=1>; rel="prev""#), None);
    }

    #[test]
    fn priorities_parse_and_rank() {
        assert_eq!(" p2 ".parse::<Priority>(), Ok(Priority::P2));
        assert!("high".parse::<Priority>().is_err());
        assert!("P9".parse::<Priority>().is_err());
        assert!(Priority::P0 < Priority::P1 && Priority::P2 < Priority::P3);
    }
}
