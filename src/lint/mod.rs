//! The CI/CD lint behind `stackwire check` (issue 6): rules as data over the repository's
//! workflows, the shell scripts they run, the compose and bake files they build from, and the
//! stacks' mappings.
//!
//! [`check`] reads files (workflows, scripts, `.stackwire/known.yaml`, whether Dockerfiles
//! exist) and returns a [`Report`]; it never prints and never runs anything. The command
//! loads the stacks ([`StackFacts`]) and prints the report in the chosen format
//! ([`report`]). Layout: `yaml` (positioned tree) → `workflow` (model) → `expr` / `shell`
//! (scanners) → one file per rule (`dockerfile`, `variables`, `deploy`, `stacks`) →
//! `known` (allow-list, suppression) → `report` (text, json, sarif, github).

mod deploy;
mod dockerfile;
mod expr;
mod known;
pub(crate) mod report;
mod rules;
mod shell;
mod stacks;
mod variables;
mod workflow;
mod yaml;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub(crate) use known::Known;
pub(crate) use stacks::StackFacts;

use self::workflow::Workflow;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// A place related to a finding (the other workflow of a conflict).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Related {
    pub(crate) file: String,
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) message: String,
}

/// One problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    /// The rule's stable id.
    pub(crate) id: &'static str,
    pub(crate) severity: Severity,
    /// Relative to the repository root, with `/`.
    pub(crate) file: String,
    /// 1-based.
    pub(crate) line: u32,
    /// 1-based, in characters.
    pub(crate) column: u32,
    pub(crate) end_column: Option<u32>,
    pub(crate) message: String,
    pub(crate) related: Vec<Related>,
}

impl Finding {
    pub(crate) fn new(
        id: &'static str,
        severity: Severity,
        file: &str,
        line: u32,
        column: u32,
        message: String,
    ) -> Self {
        Self {
            id,
            severity,
            file: file.to_owned(),
            line: line.max(1),
            column: column.max(1),
            end_column: None,
            message,
            related: Vec::new(),
        }
    }

    /// The same finding, ending at `end_column`.
    pub(crate) fn until(mut self, end_column: u32) -> Self {
        self.end_column = (end_column > self.column).then_some(end_column);
        self
    }
}

/// What to check.
#[derive(Debug)]
pub(crate) struct Input {
    /// The repository root (absolute).
    pub(crate) root: PathBuf,
    /// Workflow files to check, relative to the root.
    pub(crate) workflows: Vec<String>,
    /// Every stack mapping (selected or not).
    pub(crate) stacks: Vec<StackFacts>,
    pub(crate) known: Known,
}

/// The result of a check.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Findings after suppression, sorted by file and position.
    pub(crate) findings: Vec<Finding>,
    /// Findings dropped by `ignore:` or `# stackwire: ignore[…]`.
    pub(crate) suppressed: usize,
    /// What was skipped and why.
    pub(crate) notes: Vec<String>,
    /// Workflow files checked.
    pub(crate) workflows: usize,
    /// Stacks checked.
    pub(crate) stacks: usize,
}

impl Report {
    /// Count of findings at `severity`.
    pub(crate) fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// Shared, read-only facts for the rules.
pub(crate) struct Ctx<'a> {
    pub(crate) root: &'a Path,
    pub(crate) known: &'a Known,
    pub(crate) stacks: &'a [StackFacts],
    pub(crate) defs: variables::Definitions,
    dockerfiles: OnceLock<Vec<String>>,
}

impl Ctx<'_> {
    /// Whether `rel` (relative to the root) is a file.
    pub(crate) fn is_file(&self, rel: &str) -> bool {
        !rel.is_empty() && self.root.join(rel).is_file()
    }

    /// Read a repository file.
    pub(crate) fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(rel)).ok()
    }

    /// Every Dockerfile in the repository (`Dockerfile*`, `*.Dockerfile`, `Containerfile*`).
    pub(crate) fn dockerfiles(&self) -> &[String] {
        self.dockerfiles.get_or_init(|| {
            let mut out = Vec::new();
            walk(self.root, "", 0, &mut out);
            out.sort();
            out
        })
    }
}

/// Folders never searched for Dockerfiles.
const SKIP_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
];

fn walk(root: &Path, rel: &str, depth: usize, out: &mut Vec<String>) {
    if depth > 12 || out.len() > 10_000 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !SKIP_DIRS.contains(&name.as_str()) {
                walk(root, &path, depth + 1, out);
            }
        } else if is_dockerfile_name(&name) {
            out.push(path);
        }
    }
}

/// `Dockerfile`, `Dockerfile.prod`, `prod.Dockerfile`, `Containerfile`, case-insensitively.
pub(crate) fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("dockerfile")
        || lower.starts_with("containerfile")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
}

/// Up to `n` of `names`, nearest to `want` first (Jaro-Winkler, case-insensitive).
pub(crate) fn nearest<'a>(
    want: &str,
    names: impl Iterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let lower = want.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .map(|name| {
            (
                strsim::jaro_winkler(&lower, &name.to_ascii_lowercase()),
                name,
            )
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(n).map(|(_, name)| name).collect()
}

/// The workflow files under `<root>/.github/workflows` (top level only, as GitHub reads them).
pub(crate) fn workflow_files(root: &Path) -> Vec<String> {
    yaml_files(root, ".github/workflows")
}

/// `*.yml` / `*.yaml` files directly in `root/rel`, relative to root, sorted.
pub(crate) fn yaml_files(root: &Path, rel: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root.join(rel))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
                .map(|n| {
                    if rel.is_empty() {
                        n
                    } else {
                        format!("{rel}/{n}")
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// What one workflow contributes.
struct WorkflowResult {
    findings: Vec<Finding>,
    deploy: Option<deploy::Summary>,
}

fn check_workflow(ctx: &Ctx<'_>, rel: &str) -> WorkflowResult {
    let mut findings = Vec::new();
    let src = match std::fs::read(ctx.root.join(rel)) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            findings.push(Finding::new(
                rules::INVALID_WORKFLOW,
                Severity::Error,
                rel,
                1,
                1,
                format!("cannot read the workflow: {e}"),
            ));
            return WorkflowResult {
                findings,
                deploy: None,
            };
        }
    };
    let wf = match Workflow::parse(rel, src) {
        Ok(wf) => wf,
        Err(e) => {
            findings.push(Finding::new(
                rules::INVALID_WORKFLOW,
                Severity::Error,
                rel,
                e.pos.line,
                e.pos.column,
                format!("invalid YAML: {}", e.message),
            ));
            return WorkflowResult {
                findings,
                deploy: None,
            };
        }
    };
    dockerfile::check(ctx, &wf, &mut findings);
    variables::check(ctx, &wf, &mut findings);
    WorkflowResult {
        findings,
        deploy: deploy::summarize(ctx, &wf),
    }
}

/// Run every rule.
pub(crate) fn check(input: &Input) -> Report {
    let ctx = Ctx {
        root: &input.root,
        known: &input.known,
        stacks: &input.stacks,
        defs: variables::Definitions::build(
            &input.stacks,
            &input.known,
            repository(&input.root).as_deref(),
        ),
        dockerfiles: OnceLock::new(),
    };
    let results = run_all(&ctx, &input.workflows);
    let mut findings = Vec::new();
    let mut summaries = Vec::new();
    for r in results {
        findings.extend(r.findings);
        summaries.extend(r.deploy);
    }
    findings.extend(deploy::conflicts(&summaries));
    let mut notes = Vec::new();
    let mut stacks = 0;
    for stack in input.stacks.iter().filter(|s| s.selected && s.reported) {
        stacks += 1;
        findings.extend(stack.findings.iter().cloned());
        notes.extend(stack.notes.iter().cloned());
    }
    notes.extend(ctx.defs.notes.iter().cloned());
    let (findings, suppressed) = suppress(&ctx, findings);
    Report {
        findings,
        suppressed,
        notes,
        workflows: input.workflows.len(),
        stacks,
    }
}

/// Check the workflows on a few threads (results in input order).
fn run_all(ctx: &Ctx<'_>, workflows: &[String]) -> Vec<WorkflowResult> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 8)
        .min(workflows.len().div_ceil(16).max(1));
    if threads <= 1 {
        return workflows.iter().map(|w| check_workflow(ctx, w)).collect();
    }
    let chunk = workflows.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = workflows
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|w| check_workflow(ctx, w))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Drop suppressed and duplicate findings; sort the rest. Returns the count suppressed.
fn suppress(ctx: &Ctx<'_>, mut findings: Vec<Finding>) -> (Vec<Finding>, usize) {
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.id, &a.message)
            .cmp(&(&b.file, b.line, b.column, b.id, &b.message))
    });
    findings.dedup_by(|a, b| {
        a.file == b.file && a.line == b.line && a.column == b.column && a.id == b.id
    });
    let mut lines: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    let before = findings.len();
    findings.retain(|f| {
        if ctx.known.ignores(f) {
            return false;
        }
        let text = lines.entry(f.file.clone()).or_insert_with(|| {
            ctx.read(&f.file)
                .map(|t| t.lines().map(str::to_owned).collect())
                .unwrap_or_default()
        });
        let line = text.get(f.line as usize - 1).map_or("", String::as_str);
        !known::inline_ignores(line, f.id)
    });
    let suppressed = before - findings.len();
    (findings, suppressed)
}

/// `owner/repo` of the repository's `origin` remote on GitHub, when `.git/config` says.
pub(crate) fn repository(root: &Path) -> Option<String> {
    let config = std::fs::read_to_string(root.join(".git/config")).ok()?;
    let mut in_origin = false;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_origin = line == "[remote \"origin\"]";
            continue;
        }
        if !in_origin {
            continue;
        }
        let Some(url) = line
            .strip_prefix("url")
            .map(|r| r.trim_start().trim_start_matches('=').trim())
        else {
            continue;
        };
        let rest = url.split("github.com").nth(1)?;
        let rest = rest.trim_start_matches([':', '/']).trim_end_matches('/');
        let rest = rest.strip_suffix(".git").unwrap_or(rest);
        let mut parts = rest.split('/');
        let (owner, repo) = (parts.next()?, parts.next()?);
        return Some(format!("{owner}/{repo}"));
    }
    None
}

#[cfg(test)]
mod tests;
