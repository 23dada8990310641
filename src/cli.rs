//! Command-line definitions (clap derive): only what the user typed, nothing resolved.
//!
//! `config.rs` turns a [`Cli`] into resolved settings; commands never see these structs' raw
//! paths or defaults. Shell completions and the man page are generated from these definitions.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Map Pulumi stack outputs to the environment variables, files and CI settings your deploys need.
///
/// Reads `stacks/<stack>.yaml` in the repository root, fetches the stack's outputs and config
/// (through the pulumi binary, a `--state` export file, or a local file:// backend directly),
/// and renders them as .env files, templates, shell exports or $GITHUB_ENV entries.
#[derive(Debug, Parser)]
#[command(
    name = "stackwire",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Repository root holding `stacks/` and `templates/` [default: current directory]
    #[arg(short = 'C', long = "dir", global = true, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,

    /// Use `stacks/<NAME>.yaml` [default: the only file in `stacks/`; `check`: all, or each one given]
    #[arg(short, long, global = true, value_name = "NAME", action = clap::ArgAction::Append)]
    pub(crate) stack: Vec<String>,

    /// The pulumi binary [default: `pulumi` on PATH]
    #[arg(long, global = true, env = "STACKWIRE_PULUMI", value_name = "PATH")]
    pub(crate) pulumi: Option<PathBuf>,

    /// Read outputs from a `pulumi stack export --show-secrets` file (or a DIY checkpoint) instead of running pulumi
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,

    /// Pulumi backend URL (`file://…` is read directly, without the pulumi binary)
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) backend: Option<String>,

    /// Always go through the pulumi binary, even for a file:// backend
    #[arg(long, global = true)]
    pub(crate) via_cli: bool,

    /// Print only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,

    /// Explain what is done (the pulumi commands run, files read and written)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    /// When to use colour on stderr
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub(crate) color: ColorChoice,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour when stderr is a terminal and `NO_COLOR` is unset
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the stack's outputs (as `pulumi stack output` does)
    Outputs(OutputsArgs),
    /// Print the mapped environment variables
    Env(EnvArgs),
    /// Write every file target of the mapping (.env files, templates)
    Render(RenderArgs),
    /// List the stacks of the backend (as `pulumi stack ls` does)
    Stacks(StacksArgs),
    /// Push the mapped variables to GitHub Actions secrets and variables (changed ones only)
    Sync(SyncArgs),
    /// Run the mapping's health checks
    Health(HealthArgs),
    /// `pulumi up`, then render, sync and health checks: the one command behind `make deploy`
    Deploy(DeployArgs),
    /// Lint the repository's CI/CD against its stacks (missing Dockerfiles, undefined variables, …)
    Check(CheckArgs),
    /// Report which Kubernetes objects Pulumi does not manage yet, and write the import files to adopt them
    Adopt(AdoptArgs),
    /// Print shell completions for stackwire
    Completions(CompletionsArgs),
    /// Print the man page (roff) for stackwire
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Args)]
pub(crate) struct OutputsArgs {
    /// Print JSON exactly as `pulumi stack output --json` does
    #[arg(short, long)]
    pub(crate) json: bool,
    /// Show secret values instead of `[secret]`
    #[arg(long)]
    pub(crate) show_secrets: bool,
}

#[derive(Debug, Args)]
pub(crate) struct EnvArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value_t = EnvFormat::Dotenv)]
    pub(crate) format: EnvFormat,
    /// Show secret values instead of `[secret]`
    #[arg(long)]
    pub(crate) show_secrets: bool,
    /// Append to the file named by `$GITHUB_ENV` (github-env format, real values) instead of stdout
    #[arg(long)]
    pub(crate) write_github_env: bool,
}

/// `env --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EnvFormat {
    /// `NAME=value`, quoted so node dotenv, python-dotenv and dotenvy read the same value
    Dotenv,
    /// `export NAME='value'`, safe to eval
    Shell,
    /// One JSON object, NAME → string
    Json,
    /// The `$GITHUB_ENV` file format (heredoc for multi-line values)
    GithubEnv,
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// Write nothing; exit 1 listing the files that would change
    #[arg(long)]
    pub(crate) check: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StacksArgs {
    /// Print JSON exactly as `pulumi stack ls --json` does
    #[arg(short, long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// Print the plan and send no write request (secrets are still decrypted: comparing them with the last sync needs their plaintext)
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Delete remote names that stackwire wrote earlier and that are no longer mapped
    #[arg(long)]
    pub(crate) prune: bool,
    /// Write every name, even those whose value has not changed
    #[arg(long)]
    pub(crate) force: bool,
    /// Print the plan and the result as JSON
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HealthArgs {
    /// Print the results as JSON
    #[arg(long)]
    pub(crate) json: bool,
    /// Run only these checks (repeatable)
    #[arg(long, value_name = "NAME")]
    pub(crate) only: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// Run `pulumi preview` instead of `pulumi up`, and nothing after it
    #[arg(long)]
    pub(crate) preview: bool,
    /// Do not sync GitHub secrets and variables
    #[arg(long)]
    pub(crate) skip_sync: bool,
    /// Do not run the health checks
    #[arg(long)]
    pub(crate) skip_health: bool,
    /// Extra arguments for `pulumi up`/`preview`, after `--`
    #[arg(last = true, value_name = "PULUMI_ARGS")]
    pub(crate) pulumi_args: Vec<OsString>,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value_t = CheckFormat::Text)]
    pub(crate) format: CheckFormat,
    /// Files or folders to check [default: the repository root]
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
}

/// `check --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    /// One line per finding
    Text,
    /// `{"findings": […], "summary": {…}}`
    Json,
    /// SARIF 2.1.0 for GitHub code scanning
    Sarif,
    /// `::error file=…,line=…::` workflow annotations
    Github,
}

#[derive(Debug, Args)]
pub(crate) struct AdoptArgs {
    /// `kubectl get … -o json` output, YAML manifests, or folders of them (repeatable)
    #[arg(long, value_name = "FILE|DIR")]
    pub(crate) cluster: Vec<PathBuf>,
    /// Read the live cluster with `kubectl get`
    #[arg(long)]
    pub(crate) kubectl: bool,
    /// kubectl context
    #[arg(long, requires = "kubectl")]
    pub(crate) context: Option<String>,
    /// Namespace of objects without one (and the only namespace read with --kubectl) [default: default]
    #[arg(long)]
    pub(crate) namespace: Option<String>,
    /// Report format
    #[arg(long, value_enum, default_value_t = AdoptFormat::Markdown)]
    pub(crate) format: AdoptFormat,
    /// Write the report to FILE instead of stdout
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Write one `pulumi import --file` JSON per wave into DIR
    #[arg(long, value_name = "DIR")]
    pub(crate) import_dir: Option<PathBuf>,
    /// At most N objects per wave
    #[arg(long, value_name = "N")]
    pub(crate) wave_size: Option<usize>,
}

/// `adopt --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AdoptFormat {
    Markdown,
    Json,
    Html,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

/// Parse arguments; clap's own errors (usage, `--help`, `--version`) come back as `Err`.
pub(crate) fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    Cli::try_parse_from(args)
}

/// The clap command, for completions and the man page.
pub(crate) fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
