//! The GitHub Actions workflow model the rules read: views over the positioned YAML tree
//! (jobs, steps, `env:`, triggers, concurrency, matrix) with the lookups GitHub does
//! (`working-directory` precedence, default shell, `workflow_call` secrets). No I/O.

use super::yaml::{self, Node, YamlError};

/// A parsed workflow file.
#[derive(Debug)]
pub(crate) struct Workflow {
    /// Path relative to the repository root, with `/`.
    pub(crate) rel: String,
    pub(crate) src: String,
    pub(crate) root: Node,
}

/// A job of a workflow.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Job<'w> {
    pub(crate) id: &'w str,
    pub(crate) node: &'w Node,
}

/// A step of a job.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step<'w> {
    pub(crate) index: usize,
    pub(crate) node: &'w Node,
}

/// One trigger (`on.push`, …) with its filters.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trigger {
    pub(crate) event: String,
    pub(crate) branches: Option<Vec<String>>,
    pub(crate) branches_ignore: Option<Vec<String>>,
    pub(crate) tags: Option<Vec<String>>,
    pub(crate) tags_ignore: Option<Vec<String>>,
    pub(crate) paths: Option<Vec<String>>,
    pub(crate) paths_ignore: Option<Vec<String>>,
    pub(crate) types: Option<Vec<String>>,
    pub(crate) workflows: Option<Vec<String>>,
    pub(crate) crons: Vec<String>,
}

/// Secrets a reusable workflow declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CallSecrets {
    /// Not a reusable workflow.
    NotCallable,
    /// `on.workflow_call` without `secrets:` (callers may pass `secrets: inherit`).
    Any,
    /// The declared names.
    Declared(Vec<String>),
}

impl Workflow {
    /// Parse a workflow; a file whose top level is not a mapping is an error.
    pub(crate) fn parse(rel: &str, src: String) -> Result<Self, YamlError> {
        let root = yaml::parse(&src)?;
        if root.as_map().is_none() {
            return Err(YamlError {
                pos: root.pos,
                message: "a workflow is a mapping with `on:` and `jobs:`".into(),
            });
        }
        Ok(Self {
            rel: rel.to_owned(),
            src,
            root,
        })
    }

    /// The `on:` key and value.
    pub(crate) fn on(&self) -> Option<(&Node, &Node)> {
        self.root.entry("on")
    }

    /// Workflow-level `env:` entries.
    pub(crate) fn env(&self) -> &[(Node, Node)] {
        self.root
            .get("env")
            .and_then(Node::as_map)
            .unwrap_or_default()
    }

    /// The jobs, in file order.
    pub(crate) fn jobs(&self) -> Vec<Job<'_>> {
        self.root
            .get("jobs")
            .and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .filter_map(|(k, v)| {
                Some(Job {
                    id: k.as_str()?,
                    node: v,
                })
            })
            .collect()
    }

    /// `defaults.run.<key>` of the workflow.
    pub(crate) fn defaults_run(&self, key: &str) -> Option<&Node> {
        self.root.get("defaults")?.get("run")?.get(key)
    }

    /// The workflow's `concurrency` group, as written.
    pub(crate) fn concurrency(&self) -> Option<&Node> {
        concurrency_group(self.root.get("concurrency")?)
    }

    /// The triggers.
    pub(crate) fn triggers(&self) -> Vec<Trigger> {
        let Some((_, on)) = self.on() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match &on.value {
            yaml::Value::Scalar(s) => out.push(Trigger {
                event: s.clone(),
                ..Trigger::default()
            }),
            yaml::Value::Seq(items) => {
                for item in items {
                    if let Some(s) = item.as_str() {
                        out.push(Trigger {
                            event: s.to_owned(),
                            ..Trigger::default()
                        });
                    }
                }
            }
            yaml::Value::Map(entries) => {
                for (k, v) in entries {
                    let Some(event) = k.as_str() else { continue };
                    let list = |name: &str| {
                        v.get(name).map(|n| {
                            n.scalars()
                                .iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect::<Vec<_>>()
                        })
                    };
                    let crons = v
                        .as_seq()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|c| c.str_of("cron").map(str::to_owned))
                        .collect();
                    out.push(Trigger {
                        event: event.to_owned(),
                        branches: list("branches"),
                        branches_ignore: list("branches-ignore"),
                        tags: list("tags"),
                        tags_ignore: list("tags-ignore"),
                        paths: list("paths"),
                        paths_ignore: list("paths-ignore"),
                        types: list("types"),
                        workflows: list("workflows"),
                        crons,
                    });
                }
            }
        }
        out
    }

    /// What a reusable workflow declares under `on.workflow_call.secrets`.
    pub(crate) fn call_secrets(&self) -> CallSecrets {
        let Some((_, on)) = self.on() else {
            return CallSecrets::NotCallable;
        };
        let call = match &on.value {
            yaml::Value::Scalar(s) if s == "workflow_call" => return CallSecrets::Any,
            yaml::Value::Seq(items) => {
                return if items.iter().any(|i| i.as_str() == Some("workflow_call")) {
                    CallSecrets::Any
                } else {
                    CallSecrets::NotCallable
                };
            }
            yaml::Value::Map(_) => match on.entry("workflow_call") {
                Some((_, v)) => v,
                None => return CallSecrets::NotCallable,
            },
            yaml::Value::Scalar(_) => return CallSecrets::NotCallable,
        };
        match call.get("secrets").and_then(Node::as_map) {
            Some(map) => CallSecrets::Declared(
                map.iter()
                    .filter_map(|(k, _)| k.as_str().map(str::to_owned))
                    .collect(),
            ),
            None => CallSecrets::Any,
        }
    }

    /// Whether the workflow has triggers other than `workflow_call`.
    pub(crate) fn has_other_triggers(&self) -> bool {
        self.triggers().iter().any(|t| t.event != "workflow_call")
    }
}

/// `concurrency: group` or `concurrency: {group: …}`: the group node.
pub(crate) fn concurrency_group(node: &Node) -> Option<&Node> {
    match &node.value {
        yaml::Value::Scalar(_) if !node.is_null() => Some(node),
        yaml::Value::Map(_) => node.get("group"),
        _ => None,
    }
}

impl<'w> Job<'w> {
    /// Job-level `env:` entries.
    pub(crate) fn env(&self) -> &'w [(Node, Node)] {
        self.node
            .get("env")
            .and_then(Node::as_map)
            .unwrap_or_default()
    }

    /// `container.env` entries (set for every step of a container job).
    pub(crate) fn container_env(&self) -> &'w [(Node, Node)] {
        self.node
            .get("container")
            .and_then(|c| c.get("env"))
            .and_then(Node::as_map)
            .unwrap_or_default()
    }

    /// Whether steps run in a container (whose image may define variables).
    pub(crate) fn in_container(&self) -> bool {
        self.node.get("container").is_some_and(|c| !c.is_null())
    }

    /// The steps.
    pub(crate) fn steps(&self) -> Vec<Step<'w>> {
        self.node
            .get("steps")
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(index, node)| Step { index, node })
            .collect()
    }

    /// The `environment:` name node (`environment: prod` or `environment: {name: prod}`).
    pub(crate) fn environment(&self) -> Option<&'w Node> {
        let env = self.node.get("environment")?;
        match &env.value {
            yaml::Value::Scalar(_) if !env.is_null() => Some(env),
            yaml::Value::Map(_) => env.get("name"),
            _ => None,
        }
    }

    /// `defaults.run.<key>` of the job.
    pub(crate) fn defaults_run(&self, key: &str) -> Option<&'w Node> {
        self.node.get("defaults")?.get("run")?.get(key)
    }

    /// The job's `concurrency` group node.
    pub(crate) fn concurrency(&self) -> Option<&'w Node> {
        concurrency_group(self.node.get("concurrency")?)
    }

    /// The values of `matrix.<key>`: literal list items and `include` entries.
    pub(crate) fn matrix_values(&self, key: &str) -> Option<Vec<String>> {
        let matrix = self.node.get("strategy")?.get("matrix")?;
        let mut out = Vec::new();
        if let Some(node) = matrix.get(key) {
            for item in node.as_seq()? {
                out.push(item.as_str()?.to_owned());
            }
        }
        for include in matrix
            .get("include")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            if let Some(v) = include.get(key) {
                out.push(v.as_str()?.to_owned());
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// Whether steps run on Windows (whose default shell is PowerShell).
    pub(crate) fn on_windows(&self) -> bool {
        let Some(runs_on) = self.node.get("runs-on") else {
            return false;
        };
        let mut texts: Vec<String> = Vec::new();
        let mut scalars = Vec::new();
        runs_on.walk_scalars(&mut scalars);
        for s in scalars {
            let t = s.as_str().unwrap_or_default();
            if t.contains("matrix.") {
                // A matrix-chosen runner: windows if any matrix value says so.
                let mut all = Vec::new();
                if let Some(m) = self.node.get("strategy").and_then(|s| s.get("matrix")) {
                    m.walk_scalars(&mut all);
                }
                texts.extend(all.iter().filter_map(|n| n.as_str().map(str::to_owned)));
            }
            texts.push(t.to_owned());
        }
        texts
            .iter()
            .any(|t| t.to_ascii_lowercase().contains("windows"))
    }
}

impl<'w> Step<'w> {
    /// `uses:` without the version (`docker/build-push-action`), lowercase.
    pub(crate) fn action(&self) -> Option<String> {
        let uses = self.node.str_of("uses")?;
        Some(
            uses.split('@')
                .next()
                .unwrap_or(uses)
                .trim()
                .to_ascii_lowercase(),
        )
    }

    /// The `with.<key>` node.
    pub(crate) fn with(&self, key: &str) -> Option<&'w Node> {
        self.node.get("with")?.get(key)
    }

    /// The `run:` node.
    pub(crate) fn run(&self) -> Option<&'w Node> {
        self.node.get("run").filter(|n| n.as_str().is_some())
    }

    /// Step-level `env:` entries.
    pub(crate) fn env(&self) -> &'w [(Node, Node)] {
        self.node
            .get("env")
            .and_then(Node::as_map)
            .unwrap_or_default()
    }

    /// How the step is called in messages: `"Health check"` or `#3`.
    pub(crate) fn label(&self) -> String {
        match self.node.str_of("name").or_else(|| self.node.str_of("id")) {
            Some(name) => format!("step \"{name}\""),
            None => format!("step #{}", self.index + 1),
        }
    }
}

/// The literal value of an `env:` entry (no expression).
pub(crate) fn literal(node: &Node) -> Option<&str> {
    node.as_str().filter(|s| !s.contains("${{"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "name: Deploy
on:
  push:
    branches: [main]
    paths: ['app/**']
  workflow_call:
    secrets:
      TOKEN: {required: true}
concurrency: deploy
jobs:
  build:
    runs-on: ${{ matrix.os }}
    strategy:
      matrix:
        os: [ubuntu-latest, windows-latest]
        file: [a, b]
        include:
          - file: c
    environment: {name: production, url: x}
    steps:
      - uses: actions/checkout@v4
      - name: Hi
        run: echo hi
";

    #[test]
    fn views() {
        let wf = Workflow::parse(".github/workflows/d.yml", SRC.into()).unwrap();
        let triggers = wf.triggers();
        assert_eq!(triggers[0].event, "push");
        assert_eq!(
            triggers[0].branches.as_deref(),
            Some(&["main".to_owned()][..])
        );
        assert_eq!(
            wf.call_secrets(),
            CallSecrets::Declared(vec!["TOKEN".into()])
        );
        assert_eq!(wf.concurrency().and_then(Node::as_str), Some("deploy"));
        let job = wf.jobs()[0];
        assert_eq!(job.id, "build");
        assert_eq!(job.environment().and_then(Node::as_str), Some("production"));
        assert_eq!(job.matrix_values("file").unwrap(), ["a", "b", "c"]);
        assert!(job.on_windows());
        let steps = job.steps();
        assert_eq!(steps[0].action().as_deref(), Some("actions/checkout"));
        assert_eq!(steps[1].label(), "step \"Hi\"");
    }

    #[test]
    fn non_mappings_are_refused() {
        assert!(Workflow::parse("x.yml", "- a\n".into()).is_err());
    }
}
