//! Validated configuration derived from [`ProxySettings`].

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use subtle::ConstantTimeEq;

use super::{DockerApiError, ProxySettings};

/// Environment variable holding the bearer token when no token file is given.
pub const TOKEN_ENV: &str = "TARS_DOCKER_API_TOKEN";

/// Everything the service needs, checked once at startup.
#[derive(Clone)]
pub struct Config {
    /// Address to bind.
    pub listen: SocketAddr,
    /// Filesystem path of the engine's Unix socket.
    pub docker_socket: PathBuf,
    /// Bearer token required on `/api/*`, if any.
    pub token: Option<Token>,
    /// Deadline for a whole HTTP request.
    pub request_timeout: Duration,
    /// Deadline for one engine call.
    pub engine_timeout: Duration,
    /// Per-container deadline in the aggregate.
    pub stats_timeout: Duration,
    /// Containers sampled at once by the aggregate.
    pub max_concurrency: usize,
    /// Engine calls in flight across all requests.
    pub max_engine_calls: usize,
    /// HTTP requests in flight.
    pub max_in_flight: usize,
    /// Connection deadlines and limit.
    pub conn: crate::ConnLimits,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("docker_socket", &self.docker_socket)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("request_timeout", &self.request_timeout)
            .field("engine_timeout", &self.engine_timeout)
            .field("stats_timeout", &self.stats_timeout)
            .field("max_concurrency", &self.max_concurrency)
            .field("max_engine_calls", &self.max_engine_calls)
            .field("max_in_flight", &self.max_in_flight)
            .field("conn", &self.conn)
            .finish()
    }
}

impl Config {
    /// Validates the flags and loads the token from the file or environment.
    pub fn from_args(args: &ProxySettings) -> Result<Self, DockerApiError> {
        let env_token = std::env::var(TOKEN_ENV).ok();
        Self::from_args_with_env_token(args, env_token)
    }

    /// Like [`Config::from_args`] with the token variable's value passed in,
    /// so callers (and tests) need not mutate the process environment.
    pub fn from_args_with_env_token(
        args: &ProxySettings,
        env_token: Option<String>,
    ) -> Result<Self, DockerApiError> {
        let listen = args
            .listen
            .parse()
            .map_err(|source| DockerApiError::InvalidListen {
                addr: args.listen.clone(),
                source,
            })?;
        let docker_socket = parse_docker_host(&args.docker_host)?;
        let token = resolve_token(args.token_file.as_deref(), env_token)?;
        for (name, value) in [
            ("--request-timeout", args.request_timeout),
            ("--engine-timeout", args.engine_timeout),
            ("--stats-timeout", args.stats_timeout),
            ("--header-read-timeout", args.header_read_timeout),
            ("--idle-timeout", args.idle_timeout),
        ] {
            if value.is_zero() {
                return Err(DockerApiError::InvalidConfig(format!(
                    "{name} must be greater than zero"
                )));
            }
            if value > MAX_TIMEOUT {
                return Err(DockerApiError::InvalidConfig(format!(
                    "{name} must be at most 24h (got {})",
                    humane(value)
                )));
            }
        }
        // A connection busy on a slow request moves no byte: the idle
        // deadline must not cut it before the request deadline does.
        if args.idle_timeout <= args.request_timeout {
            return Err(DockerApiError::InvalidConfig(format!(
                "--idle-timeout ({}) must exceed --request-timeout ({})",
                humane(args.idle_timeout),
                humane(args.request_timeout)
            )));
        }
        Ok(Self {
            listen,
            docker_socket,
            token,
            request_timeout: args.request_timeout,
            engine_timeout: args.engine_timeout,
            stats_timeout: args.stats_timeout,
            max_concurrency: positive(args.max_concurrency, "--max-concurrency")?,
            max_engine_calls: positive(args.max_engine_calls, "--max-engine-calls")?,
            max_in_flight: positive(args.max_in_flight, "--max-in-flight")?,
            conn: crate::ConnLimits {
                header_read_timeout: args.header_read_timeout,
                idle_timeout: args.idle_timeout,
                max_connections: positive(args.max_connections, "--max-connections")?,
            },
        })
    }
}

/// Longer than any deadline a person means: a day.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// A duration as the flags take it (`90s`, `1.5s`).
fn humane(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:?}", d)
    }
}

fn positive(value: u32, name: &str) -> Result<usize, DockerApiError> {
    if value == 0 {
        return Err(DockerApiError::InvalidConfig(format!(
            "{name} must be at least 1"
        )));
    }
    Ok(value as usize)
}

/// Accepts `unix:///path` or a bare absolute path; anything else is refused
/// because the proxy's safety argument rests on talking to a local socket.
fn parse_docker_host(host: &str) -> Result<PathBuf, DockerApiError> {
    let path = host.strip_prefix("unix://").unwrap_or(host);
    if path.is_empty() || !path.starts_with('/') || path.contains("://") {
        return Err(DockerApiError::UnsupportedDockerHost(host.to_string()));
    }
    Ok(PathBuf::from(path))
}

fn resolve_token(
    file: Option<&Path>,
    env_token: Option<String>,
) -> Result<Option<Token>, DockerApiError> {
    // An empty variable is treated as unset so `TARS_DOCKER_API_TOKEN=` in a
    // unit file does not silently turn into "any empty bearer passes".
    let env_token = env_token.filter(|t| !t.is_empty());
    match (file, env_token) {
        (Some(_), Some(_)) => Err(DockerApiError::AmbiguousToken),
        (Some(path), None) => {
            let raw =
                std::fs::read_to_string(path).map_err(|source| DockerApiError::TokenFile {
                    path: path.to_path_buf(),
                    source,
                })?;
            let first = raw.lines().next().unwrap_or("").trim();
            if first.is_empty() {
                return Err(DockerApiError::EmptyToken(path.display().to_string()));
            }
            Ok(Some(Token::new(first)))
        }
        (None, Some(value)) => {
            let value = value.trim();
            if value.is_empty() {
                return Err(DockerApiError::EmptyToken(TOKEN_ENV.to_string()));
            }
            Ok(Some(Token::new(value)))
        }
        (None, None) => Ok(None),
    }
}

/// A bearer token; never printed, compared in constant time.
#[derive(Clone)]
pub struct Token(Vec<u8>);

impl Token {
    /// Wraps a token value.
    pub fn new(value: &str) -> Self {
        Self(value.as_bytes().to_vec())
    }

    /// Constant-time comparison against a presented credential. Only the
    /// length can leak, which says nothing useful about a random token.
    pub fn matches(&self, presented: &[u8]) -> bool {
        self.0.ct_eq(presented).into()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_host_forms() {
        assert_eq!(
            parse_docker_host("unix:///var/run/docker.sock").unwrap(),
            PathBuf::from("/var/run/docker.sock")
        );
        assert_eq!(
            parse_docker_host("/tmp/d.sock").unwrap(),
            PathBuf::from("/tmp/d.sock")
        );
        for bad in ["tcp://127.0.0.1:2375", "unix://", "", "relative.sock"] {
            assert!(parse_docker_host(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_sources() {
        assert!(resolve_token(None, None).unwrap().is_none());
        assert!(resolve_token(None, Some(String::new())).unwrap().is_none());
        let t = resolve_token(None, Some(" s3cret \n".into()))
            .unwrap()
            .unwrap();
        assert!(t.matches(b"s3cret"));
        assert!(!t.matches(b"s3cre"));
        assert!(!t.matches(b"s3cret2"));
        assert!(!t.matches(b""));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "abc\nignored\n").unwrap();
        let t = resolve_token(Some(&path), None).unwrap().unwrap();
        assert!(t.matches(b"abc"));
        assert!(matches!(
            resolve_token(Some(&path), Some("x".into())),
            Err(DockerApiError::AmbiguousToken)
        ));
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(
            resolve_token(Some(&path), None),
            Err(DockerApiError::EmptyToken(_))
        ));
        assert!(matches!(
            resolve_token(Some(&dir.path().join("nope")), None),
            Err(DockerApiError::TokenFile { .. })
        ));
    }

    #[test]
    fn token_debug_is_redacted() {
        let args = ProxySettings::default();
        let cfg = Config::from_args_with_env_token(&args, Some("topsecret".into())).unwrap();
        let shown = format!("{cfg:?} {:?}", cfg.token);
        assert!(!shown.contains("topsecret"), "{shown}");
    }

    #[test]
    fn rejects_bad_values() {
        let args = ProxySettings {
            listen: "nope".into(),
            ..ProxySettings::default()
        };
        assert!(matches!(
            Config::from_args_with_env_token(&args, None),
            Err(DockerApiError::InvalidListen { .. })
        ));
        let refused = |args: ProxySettings| match Config::from_args_with_env_token(&args, None) {
            Err(DockerApiError::InvalidConfig(msg)) => msg,
            other => panic!("accepted: {other:?}"),
        };
        let d = ProxySettings::default;
        refused(ProxySettings {
            stats_timeout: Duration::ZERO,
            ..d()
        });
        let msg = refused(ProxySettings {
            idle_timeout: Duration::ZERO,
            ..d()
        });
        assert_eq!(msg, "--idle-timeout must be greater than zero");
        let msg = refused(ProxySettings {
            header_read_timeout: Duration::from_secs(200 * 3600),
            ..d()
        });
        assert_eq!(
            msg,
            "--header-read-timeout must be at most 24h (got 720000s)"
        );
        let msg = refused(ProxySettings {
            idle_timeout: Duration::from_secs(10),
            ..d()
        });
        assert_eq!(
            msg,
            "--idle-timeout (10s) must exceed --request-timeout (15s)"
        );
        let msg = refused(ProxySettings {
            max_connections: 0,
            ..d()
        });
        assert_eq!(msg, "--max-connections must be at least 1");
    }
}
