//! stackwire: Pulumi stack outputs → mapped environment variables → files, CI settings, deploys.
//!
//! `main.rs` only calls [`run`]. Layout: `cli` (what was typed) → `config` (resolved settings)
//! → `commands/<verb>` (one per subcommand) over the domain modules (`mapping`, `source`,
//! `pulumi`, `state`, `resolve`, `format`, `render`), which return data; `output` prints.

mod adopt;
mod cli;
mod commands;
mod config;
mod error;
mod format;
mod fsutil;
mod github;
mod gojson;
mod health;
mod lint;
mod mapping;
mod output;
mod pulumi;
mod render;
mod resolve;
mod shellwords;
mod source;
mod state;
mod template;
mod value;
mod vars;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::error::ExitStatus;
use crate::output::{Level, Printer};

/// Run stackwire with `args` (including the program name) and return its exit code.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::parse(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Invalid.into()
            } else {
                ExitStatus::Success.into()
            };
        }
    };
    let level = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Level::Quiet,
        (false, 0) => Level::Normal,
        (false, _) => Level::Verbose,
    };
    let printer = Printer::new(level, cli.global.color);
    match commands::dispatch(cli, printer) {
        Ok(status) => status.into(),
        Err(err) if error::is_broken_pipe(&err) => ExitStatus::Success.into(),
        Err(err) => {
            printer.error(&err);
            error::classify(&err).into()
        }
    }
}
