//! The one place that writes to the terminal: data to stdout, diagnostics to stderr.
//!
//! Commands receive a [`Printer`] and never call `print!`. Colour goes to stderr only, when it
//! is a terminal (or `--color always`), and honours `NO_COLOR`/`CLICOLOR` through `anstream`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, IsTerminal as _, Write as _};

use owo_colors::OwoColorize as _;

use crate::cli::ColorChoice;

/// How much to say on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Quiet,
    Normal,
    Verbose,
}

/// Writes command output; cheap to copy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Printer {
    level: Level,
    color: anstream::ColorChoice,
}

impl Printer {
    pub(crate) fn new(level: Level, color: ColorChoice) -> Self {
        let color = match color {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        Self { level, color }
    }

    /// Write data to stdout as is.
    pub(crate) fn data(&self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Whether stdout is a terminal (some formats behave differently when piped).
    pub(crate) fn stdout_is_terminal(&self) -> bool {
        io::stdout().is_terminal()
    }

    fn stderr(&self) -> anstream::AutoStream<io::Stderr> {
        anstream::AutoStream::new(io::stderr(), self.color)
    }

    /// Raw text to stderr (workflow commands such as `::add-mask::`), whatever the level.
    pub(crate) fn stderr_raw(&self, text: &str) {
        let mut err = io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }

    /// A progress or status line (hidden with `--quiet`).
    pub(crate) fn status(&self, msg: &str) {
        if self.level >= Level::Normal {
            let _ = writeln!(self.stderr(), "{msg}");
        }
    }

    /// A warning (hidden with `--quiet`).
    pub(crate) fn warn(&self, msg: &str) {
        if self.level >= Level::Normal {
            let _ = writeln!(self.stderr(), "{} {msg}", "warning:".yellow().bold());
        }
    }

    /// A detail shown with `-v`.
    pub(crate) fn verbose(&self, msg: &str) {
        if self.level >= Level::Verbose {
            let _ = writeln!(self.stderr(), "{} {msg}", "debug:".dimmed());
        }
    }

    /// A progress bar on stderr for `len` steps; hidden when quiet, for machine output, or
    /// when stderr is not a terminal.
    pub(crate) fn progress(&self, len: u64, machine_output: bool) -> indicatif::ProgressBar {
        if self.level < Level::Normal || machine_output || !io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        indicatif::ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr())
            .with_style(style)
    }

    /// The final error of a run, with its causes.
    pub(crate) fn error(&self, err: &anyhow::Error) {
        let mut stderr = self.stderr();
        let _ = writeln!(stderr, "{} {}", "error:".red().bold(), error_text(err));
    }
}

/// The error and its causes joined with `: `, skipping a cause whose text the message
/// already includes (module errors often show their source inline).
fn error_text(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
    }
    text
}
