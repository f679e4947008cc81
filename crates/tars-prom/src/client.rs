//! HTTP transport: auth, timeouts, retries, and the record/replay files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use super::body::{Reader, Streamed, Tap};
use super::{Auth, Connection, PromConfig};
use tars_core::redact::redact;
use tars_core::source::SourceError;

/// One HTTP answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Body,
}

/// An answer's body: raw when it is recorded, replayed or not a success;
/// a live success is parsed as it arrives instead of being held whole.
#[derive(Debug)]
pub(crate) enum Body {
    Raw(Bytes),
    Streamed(Streamed),
}

/// Why no answer could be had.
#[derive(Debug, Clone)]
pub(crate) enum GetError {
    /// No HTTP answer: refused, DNS, TLS, timeout.
    Request(String),
    /// Replay has no recorded answer for this request.
    Replay { path: String, msg: String },
}

/// A server reached over HTTP.
pub(crate) struct Live {
    client: reqwest::Client,
    base: url::Url,
    describe: String,
    auth: Auth,
    /// Retries, backoff, and the longest wait (also caps `Retry-After`).
    retry: tars_http::Retry,
    timeout: Duration,
    record: Option<PathBuf>,
    /// Largest answer body accepted (after decompression), bytes.
    max_body: u64,
}

/// One HTTP answer and how long the server asked us to wait before another.
struct Answer {
    reply: Reply,
    retry_after: Option<Duration>,
}

/// Why one attempt got no usable answer.
enum Fail {
    Http(reqwest::Error),
    TooLarge,
}

pub(crate) enum Transport {
    Live(Box<Live>),
    Replay {
        dir: PathBuf,
        describe: String,
        /// The server the recording was made from.
        recorded: String,
    },
}

/// What `--record` writes next to each raw body.
#[derive(Debug, Serialize, Deserialize)]
struct RecordedMeta {
    path: String,
    params: Vec<(String, String)>,
    status: u16,
}

#[derive(Debug, Serialize, Deserialize)]
struct RecordedSource {
    source: String,
}

const SOURCE_FILE: &str = "source.json";

impl Transport {
    pub fn live(url: &str, args: &Connection, cfg: &PromConfig) -> Result<Transport, SourceError> {
        let trimmed = url.trim().trim_end_matches('/');
        // Artifacts, recordings and messages only ever see the redacted URL;
        // it still names scheme, host, port and path, so sources compare.
        let shown = redact(trimmed);
        let mut base = url::Url::parse(&format!("{trimmed}/"))
            .map_err(|e| SourceError::Config(format!("--prometheus-url {shown}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(SourceError::Config(format!(
                "--prometheus-url {shown}: only http and https are supported"
            )));
        }
        base.set_query(None);
        let describe = format!("prometheus:{shown}");

        let auth = args.auth.clone();

        let mut headers = HeaderMap::new();
        for h in &args.headers {
            let shown = redact(h);
            let (k, v) = h.split_once(':').ok_or_else(|| {
                SourceError::Config(format!("--header {shown:?}: expected 'NAME: VALUE'"))
            })?;
            let name = HeaderName::from_bytes(k.trim().as_bytes())
                .map_err(|e| SourceError::Config(format!("--header {shown:?}: {e}")))?;
            let value = HeaderValue::from_str(v.trim())
                .map_err(|e| SourceError::Config(format!("--header {shown:?}: {e}")))?;
            headers.append(name, value);
        }

        let timeout = Duration::from_secs(cfg.query_timeout_secs.max(1));
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("tars/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &args.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| SourceError::Config(format!("--ca-file {}: {e}", ca.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| SourceError::Config(format!("--ca-file {}: {e}", ca.display())))?;
            if certs.is_empty() {
                return Err(SourceError::Config(format!(
                    "--ca-file {}: no PEM certificate in it",
                    ca.display()
                )));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let client = builder
            .build()
            .map_err(|e| SourceError::Config(format!("http client: {}", chain(&e))))?;

        if let Some(dir) = &args.record {
            std::fs::create_dir_all(dir)
                .map_err(|e| SourceError::Config(format!("--record {}: {e}", dir.display())))?;
            let meta = serde_json::to_vec_pretty(&RecordedSource {
                source: describe.clone(),
            })
            .unwrap_or_default();
            write_atomic(dir, SOURCE_FILE, &meta)
                .map_err(|e| SourceError::Config(format!("--record {}: {e}", dir.display())))?;
            remove_stale_temps(dir, STALE_TEMP);
        }

        Ok(Transport::Live(Box::new(Live {
            client,
            base,
            describe,
            auth,
            retry: tars_http::Retry {
                retries: cfg.retries,
                backoff: Duration::from_millis(cfg.retry_backoff_ms),
                max_wait: Duration::from_secs(cfg.max_retry_after_secs),
            },
            timeout,
            record: args.record.clone(),
            max_body: cfg.max_response_bytes,
        })))
    }

    pub fn replay(dir: &Path) -> Result<Transport, SourceError> {
        let path = dir.join(SOURCE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| SourceError::Replay {
            path: path.display().to_string(),
            msg: format!("not a recording made with --record ({e})"),
        })?;
        let src: RecordedSource = serde_json::from_str(&text).map_err(|e| SourceError::Replay {
            path: path.display().to_string(),
            msg: e.to_string(),
        })?;
        Ok(Transport::Replay {
            dir: dir.to_path_buf(),
            // Artifacts say where their numbers came from: the recording, of
            // the server named in source.json. A `file:` source also makes the
            // pipeline stamp artifacts with the window, so replays are
            // byte-identical.
            describe: format!("file:{}", dir.display()),
            // Recordings made before redaction may still hold a password.
            recorded: redact(&src.source),
        })
    }

    /// The server a recording was made from (replay only).
    /// Whether a success is read as a stream: live and not recorded.
    pub fn streams(&self) -> bool {
        matches!(self, Transport::Live(live) if live.record.is_none())
    }

    pub fn recorded_from(&self) -> Option<&str> {
        match self {
            Transport::Replay { recorded, .. } => Some(recorded),
            Transport::Live(_) => None,
        }
    }

    pub fn describe(&self) -> &str {
        match self {
            Transport::Live(live) => &live.describe,
            Transport::Replay { describe, .. } => describe,
        }
    }

    /// GET `path` (relative to the API root, e.g. `api/v1/query`).
    /// A live success's series go to `tap`, if given, as they are parsed,
    /// unless the answer is recorded (a recording needs the raw bytes).
    pub async fn get(
        &self,
        path: &str,
        params: &[(&str, String)],
        tap: Option<&Tap<'_>>,
    ) -> Result<Reply, GetError> {
        match self {
            Transport::Live(live) => live.get(path, params, tap).await,
            Transport::Replay { dir, .. } => {
                let key = key(path, params);
                let meta_path = dir.join(format!("{key}.json"));
                let replay_err = |p: &Path, msg: String| GetError::Replay {
                    path: p.display().to_string(),
                    msg,
                };
                let text = std::fs::read_to_string(&meta_path).map_err(|_| {
                    replay_err(
                        &meta_path,
                        format!(
                            "no recorded answer for {path} {} (recorded with other \
                             windows, steps or queries?)",
                            render_params(params)
                        ),
                    )
                })?;
                let meta: RecordedMeta = serde_json::from_str(&text)
                    .map_err(|e| replay_err(&meta_path, e.to_string()))?;
                let body_path = dir.join(format!("{key}.body"));
                let body =
                    std::fs::read(&body_path).map_err(|e| replay_err(&body_path, e.to_string()))?;
                Ok(Reply {
                    status: meta.status,
                    body: Body::Raw(Bytes::from(body)),
                })
            }
        }
    }
}

impl Live {
    async fn get(
        &self,
        path: &str,
        params: &[(&str, String)],
        tap: Option<&Tap<'_>>,
    ) -> Result<Reply, GetError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| GetError::Request(e.to_string()))?;
        let (outcome, attempt) = tars_http::retry(&self.retry, |backoff| {
            let url = &url;
            async move {
                let outcome = self.send(url, params, tap).await;
                let wait = self.retry_wait(&outcome, backoff);
                (outcome, wait)
            }
        })
        .await;
        let reply = match outcome {
            Ok(a) => a.reply,
            Err(fail) => return Err(GetError::Request(self.failure(fail, attempt))),
        };
        if let Some(dir) = &self.record {
            save(dir, path, params, &reply).map_err(|e| GetError::Replay {
                path: dir.display().to_string(),
                msg: format!("cannot record: {e}"),
            })?;
        }
        Ok(reply)
    }

    async fn send(
        &self,
        url: &url::Url,
        params: &[(&str, String)],
        tap: Option<&Tap<'_>>,
    ) -> Result<Answer, Fail> {
        let req = self.client.get(url.clone()).query(params);
        let req = match &self.auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Basic { user, password } => req.basic_auth(user, Some(password)),
        };
        let resp = req.send().await.map_err(Fail::Http)?;
        let status = resp.status().as_u16();
        let retry_after = tars_http::retry_after(resp.headers());
        // A recording needs the raw bytes; an error answer is small.
        let body = if self.record.is_none() && (200..300).contains(&status) {
            Body::Streamed(read_streamed(resp, self.max_body, tap).await?)
        } else {
            Body::Raw(read_limited(resp, self.max_body).await?)
        };
        Ok(Answer {
            reply: Reply { status, body },
            retry_after,
        })
    }

    /// How long to wait before another try, or `None` when another try
    /// cannot help: a 4xx, a timeout (it would hang again), a TLS or
    /// certificate error (it would fail again), an oversized answer.
    fn retry_wait(&self, outcome: &Result<Answer, Fail>, backoff: Duration) -> Option<Duration> {
        match outcome {
            Ok(a) if matches!(a.reply.status, 429 | 503) => Some(
                a.retry_after
                    .map_or(backoff, |asked| asked.min(self.retry.max_wait)),
            ),
            Ok(a) => (a.reply.status >= 500).then_some(backoff),
            Err(Fail::Http(e)) => (e.is_connect() && !is_tls(e)).then_some(backoff),
            Err(Fail::TooLarge) => None,
        }
    }

    fn failure(&self, fail: Fail, attempt: u32) -> String {
        match fail {
            Fail::TooLarge => format!(
                "answer larger than {} bytes ([prometheus] max_response_bytes)",
                self.max_body
            ),
            Fail::Http(e) if e.is_timeout() => format!(
                "timed out after {}s (--query-timeout-secs)",
                self.timeout.as_secs()
            ),
            Fail::Http(e) => {
                let tries = if attempt > 0 {
                    format!(" (after {} attempts)", attempt + 1)
                } else {
                    String::new()
                };
                format!("{}{tries}", chain(&e))
            }
        }
    }
}

/// The body, refused as soon as it grows past `max` bytes (a server or proxy
/// streaming without end must not exhaust memory).
async fn read_limited(mut resp: reqwest::Response, max: u64) -> Result<Bytes, Fail> {
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(Fail::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Fail::Http)? {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(Fail::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// The body parsed chunk by chunk as it arrives (decompressed by reqwest
/// when the server gzips it), under the same size bound as [`read_limited`].
async fn read_streamed(
    mut resp: reqwest::Response,
    max: u64,
    tap: Option<&Tap<'_>>,
) -> Result<Streamed, Fail> {
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(Fail::TooLarge);
    }
    let mut reader = Reader::new(tap);
    let mut len = 0u64;
    while let Some(chunk) = resp.chunk().await.map_err(Fail::Http)? {
        len += chunk.len() as u64;
        if len > max {
            return Err(Fail::TooLarge);
        }
        reader.push(&chunk);
    }
    Ok(reader.finish())
}

/// A TLS failure (handshake, certificate, a plain-HTTP server spoken to over
/// https): rustls reports it as invalid data, inside the connect error.
fn is_tls(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string().to_ascii_lowercase();
        if ["certificate", "tls", "handshake"]
            .iter()
            .any(|w| text.contains(w))
        {
            return true;
        }
        cur = match err.downcast_ref::<std::io::Error>() {
            Some(io) if io.kind() == std::io::ErrorKind::InvalidData => return true,
            // `io::Error::source` skips the error it wraps: look inside.
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => err.source(),
            },
            None => err.source(),
        };
    }
    false
}

fn render_params(params: &[(&str, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Stable file name of one request: FNV-1a over the path and the parameters
/// that decide the answer (the server-side timeout does not).
fn key(path: &str, params: &[(&str, String)]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |b: &[u8]| {
        for &x in b {
            h ^= u64::from(x);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    feed(path.as_bytes());
    for (k, v) in params.iter().filter(|(k, _)| *k != "timeout") {
        feed(k.as_bytes());
        feed(v.as_bytes());
    }
    format!("q-{h:016x}")
}

fn save(dir: &Path, path: &str, params: &[(&str, String)], reply: &Reply) -> std::io::Result<()> {
    let key = key(path, params);
    let meta = RecordedMeta {
        path: path.to_string(),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        status: reply.status,
    };
    let Body::Raw(raw) = &reply.body else {
        return Err(std::io::Error::other(
            "a streamed answer cannot be recorded",
        ));
    };
    // A recording is meant to be shared: a server echoing a token in an answer
    // must not put it on disk. Redaction keeps JSON valid (it only shortens
    // string contents), so replay still parses what was recorded.
    let body = match std::str::from_utf8(raw) {
        Ok(text) => Bytes::from(redact(text)),
        Err(_) => raw.clone(),
    };
    write_atomic(dir, &format!("{key}.body"), &body)?;
    let text = serde_json::to_string_pretty(&meta).map_err(std::io::Error::other)?;
    write_atomic(dir, &format!("{key}.json"), redact(&text).as_bytes())
}

/// Age past which a recording's temp file is a killed run's leftover (other
/// runs may be recording into the same directory right now).
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// Removes temp files of [`write_atomic`] older than `age` from `dir`.
fn remove_stale_temps(dir: &Path, age: Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name
            .to_str()
            .is_some_and(|n| n.starts_with(".q-") && n.contains(".tmp."));
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|a| a > age);
        if ours && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `dir/name` through a fresh temp file (`O_EXCL`, random name) and a
/// rename: a replay never reads half an answer, and a planted link at the
/// name is replaced, not written through.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp."))
        .tempfile_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(dir.join(name)).map(drop).map_err(|e| e.error)
}

/// An error and its causes on one line, without the URL reqwest prepends
/// (the caller names the server already).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        let s = match s.find(" for url (") {
            Some(i) => s[..i].to_string(),
            None => s,
        };
        if !s.is_empty() && !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    one_line(&parts.join(": "))
}

/// A server's message as one bounded line, secrets masked.
pub(crate) fn one_line(s: &str) -> String {
    tars_core::text::one_line(&redact(s), 400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_written_whole_and_old_temps_removed() {
        let dir = tempfile::tempdir().unwrap();
        let leftover = dir.path().join(".q-1.body.tmp.abc");
        let live = dir.path().join(".q-2.body.tmp.def");
        std::fs::write(&leftover, b"half").unwrap();
        std::fs::write(&live, b"half").unwrap();
        let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
        std::fs::File::options()
            .write(true)
            .open(&leftover)
            .and_then(|f| f.set_modified(two_hours_ago))
            .unwrap();
        remove_stale_temps(dir.path(), STALE_TEMP);
        assert!(!leftover.exists());
        assert!(live.exists(), "another run may be writing it");

        write_atomic(dir.path(), "q-3.json", b"{}").unwrap();
        assert_eq!(std::fs::read(dir.path().join("q-3.json")).unwrap(), b"{}");
    }
}
