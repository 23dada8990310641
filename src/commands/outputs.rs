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

/// pulumi's `Current stack outputs (N):` table (`cmdutil.Table.Render`): the key column padded
/// to its widest cell in terminal columns (`OUTPUT` included), two spaces, the value unpadded;
/// a multi-line cell continues on the next lines under its own column.
fn table<'a>(rows: impl Iterator<Item = (&'a str, String)>) -> String {
    use unicode_width::UnicodeWidthStr as _;
    let rows: Vec<(&str, String)> = rows.collect();
    let mut out = format!("Current stack outputs ({}):\n", rows.len());
    if rows.is_empty() {
        out.push_str("    No output values currently in this stack\n");
        return out;
    }
    let lines: Vec<(Vec<&str>, Vec<&str>)> = std::iter::once(("OUTPUT", "VALUE"))
        .chain(rows.iter().map(|(k, v)| (*k, v.as_str())))
        .map(|(k, v)| (k.split('\n').collect(), v.split('\n').collect()))
        .collect();
    let width = lines
        .iter()
        .flat_map(|(k, _)| k.iter().map(|l| l.width()))
        .max()
        .unwrap_or(0);
    for (keys, values) in &lines {
        for i in 0..keys.len().max(values.len()) {
            let key = keys.get(i).copied().unwrap_or("");
            let pad = width - key.width();
            let value = values.get(i).copied().unwrap_or("");
            out.push_str(&format!("    {key}{:pad$}  {value}\n", ""));
        }
    }
    out
}
