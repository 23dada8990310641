//! What the lint knows about each stack: the names its mapping defines (and which are
//! secrets), where `stackwire sync` pushes them, and the stack-level findings
//! (`health-undefined`, `output-missing`). The command loads mappings and state; this turns
//! them into facts. Pure.

use std::collections::BTreeMap;

use super::yaml::{self, Node};
use super::{Finding, Severity, nearest, rules};
use crate::mapping::github::Scope;
use crate::mapping::{Mapping, MappingError, Source};
use crate::resolve;
use crate::source::StackData;

/// One stack mapping, as the lint sees it.
#[derive(Debug, Default)]
pub(crate) struct StackFacts {
    /// The mapping file's stem (`stacks/<name>.yaml`): what `--stack` names.
    pub(crate) name: String,
    /// The mapping file, relative to the repository root.
    pub(crate) rel: String,
    /// Selected by `--stack` (or all): its sync targets define secrets and variables and its
    /// findings are reported.
    pub(crate) selected: bool,
    /// Its findings are reported (the PATH arguments cover the mapping file).
    pub(crate) reported: bool,
    pub(crate) mapped: Vec<Mapped>,
    pub(crate) targets: Vec<Target>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) notes: Vec<String>,
}

/// A mapped name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mapped {
    pub(crate) name: String,
    /// Synced as a secret (`Some(true)`), a variable (`Some(false)`), or unknown (`None`:
    /// the state could not be read).
    pub(crate) secret: Option<bool>,
}

/// Where `sync` pushes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TargetScope {
    /// `owner/repo`.
    Repo(String),
    /// `owner/repo` and the environment.
    Environment(String, String),
    /// An organization; `Some(names)` when only selected repositories see it.
    Org(Option<Vec<String>>),
}

/// One sync target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) scope: TargetScope,
    /// Names forced to secrets.
    pub(crate) secrets: Vec<String>,
    /// Names not synced.
    pub(crate) exclude: Vec<String>,
}

impl StackFacts {
    /// Facts from a loaded mapping; `state` is the stack's data, or why it could not be read.
    pub(crate) fn from_mapping(
        name: &str,
        rel: &str,
        mapping: &Mapping,
        state: Result<&StackData, String>,
    ) -> Self {
        let mut facts = Self {
            name: name.to_owned(),
            rel: rel.to_owned(),
            selected: true,
            reported: true,
            ..Self::default()
        };
        facts.targets = mapping
            .github
            .iter()
            .map(|t| Target {
                scope: match &t.scope {
                    Scope::Repo { owner, repo } => TargetScope::Repo(format!("{owner}/{repo}")),
                    Scope::Environment {
                        owner,
                        repo,
                        environment,
                    } => TargetScope::Environment(format!("{owner}/{repo}"), environment.clone()),
                    Scope::Org {
                        visibility,
                        repositories,
                        ..
                    } => TargetScope::Org(
                        (visibility.as_str() == "selected").then(|| repositories.clone()),
                    ),
                },
                secrets: t.secrets.clone(),
                exclude: t.exclude.clone(),
            })
            .collect();
        let data = match state {
            Ok(data) => data,
            Err(why) => {
                facts.notes.push(format!(
                    "{rel}: `{}` not checked: {why}",
                    rules::OUTPUT_MISSING
                ));
                facts.mapped = mapping
                    .entries
                    .iter()
                    .map(|e| Mapped {
                        name: e.name.clone(),
                        secret: match (&e.source, e.secret) {
                            (_, true) => Some(true),
                            (Source::Value(_), false) => Some(false),
                            _ => None,
                        },
                    })
                    .collect();
                return facts;
            }
        };
        let resolved = resolve::resolve(mapping, data);
        let secret_of: BTreeMap<String, bool> = match &resolved {
            Ok(vars) => vars.iter().map(|v| (v.name.clone(), v.secret)).collect(),
            Err(_) => BTreeMap::new(),
        };
        facts.mapped = mapping
            .entries
            .iter()
            .map(|e| {
                let secret = if e.secret {
                    Some(true)
                } else if let Some(s) = secret_of.get(&e.name) {
                    Some(*s)
                } else {
                    match &e.source {
                        Source::Value(_) => Some(false),
                        Source::Output(path) => match path.first() {
                            Some(crate::value::Segment::Key(root)) => data
                                .outputs
                                .get(root)
                                .and_then(|v| v.lookup(&path[1..]).ok())
                                .map(|(_, s)| s),
                            _ => None,
                        },
                        _ => None,
                    }
                };
                Mapped {
                    name: e.name.clone(),
                    secret,
                }
            })
            .collect();
        if let Err(err) = resolved {
            for problem in &err.problems {
                let Some(entry) = mapping.entries.iter().find(|e| e.name == problem.name) else {
                    continue;
                };
                let missing = match &entry.source {
                    Source::Output(_) => problem.message.contains("does not exist"),
                    Source::Config(_) => {
                        problem.message.contains("is not set")
                            || problem.message.contains("does not exist")
                    }
                    Source::Template(_) => {
                        problem.message.contains("which is not defined")
                            && (problem.message.contains("`outputs.")
                                || problem.message.contains("`config."))
                    }
                    Source::Value(_) => false,
                };
                if missing {
                    facts.findings.push(Finding::new(
                        rules::OUTPUT_MISSING,
                        Severity::Error,
                        rel,
                        entry.line as u32,
                        entry.column as u32,
                        format!(
                            "`{}` (stack `{}`): {}",
                            entry.name, mapping.stack, problem.message
                        ),
                    ));
                }
            }
        }
        facts
    }

    /// Facts from a mapping that failed to load because a health check reads an undefined
    /// variable: names and targets read leniently from the text, every such read reported.
    pub(crate) fn from_health_error(name: &str, rel: &str, text: &str, err: &MappingError) -> Self {
        let mut facts = Self {
            name: name.to_owned(),
            rel: rel.to_owned(),
            selected: true,
            reported: true,
            ..Self::default()
        };
        facts.notes.push(format!(
            "{rel}: `{}` not checked: the mapping does not load ({})",
            rules::OUTPUT_MISSING,
            err.message
        ));
        let root = yaml::parse(text).ok();
        let root = root.as_ref();
        for (k, v) in root
            .and_then(|r| r.get("env"))
            .and_then(Node::as_map)
            .unwrap_or_default()
        {
            if let Some(n) = k.as_str() {
                facts.mapped.push(Mapped {
                    name: n.to_owned(),
                    secret: (v.str_of("secret") == Some("true")).then_some(true),
                });
            }
        }
        if let Some(github) = root.and_then(|r| r.get("github")) {
            let blocks: Vec<&Node> = match github.as_seq() {
                Some(items) => items.iter().collect(),
                None => vec![github],
            };
            for b in blocks {
                let list = |key: &str| -> Vec<String> {
                    b.get(key)
                        .map(|n| {
                            n.scalars()
                                .iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let scope = match (b.str_of("repo"), b.str_of("environment"), b.str_of("org")) {
                    (Some(r), Some(e), _) => TargetScope::Environment(r.into(), e.into()),
                    (Some(r), None, _) => TargetScope::Repo(r.into()),
                    (None, _, Some(_)) => TargetScope::Org(
                        (b.str_of("visibility") == Some("selected")).then(|| list("repositories")),
                    ),
                    _ => continue,
                };
                facts.targets.push(Target {
                    scope,
                    secrets: list("secrets"),
                    exclude: list("exclude"),
                });
            }
        }
        let names: Vec<&str> = facts.mapped.iter().map(|m| m.name.as_str()).collect();
        let mut findings = Vec::new();
        for check in root
            .and_then(|r| r.get("health"))
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            let check_name = check.str_of("name").unwrap_or("?");
            let mut templates = Vec::new();
            for key in ["http", "tcp", "command"] {
                if let Some(n) = check.get(key) {
                    n.walk_scalars(&mut templates);
                }
            }
            for node in templates {
                let st = node.text(text);
                for var in crate::mapping::health::undefined_variables(&st.text, &names) {
                    let offset = st.text.find(&format!("env.{var}")).unwrap_or(0);
                    let pos = st.pos(offset);
                    findings.push(Finding::new(
                        rules::HEALTH_UNDEFINED,
                        Severity::Error,
                        rel,
                        pos.line,
                        pos.column,
                        format!(
                            "health check `{check_name}` uses `env.{var}`, which the mapping does not define; {}",
                            nearest_names(&var, &names)
                        ),
                    ));
                }
            }
        }
        if findings.is_empty() {
            findings.push(Finding::new(
                rules::HEALTH_UNDEFINED,
                Severity::Error,
                rel,
                err.line as u32,
                err.column as u32,
                err.message.clone(),
            ));
        }
        facts.findings = findings;
        facts
    }

    /// The mapped names.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.mapped.iter().map(|m| m.name.as_str()).collect()
    }
}

/// "mapped names (nearest first): `A`, `B`" or "the mapping maps nothing".
fn nearest_names(want: &str, names: &[&str]) -> String {
    if names.is_empty() {
        return "the mapping maps no variable".into();
    }
    let near = nearest(want, names.iter().copied(), 5);
    format!(
        "mapped (nearest first): {}",
        near.iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
