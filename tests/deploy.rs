//! Structure of the deployment files, and that every command line in them is
//! one the real CLI accepts (each flag is checked against `tars <sub> --help`):
//! compose, Kubernetes, the Dockerfile. The systemd units are in
//! tests/deploy_systemd.rs.

#[path = "support/deploy/mod.rs"]
#[allow(dead_code)]
mod deploy_support;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use deploy_support::*;
use serde_yaml::Value;

#[test]
fn compose_profiles_and_commands() {
    let text = read("docker-compose.yaml");
    let mut doc: Value = serde_yaml::from_str(&text).unwrap();
    // Compose resolves `<<: *tars`; serde_yaml only does so when asked.
    doc.apply_merge().unwrap();
    let services = doc["services"].as_mapping().expect("services");
    let mut profiles: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut cache = HashMap::new();
    for (name, svc) in services {
        let name = name.as_str().unwrap().to_string();
        for p in strings(&svc["profiles"]) {
            profiles.entry(p).or_default().insert(name.clone());
        }
        // docker-compose 1.29 (Debian 12) knows only the short env_file form,
        // and fails on a missing file: settings come from `environment`.
        assert!(svc["env_file"].is_null(), "{name}: env_file");
        let image = svc["image"].as_str().unwrap_or_default();
        assert!(
            !image.is_empty() && !image.ends_with(":latest"),
            "{name}: image {image}"
        );
        assert_eq!(svc["build"].as_str(), Some("."), "{name}: build");
        // One binary in the image: every service runs `tars`.
        let entry = strings(&svc["entrypoint"]);
        assert_eq!(entry, ["tars"], "{name}: entrypoint");
        let args = strings(&svc["command"]);
        check_invocation(&mut cache, "tars", &args, &format!("compose {name}"));
        let serves = args.first().is_some_and(|a| a == "watch");
        if serves {
            assert_eq!(
                strings(&svc["healthcheck"]["test"]),
                ["CMD", "tars", "probe"],
                "{name}: healthcheck"
            );
            let listen = args
                .iter()
                .position(|a| a == "--listen")
                .map(|i| &args[i + 1]);
            assert_eq!(listen.map(String::as_str), Some("0.0.0.0:9464"), "{name}");
        } else if name != "docker-api" {
            // The image's check probes a listener that one-shot jobs lack.
            assert_eq!(
                svc["healthcheck"]["disable"].as_bool(),
                Some(true),
                "{name}: healthcheck"
            );
        }
        if name != "docker-api" {
            let vols = strings(&svc["volumes"]);
            assert!(
                vols.iter().any(|v| v.ends_with(":/data")),
                "{name}: no /data volume"
            );
        }
    }
    let want = [
        ("ga-day", vec!["ga-kpi-collector"]),
        ("daily", vec!["health-reporter", "stability-monitor"]),
        (
            "day7",
            // The retrospective has no profile: it is the default service and is
            // also active under `--profile day7`.
            vec!["regression-analyzer"],
        ),
        ("watch", vec!["watch"]),
        // Needs no Prometheus.
        ("testing", vec!["demo", "watch-sim"]),
    ];
    for (p, svcs) in want {
        let got: Vec<&str> = profiles[p].iter().map(String::as_str).collect();
        assert_eq!(got, svcs, "profile {p}");
    }
    for s in ["demo", "watch-sim"] {
        let args = strings(&services[s]["command"]);
        assert!(
            args.first().is_some_and(|a| a == "demo")
                || args
                    .windows(2)
                    .any(|w| w[0] == "--source" && w[1].starts_with("sim")),
            "{s}: not on the simulator"
        );
        assert!(
            strings(&services[s]["volumes"]).contains(&"tars-testing:/data".to_string()),
            "{s}: the testing profile keeps out of tars-data"
        );
    }
    assert!(profiles["monitoring"].contains("anomaly-detector"));
    assert!(
        services["retrospective-generator"]["profiles"].is_null(),
        "the retrospective is the default service"
    );
    let api = &services["docker-api"];
    assert!(strings(&api["volumes"])
        .contains(&"/var/run/docker.sock:/var/run/docker.sock:ro".to_string()));
    // The socket's group differs between hosts: no numeric default.
    assert_eq!(api["user"].as_str(), Some("1000:1000"));
    let groups = strings(&api["group_add"]);
    assert_eq!(groups.len(), 1);
    assert!(
        groups[0].starts_with("${DOCKER_GID:-")
            && !groups[0][14..].starts_with(|c: char| c.is_ascii_digit()),
        "group_add {groups:?}"
    );
    assert!(!text.contains("999"), "a guessed docker GID");
    for v in ["tars-data", "tars-testing"] {
        assert!(
            doc["volumes"].as_mapping().unwrap().contains_key(v),
            "volume {v}"
        );
    }
    let env = read("deploy/.env.example");
    for k in ["PROMETHEUS_URL", "GA_TIMESTAMP", "DAY_NUMBER", "TZ"] {
        assert!(
            env.lines().any(|l| l.starts_with(&format!("{k}="))),
            ".env.example lacks {k}"
        );
    }
    assert!(
        env.contains("DOCKER_GID") && env.contains("stat -c %g /var/run/docker.sock"),
        ".env.example does not say how to set DOCKER_GID"
    );
}

/// `docker-compose config` accepts the file under every profile (Debian 12's
/// docker-compose 1.29, and Compose v2 when installed); skipped without either.
#[test]
fn compose_config_parses() {
    let runs = |program: &str, pre: &[&str]| {
        std::process::Command::new(program)
            .args(pre)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut tools: Vec<(&str, Vec<&str>)> = Vec::new();
    if runs("docker-compose", &[]) {
        tools.push(("docker-compose", vec![]));
    }
    if runs("docker", &["compose"]) {
        tools.push(("docker", vec!["compose"]));
    }
    if tools.is_empty() {
        eprintln!("compose_config_parses: no docker-compose and no docker compose: skipped");
        return;
    }
    for (program, pre) in tools {
        for profile in [
            "",
            "ga-day",
            "daily",
            "monitoring",
            "day7",
            "watch",
            "testing",
        ] {
            let mut cmd = std::process::Command::new(program);
            cmd.args(&pre)
                .arg("-f")
                .arg(root().join("docker-compose.yaml"))
                .arg("--project-directory")
                .arg(root());
            if !profile.is_empty() {
                cmd.args(["--profile", profile]);
            }
            let out = cmd
                .args(["config", "-q"])
                .env_remove("DOCKER_GID")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{program} {pre:?} --profile {profile} config: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn containers(pod: &Value) -> Vec<Value> {
    let mut v: Vec<Value> = pod["initContainers"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    v.extend(pod["containers"].as_sequence().cloned().unwrap_or_default());
    v
}

/// The paths `tars watch` serves, read from its router.
fn served_paths() -> BTreeSet<String> {
    read("src/watch/server.rs")
        .split(".route(\"")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(String::from))
        .collect()
}

/// Every YAML document under `deploy/k8s/` (and `optional/`), with its file.
fn k8s_docs() -> Vec<(PathBuf, Value)> {
    let mut files = Vec::new();
    for dir in ["deploy/k8s", "deploy/k8s/optional"] {
        files.extend(
            std::fs::read_dir(root().join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml")),
        );
    }
    files.sort();
    let mut docs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            docs.push((f.clone(), Value::deserialize_from(doc)));
        }
    }
    docs
}

#[test]
fn kubernetes_manifests() {
    let docs = k8s_docs();
    let named = |kind: &str| -> BTreeSet<String> {
        docs.iter()
            .filter(|(_, d)| d["kind"].as_str() == Some(kind))
            .map(|(_, d)| d["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let claims = named("PersistentVolumeClaim");
    let config_maps = named("ConfigMap");
    let config_keys: BTreeSet<String> = docs
        .iter()
        .filter(|(_, d)| d["kind"].as_str() == Some("ConfigMap"))
        .flat_map(|(_, d)| d["data"].as_mapping().unwrap().keys())
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let served = served_paths();
    assert!(
        ["/metrics", "/healthz", "/readyz"]
            .iter()
            .all(|p| served.contains(*p)),
        "{served:?}"
    );
    let tag = format!(":{}", env!("CARGO_PKG_VERSION"));
    let mut kinds: Vec<(String, String)> = Vec::new();
    let mut cache = HashMap::new();
    let mut schedules = Vec::new();
    for (f, doc) in &docs {
        let kind = doc["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{f:?}: no kind"))
            .to_string();
        let name = doc["metadata"]["name"].as_str().unwrap().to_string();
        if kind != "Namespace" {
            assert_eq!(
                doc["metadata"]["namespace"].as_str(),
                Some("tars"),
                "{name}"
            );
        }
        let (pod, labels) = match kind.as_str() {
            "Job" | "Deployment" => (
                Some(doc["spec"]["template"]["spec"].clone()),
                doc["spec"]["template"]["metadata"]["labels"].clone(),
            ),
            "CronJob" => {
                schedules.push((
                    name.clone(),
                    doc["spec"]["schedule"].as_str().unwrap().to_string(),
                ));
                (
                    Some(doc["spec"]["jobTemplate"]["spec"]["template"]["spec"].clone()),
                    Value::Null,
                )
            }
            _ => (None, Value::Null),
        };
        if kind == "Deployment" {
            assert_eq!(
                doc["spec"]["selector"]["matchLabels"], labels,
                "{name}: selector"
            );
        }
        if let Some(pod) = pod {
            let sc = &pod["securityContext"];
            assert_eq!(sc["runAsNonRoot"].as_bool(), Some(true), "{name}");
            assert_eq!(sc["runAsUser"].as_u64(), Some(1000), "{name}");
            for v in pod["volumes"].as_sequence().into_iter().flatten() {
                if let Some(c) = v["persistentVolumeClaim"]["claimName"].as_str() {
                    assert!(claims.contains(c), "{name}: no claim {c}");
                }
            }
            for c in containers(&pod) {
                let at = format!("{name}/{}", c["name"].as_str().unwrap_or("?"));
                let image = c["image"].as_str().unwrap();
                assert!(image.ends_with(&tag), "{at}: image {image}, not {tag}");
                assert_eq!(c["imagePullPolicy"].as_str(), Some("IfNotPresent"), "{at}");
                for e in c["envFrom"].as_sequence().into_iter().flatten() {
                    let cm = e["configMapRef"]["name"].as_str().unwrap();
                    assert!(config_maps.contains(cm), "{at}: no ConfigMap {cm}");
                }
                let cmd = strings(&c["command"]);
                let args = strings(&c["args"]);
                assert_eq!(
                    c["securityContext"]["readOnlyRootFilesystem"].as_bool(),
                    Some(true),
                    "{at}"
                );
                if cmd.first().is_some_and(|p| p.contains("sh")) {
                    let script = args.join("\n");
                    bash_n(&script, &at);
                    // Each variable the wrapper reads comes from the ConfigMap.
                    for var in script.split('$').skip(1).filter_map(|s| {
                        let s = s.trim_start_matches('{');
                        let v: String = s
                            .chars()
                            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                            .collect();
                        (!v.is_empty()).then_some(v)
                    }) {
                        assert!(
                            config_keys.contains(&var),
                            "{at}: ${var} is not in tars-config"
                        );
                    }
                    let inv = shell_invocations(&script);
                    assert!(!inv.is_empty(), "{at}: the wrapper runs no tars command");
                    for i in inv {
                        check_invocation(&mut cache, &i[0], &i[1..], &at);
                    }
                } else {
                    check_invocation(&mut cache, &cmd[0], &args, &at);
                }
                check_probes(
                    &c,
                    &args,
                    &doc["spec"]["template"]["metadata"],
                    &served,
                    &at,
                );
            }
            if name == "tars-anomaly-detector" || name == "tars-watch" {
                let c = &containers(&pod)[0];
                assert!(
                    !c["resources"]["requests"].is_null() && !c["resources"]["limits"].is_null()
                );
                assert!(
                    !strings(&c["args"]).contains(&"--once".to_string()),
                    "continuous mode"
                );
                // One writer for the data directory.
                assert_eq!(doc["spec"]["strategy"]["type"].as_str(), Some("Recreate"));
            }
            if name == "tars-docker-api" {
                // The socket's group, to be filled in from the nodes.
                assert_eq!(
                    strings(&sc["supplementalGroups"]),
                    ["DOCKER_GID"],
                    "{name}: supplementalGroups"
                );
            }
        }
        if kind == "Service" {
            let sel = &doc["spec"]["selector"];
            let target = docs.iter().find(|(_, d)| {
                d["kind"].as_str() == Some("Deployment")
                    && &d["spec"]["template"]["metadata"]["labels"] == sel
            });
            let (_, dep) = target.unwrap_or_else(|| panic!("{name}: selects no Deployment"));
            let ports: Vec<Value> = containers(&dep["spec"]["template"]["spec"])
                .iter()
                .flat_map(|c| c["ports"].as_sequence().cloned().unwrap_or_default())
                .collect();
            for p in doc["spec"]["ports"].as_sequence().unwrap() {
                let t = &p["targetPort"];
                assert!(
                    ports
                        .iter()
                        .any(|cp| &cp["name"] == t || &cp["containerPort"] == t),
                    "{name}: targetPort {t:?} is no container port"
                );
            }
        }
        if kind == "PersistentVolumeClaim" {
            // ReadWriteMany needs a storage class many clusters lack.
            assert_eq!(
                strings(&doc["spec"]["accessModes"]),
                ["ReadWriteOnce"],
                "{name}"
            );
        }
        kinds.push((kind, name));
    }
    for k in [
        "Namespace",
        "ConfigMap",
        "PersistentVolumeClaim",
        "Job",
        "CronJob",
        "Deployment",
        "Service",
    ] {
        assert!(kinds.iter().any(|(x, _)| x == k), "no {k}");
    }
    assert!(kinds.contains(&("Deployment".into(), "tars-watch".into())));
    schedules.sort();
    assert_eq!(
        schedules,
        vec![
            ("tars-health-report".to_string(), "5 0 * * *".to_string()),
            (
                "tars-stability-monitor".to_string(),
                "59 23 * * *".to_string()
            ),
        ]
    );
}

/// A container that runs `tars watch` has liveness on /healthz and readiness
/// on /readyz at the port it listens on, and the pod's scrape annotations name
/// that port and a served path; probes elsewhere point at served paths too.
fn check_probes(c: &Value, args: &[String], meta: &Value, served: &BTreeSet<String>, at: &str) {
    let watch = args.first().is_some_and(|a| a == "watch");
    let port = if watch {
        let listen = args
            .iter()
            .position(|a| a == "--listen")
            .map(|i| args[i + 1].clone())
            .unwrap_or_else(|| panic!("{at}: watch without --listen"));
        assert!(
            listen.starts_with("0.0.0.0:"),
            "{at}: {listen} is not reachable"
        );
        let port: u64 = listen.rsplit(':').next().unwrap().parse().unwrap();
        let declared: Vec<u64> = c["ports"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|p| p["containerPort"].as_u64())
            .collect();
        assert_eq!(declared, [port], "{at}: containerPort");
        let ann = &meta["annotations"];
        assert_eq!(ann["prometheus.io/scrape"].as_str(), Some("true"), "{at}");
        assert_eq!(
            ann["prometheus.io/port"].as_str(),
            Some(port.to_string().as_str()),
            "{at}"
        );
        assert!(
            served.contains(ann["prometheus.io/path"].as_str().unwrap_or("")),
            "{at}: scrape path"
        );
        Some(port)
    } else {
        None
    };
    for (probe, want) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &c[probe]["httpGet"];
        if watch {
            assert_eq!(get["path"].as_str(), Some(want), "{at}: {probe}");
            assert_eq!(get["port"].as_u64(), port, "{at}: {probe} port");
        } else if let Some(p) = get["path"].as_str() {
            assert!(served.contains(p), "{at}: {probe} {p} is not served");
        }
    }
}

trait FromDe {
    fn deserialize_from(d: serde_yaml::Deserializer<'_>) -> Value;
}
impl FromDe for Value {
    fn deserialize_from(d: serde_yaml::Deserializer<'_>) -> Value {
        serde::Deserialize::deserialize(d).unwrap()
    }
}

/// The stages of the Dockerfile: (FROM line, the lines up to the next FROM).
fn stages(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    // Continuation lines are joined so each instruction is one line.
    let joined = text.replace("\\\n", " ");
    for l in joined.lines().filter(|l| !l.trim_start().starts_with('#')) {
        if l.starts_with("FROM ") {
            out.push((l.to_string(), Vec::new()));
        } else if let Some((_, body)) = out.last_mut() {
            if !l.trim().is_empty() {
                body.push(l.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        }
    }
    out
}

#[test]
fn dockerfile_structure() {
    let text = read("Dockerfile");
    // A `# syntax=` line makes BuildKit fetch a frontend from a registry.
    assert!(!text.contains("syntax="), "no # syntax line");
    let st = stages(&text);
    let from: Vec<&str> = st.iter().map(|(f, _)| f.as_str()).collect();
    // The prebuilt target comes before the builder: the legacy builder builds
    // every stage up to --target and must not need rust:1-bookworm for it.
    assert_eq!(
        from,
        [
            "FROM debian:bookworm-slim AS runtime-base",
            "FROM runtime-base AS runtime-prebuilt",
            "FROM rust:1-bookworm AS builder",
            "FROM runtime-base AS runtime",
        ]
    );
    let base = st[0].1.join("\n");
    for want in [
        "ca-certificates",
        "useradd --uid 1000",
        "TARS_LISTEN=0.0.0.0:9464",
        "EXPOSE 9464",
        "HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD [\"tars\", \"probe\"]",
        "ENTRYPOINT [\"tars\"]",
        "CMD [\"tars-retro\", \"--auto\", \"--output-dir\", \"/data/output\"]",
    ] {
        assert!(base.contains(want), "runtime-base lacks {want}");
    }
    assert!(st[2]
        .1
        .join("\n")
        .contains("cargo build --release --locked --bin tars"));
    // The two final stages differ only in where the one binary comes from.
    let (pre, full) = (&st[1].1, &st[3].1);
    assert_eq!(pre[0], "COPY target/release/tars /usr/local/bin/tars");
    assert_eq!(
        full[0],
        "COPY --from=builder /src/target/release/tars /usr/local/bin/tars"
    );
    assert_eq!(pre[1..], full[1..], "runtime and runtime-prebuilt differ");
    let copies = text
        .lines()
        .filter(|l| l.starts_with("COPY ") && l.contains("/usr/local/bin"))
        .count();
    assert_eq!(copies, 2, "one binary per final stage");
    let finish = pre.join("\n");
    // A symbolic link for each alias name the binary dispatches on.
    let links = finish
        .split("for a in ")
        .nth(1)
        .and_then(|s| s.split(';').next())
        .unwrap_or_default();
    let mut got: Vec<&str> = links.split_whitespace().collect();
    got.sort_unstable();
    let mut want: Vec<String> = tars::cli::ALIASES
        .iter()
        .map(|a| format!("tars-{a}"))
        .collect();
    want.sort();
    assert_eq!(got, want, "alias links");
    assert!(finish.contains("ln -s tars \"$a\""));
    for want in [
        "tars completions bash > /usr/share/bash-completion/completions/tars",
        "tars completions zsh > /usr/share/zsh/vendor-completions/_tars",
        "tars completions fish > /usr/share/fish/vendor_completions.d/tars.fish",
        "tars man --out-dir /usr/share/man/man1",
        "USER 1000:1000",
        "VOLUME [\"/data\"]",
    ] {
        assert!(finish.contains(want), "runtime-prebuilt lacks {want}");
    }
    // The default command is one the CLI accepts.
    let mut cache = HashMap::new();
    check_invocation(
        &mut cache,
        "tars",
        &["tars-retro", "--auto", "--output-dir", "/data/output"].map(String::from),
        "Dockerfile CMD",
    );
    // The context keeps only the release binary out of target/.
    let ignore = read(".dockerignore");
    let lines: Vec<&str> = ignore.lines().map(str::trim).collect();
    assert!(lines.contains(&"target") && lines.contains(&"!target/release/tars"));
}

#[test]
fn image_test_script_and_ci() {
    let script = read("scripts/image_test.sh");
    bash_n(&script, "image_test.sh");
    for want in [
        "debootstrap --variant=minbase bookworm",
        "docker import",
        "cargo build --release --locked --bin tars",
        "--target runtime-prebuilt",
        "tars-ga-kpi --help",
        "watch --source sim:regressions",
        "tars_health_score",
        "id -u",
        ".State.Health.Status",
    ] {
        assert!(script.contains(want), "image_test.sh lacks {want}");
    }
    let ci = read(".ci/run");
    assert!(ci.contains("debootstrap") && ci.contains("scripts/image_test.sh"));
}
