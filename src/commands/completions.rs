//! `stackwire completions <shell>` and the hidden `stackwire man`.

use crate::cli::{self, CompletionsArgs};
use crate::error::ExitStatus;
use crate::output::Printer;

pub(super) fn completions(args: &CompletionsArgs, printer: Printer) -> anyhow::Result<ExitStatus> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cli::command(), "stackwire", &mut buf);
    printer.data(&String::from_utf8_lossy(&buf))?;
    Ok(ExitStatus::Success)
}

pub(super) fn man(printer: Printer) -> anyhow::Result<ExitStatus> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cli::command()).render(&mut buf)?;
    printer.data(&String::from_utf8_lossy(&buf))?;
    Ok(ExitStatus::Success)
}
