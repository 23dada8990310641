//! `.stackwire/known.yaml`: names defined outside the repository (secrets, variables and
//! environment variables set in the GitHub UI, by actions, by runner images) and findings to
//! ignore (`check-id[:path glob]`), plus the inline `# stackwire: ignore[check-id]` comment.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Finding, rules};

/// The allow-list file, relative to the repository root.
pub(crate) const FILE: &str = ".stackwire/known.yaml";

/// What `.stackwire/known.yaml` says.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Secret names set outside the repository; `None` when the file does not list any.
    pub(crate) secrets: Option<Vec<String>>,
    /// Configuration variables set outside the repository.
    pub(crate) vars: Option<Vec<String>>,
    /// Environment variables set by actions, images or the runner.
    pub(crate) env: Vec<String>,
    pub(crate) ignore: Vec<Ignore>,
}

/// One `ignore:` entry.
#[derive(Debug)]
pub(crate) struct Ignore {
    pub(crate) id: String,
    glob: Option<globset::GlobMatcher>,
}

/// An invalid allow-list file.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub(crate) struct KnownError {
    pub(crate) file: PathBuf,
    pub(crate) line: u64,
    pub(crate) column: u64,
    pub(crate) message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    secrets: Option<Vec<String>>,
    #[serde(default)]
    vars: Option<Vec<String>>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
}

impl Known {
    /// Read `<root>/.stackwire/known.yaml` (or `.yml`); none is an empty allow-list.
    pub(crate) fn load(root: &Path) -> Result<Self, KnownError> {
        let file = [FILE, ".stackwire/known.yml"]
            .iter()
            .map(|f| root.join(f))
            .find(|p| p.is_file());
        let Some(file) = file else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(&file).map_err(|e| KnownError {
            file: file.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read the file: {e}"),
        })?;
        Self::parse(&text, &file)
    }

    /// Parse the allow-list `text` read from `file`.
    pub(crate) fn parse(text: &str, file: &Path) -> Result<Self, KnownError> {
        let err = |line: u64, column: u64, message: String| KnownError {
            file: file.to_owned(),
            line,
            column,
            message,
        };
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let raw: Raw = serde_saphyr::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            let message = e
                .to_string()
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid YAML")
                .trim()
                .trim_start_matches("error: ")
                .to_owned();
            err(line, column, message)
        })?;
        let mut ignore = Vec::new();
        for entry in raw.ignore {
            let (line, column) = (entry.referenced.line(), entry.referenced.column());
            let (id, glob) = match entry.value.split_once(':') {
                Some((id, glob)) => (id.trim(), Some(glob.trim())),
                None => (entry.value.trim(), None),
            };
            if rules::rule(id).is_none() {
                let ids: Vec<&str> = rules::RULES.iter().map(|r| r.id).collect();
                return Err(err(
                    line,
                    column,
                    format!("ignore: `{id}` is not a check id (ids: {})", ids.join(", ")),
                ));
            }
            let glob = match glob.filter(|g| !g.is_empty()) {
                Some(g) => Some(
                    globset::GlobBuilder::new(g.trim_start_matches("./"))
                        .literal_separator(true)
                        .build()
                        .map_err(|e| err(line, column, format!("ignore: `{g}`: {e}")))?
                        .compile_matcher(),
                ),
                None => None,
            };
            ignore.push(Ignore {
                id: id.to_owned(),
                glob,
            });
        }
        Ok(Self {
            secrets: raw.secrets,
            vars: raw.vars,
            env: raw.env,
            ignore,
        })
    }

    /// Whether an `ignore:` entry covers `finding`.
    pub(crate) fn ignores(&self, finding: &Finding) -> bool {
        self.ignore.iter().any(|i| {
            i.id == finding.id && i.glob.as_ref().is_none_or(|g| g.is_match(&finding.file))
        })
    }
}

/// Whether `line` ends with a `# stackwire: ignore[…]` comment naming `id`.
pub(crate) fn inline_ignores(line: &str, id: &str) -> bool {
    let mut rest = line;
    while let Some(at) = rest.find("stackwire:") {
        let before = rest[..at].trim_end();
        let after = rest[at + "stackwire:".len()..].trim_start();
        rest = &rest[at + 1..];
        if !before.ends_with('#') {
            continue;
        }
        let Some(list) = after.strip_prefix("ignore[") else {
            continue;
        };
        let Some(end) = list.find(']') else {
            continue;
        };
        if list[..end].split(',').any(|i| i.trim() == id) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_ignores() {
        let text = "secrets: [PULUMI_ACCESS_TOKEN]\nvars: [REGION]\nenv: [JAVA_HOME]\n\
                    ignore: [\"dockerfile-missing:.github/workflows/legacy.yml\", conflicting-deploy]\n";
        let known = Known::parse(text, Path::new("k.yaml")).unwrap();
        assert_eq!(
            known.secrets.as_deref(),
            Some(&["PULUMI_ACCESS_TOKEN".to_owned()][..])
        );
        let finding = |id: &'static str, file: &str| Finding {
            id,
            severity: super::super::Severity::Error,
            file: file.into(),
            line: 1,
            column: 1,
            end_column: None,
            message: String::new(),
            related: Vec::new(),
        };
        assert!(known.ignores(&finding(
            "dockerfile-missing",
            ".github/workflows/legacy.yml"
        )));
        assert!(!known.ignores(&finding(
            "dockerfile-missing",
            ".github/workflows/other.yml"
        )));
        assert!(known.ignores(&finding("conflicting-deploy", "x")));
    }

    #[test]
    fn rejects_unknown_ids_and_keys() {
        let e = Known::parse("ignore: [nope]\n", Path::new("k.yaml")).unwrap_err();
        assert!(e.message.contains("not a check id"), "{e}");
        assert_eq!(e.line, 1);
        assert!(Known::parse("secret: [X]\n", Path::new("k.yaml")).is_err());
    }

    #[test]
    fn inline_comments() {
        assert!(inline_ignores(
            "  file: Dockerfile.x # stackwire: ignore[dockerfile-missing]",
            "dockerfile-missing"
        ));
        assert!(inline_ignores(
            "echo $X  #stackwire: ignore[unresolved, undefined-variable]",
            "undefined-variable"
        ));
        assert!(!inline_ignores(
            "# stackwire: ignore[unresolved]",
            "dockerfile-missing"
        ));
        assert!(!inline_ignores("echo 'stackwire: ignore[x]'", "x"));
    }
}
