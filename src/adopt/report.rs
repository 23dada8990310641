//! The report as Markdown and as JSON (the stable schema of issue 7: `objects` holds every
//! inventory object and every missing state resource exactly once).

use std::fmt::Write as _;

use super::{CLUSTER_KEY, Class, Entry, Ratio, Report};

/// Objects listed per exclusion or owner group in Markdown; the JSON has them all.
const LIST_CAP: usize = 40;

/// The JSON report (2-space indent, trailing newline).
pub(crate) fn json(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}

/// Escape text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn ratio_row(out: &mut String, label: &str, r: &Ratio) {
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} |",
        cell(label),
        r.managed,
        r.candidates,
        percent(r.coverage)
    );
}

fn object_line(e: &Entry) -> String {
    let mut line = format!("- {}: {}", cell(&e.display()), e.reason);
    if !e.evidence.is_empty() {
        let _ = write!(line, " (evidence: {})", e.evidence.join("; "));
    }
    line
}

/// The Markdown report: summary, coverage, waves, managed elsewhere, exclusions, missing.
pub(crate) fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(
        out,
        "# Kubernetes adoption report: stack `{}`\n",
        report.stack
    );
    let sources = if report.sources.is_empty() {
        "nothing".to_owned()
    } else {
        report
            .sources
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "{} objects read from {sources}; {}.\n",
        s.objects, report.state
    );

    out.push_str("## Summary\n\n| class | objects |\n|---|---:|\n");
    for class in Class::ALL {
        let _ = writeln!(out, "| {} | {} |", class.as_str(), s.count(class));
    }
    let c = &report.coverage;
    let _ = writeln!(
        out,
        "\n**Coverage: {}** of the adoptable objects are managed by the stack: (managed + managed-by-pulumi-helm) ÷ (that + candidates) = {} ÷ {}.\n",
        percent(c.overall),
        c.managed,
        c.managed + c.candidates
    );

    out.push_str("## Coverage\n\n");
    if c.by_namespace.is_empty() {
        out.push_str("Nothing to adopt and nothing managed.\n\n");
    } else {
        out.push_str("| namespace | managed | candidates | coverage |\n|---|---:|---:|---:|\n");
        for (ns, r) in &c.by_namespace {
            ratio_row(&mut out, ns, r);
        }
        out.push_str("\n| kind | managed | candidates | coverage |\n|---|---:|---:|---:|\n");
        for (kind, r) in &c.by_kind {
            ratio_row(&mut out, kind, r);
        }
        if c.by_namespace.contains_key(CLUSTER_KEY) {
            let _ = writeln!(out, "\n`{CLUSTER_KEY}`: cluster-scoped objects.");
        }
        out.push('\n');
    }

    out.push_str("## Waves\n\n");
    if report.waves.is_empty() {
        out.push_str("No candidates: nothing to import.\n\n");
    } else {
        let total: usize = report.waves.iter().map(|w| w.resources.len()).sum();
        let _ = writeln!(
            out,
            "{total} candidates in {} waves, lowest risk first. Run each wave's command in the Pulumi project, review the generated code, add it to the program, and `pulumi up` before the next wave.\n",
            report.waves.len()
        );
        if let Some(p) = &report.provider {
            let _ = writeln!(
                out,
                "The import files use the stack's provider `{}` (`{}`) through `nameTable`.\n",
                p.name, p.urn
            );
        }
        for w in &report.waves {
            let n = w.resources.len();
            let _ = writeln!(
                out,
                "### Wave {}: tier {}, {} ({n} object{})\n",
                w.wave,
                w.tier,
                w.label,
                if n == 1 { "" } else { "s" }
            );
            let _ = writeln!(out, "```sh\n{}\n```\n", w.command);
            for warning in &w.warnings {
                let _ = writeln!(out, "> **Warning:** {warning}\n");
            }
            out.push_str("| # | object | type | id | why here |\n|---:|---|---|---|---|\n");
            for (i, r) in w.resources.iter().enumerate() {
                let object = match &r.namespace {
                    Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
                    None => format!("{} {}", r.kind, r.name),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | `{}` | `{}` | {} |",
                    i + 1,
                    cell(&object),
                    r.type_token,
                    cell(&r.id),
                    cell(&r.reason)
                );
            }
            out.push('\n');
        }
    }

    out.push_str("## Managed elsewhere\n\n");
    if report.elsewhere.is_empty() {
        out.push_str("None.\n\n");
    }
    for g in &report.elsewhere {
        group_section(
            &mut out,
            report,
            Class::ManagedElsewhere,
            &g.rule,
            &g.description,
            g.count,
        );
    }

    out.push_str("## Excluded\n\n");
    if report.exclusions.is_empty() {
        out.push_str("None.\n\n");
    }
    for g in &report.exclusions {
        group_section(
            &mut out,
            report,
            Class::Excluded,
            &g.rule,
            &g.description,
            g.count,
        );
    }

    out.push_str("## Missing\n\n");
    let missing: Vec<&Entry> = report
        .objects
        .iter()
        .filter(|e| e.class == Class::Missing)
        .collect();
    if missing.is_empty() {
        out.push_str("Every state resource is in the inventory.\n\n");
    } else {
        out.push_str("In the stack's state, not in the inventory:\n\n");
        for e in missing {
            let _ = writeln!(
                out,
                "- {} (`{}`): {}",
                cell(&e.display()),
                e.urn.as_deref().unwrap_or(""),
                e.reason
            );
        }
        out.push('\n');
    }

    let pulumi_owned: Vec<&Entry> = report
        .objects
        .iter()
        .filter(|e| {
            matches!(
                e.class,
                Class::PartiallyManaged | Class::ManagedByPulumiHelm
            )
        })
        .collect();
    if !pulumi_owned.is_empty() {
        out.push_str("## Partially managed and Pulumi Helm releases\n\n");
        for e in pulumi_owned.iter().take(LIST_CAP) {
            let _ = writeln!(out, "{} [{}]", object_line(e), e.class.as_str());
        }
        if pulumi_owned.len() > LIST_CAP {
            let _ = writeln!(out, "- … and {} more", pulumi_owned.len() - LIST_CAP);
        }
        out.push('\n');
    }

    if !report.notes.is_empty() {
        out.push_str("## Notes\n\n");
        for n in &report.notes {
            let _ = writeln!(out, "- {n}");
        }
        out.push('\n');
    }
    out
}

fn group_section(
    out: &mut String,
    report: &Report,
    class: Class,
    rule: &str,
    description: &str,
    count: usize,
) {
    let _ = writeln!(out, "### {description} ({count})\n");
    let members = report
        .objects
        .iter()
        .filter(|e| e.class == class && e.rule.as_deref().unwrap_or("other") == rule);
    for (shown, e) in members.enumerate() {
        if shown == LIST_CAP {
            let _ = writeln!(out, "- … and {} more (see `--format json`)", count - shown);
            break;
        }
        let _ = writeln!(out, "{}", object_line(e));
    }
    out.push('\n');
}
