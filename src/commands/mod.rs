//! One file per subcommand. Each takes resolved settings and the printer, and returns an
//! [`ExitStatus`] or an error for `lib.rs` to report.

mod adopt;
mod check;
mod completions;
mod deploy;
mod env;
mod health;
mod outputs;
mod render;
mod stacks;
mod sync;

use crate::cli::{Cli, Command};
use crate::config::Settings;
use crate::error::ExitStatus;
use crate::output::Printer;
use crate::resolve;
use crate::source::{self, Needs, StackData};
use crate::vars::Var;

/// Run the command the user asked for.
pub(crate) fn dispatch(cli: Cli, printer: Printer) -> anyhow::Result<ExitStatus> {
    match &cli.command {
        Command::Completions(args) => completions::completions(args, printer),
        Command::Man => completions::man(printer),
        Command::Outputs(args) => outputs::run(&Settings::resolve(&cli.global)?, args, printer),
        Command::Env(args) => env::run(&Settings::resolve(&cli.global)?, args, printer),
        Command::Render(args) => render::run(&Settings::resolve(&cli.global)?, args, printer),
        Command::Stacks(args) => stacks::run(&Settings::resolve(&cli.global)?, args, printer),
        Command::Sync(args) => sync::run(&Settings::resolve(&cli.global)?, args, printer),
        Command::Health(args) => health::run(&Settings::resolve(&cli.global)?, args, printer),
        Command::Deploy(args) => deploy::run(&Settings::resolve(&cli.global)?, args, printer),
        Command::Check(args) => check::run(&cli.global, args, printer),
        Command::Adopt(args) => adopt::run(&Settings::resolve(&cli.global)?, args, printer),
    }
}

/// Show what the source wants the user to know.
fn show_notes(data: &StackData, printer: Printer) {
    printer.verbose(&format!("read {}", data.detail));
    for note in &data.notes {
        printer.warn(note);
    }
}

/// Read the stack (decrypting only when `plaintext`) and resolve the mapped variables.
fn load_vars(settings: &Settings, plaintext: bool, printer: Printer) -> anyhow::Result<Vec<Var>> {
    let mapping = &settings.mapping;
    let needs = Needs {
        config: mapping.uses_config(),
        plaintext,
    };
    let data = source::load(
        &settings.origin,
        &mapping.stack,
        &mapping.project_dir,
        needs,
    )?;
    show_notes(&data, printer);
    Ok(resolve::resolve(mapping, &data)?)
}
