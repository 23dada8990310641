//! `stackwire adopt` (issue 7). Placeholder.

use crate::cli::AdoptArgs;
use crate::config::Settings;
use crate::error::ExitStatus;
use crate::output::Printer;

pub(super) fn run(
    _settings: &Settings,
    _args: &AdoptArgs,
    _printer: Printer,
) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`stackwire adopt` is not built yet (issue 7)")
}
