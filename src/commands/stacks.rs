//! `stackwire stacks`: the backend's stacks, as `pulumi stack ls` lists them.

use serde::{Deserialize, Serialize};

use crate::cli::StacksArgs;
use crate::config::Settings;
use crate::error::ExitStatus;
use crate::output::Printer;
use crate::pulumi::PulumiError;
use crate::source::Origin;
use crate::state::workspace;

pub(super) fn run(
    settings: &Settings,
    args: &StacksArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let project_dir = &settings.mapping.project_dir;
    let list: Vec<StackRow> = match &settings.origin {
        Origin::Diy { backend, url, cli } => {
            let file = crate::state::stack_config::project_file(project_dir).ok();
            let project = file.as_ref().map(|f| f.name.clone());
            // What `pulumi stack ls` marks current: the stack selected for this project and
            // for the backend URL pulumi would be given (stackwire's, else the user's).
            let selected = match (&settings.pulumi_home, &file) {
                (Some(home), Some(f)) => workspace::selected_stack(
                    home,
                    &f.path,
                    &f.name,
                    cli.backend_url().unwrap_or(url),
                ),
                _ => None,
            };
            backend
                .list(project.as_deref())?
                .into_iter()
                // Like `pulumi stack ls` without `--all`: the current project's stacks only.
                .filter(|s| project.is_none() || s.project.is_none() || s.project == project)
                .map(|s| StackRow {
                    current: selected.as_deref().is_some_and(|sel| {
                        workspace::is_selected(sel, s.project.as_deref(), &s.name)
                    }),
                    name: s.name,
                    last_update: s.last_update,
                    resource_count: s.resource_count,
                })
                .collect()
        }
        Origin::Cli(pulumi) => {
            let invocation = pulumi.stack_ls();
            let running = pulumi.start(&invocation)?;
            let command = running.command().to_owned();
            let text = running.finish()?;
            serde_json::from_str(&text).map_err(|e| {
                PulumiError::garbage(&command, format!("not a `stack ls` JSON list ({e})"))
            })?
        }
        Origin::StateFile(file) => anyhow::bail!(
            "--state {} is one stack's export; `stacks` lists a backend (drop --state)",
            file.display()
        ),
    };
    if args.json {
        // Go struct order (`name, current, lastUpdate, resourceCount`), two-space indent.
        let mut text = serde_json::to_string_pretty(&list)?;
        text.push('\n');
        printer.data(&text)?;
        return Ok(ExitStatus::Success);
    }
    let na = || "n/a".to_owned();
    let rows: Vec<[String; 3]> = list
        .into_iter()
        .map(|s| {
            let time = s.last_update.unwrap_or_else(na);
            let count = s.resource_count.map_or_else(na, |n| n.to_string());
            [s.name, time, count]
        })
        .collect();
    let w0 = rows
        .iter()
        .map(|r| r[0].len())
        .chain([4])
        .max()
        .unwrap_or(4);
    let w1 = rows
        .iter()
        .map(|r| r[1].len())
        .chain([11])
        .max()
        .unwrap_or(11);
    let mut out = format!("{:<w0$}  {:<w1$}  RESOURCE COUNT\n", "NAME", "LAST UPDATE");
    for [name, time, count] in rows {
        out.push_str(&format!("{name:<w0$}  {time:<w1$}  {count}\n"));
    }
    printer.data(&out)?;
    Ok(ExitStatus::Success)
}

/// One stack, as `pulumi stack ls --json` prints it (`apitype`-style struct order).
#[derive(Serialize, Deserialize)]
struct StackRow {
    name: String,
    #[serde(default)]
    current: bool,
    #[serde(
        rename = "lastUpdate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    last_update: Option<String>,
    #[serde(
        rename = "resourceCount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    resource_count: Option<usize>,
}
