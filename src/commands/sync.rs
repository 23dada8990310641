//! `stackwire sync` (issue 4). Placeholder until the GitHub sync lands.

use crate::cli::SyncArgs;
use crate::config::Settings;
use crate::error::ExitStatus;
use crate::output::Printer;
use crate::vars::Var;

pub(super) fn run(
    settings: &Settings,
    args: &SyncArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let vars = super::load_vars(settings, !args.dry_run, printer)?;
    sync_vars(settings, &vars, args, printer)
}

/// Sync already-resolved variables to every GitHub target of the mapping (used by `deploy`).
pub(super) fn sync_vars(
    _settings: &Settings,
    _vars: &[Var],
    _args: &SyncArgs,
    _printer: Printer,
) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`stackwire sync` is not built yet (issue 4)")
}
