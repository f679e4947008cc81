//! The clap command as people see it: one example per command, the alias
//! binaries' own usage lines, the closed sets of values clap should check,
//! and what is generated from it (shell completions, man pages).

use std::path::{Path, PathBuf};

use clap::builder::PossibleValuesParser;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;
use crate::error::{Error, Result};

/// One example per command, by its path under `tars`.
const EXAMPLES: &[(&str, &str)] = &[
    ("demo", "tars demo --scenario rollback --data-dir /tmp/week"),
    (
        "ga-kpi",
        "tars ga-kpi --prometheus-url http://prometheus:9090 --ga-timestamp 2025-11-18T00:00:00Z",
    ),
    (
        "stability-monitor",
        "tars stability-monitor --day-number 3 --prometheus-url http://prometheus:9090",
    ),
    (
        "anomaly-detector",
        "tars anomaly-detector --once --prometheus-url http://prometheus:9090",
    ),
    (
        "health-report",
        "tars health-report --day-number 3 --json | jq .health_score",
    ),
    (
        "regression-analyzer",
        "tars regression-analyzer --fail-on-rollback",
    ),
    ("retro", "tars retro --auto --output-dir /data/output"),
    (
        "kpi",
        "tars kpi check --prometheus-url http://prometheus:9090",
    ),
    (
        "kpi check",
        "tars kpi check --prometheus-url http://prometheus:9090",
    ),
    ("schema", "tars schema --out-dir docs/schemas"),
    (
        "docker-api",
        "tars docker-api --listen 127.0.0.1:3001 --token-file /etc/tars/docker-api-token",
    ),
    (
        "notify",
        "tars notify slack --webhook-url-file /etc/tars/slack-webhook",
    ),
    (
        "notify slack",
        "tars notify slack --what health --day-number 3 --webhook-url-file /etc/tars/slack-webhook",
    ),
    (
        "notify github",
        "tars notify github --repo acme/shop --dry-run",
    ),
    (
        "completions",
        "tars completions bash > /etc/bash_completion.d/tars",
    ),
    ("man", "tars man --out-dir /usr/local/share/man/man1"),
];

/// The priorities of action items, highest first.
pub const PRIORITIES: [&str; 4] = ["P0", "P1", "P2", "P3"];

/// `tars completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `tars man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory for the pages (tars.1, tars-demo.1, tars-ga-kpi.1, ...).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

fn example(text: &str) -> String {
    format!("Example:\n  {text}")
}

/// The whole command line of `tars`, as `--help`, completions and man pages show it.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command().after_help(example(
        "tars demo --data-dir ./week && jq .executive_summary ./week/output/GA_7DAY_RETROSPECTIVE.json",
    ));
    for (path, text) in EXAMPLES {
        cmd = at_path(cmd, path, &|c| c.after_help(example(text)));
    }
    // The priorities are plain strings in the notify crate's flags; clap
    // checks them here so `P9` is refused with the list of valid ones.
    at_path(cmd, "notify github", &|c| {
        c.mut_arg("min_priority", |a| {
            a.value_parser(PossibleValuesParser::new(PRIORITIES))
        })
    })
}

/// Applies `f` to the subcommand at `path` (names separated by spaces).
fn at_path(
    cmd: clap::Command,
    path: &str,
    f: &dyn Fn(clap::Command) -> clap::Command,
) -> clap::Command {
    match path.split_once(' ') {
        None => cmd.mut_subcommand(path, f),
        Some((head, rest)) => cmd.mut_subcommand(head, |c| at_path(c, rest, f)),
    }
}

/// The command line as the alias binary `tars-<sub>` shows it: its usage
/// line and example name the alias, not `tars <sub>`.
pub fn alias_command(sub: &str) -> clap::Command {
    let bin = format!("tars-{sub}");
    let mut built = command().bin_name("tars");
    built.build();
    let usage = built
        .find_subcommand_mut(sub)
        .map(|c| c.render_usage().to_string())
        .unwrap_or_default();
    let usage =
        usage
            .trim()
            .trim_start_matches("Usage:")
            .trim()
            .replacen(&format!("tars {sub}"), &bin, 1);
    let text = EXAMPLES
        .iter()
        .find(|(p, _)| *p == sub)
        .map(|(_, t)| t.replacen(&format!("tars {sub}"), &bin, 1));
    command().mut_subcommand(sub, |c| {
        let c = c.override_usage(usage);
        match &text {
            Some(t) => c.after_help(example(t)),
            None => c,
        }
    })
}

/// Prints the completion script for `shell`.
pub fn completions(shell: Shell) -> Result<()> {
    let mut cmd = command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "tars", &mut buf);
    crate::io::print_text(&String::from_utf8_lossy(&buf))
}

/// Writes one man page for `tars` and one for each command under it; a
/// command that has an alias binary gets its page under the alias's name
/// (`tars-ga-kpi.1`), which documents both spellings. Returns the files.
pub fn man_pages(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut root = command().bin_name("tars");
    root.build();
    let mut written = vec![write_page(dir, "tars", root.clone())?];
    for sub in root.get_subcommands().filter(|c| c.get_name() != "help") {
        let name = sub.get_name().to_string();
        let page = if super::ALIASES.contains(&name.as_str()) {
            let mut alias = alias_command(&name).bin_name("tars");
            alias.build();
            let bin = format!("tars-{name}");
            let about = format!(
                "{} (also `tars {name}`)",
                sub.get_about().map(|a| a.to_string()).unwrap_or_default()
            );
            alias
                .find_subcommand(&name)
                .cloned()
                .unwrap_or_else(|| sub.clone())
                .name(bin.clone())
                .display_name(bin.clone())
                .bin_name(bin)
                .about(about)
        } else {
            sub.clone()
        };
        written.extend(pages_of(dir, page)?);
    }
    Ok(written)
}

/// The page of `cmd` and of each of its own subcommands.
fn pages_of(dir: &Path, cmd: clap::Command) -> Result<Vec<PathBuf>> {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
    let mut out = vec![write_page(dir, &name, cmd.clone())?];
    for sub in cmd.get_subcommands().filter(|c| c.get_name() != "help") {
        out.extend(pages_of(dir, sub.clone())?);
    }
    Ok(out)
}

fn write_page(dir: &Path, name: &str, cmd: clap::Command) -> Result<PathBuf> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.version(env!("CARGO_PKG_VERSION")))
        .render(&mut buf)
        .map_err(|e| Error::Render(format!("man page {name}: {e}")))?;
    let path = dir.join(format!("{name}.1"));
    crate::io::write_atomic(&path, &buf)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_and_every_alias_pass_clap_checks() {
        command().debug_assert();
        for sub in super::super::ALIASES {
            alias_command(sub).debug_assert();
        }
    }

    #[test]
    fn every_command_has_an_example() {
        let mut root = command();
        root.build();
        let mut missing = Vec::new();
        for sub in root.get_subcommands().filter(|c| c.get_name() != "help") {
            if sub.get_after_help().is_none() {
                missing.push(sub.get_name().to_string());
            }
        }
        assert!(missing.is_empty(), "no example: {missing:?}");
    }

    #[test]
    fn alias_usage_names_the_alias_only() {
        let mut cmd = alias_command("stability-monitor");
        cmd.build();
        let sub = cmd.find_subcommand_mut("stability-monitor").unwrap();
        let usage = sub.render_usage().to_string();
        assert!(
            usage.contains("tars-stability-monitor [OPTIONS] --day-number <N>"),
            "{usage}"
        );
    }
}
