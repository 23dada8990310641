//! `stackwire sync [--dry-run] [--prune] [--force] [--json]` (issue 4): push the mapped
//! variables to every `github:` target, secret values as Actions secrets, others as variables.
//!
//! Validates everything first (exit 2, no request), plans every target (reads only), prints
//! the plan, then applies it (exit 3 on an API failure, naming what was and was not written).
//! The domain logic is in `crate::github`; this file wires the runtime, the printer and the
//! progress bar, and renders the plan and the result.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::Instant;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::cli::SyncArgs;
use crate::config::Settings;
use crate::error::{ExitStatus, with_status};
use crate::github::{
    self, Action, ApiError, Client, Connection, MarkerAction, Observer, Options, Outcome,
    PlanError, Record, TargetPlan, Written,
};
use crate::output::Printer;
use crate::vars::Var;

/// More writes than this get a progress bar.
const PROGRESS_FROM: usize = 3;

pub(super) fn run(
    settings: &Settings,
    args: &SyncArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    // Secrets are decrypted even for --dry-run: telling `unchanged` from `update` compares
    // their keyed fingerprints with the record, which needs the plaintext.
    let vars = super::load_vars(settings, true, printer)?;
    sync_vars(settings, &vars, args, printer)
}

/// Sync already-resolved variables to every GitHub target of the mapping (used by `deploy`).
/// Secrets need their plaintext (`load_vars(.., true, ..)`); one without is planned `skip`.
pub(super) fn sync_vars(
    settings: &Settings,
    vars: &[Var],
    args: &SyncArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let mapping = &settings.mapping;
    if mapping.github.is_empty() {
        return Err(with_status(
            ExitStatus::Invalid,
            format!(
                "{} has no `github:` block: nothing to sync (see `github:` in the README)",
                mapping.file.display()
            ),
        )
        .into());
    }
    let (desired, warnings) =
        github::desired(&mapping.github, vars).map_err(|e| with_status(ExitStatus::Invalid, e))?;
    for w in &warnings {
        printer.warn(w);
    }
    let conn = Connection::from_env(|name| std::env::var(name).ok())
        .map_err(|e| with_status(ExitStatus::Invalid, e))?;
    printer.verbose(&format!(
        "GitHub API {} with the token from {}",
        conn.api, conn.token_var
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(sync(settings, &desired, &conn, args, printer))
}

/// Verbose request log and server-imposed waits, kept clear of the progress bar.
struct Log {
    printer: Printer,
    bar: RefCell<indicatif::ProgressBar>,
}

impl Observer for Log {
    fn debug(&self, line: &str) {
        self.bar.borrow().suspend(|| self.printer.verbose(line));
    }

    fn waiting(&self, line: &str) {
        self.bar.borrow().suspend(|| self.printer.status(line));
    }
}

async fn sync(
    settings: &Settings,
    desired: &[github::Desired<'_>],
    conn: &Connection,
    args: &SyncArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let started = Instant::now();
    let mapping = &settings.mapping;
    let log = Log {
        printer,
        bar: RefCell::new(indicatif::ProgressBar::hidden()),
    };
    let mut client = Client::new(conn, &log).map_err(|e| with_status(ExitStatus::External, e))?;
    let (mut record, notes) = Record::open(&settings.root, &mapping.stack);
    for note in &notes {
        printer.warn(note);
    }
    printer.verbose(&format!("sync record: {}", record.path().display()));
    let marker = github::marker_name(&mapping.stack);
    let options = Options {
        force: args.force,
        prune: args.prune,
    };

    let mut plans = Vec::with_capacity(desired.len());
    for d in desired {
        match github::fetch_and_plan(&mut client, d, &record, &mapping.stack, &marker, options)
            .await
        {
            Ok(plan) => plans.push(plan),
            Err(PlanError::Api(e)) => {
                return Err(with_status(
                    ExitStatus::External,
                    Stopped(format!("{e}\nnothing was written (failed while planning)")),
                )
                .into());
            }
            Err(e @ PlanError::MarkerConflict { .. }) => {
                return Err(with_status(ExitStatus::Invalid, e).into());
            }
        }
    }
    if !args.json {
        printer.data(&render_plan(&plans, args.dry_run))?;
    }
    if args.dry_run {
        if args.json {
            printer.data(&report(&plans, args, &client, started, None))?;
        }
        printer.status(&format!(
            "dry run: nothing written ({} read requests)",
            client.stats.requests
        ));
        return Ok(ExitStatus::Success);
    }

    let steps: usize = plans
        .iter()
        .map(|p| p.steps.iter().filter(|s| s.action.writes()).count())
        .sum();
    if steps > PROGRESS_FROM {
        let bar = printer.progress(steps as u64, args.json);
        bar.set_message("syncing");
        *log.bar.borrow_mut() = bar;
    }
    let progress = |name: &str| {
        let bar = log.bar.borrow();
        bar.set_message(name.to_owned());
        bar.inc(1);
    };
    let mut failure: Option<ApiError> = None;
    for plan in &mut plans {
        if failure.is_some() {
            for step in plan.steps.iter_mut().filter(|s| s.action.writes()) {
                step.outcome = Outcome::NotWritten;
            }
            if plan.marker.action != MarkerAction::Unchanged {
                plan.marker.outcome = Outcome::NotWritten;
            }
            continue;
        }
        if let Err(e) = github::apply(&mut client, plan, &mut record, &progress).await {
            failure = Some(e);
        }
    }
    log.bar.borrow().finish_and_clear();
    if let Err(e) = record.save() {
        printer.warn(&format!("{e}; the next sync writes every secret again"));
    }
    let message = failure.as_ref().map(|e| failure_message(e, &plans));
    if args.json {
        printer.data(&report(&plans, args, &client, started, message.as_deref()))?;
    }
    match message {
        None => {
            for plan in &plans {
                printer.status(&summary(plan));
            }
            let s = client.stats;
            let mut line = format!(
                "{} requests ({} writes) in {:.1} s",
                s.requests,
                s.writes,
                started.elapsed().as_secs_f64()
            );
            if s.rate_limited > 0 {
                let _ = write!(
                    line,
                    "; {} rate-limited answers, waited {:.1} s, writes paced {} ms apart",
                    s.rate_limited,
                    s.waited.as_secs_f64(),
                    client.pacing().as_millis()
                );
            }
            printer.status(&line);
            Ok(ExitStatus::Success)
        }
        Some(m) => Err(with_status(ExitStatus::External, Stopped(m)).into()),
    }
}

/// A sync that stopped part-way: the message says what was and was not written.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Stopped(String);

/// The plan as text: one block per target, one line per name.
fn render_plan(plans: &[TargetPlan<'_>], dry_run: bool) -> String {
    let mut out = String::new();
    for plan in plans {
        let _ = writeln!(out, "{}: {}", plan.label, counts(plan));
        let width = plan.steps.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for s in &plan.steps {
            let _ = writeln!(
                out,
                "  {:<9}  {:<8}  {:<width$}  {}",
                s.action.as_str(),
                s.kind.as_str(),
                s.name,
                s.reason
            );
        }
        if plan.marker.action != MarkerAction::Unchanged {
            let _ = writeln!(
                out,
                "  {:<9}  {:<8}  {:<width$}  ownership marker: the names stackwire manages here",
                marker_action(plan.marker.action),
                "variable",
                plan.marker.name
            );
        }
    }
    if dry_run {
        out.push_str("(dry run: nothing is written)\n");
    }
    out
}

fn marker_action(a: MarkerAction) -> &'static str {
    match a {
        MarkerAction::Create => "create",
        MarkerAction::Update => "update",
        MarkerAction::Delete => "delete",
        MarkerAction::Unchanged => "unchanged",
    }
}

/// `2 to create, 1 to update, 3 unchanged, 1 skipped`.
fn counts(plan: &TargetPlan<'_>) -> String {
    let parts: Vec<String> = [
        (Action::Create, "to create"),
        (Action::Update, "to update"),
        (Action::Delete, "to delete"),
        (Action::Unchanged, "unchanged"),
        (Action::Skip, "skipped"),
    ]
    .iter()
    .filter_map(|(a, what)| {
        let n = plan.count(*a);
        (n > 0).then(|| format!("{n} {what}"))
    })
    .collect();
    if parts.is_empty() {
        "nothing mapped".into()
    } else {
        parts.join(", ")
    }
}

/// After a successful apply: `acme/app: 2 created, 1 updated (3 unchanged)`.
fn summary(plan: &TargetPlan<'_>) -> String {
    let done = |w: &[Written]| {
        plan.steps
            .iter()
            .filter(|s| matches!(&s.outcome, Outcome::Done(x) if w.contains(x)))
            .count()
    };
    let (created, updated, deleted) = (
        done(&[Written::Created]),
        done(&[Written::Updated]),
        done(&[Written::Deleted, Written::Gone]),
    );
    let unchanged = plan.count(Action::Unchanged);
    if created + updated + deleted == 0 {
        return format!("{}: up to date ({unchanged} unchanged)", plan.label);
    }
    let mut parts = Vec::new();
    for (n, what) in [
        (created, "created"),
        (updated, "updated"),
        (deleted, "deleted"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    format!(
        "{}: {} ({unchanged} unchanged)",
        plan.label,
        parts.join(", ")
    )
}

/// The error text of a run that stopped: the failure, then per target what was written.
fn failure_message(error: &ApiError, plans: &[TargetPlan<'_>]) -> String {
    let mut m = format!("sync stopped: {error}");
    for plan in plans {
        let names = |pick: &dyn Fn(&Outcome) -> bool| {
            plan.steps
                .iter()
                .filter(|s| s.action.writes() && pick(&s.outcome))
                .map(|s| format!("{} {}", s.kind.as_str(), s.name))
                .collect::<Vec<_>>()
        };
        let written = names(&|o| matches!(o, Outcome::Done(_)));
        let failed = names(&|o| matches!(o, Outcome::Failed(_)));
        let not = names(&|o| matches!(o, Outcome::NotWritten | Outcome::Planned));
        if written.is_empty() && failed.is_empty() && not.is_empty() {
            continue;
        }
        let mut line = format!("\n  {}:", plan.label);
        for (list, what) in [
            (written, "written"),
            (failed, "failed"),
            (not, "not written"),
        ] {
            if !list.is_empty() {
                let _ = write!(line, " {what}: {};", list.join(", "));
            }
        }
        line.pop();
        if plan.marker.action != MarkerAction::Unchanged
            && !matches!(plan.marker.outcome, Outcome::Done(_))
        {
            let _ = write!(line, "; ownership marker {} not updated", plan.marker.name);
        }
        m.push_str(&line);
    }
    m.push_str("\nre-run `stackwire sync` to finish: names already written are not written again");
    m
}

fn outcome_json(o: &Outcome) -> (Value, Option<&str>) {
    match o {
        Outcome::Planned => (Value::Null, None),
        Outcome::Done(Written::Created) => (json!("created"), None),
        Outcome::Done(Written::Updated) => (json!("updated"), None),
        Outcome::Done(Written::Deleted | Written::Gone) => (json!("deleted"), None),
        Outcome::Failed(e) => (json!("failed"), Some(e)),
        Outcome::NotWritten => (json!("not_written"), None),
    }
}

/// The `--json` document: the plan, and after applying, each step's result.
fn report(
    plans: &[TargetPlan<'_>],
    args: &SyncArgs,
    client: &Client<'_>,
    started: Instant,
    error: Option<&str>,
) -> String {
    let targets: Vec<Value> = plans
        .iter()
        .map(|p| {
            let steps: Vec<Value> = p
                .steps
                .iter()
                .map(|s| {
                    let (result, error) = outcome_json(&s.outcome);
                    let mut v = json!({
                        "name": s.name,
                        "kind": s.kind,
                        "action": s.action,
                        "reason": s.reason,
                        "result": result,
                    });
                    if let Some(m) = s.mapped.as_ref().filter(|m| **m != s.name) {
                        v["mapped"] = json!(m);
                    }
                    if let Some(e) = error {
                        v["error"] = json!(e);
                    }
                    v
                })
                .collect();
            let summary: serde_json::Map<String, Value> = [
                Action::Create,
                Action::Update,
                Action::Unchanged,
                Action::Delete,
                Action::Skip,
            ]
            .iter()
            .map(|a| (a.as_str().to_owned(), json!(p.count(*a))))
            .collect();
            let (marker_result, marker_error) = outcome_json(&p.marker.outcome);
            json!({
                "target": p.label,
                "scope": p.record_scope.split_once('|').map_or("", |(_, s)| s),
                "summary": summary,
                "steps": steps,
                "marker": {
                    "name": p.marker.name,
                    "action": p.marker.action,
                    "result": marker_result,
                    "error": marker_error,
                },
            })
        })
        .collect();
    let s = client.stats;
    let doc = json!({
        "dry_run": args.dry_run,
        "ok": error.is_none(),
        "error": error,
        "targets": targets,
        "requests": s.requests,
        "writes": s.writes,
        "retries": s.retries,
        "rate_limited": s.rate_limited,
        "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
