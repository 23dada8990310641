//! `undefined-variable`: `${{ secrets.X }}`, `${{ vars.X }}`, `${{ env.X }}` in workflows and
//! `$X` / `${X}` in `run:` scripts and the repository scripts they run, that nothing defines.
//!
//! Definitions, in the order GitHub applies them: the stacks' sync targets for this repository
//! (environment-scoped ones only for jobs with that `environment:`), `workflow_call` secrets,
//! `GITHUB_TOKEN`, `.stackwire/known.yaml`; for `env`/`$X`: workflow, job, container and step
//! `env:`, earlier `$GITHUB_ENV` writes and `stackwire env --write-github-env` in the job,
//! variables set by well-known actions, the runner's defaults, and the script's own
//! assignments. Anything the scanner cannot follow (`eval`, a dynamic `$GITHUB_ENV` write, a
//! container image's environment) stops the check rather than guessing.

use std::collections::{BTreeMap, BTreeSet};

use super::expr::{self, Context};
use super::known::FILE as KNOWN_FILE;
use super::shell::{self, Cwd, Scan};
use super::stacks::{StackFacts, TargetScope};
use super::workflow::{CallSecrets, Job, Step, Workflow};
use super::yaml::{Node, ScalarText};
use super::{Ctx, Finding, Known, Severity, nearest, rules};

/// Secret names that always exist.
const BUILTIN_SECRETS: &[&str] = &["GITHUB_TOKEN", "ACTIONS_RUNNER_DEBUG", "ACTIONS_STEP_DEBUG"];

/// Prefixes of variables the runner always sets.
const RUNNER_PREFIXES: &[&str] = &[
    "GITHUB_",
    "RUNNER_",
    "ACTIONS_",
    "JAVA_HOME_",
    "GOROOT_",
    "ANDROID_",
    "DOTNET_",
    "HOMEBREW_",
    "LC_",
    "BASH_",
];

/// Variables the runner, its image or the shell always set.
const RUNNER_NAMES: &[&str] = &[
    "CI",
    "HOME",
    "PATH",
    "PWD",
    "OLDPWD",
    "USER",
    "LOGNAME",
    "SHELL",
    "HOSTNAME",
    "HOSTTYPE",
    "OSTYPE",
    "MACHTYPE",
    "UID",
    "EUID",
    "PPID",
    "RANDOM",
    "SECONDS",
    "LINENO",
    "IFS",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "OPTARG",
    "OPTIND",
    "OPTERR",
    "TERM",
    "LANG",
    "LANGUAGE",
    "TMPDIR",
    "SHLVL",
    "FUNCNAME",
    "PIPESTATUS",
    "REPLY",
    "COLUMNS",
    "LINES",
    "EPOCHSECONDS",
    "EPOCHREALTIME",
    "BASH",
    "BASHPID",
    "BASHOPTS",
    "SHELLOPTS",
    "GROUPS",
    "DIRSTACK",
    "HISTFILE",
    "HISTSIZE",
    "MAIL",
    "_",
    "MAPFILE",
    "ImageOS",
    "ImageVersion",
    "AGENT_TOOLSDIRECTORY",
    "ANT_HOME",
    "AZURE_EXTENSION_DIR",
    "BOOTSTRAP_HASKELL_NONINTERACTIVE",
    "CHROME_BIN",
    "CHROMEWEBDRIVER",
    "CONDA",
    "DEBIAN_FRONTEND",
    "EDGEWEBDRIVER",
    "GECKOWEBDRIVER",
    "GHCUP_INSTALL_BASE_PREFIX",
    "GRADLE_HOME",
    "JAVA_HOME",
    "LEIN_HOME",
    "LEIN_JAR",
    "M2",
    "M2_HOME",
    "NVM_DIR",
    "PIPX_BIN_DIR",
    "PIPX_HOME",
    "POWERSHELL_DISTRIBUTION_CHANNEL",
    "SELENIUM_JAR_PATH",
    "SWIFT_PATH",
    "VCPKG_INSTALLATION_ROOT",
    "XDG_CONFIG_HOME",
    "XDG_RUNTIME_DIR",
    "ACCEPT_EULA",
    "RUSTUP_HOME",
    "CARGO_HOME",
];

/// Environment variables that well-known actions set for the steps after them.
const ACTION_EXPORTS: &[(&str, &[&str])] = &[
    (
        "aws-actions/configure-aws-credentials",
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
        ],
    ),
    ("actions/setup-java", &["JAVA_HOME"]),
    (
        "actions/setup-python",
        &[
            "pythonLocation",
            "Python_ROOT_DIR",
            "Python2_ROOT_DIR",
            "Python3_ROOT_DIR",
            "PKG_CONFIG_PATH",
            "LD_LIBRARY_PATH",
        ],
    ),
    ("actions/setup-go", &["GOROOT", "GOPATH", "GOTOOLCHAIN"]),
    (
        "actions/setup-node",
        &["NPM_CONFIG_USERCONFIG", "NODE_AUTH_TOKEN"],
    ),
    ("actions/setup-dotnet", &["DOTNET_ROOT"]),
    (
        "google-github-actions/auth",
        &[
            "GOOGLE_APPLICATION_CREDENTIALS",
            "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE",
            "GOOGLE_GHA_CREDS_PATH",
            "CLOUDSDK_CORE_PROJECT",
            "CLOUDSDK_PROJECT",
            "GCLOUD_PROJECT",
            "GCP_PROJECT",
            "GOOGLE_CLOUD_PROJECT",
        ],
    ),
    (
        "google-github-actions/setup-gcloud",
        &["CLOUDSDK_CORE_PROJECT", "CLOUDSDK_PYTHON"],
    ),
    (
        "docker/metadata-action",
        &[
            "DOCKER_METADATA_OUTPUT_VERSION",
            "DOCKER_METADATA_OUTPUT_TAGS",
            "DOCKER_METADATA_OUTPUT_LABELS",
            "DOCKER_METADATA_OUTPUT_ANNOTATIONS",
            "DOCKER_METADATA_OUTPUT_JSON",
            "DOCKER_METADATA_OUTPUT_BAKE_FILE",
            "DOCKER_METADATA_OUTPUT_BAKE_FILE_TAGS",
            "DOCKER_METADATA_OUTPUT_BAKE_FILE_LABELS",
            "DOCKER_METADATA_OUTPUT_BAKE_FILE_ANNOTATIONS",
        ],
    ),
    (
        "astral-sh/setup-uv",
        &[
            "UV_CACHE_DIR",
            "UV_PYTHON",
            "VIRTUAL_ENV",
            "UV_TOOL_DIR",
            "UV_TOOL_BIN_DIR",
            "UV_PYTHON_INSTALL_DIR",
        ],
    ),
    ("pnpm/action-setup", &["PNPM_HOME"]),
    ("webfactory/ssh-agent", &["SSH_AUTH_SOCK", "SSH_AGENT_PID"]),
    (
        "mamba-org/setup-micromamba",
        &["MAMBA_ROOT_PREFIX", "MAMBA_EXE"],
    ),
    (
        "conda-incubator/setup-miniconda",
        &["CONDA", "CONDA_PREFIX", "CONDA_PKGS_DIR"],
    ),
    ("pulumi/actions", &["PULUMI_HOME"]),
];

/// Actions known to set no environment variable (no hint about them in messages).
const QUIET_ACTIONS: &[&str] = &[
    "actions/checkout",
    "actions/cache",
    "actions/upload-artifact",
    "actions/download-artifact",
    "docker/login-action",
    "docker/setup-buildx-action",
    "docker/setup-qemu-action",
    "docker/build-push-action",
    "docker/bake-action",
    "actions/github-script",
];

/// Repository-wide names and environment → names, each with where it comes from.
type Maps<'a> = (
    &'a BTreeMap<String, String>,
    &'a BTreeMap<String, BTreeMap<String, String>>,
);

/// Where `sync` pushes names, as seen from this repository.
#[derive(Debug, Default)]
pub(crate) struct Definitions {
    /// Whether `secrets.X` / `vars.X` can be checked (something declares them).
    pub(crate) secrets_checked: bool,
    pub(crate) vars_checked: bool,
    /// Repository- and organization-wide names (uppercase) → where they come from.
    repo_secrets: BTreeMap<String, String>,
    repo_vars: BTreeMap<String, String>,
    /// Environment (lowercase) → names → origin.
    env_secrets: BTreeMap<String, BTreeMap<String, String>>,
    env_vars: BTreeMap<String, BTreeMap<String, String>>,
    /// `env:` names from the allow-list.
    known_env: BTreeSet<String>,
    /// Why something is not checked.
    pub(crate) notes: Vec<String>,
}

/// The `environment:` a job deploys to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum EnvScope {
    None,
    Named(String),
    /// An expression: any environment.
    Unknown,
}

impl Definitions {
    /// From the selected stacks' sync targets and the allow-list. `repository` is this
    /// repository's `owner/repo` when known (targets for other repositories then do not count).
    pub(crate) fn build(stacks: &[StackFacts], known: &Known, repository: Option<&str>) -> Self {
        let mut defs = Self::default();
        for stack in stacks.iter().filter(|s| s.selected) {
            for target in &stack.targets {
                let (env, origin) = match &target.scope {
                    TargetScope::Repo(repo) => {
                        if repository.is_some_and(|r| !r.eq_ignore_ascii_case(repo)) {
                            defs.notes.push(format!(
                                "{}: sync target {repo} is not this repository ({}); its names are not counted",
                                stack.rel,
                                repository.unwrap_or_default()
                            ));
                            continue;
                        }
                        (None, format!("{} (sync to {repo})", stack.rel))
                    }
                    TargetScope::Environment(repo, env) => {
                        if repository.is_some_and(|r| !r.eq_ignore_ascii_case(repo)) {
                            continue;
                        }
                        (
                            Some(env.to_ascii_lowercase()),
                            format!("{} (sync to {repo}, environment {env})", stack.rel),
                        )
                    }
                    TargetScope::Org(selected) => {
                        let name = repository.and_then(|r| r.split('/').nth(1));
                        if let (Some(list), Some(name)) = (selected, name) {
                            if !list.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                                continue;
                            }
                        }
                        (None, format!("{} (sync to the organization)", stack.rel))
                    }
                };
                defs.secrets_checked = true;
                defs.vars_checked = true;
                for m in &stack.mapped {
                    if target.exclude.contains(&m.name) {
                        continue;
                    }
                    let forced = target.secrets.contains(&m.name);
                    let (as_secret, as_var) = match (forced, m.secret) {
                        (true, _) | (false, Some(true)) => (true, false),
                        (false, Some(false)) => (false, true),
                        // Unknown until the state is read: accept both.
                        (false, None) => (true, true),
                    };
                    let key = m.name.to_ascii_uppercase();
                    let (secrets, vars) = match &env {
                        None => (&mut defs.repo_secrets, &mut defs.repo_vars),
                        Some(e) => (
                            defs.env_secrets.entry(e.clone()).or_default(),
                            defs.env_vars.entry(e.clone()).or_default(),
                        ),
                    };
                    if as_secret {
                        secrets.entry(key.clone()).or_insert_with(|| origin.clone());
                    }
                    if as_var {
                        vars.entry(key).or_insert_with(|| origin.clone());
                    }
                }
            }
        }
        if let Some(list) = &known.secrets {
            defs.secrets_checked = true;
            for n in list {
                defs.repo_secrets
                    .entry(n.to_ascii_uppercase())
                    .or_insert_with(|| KNOWN_FILE.to_owned());
            }
        }
        if let Some(list) = &known.vars {
            defs.vars_checked = true;
            for n in list {
                defs.repo_vars
                    .entry(n.to_ascii_uppercase())
                    .or_insert_with(|| KNOWN_FILE.to_owned());
            }
        }
        defs.known_env = known.env.iter().cloned().collect();
        if !defs.secrets_checked {
            defs.notes.push(format!(
                "`secrets.X` not checked: no stack syncs to this repository and {KNOWN_FILE} lists no `secrets:`"
            ));
        }
        if !defs.vars_checked {
            defs.notes.push(format!(
                "`vars.X` not checked: no stack syncs to this repository and {KNOWN_FILE} lists no `vars:`"
            ));
        }
        defs
    }

    fn maps(&self, context: Context) -> Maps<'_> {
        match context {
            Context::Secrets => (&self.repo_secrets, &self.env_secrets),
            _ => (&self.repo_vars, &self.env_vars),
        }
    }

    /// Whether `name` is defined as `context` for a job with `scope`.
    fn defines(&self, context: Context, name: &str, scope: &EnvScope) -> bool {
        let key = name.to_ascii_uppercase();
        let (repo, envs) = self.maps(context);
        repo.contains_key(&key)
            || match scope {
                EnvScope::None => false,
                EnvScope::Named(e) => envs.get(e).is_some_and(|m| m.contains_key(&key)),
                EnvScope::Unknown => envs.values().any(|m| m.contains_key(&key)),
            }
    }

    /// Names defined as `context` for `scope`.
    fn names(&self, context: Context, scope: &EnvScope) -> Vec<String> {
        let (repo, envs) = self.maps(context);
        let mut out: Vec<String> = repo.keys().cloned().collect();
        for (e, m) in envs {
            let applies = match scope {
                EnvScope::None => false,
                EnvScope::Named(n) => n == e,
                EnvScope::Unknown => true,
            };
            if applies {
                out.extend(m.keys().cloned());
            }
        }
        out
    }

    /// The distinct origins of the definitions of `context`.
    fn origins(&self, context: Context) -> Vec<String> {
        let (repo, envs) = self.maps(context);
        let mut out: BTreeSet<String> = repo.values().cloned().collect();
        out.extend(envs.values().flat_map(|m| m.values().cloned()));
        out.into_iter().collect()
    }

    /// Environments that define `name` as `context`.
    fn environments_with(&self, context: Context, name: &str) -> Vec<String> {
        let key = name.to_ascii_uppercase();
        self.maps(context)
            .1
            .iter()
            .filter(|(_, m)| m.contains_key(&key))
            .map(|(e, _)| e.clone())
            .collect()
    }
}

/// Whether the runner (or its image, or the shell) always sets `name`.
fn runner_default(name: &str) -> bool {
    RUNNER_NAMES.contains(&name) || RUNNER_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// What a step (or script) sees as defined environment.
#[derive(Clone, Debug, Default)]
struct Env {
    /// Names with where each comes from.
    names: BTreeMap<String, String>,
    /// Something defined names we cannot know (a dynamic `$GITHUB_ENV` write).
    open: bool,
}

impl Env {
    fn add(&mut self, name: &str, origin: &str) {
        self.names
            .entry(name.to_owned())
            .or_insert_with(|| origin.to_owned());
    }

    fn has(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    fn has_ignore_case(&self, name: &str) -> bool {
        self.has(name) || self.names.keys().any(|k| k.eq_ignore_ascii_case(name))
    }
}

/// Where a job's names come from, for messages.
struct JobScope<'w> {
    wf: &'w Workflow,
    job: Option<Job<'w>>,
    env_scope: EnvScope,
    secrets: SecretRule,
}

/// How `secrets.X` is checked in a workflow.
#[derive(Clone, Debug)]
enum SecretRule {
    Off,
    /// Repository definitions (and declared `workflow_call` secrets).
    Checked(Vec<String>),
}

/// Check one workflow.
pub(crate) fn check(ctx: &Ctx<'_>, wf: &Workflow, findings: &mut Vec<Finding>) {
    let secrets = match wf.call_secrets() {
        CallSecrets::Any => SecretRule::Off,
        CallSecrets::Declared(names) if !wf.has_other_triggers() => SecretRule::Checked(names),
        CallSecrets::Declared(names) if ctx.defs.secrets_checked => SecretRule::Checked(names),
        CallSecrets::Declared(_) => SecretRule::Off,
        CallSecrets::NotCallable if ctx.defs.secrets_checked => SecretRule::Checked(Vec::new()),
        CallSecrets::NotCallable => SecretRule::Off,
    };
    let only_declared =
        matches!(wf.call_secrets(), CallSecrets::Declared(_)) && !wf.has_other_triggers();
    let mut base = Env::default();
    for (k, _) in wf.env() {
        if let Some(n) = k.as_str() {
            base.add(n, "workflow `env:`");
        }
    }
    for n in &ctx.defs.known_env {
        base.add(n, KNOWN_FILE);
    }
    // Workflow-level strings (`env:`, `run-name`, `concurrency`, …).
    let top = JobScope {
        wf,
        job: None,
        env_scope: EnvScope::None,
        secrets: secrets.clone(),
    };
    for (k, v) in wf.root.as_map().unwrap_or_default() {
        if matches!(k.as_str(), Some("jobs" | "on" | "name" | "run-name")) {
            continue;
        }
        expressions(ctx, &top, v, &base, only_declared, None, findings);
    }
    for job in wf.jobs() {
        check_job(ctx, wf, job, &base, &secrets, only_declared, findings);
    }
}

fn check_job(
    ctx: &Ctx<'_>,
    wf: &Workflow,
    job: Job<'_>,
    base: &Env,
    secrets: &SecretRule,
    only_declared: bool,
    findings: &mut Vec<Finding>,
) {
    let env_scope = match job.environment() {
        None => EnvScope::None,
        Some(n) => match n.as_str() {
            Some(s) if !s.contains("${{") => EnvScope::Named(s.to_ascii_lowercase()),
            _ => EnvScope::Unknown,
        },
    };
    let scope = JobScope {
        wf,
        job: Some(job),
        env_scope,
        secrets: secrets.clone(),
    };
    let mut env = base.clone();
    for (k, _) in job.env() {
        if let Some(n) = k.as_str() {
            env.add(n, &format!("job `{}` `env:`", job.id));
        }
    }
    for (k, _) in job.container_env() {
        if let Some(n) = k.as_str() {
            env.add(n, "the job's `container.env`");
        }
    }
    // Job-level strings other than steps.
    for (k, v) in job.node.as_map().unwrap_or_default() {
        match k.as_str() {
            // A name is only shown; an empty expansion there breaks nothing.
            Some("steps" | "name") => {}
            Some("if") => condition(ctx, &scope, v, &env, only_declared, None, findings),
            _ => expressions(ctx, &scope, v, &env, only_declared, None, findings),
        }
    }
    let shell_default = job
        .defaults_run("shell")
        .or_else(|| wf.defaults_run("shell"))
        .and_then(Node::as_str);
    let mut unknown_actions: Vec<String> = Vec::new();
    for step in job.steps() {
        let mut step_env = env.clone();
        for (k, _) in step.env() {
            if let Some(n) = k.as_str() {
                step_env.add(n, "the step's `env:`");
            }
        }
        for (k, v) in step.node.as_map().unwrap_or_default() {
            match k.as_str() {
                Some("name") => {}
                Some("if") => condition(
                    ctx,
                    &scope,
                    v,
                    &step_env,
                    only_declared,
                    Some(step),
                    findings,
                ),
                _ => expressions(
                    ctx,
                    &scope,
                    v,
                    &step_env,
                    only_declared,
                    Some(step),
                    findings,
                ),
            }
        }
        let mut writes = Writes::default();
        if let Some(run) = step.run() {
            let shell = step.node.str_of("shell").or(shell_default);
            let sh_like = match shell {
                Some(s) => {
                    let first = s.split_whitespace().next().unwrap_or_default();
                    matches!(
                        shell::basename(first),
                        "bash" | "sh" | "dash" | "zsh" | "ksh"
                    )
                }
                None => !job.on_windows(),
            };
            if sh_like {
                let text = run.text(&wf.src);
                let scan = shell::scan(&text.text);
                let workdir = working_directory(wf, job, step);
                let site = Site {
                    job: job.id,
                    step: step.label(),
                    workflow: &wf.rel,
                    line: run.pos.line,
                    unknown_actions: &unknown_actions,
                    container: job.in_container(),
                };
                let mut chain = Vec::new();
                check_script(
                    ctx,
                    &site,
                    Script {
                        file: &wf.rel,
                        text: &text,
                        scan: &scan,
                        workdir: workdir.as_deref(),
                        inline: true,
                    },
                    &step_env,
                    &mut chain,
                    &mut writes,
                    findings,
                );
            }
        }
        // What this step leaves for the later ones.
        for name in writes.names {
            env.add(&name, &format!("a `$GITHUB_ENV` write in {}", step.label()));
        }
        for (origin, names) in writes.mapped {
            for name in names {
                env.add(&name, &origin);
            }
        }
        env.open |= writes.dynamic;
        if let Some(action) = step.action() {
            match ACTION_EXPORTS.iter().find(|(a, _)| *a == action) {
                Some((_, names)) => {
                    for n in *names {
                        env.add(n, &format!("`{action}`"));
                    }
                }
                None if !QUIET_ACTIONS.contains(&action.as_str()) && !action.starts_with("./") => {
                    unknown_actions.push(action);
                }
                None => {}
            }
        }
    }
}

/// `working-directory` of a run step (relative to the workspace), `None` when not static.
pub(crate) fn working_directory(wf: &Workflow, job: Job<'_>, step: Step<'_>) -> Option<String> {
    let node = step
        .node
        .get("working-directory")
        .or_else(|| job.defaults_run("working-directory"))
        .or_else(|| wf.defaults_run("working-directory"));
    let Some(node) = node else {
        return Some(String::new());
    };
    let text = node.as_str()?;
    for prefix in [
        "${{ github.workspace }}",
        "$GITHUB_WORKSPACE",
        "${GITHUB_WORKSPACE}",
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return (!rest.contains('$'))
                .then(|| shell::normalize(rest))
                .flatten();
        }
    }
    if text.contains('$') || text.starts_with('/') || text.starts_with('~') {
        return None;
    }
    shell::normalize(text)
}

/// Check the expressions of every string under `node`.
fn expressions(
    ctx: &Ctx<'_>,
    scope: &JobScope<'_>,
    node: &Node,
    env: &Env,
    only_declared: bool,
    step: Option<Step<'_>>,
    findings: &mut Vec<Finding>,
) {
    let mut scalars = Vec::new();
    node.walk_scalars(&mut scalars);
    for s in scalars {
        let Some(text) = s.as_str() else { continue };
        if !text.contains("${{") {
            continue;
        }
        let st = s.text(&scope.wf.src);
        for r in expr::template_references(&st.text) {
            reference(ctx, scope, &r, &st, env, only_declared, step, findings);
        }
    }
}

/// Check an `if:` condition.
fn condition(
    ctx: &Ctx<'_>,
    scope: &JobScope<'_>,
    node: &Node,
    env: &Env,
    only_declared: bool,
    step: Option<Step<'_>>,
    findings: &mut Vec<Finding>,
) {
    let Some(text) = node.as_str() else { return };
    let st = node.text(&scope.wf.src);
    for r in expr::condition_references(text) {
        reference(ctx, scope, &r, &st, env, only_declared, step, findings);
    }
}

/// "job `deploy`, step \"Build\"".
fn where_used(scope: &JobScope<'_>, step: Option<Step<'_>>) -> String {
    match (scope.job, step) {
        (Some(job), Some(step)) => format!("job `{}`, {}", job.id, step.label()),
        (Some(job), None) => format!("job `{}`", job.id),
        _ => "the workflow".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn reference(
    ctx: &Ctx<'_>,
    scope: &JobScope<'_>,
    r: &expr::Reference,
    st: &ScalarText,
    env: &Env,
    only_declared: bool,
    step: Option<Step<'_>>,
    findings: &mut Vec<Finding>,
) {
    let pos = st.pos(r.offset);
    let end = st
        .pos(r.offset + r.context.as_str().len() + 1 + r.name.len())
        .column;
    let at = where_used(scope, step);
    let name = &r.name;
    let finding = |severity, message: String| {
        Finding::new(
            rules::UNDEFINED_VARIABLE,
            severity,
            &scope.wf.rel,
            pos.line,
            pos.column,
            message,
        )
        .until(end)
    };
    match r.context {
        Context::Secrets => {
            let SecretRule::Checked(declared) = &scope.secrets else {
                return;
            };
            if BUILTIN_SECRETS.iter().any(|b| b.eq_ignore_ascii_case(name))
                || declared.iter().any(|d| d.eq_ignore_ascii_case(name))
                || (!only_declared && ctx.defs.defines(Context::Secrets, name, &scope.env_scope))
            {
                return;
            }
            let mut defined: Vec<String> = declared.clone();
            if !only_declared {
                defined.extend(ctx.defs.names(Context::Secrets, &scope.env_scope));
            }
            let hint = kind_hint(ctx, scope, Context::Secrets, name, only_declared);
            let source = if only_declared {
                "this reusable workflow declares under `on.workflow_call.secrets`".to_owned()
            } else {
                format!("from {}", sources(ctx, Context::Secrets))
            };
            findings.push(finding(
                Severity::Error,
                format!(
                    "undefined secret `{name}` (in {at}): GitHub expands `secrets.{name}` to an empty string. \
                     Nearest secrets {source}: {}{hint}",
                    list(name, &defined)
                ),
            ));
        }
        Context::Vars => {
            if !ctx.defs.vars_checked || ctx.defs.defines(Context::Vars, name, &scope.env_scope) {
                return;
            }
            let defined = ctx.defs.names(Context::Vars, &scope.env_scope);
            let hint = kind_hint(ctx, scope, Context::Vars, name, false);
            findings.push(finding(
                Severity::Error,
                format!(
                    "undefined configuration variable `{name}` (in {at}): GitHub expands `vars.{name}` to an empty string. \
                     Nearest variables from {}: {}{hint}",
                    sources(ctx, Context::Vars),
                    list(name, &defined)
                ),
            ));
        }
        Context::Env => {
            if env.open || env.has_ignore_case(name) {
                return;
            }
            if runner_default(name) {
                findings.push(finding(
                    Severity::Warning,
                    format!(
                        "`env.{name}` (in {at}) is empty in expressions: the runner sets `{name}` for the shell, not in the `env` context; use `${name}` in the script or the `github` context"
                    ),
                ));
                return;
            }
            let defined: Vec<String> = env.names.keys().cloned().collect();
            findings.push(finding(
                Severity::Error,
                format!(
                    "undefined environment variable `{name}` (in {at}): `env.{name}` is empty. \
                     Nearest defined: {}{}",
                    list(name, &defined),
                    mapped_hint(ctx, name)
                ),
            ));
        }
    }
}

/// "`A`, `B`, `C`" nearest to `name`, or "none".
fn list(name: &str, names: &[String]) -> String {
    let near = nearest(name, names.iter().map(String::as_str), 3);
    if near.is_empty() {
        "none".into()
    } else {
        near.iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Where secrets or variables come from, for messages.
fn sources(ctx: &Ctx<'_>, context: Context) -> String {
    let origins = ctx.defs.origins(context);
    if origins.is_empty() {
        format!("nothing (add it to {KNOWN_FILE} if it is set outside the repository)")
    } else {
        origins.join(", ")
    }
}

/// A hint when the name exists in another form: the other kind, or another environment.
fn kind_hint(
    ctx: &Ctx<'_>,
    scope: &JobScope<'_>,
    context: Context,
    name: &str,
    only_declared: bool,
) -> String {
    let other = match context {
        Context::Secrets => Context::Vars,
        _ => Context::Secrets,
    };
    if !only_declared && ctx.defs.defines(other, name, &scope.env_scope) {
        return format!(
            ". `{name}` is synced as a {}: use `{}.{name}`",
            if other == Context::Secrets {
                "secret"
            } else {
                "variable"
            },
            other.as_str()
        );
    }
    let envs = ctx.defs.environments_with(context, name);
    if !envs.is_empty() {
        let job = scope.job.map_or("the job", |j| j.id);
        return format!(
            ". It is synced only to environment {}: give job `{job}` `environment: {}`",
            envs.iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", "),
            envs[0]
        );
    }
    String::new()
}

/// A hint when a stack maps `name`: how to get it into the environment.
fn mapped_hint(ctx: &Ctx<'_>, name: &str) -> String {
    let stacks: Vec<&str> = ctx
        .stacks
        .iter()
        .filter(|s| s.mapped.iter().any(|m| m.name == name))
        .map(|s| s.rel.as_str())
        .collect();
    if stacks.is_empty() {
        // A mapped name close to it: a rename that did not reach the workflow?
        let mut close: Vec<(f64, &str, &str)> = ctx
            .stacks
            .iter()
            .flat_map(|s| {
                s.mapped
                    .iter()
                    .map(move |m| (m.name.as_str(), s.rel.as_str()))
            })
            .map(|(n, rel)| {
                (
                    strsim::jaro_winkler(&name.to_ascii_lowercase(), &n.to_ascii_lowercase()),
                    n,
                    rel,
                )
            })
            .filter(|(score, _, _)| *score >= 0.85)
            .collect();
        close.sort_by(|a, b| b.0.total_cmp(&a.0));
        match close.first() {
            Some((_, n, rel)) => format!(". {rel} maps `{n}`: was it renamed?"),
            None => String::new(),
        }
    } else {
        format!(
            ". {} maps `{name}`: run `stackwire env --write-github-env` in an earlier step, or set it in `env:` from `vars.{name}`/`secrets.{name}`",
            stacks.join(", ")
        )
    }
}

/// Where a script runs, for messages.
struct Site<'a> {
    job: &'a str,
    step: String,
    workflow: &'a str,
    line: u32,
    unknown_actions: &'a [String],
    container: bool,
}

/// A script to check.
struct Script<'a> {
    /// The file holding it (the workflow for an inline `run:`).
    file: &'a str,
    text: &'a ScalarText,
    scan: &'a Scan,
    /// Directory it starts in, relative to the workspace (`None`: not static).
    workdir: Option<&'a str>,
    inline: bool,
}

/// What a step leaves for later steps.
#[derive(Default)]
struct Writes {
    names: Vec<String>,
    /// `(origin, names)` of `stackwire env --write-github-env` runs.
    mapped: Vec<(String, Vec<String>)>,
    dynamic: bool,
}

/// At most this many scripts deep (a script that runs a script that …).
const MAX_CALL_DEPTH: usize = 6;

/// Check a script's `$X` reads, then the repository scripts it runs or sources.
#[allow(clippy::too_many_arguments)]
fn check_script(
    ctx: &Ctx<'_>,
    site: &Site<'_>,
    script: Script<'_>,
    env: &Env,
    chain: &mut Vec<String>,
    writes: &mut Writes,
    findings: &mut Vec<Finding>,
) {
    let scan = script.scan;
    // Sourced files: their definitions count from that point; one we cannot read stops the check.
    let mut sourced: Vec<(usize, Option<Vec<String>>)> = Vec::new();
    for cmd in &scan.commands {
        let program = cmd.program();
        let Some(first) = program.first() else {
            continue;
        };
        if !matches!(first.text.as_str(), "source" | ".") {
            continue;
        }
        let names = program.get(1).and_then(|arg| {
            let rel = script_path(&arg.text, arg.literal, &cmd.cwd, script.workdir)?;
            let text = ctx.read(&rel)?;
            let inner = shell::scan(&text);
            Some(
                inner
                    .defs
                    .iter()
                    .map(|d| d.name.clone())
                    .collect::<Vec<_>>(),
            )
        });
        sourced.push((cmd.offset, names));
    }
    // A name the script tests (`[ -z "$X" ]`, `${X:-…}`) is one it knows may be unset.
    let guarded: BTreeSet<&str> = scan
        .refs
        .iter()
        .filter(|r| r.guarded)
        .map(|r| r.name.as_str())
        .collect();
    let mut reported: BTreeMap<&str, usize> = BTreeMap::new();
    let mut first: Vec<&shell::VarRef> = Vec::new();
    for r in &scan.refs {
        if guarded.contains(r.name.as_str())
            || runner_default(&r.name)
            || env.open
            || env.has(&r.name)
        {
            continue;
        }
        if site.container && r.name.bytes().all(|b| !b.is_ascii_lowercase()) {
            // The container image's own environment is unknown.
            continue;
        }
        if scan.defines(&r.name, r.offset, r.deferred) || scan.opaque_before(r.offset) {
            continue;
        }
        let from_source = sourced.iter().any(|(offset, names)| {
            (r.deferred || *offset < r.offset) && names.as_ref().is_none_or(|n| n.contains(&r.name))
        });
        if from_source {
            continue;
        }
        let count = reported.entry(r.name.as_str()).or_insert(0);
        *count += 1;
        if *count == 1 {
            first.push(r);
        }
    }
    for r in first {
        let pos = script.text.pos(r.offset);
        let braced = script.text.text[r.offset..].starts_with("${");
        let len = r.name.len() + if braced { 3 } else { 1 };
        let end = script.text.pos(r.offset + len).column;
        let more = reported.get(r.name.as_str()).copied().unwrap_or(1) - 1;
        let uses = if more > 0 {
            format!(" (and {more} more use{})", if more == 1 { "" } else { "s" })
        } else {
            String::new()
        };
        let place = if script.inline {
            format!("in the `run:` of job `{}`, {}", site.job, site.step)
        } else {
            format!(
                "in `{}`, run by job `{}`, {} ({}:{})",
                script.file, site.job, site.step, site.workflow, site.line
            )
        };
        let defined: Vec<String> = env
            .names
            .keys()
            .cloned()
            .chain(scan.defs.iter().map(|d| d.name.clone()))
            .collect();
        let actions = if site.unknown_actions.is_empty() {
            String::new()
        } else {
            format!(
                ". If an earlier action ({}) sets it, list it under `env:` in {KNOWN_FILE}",
                site.unknown_actions
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        findings.push(
            Finding::new(
                rules::UNDEFINED_VARIABLE,
                Severity::Error,
                script.file,
                pos.line,
                pos.column,
                format!(
                    "`${}` is not defined {place}{uses}: the shell expands it to an empty string. Nearest defined: {}{}{}",
                    r.name,
                    list(&r.name, &defined),
                    mapped_hint(ctx, &r.name),
                    actions
                ),
            )
            .until(end),
        );
    }
    // What the script writes for later steps.
    for (name, _) in &scan.env_writes {
        writes.names.push(name.clone());
    }
    // A command computed by an expression (`run: ${{ matrix.cmd }}`) may write anything.
    writes.dynamic |= scan.env_dynamic.is_some()
        || scan
            .commands
            .iter()
            .any(|c| c.program().first().is_some_and(|w| w.text.contains("${{")));
    for (_, stacks) in &scan.stackwire_env {
        let chosen: Vec<&StackFacts> = if stacks.is_empty() {
            ctx.stacks.iter().collect()
        } else {
            ctx.stacks
                .iter()
                .filter(|s| stacks.contains(&s.name))
                .collect()
        };
        for s in chosen {
            writes.mapped.push((
                format!("`stackwire env --write-github-env` ({})", s.rel),
                s.names().iter().map(|n| (*n).to_owned()).collect(),
            ));
        }
    }
    // Scripts it runs: checked with the names it passes on.
    if chain.len() >= MAX_CALL_DEPTH {
        return;
    }
    for cmd in &scan.commands {
        let Some((rel, sourced_call)) = called_script(ctx, cmd, script.workdir) else {
            continue;
        };
        if chain.contains(&rel) || rel == script.file {
            continue;
        }
        let Some(text) = ctx.read(&rel) else { continue };
        let mut child_env = env.clone();
        let passed: Vec<String> = if sourced_call {
            scan.defs
                .iter()
                .filter(|d| d.offset < cmd.offset)
                .map(|d| d.name.clone())
                .collect()
        } else {
            scan.exported_before(cmd.offset)
                .into_iter()
                .map(str::to_owned)
                .chain(cmd.words[..cmd.assigns].iter().filter_map(|w| {
                    w.text
                        .split_once('=')
                        .map(|(n, _)| n.trim_end_matches('+').to_owned())
                }))
                .collect()
        };
        for n in passed {
            child_env.add(&n, "the calling script");
        }
        let st = ScalarText::file(&text);
        let inner = shell::scan(&text);
        // A script's relative paths are from the caller's directory, which we take to be
        // the step's (scripts usually `cd "$(dirname "$0")"` when they need their own).
        let workdir = match &cmd.cwd {
            Cwd::Rel(r) => script.workdir.map(|w| shell::join(w, r)),
            Cwd::Workspace(w) => Some(w.clone()),
            Cwd::Unknown => None,
        };
        chain.push(rel.clone());
        check_script(
            ctx,
            site,
            Script {
                file: &rel,
                text: &st,
                scan: &inner,
                workdir: workdir.as_deref(),
                inline: false,
            },
            &child_env,
            chain,
            writes,
            findings,
        );
        chain.pop();
    }
}

/// The repository script a command runs (`./x.sh`, `bash x.sh`, `source x.sh`), relative to
/// the root, and whether it is sourced.
fn called_script(
    ctx: &Ctx<'_>,
    cmd: &shell::Command,
    workdir: Option<&str>,
) -> Option<(String, bool)> {
    let program = cmd.program();
    let first = program.first()?;
    let (word, sourced) = match shell::basename(&first.text) {
        "source" | "." => (program.get(1)?, true),
        "bash" | "sh" | "dash" | "zsh" | "ksh" => {
            let mut k = 1;
            loop {
                let w = program.get(k)?;
                match w.text.as_str() {
                    "-c" => return None,
                    "-o" | "+o" | "-O" | "+O" => k += 2,
                    t if t.starts_with('-') || t.starts_with('+') => k += 1,
                    _ => break (w, false),
                }
            }
        }
        _ if first.text.contains('/') => (first, false),
        _ => return None,
    };
    let rel = script_path(&word.text, word.literal, &cmd.cwd, workdir)?;
    if !ctx.is_file(&rel) {
        return None;
    }
    let is_shell = rel.ends_with(".sh")
        || rel.ends_with(".bash")
        || (!shell::basename(&rel).contains('.')
            && ctx
                .read(&rel)
                .and_then(|t| t.lines().next().map(str::to_owned))
                .is_some_and(|l| l.starts_with("#!") && l.contains("sh")));
    is_shell.then_some((rel, sourced))
}

/// A script path as written, relative to the repository root.
fn script_path(text: &str, literal: bool, cwd: &Cwd, workdir: Option<&str>) -> Option<String> {
    for prefix in [
        "$GITHUB_WORKSPACE/",
        "${GITHUB_WORKSPACE}/",
        "${{ github.workspace }}/",
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return (!rest.contains('$'))
                .then(|| shell::normalize(rest))
                .flatten();
        }
    }
    if !literal || text.starts_with('/') || text.starts_with('~') {
        return None;
    }
    let base = match cwd {
        Cwd::Rel(r) => shell::join(workdir?, r),
        Cwd::Workspace(w) => w.clone(),
        Cwd::Unknown => return None,
    };
    shell::normalize(&shell::join(&base, text)).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_defaults() {
        assert!(runner_default("GITHUB_SHA"));
        assert!(runner_default("RUNNER_TEMP"));
        assert!(runner_default("HOME"));
        assert!(!runner_default("LAMBDA_LABS_INSTANCE_IP"));
    }

    #[test]
    fn script_paths() {
        let rel = Cwd::Rel(String::new());
        assert_eq!(
            script_path("./scripts/x.sh", true, &rel, Some("")).as_deref(),
            Some("scripts/x.sh")
        );
        assert_eq!(
            script_path("x.sh", true, &Cwd::Rel("app".into()), Some("sub")).as_deref(),
            Some("sub/app/x.sh")
        );
        assert_eq!(
            script_path("$GITHUB_WORKSPACE/a/b.sh", false, &Cwd::Unknown, None).as_deref(),
            Some("a/b.sh")
        );
        assert_eq!(script_path("$DIR/x.sh", false, &rel, Some("")), None);
        assert_eq!(script_path("/usr/bin/x", true, &rel, Some("")), None);
    }
}
