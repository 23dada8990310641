//! `stackwire render [--check]`: write (or check) every file target of the mapping.

use super::show_notes;
use crate::cli::RenderArgs;
use crate::config::Settings;
use crate::error::ExitStatus;
use crate::output::Printer;
use crate::render;
use crate::resolve;
use crate::source::{self, Needs};

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
    let needs = Needs {
        config: mapping.uses_config(),
        plaintext: true,
    };
    let data = source::load(
        &settings.origin,
        &mapping.stack,
        &mapping.project_dir,
        needs,
    )?;
    show_notes(&data, printer);
    let vars = resolve::resolve(mapping, &data)?;
    let planned = render::plan(mapping, &vars, &settings.root)?;
    let changed: Vec<&render::Planned> = planned.iter().filter(|p| p.change.is_some()).collect();
    if args.check {
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
