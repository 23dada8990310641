//! Resolved settings: what the typed flags, the mapping file and the environment amount to.
//!
//! Commands see only [`Settings`]: an absolute repository root, the chosen and validated
//! mapping, and where stack data comes from (pulumi binary, `--state` file, or a DIY backend).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::GlobalArgs;
use crate::mapping::{Mapping, MappingError};
use crate::pulumi::{Pulumi, READ_TIMEOUT};
use crate::source::Origin;
use crate::state::diy::Backend;
use crate::state::stack_config;

/// Settings for commands that work on one stack's mapping.
#[derive(Debug)]
pub(crate) struct Settings {
    /// Repository root (absolute).
    pub(crate) root: PathBuf,
    pub(crate) mapping: Mapping,
    pub(crate) origin: Origin,
    /// pulumi's home (`PULUMI_HOME`, else `~/.pulumi`): its workspace settings say which stack
    /// `pulumi stack select` chose.
    pub(crate) pulumi_home: Option<PathBuf>,
}

/// Invalid flags, environment or mapping file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SettingsError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

/// Read an environment variable (one place, so tests of settings could inject it).
fn env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

impl Settings {
    /// Resolve the global flags: repository root, mapping file, and the source of stack data.
    pub(crate) fn resolve(args: &GlobalArgs) -> Result<Self, SettingsError> {
        let root = repo_root(args)?;
        if args.stack.len() > 1 {
            return Err(usage(
                "--stack is given several times; only `check` takes several".into(),
            ));
        }
        let file = mapping_file(&root, args.stack.first().map(String::as_str))?;
        Self::for_mapping(args, root, &file)
    }

    /// Settings for one given mapping file (for commands that visit several).
    pub(crate) fn for_mapping(
        args: &GlobalArgs,
        root: PathBuf,
        file: &Path,
    ) -> Result<Self, SettingsError> {
        let cwd = std::env::current_dir()
            .map_err(|e| usage(format!("cannot read the current directory: {e}")))?;
        let mapping = Mapping::load(file, &root)?;
        let origin = origin(args, &cwd, &root, &mapping)?;
        let pulumi_home = env("PULUMI_HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".pulumi")));
        Ok(Self {
            root,
            mapping,
            origin,
            pulumi_home,
        })
    }
}

fn usage(message: String) -> SettingsError {
    SettingsError::Usage(message)
}

/// The repository root from `-C` (absolute).
pub(crate) fn repo_root(args: &GlobalArgs) -> Result<PathBuf, SettingsError> {
    let cwd = std::env::current_dir()
        .map_err(|e| usage(format!("cannot read the current directory: {e}")))?;
    let root = args
        .dir
        .as_ref()
        .map_or_else(|| cwd.clone(), |d| cwd.join(d));
    if root.is_dir() {
        Ok(root)
    } else {
        Err(usage(format!(
            "{} is not a directory (-C/--dir)",
            root.display()
        )))
    }
}

/// Every mapping file in `<root>/stacks`, as `(stack name, path)`, sorted by name.
pub(crate) fn mapping_files(root: &Path) -> Vec<(String, PathBuf)> {
    let dir = root.join("stacks");
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
                })
                .filter_map(|p| Some((p.file_stem()?.to_str()?.to_owned(), p)))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// `stacks/<name>.yaml`, or the only mapping file there is.
fn mapping_file(root: &Path, stack: Option<&str>) -> Result<PathBuf, SettingsError> {
    let dir = root.join("stacks");
    let mut found = mapping_files(root);
    let names = || {
        found
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match stack {
        Some(name) => found
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
            .ok_or_else(|| {
                usage(if found.is_empty() {
                    format!(
                        "no mapping file {}/{name}.yaml (the folder has no stacks)",
                        dir.display()
                    )
                } else {
                    format!(
                        "no mapping file {}/{name}.yaml; stacks found: {}",
                        dir.display(),
                        names()
                    )
                })
            }),
        None => match found.len() {
            1 => Ok(found.remove(0).1),
            0 => Err(usage(format!(
                "no mapping files in {} (expected stacks/<stack>.yaml; use -C to point at the repository root)",
                dir.display()
            ))),
            _ => Err(usage(format!(
                "several stacks in {}: {}; choose one with --stack NAME",
                dir.display(),
                names()
            ))),
        },
    }
}

/// The pulumi timeout: `STACKWIRE_PULUMI_TIMEOUT` seconds, or `default`.
pub(crate) fn pulumi_timeout(default: Duration) -> Result<Duration, SettingsError> {
    seconds_from_env("STACKWIRE_PULUMI_TIMEOUT", default)
}

/// A duration in seconds from the environment variable `name`, or `default` when unset.
pub(crate) fn seconds_from_env(name: &str, default: Duration) -> Result<Duration, SettingsError> {
    match env(name) {
        None => Ok(default),
        Some(v) => v
            .to_str()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| usage(format!("{name} must be a number of seconds, not {v:?}"))),
    }
}

fn origin(
    args: &GlobalArgs,
    cwd: &Path,
    root: &Path,
    mapping: &Mapping,
) -> Result<Origin, SettingsError> {
    if let Some(state) = &args.state {
        return Ok(Origin::StateFile(cwd.join(state)));
    }
    let timeout = pulumi_timeout(READ_TIMEOUT)?;
    // A bare name is looked up on PATH; a path is taken from the current directory.
    let program: OsString = match &args.pulumi {
        Some(p) if p.components().count() > 1 => cwd.join(p).into_os_string(),
        Some(p) => p.clone().into_os_string(),
        None => "pulumi".into(),
    };
    // Precedence (issue 3): mapping `backend:` > --backend > PULUMI_BACKEND_URL > Pulumi.yaml.
    let (url, base, forced) = if let Some(url) = &mapping.backend {
        (Some(url.clone()), root.to_owned(), true)
    } else if let Some(url) = &args.backend {
        (Some(url.clone()), cwd.to_owned(), true)
    } else if let Some(url) = env("PULUMI_BACKEND_URL").and_then(|u| u.into_string().ok()) {
        (Some(url), mapping.project_dir.clone(), false)
    } else {
        let url = stack_config::project_name(&mapping.project_dir)
            .ok()
            .and_then(|(_, url)| url);
        (url, mapping.project_dir.clone(), false)
    };
    let home = env("HOME").map(PathBuf::from);
    let diy = match url.as_deref() {
        Some(u) if u.starts_with("file://") => Some(
            Backend::from_url(u, &base, home.as_deref())
                .map_err(|e| usage(format!("backend {u}: {e}")))?,
        ),
        _ => None,
    };
    // Hand the child an absolute URL when stackwire chose the backend.
    let child_url = match (&diy, forced) {
        (Some(b), true) => Some(format!("file://{}", b.root().display())),
        (None, true) => url.clone(),
        _ => None,
    };
    let cli = Pulumi::new(program, mapping.project_dir.clone(), timeout, child_url);
    Ok(match diy {
        Some(backend) if !args.via_cli => Origin::Diy {
            backend,
            url: url.unwrap_or_default(),
            cli,
        },
        _ => Origin::Cli(cli),
    })
}
