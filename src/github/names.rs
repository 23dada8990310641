//! What each `github:` target should hold, validated before any request: GitHub's name rules
//! (charset, reserved `GITHUB_` prefix, case-insensitive uniqueness), the 48 KB value limit and
//! the per-scope counts. Every problem of every target is reported at once.

use serde::Serialize;

use super::marker::MARKER_PREFIX;
use super::scope;
use crate::mapping::GithubTarget;
use crate::vars::Var;

/// GitHub's limit on one secret or variable value (48 KB).
pub(crate) const MAX_VALUE_BYTES: usize = 48 * 1024;

/// Secret (write-only, sealed) or variable (plaintext, readable back).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Secret,
    Variable,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Variable => "variable",
        }
    }

    /// The REST collection: `secrets` or `variables`.
    pub(crate) fn collection(self) -> &'static str {
        match self {
            Self::Secret => "secrets",
            Self::Variable => "variables",
        }
    }
}

/// One name a target should hold.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    /// The name on GitHub (upper case: GitHub stores names upper-cased).
    pub(crate) name: String,
    /// The name in the mapping.
    pub(crate) mapped: String,
    pub(crate) kind: Kind,
    /// `None`: a secret whose plaintext was not read.
    pub(crate) value: Option<String>,
}

/// What one target should hold.
#[derive(Debug)]
pub(crate) struct Desired<'t> {
    pub(crate) target: &'t GithubTarget,
    /// In mapping order.
    pub(crate) items: Vec<Item>,
    /// `exclude:` names (upper case) with the kind they would have.
    pub(crate) excluded: Vec<(String, Kind)>,
}

/// Names or values GitHub would refuse, listed together.
#[derive(Debug, thiserror::Error)]
#[error("cannot sync to GitHub:{}", .0.iter().map(|p| format!("\n  - {p}")).collect::<String>())]
pub(crate) struct Invalid(pub(crate) Vec<String>);

/// Build and validate every target's contents. Returns warnings alongside.
pub(crate) fn desired<'t>(
    targets: &'t [GithubTarget],
    vars: &[Var],
) -> Result<(Vec<Desired<'t>>, Vec<String>), Invalid> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut out = Vec::new();
    let mut json_warned: Vec<String> = Vec::new();
    for target in targets {
        let at = target.describe();
        let mut items: Vec<Item> = Vec::new();
        let mut excluded = Vec::new();
        for var in vars {
            let kind = if var.secret || target.secrets.contains(&var.name) {
                Kind::Secret
            } else {
                Kind::Variable
            };
            if target.exclude.contains(&var.name) {
                excluded.push((var.name.to_ascii_uppercase(), kind));
                continue;
            }
            let name = var.name.to_ascii_uppercase();
            if let Some(problem) = name_problem(&var.name) {
                problems.push(format!("{at}: `{}` {problem}", var.name));
            }
            if let Some(other) = items.iter().find(|i| i.name == name) {
                problems.push(format!(
                    "{at}: `{}` and `{}` are the same name on GitHub ({name}; names are case-insensitive)",
                    other.mapped, var.name
                ));
            }
            if let Some(v) = &var.value {
                if v.len() > MAX_VALUE_BYTES {
                    problems.push(format!(
                        "{at}: `{}` is {} bytes; GitHub stores at most 48 KB ({MAX_VALUE_BYTES} bytes) per {}",
                        var.name,
                        v.len(),
                        kind.as_str()
                    ));
                }
                let t = v.trim_start();
                let json_like = t.starts_with('{') || t.starts_with('[');
                if kind == Kind::Secret && json_like && !json_warned.contains(&var.name) {
                    json_warned.push(var.name.clone());
                    warnings.push(format!(
                        "secret `{}` holds JSON; GitHub masks whole values only, so fragments of it can show in workflow logs",
                        var.name
                    ));
                }
            }
            items.push(Item {
                name,
                mapped: var.name.clone(),
                kind,
                value: var.value.clone(),
            });
        }
        let (max_secrets, max_variables) = scope::limits(&target.scope);
        let secrets = items.iter().filter(|i| i.kind == Kind::Secret).count();
        // The ownership marker is one more variable.
        let variables = items.iter().filter(|i| i.kind == Kind::Variable).count() + 1;
        if secrets > max_secrets {
            problems.push(format!(
                "{at}: {secrets} secrets, GitHub allows {max_secrets} at this level (exclude some with `exclude:`)"
            ));
        }
        if variables > max_variables {
            problems.push(format!(
                "{at}: {variables} variables (with stackwire's ownership marker), GitHub allows {max_variables} at this level"
            ));
        }
        out.push(Desired {
            target,
            items,
            excluded,
        });
    }
    if problems.is_empty() {
        Ok((out, warnings))
    } else {
        Err(Invalid(problems))
    }
}

/// Why GitHub would refuse `name`, if it would.
fn name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some(
            "is not a valid GitHub name: letters, digits and `_` only, not starting with a digit"
                .into(),
        );
    }
    let upper = name.to_ascii_uppercase();
    if upper.starts_with("GITHUB_") {
        return Some("starts with `GITHUB_`, which GitHub reserves".into());
    }
    if upper.starts_with(MARKER_PREFIX) {
        return Some(format!(
            "starts with `{MARKER_PREFIX}`, which stackwire reserves for its ownership marker"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::github::Scope;

    fn target(secrets: &[&str], exclude: &[&str]) -> GithubTarget {
        GithubTarget {
            scope: Scope::Repo {
                owner: "acme".into(),
                repo: "app".into(),
            },
            secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
            exclude: exclude.iter().map(|s| (*s).to_owned()).collect(),
            line: 1,
        }
    }

    fn var(name: &str, value: &str, secret: bool) -> Var {
        Var {
            name: name.into(),
            value: Some(value.into()),
            secret,
        }
    }

    #[test]
    fn kinds_exclusions_and_upper_case() {
        let targets = [target(&["REGION"], &["LOG_LEVEL"])];
        let vars = [
            var("db_password", "pw", true),
            var("REGION", "eu", false),
            var("LOG_LEVEL", "info", false),
            var("URL", "http://x", false),
        ];
        let (d, warnings) = desired(&targets, &vars).unwrap();
        assert!(warnings.is_empty());
        let got: Vec<(&str, Kind)> = d[0]
            .items
            .iter()
            .map(|i| (i.name.as_str(), i.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("DB_PASSWORD", Kind::Secret),
                ("REGION", Kind::Secret),
                ("URL", Kind::Variable)
            ]
        );
        assert_eq!(d[0].excluded, [("LOG_LEVEL".to_owned(), Kind::Variable)]);
    }

    #[test]
    fn every_problem_is_reported() {
        let targets = [target(&[], &[])];
        let vars = [
            var("GITHUB_SHA", "x", false),
            var("db_url", "a", false),
            var("DB_URL", "b", true),
            var("BIG", &"x".repeat(MAX_VALUE_BYTES + 1), true),
            var("STACKWIRE_MANAGED_X", "y", false),
            var("OK", "{\"a\":1}", true),
        ];
        let err = desired(&targets, &vars).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.0.len(), 4, "{text}");
        assert!(
            text.contains("`GITHUB_SHA` starts with `GITHUB_`"),
            "{text}"
        );
        assert!(
            text.contains("`db_url` and `DB_URL` are the same name"),
            "{text}"
        );
        assert!(text.contains("`BIG` is 49153 bytes"), "{text}");
        assert!(text.contains("STACKWIRE_MANAGED_"), "{text}");
    }

    #[test]
    fn counts_per_scope() {
        let targets = [target(&[], &[])];
        let vars: Vec<Var> = (0..101).map(|i| var(&format!("S{i}"), "v", true)).collect();
        let err = desired(&targets, &vars).unwrap_err();
        assert!(
            err.to_string().contains("101 secrets, GitHub allows 100"),
            "{err}"
        );
        let vars: Vec<Var> = (0..100).map(|i| var(&format!("S{i}"), "v", true)).collect();
        assert!(desired(&targets, &vars).is_ok());
    }

    #[test]
    fn json_secrets_warn() {
        let targets = [target(&[], &[])];
        let (_, warnings) = desired(&targets, &[var("CFG", " {\"a\":1}", true)]).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(!warnings[0].contains("\"a\""), "never the value");
    }
}
