//! Where a command's summary goes: the human text, one JSON object, or
//! nothing. Everything goes through [`crate::io::print_text`], so a reader
//! that left early (`tars demo | head -1`) ends the command quietly.

use std::io::IsTerminal;

use super::args::{ColorChoice, OutputArgs};
use crate::error::Result;
use crate::render::terminal::Term;

/// What a command prints on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Human,
    Json,
    Quiet,
}

/// The resolved `--json`, `--quiet` and `--color` of one run.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub mode: Mode,
    pub term: Term,
}

/// Whether to colour a stream: `--color always|never` wins; `auto` colours a
/// terminal unless NO_COLOR is set to anything non-empty (no-color.org).
pub fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

impl Output {
    pub fn new(args: OutputArgs, color: ColorChoice) -> Self {
        let mode = if args.json {
            Mode::Json
        } else if args.quiet {
            Mode::Quiet
        } else {
            Mode::Human
        };
        let tty = std::io::stdout().is_terminal();
        Output {
            mode,
            term: Term {
                color: use_color(color, tty),
                tty,
            },
        }
    }

    /// `src` with a progress bar on stderr while it answers, for a live
    /// Prometheus in a human run on a terminal (never with --json or
    /// --quiet, never into a pipe or a log).
    pub fn progress(
        &self,
        src: Box<dyn crate::source::MetricsSource>,
    ) -> Box<dyn crate::source::MetricsSource> {
        let show = self.mode == Mode::Human
            && std::io::stderr().is_terminal()
            && src.describe().starts_with("prometheus");
        crate::source::progress::WithProgress::wrap(src, show)
    }

    /// Prints the summary of a run: `human` renders it for a person, `json`
    /// is the object `--json` prints (one line). Only the one asked for is built.
    pub fn summary(
        &self,
        human: impl FnOnce(&Term) -> String,
        json: impl FnOnce() -> serde_json::Value,
    ) -> Result<()> {
        match self.mode {
            Mode::Human => crate::io::print_text(&human(&self.term)),
            Mode::Json => crate::io::print_text(&format!("{}\n", json())),
            Mode::Quiet => Ok(()),
        }
    }

    /// A warning on stderr; `--quiet` drops it (the artifact records it).
    pub fn warn(&self, msg: &str) {
        if self.mode != Mode::Quiet {
            eprintln!("warning: {msg}");
        }
    }
}
