//! The plan of one target: for every name `create`, `update`, `unchanged`, `delete` or `skip`,
//! with the reason, from what GitHub lists, the ownership marker and the local record.
//!
//! Secrets cannot be read back: one is unchanged when its keyed fingerprint matches the
//! record and GitHub's `updated_at` is still that of our write; without a record it is
//! written. Variables are compared by value. `--prune` deletes only names the marker says
//! stackwire wrote for this stack, never one another stack's marker also claims.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::api::{RemoteSecret, RemoteVariable, Written};
use super::apply::record_key;
use super::client::{ApiError, Client};
use super::marker::{MARKER_PREFIX, Marker};
use super::names::{Desired, Kind};
use super::record::Record;
use super::scope;
use crate::mapping::GithubTarget;

/// What a step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
    Create,
    Update,
    Unchanged,
    Delete,
    Skip,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Unchanged => "unchanged",
            Self::Delete => "delete",
            Self::Skip => "skip",
        }
    }

    /// Whether the step sends a write.
    pub(crate) fn writes(self) -> bool {
        matches!(self, Self::Create | Self::Update | Self::Delete)
    }
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Not applied yet (or a dry run).
    Planned,
    Done(Written),
    Failed(String),
    /// Not attempted because an earlier write failed.
    NotWritten,
}

/// One name of the plan.
pub(crate) struct Step {
    /// The name on GitHub.
    pub(crate) name: String,
    /// The mapped name, when it is mapped.
    pub(crate) mapped: Option<String>,
    pub(crate) kind: Kind,
    pub(crate) action: Action,
    pub(crate) reason: String,
    /// The value to write (never shown).
    pub(crate) value: Option<String>,
    /// The name exists on GitHub (for variables: PATCH instead of POST).
    pub(crate) exists: bool,
    /// The keyed fingerprint of the value.
    pub(crate) fingerprint: Option<String>,
    /// For an unchanged secret: GitHub's `updated_at`, to remember in the record.
    pub(crate) confirm: Option<String>,
    /// Unchanged, and the record says stackwire wrote this value: it is stackwire's.
    pub(crate) recorded: bool,
    pub(crate) outcome: Outcome,
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("action", &self.action)
            .field("reason", &self.reason)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

/// What happens to the ownership marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MarkerAction {
    Create,
    Update,
    Delete,
    Unchanged,
}

/// The ownership marker of this stack in the target's scope.
#[derive(Debug)]
pub(crate) struct MarkerPlan {
    pub(crate) name: String,
    /// As read from GitHub (empty when absent or unreadable).
    pub(crate) old: Marker,
    /// The variable exists on GitHub.
    pub(crate) exists: bool,
    /// It exists and stackwire can read it (an unreadable one is overwritten, never deleted).
    pub(crate) readable: bool,
    /// What it will say when every planned write succeeds.
    pub(crate) predicted: Marker,
    pub(crate) action: MarkerAction,
    pub(crate) outcome: Outcome,
}

/// The plan of one target.
#[derive(Debug)]
pub(crate) struct TargetPlan<'t> {
    pub(crate) target: &'t GithubTarget,
    /// `acme/app`, `acme/app (environment production)`, `organization acme`.
    pub(crate) label: String,
    /// The record's key for the scope (API base + scope).
    pub(crate) record_scope: String,
    /// Org visibility settings (empty otherwise).
    pub(crate) settings: String,
    pub(crate) steps: Vec<Step>,
    /// Owned names GitHub no longer has: dropped from the marker and the record.
    pub(crate) gone: Vec<(Kind, String)>,
    pub(crate) marker: MarkerPlan,
    /// Repository ids of an org `selected` target (filled when applying).
    pub(crate) marker_repo_ids: Vec<u64>,
}

impl TargetPlan<'_> {
    /// How many steps take each action.
    pub(crate) fn count(&self, action: Action) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }
}

/// Why a target cannot be planned.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanError {
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The marker name is taken by another stack's marker.
    #[error(
        "{label}: the variable {name} is the ownership marker of stack `{other}`, whose name maps to the same marker as `{stack}`; rename one of the stacks"
    )]
    MarkerConflict {
        label: String,
        name: String,
        other: String,
        stack: String,
    },
}

/// What GitHub holds in a scope.
#[derive(Debug, Default)]
pub(crate) struct Remote {
    pub(crate) secrets: BTreeMap<String, RemoteSecret>,
    pub(crate) variables: BTreeMap<String, RemoteVariable>,
}

/// Options of the run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) force: bool,
    pub(crate) prune: bool,
}

/// List the target's scope on GitHub (variables, with every marker; secrets when any is
/// mapped or owned) and plan it.
pub(crate) async fn fetch_and_plan<'t>(
    client: &mut Client<'_>,
    desired: &Desired<'t>,
    record: &Record,
    stack: &str,
    marker_name: &str,
    options: Options,
) -> Result<TargetPlan<'t>, PlanError> {
    let scope = &desired.target.scope;
    let variables = client.list_variables(scope).await?;
    let owns_secrets = variables
        .get(marker_name)
        .and_then(|v| Marker::parse(&v.value))
        .is_some_and(|m| !m.secrets.is_empty());
    let maps_secrets = desired.items.iter().any(|i| i.kind == Kind::Secret);
    let secrets = if owns_secrets || maps_secrets {
        client.list_secrets(scope).await?
    } else {
        BTreeMap::new()
    };
    let remote = Remote { secrets, variables };
    let record_scope = format!("{}|{}", client.api(), scope::key(scope));
    plan(
        desired,
        &remote,
        record,
        &record_scope,
        stack,
        marker_name,
        options,
    )
}

/// Plan one target (pure).
pub(crate) fn plan<'t>(
    desired: &Desired<'t>,
    remote: &Remote,
    record: &Record,
    record_scope: &str,
    stack: &str,
    marker_name: &str,
    options: Options,
) -> Result<TargetPlan<'t>, PlanError> {
    let target = desired.target;
    let label = target.describe();
    let settings = scope::settings(&target.scope);
    let is_org = scope::visibility(&target.scope);
    let marker_var = remote.variables.get(marker_name);
    let parsed = marker_var.map(|v| Marker::parse(&v.value));
    let readable = matches!(parsed, Some(Some(_)));
    let old = match parsed {
        Some(Some(m)) if m.stack != stack => {
            return Err(PlanError::MarkerConflict {
                label,
                name: marker_name.to_owned(),
                other: m.stack,
                stack: stack.to_owned(),
            });
        }
        Some(Some(m)) => m,
        _ => Marker::new(stack, &settings),
    };
    // Names other stacks' markers claim here: never pruned.
    let others: Vec<Marker> = remote
        .variables
        .iter()
        .filter(|(name, _)| name.starts_with(MARKER_PREFIX) && *name != marker_name)
        .filter_map(|(_, var)| Marker::parse(&var.value))
        .collect();
    let claimed_by = |kind: Kind, name: &str| {
        others
            .iter()
            .find(|m| m.claims(kind, name))
            .map(|m| m.stack.clone())
    };
    let settings_changed = marker_var.is_some() && old.settings != settings;
    let exists = |kind: Kind, name: &str| match kind {
        Kind::Secret => remote.secrets.contains_key(name),
        Kind::Variable => remote.variables.contains_key(name),
    };

    let mut steps = Vec::new();
    let mut planned: BTreeSet<(Kind, String)> = BTreeSet::new();
    for item in &desired.items {
        planned.insert((item.kind, item.name.clone()));
        let on_github = exists(item.kind, &item.name);
        let mut step = Step {
            name: item.name.clone(),
            mapped: Some(item.mapped.clone()),
            kind: item.kind,
            action: Action::Skip,
            reason: String::new(),
            value: None,
            exists: on_github,
            fingerprint: None,
            confirm: None,
            recorded: false,
            outcome: Outcome::Planned,
        };
        let Some(value) = &item.value else {
            step.reason = "the secret's plaintext was not read".into();
            steps.push(step);
            continue;
        };
        if value.is_empty() {
            // GitHub stores no empty value; an unset name reads as "" in workflows anyway.
            let owned = old.owns(item.kind, &item.name);
            (step.action, step.reason) = match (on_github, owned) {
                (true, true) => (
                    Action::Delete,
                    "empty value: GitHub stores none, and an unset name reads as empty".into(),
                ),
                (true, false) => (
                    Action::Skip,
                    "empty value; the value on GitHub was not written by stackwire and is kept"
                        .into(),
                ),
                (false, _) => (
                    Action::Skip,
                    "empty value (GitHub stores none; an unset name reads as empty)".into(),
                ),
            };
            steps.push(step);
            continue;
        }
        let fingerprint = record.fingerprint(
            record_scope,
            &record_key(item.kind, &item.name),
            &settings,
            value,
        );
        let entry = record.get(record_scope, &record_key(item.kind, &item.name));
        let visibility_differs =
            |remote: Option<&str>| is_org.is_some_and(|v| remote.is_some_and(|r| r != v.as_str()));
        let (action, reason): (Action, String) = match item.kind {
            Kind::Secret => match remote.secrets.get(&item.name) {
                None => (Action::Create, "not on GitHub".into()),
                Some(_) if options.force => (Action::Update, "--force".into()),
                Some(_) if settings_changed => (
                    Action::Update,
                    "organization visibility or repositories changed".into(),
                ),
                Some(r) if visibility_differs(r.visibility.as_deref()) => (
                    Action::Update,
                    format!(
                        "visibility on GitHub is {}",
                        r.visibility.as_deref().unwrap_or("?")
                    ),
                ),
                Some(r) => match entry {
                    None => (
                        Action::Update,
                        "no local record of the last write (fresh checkout or runner)".into(),
                    ),
                    Some(e) if e.fingerprint != fingerprint => {
                        (Action::Update, "value changed since the last sync".into())
                    }
                    Some(e) if !e.matches_remote(&r.updated_at) => (
                        Action::Update,
                        format!(
                            "changed on GitHub since the last sync (updated {})",
                            r.updated_at
                        ),
                    ),
                    Some(_) => {
                        step.confirm = Some(r.updated_at.clone());
                        (
                            Action::Unchanged,
                            "same value as last written, not changed on GitHub since".into(),
                        )
                    }
                },
            },
            Kind::Variable => match remote.variables.get(&item.name) {
                None => (Action::Create, "not on GitHub".into()),
                Some(_) if options.force => (Action::Update, "--force".into()),
                Some(r) if &r.value != value => (Action::Update, "value differs".into()),
                Some(_) if settings_changed => (
                    Action::Update,
                    "organization visibility or repositories changed".into(),
                ),
                Some(r) if visibility_differs(r.visibility.as_deref()) => (
                    Action::Update,
                    format!(
                        "visibility on GitHub is {}",
                        r.visibility.as_deref().unwrap_or("?")
                    ),
                ),
                Some(_) => (Action::Unchanged, "same value on GitHub".into()),
            },
        };
        // An unchanged name the record says we wrote is ours, even if a marker write was lost.
        step.recorded =
            action == Action::Unchanged && entry.is_some_and(|e| e.fingerprint == fingerprint);
        step.action = action;
        step.reason = reason;
        step.value = Some(value.clone());
        step.fingerprint = Some(fingerprint);
        steps.push(step);
    }

    // Owned names no longer mapped (or excluded, or mapped as the other kind).
    let mut gone = Vec::new();
    for kind in [Kind::Secret, Kind::Variable] {
        for name in old.names(kind) {
            if planned.contains(&(kind, name.clone())) {
                continue;
            }
            if !exists(kind, name) {
                gone.push((kind, name.clone()));
                continue;
            }
            let why = if desired.excluded.iter().any(|(n, _)| n == name) {
                "excluded by the mapping"
            } else if planned.contains(&(other(kind), name.clone())) {
                match kind {
                    Kind::Variable => "now synced as a secret",
                    Kind::Secret => "now synced as a variable",
                }
            } else {
                "no longer mapped"
            };
            let (action, reason) = if let Some(by) = claimed_by(kind, name) {
                (
                    Action::Skip,
                    format!("{why}; kept: stack `{by}` also manages it"),
                )
            } else if options.prune {
                (Action::Delete, format!("{why}; stackwire wrote it"))
            } else {
                (
                    Action::Skip,
                    format!("{why}; stackwire wrote it (--prune deletes it)"),
                )
            };
            steps.push(Step {
                name: name.clone(),
                mapped: None,
                kind,
                action,
                reason,
                value: None,
                exists: true,
                fingerprint: None,
                confirm: None,
                recorded: false,
                outcome: Outcome::Planned,
            });
        }
    }
    for (name, kind) in &desired.excluded {
        let listed = steps.iter().any(|s| s.mapped.is_none() && &s.name == name);
        if !listed {
            steps.push(Step {
                name: name.clone(),
                mapped: None,
                kind: *kind,
                action: Action::Skip,
                reason: "excluded by the mapping".into(),
                value: None,
                exists: false,
                fingerprint: None,
                confirm: None,
                recorded: false,
                outcome: Outcome::Planned,
            });
        }
    }

    let mut plan = TargetPlan {
        target,
        label,
        record_scope: record_scope.to_owned(),
        settings,
        steps,
        gone,
        marker: MarkerPlan {
            name: marker_name.to_owned(),
            old,
            exists: marker_var.is_some(),
            readable,
            predicted: Marker::default(),
            action: MarkerAction::Unchanged,
            outcome: Outcome::Planned,
        },
        marker_repo_ids: Vec::new(),
    };
    plan.marker.predicted = owned_after(&plan, true);
    plan.marker.action = marker_action(&plan.marker, &plan.marker.predicted);
    Ok(plan)
}

fn other(kind: Kind) -> Kind {
    match kind {
        Kind::Secret => Kind::Variable,
        Kind::Variable => Kind::Secret,
    }
}

/// The marker after the run: the old names, minus those deleted or gone, plus those written
/// (all planned writes when `predict`, else those that succeeded) and unchanged names the
/// record says stackwire wrote.
pub(crate) fn owned_after(plan: &TargetPlan<'_>, predict: bool) -> Marker {
    let mut m = plan.marker.old.clone();
    m.stackwire = 1;
    m.settings.clone_from(&plan.settings);
    m.mapped.clear();
    for (kind, name) in &plan.gone {
        m.names_mut(*kind).remove(name);
    }
    for step in &plan.steps {
        let done = if predict {
            step.action.writes()
        } else {
            matches!(step.outcome, Outcome::Done(_))
        };
        match step.action {
            Action::Create | Action::Update if done => {
                m.names_mut(step.kind).insert(step.name.clone());
            }
            Action::Delete if done => {
                m.names_mut(step.kind).remove(&step.name);
            }
            Action::Unchanged if step.recorded => {
                m.names_mut(step.kind).insert(step.name.clone());
            }
            Action::Unchanged if step.kind == Kind::Variable => {
                m.mapped.insert(step.name.clone());
            }
            _ => {}
        }
    }
    let written = m.variables.clone();
    m.mapped.retain(|n| !written.contains(n));
    m
}

/// What the marker write is, to get from `marker.old` to `new`.
pub(crate) fn marker_action(marker: &MarkerPlan, new: &Marker) -> MarkerAction {
    if new.is_empty() {
        if marker.readable {
            MarkerAction::Delete
        } else {
            MarkerAction::Unchanged
        }
    } else if !marker.exists {
        MarkerAction::Create
    } else if marker.readable && marker.old.same_as(new) {
        MarkerAction::Unchanged
    } else {
        MarkerAction::Update
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::names::Item;
    use crate::mapping::github::Scope;

    fn target() -> GithubTarget {
        GithubTarget {
            scope: Scope::Repo {
                owner: "acme".into(),
                repo: "app".into(),
            },
            secrets: Vec::new(),
            exclude: Vec::new(),
            line: 1,
        }
    }

    fn item(name: &str, kind: Kind, value: Option<&str>) -> Item {
        Item {
            name: name.into(),
            mapped: name.into(),
            kind,
            value: value.map(str::to_owned),
        }
    }

    fn variable(name: &str, value: &str) -> RemoteVariable {
        RemoteVariable {
            name: name.into(),
            value: value.into(),
            visibility: None,
        }
    }

    #[test]
    fn unread_plaintext_and_empty_values() {
        let dir = tempfile::tempdir().unwrap();
        let (record, _) = Record::open(dir.path(), "prod");
        let t = target();
        let desired = Desired {
            target: &t,
            items: vec![
                item("TOKEN", Kind::Secret, None),
                item("GONE", Kind::Variable, Some("")),
                item("HUMAN", Kind::Variable, Some("")),
                item("NEVER", Kind::Variable, Some("")),
            ],
            excluded: Vec::new(),
        };
        let mut marker = Marker::new("prod", "");
        marker.variables.insert("GONE".into());
        marker.secrets.insert("TOKEN".into());
        let mut remote = Remote::default();
        for (name, value) in [
            ("GONE", "old"),
            ("HUMAN", "by hand"),
            ("STACKWIRE_MANAGED_PROD", &marker.render()),
        ] {
            remote.variables.insert(name.into(), variable(name, value));
        }
        let options = Options {
            force: false,
            prune: true,
        };
        let plan = plan(
            &desired,
            &remote,
            &record,
            "x|repo:acme/app",
            "prod",
            "STACKWIRE_MANAGED_PROD",
            options,
        )
        .unwrap();
        let got: Vec<(&str, Action)> = plan
            .steps
            .iter()
            .map(|s| (s.name.as_str(), s.action))
            .collect();
        assert_eq!(
            got,
            [
                ("TOKEN", Action::Skip),
                ("GONE", Action::Delete),
                ("HUMAN", Action::Skip),
                ("NEVER", Action::Skip),
            ]
        );
        assert_eq!(plan.steps[0].reason, "the secret's plaintext was not read");
        // TOKEN is still stackwire's (it is mapped, only unread); GONE leaves the marker.
        assert!(plan.marker.predicted.owns(Kind::Secret, "TOKEN"));
        assert!(!plan.marker.predicted.owns(Kind::Variable, "GONE"));
        assert_eq!(plan.marker.action, MarkerAction::Update);
    }

    #[test]
    fn a_marker_of_another_stack_with_the_same_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (record, _) = Record::open(dir.path(), "a-b");
        let t = target();
        let desired = Desired {
            target: &t,
            items: Vec::new(),
            excluded: Vec::new(),
        };
        let mut remote = Remote::default();
        let other = Marker::new("a_b", "").render();
        remote.variables.insert(
            "STACKWIRE_MANAGED_A_B".into(),
            variable("STACKWIRE_MANAGED_A_B", &other),
        );
        let options = Options {
            force: false,
            prune: false,
        };
        let err = plan(
            &desired,
            &remote,
            &record,
            "x",
            "a-b",
            "STACKWIRE_MANAGED_A_B",
            options,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("ownership marker of stack `a_b`"),
            "{err}"
        );
    }
}
