//! `stackwire health [--json] [--only NAME]`: run the mapping's health checks concurrently and
//! print a table (or JSON) of the results; exit 0 when all are healthy, 1 otherwise.
//!
//! Targets are shown with secrets masked; `deploy` reuses [`check`] and the formatting here.

use std::time::Duration;

use crate::cli::HealthArgs;
use crate::config::Settings;
use crate::error::{ExitStatus, with_status};
use crate::health::{self, Attempt, Report};
use crate::mapping::HealthCheck;
use crate::output::Printer;
use crate::vars::Var;

pub(super) fn run(
    settings: &Settings,
    args: &HealthArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    // Everything that can be wrong with the definitions is found before reading the stack.
    selected(settings, &args.only)?;
    if settings.mapping.health.is_empty() {
        return nothing_to_check(settings, args, printer);
    }
    let vars = super::load_vars(settings, true, printer)?;
    health_vars(settings, &vars, args, printer)
}

/// Run the health checks over already-resolved variables (used by `deploy`).
pub(super) fn health_vars(
    settings: &Settings,
    vars: &[Var],
    args: &HealthArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    let checks = selected(settings, &args.only)?;
    if checks.is_empty() {
        return nothing_to_check(settings, args, printer);
    }
    let runtime = runtime()?;
    let report = runtime.block_on(check(settings, &checks, vars, printer))?;
    print_report(&report, args.json, printer)?;
    Ok(status(&report))
}

/// The exit status for a report: 0 all healthy, 1 otherwise.
pub(super) fn status(report: &Report) -> ExitStatus {
    if report.healthy() {
        ExitStatus::Success
    } else {
        ExitStatus::Problems
    }
}

/// A current-thread tokio runtime for the checks (the rest of stackwire is synchronous).
pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| with_status(ExitStatus::External, e).into())
}

/// The checks `only` names (all when empty), after parsing every template: an unknown name
/// or a template that does not parse is invalid input (exit 2).
pub(super) fn selected<'a>(
    settings: &'a Settings,
    only: &[String],
) -> anyhow::Result<Vec<&'a HealthCheck>> {
    let mapping = &settings.mapping;
    health::check_templates(&mapping.health, &mapping.file)
        .map_err(|e| with_status(ExitStatus::Invalid, e))?;
    health::select(&mapping.health, only, &mapping.file)
        .map_err(|e| with_status(ExitStatus::Invalid, e).into())
}

/// Run `checks` on the current runtime; each attempt is shown with `-v`.
pub(super) async fn check(
    settings: &Settings,
    checks: &[&HealthCheck],
    vars: &[Var],
    printer: Printer,
) -> anyhow::Result<Report> {
    let prepared = health::prepare(checks, vars);
    for p in &prepared {
        printer.verbose(&format!(
            "health check `{}`: {} {}",
            p.name,
            p.kind.as_str(),
            p.target
        ));
    }
    health::run(prepared, vars, &settings.root, |a| {
        printer.verbose(&describe_attempt(a));
    })
    .await
    .map_err(|e| with_status(ExitStatus::External, e).into())
}

fn describe_attempt(a: &Attempt) -> String {
    let (word, text) = match &a.outcome {
        Ok(found) => ("ok", found),
        Err(why) => ("failed", why),
    };
    let retry = a
        .retry_in
        .map(|w| format!("; retrying in {}", health::human(w)))
        .unwrap_or_default();
    format!(
        "health check `{}`: attempt {}/{} {word} after {}: {text}{retry}",
        a.check,
        a.attempt,
        a.of,
        latency(Some(a.latency))
    )
}

fn nothing_to_check(
    settings: &Settings,
    args: &HealthArgs,
    printer: Printer,
) -> anyhow::Result<ExitStatus> {
    printer.status(&format!(
        "{} has no `health:` checks; nothing to check",
        settings.mapping.file.display()
    ));
    if args.json {
        let empty = Report {
            checks: Vec::new(),
            elapsed: Duration::ZERO,
        };
        printer.data(&json(&empty))?;
    }
    Ok(ExitStatus::Success)
}

/// Print the table (or JSON) on stdout and a one-line verdict on stderr.
pub(super) fn print_report(
    report: &Report,
    json_output: bool,
    printer: Printer,
) -> anyhow::Result<()> {
    if json_output {
        printer.data(&json(report))?;
    } else {
        printer.data(&table(report))?;
    }
    printer.status(&format!(
        "{} ({})",
        verdict(report),
        health::human(report.elapsed)
    ));
    Ok(())
}

/// `all 3 checks healthy` or `2 of 3 checks unhealthy: slow, closed`.
pub(super) fn verdict(report: &Report) -> String {
    let total = report.checks.len();
    let plural = if total == 1 { "" } else { "s" };
    let bad = report.unhealthy();
    if bad.is_empty() {
        format!("all {total} check{plural} healthy")
    } else {
        format!(
            "{} of {total} check{plural} unhealthy: {}",
            bad.len(),
            bad.join(", ")
        )
    }
}

fn result_cell(c: &health::CheckResult) -> String {
    if c.healthy {
        format!("ok: {}", c.result)
    } else {
        format!("FAILED: {}", c.result)
    }
}

fn latency(d: Option<Duration>) -> String {
    match d {
        None => "-".into(),
        Some(d) if d < Duration::from_millis(1) => "<1 ms".into(),
        Some(d) => health::human(d),
    }
}

/// Milliseconds with one decimal, for JSON.
fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// The plain-text table.
pub(super) fn table(report: &Report) -> String {
    let mut rows: Vec<[String; 5]> = vec![[
        "NAME".into(),
        "TARGET".into(),
        "RESULT".into(),
        "ATTEMPTS".into(),
        "LATENCY".into(),
    ]];
    for c in &report.checks {
        rows.push([
            c.name.clone(),
            c.target.clone(),
            result_cell(c),
            format!("{}/{}", c.attempts, c.max_attempts),
            latency(c.latency),
        ]);
    }
    let mut widths = [0_usize; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The JSON document of `--json` (fields in this order).
pub(super) fn json(report: &Report) -> String {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        healthy: bool,
        elapsed_ms: f64,
        checks: Vec<Check<'a>>,
    }
    #[derive(serde::Serialize)]
    struct Check<'a> {
        name: &'a str,
        #[serde(rename = "type")]
        kind: &'static str,
        target: &'a str,
        healthy: bool,
        result: &'a str,
        attempts: u32,
        max_attempts: u32,
        latency_ms: Option<f64>,
        elapsed_ms: f64,
    }
    let doc = Doc {
        healthy: report.healthy(),
        elapsed_ms: ms(report.elapsed),
        checks: report
            .checks
            .iter()
            .map(|c| Check {
                name: &c.name,
                kind: c.kind.as_str(),
                target: &c.target,
                healthy: c.healthy,
                result: &c.result,
                attempts: c.attempts,
                max_attempts: c.max_attempts,
                latency_ms: c.latency.map(ms),
                elapsed_ms: ms(c.elapsed),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// A Markdown table of the results (for `$GITHUB_STEP_SUMMARY`).
pub(super) fn markdown(report: &Report) -> String {
    let mut out =
        String::from("| check | target | result | attempts | latency |\n|---|---|---|---|---|\n");
    for c in &report.checks {
        out.push_str(&format!(
            "| {} | `{}` | {} | {}/{} | {} |\n",
            super::deploy::md_cell(&c.name),
            c.target.replace('`', "'").replace('|', "\\|"),
            super::deploy::md_cell(&result_cell(c)),
            c.attempts,
            c.max_attempts,
            latency(c.latency)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{CheckResult, Kind};

    fn result(name: &str, healthy: bool, result: &str) -> CheckResult {
        CheckResult {
            name: name.into(),
            kind: Kind::Http,
            target: format!("http://127.0.0.1/{name}?t=[secret]"),
            healthy,
            result: result.into(),
            attempts: 2,
            max_attempts: 4,
            latency: Some(Duration::from_millis(12)),
            elapsed: Duration::from_millis(40),
        }
    }

    #[test]
    fn table_json_and_verdict() {
        let report = Report {
            checks: vec![
                result("api", true, "200 OK"),
                result("db", false, "cannot connect: Connection refused | x"),
            ],
            elapsed: Duration::from_millis(45),
        };
        let t = table(&report);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("NAME  TARGET"), "{t}");
        assert!(lines[1].contains("ok: 200 OK"), "{t}");
        assert!(lines[2].contains("FAILED: cannot connect"), "{t}");
        assert!(lines[2].contains("2/4"), "{t}");
        let v: serde_json::Value = serde_json::from_str(&json(&report)).unwrap();
        assert_eq!(v["healthy"], false);
        assert_eq!(v["checks"][1]["latency_ms"], 12.0);
        assert_eq!(verdict(&report), "1 of 2 checks unhealthy: db");
        let md = markdown(&report);
        assert!(md.contains("Connection refused \\| x"), "{md}");
    }
}
