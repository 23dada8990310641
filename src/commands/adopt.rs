//! `stackwire adopt` (issue 7): which Kubernetes objects to bring under Pulumi next, and the
//! `pulumi import` files to do it.
//!
//! Reads the inventory (`--cluster` files and folders, or `--kubectl`), the stack's whole
//! state (through the same sources as every command, without decrypting), applies
//! `.stackwire/adopt-ignore`, and prints the report (Markdown, JSON or HTML) or writes it with
//! `--out`; `--import-dir` receives one import file per wave. The domain work is in
//! `crate::adopt`; this file only reads, writes and prints.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::adopt::ignore::IgnoreFile;
use crate::adopt::inventory::{InventoryError, Reader};
use crate::adopt::kubectl::{self, Kubectl};
use crate::adopt::{self, Options, html, import, report, state};
use crate::cli::{AdoptArgs, AdoptFormat};
use crate::config::Settings;
use crate::error::{ExitStatus, with_status};
use crate::fsutil::{self, NewFile};
use crate::output::Printer;
use crate::source;

/// Where import files are said to go when `--import-dir` is not given.
const DEFAULT_IMPORT_DIR: &str = "stackwire-adopt";

fn usage(message: impl Into<String>) -> anyhow::Error {
    with_status(ExitStatus::Invalid, message.into()).into()
}

/// `to` relative to `from` (both absolute), lexically.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn env_timeout() -> anyhow::Result<Duration> {
    Ok(crate::config::seconds_from_env(
        "STACKWIRE_KUBECTL_TIMEOUT",
        kubectl::TIMEOUT,
    )?)
}

pub(super) fn run(
    settings: &Settings,
    args: &AdoptArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    if args.cluster.is_empty() && !args.kubectl {
        return Err(usage(
            "nothing to read: give --cluster FILE|DIR (`kubectl get -o json` output, YAML manifests, or folders of them) or --kubectl",
        ));
    }
    if args.wave_size == Some(0) {
        return Err(usage("--wave-size must be at least 1"));
    }
    let started = Instant::now();
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let namespace = args.namespace.clone().unwrap_or_else(|| "default".into());

    let ignore_path = settings.root.join(".stackwire").join("adopt-ignore");
    let ignore = IgnoreFile::load(&ignore_path).map_err(|e| with_status(ExitStatus::Invalid, e))?;
    if let Some(f) = &ignore {
        printer.verbose(&format!(
            "read {} ({} patterns)",
            f.path.display(),
            f.rules.len()
        ));
    }

    // The inventory.
    let mut reader = Reader::new(&namespace);
    let mut files: Vec<(PathBuf, String, bool)> = Vec::new(); // (path, shown, from a folder)
    for given in &args.cluster {
        let abs = cwd.join(given);
        let listed = Reader::files(&abs).map_err(|e| with_status(ExitStatus::Invalid, e))?;
        let folder = abs.is_dir();
        if folder && listed.is_empty() {
            printer.warn(&format!(
                "{}: no .json, .yaml or .yml files",
                given.display()
            ));
        }
        for f in listed {
            let shown = match f.strip_prefix(&abs) {
                Ok(rest) if folder => given.join(rest).display().to_string(),
                _ => given.display().to_string(),
            };
            files.push((f, shown, folder));
        }
    }
    let total: u64 = files
        .iter()
        .filter_map(|(f, _, _)| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let machine = args.format == AdoptFormat::Json && args.out.is_none();
    let bar = printer.progress(total, machine);
    bar.set_message("reading the inventory");
    let on_read = |n: u64| bar.inc(n);
    for (path, shown, folder) in &files {
        printer.verbose(&format!("reading {shown}"));
        match reader.read_file(path, shown, &on_read) {
            Ok(()) => {}
            // A folder may hold other YAML (values files, templates): skip what does not parse.
            Err(e @ (InventoryError::Yaml { .. } | InventoryError::Json { .. })) if *folder => {
                bar.suspend(|| printer.warn(&format!("skipped {e}")));
                reader.note(format!("skipped {e}"));
            }
            Err(e) => {
                bar.finish_and_clear();
                return Err(with_status(ExitStatus::Invalid, e).into());
            }
        }
    }
    bar.finish_and_clear();
    if args.kubectl {
        let program: OsString =
            std::env::var_os("STACKWIRE_KUBECTL").unwrap_or_else(|| "kubectl".into());
        let k = Kubectl::new(
            program,
            args.context.clone(),
            args.namespace.clone(),
            env_timeout()?,
        );
        let types = k
            .resource_types()
            .map_err(|e| with_status(ExitStatus::External, e))?;
        printer.status(&format!(
            "reading {} resource types with kubectl",
            types.len()
        ));
        printer.verbose(&format!("running `{}`", k.get_command(&types)));
        // A short source label: it is repeated on every object of the JSON report.
        let label = format!(
            "kubectl{} get {} ({} resource types)",
            args.context
                .as_deref()
                .map(|c| format!(" --context {c}"))
                .unwrap_or_default(),
            args.namespace
                .as_deref()
                .map_or_else(|| "--all-namespaces".to_owned(), |n| format!("-n {n}")),
            types.len()
        );
        let read = k
            .get(&types, |stream, _command| {
                reader.read_stream(stream, &label, &|_| {})
            })
            .map_err(|e| with_status(ExitStatus::External, e))?;
        read.map_err(|e| with_status(ExitStatus::External, e))?;
    }
    let inventory = reader.finish();
    printer.verbose(&format!(
        "inventory: {} objects in {:.2?}",
        inventory.objects.len(),
        started.elapsed()
    ));
    let lap = Instant::now();

    // The state.
    let mapping = &settings.mapping;
    let text = source::load_state_text(&settings.origin, &mapping.stack, &mapping.project_dir)?;
    let state = state::index(&text)
        .map_err(|e| with_status(ExitStatus::Invalid, e))
        .with_context(|| format!("reading the state of stack {}", mapping.stack))?;
    drop(text);
    printer.verbose(&format!("{} in {:.2?}", state.describe(), lap.elapsed()));
    let lap = Instant::now();

    // The analysis.
    let import_dir = args
        .import_dir
        .as_ref()
        .map_or_else(|| cwd.join(DEFAULT_IMPORT_DIR), |d| cwd.join(d));
    let project = &mapping.project_dir;
    let pulumi = if *project == cwd {
        "pulumi".to_owned()
    } else {
        format!(
            "pulumi -C {}",
            crate::shellwords::quote(&relative(&cwd, project).display().to_string())
        )
    };
    let opts = Options {
        stack: mapping.stack.clone(),
        wave_size: args.wave_size,
        pulumi,
        import_dir: relative(project, &import_dir).display().to_string(),
        only_namespace: if args.kubectl && args.cluster.is_empty() {
            args.namespace.clone()
        } else {
            None
        },
    };
    let mut result = adopt::analyze(&inventory, &state, ignore.as_ref(), &opts);
    drop(inventory);
    printer.verbose(&format!("analysis in {:.2?}", lap.elapsed()));
    let lap = Instant::now();

    // Import files, checked before anything is written.
    let docs: Vec<(PathBuf, String)> = result
        .waves
        .iter()
        .map(|w| {
            let doc = import::document(w, result.provider.as_ref());
            let value = serde_json::to_value(&doc).unwrap_or_default();
            let problems = import::validate(&value, &state.taken);
            if problems.is_empty() {
                Ok((import_dir.join(&w.file), import::to_text(&doc)))
            } else {
                Err(anyhow::anyhow!(
                    "bug: the import file of wave {} is invalid:\n  {}",
                    w.wave,
                    problems.join("\n  ")
                ))
            }
        })
        .collect::<anyhow::Result<_>>()?;
    if args.import_dir.is_some() {
        let new: Vec<NewFile<'_>> = docs
            .iter()
            .map(|(path, text)| NewFile {
                path,
                content: text.as_bytes(),
                mode: 0o644,
            })
            .collect();
        std::fs::create_dir_all(&import_dir)
            .with_context(|| format!("cannot create {}", import_dir.display()))?;
        fsutil::replace_all(&new)?;
        remove_stale_waves(&import_dir, docs.len(), printer);
        printer.status(&format!(
            "wrote {} import file(s) to {}",
            docs.len(),
            relative(&cwd, &import_dir).display()
        ));
    } else if !result.waves.is_empty() {
        result.notes.push(format!(
            "the import files were not written: add --import-dir {DEFAULT_IMPORT_DIR} to write them where the commands expect them"
        ));
    }

    // The report.
    let text = match args.format {
        AdoptFormat::Markdown => report::markdown(&result),
        AdoptFormat::Json => report::json(&result),
        AdoptFormat::Html => html::page(&result),
    };
    match &args.out {
        Some(out) => {
            let path = cwd.join(out);
            fsutil::replace_all(&[NewFile {
                path: &path,
                content: text.as_bytes(),
                mode: 0o644,
            }])?;
            printer.status(&format!("wrote {}", out.display()));
        }
        None => printer.data(&text)?,
    }
    printer.verbose(&format!("output in {:.2?}", lap.elapsed()));
    let s = &result.summary;
    printer.status(&format!(
        "{} objects: {} managed, {} candidates in {} waves, {} managed elsewhere, {} excluded, {} missing; coverage {:.1}%",
        s.objects,
        s.managed + s.managed_by_pulumi_helm,
        s.candidate,
        result.waves.len(),
        s.managed_elsewhere,
        s.excluded,
        s.missing,
        result.coverage.overall * 100.0
    ));
    Ok(ExitStatus::Success)
}

/// Remove `wave-NN.json` files of an earlier run beyond the `count` just written.
fn remove_stale_waves(dir: &Path, count: usize, printer: Printer) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let number = name
            .strip_prefix("wave-")
            .and_then(|n| n.strip_suffix(".json"))
            .filter(|n| n.len() >= 2 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<usize>().ok());
        if number.is_some_and(|n| n > count || n == 0) && std::fs::remove_file(entry.path()).is_ok()
        {
            printer.verbose(&format!("removed the stale {name}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/a/b"), Path::new("/a/b/c")),
            PathBuf::from("c")
        );
        assert_eq!(
            relative(Path::new("/a/b"), Path::new("/a/d")),
            PathBuf::from("../d")
        );
        assert_eq!(
            relative(Path::new("/a"), Path::new("/a")),
            PathBuf::from(".")
        );
    }
}
