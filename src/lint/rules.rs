//! The rules of `stackwire check`, as data: stable ids, default severities and help texts
//! (used by every output format and by SARIF's rule list).

use super::Severity;

/// One rule.
#[derive(Debug)]
pub(crate) struct Rule {
    /// Stable id: what suppressions and `known.yaml` `ignore:` name.
    pub(crate) id: &'static str,
    /// PascalCase name (SARIF `name`).
    pub(crate) name: &'static str,
    pub(crate) severity: Severity,
    /// One line.
    pub(crate) summary: &'static str,
    /// What is wrong and how to fix it.
    pub(crate) help: &'static str,
}

pub(crate) const DOCKERFILE_MISSING: &str = "dockerfile-missing";
pub(crate) const UNRESOLVED: &str = "unresolved";
pub(crate) const UNDEFINED_VARIABLE: &str = "undefined-variable";
pub(crate) const CONFLICTING_DEPLOY: &str = "conflicting-deploy";
pub(crate) const HEALTH_UNDEFINED: &str = "health-undefined";
pub(crate) const OUTPUT_MISSING: &str = "output-missing";
pub(crate) const INVALID_WORKFLOW: &str = "invalid-workflow";

/// Every rule, in the order they are documented.
pub(crate) const RULES: &[Rule] = &[
    Rule {
        id: DOCKERFILE_MISSING,
        name: "DockerfileMissing",
        severity: Severity::Error,
        summary: "A Dockerfile referenced from a workflow does not exist",
        help: "A workflow builds an image from a Dockerfile that is not in the repository \
               (docker/build-push-action `file:`/`context:`, docker/bake-action targets, \
               `docker build -f` in `run:`, compose `build.dockerfile`). Paths are resolved as \
               GitHub and Docker resolve them: relative to the checkout, the step's \
               `working-directory`, `cd` in the script, or the compose file. The build fails \
               with `failed to read dockerfile` or `lstat …/Dockerfile: no such file or \
               directory`. Point the reference at one of the Dockerfiles listed in the message, \
               or add the file.",
    },
    Rule {
        id: UNRESOLVED,
        name: "UnresolvedReference",
        severity: Severity::Info,
        summary: "A Dockerfile reference cannot be resolved statically",
        help: "The Dockerfile or build context is computed at run time (an expression or a \
               variable stackwire cannot evaluate), so whether it exists is not checked. \
               Use a literal path, a literal `env:` value or a literal matrix list to have it \
               checked.",
    },
    Rule {
        id: UNDEFINED_VARIABLE,
        name: "UndefinedVariable",
        severity: Severity::Error,
        summary: "A secret, variable or environment variable that nothing defines",
        help: "GitHub expands an unset `secrets.X` or `vars.X` to an empty string without an \
               error, and the shell expands an unset `$X` to nothing, so the step runs with an \
               empty value. Names are defined by the stacks' `sync` targets (secrets and \
               variables of this repository, its environments and organization), \
               `on.workflow_call.secrets`, `env:` at workflow, job and step level, earlier \
               `>> \"$GITHUB_ENV\"` writes and `stackwire env --write-github-env` steps in the \
               same job, the runner, the script itself, and `.stackwire/known.yaml` \
               (`secrets:`, `vars:`, `env:`) for names defined outside the repository.",
    },
    Rule {
        id: CONFLICTING_DEPLOY,
        name: "ConflictingDeploy",
        severity: Severity::Error,
        summary: "Two workflows deploy the same target on the same trigger and can run at once",
        help: "Two or more workflows deploy (a job `environment:`, `pulumi up`, `stackwire \
               deploy`, `kubectl apply`, `helm upgrade`, ssh/rsync to a host, …) on \
               overlapping triggers (same event, overlapping branches, tags and paths) without \
               a shared `concurrency.group`, so one push starts both and they race. Merge them, \
               or give both deploy jobs (or workflows) the same literal concurrency group, e.g. \
               `concurrency: {group: deploy-production}`.",
    },
    Rule {
        id: HEALTH_UNDEFINED,
        name: "HealthCheckUndefinedVariable",
        severity: Severity::Error,
        summary: "A mapping's health check uses a variable the mapping does not define",
        help: "A `health:` check template reads `env.X`, but the mapping has no variable X, so \
               `stackwire health` and `deploy` cannot run it. Map X under `env:` or fix the \
               name.",
    },
    Rule {
        id: OUTPUT_MISSING,
        name: "StackOutputMissing",
        severity: Severity::Error,
        summary: "A mapping entry refers to a stack output or config key the stack does not have",
        help: "The mapping reads a stack output or config key that the stack's state does not \
               have, so `stackwire env`, `render`, `sync` and `deploy` fail for it. Fix the \
               path (the message lists the nearest names), mark the entry `required: false`, or \
               add the output to the Pulumi program. Checked only when the state can be read.",
    },
    Rule {
        id: INVALID_WORKFLOW,
        name: "InvalidWorkflow",
        severity: Severity::Error,
        summary: "A workflow file is not valid YAML",
        help: "GitHub rejects the workflow and runs none of its jobs. Fix the YAML at the \
               position given.",
    },
];

/// The rule with `id`.
pub(crate) fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}
