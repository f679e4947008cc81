//! Secrets taken out of text before it reaches an artifact, a recording, a
//! log line or an error message.
//!
//! A URL's userinfo keeps its user and loses its password (`user:***@host`):
//! the user still tells two accounts apart, the password never reaches a file,
//! and a rotated password does not make the same server look like another one.
//! Query parameters that look like credentials (`token`, `key`, `secret`,
//! `password`, `auth`, `sig`, ...), `Bearer`/`Basic` credentials, Slack webhook
//! paths and GitHub/GitLab/Slack token formats are masked with `***`.
//!
//! Redaction is idempotent (`redact(redact(s)) == redact(s)`), so comparing the
//! redacted forms of two sources works whether either was stored redacted.

use std::borrow::Cow;

/// What every secret is replaced with.
pub const MASK: &str = "***";

/// `s` with every secret this module knows how to spot masked.
pub fn redact(s: &str) -> String {
    let s = userinfo_passwords(s);
    let s = query_secrets(&s);
    let s = slack_hooks(&s);
    let s = token_prefixes(&s);
    auth_schemes(&s).into_owned()
}

/// Whether two source descriptions name the same source once redacted (an
/// artifact written before redaction existed still matches a new run).
pub fn same_source(a: &str, b: &str) -> bool {
    a == b || redact(a) == redact(b)
}

/// Ends a URL part: whitespace, quotes, brackets and the like.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '(' | ')' | '\\')
}

/// Characters of a token (API keys, base64, JWTs).
fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// Byte length of the run at the start of `s` whose characters satisfy `f`.
fn run_len(s: &str, f: impl Fn(char) -> bool) -> usize {
    s.find(|c: char| !f(c)).unwrap_or(s.len())
}

/// What a rule makes of a match: bytes consumed from the match on, and what
/// to write instead (`None`: leave the match alone).
type Edit = Option<(usize, String)>;

/// `s` with `at` applied wherever one of `needles` (lowercase ASCII) occurs,
/// ASCII case-insensitively. `at` gets the needle and the text from the match
/// on. One pass, and no copy at all when nothing is rewritten: recordings
/// run megabytes through here.
fn rewrite<'a>(s: &'a str, needles: &[&str], at: impl Fn(&str, &str) -> Edit) -> Cow<'a, str> {
    let bytes = s.as_bytes();
    // Bytes that can start a match: everything else is skipped at once.
    let mut starts = [false; 256];
    for n in needles {
        let b = n.as_bytes()[0];
        starts[usize::from(b)] = true;
        starts[usize::from(b.to_ascii_uppercase())] = true;
    }
    let mut out: Option<String> = None;
    let (mut copied, mut i) = (0, 0);
    while let Some(skip) = bytes[i..].iter().position(|&b| starts[usize::from(b)]) {
        i += skip;
        let b = bytes[i].to_ascii_lowercase();
        let hit = needles.iter().find(|n| {
            n.as_bytes()[0] == b
                && bytes
                    .get(i..i + n.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(n.as_bytes()))
        });
        let Some(needle) = hit else {
            i += 1;
            continue;
        };
        // An ASCII byte never sits inside a UTF-8 sequence: `i` is a boundary.
        match at(needle, &s[i..]) {
            Some((used, text)) if used > 0 => {
                let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
                o.push_str(&s[copied..i]);
                o.push_str(&text);
                copied = i + used;
                i = copied;
            }
            _ => i += needle.len(),
        }
    }
    match out {
        None => Cow::Borrowed(s),
        Some(mut o) => {
            o.push_str(&s[copied..]);
            Cow::Owned(o)
        }
    }
}

/// `scheme://user:password@host` → `scheme://user:***@host`.
fn userinfo_passwords(s: &str) -> Cow<'_, str> {
    rewrite(s, &["://"], |_, rest| {
        let after = &rest[3..];
        let authority = &after[..run_len(after, |c| !ends_url(c) && !"/?#".contains(c))];
        let at = authority.rfind('@')?;
        let (user, password) = authority[..at].split_once(':')?;
        if password.is_empty() || password == MASK {
            return None;
        }
        Some((3 + at, format!("://{user}:{MASK}")))
    })
}

/// Query parameter names that carry credentials (matched as substrings).
const SECRET_PARAMS: [&str; 9] = [
    "token",
    "secret",
    "passw",
    "pwd",
    "key",
    "auth",
    "sig",
    "credential",
    "session",
];

/// `?token=abc&x=1` → `?token=***&x=1`.
fn query_secrets(s: &str) -> Cow<'_, str> {
    rewrite(s, &["?", "&"], |_, rest| {
        let sep = &rest[..1];
        let body = &rest[1..];
        let name_len = run_len(body, |c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        let name = body[..name_len].to_ascii_lowercase();
        if name_len == 0 || !body[name_len..].starts_with('=') {
            return None;
        }
        if !SECRET_PARAMS.iter().any(|p| name.contains(p)) {
            return None;
        }
        let value = &body[name_len + 1..];
        let value_len = run_len(value, |c| !ends_url(c) && c != '&' && c != '#');
        if value_len == 0 || &value[..value_len] == MASK {
            return None;
        }
        let used = 1 + name_len + 1 + value_len;
        Some((used, format!("{sep}{}={MASK}", &body[..name_len])))
    })
}

/// `hooks.slack.com/services/T0/B0/XYZ` → `hooks.slack.com/services/***`.
fn slack_hooks(s: &str) -> Cow<'_, str> {
    const HOST: &str = "hooks.slack.com/";
    rewrite(s, &[HOST], |_, rest| {
        let path = &rest[HOST.len()..];
        let kind = run_len(path, |c| c.is_ascii_alphabetic());
        // `services/`, `workflows/`, `triggers/`: keep the kind, mask the rest.
        let skip = if path[kind..].starts_with('/') {
            kind + 1
        } else {
            0
        };
        let secret = run_len(&path[skip..], |c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-')
        });
        if secret == 0 || path[skip..].starts_with(MASK) {
            return None;
        }
        let used = HOST.len() + skip + secret;
        Some((used, format!("{HOST}{}{MASK}", &path[..skip])))
    })
}

/// Token formats that announce themselves by prefix.
const TOKEN_PREFIXES: [&str; 12] = [
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xoxs-",
];

/// `ghp_abc123` → `ghp_***`, wherever it stands (a word of its own).
fn token_prefixes(s: &str) -> Cow<'_, str> {
    rewrite_words(s, &TOKEN_PREFIXES, |prefix, rest| {
        let tail = &rest[prefix.len()..];
        let n = run_len(tail, |c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        (n > 0).then(|| (prefix.len() + n, format!("{}{MASK}", &rest[..prefix.len()])))
    })
}

/// Like [`rewrite`], but only where a needle starts a word.
fn rewrite_words<'a>(
    s: &'a str,
    needles: &[&str],
    at: impl Fn(&str, &str) -> Edit,
) -> Cow<'a, str> {
    let starts_word = |i: usize| {
        s[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
    };
    // `rest` is the tail of `s` from the match: its start is found back from
    // the length left.
    rewrite(s, needles, |needle, rest| {
        starts_word(s.len() - rest.len())
            .then(|| at(needle, rest))
            .flatten()
    })
}

/// `Bearer eyJ...` → `Bearer ***`; `Basic dXNlcjpw...` → `Basic ***`. Short
/// words after `Bearer`/`Basic` are prose (`Basic auth failed`), not secrets.
fn auth_schemes(s: &str) -> Cow<'_, str> {
    rewrite_words(s, &["bearer", "basic"], |scheme, rest| {
        let min = if scheme == "bearer" { 8 } else { 12 };
        let after = &rest[scheme.len()..];
        let gap = run_len(after, |c| c == ' ' || c == '\t');
        let n = run_len(&after[gap..], token_char);
        if gap == 0 || n < min {
            return None;
        }
        let used = scheme.len() + gap + n;
        Some((used, format!("{}{MASK}", &rest[..scheme.len() + gap])))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASES: [(&str, &str); 12] = [
        (
            "prometheus:http://alice:s3cret@prom:9090/api",
            "prometheus:http://alice:***@prom:9090/api",
        ),
        ("http://alice@prom:9090", "http://alice@prom:9090"),
        (
            "GET https://x/q?access_token=abc&step=60",
            "GET https://x/q?access_token=***&step=60",
        ),
        ("u?x=1&api_key=k1#f", "u?x=1&api_key=***#f"),
        (
            "Authorization: Bearer eyJhbGciOi.xyz",
            "Authorization: Bearer ***",
        ),
        (
            "Authorization: basic dXNlcjpwYXNzd29yZA==",
            "Authorization: basic ***",
        ),
        (
            "Basic auth failed; bearer tokens only",
            "Basic auth failed; bearer tokens only",
        ),
        (
            "posted to https://hooks.slack.com/services/T000/B000/XXXX.",
            "posted to https://hooks.slack.com/services/***.",
        ),
        ("token ghp_AbC123xyz done", "token ghp_*** done"),
        (
            "github_pat_11AB_cd and gho_zz",
            "github_pat_*** and gho_***",
        ),
        ("not_ghp_this (xoxb-1-2-abc)", "not_ghp_this (xoxb-***)"),
        ("query=rate(x[5m]) step=60", "query=rate(x[5m]) step=60"),
    ];

    #[test]
    fn masks_each_kind_of_secret_and_leaves_prose() {
        for (input, want) in CASES {
            assert_eq!(redact(input), want, "input {input:?}");
        }
    }

    #[test]
    fn is_idempotent_and_compares_sources_by_redacted_form() {
        for (input, _) in CASES {
            let once = redact(input);
            assert_eq!(redact(&once), once, "input {input:?}");
        }
        assert!(same_source(
            "prometheus:http://u:old@h:9090",
            "prometheus:http://u:***@h:9090"
        ));
        assert!(!same_source(
            "prometheus:http://u:p@h:9090",
            "prometheus:http://u:p@other:9090"
        ));
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in [
            "://",
            "?",
            "&=",
            "ghp_",
            "Bearer",
            "hooks.slack.com/",
            "é://é:é@é?é=é",
        ] {
            let _ = redact(s);
        }
        assert_eq!(redact("x://é:ü@h"), "x://é:***@h");
    }
}
