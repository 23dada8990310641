//! `stackwire check` (issue 6): lint the repository's CI/CD against its stacks.
//!
//! Resolves what to check (workflow files from the PATH arguments, stacks from `--stack`),
//! loads every mapping and, for the selected ones, the stack's state when it can be read; the
//! rules in `crate::lint` return a report, printed here in the chosen format. Exit 0 when no
//! error-level finding (warnings and notes allowed), 1 otherwise, 2 for invalid input (bad
//! PATH or `--stack`, an invalid mapping or `.stackwire/known.yaml`), in every format.

use std::path::{Path, PathBuf};

use crate::cli::{CheckArgs, CheckFormat, GlobalArgs};
use crate::config::{self, Settings, SettingsError};
use crate::error::{ExitStatus, with_status};
use crate::lint::{self, Input, Known, Severity, StackFacts, report};
use crate::output::Printer;
use crate::source::{self, Needs};

pub(super) fn run(
    global: &GlobalArgs,
    args: &CheckArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let root = config::repo_root(global)?;
    let known = Known::load(&root).map_err(|e| with_status(ExitStatus::Invalid, e))?;
    let scope = Scope::resolve(&root, &args.paths)?;
    let files = config::mapping_files(&root);
    for name in &global.stack {
        if !files.iter().any(|(n, _)| n == name) {
            let found: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
            return Err(SettingsError::Usage(format!(
                "no mapping file {}/stacks/{name}.yaml (--stack); stacks found: {}",
                root.display(),
                if found.is_empty() {
                    "none".to_owned()
                } else {
                    found.join(", ")
                }
            ))
            .into());
        }
    }
    let mut stacks = Vec::new();
    for (name, file) in &files {
        // `--stack` chooses whose sync targets define secrets and variables; the PATHs
        // choose whose own findings are reported.
        let selected = global.stack.is_empty() || global.stack.contains(name);
        let reported = selected && scope.covers_stack(&root, file);
        let loaded = load_stack(global, &root, name, file, selected, reported, printer)?;
        if let Some(mut facts) = loaded {
            facts.reported = reported;
            stacks.push(facts);
        }
    }
    printer.verbose(&format!(
        "checking {} workflow(s) and {} stack(s) in {}",
        scope.workflows.len(),
        stacks.iter().filter(|s| s.selected).count(),
        root.display()
    ));
    let report = lint::check(&Input {
        root,
        workflows: scope.workflows,
        stacks,
        known,
    });
    let out = match args.format {
        CheckFormat::Text => report::text(&report),
        CheckFormat::Json => report::json(&report),
        CheckFormat::Sarif => report::sarif(&report, env!("CARGO_PKG_VERSION")),
        CheckFormat::Github => report::github(&report),
    };
    printer.data(&out)?;
    for note in &report.notes {
        printer.verbose(&format!("note: {note}"));
    }
    printer.status(&report::summary_line(&report));
    Ok(if report.count(Severity::Error) > 0 {
        ExitStatus::Problems
    } else {
        ExitStatus::Success
    })
}

/// What the PATH arguments select.
struct Scope {
    /// Workflow files, relative to the root.
    workflows: Vec<String>,
    /// Mapping files in scope (absolute); `None` = all.
    stacks: Option<Vec<PathBuf>>,
}

impl Scope {
    fn resolve(root: &Path, paths: &[PathBuf]) -> Result<Self, SettingsError> {
        if paths.is_empty() {
            return Ok(Self {
                workflows: lint::workflow_files(root),
                stacks: None,
            });
        }
        let usage = SettingsError::Usage;
        let cwd = std::env::current_dir()
            .map_err(|e| usage(format!("cannot read the current directory: {e}")))?;
        let canonical_root = root
            .canonicalize()
            .map_err(|e| usage(format!("{}: {e}", root.display())))?;
        let mut workflows: Vec<String> = Vec::new();
        let mut stacks: Option<Vec<PathBuf>> = Some(Vec::new());
        for path in paths {
            let abs = cwd.join(path);
            let abs = abs
                .canonicalize()
                .map_err(|e| usage(format!("{}: {e}", path.display())))?;
            let rel = abs.strip_prefix(&canonical_root).map_err(|_| {
                usage(format!(
                    "{} is not inside the repository root {} (use -C to choose the root)",
                    path.display(),
                    root.display()
                ))
            })?;
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if abs.is_dir() {
                if rel.is_empty() {
                    workflows.extend(lint::workflow_files(root));
                    stacks = None;
                } else if rel == "stacks" {
                    stacks = None;
                } else if root.join(&rel).join(".github/workflows").is_dir() {
                    workflows.extend(lint::yaml_files(root, &format!("{rel}/.github/workflows")));
                } else if rel == ".github" {
                    workflows.extend(lint::yaml_files(root, ".github/workflows"));
                } else {
                    workflows.extend(lint::yaml_files(root, &rel));
                }
            } else if rel.starts_with("stacks/") {
                if let Some(list) = &mut stacks {
                    list.push(root.join(&rel));
                }
            } else {
                workflows.push(rel);
            }
        }
        workflows.sort();
        workflows.dedup();
        Ok(Self { workflows, stacks })
    }

    fn covers_stack(&self, root: &Path, file: &Path) -> bool {
        match &self.stacks {
            None => true,
            Some(list) => list
                .iter()
                .any(|p| p == file || root.join(p.strip_prefix(root).unwrap_or(p)) == file),
        }
    }
}

/// Load one mapping (and, when selected, its stack's state) as lint facts. An invalid
/// mapping is an error when selected (exit 2) and skipped otherwise.
#[allow(clippy::too_many_arguments)]
fn load_stack(
    global: &GlobalArgs,
    root: &Path,
    name: &str,
    file: &Path,
    selected: bool,
    reported: bool,
    printer: Printer,
) -> anyhow::Result<Option<StackFacts>> {
    let rel = file
        .strip_prefix(root)
        .unwrap_or(file)
        .to_string_lossy()
        .replace('\\', "/");
    let settings = match Settings::for_mapping(global, root.to_owned(), file) {
        Ok(settings) => settings,
        Err(SettingsError::Mapping(e)) if e.code == "health-undefined" => {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let mut facts = StackFacts::from_health_error(name, &rel, &text, &e);
            facts.selected = selected;
            // The rest of the mapping is still checked: load it without its `health:` block.
            if let Some(mut rest) =
                without_health(global, root, name, &rel, &text, selected, reported, printer)
            {
                rest.findings.extend(facts.findings);
                rest.selected = selected;
                facts = rest;
            }
            return Ok(Some(facts));
        }
        Err(e) if reported => return Err(e.into()),
        Err(e) => {
            printer.verbose(&format!("{rel}: skipped ({e})"));
            return Ok(None);
        }
    };
    let mapping = &settings.mapping;
    if !reported {
        // Its names and targets count; its state is not read and its findings not reported.
        let mut facts = StackFacts::from_mapping(name, &rel, mapping, Err("not selected".into()));
        facts.selected = selected;
        facts.notes.clear();
        return Ok(Some(facts));
    }
    let needs = Needs {
        config: mapping.uses_config(),
        plaintext: false,
    };
    let facts = match source::load(
        &settings.origin,
        &mapping.stack,
        &mapping.project_dir,
        needs,
    ) {
        Ok(data) => {
            printer.verbose(&format!("read {}", data.detail));
            StackFacts::from_mapping(name, &rel, mapping, Ok(&data))
        }
        Err(e) => StackFacts::from_mapping(
            name,
            &rel,
            mapping,
            Err(format!("cannot read stack `{}` ({e})", mapping.stack)),
        ),
    };
    Ok(Some(facts))
}

/// The mapping's facts with its `health:` block blanked out (lines kept, so positions hold).
#[allow(clippy::too_many_arguments)]
fn without_health(
    global: &GlobalArgs,
    root: &Path,
    name: &str,
    rel: &str,
    text: &str,
    selected: bool,
    reported: bool,
    printer: Printer,
) -> Option<StackFacts> {
    let mut out = String::with_capacity(text.len());
    let mut in_health = false;
    for line in text.split_inclusive('\n') {
        let top_level = !line.starts_with([' ', '\t', '#', '\n', '\r', '-']);
        if top_level {
            in_health = line.starts_with("health:");
        }
        out.push_str(if in_health { "\n" } else { line });
    }
    let dir = tempfile::tempdir().ok()?;
    let file = dir.path().join(format!("{name}.yaml"));
    std::fs::write(&file, out).ok()?;
    let mut facts = load_stack(global, root, name, &file, selected, reported, printer).ok()??;
    facts.rel = rel.to_owned();
    let tmp = file.to_string_lossy().into_owned();
    for f in &mut facts.findings {
        f.file = rel.to_owned();
    }
    for n in &mut facts.notes {
        *n = n.replace(&tmp, rel);
    }
    Some(facts)
}
