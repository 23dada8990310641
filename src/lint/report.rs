//! Output formats of `stackwire check`: text (`file:line:col: severity[id]: message`), JSON
//! (`{"findings": […], "summary": {…}}`), SARIF 2.1.0 for GitHub code scanning, and GitHub
//! workflow annotations (`::error file=…::`). Strings only; the command prints them.

use serde_json::{Value as Json, json};

use super::rules::{RULES, rule};
use super::{Report, Severity};

/// One line per finding.
pub(crate) fn text(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&format!(
            "{}:{}:{}: {}[{}]: {}\n",
            f.file,
            f.line,
            f.column,
            f.severity.as_str(),
            f.id,
            f.message
        ));
    }
    out
}

/// The closing line: counts, or that nothing was found.
pub(crate) fn summary_line(report: &Report) -> String {
    let (e, w, i) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Info),
    );
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let scope = format!(
        "{} and {}",
        plural(report.workflows, "workflow", "workflows"),
        plural(report.stacks, "stack", "stacks")
    );
    let suppressed = if report.suppressed > 0 {
        format!(" ({} suppressed)", report.suppressed)
    } else {
        String::new()
    };
    if e + w + i == 0 {
        format!("no problems found in {scope}{suppressed}")
    } else {
        format!(
            "{}, {}, {} in {scope}{suppressed}",
            plural(e, "error", "errors"),
            plural(w, "warning", "warnings"),
            plural(i, "note", "notes")
        )
    }
}

/// `{"findings": [...], "summary": {...}}`.
pub(crate) fn json(report: &Report) -> String {
    let findings: Vec<Json> = report
        .findings
        .iter()
        .map(|f| {
            let mut v = json!({
                "id": f.id,
                "severity": f.severity.as_str(),
                "file": f.file,
                "line": f.line,
                "column": f.column,
                "message": f.message,
            });
            if let Some(e) = f.end_column {
                v["end_column"] = json!(e);
            }
            if let Some(r) = rule(f.id) {
                v["rule"] = json!(r.name);
            }
            if !f.related.is_empty() {
                v["related"] = Json::Array(
                    f.related
                        .iter()
                        .map(|r| json!({"file": r.file, "line": r.line, "column": r.column, "message": r.message}))
                        .collect(),
                );
            }
            v
        })
        .collect();
    let doc = json!({
        "findings": findings,
        "summary": {
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "info": report.count(Severity::Info),
            "suppressed": report.suppressed,
            "workflows": report.workflows,
            "stacks": report.stacks,
            "notes": report.notes,
        }
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Percent-encode a relative path for a SARIF URI.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SARIF 2.1.0, as GitHub code scanning accepts it.
pub(crate) fn sarif(report: &Report, version: &str) -> String {
    let rules: Vec<Json> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.help},
                "help": {
                    "text": r.help,
                    "markdown": format!("**{}** (`{}`)\n\n{}", r.summary, r.id, r.help),
                },
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {
                    "tags": ["ci", "github-actions", "stackwire"],
                    "precision": "high",
                    "problem.severity": match r.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                        Severity::Info => "recommendation",
                    },
                },
            })
        })
        .collect();
    let location = |file: &str, line: u32, column: u32, end: Option<u32>| {
        let mut region = json!({"startLine": line, "startColumn": column});
        if let Some(e) = end {
            region["endColumn"] = json!(e);
        }
        json!({
            "physicalLocation": {
                "artifactLocation": {"uri": uri(file), "uriBaseId": "%SRCROOT%"},
                "region": region,
            }
        })
    };
    let results: Vec<Json> = report
        .findings
        .iter()
        .map(|f| {
            let index = RULES.iter().position(|r| r.id == f.id).unwrap_or(0);
            let mut v = json!({
                "ruleId": f.id,
                "ruleIndex": index,
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [location(&f.file, f.line, f.column, f.end_column)],
            });
            if !f.related.is_empty() {
                v["relatedLocations"] = Json::Array(
                    f.related
                        .iter()
                        .enumerate()
                        .map(|(k, r)| {
                            let mut l = location(&r.file, r.line, r.column, None);
                            l["id"] = json!(k + 1);
                            l["message"] = json!({"text": r.message});
                            l
                        })
                        .collect(),
                );
            }
            v
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "stackwire",
                    "version": version,
                    "semanticVersion": version,
                    "informationUri": "https://crates.io/crates/stackwire",
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// Escape workflow-command data.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow-command property.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=…,line=…,col=…::message` (`::warning`, `::notice` for info).
pub(crate) fn github(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let end = f
            .end_column
            .map(|e| format!(",endColumn={e}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "::{command} file={},line={},col={}{end},title={}::{}\n",
            escape_property(&f.file),
            f.line,
            f.column,
            escape_property(&format!("stackwire check [{}]", f.id)),
            escape_data(&f.message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::Finding;
    use super::*;

    fn report() -> Report {
        Report {
            findings: vec![
                Finding::new(
                    "dockerfile-missing",
                    Severity::Error,
                    ".github/workflows/a b.yml",
                    3,
                    9,
                    "Dockerfile `x` does not exist".into(),
                )
                .until(20),
                Finding::new(
                    "unresolved",
                    Severity::Info,
                    "x.yml",
                    1,
                    1,
                    "a, b: c\nd".into(),
                ),
            ],
            workflows: 2,
            ..Report::default()
        }
    }

    #[test]
    fn text_lines() {
        assert_eq!(
            text(&report()).lines().next().unwrap(),
            ".github/workflows/a b.yml:3:9: error[dockerfile-missing]: Dockerfile `x` does not exist"
        );
        assert_eq!(
            summary_line(&report()),
            "1 error, 0 warnings, 1 note in 2 workflows and 0 stacks"
        );
    }

    #[test]
    fn json_shape() {
        let v: Json = serde_json::from_str(&json(&report())).unwrap();
        assert_eq!(v["findings"][0]["id"], "dockerfile-missing");
        assert_eq!(v["findings"][0]["end_column"], 20);
        assert_eq!(v["summary"]["errors"], 1);
    }

    #[test]
    fn sarif_shape() {
        let v: Json = serde_json::from_str(&sarif(&report(), "0.1.0")).unwrap();
        let run = &v["runs"][0];
        assert_eq!(
            run["tool"]["driver"]["rules"].as_array().unwrap().len(),
            RULES.len()
        );
        let loc = &run["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(
            loc["artifactLocation"]["uri"],
            ".github/workflows/a%20b.yml"
        );
        assert_eq!(loc["region"]["startLine"], 3);
        assert_eq!(run["results"][1]["level"], "note");
    }

    #[test]
    fn github_annotations() {
        let out = github(&report());
        assert!(out.starts_with("::error file=.github/workflows/a b.yml,line=3,col=9,endColumn=20,title=stackwire check [dockerfile-missing]::"), "{out}");
        assert!(
            out.contains(
                "::notice file=x.yml,line=1,col=1,title=stackwire check [unresolved]::a, b: c%0Ad"
            ),
            "{out}"
        );
    }
}
