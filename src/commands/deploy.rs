//! `stackwire deploy [--preview] [--skip-sync] [--skip-health] [-- <pulumi args>]`: the one
//! command behind `make deploy` (issue 5).
//!
//! Everything that can be checked is checked before pulumi starts (mapping, file and health
//! templates, the timeout, the extra arguments): invalid input exits 2 with nothing run. Then
//! `pulumi up` (or `preview`) runs through the chokepoint with its output streamed to stderr,
//! and on success the outputs are read again (they changed) for render → sync → health. A
//! failed step ends the run; every step is summarised (ok / failed / skipped, duration), on
//! stderr and, in GitHub Actions, as Markdown in `$GITHUB_STEP_SUMMARY`.
//! Exit: 0 all ok · 1 health failed · 2 invalid input · 3 pulumi or an external service failed.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::health as health_cmd;
use crate::cli::{DeployArgs, SyncArgs};
use crate::config::{self, Settings};
use crate::error::{self, ExitStatus, with_status};
use crate::fsutil;
use crate::health::Report;
use crate::mapping::health::undefined_variables;
use crate::mapping::{HealthCheck, Mapping, Source};
use crate::output::Printer;
use crate::pulumi::{self, Interrupts, Pulumi, StreamEvent, UP_TIMEOUT};
use crate::source::Origin;
use crate::template;
use crate::vars::Var;

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Ok(String),
    Failed(String),
    Skipped(String),
}

/// One step of the deploy, for the summary.
#[derive(Debug)]
struct Step {
    name: String,
    outcome: Outcome,
    duration: Option<Duration>,
}

/// What a step function reports.
enum Done {
    Ok(String),
    Skipped(&'static str),
    /// Failed without an error to show (an unhealthy check, an interrupt).
    Failed(String, ExitStatus),
    /// Failed with an error, printed when it is recorded.
    Error(anyhow::Error),
}

/// The steps after pulumi, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum After {
    /// Read the stack's outputs again: `up` changed them.
    Outputs,
    Render,
    Sync,
    Health,
}

impl After {
    const ALL: [Self; 4] = [Self::Outputs, Self::Render, Self::Sync, Self::Health];

    fn name(self) -> &'static str {
        match self {
            Self::Outputs => "outputs",
            Self::Render => "render",
            Self::Sync => "sync",
            Self::Health => "health",
        }
    }
}

/// The run so far: its steps and the exit status of the first failure.
struct Run {
    steps: Vec<Step>,
    status: ExitStatus,
    /// The first error, whole (for the step summary).
    error: Option<String>,
    health: Option<Report>,
}

impl Run {
    fn record(&mut self, name: &str, started: Option<Instant>, done: Done, printer: Printer) {
        let outcome = match done {
            Done::Ok(detail) => Outcome::Ok(detail),
            Done::Skipped(why) => Outcome::Skipped(why.into()),
            Done::Failed(why, status) => {
                self.failed_with(status);
                Outcome::Failed(why)
            }
            Done::Error(err) => {
                // Printed now: it explains what follows.
                printer.error(&err);
                self.failed_with(error::classify(&err));
                if self.error.is_none() {
                    self.error = Some(format!("{err:#}"));
                }
                Outcome::Failed(first_line(&err.to_string()))
            }
        };
        self.steps.push(Step {
            name: name.into(),
            duration: started
                .filter(|_| !matches!(outcome, Outcome::Skipped(_)))
                .map(|s| s.elapsed()),
            outcome,
        });
    }

    fn failed_with(&mut self, status: ExitStatus) {
        if self.status == ExitStatus::Success {
            self.status = status;
        }
    }

    fn failed(&self) -> bool {
        self.status != ExitStatus::Success
    }
}

/// What was validated before anything runs.
struct Plan<'a> {
    pulumi: &'a Pulumi,
    timeout: Duration,
}

/// What the steps share.
struct Context<'a> {
    settings: &'a Settings,
    args: &'a DeployArgs,
    printer: Printer,
    runtime: tokio::runtime::Runtime,
    interrupts: Option<Interrupts>,
}

pub(super) fn run(
    settings: &Settings,
    args: &DeployArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let plan = validate(settings, args)?;
    let stack = &settings.mapping.stack;
    let ci = Ci::detect();
    let runtime = health_cmd::runtime()?;
    let interrupts = {
        let _entered = runtime.enter();
        // From here on Ctrl-C is passed on to pulumi (which cancels cleanly) and ends the
        // deploy between steps, instead of killing stackwire under a running update.
        Interrupts::catch().ok()
    };
    let mut cx = Context {
        settings,
        args,
        printer,
        runtime,
        interrupts,
    };
    let began = Instant::now();
    let mut run = Run {
        steps: Vec::new(),
        status: ExitStatus::Success,
        error: None,
        health: None,
    };

    let step = format!("pulumi {}", if args.preview { "preview" } else { "up" });
    let started = Instant::now();
    let done = pulumi_step(&mut cx, &plan, &step, ci.as_ref());
    run.record(&step, Some(started), done, printer);

    let mut vars: Vec<Var> = Vec::new();
    for after in After::ALL {
        let name = after.name();
        if args.preview {
            run.record(name, None, Done::Skipped("--preview"), printer);
            continue;
        }
        if run.failed() {
            run.record(name, None, Done::Skipped("an earlier step failed"), printer);
            continue;
        }
        let started = Instant::now();
        let done = if cx.interrupted() {
            Done::Failed("interrupted".into(), ExitStatus::External)
        } else {
            match after {
                After::Outputs => match super::load_vars(settings, true, printer) {
                    Ok(v) => {
                        vars = v;
                        Done::Ok(count(vars.len(), "variable"))
                    }
                    Err(e) => Done::Error(e),
                },
                After::Render => render_step(&cx, &vars),
                After::Sync => sync_step(&cx, &vars),
                After::Health => {
                    let (done, report) = health_step(&mut cx, &vars);
                    run.health = report;
                    done
                }
            }
        };
        run.record(name, Some(started), done, printer);
    }

    let elapsed = began.elapsed();
    printer.status(&summary(&run, stack, elapsed));
    if let Some(path) = ci.as_ref().and_then(|ci| ci.step_summary.as_ref()) {
        let text = markdown(&run, stack, args.preview, elapsed);
        if let Err(e) = fsutil::append(path, &text) {
            printer.warn(&format!(
                "cannot write the step summary to {}: {e}",
                path.display()
            ));
        }
    }
    Ok(run.status)
}

impl Context<'_> {
    /// Whether an interrupt has arrived (without waiting).
    fn interrupted(&mut self) -> bool {
        match &mut self.interrupts {
            Some(i) => self.runtime.block_on(i.arrived()),
            None => false,
        }
    }
}

/// `pulumi up` (or `preview`), its output streamed to stderr (in a log group in CI).
fn pulumi_step(cx: &mut Context<'_>, plan: &Plan<'_>, step: &str, ci: Option<&Ci>) -> Done {
    let (mapping, printer) = (&cx.settings.mapping, cx.printer);
    let invocation = if cx.args.preview {
        plan.pulumi.preview(&mapping.stack, &cx.args.pulumi_args)
    } else {
        plan.pulumi.up(&mapping.stack, &cx.args.pulumi_args)
    };
    printer.status(&format!("deploy: {step} (stack {})", mapping.stack));
    printer.verbose(&format!("running {}", plan.pulumi.display(&invocation)));
    let resume = ci.map(|ci| ci.open_group(step, printer));
    let streamed = cx.runtime.block_on(plan.pulumi.stream(
        &invocation,
        plan.timeout,
        cx.interrupts.as_mut(),
        |event| match event {
            StreamEvent::Stdout(line) | StreamEvent::Stderr(line) => printer.status(line),
            StreamEvent::Interrupted(1) => printer.warn(
                "interrupted: asked pulumi to cancel; waiting for it to stop (interrupt again to insist)",
            ),
            StreamEvent::Interrupted(_) => printer.warn("interrupted again: passed on to pulumi"),
        },
    ));
    if let (Some(ci), Some(token)) = (ci, resume) {
        ci.close_group(&token, printer);
    }
    match streamed {
        Ok(s) if s.interrupted => Done::Failed(
            "interrupted (pulumi finished nevertheless)".into(),
            ExitStatus::External,
        ),
        Ok(_) => Done::Ok(String::new()),
        Err(e) if cx.interrupts.as_ref().is_some_and(|i| i.count() > 0) => {
            Done::Error(anyhow::Error::new(e).context(format!("{step} was interrupted")))
        }
        Err(e) => Done::Error(e.into()),
    }
}

fn render_step(cx: &Context<'_>, vars: &[Var]) -> Done {
    let files = cx.settings.mapping.files.len();
    if files == 0 {
        return Done::Skipped("no `files:` targets");
    }
    match super::render::render_vars(cx.settings, vars, false, cx.printer) {
        Ok(ExitStatus::Success) => Done::Ok(count(files, "file")),
        Ok(status) => Done::Failed("not written".into(), status),
        Err(e) => Done::Error(e),
    }
}

fn sync_step(cx: &Context<'_>, vars: &[Var]) -> Done {
    if cx.args.skip_sync {
        return Done::Skipped("--skip-sync");
    }
    if cx.settings.mapping.github.is_empty() {
        return Done::Skipped("no `github:` targets");
    }
    let sync = SyncArgs {
        dry_run: false,
        prune: false,
        force: false,
        json: false,
    };
    match super::sync::sync_vars(cx.settings, vars, &sync, cx.printer) {
        Ok(ExitStatus::Success) => Done::Ok(String::new()),
        Ok(status) => Done::Failed("not synced".into(), status),
        Err(e) => Done::Error(e),
    }
}

/// The health checks, stopped by an interrupt.
fn health_step(cx: &mut Context<'_>, vars: &[Var]) -> (Done, Option<Report>) {
    if cx.args.skip_health {
        return (Done::Skipped("--skip-health"), None);
    }
    let mapping = &cx.settings.mapping;
    if mapping.health.is_empty() {
        return (Done::Skipped("no `health:` checks"), None);
    }
    let checks: Vec<&HealthCheck> = mapping.health.iter().collect();
    let (settings, printer) = (cx.settings, cx.printer);
    let interrupts = &mut cx.interrupts;
    let checked = cx.runtime.block_on(async {
        let check = health_cmd::check(settings, &checks, vars, printer);
        match interrupts {
            Some(i) => tokio::select! {
                report = check => Some(report),
                _ = i.recv() => None,
            },
            None => Some(check.await),
        }
    });
    let report = match checked {
        None => {
            return (
                Done::Failed("interrupted".into(), ExitStatus::External),
                None,
            );
        }
        Some(Err(e)) => return (Done::Error(e), None),
        Some(Ok(report)) => report,
    };
    if let Err(e) = health_cmd::print_report(&report, false, printer) {
        return (Done::Error(e), Some(report));
    }
    let verdict = health_cmd::verdict(&report);
    let done = if report.healthy() {
        Done::Ok(verdict)
    } else {
        Done::Failed(verdict, ExitStatus::Problems)
    };
    (done, Some(report))
}

/// `1 file`, `3 files`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Check everything that does not need pulumi, so that invalid input stops the deploy
/// before anything changes (exit 2).
fn validate<'a>(settings: &'a Settings, args: &DeployArgs) -> anyhow::Result<Plan<'a>> {
    let invalid = |message: String| anyhow::Error::new(with_status(ExitStatus::Invalid, message));
    let pulumi = match &settings.origin {
        Origin::Cli(pulumi) | Origin::Diy { cli: pulumi, .. } => pulumi,
        Origin::StateFile(file) => {
            return Err(invalid(format!(
                "deploy runs `pulumi up`, so it cannot work from a state file (--state {})",
                file.display()
            )));
        }
    };
    if let Some(arg) = pulumi::redirecting_arg(&args.pulumi_args) {
        return Err(invalid(format!(
            "`{arg}` cannot be passed to pulumi: the stack and the project folder come from {} (stackwire reads that stack's outputs after the update)",
            settings.mapping.file.display()
        )));
    }
    let timeout = config::pulumi_timeout(UP_TIMEOUT)?;
    check_templates(settings)?;
    health_cmd::selected(settings, &[])?;
    Ok(Plan { pulumi, timeout })
}

/// Every template the deploy will render parses, and reads only mapped variables.
fn check_templates(settings: &Settings) -> anyhow::Result<()> {
    let mapping: &Mapping = &settings.mapping;
    let file = mapping.file.display();
    let invalid = |message: String| anyhow::Error::new(with_status(ExitStatus::Invalid, message));
    for entry in &mapping.entries {
        if let Source::Template(text) = &entry.source {
            let mut tera = template::engine();
            tera.add_raw_template(&entry.name, text).map_err(|e| {
                invalid(format!(
                    "{file}:{}: `{}`: invalid template: {}",
                    entry.line,
                    entry.name,
                    template::from_tera(e).message
                ))
            })?;
        }
    }
    if settings.mapping.files.is_empty() {
        return Ok(());
    }
    let mapped: Vec<&str> = mapping.entries.iter().map(|e| e.name.as_str()).collect();
    for target in &mapping.files {
        let Some(rel) = &target.template else {
            continue;
        };
        let path = settings.root.join(rel);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            invalid(format!(
                "{file}:{}: `{}`: cannot read the template {}: {e}",
                target.line,
                target.rel,
                path.display()
            ))
        })?;
        let mut tera = template::engine();
        tera.add_raw_template(rel, &text).map_err(|e| {
            invalid(format!(
                "{}: invalid template: {}",
                path.display(),
                template::from_tera(e).message
            ))
        })?;
        if let Some(var) = undefined_variables(&text, &mapped).first() {
            return Err(invalid(format!(
                "{}: uses `env.{var}`, which {file} does not define (mapped: {})",
                path.display(),
                mapped.join(", ")
            )));
        }
    }
    Ok(())
}

/// GitHub Actions, when `GITHUB_ACTIONS=true`.
struct Ci {
    step_summary: Option<PathBuf>,
}

impl Ci {
    fn detect() -> Option<Self> {
        let on = std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true");
        on.then(|| Self {
            step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
        })
    }

    /// Fold what follows into a log group, with workflow commands off (pulumi's output,
    /// which includes the program's, cannot issue `::…::` commands). Returns the token that
    /// turns them back on.
    fn open_group(&self, title: &str, printer: Printer) -> String {
        let mut bytes = [0_u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        printer.stderr_raw(&format!("::group::{title}\n::stop-commands::{token}\n"));
        token
    }

    fn close_group(&self, token: &str, printer: Printer) {
        printer.stderr_raw(&format!("::{token}::\n::endgroup::\n"));
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn word(outcome: &Outcome) -> (&'static str, &str) {
    match outcome {
        Outcome::Ok(detail) => ("ok", detail),
        Outcome::Failed(why) => ("failed", why),
        Outcome::Skipped(why) => ("skipped", why),
    }
}

/// The summary on stderr: one line per step, then the verdict.
fn summary(run: &Run, stack: &str, elapsed: Duration) -> String {
    let width = run.steps.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut out = format!("summary (stack {stack}, {}):\n", seconds(elapsed));
    for step in &run.steps {
        let (word, detail) = word(&step.outcome);
        let duration = step.duration.map(seconds).unwrap_or_default();
        let line = format!("  {:width$}  {word:7}  {duration:>7}  {detail}", step.name);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    match run
        .steps
        .iter()
        .find(|s| matches!(s.outcome, Outcome::Failed(_)))
    {
        Some(step) => {
            let _ = write!(
                out,
                "deploy failed at {} (exit {})",
                step.name, run.status as u8
            );
        }
        None => out.push_str("deploy succeeded"),
    }
    out
}

/// A Markdown table cell: pipes escaped, one line, no raw HTML.
pub(super) fn md_cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// The step summary for `$GITHUB_STEP_SUMMARY`.
fn markdown(run: &Run, stack: &str, preview: bool, elapsed: Duration) -> String {
    let verdict = if run.failed() {
        format!("failed (exit {})", run.status as u8)
    } else {
        "succeeded".to_owned()
    };
    let what = if preview {
        "deploy --preview"
    } else {
        "deploy"
    };
    let mut out = format!(
        "### stackwire {what}: stack `{}` {verdict} in {}\n\n| step | result | duration | detail |\n|---|---|---|---|\n",
        stack.replace('`', "'"),
        seconds(elapsed)
    );
    for step in &run.steps {
        let (word, detail) = word(&step.outcome);
        let _ = writeln!(
            out,
            "| {} | {word} | {} | {} |",
            md_cell(&step.name),
            step.duration.map(seconds).unwrap_or_default(),
            md_cell(detail)
        );
    }
    if let Some(report) = &run.health {
        out.push_str("\n#### Health checks\n\n");
        out.push_str(&health_cmd::markdown(report));
    }
    if let Some(error) = &run.error {
        let _ = write!(
            out,
            "\n<details><summary>Error</summary>\n\n```text\n{}\n```\n\n</details>\n",
            error.replace("```", "'''")
        );
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(steps: Vec<Step>, status: ExitStatus) -> Run {
        Run {
            steps,
            status,
            error: Some(
                "pulumi failed: process didn't exit successfully\n  error: boom | x".into(),
            ),
            health: None,
        }
    }

    #[test]
    fn summary_and_markdown_list_every_step() {
        let steps = vec![
            Step {
                name: "pulumi up".into(),
                outcome: Outcome::Failed("pulumi failed: boom".into()),
                duration: Some(Duration::from_millis(1500)),
            },
            Step {
                name: "render".into(),
                outcome: Outcome::Skipped("an earlier step failed".into()),
                duration: None,
            },
        ];
        let run = run_with(steps, ExitStatus::External);
        let text = summary(&run, "dev", Duration::from_secs(2));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "summary (stack dev, 2.0 s):");
        assert_eq!(
            lines[1],
            "  pulumi up  failed     1.5 s  pulumi failed: boom"
        );
        assert_eq!(
            lines[2],
            "  render     skipped           an earlier step failed"
        );
        assert_eq!(lines[3], "deploy failed at pulumi up (exit 3)");
        let md = markdown(&run, "dev", false, Duration::from_secs(2));
        assert!(
            md.starts_with("### stackwire deploy: stack `dev` failed (exit 3)"),
            "{md}"
        );
        assert!(
            md.contains("| pulumi up | failed | 1.5 s | pulumi failed: boom |"),
            "{md}"
        );
        assert!(
            md.contains("| render | skipped |  | an earlier step failed |"),
            "{md}"
        );
        assert!(md.contains("```text\npulumi failed"), "{md}");
    }

    #[test]
    fn markdown_cells_stay_in_their_cell() {
        assert_eq!(md_cell("a|b\n<c>"), "a\\|b &lt;c&gt;");
    }
}
