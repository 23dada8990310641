//! `stackwire health` (issue 5). Placeholder until health checks land.

use crate::cli::HealthArgs;
use crate::config::Settings;
use crate::error::ExitStatus;
use crate::output::Printer;
use crate::vars::Var;

pub(super) fn run(
    settings: &Settings,
    args: &HealthArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let vars = super::load_vars(settings, true, printer)?;
    health_vars(settings, &vars, args, printer)
}

/// Run the health checks over already-resolved variables (used by `deploy`).
pub(super) fn health_vars(
    _settings: &Settings,
    _vars: &[Var],
    _args: &HealthArgs,
    _printer: Printer,
) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`stackwire health` is not built yet (issue 5)")
}
