//! One file per subcommand. Each takes resolved settings and the printer, and returns an
//! [`ExitStatus`] or an error for `lib.rs` to report.

mod completions;
mod env;
mod outputs;
mod render;
mod stacks;

use crate::cli::{Cli, Command};
use crate::config::Settings;
use crate::error::ExitStatus;
use crate::output::Printer;
use crate::source::StackData;

/// Run the command the user asked for.
pub(crate) fn dispatch(cli: Cli, printer: Printer) -> anyhow::Result<ExitStatus> {
    match &cli.command {
        Command::Completions(args) => completions::completions(args, printer),
        Command::Man => completions::man(printer),
        Command::Outputs(args) => outputs::run(&Settings::resolve(&cli.global)?, args, printer),
        Command::Env(args) => env::run(&Settings::resolve(&cli.global)?, args, printer),
        Command::Render(args) => render::run(&Settings::resolve(&cli.global)?, args, printer),
        Command::Stacks(args) => stacks::run(&Settings::resolve(&cli.global)?, args, printer),
    }
}

/// Show what the source wants the user to know.
fn show_notes(data: &StackData, printer: Printer) {
    printer.verbose(&format!("read {}", data.detail));
    for note in &data.notes {
        printer.warn(note);
    }
}
