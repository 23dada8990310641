//! The mapping file `stacks/<stack>.yaml`: which stack to read and how its outputs and config
//! become environment variables and files.
//!
//! Parsing rejects unknown keys and invalid names with file, line and column. The result is a
//! validated [`Mapping`]; nothing here reads pulumi state or writes files.

pub(crate) mod github;
pub(crate) mod health;
mod model;

use std::path::{Path, PathBuf};

pub(crate) use github::GithubTarget;
pub(crate) use health::HealthCheck;
pub(crate) use model::{Entry, FileTarget, Source};

use crate::value::{Segment, parse_path};

/// An invalid mapping file, with the position at fault when known.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", file.display(), position(*line, *column))]
pub(crate) struct MappingError {
    pub(crate) file: PathBuf,
    pub(crate) line: u64,
    pub(crate) column: u64,
    pub(crate) message: String,
    /// Which rule failed: `invalid`, or `health-undefined` for a health check that reads an
    /// undefined variable (the lint reports that one as a finding).
    pub(crate) code: &'static str,
}

fn position(line: u64, column: u64) -> String {
    match (line, column) {
        (0, _) => String::new(),
        (l, 0) => format!(":{l}"),
        (l, c) => format!(":{l}:{c}"),
    }
}

/// A validated mapping file.
#[derive(Debug)]
pub(crate) struct Mapping {
    /// The mapping file.
    pub(crate) file: PathBuf,
    /// The pulumi stack: short (`dev`) or `organization/project/stack`.
    pub(crate) stack: String,
    /// Folder holding `Pulumi.yaml`, absolute.
    pub(crate) project_dir: PathBuf,
    /// `backend:` URL, if the mapping pins one.
    pub(crate) backend: Option<String>,
    /// Variables in file order.
    pub(crate) entries: Vec<Entry>,
    /// Files to write.
    pub(crate) files: Vec<FileTarget>,
    /// GitHub Actions targets for `sync`.
    pub(crate) github: Vec<GithubTarget>,
    /// Health checks.
    pub(crate) health: Vec<HealthCheck>,
}

impl Mapping {
    /// Read and validate `file`; relative paths in it are taken from `root`.
    pub(crate) fn load(file: &Path, root: &Path) -> Result<Self, MappingError> {
        let text = std::fs::read_to_string(file).map_err(|e| MappingError {
            file: file.to_owned(),
            line: 0,
            column: 0,
            message: format!("cannot read the mapping file: {e}"),
            code: "invalid",
        })?;
        Self::parse(&text, file, root)
    }

    /// Validate mapping text read from `file`.
    pub(crate) fn parse(text: &str, file: &Path, root: &Path) -> Result<Self, MappingError> {
        let raw: model::RawMapping = if text.trim().is_empty() {
            model::RawMapping::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| yaml_error(file, &e))?
        };
        let err = |line: u64, column: u64, message: String| MappingError {
            file: file.to_owned(),
            line,
            column,
            message,
            code: "invalid",
        };
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let stack = match raw.stack {
            Some(s) if s.value.trim().is_empty() => {
                return Err(err(
                    s.referenced.line(),
                    s.referenced.column(),
                    "`stack` is empty".into(),
                ));
            }
            Some(s) => s.value,
            None => stem,
        };
        let mut entries: Vec<Entry> = Vec::new();
        for (name, spec) in raw.env.0 {
            let (line, column) = (name.referenced.line(), name.referenced.column());
            if !valid_name(&name.value) {
                return Err(err(
                    line,
                    column,
                    format!(
                        "`{}` is not a valid variable name: use letters, digits and `_`, not starting with a digit",
                        name.value
                    ),
                ));
            }
            if let Some(first) = entries.iter().find(|e| e.name == name.value) {
                return Err(err(
                    line,
                    column,
                    format!(
                        "`{}` is mapped twice (first on line {})",
                        name.value, first.line
                    ),
                ));
            }
            let spec_pos = (spec.referenced.line(), spec.referenced.column());
            let (source, required, secret) = spec
                .value
                .into_source()
                .map_err(|m| err(spec_pos.0, spec_pos.1, m))?;
            if let Source::Output(path) = &source {
                check_path(path).map_err(|m| err(spec_pos.0, spec_pos.1, m))?;
            }
            if let Source::Config(key) = &source {
                let (_, rest) = key.split_once(':').unwrap_or(("", key));
                parse_path(rest)
                    .map_err(|m| err(spec_pos.0, spec_pos.1, format!("config key: {m}")))?;
            }
            entries.push(Entry {
                name: name.value,
                source,
                required,
                secret,
                line,
                column,
            });
        }
        let mut files: Vec<FileTarget> = Vec::new();
        for target in raw.files {
            let (line, column) = (
                target.path.referenced.line(),
                target.path.referenced.column(),
            );
            let rel = target.path.value;
            if rel.trim().is_empty() {
                return Err(err(line, column, "file `path` is empty".into()));
            }
            if files.iter().any(|f| f.rel == rel) {
                return Err(err(line, column, format!("file `{rel}` is listed twice")));
            }
            files.push(FileTarget {
                path: root.join(&rel),
                rel,
                template: target.template.map(|t| t.value),
                line,
            });
        }
        let mapped: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        let github = match raw.github {
            Some(g) => github::validate(g, &mapped).map_err(|(l, c, m)| err(l, c, m))?,
            None => Vec::new(),
        };
        let health = health::validate(raw.health, &mapped).map_err(|(l, c, m)| {
            let undefined = m.contains("which the mapping does not define");
            MappingError {
                code: if undefined {
                    "health-undefined"
                } else {
                    "invalid"
                },
                ..err(l, c, m)
            }
        })?;
        Ok(Self {
            file: file.to_owned(),
            stack,
            project_dir: root.join(raw.project.map_or_else(|| ".".to_owned(), |p| p.value)),
            backend: raw.backend.map(|b| b.value),
            entries,
            files,
            github,
            health,
        })
    }

    /// Whether any variable reads stack config (so config must be fetched).
    pub(crate) fn uses_config(&self) -> bool {
        self.entries.iter().any(|e| match &e.source {
            Source::Config(_) => true,
            Source::Template(t) => t.contains("config"),
            _ => false,
        })
    }
}

fn check_path(path: &[Segment]) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty output path".into());
    }
    Ok(())
}

/// `^[A-Za-z_][A-Za-z0-9_]*$`.
pub(crate) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn yaml_error(file: &Path, e: &serde_saphyr::Error) -> MappingError {
    let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    // The rendered error carries a source snippet; keep only its first line as the message.
    let rendered = e.to_string();
    let message = rendered
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid YAML")
        .trim()
        .trim_start_matches("error: ")
        .to_owned();
    MappingError {
        file: file.to_owned(),
        line,
        column,
        message,
        code: "invalid",
    }
}

#[cfg(test)]
mod tests;
