//! `stackwire env`: the mapped variables on stdout, or appended to `$GITHUB_ENV`.

use anyhow::Context as _;

use super::show_notes;
use crate::cli::{EnvArgs, EnvFormat};
use crate::config::{Settings, SettingsError};
use crate::error::ExitStatus;
use crate::format::{self, Format};
use crate::fsutil;
use crate::output::Printer;
use crate::resolve;
use crate::source::{self, Needs};

pub(super) fn run(
    settings: &Settings,
    args: &EnvArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let github_env = if args.write_github_env {
        let path = std::env::var_os("GITHUB_ENV")
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                SettingsError::Usage(
                    "--write-github-env needs $GITHUB_ENV (set by GitHub Actions)".into(),
                )
            })?;
        Some(std::path::PathBuf::from(path))
    } else {
        None
    };
    // Values leave stackwire in clear only when asked, or into the runner's own env file.
    let reveal = args.show_secrets || github_env.is_some();
    let mapping = &settings.mapping;
    let needs = Needs {
        config: mapping.uses_config(),
        plaintext: reveal,
    };
    let data = source::load(
        &settings.origin,
        &mapping.stack,
        &mapping.project_dir,
        needs,
    )?;
    show_notes(&data, printer);
    let vars = resolve::resolve(mapping, &data)?;
    let format = match (github_env.is_some(), args.format) {
        (true, _) | (false, EnvFormat::GithubEnv) => Format::GithubEnv,
        (false, EnvFormat::Dotenv) => Format::Dotenv,
        (false, EnvFormat::Shell) => Format::Shell,
        (false, EnvFormat::Json) => Format::Json,
    };
    let text = format::render(format, &vars, reveal)?;
    let in_actions = std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true");
    if reveal && in_actions && (github_env.is_some() || !printer.stdout_is_terminal()) {
        // Mask before any value can reach the log.
        printer.stderr_raw(&format::mask_commands(&vars));
    }
    match github_env {
        Some(path) => {
            fsutil::append(&path, &text).context("appending to $GITHUB_ENV")?;
            printer.status(&format!("wrote {} variables to $GITHUB_ENV", vars.len()));
        }
        None => printer.data(&text)?,
    }
    Ok(ExitStatus::Success)
}
