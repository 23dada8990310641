//! `stackwire check` (issue 6). Placeholder.

use crate::cli::{CheckArgs, GlobalArgs};
use crate::error::ExitStatus;
use crate::output::Printer;

pub(super) fn run(
    _global: &GlobalArgs,
    _args: &CheckArgs,
    _printer: Printer,
) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("`stackwire check` is not built yet (issue 6)")
}
