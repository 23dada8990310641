//! `stackwire render [--check]`: write (or check) every file target of the mapping.

use super::load_vars;
use crate::cli::RenderArgs;
use crate::config::Settings;
use crate::error::ExitStatus;
use crate::output::Printer;
use crate::render;
use crate::vars::Var;

pub(super) fn run(
    settings: &Settings,
    args: &RenderArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let mapping = &settings.mapping;
    if mapping.files.is_empty() {
        printer.status(&format!(
            "{} has no `files:` targets; nothing to render",
            mapping.file.display()
        ));
        return Ok(ExitStatus::Success);
    }
    let vars = load_vars(settings, true, printer)?;
    render_vars(settings, &vars, args.check, printer)
}

/// Write (or with `check`, compare) every file target for already-resolved variables.
pub(super) fn render_vars(
    settings: &Settings,
    vars: &[Var],
    check: bool,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let planned = render::plan(&settings.mapping, vars, &settings.root)?;
    let changed: Vec<&render::Planned> = planned.iter().filter(|p| p.change.is_some()).collect();
    if check {
        if changed.is_empty() {
            printer.status(&format!("{} file(s) up to date", planned.len()));
            return Ok(ExitStatus::Success);
        }
        let mut list = String::new();
        for p in &changed {
            list.push_str(&format!(
                "{}: {}\n",
                p.rel,
                p.change.map_or("", render::Change::describe)
            ));
        }
        printer.data(&list)?;
        printer.status(&format!(
            "{} of {} file(s) would change; run `stackwire render`",
            changed.len(),
            planned.len()
        ));
        return Ok(ExitStatus::Problems);
    }
    render::write(&planned)?;
    for p in &planned {
        let what = if p.change.is_some() {
            "wrote"
        } else {
            "unchanged"
        };
        let mode = if p.secret {
            " (secrets, mode 0600)"
        } else {
            ""
        };
        printer.status(&format!("{what} {}{mode}", p.rel));
    }
    Ok(ExitStatus::Success)
}
