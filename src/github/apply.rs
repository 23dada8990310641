//! Carry out a target's plan: writes one at a time in plan order, the ownership marker last.
//!
//! The first failure (after the client's retries) stops the run: the step says why, every
//! later write is marked not written, and what did succeed is kept in the record and, when
//! GitHub is still answering, in the marker, so a re-run writes only the rest.

use super::api::Written;
use super::client::{ApiError, Client};
use super::names::Kind;
use super::plan::{MarkerAction, Outcome, TargetPlan, marker_action, owned_after};
use super::record::Record;
use super::seal::SealKey;
use crate::mapping::github::Scope;

/// Apply `plan`. `progress` is called after each write step.
pub(crate) async fn apply(
    client: &mut Client<'_>,
    plan: &mut TargetPlan<'_>,
    record: &mut Record,
    progress: &dyn Fn(&str),
) -> Result<(), ApiError> {
    let scope = &plan.target.scope;
    for step in &plan.steps {
        if let Some(updated_at) = &step.confirm {
            record.confirm(
                &plan.record_scope,
                &record_key(step.kind, &step.name),
                updated_at,
            );
        }
    }
    for (kind, name) in &plan.gone {
        record.forget(&plan.record_scope, &record_key(*kind, name));
    }
    let result = write_steps(client, plan, record, progress).await;
    // After a per-name refusal GitHub still answers: record what was written in the marker.
    // After a transport failure or a rate limit, do not insist.
    let marker_result = match &result {
        Ok(()) | Err(ApiError::Status { .. }) => finish_marker(client, plan, scope).await,
        Err(_) => {
            plan.marker.outcome = Outcome::NotWritten;
            Ok(())
        }
    };
    result.and(marker_result)
}

async fn write_steps(
    client: &mut Client<'_>,
    plan: &mut TargetPlan<'_>,
    record: &mut Record,
    progress: &dyn Fn(&str),
) -> Result<(), ApiError> {
    let scope = plan.target.scope.clone();
    let needs_key = plan
        .steps
        .iter()
        .any(|s| s.kind == Kind::Secret && s.action.writes() && s.value.is_some());
    let mut failure = None;
    let key: Option<SealKey> = if needs_key {
        match client.public_key(&scope).await {
            Ok(k) => Some(k),
            Err(e) => {
                failure = Some(e);
                None
            }
        }
    } else {
        None
    };
    let needs_ids = plan
        .steps
        .iter()
        .any(|s| s.action.writes() && s.value.is_some())
        || plan.marker.action != MarkerAction::Unchanged;
    let mut repo_ids = Vec::new();
    if failure.is_none() && needs_ids {
        match repository_ids(client, &scope).await {
            Ok(ids) => repo_ids = ids,
            Err(e) => failure = Some(e),
        }
    }
    plan.marker_repo_ids.clone_from(&repo_ids);
    for step in &mut plan.steps {
        if !step.action.writes() {
            continue;
        }
        if failure.is_some() {
            step.outcome = Outcome::NotWritten;
            continue;
        }
        let result = match (&step.value, step.kind) {
            (Some(v), Kind::Secret) if !v.is_empty() => match &key {
                Some(k) => client.put_secret(&scope, &step.name, k, v, &repo_ids).await,
                None => unreachable_key(&step.name),
            },
            (Some(v), Kind::Variable) if !v.is_empty() => {
                client
                    .set_variable(&scope, &step.name, v, step.exists, &repo_ids)
                    .await
            }
            _ => {
                client
                    .delete(&scope, step.kind.collection(), &step.name)
                    .await
            }
        };
        let key_name = record_key(step.kind, &step.name);
        match result {
            Ok((written, date)) => {
                match (written, &step.fingerprint) {
                    (Written::Created | Written::Updated, Some(fp)) => record.written(
                        &plan.record_scope,
                        &key_name,
                        fp.clone(),
                        date.unwrap_or_else(super::dates::now),
                    ),
                    _ => record.forget(&plan.record_scope, &key_name),
                }
                step.outcome = Outcome::Done(written);
            }
            Err(e) => {
                step.outcome = Outcome::Failed(e.to_string());
                failure = Some(e);
            }
        }
        progress(&step.name);
    }
    failure.map_or(Ok(()), Err)
}

/// Write the ownership marker for what actually succeeded.
pub(crate) async fn finish_marker(
    client: &mut Client<'_>,
    plan: &mut TargetPlan<'_>,
    scope: &Scope,
) -> Result<(), ApiError> {
    let new = owned_after(plan, false);
    let action = marker_action(&plan.marker, &new);
    let name = plan.marker.name.clone();
    let result = match action {
        MarkerAction::Unchanged => {
            plan.marker.outcome = Outcome::Planned;
            return Ok(());
        }
        MarkerAction::Delete => client.delete(scope, "variables", &name).await,
        MarkerAction::Create | MarkerAction::Update => {
            client
                .set_variable(
                    scope,
                    &name,
                    &new.render(),
                    plan.marker.exists,
                    &plan.marker_repo_ids,
                )
                .await
        }
    };
    plan.marker.action = action;
    match result {
        Ok((written, _)) => {
            plan.marker.outcome = Outcome::Done(written);
            Ok(())
        }
        Err(e) => {
            plan.marker.outcome = Outcome::Failed(e.to_string());
            Err(e)
        }
    }
}

/// Repository ids for org `visibility: selected`; none otherwise.
async fn repository_ids(client: &mut Client<'_>, scope: &Scope) -> Result<Vec<u64>, ApiError> {
    match scope {
        Scope::Org {
            org,
            visibility: crate::mapping::github::Visibility::Selected,
            repositories,
        } => {
            let mut ids = Vec::with_capacity(repositories.len());
            for repo in repositories {
                ids.push(client.repository_id(org, repo).await?);
            }
            Ok(ids)
        }
        _ => Ok(Vec::new()),
    }
}

fn unreachable_key(name: &str) -> super::api::WriteResult {
    Err(ApiError::Unexpected {
        request: format!("PUT secret {name}"),
        message: "no public key".into(),
    })
}

/// The record's key for a name: secrets and variables are separate namespaces.
pub(crate) fn record_key(kind: Kind, name: &str) -> String {
    format!("{}/{name}", kind.collection())
}
