//! `stackwire deploy` (issue 5). Placeholder.

use crate::cli::DeployArgs;
use crate::config::Settings;
use crate::error::ExitStatus;
use crate::output::Printer;

pub(super) fn run(
    _settings: &Settings,
    _args: &DeployArgs,
    _printer: Printer,
) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`stackwire deploy` is not built yet (issue 5)")
}
