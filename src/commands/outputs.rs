//! `stackwire outputs`: the stack's outputs, as `pulumi stack output` prints them.

use serde_json::Value as Json;

use super::show_notes;
use crate::cli::OutputsArgs;
use crate::config::Settings;
use crate::error::ExitStatus;
use crate::gojson;
use crate::output::Printer;
use crate::source::{self, Needs};

pub(super) fn run(
    settings: &Settings,
    args: &OutputsArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let needs = Needs {
        config: false,
        plaintext: args.show_secrets,
    };
    let data = source::load(
        &settings.origin,
        &settings.mapping.stack,
        &settings.mapping.project_dir,
        needs,
    )?;
    show_notes(&data, printer);
    let shown = |v: &crate::value::Value| {
        if args.show_secrets {
            v.plain_json()
        } else {
            v.masked_json()
        }
    };
    if args.json {
        let obj = Json::Object(
            data.outputs
                .iter()
                .map(|(k, v)| (k.clone(), shown(v)))
                .collect(),
        );
        printer.data(&gojson::pretty(&obj, 2))?;
        return Ok(ExitStatus::Success);
    }
    printer.data(&table(data.outputs.iter().map(|(k, v)| {
        let value = match shown(v) {
            Json::String(s) => s,
            other => gojson::compact(&other),
        };
        (k.as_str(), value)
    })))?;
    Ok(ExitStatus::Success)
}

/// pulumi's `Current stack outputs (N):` table.
fn table<'a>(rows: impl Iterator<Item = (&'a str, String)>) -> String {
    let rows: Vec<(&str, String)> = rows.collect();
    let mut out = format!("Current stack outputs ({}):\n", rows.len());
    if rows.is_empty() {
        out.push_str("    No output values currently in this stack\n");
        return out;
    }
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .max("OUTPUT".len());
    out.push_str(&format!("    {:<width$}  VALUE\n", "OUTPUT"));
    for (k, v) in rows {
        out.push_str(&format!("    {k:<width$}  {v}\n"));
    }
    out
}
